package main

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"
)

// TestCrashUnderIssueLoseNothing kills a server with SIGKILL in the middle
// of issue load, three times, and restarts it on the same data: every
// certificate a client was answered for is listed and readable, CRL numbers
// never go back, and the bbolt file passes its consistency check.
func TestCrashUnderIssueLoseNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("three server restarts")
	}
	dir := t.TempDir()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, 0))
	addr := freeAddr(t)
	start := func() (*proc, *vault.Client) {
		p := startPkid(t, "server", "-dev", "-data", dir, "-dev-listen-address", addr, "-dev-root-token-id", "root")
		a, tok := p.banner(t)
		return p, client(t, a, tok)
	}
	p, c := start()
	mustWriteC(t, c, "sys/mounts/pki", map[string]any{"type": "pki"})
	mustWriteC(t, c, "pki/root/generate/internal", map[string]any{"common_name": "Crash Root", "key_type": "ec", "ttl": "87600h"})
	mustWriteC(t, c, "pki/roles/r", map[string]any{"allow_any_name": true, "key_type": "ec", "ttl": "1h"})

	var acked []string
	var lastCRL int64
	for round := 1; round <= 3; round++ {
		got := issueUntilKilled(t, c, p, time.Duration(300+rnd.IntN(900))*time.Millisecond)
		acked = append(acked, got...)
		p, c = start()
		lost := 0
		listed := map[string]bool{}
		if s, err := c.Logical().List("pki/certs"); err == nil && s != nil {
			for _, k := range s.Data["keys"].([]any) {
				listed[k.(string)] = true
			}
		}
		for _, serial := range acked {
			s, err := c.Logical().Read("pki/cert/" + serial)
			if !listed[serial] || err != nil || s == nil || s.Data["certificate"] == "" {
				lost++
			}
		}
		// Revoke two of this round's and rotate: the numbering survives.
		for _, serial := range got[:min(2, len(got))] {
			mustWriteC(t, c, "pki/revoke", map[string]any{"serial_number": serial})
		}
		if _, err := c.Logical().Read("pki/crl/rotate"); err != nil {
			t.Fatalf("crl/rotate: %v", err)
		}
		n := crlNumber(t, c)
		t.Logf("round %d: %d acknowledged this round, %d in all, %d lost, CRL number %d", round, len(got), len(acked), lost, n)
		if lost > 0 {
			t.Errorf("round %d: %d acknowledged certificates lost", round, lost)
		}
		if n <= lastCRL {
			t.Errorf("round %d: CRL number %d after %d", round, n, lastCRL)
		}
		lastCRL = n
	}
	p.stop(t)
	checkBolt(t, filepath.Join(dir, "pkid.db"))
}

// issueUntilKilled runs issue load from 8 clients and kills the server
// with SIGKILL after d; it returns the serials that were answered 200.
func issueUntilKilled(t *testing.T, c *vault.Client, p *proc, d time.Duration) []string {
	t.Helper()
	var mu sync.Mutex
	var serials []string
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for ctx.Err() == nil {
				s, err := c.Logical().Write("pki/issue/r", map[string]any{"common_name": "crash.example.com"})
				if err != nil {
					continue // the kill: refused or cut connections
				}
				mu.Lock()
				serials = append(serials, s.Data["serial_number"].(string))
				mu.Unlock()
			}
		})
	}
	time.Sleep(d)
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
	cancel()
	wg.Wait()
	return serials
}

func mustWriteC(t *testing.T, c *vault.Client, path string, data map[string]any) {
	t.Helper()
	if _, err := c.Logical().Write(path, data); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
}

func crlNumber(t *testing.T, c *vault.Client) int64 {
	t.Helper()
	r := c.NewRequest("GET", "/v1/pki/crl")
	resp, err := c.RawRequest(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	rl, err := x509.ParseRevocationList(buf)
	if err != nil {
		t.Fatal(errors.Join(errors.New("parse CRL"), err))
	}
	return rl.Number.Int64()
}
