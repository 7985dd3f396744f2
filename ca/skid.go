package ca

import (
	"crypto"
	"crypto/sha1" //nolint:gosec // RFC 5280 §4.2.1.2 method 1 is defined with SHA-1
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// SubjectKeyID computes the Subject Key Identifier of a public key as Vault
// does (certutil GetSubjectKeyID, RFC 5280 §4.2.1.2 method 1): the SHA-1 of
// the subjectPublicKey BIT STRING of the SubjectPublicKeyInfo. That is the
// PKCS#1 RSAPublicKey DER for RSA, the uncompressed point for EC and the raw
// 32 bytes for Ed25519. Every certificate pkid makes carries it, and its
// issuer's value as the Authority Key Identifier.
func SubjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("ca: subject key id: %w", err)
	}
	bits, err := subjectPublicKeyBits(spki)
	if err != nil {
		return nil, err
	}
	sum := sha1.Sum(bits) //nolint:gosec // see import
	return sum[:], nil
}

// subjectPublicKeyBits extracts the key bits from a DER
// SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier,
// subjectPublicKey BIT STRING }.
func subjectPublicKeyBits(spki []byte) ([]byte, error) {
	in := cryptobyte.String(spki)
	var seq, alg cryptobyte.String
	var bits asn1.BitString
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) ||
		!seq.ReadASN1(&alg, cbasn1.SEQUENCE) ||
		!seq.ReadASN1BitString(&bits) {
		return nil, fmt.Errorf("ca: subject key id: malformed SubjectPublicKeyInfo")
	}
	return bits.RightAlign(), nil
}

// FormatKeyID renders a key identifier as Vault does (subject_key_id):
// lower-case hex pairs joined by ':'.
func FormatKeyID(id []byte) string {
	var sb strings.Builder
	for i, c := range id {
		if i > 0 {
			sb.WriteByte(':')
		}
		fmt.Fprintf(&sb, "%02x", c)
	}
	return sb.String()
}
