package pkidtest_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/pkid-dev/pkid/pkidtest"
)

// seededRun runs one fixed sequence of requests against a fresh server in
// seed mode and returns every byte of output that randomness or time could
// change: certificates, keys, serials, CRLs, request ids.
func seededRun(t *testing.T, n uint64, inMemory bool) []string {
	t.Helper()
	srv := pkidtest.Start(t, pkidtest.Options{
		Seed: n, SeedTime: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		InMemory: inMemory, TestDouble: true,
	})
	h := srv.BuildHierarchy(t)
	var out []string
	keep := func(data map[string]any, fields ...string) {
		for _, f := range fields {
			out = append(out, fmt.Sprintf("%s=%v", f, data[f]))
		}
	}
	out = append(out, string(h.Root.Raw), string(h.Intermediate.Raw))
	for _, kt := range []struct {
		typ  string
		bits int
	}{{"ec", 256}, {"ec", 384}, {"ed25519", 0}, {"rsa", 2048}} {
		role := "seed-" + kt.typ
		srv.Write(t, h.IntMount+"/roles/"+role, map[string]any{
			"allowed_domains": "example.com", "allow_subdomains": true,
			"key_type": kt.typ, "key_bits": kt.bits,
		})
		leaf := srv.Write(t, h.IntMount+"/issue/"+role, map[string]any{"common_name": kt.typ + ".example.com"})
		keep(leaf, "certificate", "private_key", "serial_number")
	}
	leaf := srv.Write(t, h.IntMount+"/issue/"+h.Role, map[string]any{"common_name": "api.internal.example.com"})
	keep(leaf, "certificate", "private_key", "serial_number")
	srv.Write(t, h.IntMount+"/revoke", map[string]any{"serial_number": leaf["serial_number"]})
	crl, err := srv.Client(t).Logical().ReadRawWithContext(context.Background(), h.IntMount+"/crl/pem")
	if err != nil {
		t.Fatal(err)
	}
	defer crl.Body.Close()
	var body [1 << 16]byte
	k, _ := crl.Body.Read(body[:])
	out = append(out, string(body[:k]), "request-id="+crl.Header.Get("X-Request-Id"))
	return out
}

func TestSeedGivesIdenticalBytes(t *testing.T) {
	first := seededRun(t, 42, true)
	if again := seededRun(t, 42, false); !slices.Equal(first, again) {
		for i := range first {
			if first[i] != again[i] {
				t.Errorf("output %d differs between two runs of seed 42:\n%.200q\n%.200q", i, first[i], again[i])
			}
		}
	}
	other := seededRun(t, 43, true)
	for i := range first {
		if first[i] == other[i] {
			t.Errorf("output %d is the same under seeds 42 and 43: %.200q", i, first[i])
		}
	}
}

func TestSeedStopsTheClock(t *testing.T) {
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	srv := pkidtest.Start(t, pkidtest.Options{Seed: 1, SeedTime: at, InMemory: true, TestDouble: true})
	clk := srv.Clock(t)
	if !clk.Now().Equal(at) {
		t.Fatalf("seeded clock at %v, want %v", clk.Now(), at)
	}
	clk.Advance(time.Hour)
	if !clk.Now().Equal(at.Add(time.Hour)) {
		t.Fatalf("after Advance(1h): %v", clk.Now())
	}
	clk.Reset()
	if !clk.Now().Equal(at) {
		t.Fatalf("Reset returns to the seed time, not real time: %v", clk.Now())
	}
}
