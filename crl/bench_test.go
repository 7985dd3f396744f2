package crl

import (
	"context"
	"crypto/x509"
	"fmt"
	"github.com/pkid-dev/pkid/records"
	"math/big"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pkid-dev/pkid/clock"
	"github.com/pkid-dev/pkid/storage"
)

// Benchmarks run on a store with fsync on, as in production, and EC P-256
// issuers. Run them with e.g.
//
//	go test ./crl -run '^$' -bench . -benchtime 20x
//
// Percentiles are reported as extra metrics (p50-ms, p99-ms).

// benchEnv is a Manager over a durable store with n revocations already
// recorded under the default issuer (written directly, in bulk).
func benchEnv(b *testing.B, n int) *env {
	b.Helper()
	st, err := storage.Open(filepath.Join(b.TempDir(), "bench.db"), storage.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	e := &env{t: b, store: st, space: st.Space("mount"), clock: clock.NewFake(t0), src: &fakeSource{}}
	e.ca = newRoot(b, "Bench Root", nil, 10*365*24*time.Hour)
	e.src.add(e.ca.issuer("root", "root"), true)
	e.m = e.newManager()
	sample := e.ca.leaf(b, nil, t0.Add(24*time.Hour)).Raw
	for start := 0; start < n; start += 5000 {
		err := e.space.Update(func(tx storage.Tx) error {
			for i := start; i < min(start+5000, n); i++ {
				colon := records.FormatSerial(benchSerial(i))
				rec := &records.RevocationRecord{Version: 1, CertificateBytes: sample, RevocationTime: t0.Unix(), RevocationTimeUTC: t0, IssuerID: "root"}
				if err := records.PutRevocation(tx, colon, rec, t0.Add(24*time.Hour)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return e
}

func BenchmarkCRLBuild(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("revoked=%d", n), func(b *testing.B) {
			e := benchEnv(b, n)
			ctx := context.Background()
			if _, err := e.m.Rebuild(ctx, false); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := e.m.Rebuild(ctx, false); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			der, _ := e.m.FetchCRL(ctx, "", false)
			b.ReportMetric(float64(len(der))/1e6, "CRL-MB")
			rl := e.crl("", false, e.ca.cert)
			if len(rl.RevokedCertificateEntries) != n {
				b.Fatalf("CRL has %d entries, want %d", len(rl.RevokedCertificateEntries), n)
			}
		})
	}
}

func BenchmarkRevokeWith100kRevoked(b *testing.B) {
	for _, auto := range []bool{false, true} {
		b.Run(fmt.Sprintf("auto_rebuild=%v", auto), func(b *testing.B) {
			e := benchEnv(b, 100_000)
			ctx := context.Background()
			// Past Vault's default max_crl_entries (100000): no limit.
			if _, _, err := e.m.SetCRLConfig(ctx, CRLConfigPatch{AutoRebuild: ptr(auto), MaxCRLEntries: ptr(-1)}); err != nil {
				b.Fatal(err)
			}
			// The first revoke after start loads the CRL's entries once.
			e.revoke(e.stored(e.ca, t0.Add(time.Hour)))
			certs := make([]*x509.Certificate, 0, 1000)
			var lat []time.Duration
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				if len(certs) == 0 {
					certs = storeMany(b, e, 1000)
				}
				c := certs[len(certs)-1]
				certs = certs[:len(certs)-1]
				b.StartTimer()
				start := time.Now()
				e.revoke(c)
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			reportPercentiles(b, lat)
		})
	}
}

func storeMany(b *testing.B, e *env, n int) []*x509.Certificate {
	certs := make([]*x509.Certificate, n)
	for i := range certs {
		certs[i] = e.ca.leaf(b, nil, t0.Add(time.Hour))
	}
	err := e.space.Update(func(tx storage.Tx) error {
		for _, c := range certs {
			if err := records.PutCert(tx, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return certs
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	ms := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))]) / 1e6 }
	b.ReportMetric(ms(0.50), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
}

// BenchmarkTidy100kExpired: tidy of 100k expired certificates while an
// issuer keeps writing certificates through the group commit; the writes'
// latency percentiles are reported (issue-p50-ms, issue-p99-ms).
func BenchmarkTidy100kExpired(b *testing.B) {
	const n = 100_000
	for b.Loop() {
		b.StopTimer()
		e := benchEnv(b, 0)
		sample := e.ca.leaf(b, nil, t0.Add(time.Hour)).Raw
		for start := 0; start < n; start += 5000 {
			err := e.space.Update(func(tx storage.Tx) error {
				for i := start; i < min(start+5000, n); i++ {
					colon := records.FormatSerial(benchSerial(i))
					if err := tx.Put(records.CertKey(colon), sample); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		fresh := make([]*x509.Certificate, 200)
		for i := range fresh {
			fresh[i] = e.ca.leaf(b, nil, t0.Add(1000*time.Hour))
		}
		e.clock.Set(t0.Add(100 * time.Hour))
		r := DefaultTidyRequest()
		r.CertStore = true
		b.StartTimer()

		start := time.Now()
		if started, _, err := e.m.StartTidy(r); err != nil || !started {
			b.Fatal(err)
		}
		stop := make(chan struct{})
		var lat []time.Duration
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat = issueLoop(b, e, fresh, stop)
		}()
		s := e.waitTidy()
		elapsed := time.Since(start)
		close(stop)
		wg.Wait()
		b.StopTimer()
		if s.CertsDeleted != n {
			b.Fatalf("tidy deleted %d, want %d (%+v)", s.CertsDeleted, n, s)
		}
		// The same writes with no tidy running, for comparison.
		idleStop := make(chan struct{})
		time.AfterFunc(elapsed, func() { close(idleStop) })
		idle := issueLoop(b, e, fresh, idleStop)
		b.ReportMetric(elapsed.Seconds(), "tidy-s")
		reportLatency(b, "issue", lat)
		reportLatency(b, "idle-issue", idle)
		b.StartTimer()
	}
}

// issueLoop stands in for issuance: one durable certificate write through
// the group commit every 2 ms until stop, returning each write's latency.
func issueLoop(b *testing.B, e *env, certs []*x509.Certificate, stop chan struct{}) []time.Duration {
	var lat []time.Duration
	for i := 0; ; i++ {
		select {
		case <-stop:
			return lat
		case <-time.After(2 * time.Millisecond):
		}
		c := certs[i%len(certs)]
		t := time.Now()
		if err := e.space.Commit(func(tx storage.Tx) error { return records.PutCert(tx, c) }); err != nil {
			b.Error(err)
			return lat
		}
		lat = append(lat, time.Since(t))
	}
}

func reportLatency(b *testing.B, name string, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2])/1e6, name+"-p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100])/1e6, name+"-p99-ms")
}

// BenchmarkGoEncoder100k is the reference the hand encoder replaces:
// x509.CreateRevocationList over 100k entries (sign and self-verify).
func BenchmarkGoEncoder100k(b *testing.B) {
	ca := newRoot(b, "Go Root", nil, time.Hour)
	entries := make([]x509.RevocationListEntry, 100_000)
	for i := range entries {
		entries[i] = x509.RevocationListEntry{SerialNumber: benchSerial(i), RevocationTime: t0}
	}
	for b.Loop() {
		_, err := x509.CreateRevocationList(nil, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: t0,
			NextUpdate: t0.Add(time.Hour), RevokedCertificateEntries: entries}, ca.cert, ca.key)
		if err != nil {
			b.Fatal(err)
		}
	}
}

// benchSerial is a 20-octet serial, as Vault generates them (spec §5.1).
func benchSerial(i int) *big.Int {
	n := new(big.Int).Lsh(big.NewInt(0x3a5f), 144)
	return n.Add(n, big.NewInt(int64(i)*7919))
}
