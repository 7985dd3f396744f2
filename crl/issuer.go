// Package crl keeps a mount's certificate store and revocation records,
// builds its CRLs (complete and delta) and answers OCSP, and tidies.
//
// crl knows issuers only through IssuerSource, which ca implements, so the
// dependency points from ca to crl and never back.
package crl

import (
	"context"
	"crypto"
	"crypto/x509"
	"time"

	"github.com/pkid-dev/pkid/storage"
)

// Issuer is what crl needs to know of one issuer of the mount.
type Issuer struct {
	ID   string
	Name string
	Cert *x509.Certificate
	// KeyID is the linked key's ID; "" for a keyless issuer.
	KeyID string
	// Signer is the issuer's private key; nil for a keyless issuer.
	Signer crypto.Signer
	// CRLSigning and OCSPSigning report the issuer's usages.
	CRLSigning  bool
	OCSPSigning bool
	// Revoked issuers keep signing CRLs but appear on their parents' CRLs.
	Revoked   bool
	RevokedAt time.Time
	// SignatureAlgorithm signs CRLs; zero means "pick from the key".
	SignatureAlgorithm x509.SignatureAlgorithm
	// DeltaCRLURLs are the issuer's effective delta CRL distribution points
	// (its own, else config/urls). Vault puts them in the certificates it
	// issues, not on its CRLs, so CRL building does not use them.
	DeltaCRLURLs []string
}

// IssuerSource is the mount's issuers as crl sees them. ca.Authority
// implements it.
type IssuerSource interface {
	// Issuers returns every issuer of the mount and the default issuer's ID
	// ("" when none), read within tx.
	Issuers(tx storage.Tx) (issuers []Issuer, defaultID string, err error)
	// DeleteIssuer deletes an issuer (never its key) for tidy's
	// tidy_expired_issuers pass and reports whether it was the default.
	// It must rebuild chains itself; it may call Manager.Rebuild (tidy
	// calls it without holding any Manager lock).
	DeleteIssuer(ctx context.Context, id string) (wasDefault bool, err error)
}
