// Package loadtest drives certificate issuance against any server that
// speaks Vault's PKI HTTP API (pkid, Vault, OpenBao) and measures it: N
// clients issue (or sign) as fast as the server answers for a duration, and
// the run reports certificates per second, latency percentiles, errors, and,
// when the server runs on this machine, its CPU time per certificate.
//
// Only the HTTP API is used, with the headers the Vault clients send, so the
// numbers compare like with like across servers.
package loadtest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config describes one run. Zero values are the documented defaults.
type Config struct {
	// Addr is the server's base URL, e.g. http://127.0.0.1:8200. Required.
	Addr string
	// Token is sent as X-Vault-Token.
	Token string
	// Mount is the PKI mount path. Empty means "pki_int".
	Mount string
	// Role is the role to issue or sign against. Required.
	Role string
	// CommonName is the common_name of each request. "{n}" is replaced by
	// the request's sequence number and "{client}" by the client's index, so
	// that "host-{n}.example.com" asks for a new name each time. Empty means
	// "bench.example.com".
	CommonName string
	// TTL is sent as ttl when not empty.
	TTL string
	// KeyType and KeyBits are sent when set, for roles with key_type any.
	KeyType string
	KeyBits int
	// Params are extra body fields, sent as strings as the vault CLI does.
	Params map[string]string
	// Sign selects sign mode: each client sends a P-256 CSR made before the
	// run (its CN from CommonName with {n} = {client} = the client index)
	// to sign/<role> instead of calling issue/<role>.
	Sign bool
	// Clients is the number of concurrent clients. Zero means 1.
	Clients int
	// Duration is the measured window. Zero means 10s.
	Duration time.Duration
	// Warmup runs before the window; its requests are not counted.
	Warmup time.Duration
	// ServerPID, when not zero, names the server process on this machine
	// whose CPU time (from /proc) is reported per certificate.
	ServerPID int
	// ProcFS is where /proc is mounted. Empty means "/proc".
	ProcFS string
	// HTTPClient overrides the HTTP client (tests, custom TLS). Nil means a
	// client with keep-alive connections for every worker.
	HTTPClient *http.Client
	// TLS configures the default client: a CA bundle, or no verification.
	CACertFile string
	Insecure   bool
}

// Result is what a run measured.
type Result struct {
	Mode     string // "issue" or "sign"
	Path     string // the request path, e.g. pki_int/issue/web
	Clients  int
	Window   time.Duration // the measured window's real length
	Issued   int           // successful answers completed in the window
	Rate     float64       // Issued per second of Window
	Latency  Latency       // over the successful answers in the window
	Errors   int           // failed requests in the window
	Samples  []string      // the first distinct error messages
	LoadFrom LoadAvg       // host load average when the window opened
	LoadTo   LoadAvg       // and when it closed
	// Server is the server process's CPU time over the window; set only
	// when Config.ServerPID was given and readable.
	Server *CPUUsage
	// Client is this process's own CPU time over the window, to show how
	// much of the machine the load generator itself took.
	Client *CPUUsage
}

// Latency holds percentiles by the nearest-rank method.
type Latency struct {
	P50, P90, P99, Max time.Duration
}

// CPUUsage is a process's CPU time over the window.
type CPUUsage struct {
	PID     int
	CPU     time.Duration // user + system
	PerCert time.Duration // CPU / Issued; 0 when nothing was issued
}

// maxSamples bounds the distinct error messages kept.
const maxSamples = 5

// Run performs one load run. It first sends one request to check the
// configuration (a wrong role or token fails here, not as a run of errors).
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg = withDefaults(cfg)
	if cfg.Addr == "" || cfg.Role == "" {
		return nil, errors.New("loadtest: the server address and the role are required")
	}
	client, err := httpClient(cfg)
	if err != nil {
		return nil, err
	}
	reqs, err := newRequester(cfg, client)
	if err != nil {
		return nil, err
	}
	if err := reqs.do(ctx, 0, 0); err != nil {
		return nil, fmt.Errorf("loadtest: first %s request failed: %w", reqs.mode, err)
	}
	return run(ctx, cfg, reqs)
}

