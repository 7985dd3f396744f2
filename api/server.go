// Package api is pkid's HTTP face: it speaks Vault's HTTP API (spec §1),
// routes requests to the sys endpoints, the token store and the PKI mounts,
// and renders Vault's envelope and errors.
package api

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/pkid-dev/pkid/api/token"
	"github.com/pkid-dev/pkid/ca"
	"github.com/pkid-dev/pkid/clock"
	"github.com/pkid-dev/pkid/randid"
	"github.com/pkid-dev/pkid/seed"
	"github.com/pkid-dev/pkid/storage"
)

// Config is what a Server is built from. Zero values have the documented
// defaults.
type Config struct {
	// Store is the open database; the Server does not close it.
	Store *storage.Store
	// Clock tells the time; zero means the real clock.
	Clock clock.Clock
	// Rand is the random source; nil means crypto/rand.Reader.
	Rand io.Reader
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
	// Version is the Vault version pkid reports in sys/health and
	// sys/seal-status, so clients such as terraform take their modern paths.
	// Empty means DefaultVaultVersion.
	Version string
	// DefaultLeaseTTL and MaxLeaseTTL are the system TTLs (Vault's
	// default_lease_ttl / max_lease_ttl); zero means 768h each.
	DefaultLeaseTTL, MaxLeaseTTL time.Duration
	// MaxRequestSize limits request bodies; zero means 32 MiB as in Vault.
	MaxRequestSize int64
	// ClusterName is reported by sys/health; empty means a generated name.
	ClusterName string
	// PeriodicInterval is how often mounts' time-driven work runs
	// (auto-tidy, CRL auto-rebuild); zero means 5 seconds, negative means
	// never (tests that call RunPeriodic themselves).
	PeriodicInterval time.Duration
	// Leader, when set, gates the periodic work: it runs only while Leader
	// reports true. Replicas sharing one store (storage/etcdstore) elect
	// one, so a tidy or CRL auto-rebuild runs once for the cluster, not
	// once per replica. Nil means this server always runs it.
	Leader func() bool
	// TestDouble turns on the sys/pkid/ endpoints Vault lacks: a movable
	// clock (sys/pkid/clock) and injected faults (sys/pkid/faults/:name).
	TestDouble bool
	// Seed, when set, makes the server repeatable (seed mode, for test
	// doubles only): Rand, request ids and generated keys are drawn from
	// its streams and ECDSA signatures are deterministic, so the same
	// requests give the same bytes. Pair it with a clock that stands still
	// (clock.Fake): certificates carry the time.
	Seed *seed.Source
}

// DefaultVaultVersion is the Vault version pkid reports unless configured.
const DefaultVaultVersion = "1.18.0"

const (
	defaultSystemTTL      = 768 * time.Hour
	defaultMaxRequestSize = 32 << 20
)

// Server is a running pkid API.
type Server struct {
	cfg    Config
	clock  clock.Clock
	rand   io.Reader
	reqIDs io.Reader   // the random source of request ids
	keys   ca.KeyMaker // nil: the standard library's
	log    *slog.Logger
	sys    *storage.Space
	tokens *token.Store
	sec    *security   // ACL policies and audit devices (security.go)
	td     *testDouble // nil unless Config.TestDouble

	clusterID   string
	clusterName string

	mu     sync.RWMutex
	mounts map[string]*mount // by path with trailing slash: "pki/"

	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

// New builds a Server over an open store and loads its mount table.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("api: a store is required")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	reqIDs, keys := cfg.Rand, ca.KeyMaker(nil)
	if cfg.Seed != nil {
		// Separate streams, so that a client polling sys/health until the
		// server is up does not shift the draws of ids and serials.
		if cfg.Rand == nil {
			cfg.Rand = cfg.Seed.Stream("state")
		}
		reqIDs = cfg.Seed.Stream("request-ids")
		keys = ca.SeededKeys(cfg.Seed.Stream("keys"))
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if reqIDs == nil {
		reqIDs = cfg.Rand
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Version == "" {
		cfg.Version = DefaultVaultVersion
	}
	if cfg.DefaultLeaseTTL == 0 {
		cfg.DefaultLeaseTTL = defaultSystemTTL
	}
	if cfg.MaxLeaseTTL == 0 {
		cfg.MaxLeaseTTL = defaultSystemTTL
	}
	if cfg.MaxRequestSize == 0 {
		cfg.MaxRequestSize = defaultMaxRequestSize
	}
	if cfg.PeriodicInterval == 0 {
		cfg.PeriodicInterval = 5 * time.Second
	}
	s := &Server{
		cfg:    cfg,
		clock:  cfg.Clock,
		rand:   cfg.Rand,
		reqIDs: reqIDs,
		keys:   keys,
		log:    cfg.Logger,
		sys:    cfg.Store.Space("sys"),
		mounts: map[string]*mount{},
		stop:   make(chan struct{}),
	}
	if cfg.TestDouble {
		off := clock.NewOffset(cfg.Clock)
		s.td = &testDouble{clock: off, faults: map[string]*fault{}}
		s.clock = off
	}
	s.tokens = token.NewStore(s.sys, s.clock, s.rand, cfg.DefaultLeaseTTL, cfg.MaxLeaseTTL)
	if err := s.initSecurity(); err != nil {
		return nil, err
	}
	if err := s.loadIdentity(); err != nil {
		return nil, err
	}
	if cfg.ClusterName != "" {
		s.clusterName = cfg.ClusterName
	}
	if err := s.loadMounts(); err != nil {
		return nil, err
	}
	if cfg.PeriodicInterval > 0 {
		s.wg.Add(1)
		go s.periodicLoop()
	}
	return s, nil
}

// Close stops background work and the mounts' backends. In-flight HTTP
// requests are the http.Server's to drain first.
func (s *Server) Close() {
	s.stopOnce.Do(func() { close(s.stop) })
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.mounts {
		m.backend.close()
	}
	if s.sec != nil {
		_ = s.sec.audit.Close()
	}
}

func (s *Server) periodicLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.PeriodicInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if s.cfg.Leader == nil || s.cfg.Leader() {
				s.RunPeriodic(context.Background())
			}
		}
	}
}

// RunPeriodic runs every mount's time-driven work once. The server calls it
// on a ticker; tests call it after moving a fake clock.
func (s *Server) RunPeriodic(ctx context.Context) {
	s.mu.RLock()
	ms := make([]*mount, 0, len(s.mounts))
	for _, m := range s.mounts {
		ms = append(ms, m)
	}
	s.mu.RUnlock()
	for _, m := range ms {
		m.runPeriodic(ctx)
	}
}

// loadIdentity reads (or makes, on first start) the cluster's id and name.
func (s *Server) loadIdentity() error {
	type identity struct {
		ClusterID   string `json:"cluster_id"`
		ClusterName string `json:"cluster_name"`
	}
	var id identity
	err := s.sys.Update(func(tx storage.Tx) error {
		found, err := storage.GetJSON(tx, "core/identity", &id)
		if err != nil || found {
			return err
		}
		if id.ClusterID, err = randid.UUID(s.rand); err != nil {
			return err
		}
		suffix, err := randid.UUID(s.rand)
		if err != nil {
			return err
		}
		id.ClusterName = "vault-cluster-" + suffix[:8]
		return storage.PutJSON(tx, "core/identity", &id)
	})
	if err != nil {
		return fmt.Errorf("api: load cluster identity: %w", err)
	}
	s.clusterID, s.clusterName = id.ClusterID, id.ClusterName
	return nil
}
