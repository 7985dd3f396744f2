// Package agent keeps a certificate and key on disk fresh: it issues from a
// Vault-compatible PKI mount (<mount>/issue/<role>), writes the certificate,
// key and chain atomically, and renews once a set fraction of the lifetime
// has passed, the job the tutorial's Python VaultPKICertManager does.
package agent

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/pkid-dev/pkid/clock"
)

// Config says what to issue and where to put it. Zero values are noted per
// field; New fills the defaults and refuses what cannot work.
type Config struct {
	Address string `json:"address"` // server URL; empty: $VAULT_ADDR or the vault/api default
	// Token authenticates directly. When empty, RoleIDFile and SecretIDFile
	// log in at auth/approle/login instead.
	Token        string `json:"token"`
	RoleIDFile   string `json:"role_id_file"`
	SecretIDFile string `json:"secret_id_file"`

	Mount      string `json:"mount"` // PKI mount path; empty: "pki"
	Role       string `json:"role"`  // required
	CommonName string `json:"common_name"`
	AltNames   string `json:"alt_names"` // comma-separated, sent as Vault's alt_names
	TTL        string `json:"ttl"`       // empty: the role's default

	CertFile  string `json:"cert"`  // required
	KeyFile   string `json:"key"`   // required; written 0600
	ChainFile string `json:"chain"` // empty: no chain file

	// RenewAt is the fraction of the lifetime (NotAfter-NotBefore) after
	// which the certificate is renewed; zero means 0.7. Must be in (0, 1).
	RenewAt float64 `json:"renew_at"`
	// Exec runs through `sh -c` after each successful write; empty: nothing.
	Exec string `json:"exec"`
	// Once issues a single certificate (retrying transient failures up to
	// Attempts times) and returns.
	Once bool `json:"once"`
	// MinBackoff and MaxBackoff bound the retry delay after a failure;
	// zero means 1s and 5m.
	MinBackoff time.Duration `json:"-"`
	MaxBackoff time.Duration `json:"-"`
	// Attempts is how many tries Once makes; zero means 5. The loop never
	// gives up while its context lives.
	Attempts int `json:"attempts"`
}

// Deps are what the agent takes from the world; tests replace them. The zero
// value is the real clock, real timers, math/rand/v2, slog's default logger
// and sh -c.
type Deps struct {
	Clock clock.Clock
	// Sleep waits d or until ctx ends (returning ctx.Err()).
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter returns a number in [0, 1) that spreads retry delays.
	Jitter func() float64
	Logger *slog.Logger
	// Run runs the -exec command.
	Run func(ctx context.Context, command string) error
	// HTTPClient is used by vault/api; nil: its default.
	HTTPClient *http.Client
}

// Agent issues and renews one certificate.
type Agent struct {
	cfg    Config
	deps   Deps
	client *vault.Client
	log    *slog.Logger
}

// New checks cfg and builds an agent.
func New(cfg Config, deps Deps) (*Agent, error) {
	if cfg.Mount == "" {
		cfg.Mount = "pki"
	}
	cfg.Mount = strings.Trim(cfg.Mount, "/")
	if cfg.RenewAt == 0 {
		cfg.RenewAt = 0.7
	}
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff = time.Second
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = 5 * time.Minute
	}
	if cfg.Attempts == 0 {
		cfg.Attempts = 5
	}
	switch {
	case cfg.Role == "":
		return nil, errors.New("agent: role is required")
	case cfg.CertFile == "" || cfg.KeyFile == "":
		return nil, errors.New("agent: cert and key output paths are required")
	case !(cfg.RenewAt > 0 && cfg.RenewAt < 1):
		return nil, fmt.Errorf("agent: renew-at %v must be between 0 and 1", cfg.RenewAt)
	case cfg.MinBackoff < 0 || cfg.MaxBackoff < cfg.MinBackoff:
		return nil, fmt.Errorf("agent: backoff %s..%s is not a range", cfg.MinBackoff, cfg.MaxBackoff)
	case cfg.Attempts < 0:
		return nil, errors.New("agent: attempts cannot be negative")
	case cfg.Token == "" && (cfg.RoleIDFile == "" || cfg.SecretIDFile == ""):
		return nil, errors.New("agent: need a token, or both role-id-file and secret-id-file for AppRole")
	}
	if deps.Clock == nil {
		deps.Clock = clock.Real{}
	}
	if deps.Sleep == nil {
		deps.Sleep = sleep
	}
	if deps.Jitter == nil {
		deps.Jitter = rand.Float64
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Run == nil {
		deps.Run = runShell
	}
	vc := vault.DefaultConfig()
	if vc.Error != nil {
		return nil, fmt.Errorf("agent: vault config: %w", vc.Error)
	}
	if cfg.Address != "" {
		vc.Address = cfg.Address
	}
	// The agent's own backoff decides retries; vault/api's would hide them
	// and retry behind its back.
	vc.MaxRetries = 0
	if deps.HTTPClient != nil {
		vc.HttpClient = deps.HTTPClient
	}
	c, err := vault.NewClient(vc)
	if err != nil {
		return nil, fmt.Errorf("agent: vault client: %w", err)
	}
	c.ClearToken() // never pick up VAULT_TOKEN behind the config's back
	if cfg.Token != "" {
		c.SetToken(cfg.Token)
	}
	return &Agent{cfg: cfg, deps: deps, client: c, log: deps.Logger}, nil
}

