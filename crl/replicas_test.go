package crl

import (
	"context"
	"crypto/x509"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pkid-dev/pkid/records"
)

// Two Managers over one store stand for two replicas sharing it: each
// build is a compare-and-swap of the numbering, so no CRL number is given
// to two different CRLs and a revocation is on every CRL built after it.
func TestReplicasShareCRLNumbers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	replicas := []*Manager{e.m, e.newManager()}
	const perReplica = 25
	var mu sync.Mutex
	seen := map[int64]string{} // CRL number → its serials
	var wg sync.WaitGroup
	for r, m := range replicas {
		certs := make([]*x509.Certificate, perReplica)
		for i := range certs {
			certs[i] = e.stored(e.ca, t0.Add(time.Hour))
		}
		wg.Go(func() {
			for i, cert := range certs {
				s := records.FormatSerial(cert.SerialNumber)
				if _, err := m.Revoke(context.Background(), RevokeRequest{SerialNumber: &s}); err != nil {
					t.Errorf("replica %d revoke %s: %v", r, s, err)
					return
				}
				if i%5 == 0 {
					if _, err := m.Rotate(context.Background()); err != nil {
						t.Errorf("replica %d rotate: %v", r, err)
						return
					}
				}
				der, err := m.FetchCRL(context.Background(), "", false)
				if err != nil {
					t.Errorf("replica %d fetch: %v", r, err)
					return
				}
				rl, err := x509.ParseRevocationList(der)
				if err != nil {
					t.Errorf("parse: %v", err)
					return
				}
				set := revokedSet(rl)
				if _, ok := set[s]; !ok {
					t.Errorf("replica %d: CRL %v after revoking %s lacks it", r, rl.Number, s)
				}
				mu.Lock()
				n := rl.Number.Int64()
				body := fmt.Sprint(len(set), set)
				if prev, ok := seen[n]; ok && prev != body {
					t.Errorf("CRL number %d given to two different CRLs", n)
				}
				seen[n] = body
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	t.Logf("%d revocations on 2 replicas, %d distinct complete CRL numbers seen", 2*perReplica, len(seen))
}
