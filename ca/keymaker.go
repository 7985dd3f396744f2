package ca

import (
	"crypto"
	"fmt"
	"io"

	"github.com/pkid-dev/pkid/seed"
)

// KeyMaker makes the private keys a mount generates and gives the signer
// each issuer key signs with. Config.Keys nil means the standard library's
// generators, with RSA leaf keys pooled ahead of need; SeededKeys gives the
// repeatable ones of seed mode.
type KeyMaker interface {
	// GenerateKey makes a key of a type and size already validated by
	// ValidateKeyTypeBits.
	GenerateKey(keyType string, bits int) (crypto.Signer, error)
	// Signer wraps a key for signing.
	Signer(key crypto.Signer) crypto.Signer
}

// SeededKeys returns the KeyMaker of seed mode: keys drawn from r and
// deterministic ECDSA signatures (package seed). Never for a real CA.
func SeededKeys(r io.Reader) KeyMaker { return seededKeys{r} }

type seededKeys struct{ r io.Reader }

func (s seededKeys) GenerateKey(keyType string, bits int) (crypto.Signer, error) {
	var (
		k   crypto.Signer
		err error
	)
	switch keyType {
	case KeyTypeRSA:
		k, err = seed.RSAKey(s.r, bits)
	case KeyTypeEC:
		k, err = seed.ECDSAKey(s.r, curveForBits(bits))
	default:
		k, err = seed.Ed25519Key(s.r)
	}
	if err != nil {
		return nil, fmt.Errorf("ca: generate %s key: %w", keyType, err)
	}
	return k, nil
}

func (seededKeys) Signer(key crypto.Signer) crypto.Signer { return seed.Signer(key) }

// newKey makes a key of keyType and bits (0 for Vault's default) with the
// mount's KeyMaker.
func (a *Authority) newKey(keyType string, bits int) (crypto.Signer, error) {
	if a.cfg.Keys == nil {
		return GenerateKey(a.cfg.Rand, keyType, bits)
	}
	bits, err := ValidateKeyTypeBits(keyType, bits)
	if err != nil {
		return nil, err
	}
	return a.cfg.Keys.GenerateKey(keyType, bits)
}

// signingKey is key as the mount signs with it.
func (a *Authority) signingKey(key crypto.Signer) crypto.Signer {
	if a.cfg.Keys == nil {
		return key
	}
	return a.cfg.Keys.Signer(key)
}
