// Package ca is the certificate authority of one PKI mount: its keys and
// issuers, root and intermediate generation, signing, and chains.
//
// The Authority keeps everything in the mount's storage space (spec §6.1
// layout: config/issuer/<id>, config/key/<id>, config/issuers, config/keys,
// urls, config/cluster). Slow work (key generation, signing) happens before
// the write transaction that records its result; the transaction re-checks
// whatever a concurrent writer could have changed (names, defaults).
//
// Leaf issuance (issue/sign/sign-verbatim) uses SigningIssuer and the
// exported primitives: GenerateKey, NewSerial, SignatureAlgorithm,
// CSRSignatureAlgorithm, SubjectKeyID, ParseOtherSANs/SetOtherSANs,
// ParseCSR/CheckCSRKey/CheckCSRSignature, EncodeCert/EncodePrivateKey.
package ca

import (
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/pkid-dev/pkid/clock"
	"github.com/pkid-dev/pkid/crl"
	"github.com/pkid-dev/pkid/records"
	"github.com/pkid-dev/pkid/storage"
)

// Config is what an Authority is built from.
type Config struct {
	Space  *storage.Space // the mount's records
	Clock  clock.Clock
	Rand   io.Reader // crypto/rand.Reader in production
	Keys   KeyMaker  // nil: the standard library's generators
	Logger *slog.Logger
}

// Authority is the CA of one mount. It is safe for concurrent use.
type Authority struct {
	cfg Config
	// crl is the mount's revocation side, made by New with the Authority
	// as its issuer source: issuer changes rebuild its CRLs, and a revoked
	// issuer's certificate gets its revocation record.
	crl *crl.Manager

	// Parsed forms of stored PEM, keyed by the PEM text itself: a stored
	// certificate or key never changes under the same text, so entries
	// never go stale. They spare the issue path a parse per request.
	mu      sync.RWMutex
	certs   map[string]*x509.Certificate
	signers map[string]crypto.Signer
	// signedBy caches "child is signed by parent" for pairs of issuer
	// IDs. An ID's certificate never changes, so chain rebuilds verify
	// each pair once.
	signedBy map[[2]string]bool
	// signing caches resolved signing issuers (signing_cache.go).
	signing signingCache

	// leaf is the state of leaf issuance: RSA key pool, parsed roles
	// (leaf_state.go).
	leaf leafState
}

