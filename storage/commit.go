package storage

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// committer is a group commit with no timer and no goroutine of its own. A
// writer that finds no commit running becomes the leader: it commits every
// write queued so far (its own first, up to maxBatch) in one transaction,
// hands each waiting writer its result and, when more writes queued up
// meanwhile, passes the lead to the oldest of them before it returns. So a
// lone writer commits on its own goroutine with no hand-off, and many
// writers share fsyncs in proportion to their number.
//
// An earlier design ran a committer goroutine that yielded once before each
// batch. In the server, where the writers are issue handlers competing for
// two cores with key generation and signing, each batch then cost two
// goroutine hand-offs plus a trip through the global run queue (a yield
// waited 0.25 ms at 16 clients, 1 ms at 64), which made the committer, not
// the CPU, the limit of stored issuance. See BenchmarkCommitContended.
type committer struct {
	db       *bolt.DB
	maxBatch int

	mu      sync.Mutex
	queue   []*commitReq // waiting writes, oldest first
	leading bool         // a leader is committing
	closed  bool
	idle    sync.Cond // signalled when leading turns false (close waits)

	// batches and writes count what was committed, for tests and
	// benchmarks (writes per batch).
	batches, writes int64

	// statsHook, when set, sees each batch's size and commit time.
	statsHook func(n int, d time.Duration)
}

type commitReq struct {
	fn func(*bolt.Tx) error
	// done receives the write's result, or errLead when this writer is to
	// commit the next batch itself.
	done chan error
}

var (
	errClosed = errors.New("storage: store is closed")
	errLead   = errors.New("storage: lead the next batch")
)

func newCommitter(db *bolt.DB, maxBatch int) *committer {
	c := &committer{db: db, maxBatch: maxBatch, statsHook: debugStatsHook()}
	c.idle.L = &c.mu
	return c
}

var reqPool = sync.Pool{New: func() any { return &commitReq{done: make(chan error, 1)} }}

func (c *committer) commit(fn func(*bolt.Tx) error) error {
	r := reqPool.Get().(*commitReq)
	r.fn = fn
	defer func() { r.fn = nil; reqPool.Put(r) }()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return errClosed
	}
	c.queue = append(c.queue, r)
	if c.leading {
		c.mu.Unlock()
		if err := <-r.done; err != errLead {
			return err
		}
	} else {
		c.leading = true
		c.mu.Unlock()
	}
	c.lead()
	return <-r.done
}

// lead commits one batch (the oldest queued writes, the leader's own
// first) and passes the lead on. The leader's own result is left in its
// done channel.
func (c *committer) lead() {
	if debugYield {
		runtime.Gosched()
	}
	c.mu.Lock()
	n := min(len(c.queue), c.maxBatch)
	batch := make([]*commitReq, n)
	copy(batch, c.queue)
	rest := copy(c.queue, c.queue[n:])
	clear(c.queue[rest:])
	c.queue = c.queue[:rest]
	c.mu.Unlock()

	start := time.Now()
	c.run(batch)
	if c.statsHook != nil {
		c.statsHook(n, time.Since(start))
	}

	c.mu.Lock()
	c.batches++
	c.writes += int64(n)
	if len(c.queue) > 0 {
		c.queue[0].done <- errLead
	} else {
		c.leading = false
		c.idle.Broadcast()
	}
	c.mu.Unlock()
}

func (c *committer) close() {
	c.mu.Lock()
	c.closed = true
	for c.leading {
		c.idle.Wait()
	}
	c.mu.Unlock()
}

// run commits batch and sends each write its result. When one function
// fails, the transaction is rolled back, that caller gets its error, and
// the rest are retried without it.
func (c *committer) run(batch []*commitReq) {
	for len(batch) > 0 {
		failed := -1
		var failErr error
		err := safeUpdate(c.db, func(tx *bolt.Tx) error {
			for i, r := range batch {
				if err := safeCall(r.fn, tx); err != nil {
					failed, failErr = i, err
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			for _, r := range batch {
				r.done <- err
			}
			return
		}
		batch[failed].done <- failErr
		batch = append(batch[:failed:failed], batch[failed+1:]...)
	}
}

// safeUpdate is db.Update with a panic (of bbolt itself) turned into an
// error: the leader is a request's goroutine, and a panic there must not
// leave the writers it leads waiting forever.
func safeUpdate(db *bolt.DB, fn func(*bolt.Tx) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("storage: panic in commit: %v", p)
		}
	}()
	return db.Update(fn)
}

func safeCall(fn func(*bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("storage: panic in commit: %v", p)
		}
	}()
	return fn(tx)
}
