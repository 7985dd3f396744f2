package ca

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"

	"github.com/pkid-dev/pkid/roles"
)

// leafPath tells the two signature-algorithm rules apart (spec §5.6): on
// issue/:role an ECDSA issuer always uses its curve's hash; on the CSR paths
// a non-zero signature_bits picks it.
type leafPath int

const (
	issuePath leafPath = iota
	csrPath
)

// leafTemplate turns a plan into a certificate template for issuer si:
// subject, validity, SANs (a hand-built SAN extension when there are
// otherName SANs), usages, policies, basic constraints, AIA / CRL locations
// and the signature algorithm. The Subject and Authority Key Identifiers are
// set when signing.
func leafTemplate(p *roles.LeafPlan, serial *big.Int, si *SigningIssuer, path leafPath) (*x509.Certificate, error) {
	t := &x509.Certificate{
		SerialNumber:       serial,
		Subject:            p.Subject,
		RawSubject:         p.RawSubject,
		NotBefore:          p.NotBefore,
		NotAfter:           p.NotAfter,
		DNSNames:           p.DNSNames,
		EmailAddresses:     p.EmailAddresses,
		IPAddresses:        p.IPAddresses,
		URIs:               p.URIs,
		KeyUsage:           p.KeyUsage,
		ExtKeyUsage:        p.ExtKeyUsage,
		UnknownExtKeyUsage: p.UnknownExtKeyUsage,
		PolicyIdentifiers:  p.Policies.OIDs,
		// A leaf is never a CA; with the role flag the extension says so
		// (cA FALSE), otherwise it is left out (spec §5.4).
		BasicConstraintsValid: p.BasicConstraintsValidForNonCA,
		ExtraExtensions:       append([]pkix.Extension(nil), p.ExtraExtensions...),
	}
	if p.Policies.Extension != nil {
		// Go cannot encode policy qualifiers; an extra extension with the
		// same OID replaces the one Go would build from PolicyIdentifiers.
		t.ExtraExtensions = append(t.ExtraExtensions, *p.Policies.Extension)
	}
	if err := si.URLs.Apply(t); err != nil {
		return nil, err
	}
	others, err := otherNames(p.OtherSANs)
	if err != nil {
		return nil, err
	}
	if err := SetOtherSANs(t, others); err != nil {
		return nil, err
	}
	usePSS := leafUsesPSS(p.Key)
	switch path {
	case issuePath:
		t.SignatureAlgorithm = si.SignatureAlgorithm(p.Key.SignatureBits, usePSS)
	default:
		t.SignatureAlgorithm = si.CSRSignatureAlgorithm(p.Key.SignatureBits, usePSS)
	}
	return t, nil
}

// leafUsesPSS is how Vault's certutil (certTemplateSetSigAlgo) reads use_pss
// for a leaf signed by an RSA issuer: PSS only together with a signature
// size it knows. With any other size, 0 included (ec, ed25519 and any roles,
// or sign-verbatim of a non-RSA CSR), the template keeps Go's default,
// PKCS #1 v1.5 with SHA-256, whatever use_pss says.
func leafUsesPSS(k roles.KeySpec) bool {
	switch k.SignatureBits {
	case 256, 384, 512:
		return k.UsePSS
	}
	return false
}

// otherNames converts the plan's other SANs (checked against the role) to
// the encoder's form.
func otherNames(in []roles.OtherName) ([]OtherName, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]OtherName, 0, len(in))
	for _, o := range in {
		oid, err := roles.ParseOID(o.OID)
		if err != nil {
			return nil, fmt.Errorf("ca: other SAN OID %q: %w", o.OID, err)
		}
		out = append(out, OtherName{OID: oid, Value: o.Value})
	}
	return out, nil
}

// signLeaf draws a serial, builds the template and signs it for pub. This
// is the slow, CPU-bound step: it runs outside any storage transaction.
func (a *Authority) signLeaf(p *roles.LeafPlan, pub crypto.PublicKey, si *SigningIssuer, path leafPath) (*x509.Certificate, error) {
	serial, err := NewSerial(a.cfg.Rand)
	if err != nil {
		return nil, err
	}
	tmpl, err := leafTemplate(p, serial, si, path)
	if err != nil {
		return nil, err
	}
	return signLeafCert(a.cfg.Rand, tmpl, si.Cert, pub, si.Signer)
}

// leafKey makes the private key of an issued leaf: RSA from the pool, EC
// and Ed25519 freshly generated. Seeded keys are never pooled: a background
// filler would draw them out of order.
func (a *Authority) leafKey(spec roles.KeySpec) (crypto.Signer, error) {
	if spec.Type == KeyTypeRSA && a.cfg.Keys == nil {
		bits, err := ValidateKeyTypeBits(spec.Type, spec.Bits)
		if err != nil {
			return nil, err
		}
		return a.leaf.keys.take(a.cfg.Rand, bits)
	}
	return a.newKey(spec.Type, spec.Bits)
}

// WarmLeafKeys starts pooling RSA keys for a role that issues them, so that
// its first burst of issues finds keys ready.
func (a *Authority) WarmLeafKeys(role *roles.Role) {
	if role == nil || role.KeyType != KeyTypeRSA || a.cfg.Keys != nil {
		return
	}
	bits := DefaultKeyBits(KeyTypeRSA, role.KeyBits)
	a.leaf.keys.warm(a.cfg.Rand, bits)
}
