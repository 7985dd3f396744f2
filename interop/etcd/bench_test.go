package etcd

import (
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/pkid-dev/pkid/pkidtest"
)

// benchClients is how many clients issue at once.
const benchClients = 16

// BenchmarkIssue compares the issue rate of a replica on the three-member
// etcd cluster with a bbolt-backed server, at 16 concurrent clients (EC
// P-256 leaves). cpu-µs/cert is the process's CPU time (user + system)
// per certificate: everything here runs in one process, so it counts the
// clients too, and for etcd the three members as well.
func BenchmarkIssue(b *testing.B) {
	b.Run("etcd", func(b *testing.B) {
		if shared == nil {
			b.Skip("no shared cluster")
		}
		r := startReplica(b, shared, fmt.Sprintf("/bench/%d", time.Now().UnixNano()), "bench")
		setupCA(b, r)
		runIssue(b, r.client)
	})
	b.Run("bolt", func(b *testing.B) {
		srv := pkidtest.Start(b, pkidtest.Options{PeriodicInterval: -1})
		r := &replica{client: srv.Client(b)}
		setupCA(b, r)
		runIssue(b, r.client)
	})
}

func runIssue(b *testing.B, c *vault.Client) {
	// One issue first: the first request pays for parsing the issuer.
	if _, err := c.Logical().Write("pki/issue/web", map[string]any{"common_name": "warm.example.com", "ttl": "1h"}); err != nil {
		b.Fatal(err)
	}
	var next atomic.Int64
	var failed atomic.Int64
	cpu0 := cpuTime()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range benchClients {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				_, err := c.Logical().Write("pki/issue/web", map[string]any{
					"common_name": fmt.Sprintf("c%d-%d.example.com", w, i), "ttl": "1h",
				})
				if err != nil {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d issues failed", n)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "certs/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/cert")
}

// cpuTime is the CPU time this process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
