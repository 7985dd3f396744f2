package api

import (
	"context"
	"crypto/x509"
	"strings"
	"time"

	"pkid/crl"
	"pkid/errs"
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

// leaseOwner finds the backend that issued a lease and the lease's path
// inside its mount.
func (s *Server) leaseOwner(req *Request) (leaseHolder, string, string, error) {
	var in leaseRequest
	if err := req.Decode(&in); err != nil {
		return nil, "", "", err
	}
	id := strings.TrimPrefix(in.LeaseID, "/")
	if id == "" {
		return nil, "", "", errs.Invalidf("lease_id must be specified")
	}
	m := s.lookupMount(id)
	if m == nil {
		return nil, id, "", nil
	}
	h, ok := m.backend.(leaseHolder)
	if !ok {
		return nil, id, "", nil
	}
	return h, id, strings.TrimPrefix(id, m.entry.Path), nil
}

func (s *Server) handleLeaseRevoke(ctx context.Context, req *Request) (*Response, error) {
	h, _, rel, err := s.leaseOwner(req)
	if err != nil || h == nil {
		return nil, err
	}
	return nil, h.revokeLease(ctx, rel)
}

func (s *Server) handleLeaseLookup(ctx context.Context, req *Request) (*Response, error) {
	h, id, rel, err := s.leaseOwner(req)
	if err != nil {
		return nil, err
	}
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
	ttl := expires.Sub(s.clock.Now())
	if ttl < 0 {
		ttl = 0
	}
	return &Response{Data: map[string]any{
		"id": id, "issue_time": issued.UTC().Format(time.RFC3339Nano),
		"expire_time": expires.UTC().Format(time.RFC3339Nano), "last_renewal": nil,
		"renewable": false, "ttl": int64(ttl / time.Second),
	}}, nil
}

// handleLeaseRenew refuses: PKI leases are never renewable in Vault.
func (s *Server) handleLeaseRenew(ctx context.Context, req *Request) (*Response, error) {
	h, _, rel, err := s.leaseOwner(req)
	if err != nil {
		return nil, err
	}
	if h != nil {
		if _, _, ok, err := h.leaseTimes(ctx, rel); err != nil || ok {
			if err != nil {
				return nil, err
			}
			return nil, errs.Invalidf("lease is not renewable")
		}
	}
	return nil, errs.Invalidf("lease not found")
}

// leaseSerial reads the serial at the end of a PKI lease path.
func leaseSerial(rel string) (string, bool) {
	i := strings.LastIndex(rel, "/")
	if i < 0 {
		return "", false
	}
	serial, err := crl.NormalizeSerial(rel[i+1:])
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
