package seed

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"math/big"
)

// The standard library's key generators read their random source only
// under GODEBUG=cryptocustomrand=1, and even then draw a byte at random
// (randutil.MaybeReadByte), so keys are built here from the stream's bytes.

// ECDSAKey returns a P-224/256/384/521 key whose scalar is drawn from r.
func ECDSAKey(r io.Reader, curve elliptic.Curve) (*ecdsa.PrivateKey, error) {
	bits := curve.Params().BitSize
	buf := make([]byte, (bits+7)/8)
	for range 1000 {
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, fmt.Errorf("seed: EC key: %w", err)
		}
		// Clear the bits above the order's length (P-521's top byte holds
		// one bit), so that few draws fall outside [1, n-1].
		if extra := len(buf)*8 - bits; extra > 0 {
			buf[0] &= 0xff >> extra
		}
		if k, err := ecdsa.ParseRawPrivateKey(curve, buf); err == nil {
			return k, nil
		}
	}
	return nil, errors.New("seed: EC key: no scalar in range")
}

// Ed25519Key returns the key of a 32-byte seed drawn from r.
func Ed25519Key(r io.Reader) (ed25519.PrivateKey, error) {
	s := make([]byte, ed25519.SeedSize)
	if _, err := io.ReadFull(r, s); err != nil {
		return nil, fmt.Errorf("seed: Ed25519 key: %w", err)
	}
	return ed25519.NewKeyFromSeed(s), nil
}

// RSAKey returns a two-prime RSA key of bits with e = 65537, its primes
// found by an incremental search from starting points drawn from r.
func RSAKey(r io.Reader, bits int) (*rsa.PrivateKey, error) {
	if bits < 1024 || bits%2 != 0 {
		return nil, fmt.Errorf("seed: RSA key: unsupported size %d", bits)
	}
	e := big.NewInt(65537)
	one := big.NewInt(1)
	for range 100 {
		p, err := prime(r, bits/2, e)
		if err != nil {
			return nil, err
		}
		q, err := prime(r, bits/2, e)
		if err != nil {
			return nil, err
		}
		n := new(big.Int).Mul(p, q)
		if p.Cmp(q) == 0 || n.BitLen() != bits {
			continue
		}
		pm, qm := new(big.Int).Sub(p, one), new(big.Int).Sub(q, one)
		phi := new(big.Int).Mul(pm, qm)
		d := new(big.Int).ModInverse(e, phi)
		if d == nil {
			continue
		}
		k := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: n, E: 65537}, D: d, Primes: []*big.Int{p, q}}
		k.Precompute()
		if err := k.Validate(); err != nil {
			continue
		}
		return k, nil
	}
	return nil, errors.New("seed: RSA key: no key found")
}

// prime returns a prime of exactly bits bits (the top two set, so that
// the product of two has twice the bits) with gcd(p-1, e) = 1.
func prime(r io.Reader, bits int, e *big.Int) (*big.Int, error) {
	buf := make([]byte, bits/8)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("seed: RSA prime: %w", err)
	}
	buf[0] |= 0xc0
	buf[len(buf)-1] |= 1
	p := new(big.Int).SetBytes(buf)
	two, one := big.NewInt(2), big.NewInt(1)
	pm, g := new(big.Int), new(big.Int)
	for p.BitLen() == bits {
		if p.ProbablyPrime(20) && g.GCD(nil, nil, pm.Sub(p, one), e).Cmp(one) == 0 {
			return p, nil
		}
		p.Add(p, two)
	}
	return prime(r, bits, e)
}

// Signer returns key as a signer whose ECDSA signatures are deterministic
// (the nonce derived from the key and the digest, in the manner of RFC
// 6979); RSA PKCS #1 v1.5 and Ed25519 signatures already are, so other
// keys come back unchanged. RSA-PSS signatures stay randomised.
func Signer(key crypto.Signer) crypto.Signer {
	if k, ok := key.(*ecdsa.PrivateKey); ok {
		return &ecdsaSigner{k}
	}
	return key
}
