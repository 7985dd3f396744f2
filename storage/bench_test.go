package storage

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BenchmarkWrite measures the certificate-record write path with fsync on:
// N goroutines each store 1.5 KB records under random serial-like keys.
//
//	update    one transaction (and fsync) per write: Space.Update
//	commit    the group committer: Space.Commit
//	batch-Xms bbolt's own DB.Batch with that delay, for comparison
//
// Run with e.g. go test -run '^$' -bench Write -benchtime 2s ./storage/
// The writes/s metric is the one to read; ns/op is its inverse.
func BenchmarkWrite(b *testing.B) {
	modes := []struct {
		name  string
		write func(st *Store, sp *Space, fn func(Tx) error) error
	}{
		{"update", func(_ *Store, sp *Space, fn func(Tx) error) error { return sp.Update(fn) }},
		{"commit", func(_ *Store, sp *Space, fn func(Tx) error) error { return sp.Commit(fn) }},
		{"batch-10ms", boltBatch(10 * time.Millisecond)},
		{"batch-1ms", boltBatch(time.Millisecond)},
	}
	for _, mode := range modes {
		for _, n := range []int{1, 16, 64} {
			b.Run(fmt.Sprintf("%s/writers=%d", mode.name, n), func(b *testing.B) {
				benchWrite(b, n, mode.write)
			})
		}
	}
}

func boltBatch(delay time.Duration) func(*Store, *Space, func(Tx) error) error {
	return func(st *Store, sp *Space, fn func(Tx) error) error {
		st.db.MaxBatchDelay = delay
		return st.db.Batch(func(tx *bolt.Tx) error {
			return fn(&boltTx{tx: tx, bucket: sp.bucket, writable: true})
		})
	}
}

func benchWrite(b *testing.B, writers int, write func(*Store, *Space, func(Tx) error) error) {
	st, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	sp := st.Space("bench")
	value := make([]byte, 1536)
	rand.Read(value)

	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range writers {
		wg.Go(func() {
			serial := make([]byte, 20)
			for next.Add(1) <= int64(b.N) {
				rand.Read(serial)
				key := "certs/" + hex.EncodeToString(serial)
				err := write(st, sp, func(tx Tx) error { return tx.Put(key, value) })
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "writes/s")
}
