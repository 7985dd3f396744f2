package ca

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"io"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/records"
	"github.com/pkid-dev/pkid/roles"
	"github.com/pkid-dev/pkid/storage"
)

// Leaf NotAfter behaviours of an issuer (leaf_not_after_behavior): what
// happens when a certificate it signs would outlive it. The TTL rule that
// applies them lives in roles.
const (
	NotAfterErr      = roles.NotAfterErr      // refuse (the default)
	NotAfterTruncate = roles.NotAfterTruncate // cut the certificate at the issuer's NotAfter
	NotAfterPermit   = roles.NotAfterPermit   // let it outlive the issuer
)

// SigningIssuer is an issuer resolved for signing: what leaf issuance
// (issue, sign, sign-verbatim) and the CA signing paths need from it. Get
// one with Authority.SigningIssuer; it is a snapshot and safe to share. Its
// certificates and key are shared with the Authority's caches: treat them
// as read-only.
type SigningIssuer struct {
	// ID and Name identify the issuer (Name may be "").
	ID   string
	Name string
	// Cert is the issuer's certificate and CertPEM its PEM without a
	// trailing newline: the issuing_ca of issue and sign answers.
	Cert    *x509.Certificate
	CertPEM string
	// Signer is the issuer's private key; KeyID and KeyType ("rsa", "ec",
	// "ed25519") describe it.
	Signer  crypto.Signer
	KeyID   string
	KeyType string
	// Chain is the issuer's ca_chain: the issuer itself first, then every
	// parent the mount knows (or its manual_chain). A leaf's ca_chain answer
	// is exactly Chain (spec §5.7); remove_roots_from_chain drops the
	// self-signed entries (see IsSelfSigned).
	Chain []*x509.Certificate
	// URLs are the effective AIA, CRL and OCSP locations for certificates it
	// signs: the issuer's own override when it has one, else config/urls,
	// with templates filled in. Apply them with URLs.Apply.
	URLs URLs
	// LeafNotAfterBehavior is NotAfterErr, NotAfterTruncate or
	// NotAfterPermit (applied by roles.ComputeValidity).
	LeafNotAfterBehavior string
	// Usage always includes UsageIssuing (SigningIssuer checks it).
	Usage Usage
}

// SigningIssuer resolves an issuer reference ("default", an issuer ID or an
// issuer name, as role issuer_ref or the issuer/:ref/... URL gives it) to an
// issuer that can sign certificates. It fails with errs.InvalidVault500 (Vault
// answers these with 500) and Vault's texts:
//
//	could not fetch the CA certificate (was one set?): no default issuer currently configured
//	could not fetch the CA certificate (was one set?): unable to find PKI issuer for reference: X
//	could not fetch the CA certificate (was one set?): unable to fetch corresponding key for issuer <id>; unable to use this issuer for signing
//	error fetching CA certificate: error while attempting to use issuer <id>: requested usage issuing-certificates for issuer [id:<id> / name:<name>] but only had usage crl-signing,ocsp-signing,read-only
//
// It reads storage in a View of its own; SigningIssuerTx does the same
// within a caller's transaction.
func (a *Authority) SigningIssuer(ref string) (*SigningIssuer, error) {
	var si *SigningIssuer
	err := a.cfg.Space.View(func(tx storage.Tx) error {
		var err error
		si, err = a.SigningIssuerTx(tx, ref)
		return err
	})
	return si, err
}

// SigningIssuerTx is SigningIssuer within tx.
func (a *Authority) SigningIssuerTx(tx storage.Tx, ref string) (*SigningIssuer, error) {
	return a.signingIssuer(tx, ref, UsageIssuing)
}

const (
	fetchCAPrefix      = "could not fetch the CA certificate (was one set?): "
	fetchCAErrorPrefix = "error fetching CA certificate: "
)

