package storage

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
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
		db := st.eng.(*boltEngine).db
		db.MaxBatchDelay = delay
		return db.Batch(func(tx *bolt.Tx) error {
			return fn(&boltTx{tx: tx, bucket: bucketName(sp.name), writable: true})
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

// BenchmarkCommitContended is the certificate store's write path as the
// issue handler sees it: each of N writers first does ~190 µs of CPU work
// (standing in for key generation, signing and HTTP), then commits one
// 700-byte record under a random serial key, with fsync on. The committer
// must share the two cores with the writers, as it does in the server.
//
//	commit  Space.Commit after the work
//	none    the work alone: the ceiling a stored issue could reach
//
// Compare writes/s of commit with none at the same N; cpu-µs/write is the
// process's CPU time (user+system) per write.
func BenchmarkCommitContended(b *testing.B) {
	for _, n := range []int{1, 16, 64} {
		for _, mode := range []string{"commit", "none"} {
			b.Run(fmt.Sprintf("writers=%d/%s", n, mode), func(b *testing.B) {
				benchContended(b, n, mode)
			})
		}
	}
}

func benchContended(b *testing.B, writers int, mode string) {
	st, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	sp := st.Space("bench")
	value := make([]byte, 700)
	rand.Read(value)

	var next atomic.Int64
	var wg sync.WaitGroup
	cpu0 := processCPU()
	b.ResetTimer()
	start := time.Now()
	for range writers {
		wg.Go(func() {
			serial := make([]byte, 20)
			work := make([]byte, 64<<10)
			for next.Add(1) <= int64(b.N) {
				busyWork(work)
				if mode == "none" {
					continue
				}
				rand.Read(serial)
				key := "certs/" + hex.EncodeToString(serial)
				if err := sp.Commit(func(tx Tx) error { return tx.Put(key, value) }); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "writes/s")
	b.ReportMetric(float64(processCPU()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-µs/write")
}

// busyWork burns roughly 190 µs of CPU (SHA-256 over the buffer, a few
// times), without blocking.
func busyWork(buf []byte) {
	for range 6 {
		sum := sha256.Sum256(buf)
		buf[0] ^= sum[0]
	}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
