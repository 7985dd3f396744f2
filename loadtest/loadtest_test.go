package loadtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakePKI answers issue and sign requests with a canned Vault response and
// records what it was sent.
type fakePKI struct {
	mu     sync.Mutex
	reqs   []fakeReq
	answer func(n int) (int, string) // n counts requests from 0
	onReq  func()
}

type fakeReq struct {
	method, path string
	header       http.Header
	body         map[string]any
}

const issueAnswer = `{"request_id":"r","lease_id":"","renewable":false,"lease_duration":0,"data":{` +
	`"certificate":"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----","expiration":1700000000,` +
	`"issuing_ca":"-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----","private_key":"k",` +
	`"private_key_type":"ec","serial_number":"39:dd"},"wrap_info":null,"warnings":null,"auth":null,"mount_type":"pki"}`

func newFakePKI(t *testing.T, answer func(n int) (int, string)) (*fakePKI, *httptest.Server) {
	t.Helper()
	if answer == nil {
		answer = func(int) (int, string) { return 200, issueAnswer }
	}
	f := &fakePKI{answer: answer}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		n := len(f.reqs)
		f.reqs = append(f.reqs, fakeReq{r.Method, r.URL.Path, r.Header.Clone(), body})
		onReq := f.onReq
		f.mu.Unlock()
		if onReq != nil {
			onReq()
		}
		code, out := f.answer(n)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprint(w, out)
	}))
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakePKI) requests() []fakeReq {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeReq(nil), f.reqs...)
}

func quickConfig(addr string) Config {
	return Config{Addr: addr, Token: "t0k", Role: "web", Clients: 4, Duration: 300 * time.Millisecond, Warmup: 50 * time.Millisecond}
}

func checkLatency(t *testing.T, l Latency) {
	t.Helper()
	if l.P50 <= 0 || l.P50 > l.P90 || l.P90 > l.P99 || l.P99 > l.Max {
		t.Errorf("latency percentiles out of order: %+v", l)
	}
}

func TestRunIssue(t *testing.T) {
	t.Parallel()
	f, srv := newFakePKI(t, nil)
	cfg := quickConfig(srv.URL + "/")
	cfg.CommonName = "host-{n}.example.com"
	cfg.TTL = "1h"
	cfg.KeyType, cfg.KeyBits = "ec", 256
	cfg.Params = map[string]string{"exclude_cn_from_sans": "true"}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Mode != "issue" || res.Path != "pki_int/issue/web" || res.Clients != 4 {
		t.Errorf("result header %q %q %d", res.Mode, res.Path, res.Clients)
	}
	if res.Issued == 0 || res.Errors != 0 || res.Rate <= 0 || res.Window <= 0 {
		t.Fatalf("issued %d, errors %d %q, rate %f, window %v", res.Issued, res.Errors, res.Samples, res.Rate, res.Window)
	}
	checkLatency(t, res.Latency)

	reqs := f.requests()
	if len(reqs) < res.Issued+1 { // +1: the check before the run
		t.Fatalf("server saw %d requests, result counts %d", len(reqs), res.Issued)
	}
	names := map[string]bool{}
	cn := regexp.MustCompile(`^host-\d+\.example\.com$`)
	for _, r := range reqs {
		if r.method != http.MethodPost || r.path != "/v1/pki_int/issue/web" {
			t.Fatalf("request %s %s", r.method, r.path)
		}
		if r.header.Get("X-Vault-Token") != "t0k" || r.header.Get("X-Vault-Request") != "true" {
			t.Fatalf("headers %v", r.header)
		}
		want := map[string]any{"ttl": "1h", "key_type": "ec", "key_bits": "256", "exclude_cn_from_sans": "true"}
		for k, v := range want {
			if r.body[k] != v {
				t.Fatalf("body %s = %v, want %v (body %v)", k, r.body[k], v, r.body)
			}
		}
		name, _ := r.body["common_name"].(string)
		if !cn.MatchString(name) {
			t.Fatalf("common_name %q", name)
		}
		names[name] = true
	}
	// The check request and the first worker both use n = 0.
	if len(names) < len(reqs)-1 {
		t.Errorf("%d distinct names over %d requests: {n} must number requests", len(names), len(reqs))
	}
}

