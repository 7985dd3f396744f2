package ca

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"github.com/pkid-dev/pkid/records"
	"math/big"
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/pkid-dev/pkid/errs"
)

func TestValidateKeyTypeBits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		keyType  string
		bits     int
		wantBits int
		wantErr  string
	}{
		{"rsa default", "rsa", 0, 2048, ""},
		{"rsa 2048", "rsa", 2048, 2048, ""},
		{"rsa 3072", "rsa", 3072, 3072, ""},
		{"rsa 4096", "rsa", 4096, 4096, ""},
		{"rsa 8192", "rsa", 8192, 8192, ""},
		{"rsa 1024 refused", "rsa", 1024, 0, "RSA keys < 2048 bits are unsafe and not supported: got 1024"},
		{"rsa odd size", "rsa", 2049, 0, "unsupported bit length for RSA key: 2049"},
		{"ec default", "ec", 0, 256, ""},
		{"ec 224", "ec", 224, 224, ""},
		{"ec 384", "ec", 384, 384, ""},
		{"ec 521", "ec", 521, 521, ""},
		{"ec 300 refused", "ec", 300, 0, "unsupported bit length for EC key: 300"},
		{"ed25519 ignores bits", "ed25519", 123, 123, ""},
		{"unknown type", "foo", 0, 0, "unknown key type foo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bits, err := ValidateKeyTypeBits(tt.keyType, tt.bits)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr || !errors.Is(err, errs.Invalid) {
					t.Fatalf("err = %v, want Invalid %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || bits != tt.wantBits {
				t.Fatalf("got %d, %v; want %d", bits, err, tt.wantBits)
			}
		})
	}
}

func TestValidateSignatureBits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		keyType string
		in      int
		want    int
		wantErr bool
	}{
		{"rsa", 0, 256, false}, {"rsa", 384, 384, false}, {"rsa", 512, 512, false},
		{"rsa", 128, 0, true}, {"ec", 0, 0, false}, {"ec", 999, 999, false}, {"ed25519", 0, 0, false},
	}
	for _, tt := range tests {
		got, err := ValidateSignatureBits(tt.keyType, tt.in)
		if (err != nil) != tt.wantErr || (!tt.wantErr && got != tt.want) {
			t.Errorf("ValidateSignatureBits(%s, %d) = %d, %v", tt.keyType, tt.in, got, err)
		}
	}
	if _, err := ValidateSignatureBits("rsa", 128); err.Error() != "unsupported hash signature algorithm: 128" {
		t.Errorf("message: %v", err)
	}
}

func TestGenerateKeyAndEncodings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		keyType, wantBlock string
		bits, wantBits     int
	}{
		{"ec", "EC PRIVATE KEY", 0, 256},
		{"ec", "EC PRIVATE KEY", 224, 224},
		{"ec", "EC PRIVATE KEY", 384, 384},
		{"ec", "EC PRIVATE KEY", 521, 521},
		{"ed25519", "PRIVATE KEY", 0, 0},
		{"rsa", "RSA PRIVATE KEY", 2048, 2048},
	}
	for _, tt := range tests {
		t.Run(tt.keyType+"-"+itoa(tt.bits), func(t *testing.T) {
			t.Parallel()
			key, err := GenerateKey(rand.Reader, tt.keyType, tt.bits)
			if err != nil {
				t.Fatal(err)
			}
			if KeyTypeOf(key.Public()) != tt.keyType || KeyBits(key.Public()) != tt.wantBits {
				t.Fatalf("type %s bits %d", KeyTypeOf(key.Public()), KeyBits(key.Public()))
			}
			pemText, err := PrivateKeyPEM(key)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(pemText, "\n") {
				t.Error("PEM has a trailing newline")
			}
			block, _ := pem.Decode([]byte(pemText))
			if block == nil || block.Type != tt.wantBlock {
				t.Fatalf("block %v, want %s", block, tt.wantBlock)
			}
			for _, f := range []string{"", "der", "pem", "pkcs8"} {
				for _, format := range []string{"pem", "der", "pem_bundle"} {
					s, err := EncodePrivateKey(key, format, f)
					if err != nil {
						t.Fatal(err)
					}
					var der []byte
					if format == "der" {
						der, err = base64.StdEncoding.DecodeString(s)
						if err != nil {
							t.Fatal(err)
						}
					} else {
						b, _ := pem.Decode([]byte(s))
						if f == "pkcs8" && b.Type != "PRIVATE KEY" {
							t.Errorf("pkcs8 block type %s", b.Type)
						}
						der = b.Bytes
					}
					back, err := ParsePrivateKeyDER(der)
					if err != nil {
						t.Fatalf("%s/%s: parse back: %v", format, f, err)
					}
					if !publicKeysEqual(back.Public(), key.Public()) {
						t.Fatalf("%s/%s: different key back", format, f)
					}
				}
			}
			back, err := ParsePrivateKeyPEM(pemText)
			if err != nil || !publicKeysEqual(back.Public(), key.Public()) {
				t.Fatalf("ParsePrivateKeyPEM: %v", err)
			}
		})
	}
}

func TestGenerateKeyRefusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		typ  string
		bits int
	}{{"rsa", 1024}, {"ec", 300}, {"foo", 0}} {
		if _, err := GenerateKey(rand.Reader, tc.typ, tc.bits); !errors.Is(err, errs.Invalid) {
			t.Errorf("GenerateKey(%s, %d) = %v, want Invalid", tc.typ, tc.bits, err)
		}
	}
}

func TestParsePrivateKeyRefusesGarbage(t *testing.T) {
	t.Parallel()
	if _, err := ParsePrivateKeyPEM("nothing here"); err == nil {
		t.Error("no PEM accepted")
	}
	if _, err := ParsePrivateKeyDER([]byte{1, 2, 3}); err == nil {
		t.Error("garbage DER accepted")
	}
}

func TestNewSerial(t *testing.T) {
	t.Parallel()
	limit := new(big.Int).Lsh(big.NewInt(1), 159)
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		n, err := NewSerial(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if n.Sign() < 0 || n.Cmp(limit) >= 0 {
			t.Fatalf("serial %v out of range", n)
		}
		s := records.FormatSerial(n)
		if seen[s] {
			t.Fatalf("duplicate serial %s", s)
		}
		seen[s] = true
		if len(n.Bytes()) > 20 {
			t.Fatalf("serial longer than 20 octets")
		}
	}
}

func TestSignatureAlgorithm(t *testing.T) {
	t.Parallel()
	rsaKey := &rsa.PublicKey{N: big.NewInt(1), E: 65537}
	ec := func(c elliptic.Curve) *ecdsa.PublicKey { return &ecdsa.PublicKey{Curve: c} }
	edKey := ed25519.PublicKey(make([]byte, 32))
	tests := []struct {
		name      string
		pub       any
		bits      int
		pss       bool
		issue     x509.SignatureAlgorithm
		csrSigned x509.SignatureAlgorithm
	}{
		{"rsa default", rsaKey, 0, false, x509.SHA256WithRSA, x509.SHA256WithRSA},
		{"rsa 384", rsaKey, 384, false, x509.SHA384WithRSA, x509.SHA384WithRSA},
		{"rsa 512", rsaKey, 512, false, x509.SHA512WithRSA, x509.SHA512WithRSA},
		{"rsa pss", rsaKey, 256, true, x509.SHA256WithRSAPSS, x509.SHA256WithRSAPSS},
		{"rsa pss 512", rsaKey, 512, true, x509.SHA512WithRSAPSS, x509.SHA512WithRSAPSS},
		{"p224", ec(elliptic.P224()), 0, false, x509.ECDSAWithSHA256, x509.ECDSAWithSHA256},
		{"p256 asks 512", ec(elliptic.P256()), 512, false, x509.ECDSAWithSHA256, x509.ECDSAWithSHA512},
		{"p384", ec(elliptic.P384()), 0, false, x509.ECDSAWithSHA384, x509.ECDSAWithSHA384},
		{"p384 csr path with 256 (the quirk)", ec(elliptic.P384()), 256, false, x509.ECDSAWithSHA384, x509.ECDSAWithSHA256},
		{"p521", ec(elliptic.P521()), 0, false, x509.ECDSAWithSHA512, x509.ECDSAWithSHA512},
		{"ed25519", edKey, 384, true, x509.PureEd25519, x509.PureEd25519},
	}
	for _, tt := range tests {
		if got := SignatureAlgorithm(tt.pub, tt.bits, tt.pss); got != tt.issue {
			t.Errorf("%s: SignatureAlgorithm = %v, want %v", tt.name, got, tt.issue)
		}
		if got := CSRSignatureAlgorithm(tt.pub, tt.bits, tt.pss); got != tt.csrSigned {
			t.Errorf("%s: CSRSignatureAlgorithm = %v, want %v", tt.name, got, tt.csrSigned)
		}
	}
	if CSRSignatureBits(rsaKey, 0) != 256 || CSRSignatureBits(ec(elliptic.P256()), 0) != 0 || CSRSignatureBits(rsaKey, 512) != 512 {
		t.Error("CSRSignatureBits")
	}
}

