// Package pkidtest runs a pkid server in-process for Go tests, the way
// net/http/httptest runs an HTTP server: a real Vault-compatible PKI
// endpoint on a loopback port, with its data in the test's temp folder.
//
//	srv := pkidtest.Start(t)
//	client := srv.Client(t) // a github.com/hashicorp/vault/api client, root token
package pkidtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/pkid-dev/pkid/api"
	"github.com/pkid-dev/pkid/clock"
	"github.com/pkid-dev/pkid/seal"
	"github.com/pkid-dev/pkid/seed"
	"github.com/pkid-dev/pkid/storage"
)

// Server is a running in-process pkid.
type Server struct {
	URL   string // http://127.0.0.1:port
	Token string // the root token
	API   *api.Server
	Store *storage.Store
	HTTP  *httptest.Server

	tmp  string        // the temporary data folder New made, removed by Close
	root *vault.Client // Write's client, made once
}

// Options change how Start builds the server. The zero value is a real
// clock and crypto/rand.
type Options struct {
	Clock   clock.Clock
	Rand    io.Reader
	Logger  *slog.Logger
	DataDir string // default: a fresh t.TempDir()
	// InMemory keeps every record in memory: no file at all, nothing left
	// behind, and a faster Start. DataDir is then ignored.
	InMemory bool
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
	// Seed, when not 0, puts the server in seed mode: keys, serials and
	// ids derived from it and ECDSA signatures deterministic, with the
	// clock stopped at SeedTime (zero: the start of today, UTC), so that
	// the same requests give byte-identical certificates. Clock, when set,
	// replaces the stopped clock; Rand is ignored. Move the time with
	// TestDouble and Server.Clock.
	Seed     uint64
	SeedTime time.Time
	// SealPassphrase, when set, seals CA private keys at rest as `pkid
	// server -seal-passphrase-file` does, but with seal.TestParams: cheap
	// argon2id, which suits test data and nothing else. Reopening a
	// DataDir sealed with another passphrase fails.
	SealPassphrase string
	// StorageFault, when set, is asked before every write of the store
	// and fails it with the error it returns (a full disk, say:
	// syscall.ENOSPC); reads pass through. See storage.WithFaults.
	StorageFault storage.Fault
}

// RootToken is the root token of every pkidtest server.
const RootToken = "root"

// Start runs a server until the test ends. Its data is in t.TempDir()
// (or in memory, or in Options.DataDir), and when the test ends the server
// stops and a bbolt store must pass its consistency check.
func Start(t testing.TB, opts ...Options) *Server {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.DataDir == "" && !o.InMemory {
		o.DataDir = t.TempDir()
	}
	s, err := New(o)
	if err != nil {
		t.Fatalf("pkidtest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("pkidtest: %v", err)
		}
	})
	return s
}

// New runs a server outside a test (an example, a dev tool); Close stops
// it. With neither DataDir nor InMemory, its data is in a new temporary
// folder that Close removes.
func New(o Options) (*Server, error) {
	var tmp string
	if o.DataDir == "" && !o.InMemory {
		dir, err := os.MkdirTemp("", "pkidtest-")
		if err != nil {
			return nil, fmt.Errorf("temp folder: %w", err)
		}
		o.DataDir, tmp = dir, dir
	}
	store, err := openStore(o)
	if err != nil {
		return nil, errors.Join(err, removeAll(tmp))
	}
	srv, err := api.New(o.apiConfig(store))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("new server: %w", err), store.Close(), removeAll(tmp))
	}
	if _, err := srv.InitRootToken(RootToken); err != nil {
		srv.Close()
		return nil, errors.Join(fmt.Errorf("root token: %w", err), store.Close(), removeAll(tmp))
	}
	hs := httptest.NewServer(srv)
	s := &Server{URL: hs.URL, Token: RootToken, API: srv, Store: store, HTTP: hs, tmp: tmp}
	if s.root, err = s.NewClient(); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	return s, nil
}

func (o Options) apiConfig(store *storage.Store) api.Config {
	cfg := api.Config{
		Store: store, Clock: o.Clock, Rand: o.Rand, Logger: o.Logger, Version: o.Version,
		DefaultLeaseTTL: o.DefaultLeaseTTL, MaxLeaseTTL: o.MaxLeaseTTL, MaxRequestSize: o.MaxRequestSize,
		TestDouble: o.TestDouble, PeriodicInterval: o.PeriodicInterval,
	}
	if o.Seed != 0 {
		cfg.Seed, cfg.Rand = seed.New(o.Seed), nil
		if cfg.Clock == nil {
			at := o.SeedTime
			if at.IsZero() {
				at = seed.StartTime(time.Now())
			}
			cfg.Clock = clock.NewFake(at)
		}
	}
	return cfg
}

// Close stops the server, checks a bbolt store's consistency and closes
// it. It reports the first problem found.
func (s *Server) Close() error {
	s.HTTP.Close()
	s.API.Close()
	check := s.Store.Check()
	if check != nil {
		check = fmt.Errorf("storage consistency: %w", check)
	}
	return errors.Join(check, s.Store.Close(), removeAll(s.tmp))
}

func removeAll(dir string) error {
	if dir == "" {
		return nil
	}
	return os.RemoveAll(dir)
}

// openStore opens the server's store: in memory, or a bbolt file in
// DataDir.
func openStore(o Options) (*storage.Store, error) {
	path := ""
	var eng storage.Engine
	if o.InMemory {
		eng = storage.OpenMemoryEngine()
	} else {
		path = filepath.Join(o.DataDir, "pkid.db")
		var err error
		if eng, err = storage.OpenEngine(path, storage.Options{NoSync: true}); err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
	}
	if o.SealPassphrase == "" {
		sealed, err := seal.Sealed(eng)
		if err == nil && sealed {
			err = fmt.Errorf("%w: %s (set Options.SealPassphrase)", seal.ErrSealed, path)
		}
		if err != nil {
			return nil, errors.Join(err, eng.Close())
		}
		return storage.NewStore(o.withFault(eng), path), nil
	}
	secret, err := seal.Passphrase([]byte(o.SealPassphrase))
	if err == nil {
		var se *seal.Engine
		if se, err = seal.Open(eng, secret, seal.Options{Params: seal.TestParams, Name: path}); err == nil {
			return storage.NewStore(o.withFault(se), path), nil
		}
	}
	return nil, errors.Join(err, eng.Close())
}

// Client returns a vault/api client for the server with the root token.
func (s *Server) Client(t testing.TB) *vault.Client {
	t.Helper()
	c, err := s.NewClient()
	if err != nil {
		t.Fatalf("pkidtest: %v", err)
	}
	return c
}

// NewClient is Client outside a test: a vault/api client with the root
// token and no retries.
func (s *Server) NewClient() (*vault.Client, error) {
	cfg := vault.DefaultConfig()
	cfg.Address = s.URL
	cfg.MaxRetries = 0
	c, err := vault.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("vault client: %w", err)
	}
	c.SetToken(s.Token)
	return c, nil
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

func (o Options) withFault(e storage.Engine) storage.Engine {
	if o.StorageFault == nil {
		return e
	}
	return storage.WithFaults(e, o.StorageFault)
}
