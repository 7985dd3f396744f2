package agent_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkid-dev/pkid/agent"
	"github.com/pkid-dev/pkid/clock"
	"github.com/pkid-dev/pkid/pkidtest"
)

// setup starts a test-double server with an EC root and a role "web" that
// allows *.example.com.
func setup(t *testing.T) *pkidtest.Server {
	t.Helper()
	srv := pkidtest.Start(t, pkidtest.Options{TestDouble: true})
	srv.EnablePKI(t, "pki", 0)
	srv.Write(t, "pki/root/generate/internal", map[string]any{"common_name": "Agent Test Root", "key_type": "ec", "ttl": "8760h"})
	srv.Write(t, "pki/roles/web", map[string]any{"allowed_domains": "example.com", "allow_subdomains": true, "key_type": "ec", "max_ttl": "72h"})
	return srv
}

func baseConfig(t *testing.T, srv *pkidtest.Server) agent.Config {
	dir := t.TempDir()
	return agent.Config{
		Address: srv.URL, Token: srv.Token, Role: "web", CommonName: "www.example.com",
		AltNames: "api.example.com", TTL: "1h",
		CertFile: filepath.Join(dir, "cert.pem"), KeyFile: filepath.Join(dir, "key.pem"),
		ChainFile: filepath.Join(dir, "chain.pem"), Once: true,
	}
}

// fakeSleeper advances a fake clock instead of waiting and records each wait.
type fakeSleeper struct {
	mu    sync.Mutex
	clk   *clock.Fake
	waits []time.Duration
	// onSleep, when set, runs before returning (e.g. to cancel the run).
	onSleep func(n int)
}

func (s *fakeSleeper) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	n := len(s.waits)
	s.clk.Advance(d)
	f := s.onSleep
	s.mu.Unlock()
	if f != nil {
		f(n)
	}
	return ctx.Err()
}

func (s *fakeSleeper) Waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

