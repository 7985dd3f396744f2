package seed

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"io"
	"testing"
)

func draw(t *testing.T, r io.Reader, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestStreamsRepeatAndDiffer(t *testing.T) {
	a := draw(t, New(1).Stream("ids"), 64)
	if !bytes.Equal(a, draw(t, New(1).Stream("ids"), 64)) {
		t.Fatal("the same seed and name must give the same bytes")
	}
	for name, other := range map[string][]byte{
		"another seed": draw(t, New(2).Stream("ids"), 64),
		"another name": draw(t, New(1).Stream("keys"), 64),
	} {
		if bytes.Equal(a, other) {
			t.Errorf("%s gave the same bytes", name)
		}
	}
}

func TestECDSAKeysAndSignatures(t *testing.T) {
	for _, curve := range []elliptic.Curve{elliptic.P224(), elliptic.P256(), elliptic.P384(), elliptic.P521()} {
		t.Run(curve.Params().Name, func(t *testing.T) {
			k1, err := ECDSAKey(New(7).Stream("k"), curve)
			if err != nil {
				t.Fatal(err)
			}
			k2, _ := ECDSAKey(New(7).Stream("k"), curve)
			k3, _ := ECDSAKey(New(8).Stream("k"), curve)
			if !k1.Equal(k2) || k1.Equal(k3) {
				t.Fatal("keys must follow the seed")
			}
			digest := sha256.Sum256([]byte("tbs"))
			s := Signer(k1)
			sig1, err := s.Sign(nil, digest[:], crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			sig2, _ := s.Sign(nil, digest[:], crypto.SHA256)
			if !bytes.Equal(sig1, sig2) {
				t.Fatal("signatures must repeat")
			}
			if !ecdsa.VerifyASN1(&k1.PublicKey, digest[:], sig1) {
				t.Fatal("signature does not verify")
			}
			other := sha256.Sum256([]byte("other"))
			sig3, _ := s.Sign(nil, other[:], crypto.SHA256)
			if bytes.Equal(sig1, sig3) || !ecdsa.VerifyASN1(&k1.PublicKey, other[:], sig3) {
				t.Fatal("another digest must give another valid signature")
			}
		})
	}
}

func TestEd25519Key(t *testing.T) {
	k1, err := Ed25519Key(New(3).Stream("k"))
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := Ed25519Key(New(3).Stream("k"))
	if !k1.Equal(k2) {
		t.Fatal("keys must follow the seed")
	}
	if Signer(k1).(ed25519.PrivateKey) == nil {
		t.Fatal("Ed25519 keys are already deterministic and come back unchanged")
	}
}

func TestRSAKey(t *testing.T) {
	k1, err := RSAKey(New(5).Stream("k"), 2048)
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := RSAKey(New(5).Stream("k"), 2048)
	if k1.N.BitLen() != 2048 || k1.E != 65537 || !k1.Equal(k2) {
		t.Fatalf("bits %d e %d equal %v", k1.N.BitLen(), k1.E, k1.Equal(k2))
	}
	// The standard library must take the key as its own.
	der, err := x509.MarshalPKCS8PrivateKey(k1)
	if err != nil {
		t.Fatal(err)
	}
	back, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil || !back.(*rsa.PrivateKey).Equal(k1) {
		t.Fatalf("round trip: %v", err)
	}
	digest := sha256.Sum256([]byte("tbs"))
	sig, err := Signer(k1).Sign(nil, digest[:], crypto.SHA256)
	if err != nil || rsa.VerifyPKCS1v15(&k1.PublicKey, crypto.SHA256, digest[:], sig) != nil {
		t.Fatalf("sign: %v", err)
	}
	if _, err := RSAKey(New(5).Stream("k"), 1023); err == nil {
		t.Fatal("an odd size must be refused")
	}
}

func TestExhaustedStreamFails(t *testing.T) {
	empty := bytes.NewReader(nil)
	if _, err := ECDSAKey(empty, elliptic.P256()); err == nil {
		t.Error("EC")
	}
	if _, err := Ed25519Key(empty); err == nil {
		t.Error("Ed25519")
	}
	if _, err := RSAKey(empty, 2048); err == nil {
		t.Error("RSA")
	}
}

func BenchmarkRSAKey2048(b *testing.B) {
	r := New(1).Stream("k")
	for b.Loop() {
		if _, err := RSAKey(r, 2048); err != nil {
			b.Fatal(err)
		}
	}
}
