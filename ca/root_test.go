package ca

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"github.com/pkid-dev/pkid/records"
	"strings"
	"testing"
	"time"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/roles"
	"github.com/pkid-dev/pkid/storage"
)

func TestGenerateRootKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		keyType  *string
		bits     *int
		sigBits  int
		pss      bool
		wantBits int
		wantAlg  x509.SignatureAlgorithm
	}{
		{"default is rsa 2048", nil, nil, 0, false, 2048, x509.SHA256WithRSA},
		{"rsa 3072 sha384", str("rsa"), intp(3072), 384, false, 3072, x509.SHA384WithRSA},
		{"rsa 2048 sha512", str("rsa"), intp(2048), 512, false, 2048, x509.SHA512WithRSA},
		{"rsa pss", str("rsa"), intp(2048), 256, true, 2048, x509.SHA256WithRSAPSS},
		{"rsa pss 384", str("rsa"), intp(2048), 384, true, 2048, x509.SHA384WithRSAPSS},
		{"ec default 256", str("ec"), nil, 0, false, 256, x509.ECDSAWithSHA256},
		{"ec 224", str("ec"), intp(224), 0, false, 224, x509.ECDSAWithSHA256},
		{"ec 384 ignores signature_bits", str("ec"), intp(384), 256, false, 384, x509.ECDSAWithSHA384},
		{"ec 521", str("ec"), intp(521), 0, false, 521, x509.ECDSAWithSHA512},
		{"ed25519", str("ed25519"), nil, 0, false, 0, x509.PureEd25519},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newTestCA(t)
			res, err := c.GenerateRoot(context.Background(), ModeExported, false, &RootRequest{
				NameFields: NameFields{CommonName: "Root"},
				KeyFields:  KeyFields{KeyType: tt.keyType, KeyBits: tt.bits, SignatureBits: tt.sigBits},
				UsePSS:     tt.pss,
			}, bigTTLs)
			if err != nil {
				t.Fatal(err)
			}
			if got := KeyBits(res.Cert.PublicKey); got != tt.wantBits {
				t.Errorf("key bits %d, want %d", got, tt.wantBits)
			}
			if res.Cert.SignatureAlgorithm != tt.wantAlg {
				t.Errorf("signature algorithm %v, want %v", res.Cert.SignatureAlgorithm, tt.wantAlg)
			}
			if res.Key == nil || !publicKeysEqual(res.Key.Public(), res.Cert.PublicKey) {
				t.Error("exported key missing or wrong")
			}
			if err := res.Cert.CheckSignatureFrom(res.Cert); err != nil {
				t.Errorf("not self-signed: %v", err)
			}
			is, err := c.Issuer(res.IssuerID)
			if err != nil {
				t.Fatal(err)
			}
			if is.RevocationSignatureAlgorithm != signatureAlgorithmName(tt.wantAlg) {
				t.Errorf("revocation_signature_algorithm %q", is.RevocationSignatureAlgorithm)
			}
		})
	}
}