func (a *Authority) signingIssuer(tx storage.Tx, ref string, usage Usage) (*SigningIssuer, error) {
	si, err := a.loadIssuer(tx, ref, usage)
	switch e := err.(type) {
	case nil:
		return si, nil
	case *refError, *noKeyError:
		return nil, errs.Wrap(errs.InvalidVault500, err, fetchCAPrefix+e.Error())
	case *usageDeniedError:
		return nil, errs.Wrap(errs.InvalidVault500, err, fetchCAErrorPrefix+e.Error())
	case *aiaError:
		return nil, errs.Wrap(errs.InvalidVault500, err, fetchCAErrorPrefix+e.Error())
	}
	return nil, err
}

// noKeyError is an issuer without a key asked to sign.
type noKeyError struct{ id string }

func (e *noKeyError) Error() string {
	return fmt.Sprintf("unable to fetch corresponding key for issuer %s; unable to use this issuer for signing", e.id)
}

// usageDeniedError is an issuer asked for a usage it lacks.
type usageDeniedError struct {
	id  string
	err error
}

func (e *usageDeniedError) Error() string {
	return fmt.Sprintf("error while attempting to use issuer %s: %v", e.id, e.err)
}

// aiaError is an issuer whose AIA templates cannot be filled.
type aiaError struct{ err error }

func (e *aiaError) Error() string { return "unable to fetch AIA URL information: " + e.err.Error() }

// loadIssuer resolves ref to an issuer with a key and usage, in Vault's
// order of checks (reference, usage, key); its errors are the bare texts
// that each endpoint prefixes as Vault does. Resolutions are cached for as
// long as the records they read are unchanged (signing_cache.go).
func (a *Authority) loadIssuer(tx storage.Tx, ref string, usage Usage) (*SigningIssuer, error) {
	ref = NormalizeRef(ref)
	if si := a.signing.get(tx, ref, usage); si != nil {
		return si, nil
	}
	rtx := &recordingTx{tx: tx}
	si, err := a.resolveIssuer(rtx, ref, usage)
	if err == nil && !rtx.uncacheable {
		a.signing.put(ref, usage, rtx.reads, si)
	}
	return si, err
}

func (a *Authority) resolveIssuer(tx storage.Tx, ref string, usage Usage) (*SigningIssuer, error) {
	rec, err := issuerKind.resolve(tx, ref)
	if err != nil {
		return nil, err
	}
	if !rec.Usage.Has(usage) {
		return nil, &usageDeniedError{rec.ID, usageError(rec, usage)}
	}
	cert, err := a.cert(rec.Certificate)
	if err != nil {
		return nil, err
	}
	var key *records.Key
	if rec.KeyID != "" {
		if key, err = records.GetKey(tx, rec.KeyID); err != nil {
			return nil, err
		}
	}
	if key == nil {
		return nil, &noKeyError{rec.ID}
	}
	signer, err := a.signer(key.PrivateKey)
	if err != nil {
		return nil, err
	}
	chain, err := a.chain(rec)
	if err != nil {
		return nil, err
	}
	urls, err := issuerURLs(tx, rec)
	if err != nil {
		return nil, &aiaError{err}
	}
	return &SigningIssuer{
		ID: rec.ID, Name: rec.Name,
		Cert: cert, CertPEM: CertPEM(cert.Raw),
		Signer: a.signingKey(signer), KeyID: key.ID, KeyType: KeyTypeOf(signer.Public()),
		Chain: chain, URLs: urls,
		LeafNotAfterBehavior: rec.LeafNotAfterBehavior,
		Usage:                rec.Usage,
	}, nil
}

