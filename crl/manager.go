package crl

import (
	"context"
	"io"
	"log/slog"

	"pkid/clock"
	"pkid/storage"
)

// Config is what a Manager is built from.
type Config struct {
	Space   *storage.Space
	Clock   clock.Clock
	Rand    io.Reader
	Logger  *slog.Logger
	Issuers IssuerSource
}

// Manager owns a mount's revocations, CRLs, OCSP answers and tidy runs.
type Manager struct {
	cfg Config
}

// New returns the Manager of a mount.
func New(cfg Config) (*Manager, error) { return &Manager{cfg: cfg}, nil }

// Rebuild rebuilds the mount's CRLs; force builds even when disabled.
func (m *Manager) Rebuild(ctx context.Context, force bool) ([]string, error) { return nil, nil }

// Periodic runs the time-driven work (auto-rebuild, delta rebuilds,
// auto-tidy). The server calls it about once every few seconds; it reads the
// injected clock, so tests call it directly after moving a fake clock.
func (m *Manager) Periodic(ctx context.Context) {}

// Close stops background work (a running tidy).
func (m *Manager) Close() {}
