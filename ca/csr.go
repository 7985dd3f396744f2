package ca

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"

	"github.com/pkid-dev/pkid/errs"
)

// ParseCSR decodes the PEM certificate request a client sent in "csr", with
// Vault's errors (errs.Invalid):
//
//	"csr" is empty
//	csr contains no data                                  (no PEM block)
//	certificate request could not be parsed: <reason>
//
// Only the first PEM block is read, whatever its type, as Vault does. The
// signature is not checked here: Vault checks it last, after names and
// validity (see CheckCSRSignature).
func ParseCSR(text string) (*x509.CertificateRequest, error) {
	if text == "" {
		return nil, errs.Invalidf(`"csr" is empty`)
	}
	block, _ := pem.Decode([]byte(text))
	if block == nil {
		return nil, errs.Invalidf("csr contains no data")
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, errs.Invalidf("certificate request could not be parsed: %v", err)
	}
	return csr, nil
}

// CheckCSRSignature verifies a CSR's self-signature: the proof that the
// requester holds the private key. Failure is errs.Invalid
// "request signature invalid", as in Vault.
func CheckCSRSignature(csr *x509.CertificateRequest) error {
	if err := csr.CheckSignature(); err != nil {
		return errs.Wrap(errs.Invalid, err, "request signature invalid")
	}
	return nil
}

// CheckCSRKey applies the key checks every CSR-signing path makes before
// any role rule: the key must be one Go understood (else Vault's
// "Refusing to sign CSR with empty PublicKey..." message) and of a supported
// type, and RSA keys must have at least 2048 bits
// ("RSA keys < 2048 bits are unsafe and not supported", without the size,
// as Vault words it on these paths). It returns the key type and size
// (0 for Ed25519).
func CheckCSRKey(csr *x509.CertificateRequest) (keyType string, bits int, err error) {
	if csr.PublicKeyAlgorithm == x509.UnknownPublicKeyAlgorithm || csr.PublicKey == nil {
		return "", 0, errs.Invalidf("Refusing to sign CSR with empty PublicKey. This usually means the SubjectPublicKeyInfo field has an OID not recognized by Go, such as 1.2.840.113549.1.1.10 for rsaPSS.")
	}
	switch k := csr.PublicKey.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return "", 0, errs.Invalidf("RSA keys < 2048 bits are unsafe and not supported")
		}
		return KeyTypeRSA, k.N.BitLen(), nil
	case *ecdsa.PublicKey:
		return KeyTypeEC, k.Params().BitSize, nil
	case ed25519.PublicKey:
		return KeyTypeEd25519, 0, nil
	}
	return "", 0, errs.Invalidf("Unknown key type in CSR: %s", csr.PublicKeyAlgorithm)
}