// usageError words a missing usage as Vault does (issuerEntry.EnsureUsage).
func usageError(rec *records.Issuer, want Usage) error {
	ref := "id:" + rec.ID
	if rec.Name != "" {
		ref += " / name:" + rec.Name
	}
	for _, name := range []string{"issuing-certificates", "crl-signing", "ocsp-signing"} {
		bit, _ := ParseUsage([]string{name})
		if want.Has(bit) && !rec.Usage.Has(bit) {
			return fmt.Errorf("requested usage %v for issuer [%v] but only had usage %v", name, ref, rec.Usage)
		}
	}
	return fmt.Errorf("unknown delta between usages: %v -> %v / for issuer [%v]", want, rec.Usage, ref)
}

// issuerURLs is the effective URLs of an issuer: its own override when one
// of its issuing/CRL/OCSP lists is set, else config/urls; templated with the
// issuer's ID.
func issuerURLs(tx storage.Tx, rec *records.Issuer) (URLs, error) {
	cfg := rec.AIA
	if cfg.Empty() {
		global, err := records.GetURLs(tx)
		if err != nil {
			return URLs{}, err
		}
		cfg = &global
	}
	cluster, err := records.GetCluster(tx)
	if err != nil {
		return URLs{}, err
	}
	return resolveURLs(cfg, rec.ID, cluster)
}

// ChainPEM renders Chain as PEM strings without trailing newlines.
func (s *SigningIssuer) ChainPEM() []string { return EncodeCerts(FormatPEM, s.Chain) }

// SignatureAlgorithm is the algorithm this issuer signs with on the issue
// paths (see the package function SignatureAlgorithm).
func (s *SigningIssuer) SignatureAlgorithm(signatureBits int, usePSS bool) x509.SignatureAlgorithm {
	return SignatureAlgorithm(s.Signer.Public(), signatureBits, usePSS)
}

// CSRSignatureAlgorithm is the algorithm this issuer signs with on the
// CSR-signing paths (see the package function CSRSignatureAlgorithm).
func (s *SigningIssuer) CSRSignatureAlgorithm(signatureBits int, usePSS bool) x509.SignatureAlgorithm {
	return CSRSignatureAlgorithm(s.Signer.Public(), signatureBits, usePSS)
}

// Sign signs tmpl for the subject key pub with this issuer: it sets the
// Authority Key Identifier to the issuer's Subject Key Identifier (and the
// template's SubjectKeyId when unset), signs, and returns the parsed
// certificate. The caller sets serial, validity, names, extensions, URLs
// and SignatureAlgorithm; this is the last, slow step, to run outside any
// storage transaction.
func (s *SigningIssuer) Sign(rnd io.Reader, tmpl *x509.Certificate, pub crypto.PublicKey) (*x509.Certificate, error) {
	return signCert(rnd, tmpl, s.Cert, pub, s.Signer)
}

// setKeyIDs gives tmpl its Subject Key Identifier (RFC 5280 4.2.1.2 method
// 1, unless already set) and the parent's as Authority Key Identifier.
func setKeyIDs(tmpl, parent *x509.Certificate, pub crypto.PublicKey) error {
	if len(tmpl.SubjectKeyId) == 0 {
		skid, err := SubjectKeyID(pub)
		if err != nil {
			return err
		}
		tmpl.SubjectKeyId = skid
	}
	if len(parent.SubjectKeyId) > 0 {
		tmpl.AuthorityKeyId = parent.SubjectKeyId
	}
	return nil
}

// signCert fills the key identifiers, signs and parses.
func signCert(rnd io.Reader, tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) (*x509.Certificate, error) {
	if err := setKeyIDs(tmpl, parent, pub); err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificate(rnd, tmpl, parent, pub, key)
	if err != nil {
		return nil, fmt.Errorf("ca: unable to create certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("ca: unable to parse created certificate: %w", err)
	}
	return cert, nil
}

// IsSelfSigned reports whether a certificate is self-signed: self-issued
// and verified by its own key. remove_roots_from_chain drops these.
func IsSelfSigned(c *x509.Certificate) bool {
	return string(c.RawIssuer) == string(c.RawSubject) && c.CheckSignatureFrom(c) == nil
}
