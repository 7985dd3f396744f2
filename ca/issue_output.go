package ca

import (
	"bytes"
	"crypto/x509"
)

// LeafOutput is an issued or signed certificate encoded as its request
// asked (format, private_key_format, remove_roots_from_chain): the typed
// result that the API renders into Vault's answer (spec §3.1, §5.7–5.9).
type LeafOutput struct {
	// Certificate is the leaf; with pem_bundle it also holds the private
	// key (always in its native encoding) and the issuer's whole chain.
	Certificate string
	IssuingCA   string
	// CAChain is the issuer and its parents, nil when empty.
	CAChain []string
	// PrivateKey and PrivateKeyType are set for issue only.
	PrivateKey     string
	PrivateKeyType string
}

// Output encodes the leaf. format der gives base64 DER everywhere;
// private_key_format pkcs8 only re-encodes PrivateKey.
func (l *Leaf) Output() (LeafOutput, error) {
	o := LeafOutput{
		IssuingCA:   l.encodeCert(l.Issuer.Cert.Raw),
		Certificate: l.encodeCert(l.Cert.Raw),
	}
	for _, c := range l.chain() {
		o.CAChain = append(o.CAChain, l.encodeCert(c.Raw))
	}
	if l.Key != nil {
		key, err := l.encodeKey(l.privateKeyFormat)
		if err != nil {
			return o, err
		}
		o.PrivateKey, o.PrivateKeyType = key, KeyTypeOf(l.Key.Public())
	}
	if l.format != FormatPEMBundle {
		return o, nil
	}
	parts := make([]string, 0, 2+len(l.Issuer.Chain))
	if l.Key != nil {
		native, err := l.encodeKey("")
		if err != nil {
			return o, err
		}
		parts = append(parts, native)
	}
	parts = append(parts, CertPEM(l.Cert.Raw))
	for _, c := range l.Issuer.Chain {
		parts = append(parts, CertPEM(c.Raw))
	}
	o.Certificate = PEMBundle(parts...)
	return o, nil
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
