package ca

import (
	"bytes"
	"crypto/x509"
)

// Data renders the leaf as Vault's issue, sign and sign-verbatim answers
// (spec §3.1, §5.7–5.9): certificate, issuing_ca, ca_chain (the issuer and
// its parents; omitted when empty), serial_number, expiration and not_before
// as JSON integers, and for issue private_key and private_key_type.
//
// format der gives base64 DER everywhere; pem_bundle puts the private key
// (always in its native encoding), the certificate and the whole chain into
// certificate. private_key_format pkcs8 only re-encodes private_key.
func (l *Leaf) Data() (map[string]any, error) {
	d := map[string]any{
		"serial_number": l.Serial,
		"expiration":    l.Cert.NotAfter.Unix(),
		"not_before":    l.Cert.NotBefore.Unix(),
		"issuing_ca":    l.encodeCert(l.Issuer.Cert.Raw),
		"certificate":   l.encodeCert(l.Cert.Raw),
	}
	if chain := l.chain(); len(chain) > 0 {
		out := make([]string, len(chain))
		for i, c := range chain {
			out[i] = l.encodeCert(c.Raw)
		}
		d["ca_chain"] = out
	}
	if l.Key != nil {
		key, err := l.encodeKey(l.privateKeyFormat)
		if err != nil {
			return nil, err
		}
		d["private_key"] = key
		d["private_key_type"] = KeyTypeOf(l.Key.Public())
	}
	if l.format == FormatPEMBundle {
		parts := make([]string, 0, 2+len(l.Issuer.Chain))
		if l.Key != nil {
			native, err := l.encodeKey("")
			if err != nil {
				return nil, err
			}
			parts = append(parts, native)
		}
		parts = append(parts, CertPEM(l.Cert.Raw))
		for _, c := range l.Issuer.Chain {
			parts = append(parts, CertPEM(c.Raw))
		}
		d["certificate"] = PEMBundle(parts...)
	}
	return d, nil
}

// encodeCert renders a certificate of the answer in the request's format.
func (l *Leaf) encodeCert(der []byte) string { return EncodeCert(l.format, der) }

// encodeKey renders the generated key in the request's format.
func (l *Leaf) encodeKey(privateKeyFormat string) (string, error) {
	return EncodePrivateKey(l.Key, l.format, privateKeyFormat)
}

// chain is the ca_chain of the answer: the issuer's chain, without
// self-signed certificates when remove_roots_from_chain was asked.
func (l *Leaf) chain() []*x509.Certificate {
	if !l.removeRoots {
		return l.Issuer.Chain
	}
	var out []*x509.Certificate
	for _, c := range l.Issuer.Chain {
		if !chainRoot(c) {
			out = append(out, c)
		}
	}
	return out
}

// chainRoot is Vault's test for the entries remove_roots_from_chain drops:
// an Authority Key Identifier equal to the Subject Key Identifier, or,
// without one, a self-issued certificate its own key verifies.
func chainRoot(c *x509.Certificate) bool {
	if len(c.AuthorityKeyId) > 0 {
		return bytes.Equal(c.AuthorityKeyId, c.SubjectKeyId)
	}
	return IsSelfSigned(c)
}