// New returns the Authority of a mount.
func New(cfg Config) (*Authority, error) {
	if cfg.Space == nil {
		return nil, fmt.Errorf("ca: config needs a storage space")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Rand == nil {
		return nil, fmt.Errorf("ca: config needs a random source")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	a := &Authority{
		cfg:      cfg,
		certs:    map[string]*x509.Certificate{},
		signers:  map[string]crypto.Signer{},
		signedBy: map[[2]string]bool{},
	}
	mgr, err := crl.New(crl.Config{Space: cfg.Space, Clock: cfg.Clock, Rand: cfg.Rand, Logger: cfg.Logger, Issuers: a})
	if err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	a.crl = mgr
	return a, nil
}

// CRL returns the mount's revocations, CRLs, OCSP and tidy, which share the
// Authority's storage space and know its issuers.
func (a *Authority) CRL() *crl.Manager { return a.crl }

// Close stops the Authority's background work (the RSA key pool's
// fillers, the CRL side's tidy). It does not wait for a key being
// generated; the Authority still answers calls afterwards, without pooling.
func (a *Authority) Close() {
	a.crl.Close()
	a.leaf.keys.close()
}

// rebuildCRL rebuilds the CRLs and renders their warnings as Vault does.
func (a *Authority) rebuildCRL(ctx context.Context, force bool) ([]string, error) {
	warnings, err := a.crl.Rebuild(ctx, force)
	return crl.NumberWarnings(warnings), err
}

// cert parses (once) a stored certificate PEM.
func (a *Authority) cert(pemText string) (*x509.Certificate, error) {
	a.mu.RLock()
	c := a.certs[pemText]
	a.mu.RUnlock()
	if c != nil {
		return c, nil
	}
	c, err := parseCertPEM(pemText)
	if err != nil {
		return nil, fmt.Errorf("ca: stored certificate: %w", err)
	}
	a.rememberCert(pemText, c)
	return c, nil
}

// signer parses (once) a stored private key PEM.
func (a *Authority) signer(pemText string) (crypto.Signer, error) {
	a.mu.RLock()
	s := a.signers[pemText]
	a.mu.RUnlock()
	if s != nil {
		return s, nil
	}
	s, err := ParsePrivateKeyPEM(pemText)
	if err != nil {
		return nil, fmt.Errorf("ca: stored key: %w", err)
	}
	a.rememberSigner(pemText, s)
	return s, nil
}

// rememberCert and rememberSigner enter what a request already holds
// parsed under the PEM text it is stored as, so that the chain rebuild in
// the same write transaction, and the issues after it, do not parse it
// again.
func (a *Authority) rememberCert(pemText string, c *x509.Certificate) {
	a.mu.Lock()
	a.certs[pemText] = c
	a.mu.Unlock()
}

func (a *Authority) rememberSigner(pemText string, s crypto.Signer) {
	a.mu.Lock()
	a.signers[pemText] = s
	a.mu.Unlock()
}

// isSignedBy reports (once per pair of issuer IDs) whether the child
// certificate verifies under the parent's key.
func (a *Authority) isSignedBy(childID string, child *x509.Certificate, parentID string, parent *x509.Certificate) bool {
	k := [2]string{childID, parentID}
	a.mu.RLock()
	v, ok := a.signedBy[k]
	a.mu.RUnlock()
	if ok {
		return v
	}
	v = child.CheckSignatureFrom(parent) == nil
	a.mu.Lock()
	a.signedBy[k] = v
	a.mu.Unlock()
	return v
}

// chain parses an issuer's stored ca_chain.
func (a *Authority) chain(rec *records.Issuer) ([]*x509.Certificate, error) {
	out := make([]*x509.Certificate, 0, len(rec.CAChain))
	for _, p := range rec.CAChain {
		c, err := a.cert(p)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// The Authority is the CRL manager's view of the mount's issuers.
var _ crl.IssuerSource = (*Authority)(nil)

// Issuers implements crl.IssuerSource: every issuer of the mount with its
// key (when linked) and usages, and the default issuer's ID.
func (a *Authority) Issuers(tx storage.Tx) ([]crl.Issuer, string, error) {
	recs, err := records.AllIssuers(tx)
	if err != nil {
		return nil, "", err
	}
	cfg, err := records.GetIssuersConfig(tx)
	if err != nil {
		return nil, "", err
	}
	out := make([]crl.Issuer, 0, len(recs))
	for _, rec := range recs {
		is, err := a.crlIssuer(tx, rec)
		if err != nil {
			return nil, "", err
		}
		out = append(out, is)
	}
	return out, cfg.Default, nil
}

func (a *Authority) crlIssuer(tx storage.Tx, rec *records.Issuer) (crl.Issuer, error) {
	cert, err := a.cert(rec.Certificate)
	if err != nil {
		return crl.Issuer{}, err
	}
	is := crl.Issuer{
		ID: rec.ID, Name: rec.Name, Cert: cert,
		CRLSigning:         rec.Usage.Has(UsageCRLSigning),
		OCSPSigning:        rec.Usage.Has(UsageOCSPSigning),
		Revoked:            rec.Revoked,
		SignatureAlgorithm: signatureAlgorithmNames[strings.ToLower(rec.RevocationSigAlg)],
	}
	if rec.Revoked {
		is.RevokedAt = rec.RevocationTimeUTC
	}
	// Unfillable templates only cost the Freshest CRL pointer here; issuing
	// through the issuer reports them.
	if urls, err := issuerURLs(tx, rec); err == nil {
		is.DeltaCRLURLs = urls.DeltaCRLDistributionPoints
	}
	if rec.KeyID != "" {
		key, err := records.GetKey(tx, rec.KeyID)
		if err != nil {
			return crl.Issuer{}, err
		}
		if key != nil {
			s, err := a.signer(key.PrivateKey)
			if err != nil {
				return crl.Issuer{}, err
			}
			is.KeyID, is.Signer = key.ID, a.signingKey(s)
		}
	}
	return is, nil
}
