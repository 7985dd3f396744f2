package storage_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkid-dev/pkid/storage"
	"github.com/pkid-dev/pkid/storage/storagetest"
)

// holdCommitter starts a Commit whose function blocks inside the committer's
// transaction until release is called, so that Commits made meanwhile queue
// up and form the next batch together.
func holdCommitter(t *testing.T, sp *storage.Space) (release func() error) {
	t.Helper()
	started, unblock := make(chan struct{}), make(chan struct{})
	errc := make(chan error, 1)
	var once sync.Once
	go func() {
		errc <- sp.Commit(func(tx storage.Tx) error {
			once.Do(func() { close(started) })
			<-unblock
			return tx.Put("holder", []byte("x"))
		})
	}()
	<-started
	return func() error { close(unblock); return <-errc }
}

// waitPending waits until n Commits are queued behind the held committer.
func waitPending(t *testing.T, st *storage.Store, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for storage.PendingCommits(st) < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d commits queued", storage.PendingCommits(st), n)
		}
		time.Sleep(time.Millisecond)
	}
}

type commitCall struct {
	key   string
	calls atomic.Int32
	fail  error // returned after writing key
	panic bool  // panics after writing key
	errc  chan error
}

func (c *commitCall) start(sp *storage.Space) {
	c.errc = make(chan error, 1)
	go func() {
		c.errc <- sp.Commit(func(tx storage.Tx) error {
			c.calls.Add(1)
			if err := tx.Put(c.key, []byte("v")); err != nil {
				return err
			}
			if c.panic {
				panic("handler bug")
			}
			return c.fail
		})
	}()
}

func TestCommitBatchIsolatesFailures(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	tests := []struct {
		name    string
		bad     func() *commitCall
		wantErr func(error) bool
	}{
		{"error", func() *commitCall { return &commitCall{key: "bad", fail: boom} }, func(err error) bool { return errors.Is(err, boom) }},
		{"panic", func() *commitCall { return &commitCall{key: "bad", panic: true} }, func(err error) bool {
			return err != nil && strings.Contains(err.Error(), "panic") && strings.Contains(err.Error(), "handler bug")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := storagetest.Open(t)
			sp := st.Space("m")
			release := holdCommitter(t, sp)

			// Queue order is the batch order: first, bad, then two more.
			first := &commitCall{key: "first"}
			first.start(sp)
			waitPending(t, st, 1)
			bad := tc.bad()
			bad.start(sp)
			waitPending(t, st, 2)
			rest := []*commitCall{{key: "r1"}, {key: "r2"}}
			for _, c := range rest {
				c.start(sp)
			}
			waitPending(t, st, 4)
			if err := release(); err != nil {
				t.Fatalf("holder: %v", err)
			}

			if err := <-bad.errc; !tc.wantErr(err) {
				t.Fatalf("bad Commit = %v", err)
			}
			for _, c := range append(rest, first) {
				if err := <-c.errc; err != nil {
					t.Errorf("sibling %s failed with the bad call: %v", c.key, err)
				}
				if v := storagetest.Get(t, sp, c.key); string(v) != "v" {
					t.Errorf("sibling %s not stored", c.key)
				}
			}
			if v := storagetest.Get(t, sp, "bad"); v != nil {
				t.Errorf("failed call's write was committed")
			}
			// The call before the bad one ran, was rolled back with it, and ran
			// again: evidence that all four shared one transaction.
			if n := first.calls.Load(); n != 2 {
				t.Errorf("first call ran %d times, want 2 (batched and retried)", n)
			}
			if n := bad.calls.Load(); n != 1 {
				t.Errorf("bad call ran %d times, want 1", n)
			}
		})
	}
}

