// Package pkidtest runs a pkid server in-process for Go tests, the way
// net/http/httptest runs an HTTP server: a real Vault-compatible PKI
// endpoint on a loopback port, with its data in the test's temp folder.
//
//	srv := pkidtest.Start(t)
//	client := srv.Client(t) // a github.com/hashicorp/vault/api client, root token
package pkidtest

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/pkid-dev/pkid/api"
	"github.com/pkid-dev/pkid/clock"
	"github.com/pkid-dev/pkid/storage"
)

// Server is a running in-process pkid.
type Server struct {
	URL   string // http://127.0.0.1:port
	Token string // the root token
	API   *api.Server
	Store *storage.Store
	HTTP  *httptest.Server
}

// Options change how Start builds the server. The zero value is a real
// clock and crypto/rand.
type Options struct {
	Clock   clock.Clock
	Rand    io.Reader
	Logger  *slog.Logger
	DataDir string // default: a fresh t.TempDir()
	// Version is the Vault version reported; empty means api's default.
	Version string
	// DefaultLeaseTTL and MaxLeaseTTL are the system TTLs (zero: 768h).
	DefaultLeaseTTL, MaxLeaseTTL time.Duration
	// MaxRequestSize limits request bodies (zero: 32 MiB).
	MaxRequestSize int64
	// TestDouble turns on sys/pkid/clock and sys/pkid/faults.
	TestDouble bool
	// PeriodicInterval is how often auto-tidy and CRL auto-rebuild run
	// (zero: 5 s; negative: never).
	PeriodicInterval time.Duration
}

// RootToken is the root token of every pkidtest server.
const RootToken = "root"

// Start runs a server until the test ends.
func Start(t testing.TB, opts ...Options) *Server {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	dir := o.DataDir
	if dir == "" {
		dir = t.TempDir()
	}
	store, err := storage.Open(filepath.Join(dir, "pkid.db"), storage.Options{NoSync: true})
	if err != nil {
		t.Fatalf("pkidtest: open store: %v", err)
	}
	srv, err := api.New(api.Config{
		Store: store, Clock: o.Clock, Rand: o.Rand, Logger: o.Logger, Version: o.Version,
		DefaultLeaseTTL: o.DefaultLeaseTTL, MaxLeaseTTL: o.MaxLeaseTTL, MaxRequestSize: o.MaxRequestSize,
		TestDouble: o.TestDouble, PeriodicInterval: o.PeriodicInterval,
	})
	if err != nil {
		store.Close()
		t.Fatalf("pkidtest: new server: %v", err)
	}
	if _, err := srv.InitRootToken(RootToken); err != nil {
		t.Fatalf("pkidtest: root token: %v", err)
	}
	hs := httptest.NewServer(srv)
	s := &Server{URL: hs.URL, Token: RootToken, API: srv, Store: store, HTTP: hs}
	t.Cleanup(func() {
		hs.Close()
		srv.Close()
		if err := store.Check(); err != nil {
			t.Errorf("pkidtest: storage consistency: %v", err)
		}
		store.Close()
	})
	return s
}

// Client returns a vault/api client for the server with the root token.
func (s *Server) Client(t testing.TB) *vault.Client {
	t.Helper()
	cfg := vault.DefaultConfig()
	cfg.Address = s.URL
	cfg.MaxRetries = 0
	c, err := vault.NewClient(cfg)
	if err != nil {
		t.Fatalf("pkidtest: vault client: %v", err)
	}
	c.SetToken(s.Token)
	return c
}

// EnablePKI mounts a pki engine at path with the given max lease TTL
// (zero: the system's), as `vault secrets enable` and `secrets tune` do.
func (s *Server) EnablePKI(t testing.TB, path string, maxTTL time.Duration) {
	t.Helper()
	c := s.Client(t)
	in := &vault.MountInput{Type: "pki"}
	if maxTTL > 0 {
		in.Config.MaxLeaseTTL = maxTTL.String()
	}
	if err := c.Sys().MountWithContext(context.Background(), path, in); err != nil {
		t.Fatalf("pkidtest: enable pki at %s: %v", path, err)
	}
}