func withDefaults(cfg Config) Config {
	if cfg.Mount == "" {
		cfg.Mount = "pki_int"
	}
	cfg.Mount = strings.Trim(cfg.Mount, "/")
	if cfg.CommonName == "" {
		cfg.CommonName = "bench.example.com"
	}
	if cfg.Clients <= 0 {
		cfg.Clients = 1
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 10 * time.Second
	}
	if cfg.ProcFS == "" {
		cfg.ProcFS = "/proc"
	}
	return cfg
}

func httpClient(cfg Config) (*http.Client, error) {
	if cfg.HTTPClient != nil {
		return cfg.HTTPClient, nil
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// One idle connection per worker: the default of 2 per host would make
	// most requests open a fresh connection and measure TCP setup instead.
	tr.MaxIdleConns = cfg.Clients * 2
	tr.MaxIdleConnsPerHost = cfg.Clients
	if cfg.Insecure || cfg.CACertFile != "" {
		tlsCfg := &tls.Config{InsecureSkipVerify: cfg.Insecure} //nolint:gosec // asked for by -insecure
		if cfg.CACertFile != "" {
			pem, err := os.ReadFile(cfg.CACertFile)
			if err != nil {
				return nil, fmt.Errorf("loadtest: CA bundle: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("loadtest: no certificates in %s", cfg.CACertFile)
			}
			tlsCfg.RootCAs = pool
		}
		tr.TLSClientConfig = tlsCfg
	}
	return &http.Client{Transport: tr, Timeout: time.Minute}, nil
}

// run drives the workers, samples CPU and load at the window's edges, and
// gathers what the workers saw.
func run(ctx context.Context, cfg Config, reqs *requester) (*Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	winFrom, winTo := start.Add(cfg.Warmup), start.Add(cfg.Warmup+cfg.Duration)

	tallies := make([]tally, cfg.Clients)
	var wg sync.WaitGroup
	for i := range tallies {
		wg.Go(func() { tallies[i] = work(ctx, reqs, i, cfg.Clients, winFrom, winTo) })
	}
	before, err := sampleAt(ctx, winFrom, cfg)
	if err != nil {
		return nil, err
	}
	after, err := sampleAt(ctx, winTo, cfg)
	if err != nil {
		return nil, err
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return summarize(cfg, reqs, tallies, before, after), nil
}

// tally is one worker's record of the window.
type tally struct {
	latencies []time.Duration
	errors    int
	samples   []string
}

func work(ctx context.Context, reqs *requester, client, clients int, winFrom, winTo time.Time) tally {
	var t tally
	for seq := client; ctx.Err() == nil; seq += clients {
		begin := time.Now()
		if !begin.Before(winTo) {
			return t
		}
		err := reqs.do(ctx, client, seq)
		end := time.Now()
		if end.Before(winFrom) || end.After(winTo) || ctx.Err() != nil {
			continue
		}
		if err != nil {
			t.errors++
			if len(t.samples) < maxSamples && !slices.Contains(t.samples, err.Error()) {
				t.samples = append(t.samples, err.Error())
			}
			continue
		}
		t.latencies = append(t.latencies, end.Sub(begin))
	}
	return t
}

// sample is the state of the machine at one edge of the window.
type sample struct {
	at     time.Time
	load   LoadAvg
	server *time.Duration
	self   *time.Duration
}

func sampleAt(ctx context.Context, at time.Time, cfg Config) (sample, error) {
	timer := time.NewTimer(time.Until(at))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return sample{}, ctx.Err()
	case <-timer.C:
	}
	s := sample{at: time.Now()}
	s.load, _ = ReadLoadAvg(cfg.ProcFS) // best effort: absent on non-Linux
	if cfg.ServerPID > 0 {
		cpu, err := ReadProcessCPU(cfg.ProcFS, cfg.ServerPID)
		if err != nil {
			return sample{}, fmt.Errorf("loadtest: server CPU: %w", err)
		}
		s.server = &cpu
	}
	if cpu, err := ReadProcessCPU(cfg.ProcFS, os.Getpid()); err == nil {
		s.self = &cpu
	}
	return s, nil
}

func summarize(cfg Config, reqs *requester, tallies []tally, before, after sample) *Result {
	r := &Result{
		Mode: reqs.mode, Path: reqs.path, Clients: cfg.Clients,
		Window: after.at.Sub(before.at), LoadFrom: before.load, LoadTo: after.load,
	}
	var lats []time.Duration
	for _, t := range tallies {
		lats = append(lats, t.latencies...)
		r.Errors += t.errors
		for _, s := range t.samples {
			if len(r.Samples) < maxSamples && !slices.Contains(r.Samples, s) {
				r.Samples = append(r.Samples, s)
			}
		}
	}
	r.Issued = len(lats)
	if r.Window > 0 {
		r.Rate = float64(r.Issued) / r.Window.Seconds()
	}
	r.Latency = percentiles(lats)
	r.Server = usage(cfg.ServerPID, before.server, after.server, r.Issued)
	r.Client = usage(os.Getpid(), before.self, after.self, r.Issued)
	return r
}

func usage(pid int, before, after *time.Duration, issued int) *CPUUsage {
	if before == nil || after == nil {
		return nil
	}
	u := &CPUUsage{PID: pid, CPU: *after - *before}
	if issued > 0 {
		u.PerCert = u.CPU / time.Duration(issued)
	}
	return u
}

// percentiles uses the nearest-rank method: the p-th percentile is the
// smallest sample with at least p% of the samples at or below it.
func percentiles(lats []time.Duration) Latency {
	if len(lats) == 0 {
		return Latency{}
	}
	slices.Sort(lats)
	rank := func(p int) time.Duration {
		i := (p*len(lats) + 99) / 100 // ceil(p/100 * n)
		return lats[max(i, 1)-1]
	}
	return Latency{P50: rank(50), P90: rank(90), P99: rank(99), Max: lats[len(lats)-1]}
}

// requester sends one issue or sign request with a prepared body template.
type requester struct {
	client *http.Client
	url    string
	path   string
	mode   string
	token  string
	cfg    Config
	csrs   []string // sign mode: one PEM CSR per client
}

func newRequester(cfg Config, client *http.Client) (*requester, error) {
	base, err := url.Parse(strings.TrimRight(cfg.Addr, "/"))
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, fmt.Errorf("loadtest: bad server address %q", cfg.Addr)
	}
	mode := "issue"
	if cfg.Sign {
		mode = "sign"
	}
	path := cfg.Mount + "/" + mode + "/" + cfg.Role
	r := &requester{client: client, url: base.String() + "/v1/" + path, path: path, mode: mode, token: cfg.Token, cfg: cfg}
	if cfg.Sign {
		if r.csrs, err = makeCSRs(cfg.CommonName, cfg.Clients); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func (r *requester) body(client, seq int) ([]byte, error) {
	b := make(map[string]string, 6+len(r.cfg.Params))
	for k, v := range r.cfg.Params {
		b[k] = v
	}
	b["common_name"] = expandName(r.cfg.CommonName, client, seq)
	if r.cfg.TTL != "" {
		b["ttl"] = r.cfg.TTL
	}
	if r.csrs != nil {
		b["csr"] = r.csrs[client%len(r.csrs)]
	} else {
		if r.cfg.KeyType != "" {
			b["key_type"] = r.cfg.KeyType
		}
		if r.cfg.KeyBits != 0 {
			b["key_bits"] = strconv.Itoa(r.cfg.KeyBits)
		}
	}
	return json.Marshal(b)
}

// expandName fills a common-name pattern.
func expandName(pattern string, client, seq int) string {
	return strings.NewReplacer("{n}", strconv.Itoa(seq), "{client}", strconv.Itoa(client)).Replace(pattern)
}

// do sends one request and checks that a certificate came back. Errors say
// what the server said, in the words it used.
func (r *requester) do(ctx context.Context, client, seq int) error {
	body, err := r.body(client, seq)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Vault-Request", "true")
	if r.token != "" {
		req.Header.Set("X-Vault-Token", r.token)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return statusError(resp.StatusCode, raw)
	}
	// A full decode would cost the load generator CPU the server needs on
	// a shared machine; the field's presence is the check that matters.
	if !bytes.Contains(raw, []byte(`"certificate"`)) {
		return errors.New("200 without a certificate in the response")
	}
	return nil
}

func statusError(code int, body []byte) error {
	var env struct {
		Errors []string `json:"errors"`
	}
	msg := strings.TrimSpace(string(body))
	if json.Unmarshal(body, &env) == nil && len(env.Errors) > 0 {
		msg = strings.Join(env.Errors, "; ")
	}
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	return fmt.Errorf("%d %s: %s", code, http.StatusText(code), msg)
}