func TestCommitsShareATransaction(t *testing.T) {
	t.Parallel()
	st := storagetest.Open(t)
	sp := st.Space("m")
	release := holdCommitter(t, sp)
	const n = 8
	var mu sync.Mutex
	seen := 0 // most sibling keys any function saw before its own write
	errs := make(chan error, n)
	for i := range n {
		go func() {
			errs <- sp.Commit(func(tx storage.Tx) error {
				keys, err := tx.Keys("k/", "", 0)
				if err != nil {
					return err
				}
				mu.Lock()
				seen = max(seen, len(keys))
				mu.Unlock()
				return tx.Put(fmt.Sprintf("k/%d", i), nil)
			})
		}()
	}
	waitPending(t, st, n)
	if err := release(); err != nil {
		t.Fatal(err)
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if seen != n-1 {
		t.Fatalf("last function of the batch saw %d uncommitted sibling writes, want %d", seen, n-1)
	}
}

func TestCommitReturnsFnError(t *testing.T) {
	t.Parallel()
	sp := storagetest.Open(t).Space("m")
	boom := errors.New("boom")
	err := sp.Commit(func(tx storage.Tx) error {
		if err := tx.Put("k", []byte("v")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Commit = %v, want boom", err)
	}
	if v := storagetest.Get(t, sp, "k"); v != nil {
		t.Fatalf("failed Commit's write visible: %q", v)
	}
	err = sp.Commit(func(storage.Tx) error { panic(errors.New("lone panic")) })
	if err == nil || !strings.Contains(err.Error(), "lone panic") {
		t.Fatalf("panicking Commit = %v", err)
	}
	// The committer survives both.
	if err := sp.Commit(func(tx storage.Tx) error { return tx.Put("ok", nil) }); err != nil {
		t.Fatalf("Commit after failures: %v", err)
	}
}

func TestConcurrentCommitsAllDurable(t *testing.T) {
	t.Parallel()
	st := storagetest.Open(t)
	const writers, each = 64, 25
	spaces := []*storage.Space{st.Space("a"), st.Space("b")}
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			sp := spaces[w%len(spaces)]
			for i := range each {
				key := fmt.Sprintf("certs/%02d-%03d", w, i)
				errs <- sp.Commit(func(tx storage.Tx) error { return tx.Put(key, []byte(key)) })
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	path := st.Path()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	again, err := storage.Open(path, storage.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	total := 0
	for _, name := range []string{"a", "b"} {
		err := again.Space(name).View(func(tx storage.Tx) error {
			return tx.Scan("certs/", "", func(k string, v []byte) error {
				if "certs/"+k != string(v) {
					return fmt.Errorf("%s holds %q", k, v)
				}
				total++
				return nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if total != writers*each {
		t.Fatalf("%d records after reopen, want %d", total, writers*each)
	}
}

func TestCloseWaitsForCommits(t *testing.T) {
	t.Parallel()
	st := storagetest.Open(t)
	sp := st.Space("m")
	release := holdCommitter(t, sp)
	queued := []*commitCall{{key: "q1"}, {key: "q2"}, {key: "q3"}}
	for _, c := range queued {
		c.start(sp)
	}
	waitPending(t, st, len(queued))

	closed := make(chan error, 1)
	go func() { closed <- st.Close() }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while a commit was running", err)
	case <-time.After(50 * time.Millisecond):
	}
	if err := release(); err != nil {
		t.Fatalf("held Commit: %v", err)
	}
	for _, c := range queued {
		if err := <-c.errc; err != nil {
			t.Errorf("Commit queued before Close: %v", err)
		}
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	err := sp.Commit(func(tx storage.Tx) error { return tx.Put("late", nil) })
	if err == nil {
		t.Fatal("Commit after Close succeeded")
	}
	if err := st.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	again, err := storage.Open(st.Path(), storage.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	for _, k := range []string{"holder", "q1", "q2", "q3"} {
		if v := storagetest.Get(t, again.Space("m"), k); v == nil {
			t.Errorf("%s lost across Close", k)
		}
	}
}

func TestCommitFromManyGoroutinesAfterCloseNeverHangs(t *testing.T) {
	t.Parallel()
	st := storagetest.Open(t)
	sp := st.Space("m")
	var wg sync.WaitGroup
	var ok, refused atomic.Int32
	for i := range 32 {
		wg.Go(func() {
			err := sp.Commit(func(tx storage.Tx) error { return tx.Put(fmt.Sprint(i), nil) })
			if err == nil {
				ok.Add(1)
			} else {
				refused.Add(1)
			}
		})
		if i == 16 {
			wg.Go(func() { st.Close() })
		}
	}
	wg.Wait()
	if ok.Load()+refused.Load() != 32 {
		t.Fatalf("%d ok + %d refused != 32", ok.Load(), refused.Load())
	}
}
