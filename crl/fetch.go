package crl

import (
	"context"
	"strings"

	"pkid/errs"
	"pkid/storage"
)

// FetchCRL returns the stored DER of a CRL, complete or delta: the default
// issuer's when ref is "" (the legacy crl, cert/crl paths), else that of the
// issuer ref names ("default", an issuer ID or a name; unknown references
// are Vault's 500s). nil means there is none to serve (raw paths answer 204):
// no default issuer, a keyless issuer, or CRLs disabled before any was
// built.
//
// CRLs are served as built, never rebuilt per request. A CRL-signing issuer
// whose CRL was never built (its issuer was just created) is a pending
// rebuild, which Vault performs before serving, and so does this.
func (m *Manager) FetchCRL(ctx context.Context, ref string, delta bool) ([]byte, error) {
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
		id := s.defaultID
		if ref != "" {
			if id, err = resolveIssuer(s, ref); err != nil {
				return err
			}
		}
		if id == "" {
			return nil
		}
		if crlID := s.state.IssuerCRL[id]; crlID != "" {
			key := crlDERPrefix + crlID
			if delta {
				key += deltaSuffix
			}
			der = tx.Get(key)
		}
		c := s.memberOf[id]
		pending = der == nil && !disabled && c != nil && c.signer != nil
		return nil
	})
	return der, pending, err
}

// resolveIssuer resolves an issuer reference as Vault does (spec §3.0
// "References"): "default" in any case, an issuer ID, or an issuer name.
func resolveIssuer(s *snapshot, ref string) (string, error) {
	if strings.EqualFold(ref, "default") {
		if s.defaultID == "" {
			return "", errs.New(errs.VaultInternal, "no default issuer currently configured")
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
	return "", errs.Newf(errs.VaultInternal, "unable to find PKI issuer for reference: %s", ref)
}
