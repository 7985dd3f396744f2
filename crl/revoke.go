package crl

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"github.com/pkid-dev/pkid/records"
	"strings"
	"time"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/storage"
)

// RevokeRequest is a revoke or revoke-with-key request (spec §3.1, §3.2).
// Exactly one of SerialNumber and Certificate is set.
type RevokeRequest struct {
	SerialNumber *string
	Certificate  *string
	// PrivateKey proves possession on revoke-with-key.
	PrivateKey *string
	// WithKey marks revoke-with-key, where PrivateKey is required.
	WithKey bool
}

// RevokeResult is the answer to a revoke.
type RevokeResult struct {
	// Time is the revocation time: now, or the original one when the
	// certificate was already revoked. Zero when revocation was refused
	// with only a warning (an expired certificate).
	Time     time.Time
	Warnings []string
}

// candidate is a certificate found (or presented) for revocation.
type candidate struct {
	cert       *x509.Certificate
	colon      string
	storeCert  bool   // presented, verified, and not yet in certs/
	issuerID   string // its issuer in this mount, or records.UnassignedIssuer
	selfIssuer string // the ID of an issuer whose own serial this is
	existing   *records.RevocationRecord
}

// Revoke revokes a certificate. The order of checks and the messages are
// Vault's (path_revoke.go, crl_util.go revokeCert): both or neither field,
// the key (revoke-with-key), the certificate lookup or verification, an
// issuer's own serial, an existing revocation (its time is returned), an
// expired certificate (200 with only a warning).
func (m *Manager) Revoke(ctx context.Context, r RevokeRequest) (*RevokeResult, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	cand, err := m.find(r)
	if err != nil {
		return nil, err
	}
	if r.WithKey {
		key, err := parsePrivateKey(*r.PrivateKey)
		if err != nil {
			return nil, err
		}
		if err := keyMatches(key, cand.cert); err != nil {
			return nil, err
		}
	}
	cfg := m.CRLConfig()
	now := m.clock.Now()
	expired := cand.cert.NotAfter.Before(now.Add(2*time.Second)) && !cfg.AllowExpiredCertRevocation
	if res, err := m.answerWithoutRevoking(cand, expired); res != nil || err != nil {
		return res, err
	}
	if cfg.AutoRebuild || cfg.Disable {
		return m.revokeRecordOnly(cand, now, cfg.AutoRebuild && cfg.EnableDelta)
	}
	return m.revokeAndBuild(cand, now)
}

// answerWithoutRevoking gives Vault's answers that revoke nothing (nil when
// the certificate is to be revoked): an issuer's own serial, an existing
// revocation (its time), an expired certificate (only a warning). Vault
// stores a presented certificate before revokeCert looks at it, so it stays
// stored whatever the answer.
func (m *Manager) answerWithoutRevoking(c *candidate, expired bool) (*RevokeResult, error) {
	if c.selfIssuer == "" && c.existing == nil && !expired {
		return nil, nil
	}
	if c.storeCert {
		if err := m.storePresented(c); err != nil {
			return nil, err
		}
	}
	switch {
	case c.selfIssuer != "":
		return nil, errs.Invalidf("adding issuer (id: %s) to its own CRL is not allowed", c.selfIssuer)
	case c.existing != nil:
		return &RevokeResult{Time: c.existing.Revocation(c.colon).Time}, nil
	}
	return &RevokeResult{Warnings: []string{fmt.Sprintf(
		"certificate with serial %s already expired; refusing to add to CRL", c.colon)}}, nil
}

func (r RevokeRequest) check() error {
	haveSerial, haveCert := r.SerialNumber != nil, r.Certificate != nil
	switch {
	case !haveSerial && !haveCert:
		return errs.Invalidf("The serial number or certificate to revoke must be provided.")
	case haveSerial && haveCert:
		return errs.Invalidf("Must provide either the certificate or the serial to revoke; not both.")
	}
	if r.WithKey {
		if r.PrivateKey == nil {
			return errs.Invalidf("Must have private key to revoke via the /revoke-with-key path.")
		}
		if len(*r.PrivateKey) < 64 {
			return errs.Invalidf("Provided data for private_key was too short; perhaps a path was passed to the API rather than the contents of a PEM file?")
		}
	}
	if haveSerial && *r.SerialNumber == "" {
		return errs.Invalidf("The serial number must be provided")
	}
	return nil
}