// Run issues a certificate and, unless Once, keeps renewing it until ctx
// ends, returning nil then. In Once mode it returns the last error after
// Attempts failed tries, or at once for a permanent error (a 4xx such as a
// role refusing the name).
func (a *Agent) Run(ctx context.Context) error {
	var cert *x509.Certificate // the last one written
	failures := 0
	for {
		c, err := a.Renew(ctx)
		if err == nil {
			failures = 0
			cert = c
			if a.cfg.Once {
				return nil
			}
			next := renewTime(c, a.cfg.RenewAt)
			wait := next.Sub(a.deps.Clock.Now())
			a.log.Info("agent: certificate written", "serial", serial(c),
				"not_after", c.NotAfter.UTC().Format(time.RFC3339), "renew_at", next.UTC().Format(time.RFC3339))
			if err := a.deps.Sleep(ctx, max(wait, 0)); err != nil {
				return nil
			}
			continue
		}
		if ctx.Err() != nil {
			return nil
		}
		failures++
		if a.cfg.Once && (permanent(err) || failures >= a.cfg.Attempts) {
			a.log.Error("agent: giving up", "attempt", failures, "err", err)
			return err
		}
		delay := a.backoff(failures)
		attrs := []any{"attempt", failures, "retry_in", delay.String(), "err", err}
		if cert != nil {
			attrs = append(attrs, "current_not_after", cert.NotAfter.UTC().Format(time.RFC3339))
		}
		a.log.Error("agent: renewal failed", attrs...)
		if err := a.deps.Sleep(ctx, delay); err != nil {
			return nil
		}
	}
}

// Renew issues one certificate, writes the files and runs Exec.
func (a *Agent) Renew(ctx context.Context) (*x509.Certificate, error) {
	b, err := a.issue(ctx)
	if err != nil {
		return nil, err
	}
	if err := b.write(a.cfg); err != nil {
		return nil, err
	}
	if a.cfg.Exec != "" {
		if err := a.deps.Run(ctx, a.cfg.Exec); err != nil {
			// The files are already in place; a failing hook is reported
			// but not retried, or a broken reload would re-issue forever.
			a.log.Error("agent: exec failed", "command", a.cfg.Exec, "err", err)
			if a.cfg.Once {
				return nil, fmt.Errorf("agent: exec %q: %w", a.cfg.Exec, err)
			}
		}
	}
	return b.leaf, nil
}

// backoff is the delay before retry n (1-based): MinBackoff doubling up to
// MaxBackoff, with "equal jitter" (half fixed, half random) so a fleet of
// agents does not hammer a recovering server in step.
func (a *Agent) backoff(n int) time.Duration {
	d := float64(a.cfg.MinBackoff) * math.Pow(2, float64(n-1))
	if d > float64(a.cfg.MaxBackoff) {
		d = float64(a.cfg.MaxBackoff)
	}
	return time.Duration(d/2 + a.deps.Jitter()*d/2)
}

// renewTime is NotBefore + renewAt*(NotAfter-NotBefore).
func renewTime(c *x509.Certificate, renewAt float64) time.Time {
	life := c.NotAfter.Sub(c.NotBefore)
	return c.NotBefore.Add(time.Duration(float64(life) * renewAt))
}

func (a *Agent) login(ctx context.Context) error {
	if a.client.Token() != "" {
		return nil
	}
	roleID, err := readSecret(a.cfg.RoleIDFile)
	if err != nil {
		return err
	}
	secretID, err := readSecret(a.cfg.SecretIDFile)
	if err != nil {
		return err
	}
	s, err := a.client.Logical().WriteWithContext(ctx, "auth/approle/login",
		map[string]any{"role_id": roleID, "secret_id": secretID})
	if err != nil {
		return fmt.Errorf("agent: approle login: %w", brief(err))
	}
	if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
		return errors.New("agent: approle login: no token in the response")
	}
	a.client.SetToken(s.Auth.ClientToken)
	return nil
}

func readSecret(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("agent: %w", err)
	}
	return strings.TrimSpace(string(raw)), nil
}

type bundle struct {
	cert, key, chain []byte
	leaf             *x509.Certificate
}

func (a *Agent) issue(ctx context.Context) (*bundle, error) {
	if a.cfg.Token == "" {
		if err := a.login(ctx); err != nil {
			return nil, err
		}
	}
	body := map[string]any{}
	if a.cfg.CommonName != "" {
		body["common_name"] = a.cfg.CommonName
	}
	if a.cfg.AltNames != "" {
		body["alt_names"] = a.cfg.AltNames
	}
	if a.cfg.TTL != "" {
		body["ttl"] = a.cfg.TTL
	}
	path := a.cfg.Mount + "/issue/" + a.cfg.Role
	s, err := a.client.Logical().WriteWithContext(ctx, path, body)
	if err != nil {
		if a.cfg.Token == "" && statusOf(err) == http.StatusForbidden {
			a.client.ClearToken() // expired or revoked: log in again next time
		}
		return nil, fmt.Errorf("agent: write %s: %w", path, brief(err))
	}
	if s == nil || s.Data == nil {
		return nil, fmt.Errorf("agent: write %s: empty response", path)
	}
	return parseIssue(s.Data)
}