func TestGenerateRootRefusals(t *testing.T) {
	t.Parallel()
	c := newTestCA(t)
	c.ecRoot(t, "taken")
	tests := []struct {
		name string
		mode string
		req  RootRequest
		want string
	}{
		{"rsa 1024", "internal", RootRequest{KeyFields: KeyFields{KeyType: str("rsa"), KeyBits: intp(1024)}}, "RSA keys < 2048 bits are unsafe and not supported: got 1024"},
		{"ec 300", "internal", RootRequest{KeyFields: KeyFields{KeyType: str("ec"), KeyBits: intp(300)}}, "unsupported bit length for EC key: 300"},
		{"unknown type", "internal", RootRequest{KeyFields: KeyFields{KeyType: str("foo")}}, "unknown key type foo"},
		{"bad signature bits", "internal", RootRequest{KeyFields: KeyFields{SignatureBits: 128}}, "unsupported hash signature algorithm: 128"},
		{"bad mode", "bogus", RootRequest{}, `the "exported" path parameter must be "internal", "existing", exported" or "kms"`},
		{"kms", "kms", RootRequest{}, "the kms key type is not supported"},
		{"bad format", "internal", RootRequest{OutputFields: OutputFields{Format: "json"}}, `the "format" path parameter must be "pem", "der", or "pem_bundle"`},
		{"existing with key_type", "existing", RootRequest{KeyFields: KeyFields{KeyType: str("ec")}}, "invalid parameter for the kms/existing path parameter, key_type nor key_bits arguments can be set in this mode"},
		{"existing unknown key", "existing", RootRequest{KeyFields: KeyFields{KeyRef: "nope"}}, "failed to lookup public key from existing key: unable to find PKI key for reference: nope"},
		{"issuer name in use", "internal", RootRequest{IssuerName: str("taken"), KeyFields: KeyFields{KeyType: str("ec")}}, "issuer name already in use"},
		{"issuer name default", "internal", RootRequest{IssuerName: str("Default")}, "reserved keyword 'default' can not be used as issuer name"},
		{"issuer name chars", "internal", RootRequest{IssuerName: str("a b")}, "issuer name contained invalid characters"},
		{"key name default", "internal", RootRequest{KeyFields: KeyFields{KeyName: "default"}}, "reserved keyword 'default' can not be used as key name"},
		{"ttl and not_after", "internal", RootRequest{ValidityFields: ValidityFields{TTL: time.Hour, NotAfter: "2030-01-01T00:00:00Z"}}, "Either ttl or not_after should be provided. Both should not be provided in the same request."},
		{"bad not_after", "internal", RootRequest{ValidityFields: ValidityFields{NotAfter: "soon"}}, `parsing time "soon"`},
		{"bad ip san", "internal", RootRequest{NameFields: NameFields{IPSANs: []string{"300.1.1.1"}}}, `the value "300.1.1.1" is not a valid IP address`},
		{"bad other san", "internal", RootRequest{NameFields: NameFields{OtherSANs: []string{"nope"}}}, "could not parse requested other SAN"},
		{"not_after in the past", "internal", RootRequest{KeyFields: KeyFields{KeyType: str("ec")}, ValidityFields: ValidityFields{NotAfter: "2001-01-01T00:00:00Z"}}, "The certificate's Not Before"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := c.GenerateRoot(context.Background(), tt.mode, false, &tt.req, bigTTLs)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, errs.Invalid) {
				t.Fatalf("err = %v, want Invalid containing %q", err, tt.want)
			}
		})
	}
}

