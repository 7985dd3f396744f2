package api

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/pkid-dev/pkid/ca"
	"github.com/pkid-dev/pkid/clock"
	"github.com/pkid-dev/pkid/crl"
	"github.com/pkid-dev/pkid/records"
	"github.com/pkid-dev/pkid/storage"
)

// pkiBackend serves one PKI mount. Its routes are spread over the pki_*.go
// files by concern: CA hierarchy, roles, issuance, revocation.
type pkiBackend struct {
	space *storage.Space
	clock clock.Clock
	rand  io.Reader
	log   *slog.Logger
	ca    *ca.Authority
	roles *records.Roles
	crl   *crl.Manager
}

func newPKIBackend(space *storage.Space, clk clock.Clock, rnd io.Reader, keys ca.KeyMaker, log *slog.Logger) (*pkiBackend, error) {
	auth, err := ca.New(ca.Config{Space: space, Clock: clk, Rand: rnd, Keys: keys, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("pki backend: %w", err)
	}
	return &pkiBackend{
		space: space, clock: clk, rand: rnd, log: log,
		ca: auth, roles: records.NewRoles(space), crl: auth.CRL(),
	}, nil
}

// routes lists the backend's routes. Order matters where patterns overlap:
// gorilla/mux takes the first match, so the fixed cert/ca and cert/crl paths
// come before cert/{serial}.
func (b *pkiBackend) routes() []Route {
	var rs []Route
	rs = append(rs, b.caRoutes()...)
	rs = append(rs, b.crlRoutes()...)
	rs = append(rs, b.roleRoutes()...)
	rs = append(rs, b.issueRoutes()...)
	return rs
}

func (b *pkiBackend) periodic(ctx context.Context) { b.crl.Periodic(ctx) }

func (b *pkiBackend) close() {
	b.ca.Close()
}

// pkiUnauthenticated are the PKI paths that need no token (spec §1.8).
var pkiUnauthenticated = []string{
	"cert/*", "ca", "ca/pem", "ca_chain", "crl", "crl/pem", "crl/delta", "crl/delta/pem",
	"issuer/+/crl", "issuer/+/crl/der", "issuer/+/crl/pem",
	"issuer/+/crl/delta", "issuer/+/crl/delta/der", "issuer/+/crl/delta/pem",
	"issuer/+/pem", "issuer/+/der", "issuer/+/json", "issuers/",
	"ocsp", "ocsp/*",
}

// pkiSudo are the PKI "root paths" that need sudo (spec §1.2).
var pkiSudo = []string{"root", "root/sign-self-issued"}

func (b *pkiBackend) unauthenticatedPaths() []string { return pkiUnauthenticated }
func (b *pkiBackend) sudoPaths() []string            { return pkiSudo }

// listQuery is the paging of every PKI list (spec §3 preamble).
type listQuery struct {
	After string `json:"after"`
	Limit int    `json:"limit"`
}

// take reports whether id belongs to the page, counting what it took: for
// lists paged here rather than by a storage scan (issuers, keys).
func (p *listQuery) take(id string, taken int) bool {
	return (p.After == "" || id > p.After) && (p.Limit <= 0 || taken < p.Limit)
}
