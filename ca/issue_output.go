package ca

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"strings"
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
		parts = append(parts, pemText("CERTIFICATE", l.Cert.Raw))
		for _, c := range l.Issuer.Chain {
			parts = append(parts, pemText("CERTIFICATE", c.Raw))
		}
		d["certificate"] = PEMBundle(parts...)
	}
	return d, nil
}

// encodeCert is EncodeCert with the faster PEM encoder.
func (l *Leaf) encodeCert(der []byte) string {
	if l.format == FormatDER {
		return base64.StdEncoding.EncodeToString(der)
	}
	return pemText("CERTIFICATE", der)
}

// encodeKey is EncodePrivateKey with the faster PEM encoder.
func (l *Leaf) encodeKey(privateKeyFormat string) (string, error) {
	der, blockType, err := marshalPrivateKeyAs(l.Key, privateKeyFormat)
	if err != nil {
		return "", err
	}
	if l.format == FormatDER {
		return base64.StdEncoding.EncodeToString(der), nil
	}
	return pemText(blockType, der), nil
}

// pemText renders one PEM block (RFC 7468: 64-character lines) without the
// trailing newline, as Vault returns PEM in JSON fields. It is
// encoding/pem's output in a single allocation: pem.EncodeToMemory's
// streaming encoder made a third of the issue path's garbage.
func pemText(blockType string, der []byte) string {
	const lineLen, chunk = 64, 48 // 48 bytes encode to one 64-character line
	n := base64.StdEncoding.EncodedLen(len(der))
	var b strings.Builder
	b.Grow(len("-----BEGIN -----\n") + 2*len(blockType) + n + n/lineLen + 1 + len("-----END -----"))
	b.WriteString("-----BEGIN ")
	b.WriteString(blockType)
	b.WriteString("-----\n")
	var line [lineLen]byte
	for len(der) > 0 {
		m := min(chunk, len(der))
		base64.StdEncoding.Encode(line[:], der[:m])
		b.Write(line[:base64.StdEncoding.EncodedLen(m)])
		b.WriteByte('\n')
		der = der[m:]
	}
	b.WriteString("-----END ")
	b.WriteString(blockType)
	b.WriteString("-----")
	return b.String()
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