func TestGenerateRootExtensions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		req   RootRequest
		check func(t *testing.T, cert *x509.Certificate, warnings []string)
	}{
		{"unlimited path length by default", RootRequest{}, func(t *testing.T, c *x509.Certificate, _ []string) {
			if !c.IsCA || !c.BasicConstraintsValid || c.MaxPathLen != -1 {
				t.Errorf("CA %v pathlen %d", c.IsCA, c.MaxPathLen)
			}
			if c.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign || len(c.ExtKeyUsage) != 0 {
				t.Errorf("KU %v EKU %v", c.KeyUsage, c.ExtKeyUsage)
			}
			if string(c.AuthorityKeyId) != string(c.SubjectKeyId) {
				t.Error("AKID != SKID")
			}
		}},
		{"path length zero", RootRequest{CAExtensionFields: CAExtensionFields{MaxPathLength: intp(0)}}, func(t *testing.T, c *x509.Certificate, w []string) {
			if c.MaxPathLen != 0 || !c.MaxPathLenZero {
				t.Errorf("pathlen %d", c.MaxPathLen)
			}
			if !containsPart(w, "Max path length of the generated certificate is zero") {
				t.Errorf("warnings %q", w)
			}
		}},
		{"path length 3", RootRequest{CAExtensionFields: CAExtensionFields{MaxPathLength: intp(3)}}, func(t *testing.T, c *x509.Certificate, _ []string) {
			if c.MaxPathLen != 3 {
				t.Errorf("pathlen %d", c.MaxPathLen)
			}
		}},
		{"permitted dns domains", RootRequest{CAExtensionFields: CAExtensionFields{PermittedDNSDomains: []string{"example.com", ".internal"}}}, func(t *testing.T, c *x509.Certificate, _ []string) {
			if len(c.PermittedDNSDomains) != 2 || !c.PermittedDNSDomainsCritical {
				t.Errorf("name constraints %v critical %v", c.PermittedDNSDomains, c.PermittedDNSDomainsCritical)
			}
		}},
		{"key usage adds to CertSign and CRLSign", RootRequest{CAExtensionFields: CAExtensionFields{KeyUsage: &[]string{"DigitalSignature"}, ExtKeyUsage: &[]string{"ServerAuth"}}}, func(t *testing.T, c *x509.Certificate, _ []string) {
			if c.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign|x509.KeyUsageDigitalSignature {
				t.Errorf("KU %v", c.KeyUsage)
			}
			if len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
				t.Errorf("EKU %v", c.ExtKeyUsage)
			}
		}},
		{"subject fields", RootRequest{
			NameFields: NameFields{CommonName: "Sub Root"},
			SubjectFields: SubjectFields{Subject: roles.Subject{OU: []string{"Ops", "Ops", "Sec"}, Organization: []string{"Example Inc"}, Country: []string{"US"},
				Locality: []string{"Springfield"}, Province: []string{"IL"}, StreetAddress: []string{"1 Main St"}, PostalCode: []string{"62701"}}, SerialNumber: "SN-1"},
		}, func(t *testing.T, c *x509.Certificate, _ []string) {
			s := c.Subject
			if s.CommonName != "Sub Root" || len(s.OrganizationalUnit) != 2 || s.Organization[0] != "Example Inc" || s.Country[0] != "US" ||
				s.Locality[0] != "Springfield" || s.Province[0] != "IL" || s.StreetAddress[0] != "1 Main St" || s.PostalCode[0] != "62701" || s.SerialNumber != "SN-1" {
				t.Errorf("subject %v", s)
			}
			if string(c.RawIssuer) != string(c.RawSubject) {
				t.Error("issuer != subject")
			}
		}},
		{"names", RootRequest{NameFields: NameFields{CommonName: "root.example.com", AltNames: "a.example.com,ops@example.com,not a host,a.example.com",
			IPSANs: []string{"10.0.0.1"}, URISANs: []string{"spiffe://example.org/ca"}}}, func(t *testing.T, c *x509.Certificate, _ []string) {
			if strings.Join(c.DNSNames, ",") != "a.example.com,root.example.com" || len(c.EmailAddresses) != 1 || len(c.IPAddresses) != 1 || len(c.URIs) != 1 {
				t.Errorf("SANs %v %v %v %v", c.DNSNames, c.EmailAddresses, c.IPAddresses, c.URIs)
			}
		}},
		{"cn excluded from sans", RootRequest{NameFields: NameFields{CommonName: "root.example.com", ExcludeCNFromSANs: true}}, func(t *testing.T, c *x509.Certificate, _ []string) {
			if len(c.DNSNames) != 0 {
				t.Errorf("DNS %v", c.DNSNames)
			}
		}},
		{"space in cn is not a host", RootRequest{NameFields: NameFields{CommonName: "My Organization Root CA"}}, func(t *testing.T, c *x509.Certificate, _ []string) {
			if len(c.DNSNames) != 0 {
				t.Errorf("DNS %v", c.DNSNames)
			}
		}},
		{"empty subject warns", RootRequest{}, func(t *testing.T, _ *x509.Certificate, w []string) {
			if !containsPart(w, "generated without a Subject") || !containsPart(w, "authority information access") {
				t.Errorf("warnings %q", w)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newTestCA(t)
			tt.req.KeyFields.KeyType = str("ec")
			res, err := c.GenerateRoot(context.Background(), ModeInternal, false, &tt.req, bigTTLs)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, res.Cert, res.Warnings)
		})
	}
}

