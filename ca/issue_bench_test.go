package ca

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/pkid-dev/pkid/clock"
	"github.com/pkid-dev/pkid/seal"
	"github.com/pkid-dev/pkid/storage"
)

// benchCA is an authority over a durable store (fsync on, as in
// production) with a P-256 root and the benchmark roles.
func benchCA(b *testing.B) *testCA { return benchCAStore(b, false) }

// benchCAStore is benchCA with its keys sealed (package seal, cheap
// argon2id) when sealed is set.
func benchCAStore(b *testing.B, sealed bool) *testCA {
	b.Helper()
	path := filepath.Join(b.TempDir(), "pkid.db")
	eng, err := storage.OpenEngine(path, storage.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if sealed {
		secret, _ := seal.Passphrase([]byte("bench"))
		if eng, err = seal.Open(eng, secret, seal.Options{Params: seal.TestParams}); err != nil {
			b.Fatal(err)
		}
	}
	st := storage.NewStore(eng, path)
	b.Cleanup(func() { st.Close() })
	a, err := New(Config{Space: st.Space("bench"), Clock: clock.Real{}, Rand: rand.Reader})
	if err != nil {
		b.Fatal(err)
	}
	c := &testCA{Authority: a, store: st}
	if _, err := c.GenerateRoot(context.Background(), ModeInternal, false, &RootRequest{
		NameFields: NameFields{CommonName: "Bench Root"}, KeyFields: KeyFields{KeyType: str("ec")},
		ValidityFields: ValidityFields{TTL: 8760 * time.Hour},
	}, bigTTLs); err != nil {
		b.Fatal(err)
	}
	base := map[string]any{"allowed_domains": "example.com", "allow_subdomains": true, "ttl": "24h"}
	for name, extra := range map[string]map[string]any{
		"stored":   {"key_type": "ec"},
		"no_store": {"key_type": "ec", "no_store": true},
		"rsa":      {"key_type": "rsa"},
	} {
		raw := map[string]any{}
		for k, v := range base {
			raw[k] = v
		}
		for k, v := range extra {
			raw[k] = v
		}
		c.putRole(b, name, raw)
	}
	return c
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runIssue runs op b.N times, serially or from GOMAXPROCS×p goroutines, and
// reports the CPU time per operation beside ns/op.
func runIssue(b *testing.B, parallel int, op func() error) {
	b.Helper()
	b.ReportAllocs()
	start := cpuTime()
	b.ResetTimer()
	if parallel == 0 {
		for b.Loop() {
			if err := op(); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		b.SetParallelism(parallel)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := op(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N)/1e6, "cpu-ms/op")
}

// BenchmarkIssueP256 is issue/:role with a P-256 issuer and P-256 leaf
// keys, stored (group commit, fsync) or no_store, from one goroutine and
// from 16 per CPU.
func BenchmarkIssueP256(b *testing.B) {
	c := benchCA(b)
	ctx := context.Background()
	for _, role := range []string{"stored", "no_store"} {
		for _, par := range []int{0, 8} {
			name := role + "/serial"
			if par > 0 {
				name = role + "/parallel"
			}
			b.Run(name, func(b *testing.B) {
				req := issueReq("www.example.com")
				runIssue(b, par, func() error {
					l, err := c.Issue(ctx, role, req, leafOpts)
					if err == nil {
						_, err = l.Output()
					}
					return err
				})
			})
		}
	}
}

// BenchmarkIssueP256Sealed compares no_store P-256 issues with the CA key
// record sealed and in the clear: what sealing adds per issue (the signing
// cache opens the sealed key record to check it is unchanged).
func BenchmarkIssueP256Sealed(b *testing.B) {
	for _, sealed := range []bool{false, true} {
		b.Run(map[bool]string{false: "clear", true: "sealed"}[sealed], func(b *testing.B) {
			c := benchCAStore(b, sealed)
			req := issueReq("www.example.com")
			runIssue(b, 0, func() error {
				l, err := c.Issue(context.Background(), "no_store", req, leafOpts)
				if err == nil {
					_, err = l.Output()
				}
				return err
			})
		})
	}
}

// BenchmarkSignP256 is sign/:role with a P-256 CSR.
func BenchmarkSignP256(b *testing.B) {
	c := benchCA(b)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	req := DefaultSignRequest()
	req.CSR = leafCSR(b, key, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "www.example.com"}})
	for _, par := range []int{0, 8} {
		b.Run(map[int]string{0: "serial", 8: "parallel"}[par], func(b *testing.B) {
			runIssue(b, par, func() error {
				_, err := c.Sign(context.Background(), "stored", &req, leafOpts)
				return err
			})
		})
	}
}

// BenchmarkIssueRSA2048 is issue/:role with RSA-2048 leaf keys taken from
// a warm pool: each op consumes a pooled key while the pool refills in the
// background, so it measures steady state only while the pool keeps up.
func BenchmarkIssueRSA2048(b *testing.B) {
	c := benchCA(b)
	req := issueReq("www.example.com")
	runIssue(b, 0, func() error {
		_, err := c.Issue(context.Background(), "rsa", req, leafOpts)
		return err
	})
}