// find looks the certificate up (by serial) or verifies the presented one
// against the mount's issuers, and gathers what revocation needs to know.
func (m *Manager) find(r RevokeRequest) (*candidate, error) {
	var presented *x509.Certificate
	if r.Certificate != nil {
		var err error
		if presented, err = parseCertPEM(*r.Certificate); err != nil {
			return nil, err
		}
	}
	var cand *candidate
	err := m.space.View(func(tx storage.Tx) error {
		issuers, _, err := m.issuers.Issuers(tx)
		if err != nil {
			return fmt.Errorf("crl: list issuers: %w", err)
		}
		if presented != nil {
			cand, err = verifyPresented(tx, presented, issuers)
		} else {
			cand, err = lookupSerial(tx, *r.SerialNumber)
		}
		if err != nil {
			return err
		}
		cand.associate(issuers)
		cand.existing, err = records.GetRevocationRecord(tx, cand.colon)
		return err
	})
	return cand, err
}

func lookupSerial(tx storage.Tx, serial string) (*candidate, error) {
	colon, err := records.NormalizeSerial(serial)
	if err != nil {
		if vaultFails(serial) {
			return nil, err // a 500 in Vault, a clear 400 here (spec Appendix E)
		}
		return nil, errs.Invalidf("certificate with serial %s not found.", serial)
	}
	// Vault looks the serial up as given, only lower-cased and with colons
	// for hyphens (path_revoke.go): bare hex, single digits or spaces name
	// no stored certificate there, so they name none here either.
	var der []byte
	if strings.ReplaceAll(strings.ToLower(serial), "-", ":") == colon {
		der = records.GetCert(tx, colon)
	}
	if der == nil {
		return nil, errs.Invalidf("certificate with serial %s not found.", serial)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("crl: stored certificate %s: %w", colon, err)
	}
	return &candidate{cert: cert, colon: colon}, nil
}

// vaultFails reports the serials Vault's storage lookup cannot handle (the
// CRL names fetchCertBySerial special-cases, and path tricks), which it
// answers with a 500; any other string simply names no certificate.
func vaultFails(serial string) bool {
	switch serial {
	case "crl", "delta-crl", "unified-crl", "unified-delta-crl", ".", "..":
		return true
	}
	return strings.Contains(serial, "/")
}

// verifyPresented handles a certificate given to revoke ("BYOC", used for
// no_store certificates): the stored copy must be the same certificate, and
// an unstored one must verify against an issuer of this mount.
func verifyPresented(tx storage.Tx, cert *x509.Certificate, issuers []Issuer) (*candidate, error) {
	colon := records.FormatSerial(cert.SerialNumber)
	if stored := records.GetCert(tx, colon); stored != nil {
		if !bytes.Equal(stored, cert.Raw) {
			// A plain Go error in Vault, so a 500 (spec Appendix C).
			return nil, errs.New(errs.InvalidVault500, "certificate with same serial but unequal value already present in this cluster's storage; refusing to revoke")
		}
		return &candidate{cert: cert, colon: colon}, nil
	}
	for _, iss := range issuers {
		if iss.Cert != nil && cert.CheckSignatureFrom(iss.Cert) == nil {
			return &candidate{cert: cert, colon: colon, storeCert: true}, nil
		}
	}
	return nil, errs.Invalidf("unable to verify signature on presented cert from any present issuer in this mount; certificates from previous CAs will need to have their issuing CA and key re-imported if revocation is necessary")
}

// associate finds the issuer that signed the certificate (same DN, valid
// signature; spec §6.2) and notices an issuer's own serial.
func (c *candidate) associate(issuers []Issuer) {
	c.issuerID = records.UnassignedIssuer
	for _, iss := range issuers {
		if iss.Cert == nil {
			continue
		}
		if records.FormatSerial(iss.Cert.SerialNumber) == c.colon && c.selfIssuer == "" {
			c.selfIssuer = iss.ID
		}
		if c.issuerID == records.UnassignedIssuer && iss.ID != c.selfIssuer &&
			bytes.Equal(c.cert.RawIssuer, iss.Cert.RawSubject) && c.cert.CheckSignatureFrom(iss.Cert) == nil {
			c.issuerID = iss.ID
		}
	}
}

func (c *candidate) record(now time.Time) *records.RevocationRecord {
	return &records.RevocationRecord{
		Version:           records.RevocationVersion,
		CertificateBytes:  c.cert.Raw,
		RevocationTime:    now.Unix(),
		RevocationTimeUTC: now.UTC(),
		IssuerID:          c.issuerID,
	}
}

// storePresented stores a verified presented certificate ("BYOC").
func (m *Manager) storePresented(c *candidate) error {
	if err := m.space.Commit(func(tx storage.Tx) error { return records.PutCert(tx, c.cert) }); err != nil {
		return fmt.Errorf("crl: store presented certificate: %w", err)
	}
	return nil
}

