// Package etcdstore is a storage.Engine over an etcd cluster, so that several
// pkid replicas share one CA.
//
// Records live at "<prefix>/<space>/<key>" (the space path-escaped, so that
// space "a" can never see the records of space "a/b"). A View reads every key
// at the revision of its first read, a consistent snapshot. Update and Commit
// are optimistic: fn runs against a buffered transaction that remembers the
// revision of every key it read and of every range it scanned, then one etcd
// Txn applies the writes only if none of those changed; otherwise fn runs
// again on fresh data. Every read-modify-write (CRL numbers, config, role
// patches) is therefore a compare-and-swap across replicas.
package etcdstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pkid-dev/pkid/storage"
)

// Options tune New. The zero value is the production default.
type Options struct {
	// Prefix is put before every key; zero means "/pkid". Replicas that
	// share a CA share a prefix.
	Prefix string
	// Timeout bounds each etcd request; zero means 5 seconds. Past it the
	// request fails with storage.ErrUnavailable.
	Timeout time.Duration
	// MaxTries bounds how often Update runs fn when other writers keep
	// changing what it read; zero means 64.
	MaxTries int
	// MaxCompares caps the compares of one Txn; zero means 128, etcd's
	// default --max-txn-ops. Past it the per-key compares of scanned keys
	// are dropped and only the range compares (which see changes and
	// insertions, not deletions) are kept.
	MaxCompares int
}

// Engine is a storage.Engine over an etcd client. It does not own the
// client unless made by Dial.
type Engine struct {
	cli      *clientv3.Client
	prefix   string
	timeout  time.Duration
	maxTries int
	maxCmps  int
	ownsCli  bool

	// own holds the revisions of this engine's own commits, so Watch can
	// skip the events they cause: a replica need not invalidate its caches
	// for writes it made itself.
	ownMu sync.Mutex
	own   map[int64]struct{}
}

// New makes an engine over cli.
func New(cli *clientv3.Client, opts Options) *Engine {
	if opts.Prefix == "" {
		opts.Prefix = "/pkid"
	}
	if opts.Timeout == 0 {
		opts.Timeout = 5 * time.Second
	}
	if opts.MaxTries == 0 {
		opts.MaxTries = 64
	}
	if opts.MaxCompares == 0 {
		opts.MaxCompares = 128
	}
	return &Engine{
		cli: cli, prefix: strings.TrimSuffix(opts.Prefix, "/"), timeout: opts.Timeout,
		maxTries: opts.MaxTries, maxCmps: opts.MaxCompares, own: map[int64]struct{}{},
	}
}

// Client returns the engine's etcd client (for elections).
func (e *Engine) Client() *clientv3.Client { return e.cli }

// Prefix returns the key prefix of the engine.
func (e *Engine) Prefix() string { return e.prefix }

// spaceKey is the etcd key prefix of a space, with its trailing slash.
func (e *Engine) spaceKey(space string) string {
	return e.prefix + "/" + url.PathEscape(space) + "/"
}

func (e *Engine) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), e.timeout)
}

// View runs fn against a snapshot of space.
func (e *Engine) View(space string, fn func(storage.Tx) error) error {
	tx := e.newTx(space, false)
	err := fn(tx)
	if tx.err != nil {
		return tx.err // a failed read: fn saw nil and its answer is not to be trusted
	}
	return err
}

// Update runs fn until its reads are still current when its writes are
// applied, at most MaxTries times.
func (e *Engine) Update(space string, fn func(storage.Tx) error) error {
	backoff := time.Millisecond
	for range e.maxTries {
		tx := e.newTx(space, true)
		err := fn(tx)
		if tx.err != nil {
			return tx.err
		}
		if err != nil {
			return err
		}
		ok, err := e.commit(tx)
		if err != nil || ok {
			return err
		}
		// Jittered, so replicas that collided do not collide again.
		time.Sleep(backoff/2 + rand.N(backoff))
		backoff = min(2*backoff, 50*time.Millisecond)
	}
	return fmt.Errorf("storage: etcd: %s: still conflicting after %d tries", space, e.maxTries)
}

// Commit is Update: etcd already batches concurrent proposals into one
// raft round, so there is no fsync to share here. A panic in fn becomes an
// error, as in the bbolt committer.
func (e *Engine) Commit(space string, fn func(storage.Tx) error) error {
	return e.Update(space, func(tx storage.Tx) (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("storage: panic in commit: %v", p)
			}
		}()
		return fn(tx)
	})
}

// DropSpace deletes every key of the space.
func (e *Engine) DropSpace(space string) error {
	ctx, cancel := e.ctx()
	defer cancel()
	resp, err := e.cli.Delete(ctx, e.spaceKey(space), clientv3.WithPrefix())
	if err != nil {
		return wrap("drop space", err)
	}
	e.markOwn(resp.Header.Revision)
	return nil
}

// Check has nothing to check: etcd keeps its own consistency.
func (e *Engine) Check() error { return nil }

// Close closes the client if Dial made it.
func (e *Engine) Close() error {
	if !e.ownsCli {
		return nil
	}
	return e.cli.Close()
}

// commit sends the transaction's writes guarded by its reads; false means
// a read changed meanwhile.
func (e *Engine) commit(tx *etcdTx) (bool, error) {
	if len(tx.writes) == 0 {
		return true, nil // nothing to apply: the reads were a snapshot
	}
	cmps := tx.compares(e.maxCmps)
	ops := make([]clientv3.Op, 0, len(tx.writes))
	for _, k := range tx.order {
		v := tx.writes[k]
		if v == nil {
			ops = append(ops, clientv3.OpDelete(tx.base+k))
		} else {
			ops = append(ops, clientv3.OpPut(tx.base+k, string(*v)))
		}
	}
	ctx, cancel := e.ctx()
	defer cancel()
	resp, err := e.cli.Txn(ctx).If(cmps...).Then(ops...).Commit()
	if err != nil {
		return false, wrap("commit "+tx.space, err)
	}
	if resp.Succeeded {
		e.markOwn(resp.Header.Revision)
	}
	return resp.Succeeded, nil
}

// maxOwn bounds the remembered own revisions; older ones are forgotten,
// which only costs a needless invalidation.
const maxOwn = 4096

func (e *Engine) markOwn(rev int64) {
	e.ownMu.Lock()
	defer e.ownMu.Unlock()
	if len(e.own) >= maxOwn {
		clear(e.own)
	}
	e.own[rev] = struct{}{}
}

func (e *Engine) isOwn(rev int64) bool {
	e.ownMu.Lock()
	defer e.ownMu.Unlock()
	_, ok := e.own[rev]
	return ok
}

// wrap gives an etcd error context, and the storage.ErrUnavailable kind
// when etcd could not be reached or did not answer in time.
func wrap(op string, err error) error {
	err = fmt.Errorf("etcd %s: %w", op, err)
	if isUnavailable(err) {
		return storage.Unavailable(err)
	}
	return fmt.Errorf("storage: %w", err)
}
