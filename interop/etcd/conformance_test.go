package etcd

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pkid-dev/pkid/storage"
	"github.com/pkid-dev/pkid/storage/storagetest"
)

// TestConformance runs the storage contract every engine keeps against the
// etcd engine; each store gets a prefix of its own on one shared cluster.
func TestConformance(t *testing.T) {
	c := sharedCluster(t)
	var n atomic.Int64
	storagetest.RunConformance(t, func(tb testing.TB) *storage.Store {
		st, _ := c.store(tb, fmt.Sprintf("/conformance/%d", n.Add(1)))
		return st
	})
}

// TestCompareAndSwap: concurrent read-modify-writes of one counter from two
// engines (two replicas) lose no increment.
func TestCompareAndSwap(t *testing.T) {
	c := sharedCluster(t)
	a, _ := c.store(t, "/cas")
	b, _ := c.store(t, "/cas")
	const perWriter = 25
	var wg sync.WaitGroup
	for _, st := range []*storage.Store{a, b, a, b} {
		wg.Go(func() {
			for range perWriter {
				err := st.Space("m").Update(func(tx storage.Tx) error {
					var n int
					if _, err := storage.GetJSON(tx, "counter", &n); err != nil {
						return err
					}
					return storage.PutJSON(tx, "counter", n+1)
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	var n int
	if err := a.Space("m").View(func(tx storage.Tx) error { _, err := storage.GetJSON(tx, "counter", &n); return err }); err != nil {
		t.Fatal(err)
	}
	if n != 4*perWriter {
		t.Fatalf("counter = %d, want %d", n, 4*perWriter)
	}
}

// TestScanSeesInsertions: a transaction that listed a prefix is retried
// when another writer adds a key under it, so "allocate the next free
// name" cannot hand out one name twice.
func TestScanSeesInsertions(t *testing.T) {
	c := sharedCluster(t)
	a, _ := c.store(t, "/scan")
	b, _ := c.store(t, "/scan")
	var wg sync.WaitGroup
	for i, st := range []*storage.Store{a, b, a, b} {
		wg.Go(func() {
			for j := range 10 {
				err := st.Space("m").Update(func(tx storage.Tx) error {
					keys, err := tx.Keys("slot/", "", 0)
					if err != nil {
						return err
					}
					return tx.Put(fmt.Sprintf("slot/%03d", len(keys)), fmt.Appendf(nil, "%d-%d", i, j))
				})
				if err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	var keys []string
	_ = a.Space("m").View(func(tx storage.Tx) (err error) { keys, err = tx.Keys("slot/", "", 0); return err })
	if len(keys) != 40 {
		t.Fatalf("%d slots, want 40 (a slot was taken twice)", len(keys))
	}
}

// shared is one cluster for the tests that do not stop members (TestMain).
var shared *cluster

func sharedCluster(t *testing.T) *cluster {
	if shared == nil {
		t.Fatal("shared cluster did not start")
	}
	return shared
}
