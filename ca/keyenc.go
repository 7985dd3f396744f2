package ca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"

	"github.com/pkid-dev/pkid/errs"
)

// PEM block types of private keys (spec §5.8).
const (
	pemRSAPrivateKey = "RSA PRIVATE KEY" // PKCS#1
	pemECPrivateKey  = "EC PRIVATE KEY"  // SEC 1
	pemPKCS8         = "PRIVATE KEY"     // PKCS#8
)

// PrivateKeyFormatPKCS8 is the private_key_format value that re-encodes a
// returned key as PKCS#8; every other value ("", "der", "pem") keeps the
// key's native encoding, as Vault does.
const PrivateKeyFormatPKCS8 = "pkcs8"

// MarshalPrivateKey returns key's DER in Vault's native encoding and the
// matching PEM block type: RSA as PKCS#1 "RSA PRIVATE KEY", EC as SEC 1
// "EC PRIVATE KEY", Ed25519 as PKCS#8 "PRIVATE KEY" (it has no other form).
func MarshalPrivateKey(key crypto.Signer) (der []byte, blockType string, err error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return x509.MarshalPKCS1PrivateKey(k), pemRSAPrivateKey, nil
	case *ecdsa.PrivateKey:
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			return nil, "", fmt.Errorf("ca: marshal EC key: %w", err)
		}
		return der, pemECPrivateKey, nil
	case ed25519.PrivateKey:
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return nil, "", fmt.Errorf("ca: marshal Ed25519 key: %w", err)
		}
		return der, pemPKCS8, nil
	}
	return nil, "", fmt.Errorf("ca: unsupported private key type %T", key)
}

// marshalPrivateKeyAs is MarshalPrivateKey, or PKCS#8 for every key type
// when privateKeyFormat is "pkcs8".
func marshalPrivateKeyAs(key crypto.Signer, privateKeyFormat string) ([]byte, string, error) {
	if privateKeyFormat != PrivateKeyFormatPKCS8 {
		return MarshalPrivateKey(key)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, "", fmt.Errorf("ca: marshal PKCS#8 key: %w", err)
	}
	return der, pemPKCS8, nil
}

// PrivateKeyPEM returns key as PEM in its native encoding (see
// MarshalPrivateKey), without a trailing newline as Vault returns it.
func PrivateKeyPEM(key crypto.Signer) (string, error) {
	return EncodePrivateKey(key, FormatPEM, "")
}

// EncodePrivateKey renders key as the private_key field of a response:
// base64 of the DER for format "der", PEM (no trailing newline) for "pem"
// and "pem_bundle". privateKeyFormat "pkcs8" re-encodes every key type as
// PKCS#8 ("PRIVATE KEY"); any other value keeps the native encoding
// (spec §3.0, §5.8, §5.9).
func EncodePrivateKey(key crypto.Signer, format, privateKeyFormat string) (string, error) {
	der, blockType, err := marshalPrivateKeyAs(key, privateKeyFormat)
	if err != nil {
		return "", err
	}
	if format == FormatDER {
		return base64.StdEncoding.EncodeToString(der), nil
	}
	return pemText(blockType, der), nil
}

// ParsePrivateKeyDER parses an unencrypted private key in any encoding
// Vault imports: SEC 1, PKCS#1 or PKCS#8 (RSA, EC or Ed25519).
func ParsePrivateKeyDER(der []byte) (crypto.Signer, error) {
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, errs.Invalidf("unable to parse private key: not an unencrypted PKCS#1, SEC 1 or PKCS#8 key")
	}
	switch s := k.(type) {
	case *rsa.PrivateKey:
		return s, nil
	case *ecdsa.PrivateKey:
		return s, nil
	case ed25519.PrivateKey:
		return s, nil
	}
	return nil, errs.Invalidf("unsupported private key type %T", k)
}

// ParsePrivateKeyPEM parses the first PEM block of text as a private key
// (see ParsePrivateKeyDER). Encrypted PEM keys are refused.
func ParsePrivateKeyPEM(text string) (crypto.Signer, error) {
	block, _ := pem.Decode([]byte(text))
	if block == nil {
		return nil, errs.Invalidf("no data found in PEM block")
	}
	//lint:ignore SA1019 legacy encrypted PEM is detected only to refuse it
	if x509.IsEncryptedPEMBlock(block) {
		return nil, errs.Invalidf("Encrypted private key given; provide only decrypted private key in the bundle")
	}
	return ParsePrivateKeyDER(block.Bytes)
}

// publicKeysEqual reports whether two public keys are the same key.
func publicKeysEqual(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := a.(equaler)
	return ok && e.Equal(b)
}