func deps(t *testing.T, s *fakeSleeper, logs *bytes.Buffer) agent.Deps {
	var w = logs
	if w == nil {
		w = &bytes.Buffer{}
	}
	return agent.Deps{Clock: s.clk, Sleep: s.Sleep, Jitter: func() float64 { return 0.5 },
		Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: w}, nil))}
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(raw)
	if b == nil || b.Type != "CERTIFICATE" {
		t.Fatalf("%s: no PEM certificate", path)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestOnceWritesFiles(t *testing.T) {
	srv := setup(t)
	cfg := baseConfig(t, srv)
	s := &fakeSleeper{clk: clock.NewFake(time.Now())}
	a, err := agent.New(cfg, deps(t, s, nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	leaf := readCert(t, cfg.CertFile)
	if leaf.Subject.CommonName != "www.example.com" || len(leaf.DNSNames) != 2 {
		t.Errorf("leaf: CN %q, DNS %v", leaf.Subject.CommonName, leaf.DNSNames)
	}
	ca := readCert(t, cfg.ChainFile)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "api.example.com"}); err != nil {
		t.Errorf("leaf does not verify against the chain: %v", err)
	}
	keyPEM, err := os.ReadFile(cfg.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil {
		t.Fatal("key: no PEM")
	}
	if _, err := x509.ParseECPrivateKey(kb.Bytes); err != nil {
		t.Errorf("key: %v", err)
	}
	fi, err := os.Stat(cfg.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v, want 0600", fi.Mode().Perm())
	}
	assertNoTemp(t, filepath.Dir(cfg.CertFile))
	if w := s.Waits(); len(w) != 0 {
		t.Errorf("once mode slept %v", w)
	}
}

func TestOnceRoleRefusesName(t *testing.T) {
	srv := setup(t)
	cfg := baseConfig(t, srv)
	cfg.CommonName = "www.evil.com"
	cfg.AltNames = ""
	s := &fakeSleeper{clk: clock.NewFake(time.Now())}
	var logs bytes.Buffer
	a, err := agent.New(cfg, deps(t, s, &logs))
	if err != nil {
		t.Fatal(err)
	}
	err = a.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "www.evil.com") {
		t.Fatalf("Run = %v, want a refusal naming the common name", err)
	}
	if w := s.Waits(); len(w) != 0 {
		t.Errorf("a 400 is permanent, but the agent retried after %v", w)
	}
	if _, err := os.Stat(cfg.CertFile); !os.IsNotExist(err) {
		t.Errorf("cert file exists after a refusal: %v", err)
	}
	if !strings.Contains(logs.String(), "giving up") {
		t.Errorf("no failure log line: %s", logs.String())
	}
}

func TestOnceUnreachable(t *testing.T) {
	cfg := agent.Config{Address: "http://127.0.0.1:1", Token: "x", Role: "web", CommonName: "a.example.com",
		CertFile: filepath.Join(t.TempDir(), "c"), KeyFile: filepath.Join(t.TempDir(), "k"), Once: true, Attempts: 3}
	s := &fakeSleeper{clk: clock.NewFake(time.Now())}
	var logs bytes.Buffer
	a, err := agent.New(cfg, deps(t, s, &logs))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Run(context.Background()); err == nil {
		t.Fatal("Run succeeded against a closed port")
	}
	// Three attempts: two backoffs, 1s and 2s with jitter 0.5 → 0.75s, 1.5s.
	want := []time.Duration{750 * time.Millisecond, 1500 * time.Millisecond}
	if w := s.Waits(); len(w) != len(want) || w[0] != want[0] || w[1] != want[1] {
		t.Errorf("backoff waits %v, want %v", w, want)
	}
	if n := strings.Count(logs.String(), "level=ERROR"); n != 3 {
		t.Errorf("%d error lines, want one per failure (3):\n%s", n, logs.String())
	}
}

func TestUnwritableOutput(t *testing.T) {
	srv := setup(t)
	cfg := baseConfig(t, srv)
	dir := t.TempDir()
	// A directory where the cert file should go: the rename must fail after
	// the temp file was written, and the temp file must go.
	cfg.CertFile = filepath.Join(dir, "cert.pem")
	if err := os.Mkdir(cfg.CertFile, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfg.CertFile, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.KeyFile = filepath.Join(dir, "key.pem")
	cfg.Attempts = 2
	s := &fakeSleeper{clk: clock.NewFake(time.Now())}
	a, err := agent.New(cfg, deps(t, s, nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Run(context.Background()); err == nil {
		t.Fatal("Run succeeded with an unwritable cert path")
	}
	assertNoTemp(t, dir)

	// A directory that does not exist.
	cfg.CertFile = filepath.Join(dir, "missing", "cert.pem")
	a, _ = agent.New(cfg, deps(t, s, nil))
	if err := a.Run(context.Background()); err == nil {
		t.Fatal("Run succeeded with a missing output directory")
	}
	assertNoTemp(t, dir)
}

func TestWriteFileAtomicReplaces(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	for _, s := range []string{"one", "two"} {
		if err := agent.WriteFileAtomic(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(p); string(got) != s {
			t.Errorf("content %q, want %q", got, s)
		}
	}
	assertNoTemp(t, dir)
}

// TestWriteFileAtomicNoHalfFile replaces a file many times while a reader
// reads it: every read must be one whole version, never a mix or a prefix.
func TestWriteFileAtomicNoHalfFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cert.pem")
	versions := []string{strings.Repeat("A", 256<<10), strings.Repeat("B", 300<<10)}
	if err := agent.WriteFileAtomic(p, []byte(versions[0]), 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var reads, bad int
	go func() {
		defer close(done)
		for range 200 {
			got, err := os.ReadFile(p)
			reads++
			if err != nil || (string(got) != versions[0] && string(got) != versions[1]) {
				bad++
			}
		}
	}()
	for i := 0; ; i++ {
		select {
		case <-done:
			if bad > 0 {
				t.Fatalf("%d of %d reads saw a partial or missing file", bad, reads)
			}
			return
		default:
		}
		if err := agent.WriteFileAtomic(p, []byte(versions[i%2]), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temp file left behind: %s", e.Name())
		}
	}
}

func TestRetries503(t *testing.T) {
	srv := setup(t)
	srv.AddFault(t, "flaky", pkidtest.Fault{Path: "pki/issue/", Operations: []string{"update"}, Status: 503, Count: 3})
	cfg := baseConfig(t, srv)
	s := &fakeSleeper{clk: clock.NewFake(time.Now())}
	var logs bytes.Buffer
	a, err := agent.New(cfg, deps(t, s, &logs))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v\n%s", err, logs.String())
	}
	readCert(t, cfg.CertFile)
	want := []time.Duration{750 * time.Millisecond, 1500 * time.Millisecond, 3 * time.Second}
	w := s.Waits()
	if len(w) != 3 || w[0] != want[0] || w[1] != want[1] || w[2] != want[2] {
		t.Errorf("waits %v, want %v", w, want)
	}
	if n := strings.Count(logs.String(), "renewal failed"); n != 3 {
		t.Errorf("%d failure lines, want 3:\n%s", n, logs.String())
	}
}

func TestBackoffCapped(t *testing.T) {
	srv := setup(t)
	srv.AddFault(t, "flaky", pkidtest.Fault{Path: "pki/issue/", Operations: []string{"update"}, Status: 503, Count: 5})
	cfg := baseConfig(t, srv)
	cfg.MinBackoff, cfg.MaxBackoff, cfg.Attempts = time.Second, 4*time.Second, 10
	s := &fakeSleeper{clk: clock.NewFake(time.Now())}
	a, _ := agent.New(cfg, agent.Deps{Clock: s.clk, Sleep: s.Sleep, Jitter: func() float64 { return 0.999999 },
		Logger: slog.New(slog.DiscardHandler)})
	if err := a.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, w := range s.Waits() {
		if w > 4*time.Second {
			t.Errorf("wait %v beyond max backoff", w)
		}
	}
}

func TestLoopRenewsAtThresholdAndExecs(t *testing.T) {
	srv := setup(t)
	cfg := baseConfig(t, srv)
	cfg.Once = false
	marker := filepath.Join(t.TempDir(), "marker")
	cfg.Exec = "echo x >> " + marker
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clk := clock.NewFake(time.Now())
	var serials []string
	s := &fakeSleeper{clk: clk}
	s.onSleep = func(n int) {
		serials = append(serials, readCert(t, cfg.CertFile).SerialNumber.String())
		if n == 3 {
			cancel()
		}
	}
	a, err := agent.New(cfg, deps(t, s, nil))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after cancel = %v, want nil", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not stop after cancel")
	}
	w := s.Waits()
	if len(w) != 3 {
		t.Fatalf("waits %v, want 3", w)
	}
	// The first wait ends at NotBefore + 0.7*lifetime of the first cert;
	// the server backdates NotBefore, so compute from a cert of the same TTL.
	leaf := readCert(t, cfg.CertFile)
	life := leaf.NotAfter.Sub(leaf.NotBefore)
	if life < time.Hour || life > time.Hour+time.Minute {
		t.Fatalf("lifetime %v, want about 1h", life)
	}
	wantFirst := time.Duration(0.7 * float64(life))
	// NotBefore is about 30s before issue time and start is about issue time.
	if d := w[0] - (wantFirst - 30*time.Second); d < -5*time.Second || d > 5*time.Second {
		t.Errorf("first wait %v, want about %v", w[0], wantFirst-30*time.Second)
	}
	// Each renewal issued a new certificate.
	if serials[0] == serials[1] || serials[1] == serials[2] {
		t.Errorf("serials did not change across renewals: %v", serials)
	}
	raw, err := os.ReadFile(marker)
	if err != nil {
		t.Fatalf("exec did not run: %v", err)
	}
	if n := strings.Count(string(raw), "x"); n != 3 {
		t.Errorf("exec ran %d times, want 3", n)
	}
}

func TestCancelStopsRealSleep(t *testing.T) {
	srv := setup(t)
	cfg := baseConfig(t, srv)
	cfg.Once = false
	ctx, cancel := context.WithCancel(context.Background())
	a, err := agent.New(cfg, agent.Deps{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(cfg.CertFile); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no certificate written")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v, want nil on cancel", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop after cancel")
	}
}

func TestConfigFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "agent.json")
	os.WriteFile(p, []byte(`{"role":"web","common_name":"a.example.com","renew_at":0.5,"min_backoff":"2s"}`), 0o644)
	cfg := agent.Config{Mount: "pki", Role: "other"}
	if err := agent.LoadConfigFile(p, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Role != "web" || cfg.Mount != "pki" || cfg.RenewAt != 0.5 || cfg.MinBackoff != 2*time.Second {
		t.Errorf("cfg %+v", cfg)
	}
	os.WriteFile(p, []byte(`{"rol":"web"}`), 0o644)
	if err := agent.LoadConfigFile(p, &cfg); err == nil {
		t.Error("unknown key accepted")
	}
}