func TestRootValidity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		ttl       time.Duration
		notAfter  string
		mount     MountTTLs
		wantLife  time.Duration
		wantWarn  string
		backdate  *time.Duration
		wantStart time.Duration
	}{
		{"mount default", 0, "", MountTTLs{}, 768 * time.Hour, "", nil, 30 * time.Second},
		{"capped by mount max", 87600 * time.Hour, "", MountTTLs{}, 768 * time.Hour, `TTL "87600h0m0s" is longer than permitted maxTTL "768h0m0s", so maxTTL is being used`, nil, 30 * time.Second},
		{"tuned mount", 87600 * time.Hour, "", MountTTLs{Max: 87600 * time.Hour}, 87600 * time.Hour, "", nil, 30 * time.Second},
		{"mount default ttl", 0, "", MountTTLs{Default: time.Hour, Max: 2 * time.Hour}, time.Hour, "", nil, 30 * time.Second},
		{"not_after", 0, "2027-03-01T12:00:00Z", MountTTLs{}, 365 * 24 * time.Hour, "", nil, 30 * time.Second},
		{"backdate", time.Hour, "", MountTTLs{}, time.Hour, "", durp(5 * time.Minute), 5 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newTestCA(t)
			res, err := c.GenerateRoot(context.Background(), ModeInternal, false, &RootRequest{
				KeyFields:      KeyFields{KeyType: str("ec")},
				ValidityFields: ValidityFields{TTL: tt.ttl, NotAfter: tt.notAfter, NotBeforeDuration: tt.backdate},
			}, tt.mount)
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Cert.NotAfter.Sub(testNow); got != tt.wantLife {
				t.Errorf("lifetime %v, want %v", got, tt.wantLife)
			}
			if got := testNow.Sub(res.Cert.NotBefore); got != tt.wantStart {
				t.Errorf("backdated %v, want %v", got, tt.wantStart)
			}
			if (tt.wantWarn == "") != !containsPart(res.Warnings, "maxTTL") || (tt.wantWarn != "" && !containsPart(res.Warnings, tt.wantWarn)) {
				t.Errorf("warnings %q, want %q", res.Warnings, tt.wantWarn)
			}
		})
	}
}

func TestRootStorageAndDefaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newTestCA(t)
	first := c.ecRoot(t, "first")
	second := c.ecRoot(t, "second")
	cfg, _ := c.IssuersConfig()
	if cfg.Default != first.IssuerID {
		t.Errorf("a second root moved the default")
	}
	if dk, _ := c.DefaultKey(); dk != first.KeyID {
		t.Errorf("default key %s", dk)
	}
	c.cfg.Space.View(func(tx storage.Tx) error {
		for _, r := range []*GeneratedRoot{first, second} {
			if records.GetCert(tx, records.FormatSerial(r.Cert.SerialNumber)) == nil {
				t.Errorf("root %s not in the certificate store", r.IssuerName)
			}
		}
		return nil
	})
	// Rotation: an unnamed rotated root is "next"; root/replace makes it
	// the default.
	rot, err := c.GenerateRoot(ctx, ModeInternal, true, &RootRequest{KeyFields: KeyFields{KeyType: str("ec")}}, bigTTLs)
	if err != nil || rot.IssuerName != "next" {
		t.Fatalf("rotate: %v %v", rot, err)
	}
	if cfg, _, err = c.SetIssuersConfig("next", nil); err != nil || cfg.Default != rot.IssuerID {
		t.Fatalf("replace: %v %v", cfg, err)
	}
	again, _ := c.GenerateRoot(ctx, ModeInternal, true, &RootRequest{KeyFields: KeyFields{KeyType: str("ec")}}, bigTTLs)
	if again.IssuerName != "" {
		t.Errorf("second rotation took the used name %q", again.IssuerName)
	}
	// default_follows_latest_issuer.
	follows := true
	if _, _, err := c.SetIssuersConfig("first", &follows); err != nil {
		t.Fatal(err)
	}
	latest := c.ecRoot(t, "latest")
	if cfg, _ := c.IssuersConfig(); cfg.Default != latest.IssuerID || !cfg.DefaultFollowsLatestIssuer {
		t.Errorf("default did not follow the latest root: %+v", cfg)
	}
	// existing: reissue with the stored key.
	re, err := c.GenerateRoot(ctx, ModeExisting, false, &RootRequest{KeyFields: KeyFields{KeyRef: "first"}}, bigTTLs)
	if err == nil {
		t.Fatal("key_ref by an issuer name must not resolve")
	}
	re, err = c.GenerateRoot(ctx, ModeExisting, false, &RootRequest{KeyFields: KeyFields{KeyRef: first.KeyID}}, bigTTLs)
	if err != nil || re.KeyID != first.KeyID || !publicKeysEqual(re.Cert.PublicKey, first.Cert.PublicKey) {
		t.Fatalf("existing: %+v %v", re, err)
	}
	keys, _ := c.ListKeys()
	if len(keys) != 5 {
		t.Errorf("%d keys, want 5", len(keys))
	}
}

