// Package ca is the certificate authority of one PKI mount: its keys and
// issuers, root and intermediate generation, signing, and chains.
package ca

import (
	"context"
	"io"
	"log/slog"

	"pkid/clock"
	"pkid/crl"
	"pkid/storage"
)

// Config is what an Authority is built from.
type Config struct {
	Space  *storage.Space // the mount's records
	Clock  clock.Clock
	Rand   io.Reader // crypto/rand.Reader in production
	Logger *slog.Logger
}

// CRLBuilder rebuilds a mount's CRLs when its issuers change; crl.Manager
// implements it. Set with SetCRL.
type CRLBuilder interface {
	Rebuild(ctx context.Context, force bool) (warnings []string, err error)
}

// Authority is the CA of one mount.
type Authority struct {
	cfg Config
	crl CRLBuilder
}

// New returns the Authority of a mount.
func New(cfg Config) (*Authority, error) {
	return &Authority{cfg: cfg}, nil
}

// SetCRL wires the CRL builder that issuer changes trigger.
func (a *Authority) SetCRL(b CRLBuilder) { a.crl = b }

// Issuers implements crl.IssuerSource.
func (a *Authority) Issuers(tx storage.Tx) ([]crl.Issuer, string, error) { return nil, "", nil }