func TestSubjectKeyIDMatchesRFC5280Method1(t *testing.T) {
	t.Parallel()
	for _, typ := range []string{"ec", "ed25519", "rsa"} {
		key, err := GenerateKey(rand.Reader, typ, 0)
		if err != nil {
			t.Fatal(err)
		}
		var raw []byte
		switch k := key.Public().(type) {
		case *rsa.PublicKey:
			raw = x509.MarshalPKCS1PublicKey(k)
		case *ecdsa.PublicKey:
			e, _ := k.ECDH()
			raw = e.Bytes()
		case ed25519.PublicKey:
			raw = k
		}
		want := sha1.Sum(raw)
		got, err := SubjectKeyID(key.Public())
		if err != nil || string(got) != string(want[:]) {
			t.Errorf("%s: SubjectKeyID = %x, %v; want %x", typ, got, err, want)
		}
	}
	if FormatKeyID([]byte{0xab, 0x01}) != "ab:01" {
		t.Error("FormatKeyID")
	}
}

func TestParseOtherSANs(t *testing.T) {
	t.Parallel()
	got, err := ParseOtherSANs([]string{"1.3.6.1.4.1.311.20.2.3;UTF8:devops@example.com", "1.2.3.4;utf-8:a;b:c"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Value != "devops@example.com" || got[1].Value != "a;b:c" ||
		!got[0].OID.Equal(asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 20, 2, 3}) {
		t.Fatalf("got %+v", got)
	}
	for in, want := range map[string]string{
		"1.2.3":            `could not parse requested other SAN: expected a semicolon in other SAN "1.2.3"`,
		"1.2.3;UTF8":       `could not parse requested other SAN: expected a colon in other SAN "1.2.3;UTF8"`,
		"1.2.3;INT:5":      `could not parse requested other SAN: only utf8 other SANs are supported; found non-supported type in other SAN "1.2.3;INT:5"`,
		"x.y;UTF8:a":       `could not parse requested other SAN: invalid OID "x.y" in other SAN "x.y;UTF8:a"`,
		"1.2.3.-4;UTF8:ab": `could not parse requested other SAN: invalid OID "1.2.3.-4" in other SAN "1.2.3.-4;UTF8:ab"`,
	} {
		_, err := ParseOtherSANs([]string{in})
		if err == nil || err.Error() != want || !errors.Is(err, errs.Invalid) {
			t.Errorf("ParseOtherSANs(%q) = %v, want %q", in, err, want)
		}
	}
}

func TestOtherSANsRoundTrip(t *testing.T) {
	t.Parallel()
	key, _ := GenerateKey(rand.Reader, "ec", 256)
	others, _ := ParseOtherSANs([]string{"1.3.6.1.4.1.311.20.2.3;UTF8:user@example.com"})
	u, _ := url.Parse("spiffe://example.org/x")
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "x"},
		DNSNames: []string{"a.example.com"}, EmailAddresses: []string{"e@example.com"},
		IPAddresses: []net.IP{net.ParseIP("10.0.0.1"), net.ParseIP("::1")}, URIs: []*url.URL{u},
	}
	if err := SetOtherSANs(tmpl, others); err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if len(cert.DNSNames) != 1 || len(cert.EmailAddresses) != 1 || len(cert.IPAddresses) != 2 || len(cert.URIs) != 1 {
		t.Fatalf("standard SANs lost: %v %v %v %v", cert.DNSNames, cert.EmailAddresses, cert.IPAddresses, cert.URIs)
	}
	if !cert.IPAddresses[0].Equal(net.ParseIP("10.0.0.1")) {
		t.Error("IPv4 SAN")
	}
	back, err := OtherSANsOf(cert.Extensions)
	if err != nil || len(back) != 1 || back[0].String() != "1.3.6.1.4.1.311.20.2.3;UTF-8:user@example.com" {
		t.Fatalf("OtherSANsOf = %v, %v", back, err)
	}
	// The otherName value is IMPLICIT-tagged: [0] constructed holding a
	// UTF8String, as OpenSSL writes it.
	if !strings.Contains(string(der), "\xa0\x12\x0c\x10user@example.com") {
		t.Error("otherName value not encoded as [0] { UTF8String }")
	}
}

