package ca

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"strings"
	"testing"
)

// The parsers of client input must never panic and must fail with typed
// errors. Seeds run in every go test; go test -fuzz explores further.

func FuzzParseCSR(f *testing.F) {
	key, _ := GenerateKey(rand.Reader, "ec", 256)
	der, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "x"}}, key)
	f.Add(CSRPEM(der))
	f.Add("")
	f.Add("-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n")
	f.Fuzz(func(t *testing.T, s string) {
		csr, err := ParseCSR(s)
		if err != nil {
			return
		}
		_, _, _ = CheckCSRKey(csr)
		_ = CheckCSRSignature(csr)
	})
}

func FuzzParseOtherSANs(f *testing.F) {
	for _, s := range []string{"1.2.3;UTF8:x", "1.2.3.4;utf-8:a;b:c", "x", ";:", "1.2;UTF8:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		others, err := ParseOtherSANs(strings.Split(s, ","))
		if err != nil {
			return
		}
		if _, err := SANExtension(nil, nil, nil, nil, others, false); err != nil {
			t.Fatalf("encode %v: %v", others, err)
		}
	})
}

func FuzzParsePrivateKeyPEM(f *testing.F) {
	for _, typ := range []string{"ec", "ed25519"} {
		key, _ := GenerateKey(rand.Reader, typ, 0)
		p, _ := PrivateKeyPEM(key)
		f.Add(p)
	}
	f.Add("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n")
	f.Fuzz(func(t *testing.T, s string) {
		if key, err := ParsePrivateKeyPEM(s); err == nil && key == nil {
			t.Fatal("nil key without error")
		}
	})
}

func FuzzSplitBundle(f *testing.F) {
	c := newTestCA(f)
	root := c.ecRoot(f, "r")
	key, _ := GenerateKey(rand.Reader, "ec", 256)
	p, _ := PrivateKeyPEM(key)
	f.Add(certsPEM(root.Cert) + "\n" + p)
	f.Add("text before\n" + certsPEM(root.Cert))
	f.Add("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n")
	f.Fuzz(func(t *testing.T, s string) {
		_, blocks, err := splitBundle(s)
		if err != nil {
			return
		}
		if keys, err := parseKeys(blocks); err == nil && len(keys) != len(blocks) {
			t.Fatal("keys lost without error")
		}
	})
}
