package crl

import (
	"context"
	"strings"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/records"
	"github.com/pkid-dev/pkid/storage"
)

// FetchCRL returns the stored DER of a CRL, complete or delta: the default
// issuer's when ref is "" (the legacy raw crl paths), else that of the
// issuer ref names. nil means there is none to serve (raw paths answer 204):
// no default issuer, a keyless issuer, or CRLs disabled before any was
// built. Vault's raw paths swallow lookup errors into that 204; with a ref,
// unknown references are still Vault's 500s.
//
// CRLs are served as built, never rebuilt per request. A CRL-signing issuer
// whose CRL was never built (its issuer was just created) is a pending
// rebuild, which Vault performs before serving, and so does this.
func (m *Manager) FetchCRL(ctx context.Context, ref string, delta bool) ([]byte, error) {
	der, err := m.fetchCRL(ctx, ref, delta)
	if ref == "" && errs.KindOf(err) == errs.InvalidVault500 {
		return nil, nil
	}
	return der, err
}

// FetchIssuerCRL is the CRL of the issuer ref names ("default", an ID or a
// name) as Vault's JSON paths and issuer/:ref/crl paths look it up
// (resolveIssuerCRLPath): an unknown reference, no default issuer, or an
// issuer with no CRL (a keyless one) are 500s with Vault's words.
func (m *Manager) FetchIssuerCRL(ctx context.Context, ref string, delta bool) ([]byte, error) {
	return m.fetchCRL(ctx, ref, delta)
}

func (m *Manager) fetchCRL(ctx context.Context, ref string, delta bool) ([]byte, error) {
	der, pending, err := m.readCRL(ref, delta)
	if err != nil || !pending {
		return der, err
	}
	if _, err := m.Rebuild(ctx, false); err != nil {
		return nil, err
	}
	der, _, err = m.readCRL(ref, delta)
	return der, err
}

func (m *Manager) readCRL(ref string, delta bool) (der []byte, pending bool, err error) {
	disabled := m.CRLConfig().Disable
	err = m.space.View(func(tx storage.Tx) error {
		s, err := m.snapshot(tx)
		if err != nil {
			return err
		}
		lookup := ref
		if lookup == "" {
			lookup = "default"
		}
		id, err := resolveIssuer(s, lookup)
		if err != nil {
			return err
		}
		c := s.memberOf[id]
		if c != nil && c.signer != nil && c.fresh && !disabled {
			pending = true
			return nil
		}
		crlID := s.state.IssuerCRL[id]
		if crlID == "" {
			return errs.Newf(errs.InvalidVault500, "unable to find CRL for issuer: id:%s/ref:%s", id, lookup)
		}
		der = records.GetCRL(tx, crlID, delta)
		return nil
	})
	return der, pending, err
}

// resolveIssuer resolves an issuer reference as Vault does (spec §3.0
// "References"): "default" in any case, an issuer ID, or an issuer name.
func resolveIssuer(s *snapshot, ref string) (string, error) {
	if strings.EqualFold(ref, "default") {
		if s.defaultID == "" {
			return "", errs.New(errs.InvalidVault500, "no default issuer currently configured")
		}
		return s.defaultID, nil
	}
	if _, ok := s.byID[ref]; ok {
		return ref, nil
	}
	for _, iss := range s.issuers {
		if iss.Name != "" && iss.Name == ref {
			return iss.ID, nil
		}
	}
	return "", errs.Newf(errs.InvalidVault500, "unable to find PKI issuer for reference: %s", ref)
}