// writeRecord stores the revocation unless a concurrent revoke got there
// first, in which case it returns that record.
func writeRecord(tx storage.Tx, c *candidate, rec *records.RevocationRecord, wal bool) (*records.RevocationRecord, error) {
	existing, err := records.GetRevocationRecord(tx, c.colon)
	if err != nil || existing != nil {
		return existing, err
	}
	if c.storeCert {
		if err := records.PutCert(tx, c.cert); err != nil {
			return nil, err
		}
	}
	if err := records.PutRevocation(tx, c.colon, rec, c.cert.NotAfter); err != nil {
		return nil, err
	}
	if wal {
		return nil, records.PutDeltaWAL(tx, c.colon, rec.RevocationTimeUTC, c.issuerID)
	}
	return nil, nil
}

// revokeRecordOnly writes the revocation and builds nothing: the path of
// auto_rebuild=true (Vault writes a delta WAL entry when delta CRLs are on)
// and of disabled CRLs. It shares the group commit with issuance.
func (m *Manager) revokeRecordOnly(c *candidate, now time.Time, wal bool) (*RevokeResult, error) {
	rec := c.record(now)
	if prior, err := m.storeRecord(m.space.Commit, c, rec, wal); err != nil || prior != nil {
		return prior, err
	}
	return &RevokeResult{Time: rec.RevocationTimeUTC}, nil
}

// storeRecord writes the revocation (writeRecord) in a transaction of its
// own, run by commit (m.space.Update, or the group commit m.space.Commit),
// and counts the change. prior is the answer when a concurrent revoke got
// there first.
func (m *Manager) storeRecord(commit func(func(storage.Tx) error) error, c *candidate, rec *records.RevocationRecord, wal bool) (prior *RevokeResult, err error) {
	var existing *records.RevocationRecord
	err = commit(func(tx storage.Tx) error {
		var err error
		existing, err = writeRecord(tx, c, rec, wal)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("crl: store revocation: %w", err)
	}
	if existing != nil {
		return &RevokeResult{Time: existing.Revocation(c.colon).Time}, nil
	}
	m.version.Add(1)
	if wal {
		m.walVersion.Add(1)
	}
	return nil, nil
}

// revokeAndBuild is revoke with auto_rebuild=false: every CRL of the mount
// is rebuilt before answering, as Vault does (so each CRL gets a new number
// and thisUpdate, whichever issuer the certificate belongs to). The CRLs are
// signed from their cached entries, the revoked certificate's CRL with the
// new entry appended, so the cost is signing and writing the CRLs, not
// reading every revocation again; the revocation and the CRLs are committed
// in one transaction.
func (m *Manager) revokeAndBuild(c *candidate, now time.Time) (*RevokeResult, error) {
	m.buildMu.Lock()
	defer m.buildMu.Unlock()
	cfg := m.CRLConfig()
	v0 := m.version.Load()
	var s *snapshot
	caches := map[*class]*classCache{}
	fresh := false
	err := m.space.View(func(tx storage.Tx) error {
		var err error
		if c.existing, err = records.GetRevocationRecord(tx, c.colon); err != nil || c.existing != nil {
			return err
		}
		if s, err = m.snapshot(tx); err != nil {
			return err
		}
		for _, cls := range s.classes {
			if cls.signer == nil {
				continue
			}
			if cls.fresh {
				fresh = true // never built: a full build numbers it
				return nil
			}
			if caches[cls], err = m.cachedEntries(tx, s, cls, v0); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if c.existing != nil {
		return &RevokeResult{Time: c.existing.Revocation(c.colon).Time}, nil
	}
	if fresh {
		return m.revokeThenRebuild(c, now)
	}
	return m.revokeIncremental(c, now, s, caches, v0, cfg)
}

// cachedEntries returns the cached entries of a class's CRL, loading them
// when the cache is missing or stale. Callers hold buildMu.
func (m *Manager) cachedEntries(tx storage.Tx, s *snapshot, cls *class, v0 uint64) (*classCache, error) {
	cache := m.caches[cls.id]
	if cache != nil && cache.version == v0 && cache.key == cls.key {
		return cache, nil
	}
	blob, n, err := m.loadEntries(tx, s, cls, nil)
	if err != nil {
		return nil, err
	}
	cache = &classCache{key: cls.key, version: v0, blob: blob, count: n}
	m.caches[cls.id] = cache
	return cache, nil
}

// revokeIncremental appends the entry to its CRL's cached entries, signs
// every CRL (complete and delta) and commits them with the revocation.
func (m *Manager) revokeIncremental(c *candidate, now time.Time, s *snapshot, caches map[*class]*classCache, v0 uint64, cfg CRLConfig) (*RevokeResult, error) {
	rec := c.record(now)
	own := caches[s.classOf(c.issuerID)] // nil: the certificate is on no CRL
	oldLen := 0
	if own != nil {
		oldLen = len(own.blob)
		own.blob = appendEntry(own.blob, c.cert.SerialNumber.Bytes(), now)
		own.count++
	}
	undo := func() {
		if own != nil {
			own.blob, own.count = own.blob[:oldLen], own.count-1
		}
	}
	out, err := m.signAll(s, caches, cfg)
	if err != nil {
		undo()
		if errs.KindOf(err) == errs.InvalidVault500 {
			// Over max_crl_entries: Vault has stored the revocation
			// before its rebuild fails, and answers the failure.
			return m.recordThenFail(c, rec, err)
		}
		return nil, err
	}
	var existing *records.RevocationRecord
	err = m.space.Update(func(tx storage.Tx) error {
		if err := s.unchanged(tx); err != nil {
			return err
		}
		var err error
		if existing, err = writeRecord(tx, c, rec, false); err != nil || existing != nil {
			return err
		}
		if err := putSigned(tx, out); err != nil {
			return err
		}
		return records.PutCRLState(tx, &s.state.CRLState)
	})
	if errors.Is(err, errStateMoved) {
		// Another writer built CRLs meanwhile: the cached entries may
		// miss its revocations, so record this one and build afresh.
		undo()
		m.caches = map[string]*classCache{}
		return m.revokeThenRebuild(c, now)
	}
	if err != nil || existing != nil {
		undo()
		if err != nil {
			return nil, fmt.Errorf("crl: store revocation: %w", err)
		}
		return &RevokeResult{Time: existing.Revocation(c.colon).Time}, nil
	}
	// Only this revocation changed the index since v0, and every cache
	// already holds it, so all stay valid at the next version.
	if m.version.CompareAndSwap(v0, v0+1) {
		for _, cache := range caches {
			cache.version = v0 + 1
		}
	} else {
		m.version.Add(1) // another change landed meanwhile: reload next time
		m.caches = map[string]*classCache{}
	}
	return &RevokeResult{Time: rec.RevocationTimeUTC, Warnings: NumberWarnings(s.buildWarnings())}, nil
}

// signAll signs the complete and delta CRL of every class that can sign,
// around its cached entries, checking max_crl_entries as Vault does.
func (m *Manager) signAll(s *snapshot, caches map[*class]*classCache, cfg CRLConfig) ([]signed, error) {
	var out []signed
	for _, cls := range s.classes {
		cache := caches[cls]
		if cls.signer == nil || cache == nil {
			continue
		}
		if err := cfg.checkEntries(cache.count); err != nil {
			return nil, err
		}
		pair, err := m.signPair(s, cls, cfg, cache.blob, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, pair...)
	}
	return out, nil
}

// recordThenFail stores a revocation whose CRL rebuild failed, and returns
// the failure worded as Vault's revoke handler words it.
func (m *Manager) recordThenFail(c *candidate, rec *records.RevocationRecord, buildErr error) (*RevokeResult, error) {
	if prior, err := m.storeRecord(m.space.Update, c, rec, false); err != nil || prior != nil {
		return prior, err
	}
	return nil, rebuildError(buildErr)
}

// revokeThenRebuild records the revocation and then builds every CRL: the
// path taken when some CRL was never built yet.
func (m *Manager) revokeThenRebuild(c *candidate, now time.Time) (*RevokeResult, error) {
	rec := c.record(now)
	if prior, err := m.storeRecord(m.space.Update, c, rec, false); err != nil || prior != nil {
		return prior, err
	}
	ws, err := m.rebuildLocked(false)
	if err != nil {
		return nil, rebuildError(err)
	}
	return &RevokeResult{Time: rec.RevocationTimeUTC, Warnings: NumberWarnings(ws)}, nil
}

// RecordIssuerRevocation writes, within the caller's transaction, the
// revocation record of an issuer's own certificate, as Vault does on
// issuer/:ref/revoke when that certificate is in this mount's certificate
// store (spec §3.2); ca.Authority calls it (ca.IssuerRevocationRecorder)
// and rebuilds the CRLs after its commit. The issuer itself reaches its
// parents' CRLs through Issuer.Revoked. Recording twice keeps the first time.
func (m *Manager) RecordIssuerRevocation(tx storage.Tx, cert *x509.Certificate, at time.Time) error {
	colon := records.FormatSerial(cert.SerialNumber)
	if records.GetCert(tx, colon) == nil {
		return nil
	}
	if rec, err := records.GetRevocationRecord(tx, colon); err != nil || rec != nil {
		return err
	}
	issuers, _, err := m.issuers.Issuers(tx)
	if err != nil {
		return fmt.Errorf("crl: record issuer revocation: %w", err)
	}
	c := &candidate{cert: cert, colon: colon}
	c.associate(issuers)
	rec := c.record(at)
	if err := records.PutRevocationRecord(tx, colon, rec); err != nil {
		return err
	}
	// The commit is the caller's, so the index version is bumped now; a
	// build that reads before the commit still sees a changed class (the
	// issuer is revoked), which invalidates its cached entries.
	defer m.version.Add(1)
	// A self-signed certificate is on no CRL at all; one signed by another
	// issuer of the mount is indexed under it, so it stays on that CRL
	// should the revoked issuer itself be deleted.
	if c.issuerID == records.UnassignedIssuer {
		return nil
	}
	return records.PutRevIndex(tx, c.issuerID, colon, records.RevIndexValue(rec.RevocationTimeUTC, cert.NotAfter))
}

// ListRevoked lists revoked serials (colon form) after the given serial
// (either form) and at most limit of them when limit > 0.
func (m *Manager) ListRevoked(ctx context.Context, after string, limit int) ([]string, error) {
	var keys []string
	err := m.space.View(func(tx storage.Tx) error {
		var err error
		keys, err = records.ListRevocations(tx, after, limit)
		return err
	})
	return keys, err
}

// parseCertPEM reads the certificate given to revoke, with Vault's
// messages (path_revoke.go), all of them 400s.
func parseCertPEM(s string) (*x509.Certificate, error) {
	if len(s) < 75 {
		return nil, errs.Invalidf("provided certificate data was too short; perhaps a path was passed to the API rather than the contents of a PEM file")
	}
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, errs.Invalidf("certificate contains no PEM data")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, errs.Invalidf("certificate could not be parsed: %v", err)
	}
	return cert, nil
}

// parsePrivateKey reads revoke-with-key's PEM key as Vault does
// (certutil.ParseDERKey: SEC 1, then PKCS#1, then PKCS#8). Vault returns its
// key errors as Go errors, so they are 500s (spec Appendix C), worded as
// Vault words them.
func parsePrivateKey(s string) (crypto.Signer, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, errs.New(errs.InvalidVault500, "provided key PEM block contained no data or failed to parse")
	}
	ecKey, ecErr := x509.ParseECPrivateKey(block.Bytes)
	if ecErr == nil {
		return ecKey, nil
	}
	rsaKey, rsaErr := x509.ParsePKCS1PrivateKey(block.Bytes)
	if rsaErr == nil {
		return rsaKey, nil
	}
	k, p8Err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if p8Err == nil {
		if signer, ok := k.(crypto.Signer); ok {
			return signer, nil
		}
		return nil, errs.New(errs.InvalidVault500, "failed to parse provided private key: unknown type for parsed PKCS8 Private Key")
	}
	return nil, errs.Newf(errs.InvalidVault500, "failed to parse provided private key: got errors attempting to parse DER private key:\n1. %v\n2. %v\n3. %v", ecErr, rsaErr, p8Err)
}

// keyMatches checks possession on revoke-with-key. Every refusal is a 500
// in Vault (spec Appendix C), so errs.InvalidVault500 with Vault's text.
func keyMatches(key crypto.Signer, cert *x509.Certificate) error {
	typeMismatch := errs.New(errs.InvalidVault500, "provided private key type does not match certificate's public key type")
	switch cert.PublicKey.(type) {
	case *rsa.PublicKey:
		rk, ok := key.(*rsa.PrivateKey)
		if !ok {
			return typeMismatch
		}
		if err := rk.Validate(); err != nil {
			return errs.Newf(errs.InvalidVault500, "error validating integrity of private key: %v", err)
		}
	case *ecdsa.PublicKey:
		if _, ok := key.Public().(*ecdsa.PublicKey); !ok {
			return typeMismatch
		}
	case ed25519.PublicKey:
		if _, ok := key.Public().(ed25519.PublicKey); !ok {
			return typeMismatch
		}
	default:
		return errs.New(errs.InvalidVault500, "certificate has an unknown public key algorithm; unable to validate provided private key; ask an admin to revoke this certificate instead")
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return errs.New(errs.InvalidVault500, "provided private key does not match certificate's public key")
	}
	return nil
}
