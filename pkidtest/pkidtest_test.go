package pkidtest_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/pkid-dev/pkid/pkidtest"
)

// issueLeaf issues name from the hierarchy's role and parses the leaf.
func issueLeaf(t *testing.T, c *vault.Client, h *pkidtest.Hierarchy, name string) *x509.Certificate {
	t.Helper()
	sec, err := c.Logical().Write(h.IntMount+"/issue/"+h.Role, map[string]any{"common_name": name})
	if err != nil {
		t.Fatalf("issue %s: %v", name, err)
	}
	block, _ := pem.Decode([]byte(sec.Data["certificate"].(string)))
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return leaf
}

func TestInMemoryWritesNoFile(t *testing.T) {
	dir := t.TempDir()
	srv := pkidtest.Start(t, pkidtest.Options{InMemory: true, DataDir: dir})
	h := srv.BuildHierarchy(t)
	issueLeaf(t, srv.Client(t), h, "api.internal.example.com")
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
		t.Fatalf("in-memory server wrote to its data folder: %v %v", entries, err)
	}
	if srv.Store.Path() != "" {
		t.Fatalf("in-memory store has a path %q", srv.Store.Path())
	}
}

func TestBuildHierarchyChainsToTheRoot(t *testing.T) {
	for _, mem := range []bool{false, true} {
		t.Run(map[bool]string{false: "bolt", true: "memory"}[mem], func(t *testing.T) {
			t.Parallel()
			srv := pkidtest.Start(t, pkidtest.Options{InMemory: mem})
			h := srv.BuildHierarchy(t)
			leaf := issueLeaf(t, srv.Client(t), h, "api.internal.example.com")
			_, err := leaf.Verify(x509.VerifyOptions{
				DNSName: "api.internal.example.com", Roots: h.Roots, Intermediates: h.Intermediates,
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			})
			if err != nil {
				t.Fatalf("leaf does not chain to the root: %v", err)
			}
			if !h.Root.IsCA || !h.Intermediate.IsCA || h.Intermediate.Issuer.CommonName != h.Root.Subject.CommonName {
				t.Fatalf("hierarchy shape: root %v, intermediate %v", h.Root.Subject, h.Intermediate.Issuer)
			}
		})
	}
}

func TestClockFromGo(t *testing.T) {
	srv := pkidtest.Start(t, pkidtest.Options{TestDouble: true, InMemory: true})
	clk := srv.Clock(t)
	h := srv.BuildHierarchy(t)
	c := srv.Client(t)

	clk.Advance(48 * time.Hour)
	if d := time.Until(clk.Now()); d < 47*time.Hour || d > 49*time.Hour {
		t.Fatalf("Advance(48h): server is %v ahead", d)
	}
	leaf := issueLeaf(t, c, h, "later.internal.example.com")
	if d := time.Until(leaf.NotBefore); d < 47*time.Hour {
		t.Fatalf("certificate issued after Advance starts %v from now, want ~48h", d)
	}
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clk.Set(at)
	if d := clk.Now().Sub(at); d < 0 || d > time.Minute {
		t.Fatalf("Set(2030): server says %v", clk.Now())
	}
	clk.Reset()
	if d := time.Until(clk.Now()); d > time.Minute || d < -time.Minute {
		t.Fatalf("Reset: server is %v off real time", d)
	}
}

func TestFaultsFromGo(t *testing.T) {
	srv := pkidtest.Start(t, pkidtest.Options{TestDouble: true, InMemory: true})
	h := srv.BuildHierarchy(t)
	c := srv.Client(t)
	srv.AddFault(t, "flaky", pkidtest.Fault{Path: "pki_int/issue/", Operations: []string{"update"}, Status: 503, Count: 2})
	body := map[string]any{"common_name": "a.internal.example.com"}
	for i := range 2 {
		_, err := c.Logical().WriteWithContext(context.Background(), h.IntMount+"/issue/"+h.Role, body)
		if re, ok := err.(*vault.ResponseError); !ok || re.StatusCode != 503 {
			t.Fatalf("request %d under the fault: %v, want 503", i+1, err)
		}
	}
	issueLeaf(t, c, h, "a.internal.example.com") // the count is spent

	srv.AddFault(t, "slow", pkidtest.Fault{Path: "pki_int/", Latency: 150 * time.Millisecond})
	start := time.Now()
	issueLeaf(t, c, h, "b.internal.example.com")
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("latency fault: answered in %v", d)
	}
	srv.RemoveFault("slow")
}

func TestAddFaultRefusesBadRules(t *testing.T) {
	srv := pkidtest.Start(t, pkidtest.Options{TestDouble: true, InMemory: true})
	for _, f := range []pkidtest.Fault{
		{},                          // no path
		{Path: "pki/", Status: 200}, // not an error status
		{Path: "pki/", Count: -1},
		{Path: "pki/", Operations: []string{"brew"}},
	} {
		ft := &fakeTB{TB: t}
		srv.AddFault(ft, "bad", f)
		if !ft.failed || !strings.Contains(ft.msg, "pkidtest: fault bad") {
			t.Errorf("AddFault(%+v) accepted, or failed without a clear message: %q", f, ft.msg)
		}
	}
}

// fakeTB records a Fatalf instead of stopping the test.
type fakeTB struct {
	testing.TB
	failed bool
	msg    string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed, f.msg = true, fmt.Sprintf(format, args...)
}

// stopTB runs the cleanups a Start registers when told to, so a benchmark
// can stop each server before starting the next.
type stopTB struct {
	testing.TB
	cleanups []func()
}

func (s *stopTB) Cleanup(fn func()) { s.cleanups = append(s.cleanups, fn) }

func (s *stopTB) stop() {
	for _, fn := range slices.Backward(s.cleanups) {
		fn()
	}
	s.cleanups = s.cleanups[:0]
}

// BenchmarkStart is the cost of a test's server: start, serve one
// sys/health, stop.
func BenchmarkStart(b *testing.B) {
	for _, mem := range []bool{false, true} {
		b.Run(map[bool]string{false: "bolt", true: "memory"}[mem], func(b *testing.B) {
			b.ReportAllocs()
			tb := &stopTB{TB: b}
			for b.Loop() {
				srv := pkidtest.Start(tb, pkidtest.Options{InMemory: mem})
				if _, err := srv.Client(b).Sys().Health(); err != nil {
					b.Fatal(err)
				}
				tb.stop()
			}
		})
	}
}