func TestSignIntermediate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newTestCA(t)
	root, err := c.GenerateRoot(ctx, ModeInternal, false, &RootRequest{
		NameFields: NameFields{CommonName: "Root"}, KeyFields: KeyFields{KeyType: str("ec"), KeyBits: intp(384)},
		IssuerName: str("root"), CAExtensionFields: CAExtensionFields{MaxPathLength: intp(2)},
		ValidityFields: ValidityFields{TTL: 1000 * time.Hour},
	}, bigTTLs)
	if err != nil {
		t.Fatal(err)
	}
	ecCSR := newCSR(t, c, "ec", "Inter EC")
	rsaCSR := newCSR(t, c, "rsa", "Inter RSA")
	tests := []struct {
		name  string
		req   SignIntermediateRequest
		ttls  MountTTLs
		check func(t *testing.T, s *SignedCA)
	}{
		{"cn from csr, pathlen from parent", SignIntermediateRequest{CSR: ecCSR}, bigTTLs, func(t *testing.T, s *SignedCA) {
			if s.Cert.Subject.CommonName != "Inter EC" || s.Cert.MaxPathLen != 1 || !s.Cert.IsCA {
				t.Errorf("cn %q pathlen %d", s.Cert.Subject.CommonName, s.Cert.MaxPathLen)
			}
			if s.Cert.SignatureAlgorithm != x509.ECDSAWithSHA384 {
				t.Errorf("alg %v", s.Cert.SignatureAlgorithm)
			}
			if string(s.Cert.AuthorityKeyId) != string(root.Cert.SubjectKeyId) {
				t.Error("AKID")
			}
		}},
		{"rsa csr under a P-384 issuer signs with SHA-256 (Vault's quirk)", SignIntermediateRequest{CSR: rsaCSR}, bigTTLs, func(t *testing.T, s *SignedCA) {
			if s.Cert.SignatureAlgorithm != x509.ECDSAWithSHA256 {
				t.Errorf("alg %v", s.Cert.SignatureAlgorithm)
			}
		}},
		{"signature_bits picks the hash", SignIntermediateRequest{CSR: ecCSR, SignatureBits: 512}, bigTTLs, func(t *testing.T, s *SignedCA) {
			if s.Cert.SignatureAlgorithm != x509.ECDSAWithSHA512 {
				t.Errorf("alg %v", s.Cert.SignatureAlgorithm)
			}
		}},
		{"explicit path length and names", SignIntermediateRequest{CSR: ecCSR, NameFields: NameFields{CommonName: "int.example.com"},
			CAExtensionFields: CAExtensionFields{MaxPathLength: intp(0), PermittedDNSDomains: []string{"example.com"}},
			SubjectFields:     SubjectFields{Subject: roles.Subject{Organization: []string{"Example"}}}}, bigTTLs, func(t *testing.T, s *SignedCA) {
			if s.Cert.MaxPathLen != 0 || !s.Cert.MaxPathLenZero || s.Cert.Subject.CommonName != "int.example.com" ||
				len(s.Cert.DNSNames) != 1 || s.Cert.Subject.Organization[0] != "Example" || len(s.Cert.PermittedDNSDomains) != 1 {
				t.Errorf("cert %v pathlen %d dns %v", s.Cert.Subject, s.Cert.MaxPathLen, s.Cert.DNSNames)
			}
			if !containsPart(s.Warnings, "Max path length of the signed certificate is zero") {
				t.Errorf("warnings %q", s.Warnings)
			}
		}},
		{"use_csr_values copies the subject", SignIntermediateRequest{CSR: ecCSR, UseCSRValues: true, NameFields: NameFields{CommonName: "ignored"}}, bigTTLs, func(t *testing.T, s *SignedCA) {
			if s.Cert.Subject.CommonName != "Inter EC" || s.Cert.Subject.Organization[0] != "CSR Org" {
				t.Errorf("subject %v", s.Cert.Subject)
			}
		}},
		{"skid override", SignIntermediateRequest{CSR: ecCSR, SKID: "01:02-03 04"}, bigTTLs, func(t *testing.T, s *SignedCA) {
			if string(s.Cert.SubjectKeyId) != "\x01\x02\x03\x04" {
				t.Errorf("skid %x", s.Cert.SubjectKeyId)
			}
		}},
		{"ttl capped by the mount", SignIntermediateRequest{CSR: ecCSR, ValidityFields: ValidityFields{TTL: 500 * time.Hour}}, MountTTLs{Max: 100 * time.Hour}, func(t *testing.T, s *SignedCA) {
			if s.Cert.NotAfter.Sub(testNow) != 100*time.Hour || !containsPart(s.Warnings, `TTL "500h0m0s" is longer than permitted maxTTL "100h0m0s"`) {
				t.Errorf("life %v warnings %q", s.Cert.NotAfter.Sub(testNow), s.Warnings)
			}
		}},
		{"outliving the parent is permitted with a warning", SignIntermediateRequest{CSR: ecCSR, ValidityFields: ValidityFields{TTL: 2000 * time.Hour}}, bigTTLs, func(t *testing.T, s *SignedCA) {
			if !s.Cert.NotAfter.After(root.Cert.NotAfter) || !containsPart(s.Warnings, "after the CA's expiration time") {
				t.Errorf("notAfter %v warnings %q", s.Cert.NotAfter, s.Warnings)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := c.SignIntermediate(ctx, "root", &tt.req, tt.ttls)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Chain) != 1 || !s.Chain[0].Equal(root.Cert) {
				t.Error("chain")
			}
			if err := s.Cert.CheckSignatureFrom(root.Cert); err != nil {
				t.Error(err)
			}
			tt.check(t, s)
		})
	}
}

func TestSignIntermediateRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newTestCA(t)
	c.ecRoot(t, "root")
	zero, err := c.GenerateRoot(ctx, ModeInternal, false, &RootRequest{KeyFields: KeyFields{KeyType: str("ec")},
		IssuerName: str("zero"), CAExtensionFields: CAExtensionFields{MaxPathLength: intp(0)}}, bigTTLs)
	if err != nil {
		t.Fatal(err)
	}
	_ = zero
	good := newCSR(t, c, "ec", "x")
	block := strings.Split(good, "\n")
	// Flip a bit of the signature (the DER's last byte); flipping a base64
	// character could land in padding bits and change nothing.
	der, _ := pem.Decode([]byte(good))
	flipped := append([]byte(nil), der.Bytes...)
	flipped[len(flipped)-1] ^= 0x01
	badSig := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: flipped})
	tests := []struct {
		name, ref, csr, want string
		kind                 errs.Kind
	}{
		{"empty csr", "root", "", `"csr" is empty`, errs.Invalid},
		{"not pem", "root", "hello", "csr contains no data", errs.Invalid},
		{"unparsable", "root", block[0] + "\nMIIB\n" + block[len(block)-2] + "\n", "certificate request could not be parsed", errs.Invalid},
		{"bad signature", "root", string(badSig), "request signature invalid", errs.Invalid},
		{"unknown issuer", "nope", good, "could not fetch the CA certificate (was one set?): unable to find PKI issuer for reference: nope", errs.InvalidVault500},
		{"empty issuer ref", " ", good, "missing issuer reference", errs.Invalid},
		{"signer with path length zero", "zero", good, "signing certificate has a max path length of zero, and cannot issue further CA certificates", errs.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := c.SignIntermediate(ctx, tt.ref, &SignIntermediateRequest{CSR: tt.csr}, bigTTLs)
			if err == nil || !strings.Contains(err.Error(), tt.want) || errs.KindOf(err) != tt.kind {
				t.Fatalf("err = %v (kind %v), want %q", err, errs.KindOf(err), tt.want)
			}
		})
	}
}

