package api

import (
	"context"
	"crypto/x509"
	"github.com/pkid-dev/pkid/records"
	"strings"
	"time"

	"github.com/pkid-dev/pkid/crl"
	"github.com/pkid-dev/pkid/errs"
)

// Leases: a PKI role with generate_lease=true attaches a lease to each
// certificate it issues, and revoking that lease revokes the certificate
// (spec §3.1 issue). pkid keeps no lease table: a lease ID ends with the
// certificate's serial, so sys/leases finds the certificate from the ID.

// leaseHolder is a backend whose responses carry leases.
type leaseHolder interface {
	// revokeLease revokes what the lease (its path inside the mount) stands
	// for; an unknown lease is not an error.
	revokeLease(ctx context.Context, rel string) error
	// leaseTimes returns when the lease began and ends; ok is false for an
	// unknown lease.
	leaseTimes(ctx context.Context, rel string) (issued, expires time.Time, ok bool, err error)
}

func (s *Server) leaseRoutes() []Route {
	write := func(h HandlerFunc) map[Operation]HandlerFunc { return map[Operation]HandlerFunc{OpUpdate: h} }
	return []Route{
		{Pattern: "leases/revoke", Operations: write(s.handleLeaseRevoke)},
		{Pattern: "leases/revoke/{lease_id:.+}", Operations: write(s.handleLeaseRevoke)},
		{Pattern: "revoke/{lease_id:.+}", Operations: write(s.handleLeaseRevoke)},
		{Pattern: "leases/lookup", Operations: write(s.handleLeaseLookup)},
		{Pattern: "leases/renew", Operations: write(s.handleLeaseRenew)},
		{Pattern: "leases/renew/{lease_id:.+}", Operations: write(s.handleLeaseRenew)},
		{Pattern: "renew/{lease_id:.+}", Operations: write(s.handleLeaseRenew)},
	}
}

type leaseRequest struct {
	LeaseID   string        `json:"lease_id"`
	Increment time.Duration `json:"increment"`
	Sync      bool          `json:"sync"`
}

// withLeaseOwner finds the backend that issued a lease and calls fn with
// it, the lease ID and the lease's path inside its mount; h is nil when no
// mount holding leases serves the ID. The mount is held for the call, as a
// request on it would be, so that disabling it cannot drop its storage
// under a revocation (which would write the revoked record back as an
// orphan).
func (s *Server) withLeaseOwner(req *Request, fn func(h leaseHolder, id, rel string) (*Response, error)) (*Response, error) {
	var in leaseRequest
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	id := strings.TrimPrefix(in.LeaseID, "/")
	if id == "" {
		return nil, errs.Invalidf("lease_id must be specified")
	}
	m := s.lookupMount(id)
	if m == nil {
		return fn(nil, id, "")
	}
	h, ok := m.backend.(leaseHolder)
	if !ok || !m.enter() {
		return fn(nil, id, "")
	}
	defer m.leave()
	return fn(h, id, strings.TrimPrefix(id, m.entry.Path))
}

func (s *Server) handleLeaseRevoke(ctx context.Context, req *Request) (*Response, error) {
	return s.withLeaseOwner(req, func(h leaseHolder, _, rel string) (*Response, error) {
		if h == nil {
			return nil, nil
		}
		return nil, h.revokeLease(ctx, rel)
	})
}

func (s *Server) handleLeaseLookup(ctx context.Context, req *Request) (*Response, error) {
	return s.withLeaseOwner(req, func(h leaseHolder, id, rel string) (*Response, error) {
		if h == nil {
			return nil, errs.Invalidf("invalid lease")
		}
		issued, expires, ok, err := h.leaseTimes(ctx, rel)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, errs.Invalidf("invalid lease")
		}
		ttl := max(expires.Sub(s.clock.Now()), 0)
		return &Response{Data: map[string]any{
			"id": id, "issue_time": issued.UTC().Format(time.RFC3339Nano),
			"expire_time": expires.UTC().Format(time.RFC3339Nano), "last_renewal": nil,
			"renewable": false, "ttl": int64(ttl / time.Second),
		}}, nil
	})
}

// handleLeaseRenew refuses: PKI leases are never renewable in Vault.
func (s *Server) handleLeaseRenew(ctx context.Context, req *Request) (*Response, error) {
	return s.withLeaseOwner(req, func(h leaseHolder, _, rel string) (*Response, error) {
		if h == nil {
			return nil, errs.Invalidf("lease not found")
		}
		_, _, ok, err := h.leaseTimes(ctx, rel)
		switch {
		case err != nil:
			return nil, err
		case ok:
			return nil, errs.Invalidf("lease is not renewable")
		}
		return nil, errs.Invalidf("lease not found")
	})
}

// leaseSerial reads the serial at the end of a PKI lease path.
func leaseSerial(rel string) (string, bool) {
	i := strings.LastIndex(rel, "/")
	if i < 0 {
		return "", false
	}
	serial, err := records.NormalizeSerial(rel[i+1:])
	return serial, err == nil
}

func (b *pkiBackend) revokeLease(ctx context.Context, rel string) error {
	serial, ok := leaseSerial(rel)
	if !ok {
		return nil
	}
	_, err := b.crl.Revoke(ctx, crl.RevokeRequest{SerialNumber: &serial})
	if errs.KindOf(err) == errs.Invalid {
		return nil // an unknown or expired certificate: nothing left to revoke
	}
	return err
}

func (b *pkiBackend) leaseTimes(_ context.Context, rel string) (time.Time, time.Time, bool, error) {
	serial, ok := leaseSerial(rel)
	if !ok {
		return time.Time{}, time.Time{}, false, nil
	}
	sc, err := b.ca.StoredCert(serial)
	if err != nil || sc == nil {
		return time.Time{}, time.Time{}, false, err
	}
	cert, err := x509.ParseCertificate(sc.DER)
	if err != nil {
		return time.Time{}, time.Time{}, false, err
	}
	return cert.NotBefore, cert.NotAfter, true, nil
}
