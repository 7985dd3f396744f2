package seed

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/sha512"
	"errors"
	"fmt"
	"io"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// ecdsaSigner signs with a nonce k = HMAC-SHA-512(d, digest ‖ counter)
// reduced into [1, n-1]: the same key and digest always give the same
// signature, and the source handed to Sign is never read. The arithmetic
// is math/big's, not constant time, which is acceptable only because a
// seeded key is no secret.
type ecdsaSigner struct {
	key *ecdsa.PrivateKey
}

func (s *ecdsaSigner) Public() crypto.PublicKey { return s.key.Public() }

func (s *ecdsaSigner) Sign(_ io.Reader, digest []byte, _ crypto.SignerOpts) ([]byte, error) {
	curve := s.key.Curve
	n := curve.Params().N
	dBytes, err := s.key.Bytes()
	if err != nil {
		return nil, fmt.Errorf("seed: ECDSA sign: %w", err)
	}
	d := new(big.Int).SetBytes(dBytes)
	e := hashToInt(digest, n)
	nMinus1 := new(big.Int).Sub(n, big.NewInt(1))
	size := len(dBytes)
	for counter := range byte(255) {
		k := new(big.Int).SetBytes(nonceBytes(dBytes, digest, counter, size+8))
		k.Mod(k, nMinus1).Add(k, big.NewInt(1))
		// k·G through the standard library: the public key of scalar k.
		kp, err := ecdsa.ParseRawPrivateKey(curve, k.FillBytes(make([]byte, size)))
		if err != nil {
			continue
		}
		point, err := kp.PublicKey.Bytes()
		if err != nil {
			return nil, fmt.Errorf("seed: ECDSA sign: %w", err)
		}
		r := new(big.Int).SetBytes(point[1 : 1+size])
		r.Mod(r, n)
		if r.Sign() == 0 {
			continue
		}
		sig := new(big.Int).Mul(r, d)
		sig.Add(sig, e).Mul(sig, new(big.Int).ModInverse(k, n)).Mod(sig, n)
		if sig.Sign() == 0 {
			continue
		}
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1BigInt(r)
			b.AddASN1BigInt(sig)
		})
		return b.Bytes()
	}
	return nil, errors.New("seed: ECDSA sign: no nonce found")
}

// nonceBytes expands HMAC-SHA-512 keyed with d over digest and counter to
// at least size bytes (size is the order's length plus 8, so the bias of
// the reduction mod n-1 is negligible).
func nonceBytes(d, digest []byte, counter byte, size int) []byte {
	var out []byte
	for block := byte(0); len(out) < size; block++ {
		m := hmac.New(sha512.New, d)
		m.Write(digest)
		m.Write([]byte{counter, block})
		out = m.Sum(out)
	}
	return out[:size]
}

// hashToInt takes the leftmost bits of the digest, as many as the order
// has (SEC 1 §4.1.3 step 5).
func hashToInt(digest []byte, n *big.Int) *big.Int {
	bits := n.BitLen()
	if size := (bits + 7) / 8; len(digest) > size {
		digest = digest[:size]
	}
	e := new(big.Int).SetBytes(digest)
	if excess := len(digest)*8 - bits; excess > 0 {
		e.Rsh(e, uint(excess))
	}
	return e
}
