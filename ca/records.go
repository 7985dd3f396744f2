package ca

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"fmt"
	"github.com/pkid-dev/pkid/records"
	"sort"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/randid"
	"github.com/pkid-dev/pkid/storage"
)

// storeKey records key within tx unless a key with the same public key is
// already stored, in which case that key is returned with existed=true (keys
// are de-duplicated by public key, spec §6.5). A new key links every keyless
// issuer with the same public key, may become the default issuer's key, and
// becomes the default key when none is set.
func (a *Authority) storeKey(tx storage.Tx, key crypto.Signer, name, pendingIssuerName string) (rec *records.Key, existed bool, err error) {
	keys, err := records.AllKeys(tx)
	if err != nil {
		return nil, false, err
	}
	for _, k := range keys {
		s, err := a.signer(k.PrivateKey)
		if err != nil {
			return nil, false, err
		}
		if publicKeysEqual(s.Public(), key.Public()) {
			return k, true, nil
		}
	}
	if taken, err := keyKind.nameTaken(tx, name, ""); err != nil {
		return nil, false, err
	} else if taken {
		return nil, false, errKeyNameInUse
	}
	id, err := randid.UUID(a.cfg.Rand)
	if err != nil {
		return nil, false, err
	}
	pemText, err := PrivateKeyPEM(key)
	if err != nil {
		return nil, false, err
	}
	rec = &records.Key{ID: id, Name: name, Type: KeyTypeOf(key.Public()), PrivateKey: pemText + "\n",
		PendingIssuerName: pendingIssuerName}
	a.rememberSigner(rec.PrivateKey, key)
	if err := records.PutKey(tx, rec); err != nil {
		return nil, false, err
	}
	if err := a.linkIssuersToKey(tx, rec, key.Public()); err != nil {
		return nil, false, err
	}
	kc, err := records.GetKeysConfig(tx)
	if err != nil {
		return nil, false, err
	}
	if kc.Default == "" {
		kc.Default = rec.ID
		if err := records.PutKeysConfig(tx, kc); err != nil {
			return nil, false, err
		}
	}
	return rec, false, nil
}

// linkIssuersToKey points keyless issuers with pub at the new key; the
// first of them becomes the default issuer when none is set.
func (a *Authority) linkIssuersToKey(tx storage.Tx, key *records.Key, pub crypto.PublicKey) error {
	issuers, err := records.AllIssuers(tx)
	if err != nil {
		return err
	}
	cfg, err := records.GetIssuersConfig(tx)
	if err != nil {
		return err
	}
	for _, is := range issuers {
		if is.KeyID != "" {
			continue
		}
		cert, err := a.cert(is.Certificate)
		if err != nil {
			return err
		}
		if !publicKeysEqual(cert.PublicKey, pub) {
			continue
		}
		is.KeyID = key.ID
		if err := records.PutIssuer(tx, is); err != nil {
			return err
		}
		if cfg.Default == "" {
			cfg.Default = is.ID
			if err := records.PutIssuersConfig(tx, cfg); err != nil {
				return err
			}
		}
	}
	return nil
}

// errNotCA is Vault's refusal of a certificate that cannot be an issuer.
var errNotCA = errs.New(errs.Invalid, "Refusing to import non-CA certificate")

// storeIssuer records cert as an issuer within tx unless the same
// certificate (exact DER) is already one, which is then returned with
// existed=true. A new issuer gets every usage (but crl-signing without the
// CRLSign key usage), leaf_not_after_behavior err, the key with the same
// public key if one is stored, and name — or, when name is "", the name
// that intermediate/generate left on that key. It becomes the default
// issuer when it has a key and no default is set. Chains are not rebuilt
// here: call rebuildChains once the batch is stored. note is set when the
// key's pending name could not be given (another issuer took it).
func (a *Authority) storeIssuer(tx storage.Tx, cert *x509.Certificate, name string) (rec *records.Issuer, existed bool, note string, err error) {
	if !cert.BasicConstraintsValid || !cert.IsCA {
		return nil, false, "", errNotCA
	}
	if cert.PublicKeyAlgorithm == x509.UnknownPublicKeyAlgorithm || cert.PublicKey == nil {
		return nil, false, "", errs.Invalidf("Refusing to import CA certificate with empty PublicKey. This usually means the SubjectPublicKeyInfo field has an OID not recognized by Go, such as 1.2.840.113549.1.1.10 for rsaPSS.")
	}
	issuers, err := records.AllIssuers(tx)
	if err != nil {
		return nil, false, "", err
	}
	for _, is := range issuers {
		c, err := a.cert(is.Certificate)
		if err != nil {
			return nil, false, "", err
		}
		if bytes.Equal(c.Raw, cert.Raw) {
			return is, true, "", nil
		}
		if name != "" && is.Name == name {
			return nil, false, "", errIssuerNameInUse
		}
	}
	id, err := randid.UUID(a.cfg.Rand)
	if err != nil {
		return nil, false, "", err
	}
	rec = &records.Issuer{
		ID: id, Name: name, Certificate: IssuerPEM(cert.Raw),
		SerialNumber:         formatSerial(cert),
		LeafNotAfterBehavior: NotAfterErr,
		Usage:                UsageAll,
		LastModified:         a.cfg.Clock.Now().UTC(),
	}
	a.rememberCert(rec.Certificate, cert)
	if cert.KeyUsage&x509.KeyUsageCRLSign == 0 {
		rec.Usage &^= UsageCRLSigning
	}
	note, err = a.linkKey(tx, rec, cert.PublicKey)
	if err != nil {
		return nil, false, "", err
	}
	if err := records.PutIssuer(tx, rec); err != nil {
		return nil, false, "", err
	}
	if rec.KeyID != "" {
		cfg, err := records.GetIssuersConfig(tx)
		if err != nil {
			return nil, false, "", err
		}
		if cfg.Default == "" {
			cfg.Default = rec.ID
			if err := records.PutIssuersConfig(tx, cfg); err != nil {
				return nil, false, "", err
			}
		}
	}
	return rec, false, note, nil
}