func TestParseCSR(t *testing.T) {
	t.Parallel()
	key, _ := GenerateKey(rand.Reader, "ec", 256)
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "x"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	good := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
	csr, err := ParseCSR(good)
	if err != nil || CheckCSRSignature(csr) != nil {
		t.Fatalf("good CSR: %v", err)
	}
	if typ, bits, err := CheckCSRKey(csr); typ != "ec" || bits != 256 || err != nil {
		t.Errorf("CheckCSRKey = %s %d %v", typ, bits, err)
	}
	bad := append([]byte(nil), der...)
	bad[len(bad)-3] ^= 0xff // inside the signature
	badSig := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: bad}))
	tests := []struct{ name, in, want string }{
		{"empty", "", `"csr" is empty`},
		{"no pem", "hello", "csr contains no data"},
		{"garbage", "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n", "certificate request could not be parsed: "},
	}
	for _, tt := range tests {
		_, err := ParseCSR(tt.in)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) || !errors.Is(err, errs.Invalid) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
	csr, err = ParseCSR(badSig)
	if err != nil {
		t.Fatalf("bad signature must still parse: %v", err)
	}
	if err := CheckCSRSignature(csr); err == nil || err.Error() != "request signature invalid" || !errors.Is(err, errs.Invalid) {
		t.Errorf("CheckCSRSignature = %v", err)
	}
}

func TestFormats(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"": "pem", "pem": "pem", "der": "der", "pem_bundle": "pem_bundle"} {
		if got, err := ParseFormat(in); got != want || err != nil {
			t.Errorf("ParseFormat(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseFormat("json"); err == nil || err.Error() != `the "format" path parameter must be "pem", "der", or "pem_bundle"` {
		t.Errorf("ParseFormat(json) = %v", err)
	}
	der := []byte{0x30, 0x00}
	if p := CertPEM(der); strings.HasSuffix(p, "\n") || !strings.HasPrefix(p, "-----BEGIN CERTIFICATE-----") {
		t.Errorf("CertPEM = %q", p)
	}
	if p := IssuerPEM(der); !strings.HasSuffix(p, "-----END CERTIFICATE-----\n") {
		t.Errorf("IssuerPEM = %q", p)
	}
	if EncodeCert("der", der) != "MAA=" {
		t.Error("EncodeCert der")
	}
	if PEMBundle("a\n", "", "b") != "a\nb" {
		t.Error("PEMBundle")
	}
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }
