package ca

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/pkid-dev/pkid/roles"

	zx509 "github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3"
	"github.com/zmap/zlint/v3/lint"
)

// lintRFC5280 fails the test on any error- or fatal-level result of
// zlint's RFC 5280 lints.
func lintRFC5280(t *testing.T, cert *x509.Certificate) {
	t.Helper()
	zc, err := zx509.ParseCertificate(cert.Raw)
	if err != nil {
		t.Fatalf("zcrypto parse: %v", err)
	}
	reg, err := lint.GlobalRegistry().Filter(lint.FilterOptions{IncludeSources: lint.SourceList{lint.RFC5280}})
	if err != nil {
		t.Fatal(err)
	}
	res := zlint.LintCertificateEx(zc, reg)
	if len(res.Results) < 50 {
		t.Fatalf("only %d RFC 5280 lints ran", len(res.Results))
	}
	for name, r := range res.Results {
		if r.Status == lint.Error || r.Status == lint.Fatal {
			t.Errorf("%s: zlint %s: %s %s", cert.Subject.CommonName, name, r.Status, r.Details)
		}
	}
}

// TestZlintCatchesBadCA is the control: the linter must flag a
// certificate-signing key usage on a non-CA certificate.
func TestZlintCatchesBadCA(t *testing.T) {
	t.Parallel()
	key, _ := GenerateKey(rand.Reader, "ec", 256)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(5), Subject: pkix.Name{CommonName: "bad"},
		NotBefore: testNow, NotAfter: testNow.Add(time.Hour), BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	zc, _ := zx509.ParseCertificate(der)
	reg, _ := lint.GlobalRegistry().Filter(lint.FilterOptions{IncludeSources: lint.SourceList{lint.RFC5280}})
	if r := zlint.LintCertificateEx(zc, reg).Results["e_ext_key_usage_cert_sign_without_ca"]; r == nil || r.Status != lint.Error {
		t.Fatalf("control lint did not fire: %+v", r)
	}
}

// TestCACertificatesPassZlint lints every kind of CA certificate pkid
// makes — roots and intermediates of each key type, with names,
// constraints and path lengths — against RFC 5280.
func TestCACertificatesPassZlint(t *testing.T) {
	t.Parallel()
	keys := []struct {
		name string
		typ  string
		bits int
		pss  bool
	}{
		{"rsa-2048", "rsa", 2048, false},
		{"rsa-2048-pss", "rsa", 2048, true},
		{"ec-224", "ec", 224, false},
		{"ec-256", "ec", 256, false},
		{"ec-384", "ec", 384, false},
		{"ec-521", "ec", 521, false},
		{"ed25519", "ed25519", 0, false},
	}
	for _, k := range keys {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			c := newTestCA(t)
			if _, _, err := c.SetURLs(URLConfigUpdate{
				IssuingCertificates:   &[]string{"http://pki.example/v1/pki/ca"},
				CRLDistributionPoints: &[]string{"http://pki.example/v1/pki/crl"},
				OCSPServers:           &[]string{"http://pki.example/v1/pki/ocsp"},
			}); err != nil {
				t.Fatal(err)
			}
			root, err := c.GenerateRoot(ctx, ModeInternal, false, &RootRequest{
				NameFields:     NameFields{CommonName: "Lint Root " + k.name, AltNames: "root.example.com", OtherSANs: []string{"1.3.6.1.4.1.311.20.2.3;UTF8:ca@example.com"}},
				SubjectFields:  SubjectFields{Subject: roles.Subject{Organization: []string{"Example"}, Country: []string{"US"}}},
				KeyFields:      KeyFields{KeyType: str(k.typ), KeyBits: intp(k.bits)},
				UsePSS:         k.pss,
				IssuerName:     str("root"),
				ValidityFields: ValidityFields{TTL: 87600 * time.Hour},
			}, bigTTLs)
			if err != nil {
				t.Fatal(err)
			}
			lintRFC5280(t, root.Cert)
			gen, err := c.GenerateIntermediate(ctx, ModeInternal, &IntermediateRequest{
				NameFields: NameFields{CommonName: "Lint Intermediate " + k.name},
				KeyFields:  KeyFields{KeyType: str(k.typ), KeyBits: intp(k.bits)},
			})
			if err != nil {
				t.Fatal(err)
			}
			signed, err := c.SignIntermediate(ctx, "root", &SignIntermediateRequest{
				CSR:               csrPEM(gen.CSR),
				CAExtensionFields: CAExtensionFields{MaxPathLength: intp(0), PermittedDNSDomains: []string{"example.com"}},
				SubjectFields:     SubjectFields{Subject: roles.Subject{OU: []string{"Ops"}}},
				UsePSS:            k.pss,
				ValidityFields:    ValidityFields{TTL: 8760 * time.Hour},
			}, bigTTLs)
			if err != nil {
				t.Fatal(err)
			}
			lintRFC5280(t, signed.Cert)
			verify(t, signed.Cert, root.Cert)
		})
	}
}