// linkKey sets rec.KeyID to the stored key with pub, and takes the key's
// pending issuer name when rec has none and the name is free (else it
// returns a note saying so).
func (a *Authority) linkKey(tx storage.Tx, rec *records.Issuer, pub crypto.PublicKey) (string, error) {
	keys, err := records.AllKeys(tx)
	if err != nil {
		return "", err
	}
	for _, k := range keys {
		s, err := a.signer(k.PrivateKey)
		if err != nil {
			return "", err
		}
		if !publicKeysEqual(s.Public(), pub) {
			continue
		}
		rec.KeyID = k.ID
		if k.PendingIssuerName == "" || rec.Name != "" {
			return "", nil
		}
		taken, err := issuerKind.nameTaken(tx, k.PendingIssuerName, rec.ID)
		if err != nil {
			return "", err
		}
		var note string
		if taken {
			note = fmt.Sprintf("The issuer_name %q given when this key's CSR was generated is now used by another issuer; issuer %s was left unnamed.", k.PendingIssuerName, rec.ID)
		} else {
			rec.Name = k.PendingIssuerName
		}
		k.PendingIssuerName = ""
		return note, records.PutKey(tx, k)
	}
	return "", nil
}

// rebuildChains recomputes every issuer's ca_chain (spec §6.5): itself,
// then every issuer of the mount that signed it (same subject as its
// issuer and a verifying key), recursively, roots before cross-signed
// parents; or its manual_chain. Records whose chain changed are written.
func (a *Authority) rebuildChains(tx storage.Tx) error {
	recs, err := records.AllIssuers(tx)
	if err != nil {
		return err
	}
	g := chainGraph{byID: map[string]*records.Issuer{}, cert: map[string]*x509.Certificate{}, parents: map[string][]string{}}
	for _, r := range recs {
		c, err := a.cert(r.Certificate)
		if err != nil {
			return err
		}
		g.byID[r.ID], g.cert[r.ID] = r, c
	}
	for _, child := range recs {
		g.parents[child.ID] = g.findParents(a, child.ID, recs)
	}
	for _, r := range recs {
		chain := g.chainOf(r.ID)
		if equalStrings(chain, r.CAChain) {
			continue
		}
		r.CAChain = chain
		if err := records.PutIssuer(tx, r); err != nil {
			return err
		}
	}
	return nil
}

type chainGraph struct {
	byID    map[string]*records.Issuer
	cert    map[string]*x509.Certificate
	parents map[string][]string
}

// findParents lists the issuers that signed child: self-signed ones first,
// then by ID, for a stable order.
func (g *chainGraph) findParents(a *Authority, child string, recs []*records.Issuer) []string {
	cc := g.cert[child]
	var out []string
	for _, p := range recs {
		pc := g.cert[p.ID]
		if p.ID == child || !bytes.Equal(pc.RawSubject, cc.RawIssuer) {
			continue
		}
		if a.isSignedBy(child, cc, p.ID, pc) {
			out = append(out, p.ID)
		}
	}
	root := make(map[string]bool, len(out))
	for _, id := range out {
		c := g.cert[id]
		root[id] = bytes.Equal(c.RawIssuer, c.RawSubject) && a.isSignedBy(id, c, id, c)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if root[out[i]] != root[out[j]] {
			return root[out[i]]
		}
		return out[i] < out[j]
	})
	return out
}

func (g *chainGraph) chainOf(id string) []string {
	rec := g.byID[id]
	if len(rec.ManualChain) > 0 {
		var chain []string
		for _, m := range rec.ManualChain {
			if r, ok := g.byID[m]; ok {
				chain = append(chain, r.Certificate)
			}
		}
		return chain
	}
	var chain []string
	seen := map[string]bool{}
	var walk func(id string)
	walk = func(id string) {
		if seen[id] {
			return
		}
		seen[id] = true
		chain = append(chain, g.byID[id].Certificate)
		for _, p := range g.parents[id] {
			walk(p)
		}
	}
	walk(id)
	return chain
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// setDefaultIssuer makes id the default issuer.
func setDefaultIssuer(tx storage.Tx, id string) error {
	cfg, err := records.GetIssuersConfig(tx)
	if err != nil {
		return err
	}
	cfg.Default = id
	return records.PutIssuersConfig(tx, cfg)
}

func formatSerial(c *x509.Certificate) string { return records.FormatSerial(c.SerialNumber) }
