package crl

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkid-dev/pkid/clock"
	"github.com/pkid-dev/pkid/storage"
)

// Config is what a Manager is built from.
type Config struct {
	Space   *storage.Space
	Clock   clock.Clock  // nil: the real clock
	Rand    io.Reader    // nil: crypto/rand
	Logger  *slog.Logger // nil: discard
	Issuers IssuerSource // required
}

// Manager owns a mount's revocations, CRLs, OCSP answers and tidy runs.
//
// Concurrency: CRL builds (and the CRL numbering they write) are serialized
// by buildMu. Revocations do not always take it: with auto_rebuild=true a
// revoke only writes its record through the group commit. Every committed
// change to the revocation index bumps version after its commit, which is
// how a build knows whether its in-memory copy of a CRL's entries (classCache)
// still matches storage.
type Manager struct {
	space   *storage.Space
	clock   clock.Clock
	rand    io.Reader
	log     *slog.Logger
	issuers IssuerSource

	cfgMu      sync.RWMutex // guards crlCfg and tidyCfg
	cfgWriteMu sync.Mutex   // serializes config writes
	crlCfg     CRLConfig
	tidyCfg    AutoTidyConfig

	buildMu        sync.Mutex
	caches         map[string]*classCache // by CRL id; guarded by buildMu
	lastDeltaCheck time.Time              // guarded by buildMu
	deltaBuiltWAL  uint64                 // walVersion of the last delta build; guarded by buildMu

	version    atomic.Uint64 // bumped after every committed index change
	walVersion atomic.Uint64 // bumped after every committed delta WAL write

	tidy *tidyRunner
}

// New returns the Manager of a mount, with its configs loaded.
func New(cfg Config) (*Manager, error) {
	if cfg.Space == nil || cfg.Issuers == nil {
		return nil, errors.New("crl: Config needs a Space and an IssuerSource")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Manager{
		space: cfg.Space, clock: cfg.Clock, rand: cfg.Rand, log: cfg.Logger, issuers: cfg.Issuers,
		caches: map[string]*classCache{},
	}
	var lastTidy time.Time
	err := m.space.View(func(tx storage.Tx) error {
		var err error
		if m.crlCfg, err = loadCRLConfig(tx); err != nil {
			return err
		}
		if m.tidyCfg, err = loadAutoTidyConfig(tx); err != nil {
			return err
		}
		lastTidy, err = loadLastTidy(tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	now := m.clock.Now()
	// As Vault does on mount load: the first delta rebuild waits one
	// interval, and auto-tidy counts from its stored last run, else from
	// now (crl_util.go newCRLBuilder, backend.go).
	m.lastDeltaCheck = now
	m.deltaBuiltWAL = ^uint64(0) // unknown: the first check looks at the WAL
	m.tidy = newTidyRunner(now, lastTidy)
	return m, nil
}

// Periodic runs the time-driven work (auto-rebuild, delta rebuilds,
// auto-tidy). The server calls it about once every few seconds; it reads the
// injected clock, so tests call it directly after moving a fake clock.
// Errors are logged: there is no caller to return them to.
func (m *Manager) Periodic(ctx context.Context) {
	if err := m.periodicCRL(ctx); err != nil {
		m.log.Warn("crl: periodic CRL rebuild failed", "error", err)
	}
	m.periodicTidy(ctx)
}

// periodicCRL performs a pending build (a CRL-signing issuer without a CRL),
// the auto-rebuild of CRLs near their nextUpdate, and delta rebuilds when
// revocations arrived since the last one (spec §6.3 "Background").
func (m *Manager) periodicCRL(ctx context.Context) error {
	cfg := m.CRLConfig()
	if cfg.Disable {
		return nil
	}
	full, err := m.needsFullBuild(cfg)
	if err != nil {
		return err
	}
	if full {
		_, err := m.Rebuild(ctx, false)
		return err
	}
	if !cfg.EnableDelta {
		return nil
	}
	m.buildMu.Lock()
	due := !m.clock.Now().Before(m.lastDeltaCheck.Add(cfg.durations().deltaInterval))
	if due {
		m.lastDeltaCheck = m.clock.Now()
	}
	changed := m.walVersion.Load() != m.deltaBuiltWAL
	m.buildMu.Unlock()
	if !due || !changed {
		return nil
	}
	_, err = m.rebuildDeltas(ctx, false)
	return err
}

// needsFullBuild reports a CRL-signing class with no CRL yet, or, with
// auto_rebuild, a CRL within the grace period of its nextUpdate.
func (m *Manager) needsFullBuild(cfg CRLConfig) (bool, error) {
	var need bool
	err := m.space.View(func(tx storage.Tx) error {
		snap, err := m.snapshot(tx)
		if err != nil {
			return err
		}
		now := m.clock.Now()
		grace := cfg.durations().grace
		for _, c := range snap.classes {
			next, built := snap.state.NextUpdate[c.id]
			switch {
			case c.signer == nil:
			case c.fresh || !built || next.IsZero():
				need = true
			case cfg.AutoRebuild && now.After(next.Add(-grace)):
				need = true
			}
		}
		return nil
	})
	return need, err
}

// Close stops background work: a running tidy is cancelled and waited for.
func (m *Manager) Close() { m.tidy.stop() }

// Invalidate reloads what the Manager keeps in memory from the store, for
// when another replica on the same store wrote this mount's CRL or tidy
// configuration or a revocation: the configs are read again, and the cached
// CRL entries are dropped (their version no longer matches), as is the
// knowledge of which delta WAL was built.
func (m *Manager) Invalidate() error {
	var crlCfg CRLConfig
	var tidyCfg AutoTidyConfig
	err := m.space.View(func(tx storage.Tx) error {
		var err error
		if crlCfg, err = loadCRLConfig(tx); err != nil {
			return err
		}
		tidyCfg, err = loadAutoTidyConfig(tx)
		return err
	})
	if err != nil {
		return fmt.Errorf("crl: reload configs: %w", err)
	}
	m.cfgMu.Lock()
	m.crlCfg, m.tidyCfg = crlCfg, tidyCfg
	m.cfgMu.Unlock()
	m.version.Add(1)
	m.walVersion.Add(1)
	return nil
}