func TestRunSign(t *testing.T) {
	t.Parallel()
	f, srv := newFakePKI(t, nil)
	cfg := quickConfig(srv.URL)
	cfg.Sign = true
	cfg.Mount = "/pki/prod/"
	cfg.Clients = 3
	cfg.KeyType = "rsa" // ignored: the CSR's key decides
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Mode != "sign" || res.Path != "pki/prod/sign/web" || res.Issued == 0 {
		t.Fatalf("result %+v", res)
	}
	csrs := map[string]bool{}
	for _, r := range f.requests() {
		if r.path != "/v1/pki/prod/sign/web" {
			t.Fatalf("path %s", r.path)
		}
		if _, ok := r.body["key_type"]; ok {
			t.Fatalf("sign request carries key_type: %v", r.body)
		}
		raw, _ := r.body["csr"].(string)
		csrs[raw] = true
		block, _ := pem.Decode([]byte(raw))
		if block == nil || block.Type != "CERTIFICATE REQUEST" {
			t.Fatalf("csr field is not a PEM CSR: %q", raw)
		}
		csr, err := x509.ParseCertificateRequest(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if err := csr.CheckSignature(); err != nil {
			t.Fatal(err)
		}
		pub, ok := csr.PublicKey.(*ecdsa.PublicKey)
		if !ok || pub.Curve != elliptic.P256() {
			t.Fatalf("CSR key %T, want P-256", csr.PublicKey)
		}
		if csr.Subject.CommonName != "bench.example.com" || r.body["common_name"] != "bench.example.com" {
			t.Fatalf("CN %q / common_name %v", csr.Subject.CommonName, r.body["common_name"])
		}
	}
	if len(csrs) != 3 {
		t.Fatalf("%d distinct CSRs, want one per client (3)", len(csrs))
	}
}

func TestRunCountsErrors(t *testing.T) {
	t.Parallel()
	_, srv := newFakePKI(t, func(n int) (int, string) {
		if n > 0 && n%2 == 0 {
			return 400, `{"errors":["common name evil.example.com not allowed by this role"]}`
		}
		return 200, issueAnswer
	})
	res, err := Run(context.Background(), quickConfig(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors == 0 || res.Issued == 0 {
		t.Fatalf("issued %d, errors %d", res.Issued, res.Errors)
	}
	want := "400 Bad Request: common name evil.example.com not allowed by this role"
	if len(res.Samples) != 1 || res.Samples[0] != want {
		t.Fatalf("samples %q, want [%q]", res.Samples, want)
	}
}

func TestRunRefusesBadSetup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		answer  func(int) (int, string)
		cfg     func(Config) Config
		wantErr string
	}{
		{
			name:    "permission denied",
			answer:  func(int) (int, string) { return 403, `{"errors":["permission denied"]}` },
			wantErr: "first issue request failed: 403 Forbidden: permission denied",
		},
		{
			name:    "unknown role",
			answer:  func(int) (int, string) { return 400, `{"errors":["unknown role: web"]}` },
			wantErr: "400 Bad Request: unknown role: web",
		},
		{
			name:    "not JSON",
			answer:  func(int) (int, string) { return 502, "bad gateway" },
			wantErr: "502 Bad Gateway: bad gateway",
		},
		{
			name:    "no certificate",
			answer:  func(int) (int, string) { return 200, `{"data":{}}` },
			wantErr: "200 without a certificate",
		},
		{
			name:    "no role",
			cfg:     func(c Config) Config { c.Role = ""; return c },
			wantErr: "role are required",
		},
		{
			name:    "bad address",
			cfg:     func(c Config) Config { c.Addr = "127.0.0.1:8200"; return c },
			wantErr: "bad server address",
		},
		{
			name:    "server pid not readable",
			cfg:     func(c Config) Config { c.ServerPID = 1 << 30; return c },
			wantErr: "server CPU",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, srv := newFakePKI(t, tc.answer)
			cfg := quickConfig(srv.URL)
			cfg.Duration, cfg.Warmup = 50*time.Millisecond, 0
			if tc.cfg != nil {
				cfg = tc.cfg(cfg)
			}
			_, err := Run(context.Background(), cfg)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Run error = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	t.Parallel()
	_, srv := newFakePKI(t, nil)
	cfg := quickConfig(srv.URL)
	cfg.Duration = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err := Run(ctx, cfg)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
}

// TestRunServerCPU gives Run a fake /proc whose server process burns one
// clock tick per request, and checks the per-certificate arithmetic.
func TestRunServerCPU(t *testing.T) {
	t.Parallel()
	procfs := t.TempDir()
	const pid = 4242
	if err := os.MkdirAll(filepath.Join(procfs, "4242"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeAtomic(t, filepath.Join(procfs, "loadavg"), "0.52 0.40 0.31 2/345 6789\n")
	var mu sync.Mutex
	ticks := 0
	writeStat := func() {
		mu.Lock()
		defer mu.Unlock()
		ticks++
		writeAtomic(t, filepath.Join(procfs, "4242", "stat"), statLine("pkid server", ticks, 0))
	}
	writeStat()
	f, srv := newFakePKI(t, nil)
	f.onReq = writeStat

	cfg := quickConfig(srv.URL)
	cfg.ServerPID, cfg.ProcFS = pid, procfs
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.LoadFrom.String() != "0.52 0.40 0.31" || res.LoadTo.String() != "0.52 0.40 0.31" {
		t.Errorf("load %v → %v", res.LoadFrom, res.LoadTo)
	}
	s := res.Server
	if s == nil || s.PID != pid {
		t.Fatalf("server usage %+v", s)
	}
	// One tick (10 ms) per request; the window's edges fall between
	// requests, so allow for the clients in flight at each edge.
	if s.CPU <= 0 || s.CPU%(10*time.Millisecond) != 0 {
		t.Fatalf("server CPU %v, want a positive multiple of 10ms", s.CPU)
	}
	if s.PerCert != s.CPU/time.Duration(res.Issued) {
		t.Fatalf("per cert %v, want %v / %d", s.PerCert, s.CPU, res.Issued)
	}
	if res.Client != nil {
		t.Errorf("client usage %+v from a fake /proc without this process", res.Client)
	}
}

func writeAtomic(t *testing.T, path, content string) {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Error(err)
		return
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Error(err)
	}
}

// statLine is a /proc/<pid>/stat line with the given command and CPU ticks.
func statLine(comm string, utime, stime int) string {
	return fmt.Sprintf("4242 (%s) S 1 4242 4242 0 -1 4194560 100 0 0 0 %d %d 0 0 20 0 8 0 1234 100000 500 18446744073709551615\n", comm, utime, stime)
}

func TestParseStatCPU(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		line    string
		want    time.Duration
		wantErr bool
	}{
		{"plain", statLine("pkid", 150, 50), 2 * time.Second, false},
		{"spaces and parens in the name", statLine("my (odd) proc) x", 3, 1), 40 * time.Millisecond, false},
		{"zero", statLine("idle", 0, 0), 0, false},
		{"no name", "4242 S 1 2 3", 0, true},
		{"truncated", "4242 (pkid) S 1 4242 4242 0 -1 4194560 100 0 0 0 15", 0, true},
		{"not a number", strings.Replace(statLine("pkid", 1, 1), " 1 1 0 0 20", " x 1 0 0 20", 1), 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseStatCPU([]byte(tc.line))
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("parseStatCPU = %v, %v; want %v, err=%v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestReadProcessCPUOfThisProcess(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc here")
	}
	if _, err := ReadProcessCPU("/proc", os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadLoadAvg("/proc"); err != nil {
		t.Fatal(err)
	}
}

func TestReadLoadAvgErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, content := range map[string]string{"short": "0.1 0.2\n", "junk": "a b c d e\n"} {
		sub := filepath.Join(dir, name)
		os.Mkdir(sub, 0o755)
		os.WriteFile(filepath.Join(sub, "loadavg"), []byte(content), 0o644)
		if _, err := ReadLoadAvg(sub); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestPercentiles(t *testing.T) {
	t.Parallel()
	ms := func(vals ...int) []time.Duration {
		out := make([]time.Duration, len(vals))
		for i, v := range vals {
			out[i] = time.Duration(v) * time.Millisecond
		}
		return out
	}
	upTo := func(n int) []time.Duration {
		out := make([]time.Duration, n)
		for i := range out {
			out[n-1-i] = time.Duration(i+1) * time.Millisecond // reversed: percentiles must sort
		}
		return out
	}
	tests := []struct {
		name string
		in   []time.Duration
		want Latency
	}{
		{"empty", nil, Latency{}},
		{"one", ms(7), Latency{7 * time.Millisecond, 7 * time.Millisecond, 7 * time.Millisecond, 7 * time.Millisecond}},
		{"ten", upTo(10), Latency{5 * time.Millisecond, 9 * time.Millisecond, 10 * time.Millisecond, 10 * time.Millisecond}},
		{"hundred", upTo(100), Latency{50 * time.Millisecond, 90 * time.Millisecond, 99 * time.Millisecond, 100 * time.Millisecond}},
		{"thousand", upTo(1000), Latency{500 * time.Millisecond, 900 * time.Millisecond, 990 * time.Millisecond, 1000 * time.Millisecond}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := percentiles(tc.in); got != tc.want {
				t.Fatalf("percentiles = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestExpandName(t *testing.T) {
	t.Parallel()
	tests := []struct{ pattern, want string }{
		{"bench.example.com", "bench.example.com"},
		{"host-{n}.example.com", "host-17.example.com"},
		{"c{client}-{n}.svc", "c3-17.svc"},
	}
	for _, tc := range tests {
		if got := expandName(tc.pattern, 3, 17); got != tc.want {
			t.Errorf("expandName(%q) = %q, want %q", tc.pattern, got, tc.want)
		}
	}
}
