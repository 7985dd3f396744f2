package ca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"fmt"
	"io"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/roles"
)

// Key types as Vault names them in key_type and private_key_type.
const (
	KeyTypeRSA     = "rsa"
	KeyTypeEC      = "ec"
	KeyTypeEd25519 = "ed25519"
)

// minRSABits is the smallest RSA modulus Vault generates or accepts
// (certutil rsaMinimumSecureKeySize).
const minRSABits = 2048

// DefaultKeyBits returns Vault's key size for key_bits=0 (certutil
// DefaultOrValueKeyBits): 2048 for rsa, 256 for ec. Any other bits, or any
// other key type, comes back unchanged; ed25519 ignores key_bits.
func DefaultKeyBits(keyType string, bits int) int {
	if bits != 0 {
		return bits
	}
	switch keyType {
	case KeyTypeRSA:
		return 2048
	case KeyTypeEC:
		return 256
	}
	return bits
}

// ValidateKeyTypeBits applies Vault's defaults and refusals to a requested
// key_type and key_bits and returns the effective bits. The rule is the one
// roles applies to a role's key (roles.ResolveKeyParams), with its errs.Invalid
// texts (certutil ValidateKeyTypeLength):
//
//	RSA keys < 2048 bits are unsafe and not supported: got 1024
//	unsupported bit length for RSA key: 2049
//	unsupported bit length for EC key: 300
//	unknown key type foo
//
// Allowed: rsa 2048/3072/4096/8192, ec 224/256/384/521, ed25519 (bits
// ignored); "any", valid for a role, names no key to make.
func ValidateKeyTypeBits(keyType string, bits int) (int, error) {
	if keyType == "any" {
		return 0, errs.Invalidf("unknown key type %s", keyType)
	}
	bits, _, err := roles.ResolveKeyParams(keyType, bits, 0)
	return bits, err
}

// ValidateSignatureBits applies Vault's default and check of
// signature_bits for a key type (certutil DefaultOrValueHashBits and
// ValidateSignatureLength): for rsa 0 means 256 and only 256, 384 and 512
// are allowed (`unsupported hash signature algorithm: N`); ec and ed25519
// ignore the value, which is returned unchanged.
func ValidateSignatureBits(keyType string, bits int) (int, error) {
	if keyType != KeyTypeRSA {
		return bits, nil
	}
	if bits == 0 {
		bits = 256
	}
	switch bits {
	case 256, 384, 512:
		return bits, nil
	}
	return bits, errs.Invalidf("unsupported hash signature algorithm: %d", bits)
}

func curveForBits(bits int) elliptic.Curve {
	switch bits {
	case 224:
		return elliptic.P224()
	case 256:
		return elliptic.P256()
	case 384:
		return elliptic.P384()
	case 521:
		return elliptic.P521()
	}
	return nil
}

// GenerateKey makes a new private key of keyType with bits (0 meaning
// Vault's default, see ValidateKeyTypeBits, which also gives the refusals).
// This is the slow part of CA and leaf generation (RSA-4096 takes seconds):
// never call it inside a storage transaction.
func GenerateKey(rnd io.Reader, keyType string, bits int) (crypto.Signer, error) {
	bits, err := ValidateKeyTypeBits(keyType, bits)
	if err != nil {
		return nil, err
	}
	switch keyType {
	case KeyTypeRSA:
		k, err := rsa.GenerateKey(rnd, bits)
		if err != nil {
			return nil, fmt.Errorf("ca: generate RSA key: %w", err)
		}
		return k, nil
	case KeyTypeEC:
		k, err := ecdsa.GenerateKey(curveForBits(bits), rnd)
		if err != nil {
			return nil, fmt.Errorf("ca: generate EC key: %w", err)
		}
		return k, nil
	default: // ed25519, the only other type ValidateKeyTypeBits lets through
		_, k, err := ed25519.GenerateKey(rnd)
		if err != nil {
			return nil, fmt.Errorf("ca: generate Ed25519 key: %w", err)
		}
		return k, nil
	}
}

// KeyTypeOf names the type of a public key as Vault does ("rsa", "ec",
// "ed25519"), or "" for a type Vault does not support.
func KeyTypeOf(pub crypto.PublicKey) string {
	switch pub.(type) {
	case *rsa.PublicKey:
		return KeyTypeRSA
	case *ecdsa.PublicKey:
		return KeyTypeEC
	case ed25519.PublicKey:
		return KeyTypeEd25519
	}
	return ""
}

// KeyBits is the size of a public key: the RSA modulus length, the EC curve
// size, 0 for Ed25519 (Vault reports 0 key_bits for it) and -1 otherwise.
func KeyBits(pub crypto.PublicKey) int {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return k.N.BitLen()
	case *ecdsa.PublicKey:
		return k.Params().BitSize
	case ed25519.PublicKey:
		return 0
	}
	return -1
}