// newCSR makes a CSR with c's intermediate generation (and so stores its
// key in c, which the signing tests do not mind).
func newCSR(t *testing.T, c *testCA, keyType, cn string) string {
	t.Helper()
	bits := 0
	if keyType == "rsa" {
		bits = 2048
	}
	gen, err := c.GenerateIntermediate(context.Background(), ModeInternal, &IntermediateRequest{
		NameFields: NameFields{CommonName: cn}, SubjectFields: SubjectFields{Subject: roles.Subject{Organization: []string{"CSR Org"}}},
		KeyFields: KeyFields{KeyType: str(keyType), KeyBits: intp(bits)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return csrPEM(gen.CSR)
}

func TestGenerateIntermediateCSR(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newTestCA(t)
	gen, err := c.GenerateIntermediate(ctx, ModeExported, &IntermediateRequest{
		NameFields:          NameFields{CommonName: "int.example.com", AltNames: "alt.example.com", OtherSANs: []string{"1.2.3.4;UTF8:x"}},
		KeyFields:           KeyFields{KeyType: str("rsa"), KeyBits: intp(2048), SignatureBits: 384},
		AddBasicConstraints: true,
		KeyUsage:            []string{"CertSign", "CRLSign"},
	})
	if err != nil {
		t.Fatal(err)
	}
	csr := gen.CSR
	if err := csr.CheckSignature(); err != nil || csr.SignatureAlgorithm != x509.SHA384WithRSA {
		t.Errorf("signature %v %v", csr.SignatureAlgorithm, err)
	}
	if _, ok := csr.PublicKey.(*rsa.PublicKey); !ok || gen.Key == nil {
		t.Error("key")
	}
	if strings.Join(csr.DNSNames, ",") != "alt.example.com,int.example.com" {
		t.Errorf("DNS %v", csr.DNSNames)
	}
	var sawBC, sawKU bool
	for _, e := range csr.Extensions {
		if e.Id.Equal(oidBasicConstraints) {
			var bc struct{ IsCA bool }
			_, err := asn1.Unmarshal(e.Value, &bc)
			sawBC = err == nil && bc.IsCA && e.Critical
		}
		sawKU = sawKU || e.Id.Equal(oidKeyUsage)
	}
	if !sawBC || !sawKU {
		t.Errorf("extensions: bc %v ku %v", sawBC, sawKU)
	}
	if others, _ := OtherSANsOf(csr.Extensions); len(others) != 1 {
		t.Errorf("other SANs %v", others)
	}
	keys, _ := c.ListKeys()
	if len(keys) != 1 || keys[0].ID != gen.KeyID || !keys[0].IsDefault {
		t.Errorf("keys %+v", keys)
	}
	// Cross-sign: a CSR for the stored key.
	cross, err := c.GenerateIntermediate(ctx, ModeExisting, &IntermediateRequest{KeyFields: KeyFields{KeyRef: gen.KeyID}})
	if err != nil || cross.KeyID != gen.KeyID || cross.Key != nil {
		t.Fatalf("cross-sign CSR: %v %v", cross, err)
	}
	if _, ok := cross.CSR.PublicKey.(*rsa.PublicKey); !ok {
		t.Error("cross-sign CSR key")
	}
	if _, err := c.GenerateIntermediate(ctx, ModeInternal, &IntermediateRequest{KeyFields: KeyFields{KeyType: str("ec"), KeyBits: intp(1)}}); err == nil {
		t.Error("EC 1 accepted")
	}
	_ = ecdsa.PublicKey{}
}

func containsPart(list []string, part string) bool {
	for _, s := range list {
		if strings.Contains(s, part) {
			return true
		}
	}
	return false
}

func durp(d time.Duration) *time.Duration { return &d }