// parseIssue checks the response holds a certificate and its key, so a
// broken server never overwrites good files with garbage.
func parseIssue(data map[string]any) (*bundle, error) {
	str := func(k string) string { v, _ := data[k].(string); return v }
	b := &bundle{cert: []byte(str("certificate")), key: []byte(str("private_key"))}
	blk, _ := pem.Decode(b.cert)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, errors.New("agent: response has no PEM certificate")
	}
	leaf, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("agent: response certificate: %w", err)
	}
	b.leaf = leaf
	if kb, _ := pem.Decode(b.key); kb == nil {
		return nil, errors.New("agent: response has no PEM private key")
	}
	var chain []string
	if raw, ok := data["ca_chain"].([]any); ok {
		for _, c := range raw {
			if s, ok := c.(string); ok && s != "" {
				chain = append(chain, strings.TrimSpace(s))
			}
		}
	}
	if len(chain) == 0 && str("issuing_ca") != "" {
		chain = []string{strings.TrimSpace(str("issuing_ca"))}
	}
	if len(chain) > 0 {
		b.chain = []byte(strings.Join(chain, "\n") + "\n")
	}
	b.cert = ensureNewline(b.cert)
	b.key = ensureNewline(b.key)
	return b, nil
}

func ensureNewline(b []byte) []byte {
	if len(b) > 0 && b[len(b)-1] != '\n' {
		return append(b, '\n')
	}
	return b
}

// write puts the key first, then the certificate, then the chain, each
// atomically, so a reader never sees a half-written file.
func (b *bundle) write(cfg Config) error {
	if err := WriteFileAtomic(cfg.KeyFile, b.key, 0o600); err != nil {
		return err
	}
	if err := WriteFileAtomic(cfg.CertFile, b.cert, 0o644); err != nil {
		return err
	}
	if cfg.ChainFile != "" {
		if err := WriteFileAtomic(cfg.ChainFile, b.chain, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// briefError keeps a vault/api ResponseError reachable by errors.As but
// prints it on one line: status and the server's messages, not the
// multi-line dump with the URL that vault/api makes.
type briefError struct{ re *vault.ResponseError }

func (b briefError) Error() string {
	msg := strings.Join(b.re.Errors, "; ")
	if msg == "" {
		msg = http.StatusText(b.re.StatusCode)
	}
	return fmt.Sprintf("%d %s", b.re.StatusCode, msg)
}

func (b briefError) Unwrap() error { return b.re }

func brief(err error) error {
	var re *vault.ResponseError
	if errors.As(err, &re) {
		return briefError{re}
	}
	return err
}

// statusOf is the HTTP status of a vault/api error, or 0.
func statusOf(err error) int {
	var re *vault.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode
	}
	return 0
}

// permanent says retrying will not help: the server answered with a client
// error other than 429 (rate limited) or 412 (Vault's "not yet replicated").
func permanent(err error) bool {
	s := statusOf(err)
	return s >= 400 && s < 500 && s != http.StatusTooManyRequests && s != http.StatusPreconditionFailed
}

func serial(c *x509.Certificate) string {
	h := fmt.Sprintf("%x", c.SerialNumber)
	var sb strings.Builder
	for i := 0; i < len(h); i++ {
		if i > 0 && (len(h)-i)%2 == 0 {
			sb.WriteByte(':')
		}
		sb.WriteByte(h[i])
	}
	return sb.String()
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func runShell(ctx context.Context, command string) error {
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}

// fileConfig is Config as a JSON file spells it: durations as Go strings.
type fileConfig struct {
	Config
	MinBackoff string `json:"min_backoff"`
	MaxBackoff string `json:"max_backoff"`
}

// LoadConfigFile reads a JSON config file into cfg, leaving fields the file
// does not mention as they are. Keys are Config's json names, durations are
// strings such as "30s".
func LoadConfigFile(path string, cfg *Config) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("agent: config: %w", err)
	}
	fc := fileConfig{Config: *cfg}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fc); err != nil && err != io.EOF {
		return fmt.Errorf("agent: config %s: %w", path, err)
	}
	for _, d := range []struct {
		s   string
		dst *time.Duration
	}{{fc.MinBackoff, &fc.Config.MinBackoff}, {fc.MaxBackoff, &fc.Config.MaxBackoff}} {
		if d.s == "" {
			continue
		}
		v, err := time.ParseDuration(d.s)
		if err != nil {
			return fmt.Errorf("agent: config %s: %w", path, err)
		}
		*d.dst = v
	}
	*cfg = fc.Config
	return nil
}
