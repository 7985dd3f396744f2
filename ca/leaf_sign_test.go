package ca

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"
)

// TestSignLeafCertMatchesGo compares signLeafCert with
// x509.CreateCertificate on the same templates: the TBSCertificate must be
// byte for byte Go's, and with deterministic signatures (RSA PKCS #1 v1.5,
// Ed25519) so must the whole certificate.
func TestSignLeafCertMatchesGo(t *testing.T) {
	t.Parallel()
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cases := []struct {
		name          string
		key           crypto.Signer
		alg           x509.SignatureAlgorithm
		deterministic bool
	}{
		{"rsa", rsaKey, x509.SHA256WithRSA, true},
		{"rsa-sha512", rsaKey, x509.SHA512WithRSA, true},
		{"rsa-pss", rsaKey, x509.SHA384WithRSAPSS, false},
		{"ecdsa", ecKey, x509.ECDSAWithSHA384, false},
		{"ecdsa-sha256", ecKey, x509.ECDSAWithSHA256, false},
		{"ed25519", edKey, x509.PureEd25519, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			parentTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Issuer"},
				NotBefore: testNow, NotAfter: testNow.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
				KeyUsage: x509.KeyUsageCertSign, SubjectKeyId: []byte{1, 2, 3}}
			parentDER, err := x509.CreateCertificate(rand.Reader, parentTmpl, parentTmpl, tc.key.Public(), tc.key)
			if err != nil {
				t.Fatal(err)
			}
			parent, _ := x509.ParseCertificate(parentDER)
			tmpl := func() *x509.Certificate {
				return &x509.Certificate{SerialNumber: big.NewInt(424242), Subject: pkix.Name{CommonName: "leaf.example.com"},
					NotBefore: testNow, NotAfter: testNow.Add(time.Minute), DNSNames: []string{"leaf.example.com"},
					KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
					SignatureAlgorithm: tc.alg, SubjectKeyId: []byte{9}, AuthorityKeyId: parent.SubjectKeyId}
			}
			goDER, err := x509.CreateCertificate(rand.Reader, tmpl(), parent, leafKey.Public(), tc.key)
			if err != nil {
				t.Fatal(err)
			}
			goCert, _ := x509.ParseCertificate(goDER)
			mine, err := signLeafCert(rand.Reader, tmpl(), parent, leafKey.Public(), tc.key)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(mine.RawTBSCertificate, goCert.RawTBSCertificate) {
				t.Fatal("TBSCertificate differs from Go's")
			}
			if mine.SignatureAlgorithm != tc.alg {
				t.Errorf("signature algorithm %s", mine.SignatureAlgorithm)
			}
			if err := mine.CheckSignatureFrom(parent); err != nil {
				t.Fatalf("signature does not verify: %v", err)
			}
			if tc.deterministic && !bytes.Equal(mine.Raw, goDER) {
				t.Error("certificate differs from Go's")
			}
		})
	}
}

// TestSignLeafCertRefusesWrongKey keeps CreateCertificate's check that the
// signing key belongs to the parent.
func TestSignLeafCertRefusesWrongKey(t *testing.T) {
	t.Parallel()
	a, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	b, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: testNow, NotAfter: testNow.Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, a.Public(), a)
	parent, _ := x509.ParseCertificate(der)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), NotBefore: testNow, NotAfter: testNow.Add(time.Hour)}
	if _, err := signLeafCert(rand.Reader, leaf, parent, b.Public(), b); err == nil {
		t.Fatal("signed with a key that is not the parent's")
	}
}
