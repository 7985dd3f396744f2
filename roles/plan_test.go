package roles

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"net"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/pkid-dev/pkid/errs"
)

var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func testEnv() Env {
	return Env{Now: testNow, MountDefaultTTL: 768 * time.Hour, MountMaxTTL: 768 * time.Hour,
		IssuerNotAfter: testNow.Add(3 * 365 * 24 * time.Hour)}
}

// makeCSR builds and parses a CSR as a client would send it.
func makeCSR(t testing.TB, key crypto.Signer, tmpl *x509.CertificateRequest) *x509.CertificateRequest {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		t.Fatal(err)
	}
	return csr
}

func leaf(req LeafRequest) *LeafRequest {
	d := DefaultLeafRequest()
	d.CommonName, d.AltNames, d.IPSANs, d.URISANs = req.CommonName, req.AltNames, req.IPSANs, req.URISANs
	d.OtherSANs, d.SerialNumber, d.TTL, d.NotAfter = req.OtherSANs, req.SerialNumber, req.TTL, req.NotAfter
	d.ExcludeCNFromSANs, d.UserIDs = req.ExcludeCNFromSANs, req.UserIDs
	return &d
}

func planIssue(t testing.TB, role *Role, req LeafRequest) (*LeafPlan, error) {
	key, _, err := role.IssueKey(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return role.PlanIssue(leaf(req), key, testEnv())
}

func TestPlanIssueNames(t *testing.T) {
	t.Parallel()
	web := map[string]any{"allowed_domains": "example.com", "allow_subdomains": true, "allow_bare_domains": true}
	cases := []struct {
		name   string
		role   map[string]any
		req    LeafRequest
		dns    []string
		emails []string
		err    string
	}{
		{"CN copied into SANs", web, LeafRequest{CommonName: "api.example.com"}, []string{"api.example.com"}, nil, ""},
		{"alt names after CN, deduplicated", web, LeafRequest{CommonName: "api.example.com", AltNames: "b.example.com, api.example.com,,b.example.com"},
			[]string{"api.example.com", "b.example.com"}, nil, ""},
		{"e-mail alt names sorted", web, LeafRequest{CommonName: "api.example.com", AltNames: "z@example.com,a@example.com"},
			[]string{"api.example.com"}, []string{"a@example.com", "z@example.com"}, ""},
		{"e-mail CN", web, LeafRequest{CommonName: "me@example.com"}, nil, []string{"me@example.com"}, ""},
		{"exclude_cn_from_sans", web, LeafRequest{CommonName: "api.example.com", AltNames: "b.example.com", ExcludeCNFromSANs: true}, []string{"b.example.com"}, nil, ""},
		{"excluded CN still checked", web, LeafRequest{CommonName: "evil.org", ExcludeCNFromSANs: true}, nil, nil, "common name evil.org not allowed by this role"},
		{"IDN CN in punycode", web, LeafRequest{CommonName: "bücher.example.com"}, []string{"xn--bcher-kva.example.com"}, nil, ""},
		{"non-hostname alt name dropped", map[string]any{"allow_any_name": true, "enforce_hostnames": false},
			LeafRequest{CommonName: "a.example.com", AltNames: "not a host"}, []string{"a.example.com"}, nil, ""},
		{"IDNA error is a 400", web, LeafRequest{CommonName: "a..example.com"}, nil, nil, `idna: invalid label`},
		{"free-form CN not copied", map[string]any{"cn_validations": "disabled", "allowed_domains": "example.com", "allow_subdomains": true},
			LeafRequest{CommonName: "My Service", AltNames: "svc.example.com"}, []string{"svc.example.com"}, nil, ""},
		{"CN required", web, LeafRequest{}, nil, nil, `the common_name field is required, or must be provided in a CSR with "use_csr_common_name" set to true, unless "require_cn" is set to false`},
		{"CN optional", map[string]any{"require_cn": false, "allowed_domains": "example.com", "allow_subdomains": true},
			LeafRequest{AltNames: "a.example.com"}, []string{"a.example.com"}, nil, ""},
		{"refused SAN", web, LeafRequest{CommonName: "api.example.com", AltNames: "api.example.org"}, nil, nil, "subject alternate name api.example.org not allowed by this role"},
		{"refused e-mail", web, LeafRequest{CommonName: "api.example.com", AltNames: "me@example.org"}, nil, nil, "email address me@example.org not allowed by this role"},
		{"refused CN first", web, LeafRequest{CommonName: "x.example.org", AltNames: "y.example.org"}, nil, nil, "common name x.example.org not allowed by this role"},
		{"wildcard CN", web, LeafRequest{CommonName: "*.example.com"}, []string{"*.example.com"}, nil, ""},
		// Vault: alt_names trimmed and sorted, the DNS SANs sorted too.
		{"DNS SANs sorted, CN not first", web, LeafRequest{CommonName: "m.example.com", AltNames: " z.example.com, b.example.com "},
			[]string{"b.example.com", "m.example.com", "z.example.com"}, nil, ""},
		{"first refused alt name in sorted order", web, LeafRequest{CommonName: "m.example.com", AltNames: "z.example.org,a.example.org"},
			nil, nil, "subject alternate name a.example.org not allowed by this role"},
		// Vault's hostnameRegex: only a whole "*." label makes a DNS SAN.
		{"partial wildcard CN not a SAN", map[string]any{"allow_any_name": true}, LeafRequest{CommonName: "b*z.example.com", AltNames: "*.example.com"},
			[]string{"*.example.com"}, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := planIssue(t, mustRole(t, tc.role), tc.req)
			if tc.err != "" {
				if err == nil || !strings.Contains(errs.Message(err), tc.err) || errs.KindOf(err) != errs.Invalid {
					t.Fatalf("err %v, want 400 %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(p.DNSNames, tc.dns) || !slices.Equal(p.EmailAddresses, tc.emails) {
				t.Fatalf("dns %q emails %q, want %q %q", p.DNSNames, p.EmailAddresses, tc.dns, tc.emails)
			}
		})
	}
}

func TestPlanIssueOtherFields(t *testing.T) {
	t.Parallel()
	base := map[string]any{"allowed_domains": "example.com", "allow_subdomains": true}
	with := func(extra map[string]any) map[string]any {
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	cn := "a.example.com"
	cases := []struct {
		name  string
		role  map[string]any
		req   LeafRequest
		check func(t *testing.T, p *LeafPlan)
		err   string
	}{
		{"IP SANs", base, LeafRequest{CommonName: cn, IPSANs: []string{"10.0.0.1", "::1"}}, func(t *testing.T, p *LeafPlan) {
			if len(p.IPAddresses) != 2 || !p.IPAddresses[0].Equal(net.ParseIP("10.0.0.1")) {
				t.Errorf("ips %v", p.IPAddresses)
			}
		}, ""},
		{"IP SANs refused", with(map[string]any{"allow_ip_sans": false}), LeafRequest{CommonName: cn, IPSANs: []string{"10.0.0.1"}}, nil,
			"IP Subject Alternative Names are not allowed in this role, but was provided [10.0.0.1]"},
		{"bad IP", base, LeafRequest{CommonName: cn, IPSANs: []string{"10.0.0.300"}}, nil, `the value "10.0.0.300" is not a valid IP address`},
		{"URI SANs", with(map[string]any{"allowed_uri_sans": "spiffe://example.org/*"}), LeafRequest{CommonName: cn, URISANs: []string{"spiffe://example.org/web"}},
			func(t *testing.T, p *LeafPlan) {
				if len(p.URIs) != 1 || p.URIs[0].String() != "spiffe://example.org/web" {
					t.Errorf("uris %v", p.URIs)
				}
			}, ""},
		{"URI SANs none allowed", base, LeafRequest{CommonName: cn, URISANs: []string{"spiffe://example.org/web"}}, nil,
			"URI Subject Alternative Names are not allowed in this role, but were provided via the API"},
		{"URI SAN not matching", with(map[string]any{"allowed_uri_sans": "spiffe://example.org/*"}), LeafRequest{CommonName: cn, URISANs: []string{"https://evil"}}, nil,
			"URI Subject Alternative Names were provided via the API which are not valid for this role"},
		{"other SANs", with(map[string]any{"allowed_other_sans": "1.3.6.1.4.1.311.20.2.3;UTF8:*"}), LeafRequest{CommonName: cn, OtherSANs: []string{"1.3.6.1.4.1.311.20.2.3;utf8:me@example.com"}},
			func(t *testing.T, p *LeafPlan) {
				if !reflect.DeepEqual(p.OtherSANs, []OtherName{{"1.3.6.1.4.1.311.20.2.3", "me@example.com"}}) {
					t.Errorf("other sans %v", p.OtherSANs)
				}
			}, ""},
		{"other SAN OID refused", base, LeafRequest{CommonName: cn, OtherSANs: []string{"1.2.3;UTF8:x"}}, nil, "other SAN OID 1.2.3 not allowed by this role"},
		{"other SAN value refused", with(map[string]any{"allowed_other_sans": "1.2.3;UTF8:ok*"}), LeafRequest{CommonName: cn, OtherSANs: []string{"1.2.3;UTF8:bad"}}, nil,
			"other SAN bad not allowed for OID 1.2.3 by this role"},
		{"other SAN malformed", with(map[string]any{"allowed_other_sans": "*"}), LeafRequest{CommonName: cn, OtherSANs: []string{"1.2.3 UTF8 x"}}, nil,
			`could not parse requested other SAN: expected a semicolon in other SAN "1.2.3 UTF8 x"`},
		{"subject serial", with(map[string]any{"allowed_serial_numbers": "SN-*"}), LeafRequest{CommonName: cn, SerialNumber: "SN-42"},
			func(t *testing.T, p *LeafPlan) {
				if p.Subject.SerialNumber != "SN-42" {
					t.Errorf("serial %q", p.Subject.SerialNumber)
				}
			}, ""},
		{"subject serial refused by default", base, LeafRequest{CommonName: cn, SerialNumber: "SN-42"}, nil, "serial_number SN-42 not allowed by this role"},
		{"user ids", with(map[string]any{"allowed_user_ids": "alice"}), LeafRequest{CommonName: cn, UserIDs: []string{"Alice"}},
			func(t *testing.T, p *LeafPlan) {
				if len(p.Subject.ExtraNames) != 1 || p.Subject.ExtraNames[0].Value != "Alice" {
					t.Errorf("uids %v", p.Subject.ExtraNames)
				}
			}, ""},
		{"user ids refused by default", base, LeafRequest{CommonName: cn, UserIDs: []string{"alice"}}, nil, "user_id alice is not allowed by this role"},
		{"subject from role, deduplicated", with(map[string]any{"organization": "Org,Org", "ou": "A,B", "country": "NL"}), LeafRequest{CommonName: cn},
			func(t *testing.T, p *LeafPlan) {
				if !slices.Equal(p.Subject.Organization, []string{"Org"}) || !slices.Equal(p.Subject.OrganizationalUnit, []string{"A", "B"}) || p.Subject.Country[0] != "NL" {
					t.Errorf("subject %+v", p.Subject)
				}
			}, ""},
		{"default usages", base, LeafRequest{CommonName: cn}, func(t *testing.T, p *LeafPlan) {
			if p.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageKeyAgreement|x509.KeyUsageKeyEncipherment {
				t.Errorf("ku %v", p.KeyUsage)
			}
			if !slices.Equal(p.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}) {
				t.Errorf("eku %v", p.ExtKeyUsage)
			}
		}, ""},
		{"usage flags and oids", with(map[string]any{"key_usage": "", "server_flag": false, "client_flag": false, "code_signing_flag": true,
			"ext_key_usage": "TimeStamping,bogus", "ext_key_usage_oids": "1.3.6.1.5.5.7.3.99", "basic_constraints_valid_for_non_ca": true}),
			LeafRequest{CommonName: cn}, func(t *testing.T, p *LeafPlan) {
				if p.KeyUsage != 0 || !p.BasicConstraintsValidForNonCA {
					t.Errorf("ku %v bc %v", p.KeyUsage, p.BasicConstraintsValidForNonCA)
				}
				if !slices.Equal(p.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning, x509.ExtKeyUsageTimeStamping}) {
					t.Errorf("eku %v", p.ExtKeyUsage)
				}
				if len(p.UnknownExtKeyUsage) != 1 || p.UnknownExtKeyUsage[0].String() != "1.3.6.1.5.5.7.3.99" {
					t.Errorf("eku oids %v", p.UnknownExtKeyUsage)
				}
			}, ""},
		{"policy OIDs", with(map[string]any{"policy_identifiers": "1.2.3.4"}), LeafRequest{CommonName: cn}, func(t *testing.T, p *LeafPlan) {
			if len(p.Policies.OIDs) != 1 || p.Policies.Extension != nil {
				t.Errorf("policies %+v", p.Policies)
			}
		}, ""},
		{"policy qualifiers", with(map[string]any{"policy_identifiers": `[{"oid":"1.2.3.4","cps":"https://cps.example.com","notice":"hello"}]`}), LeafRequest{CommonName: cn},
			func(t *testing.T, p *LeafPlan) { checkPolicyExtension(t, p.Policies.Extension) }, ""},
		// Vault builds the extension itself for any JSON-form entry, so it
		// follows the extensions Go makes.
		{"JSON policy without qualifiers", with(map[string]any{"policy_identifiers": `[{"oid":"1.2.3.4"}]`}), LeafRequest{CommonName: cn},
			func(t *testing.T, p *LeafPlan) {
				if len(p.Policies.OIDs) != 1 || p.Policies.Extension == nil {
					t.Errorf("policies %+v", p.Policies)
				}
			}, ""},
		// Vault computes the validity before it reads user IDs.
		{"TTL error before user IDs", base, LeafRequest{CommonName: cn, TTL: time.Hour, NotAfter: "2030-01-01T00:00:00Z", UserIDs: []string{"bob"}},
			nil, "Either ttl or not_after should be provided. Both should not be provided in the same request."},
		{"ttl truncation warning", with(map[string]any{"max_ttl": "1h"}), LeafRequest{CommonName: cn, TTL: 2 * time.Hour}, func(t *testing.T, p *LeafPlan) {
			if !p.NotAfter.Equal(testNow.Add(time.Hour)) || len(p.Warnings) != 1 {
				t.Errorf("notAfter %s warnings %q", p.NotAfter, p.Warnings)
			}
		}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := planIssue(t, mustRole(t, tc.role), tc.req)
			if tc.err != "" {
				if err == nil || errs.Message(err) != tc.err {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, p)
		})
	}
}

// checkPolicyExtension parses a certificatePolicies extension back with Go.
func checkPolicyExtension(t *testing.T, ext *pkix.Extension) {
	t.Helper()
	if ext == nil {
		t.Fatal("no policy extension")
	}
	var infos []struct {
		Policy     asn1.ObjectIdentifier
		Qualifiers []asn1.RawValue `asn1:"optional"`
	}
	if rest, err := asn1.Unmarshal(ext.Value, &infos); err != nil || len(rest) > 0 {
		t.Fatalf("policy extension does not parse: %v", err)
	}
	if len(infos) != 1 || infos[0].Policy.String() != "1.2.3.4" || len(infos[0].Qualifiers) != 2 {
		t.Fatalf("policies %+v", infos)
	}
}

func TestPlanSign(t *testing.T) {
	t.Parallel()
	k := keysOnce()
	ecRole := map[string]any{"allowed_domains": "example.com", "allow_subdomains": true, "key_type": "ec"}
	cases := []struct {
		name  string
		role  map[string]any
		key   crypto.Signer
		csr   x509.CertificateRequest
		req   LeafRequest
		check func(t *testing.T, p *LeafPlan)
		err   string
	}{
		{"CN and SANs from the CSR", ecRole, k.p256, x509.CertificateRequest{
			Subject:  pkix.Name{CommonName: "a.example.com", Organization: []string{"Ignored Org"}},
			DNSNames: []string{"b.example.com"}, IPAddresses: []net.IP{net.ParseIP("10.1.1.1")}},
			LeafRequest{CommonName: "x.example.com", AltNames: "y.example.com", IPSANs: []string{"10.9.9.9"}},
			func(t *testing.T, p *LeafPlan) {
				if p.Subject.CommonName != "a.example.com" || len(p.Subject.Organization) != 0 {
					t.Errorf("subject %+v", p.Subject)
				}
				// Sorted, as Vault's RemoveDuplicates leaves them.
				if !slices.Equal(p.DNSNames, []string{"a.example.com", "b.example.com"}) {
					t.Errorf("dns %v", p.DNSNames)
				}
				if len(p.IPAddresses) != 1 || !p.IPAddresses[0].Equal(net.ParseIP("10.1.1.1")) {
					t.Errorf("ips %v", p.IPAddresses)
				}
				if len(p.Warnings) != 2 || !strings.Contains(p.Warnings[0], "common_name field was provided") || !strings.Contains(p.Warnings[1], "alt_names field was provided") {
					t.Errorf("warnings %q", p.Warnings)
				}
			}, ""},
		{"request names when the role says so", map[string]any{"allowed_domains": "example.com", "allow_subdomains": true, "key_type": "ec",
			"use_csr_common_name": false, "use_csr_sans": false}, k.p256,
			x509.CertificateRequest{Subject: pkix.Name{CommonName: "a.example.com"}, DNSNames: []string{"b.example.com"}},
			LeafRequest{CommonName: "x.example.com", AltNames: "y.example.com"},
			func(t *testing.T, p *LeafPlan) {
				if p.Subject.CommonName != "x.example.com" || !slices.Equal(p.DNSNames, []string{"x.example.com", "y.example.com"}) {
					t.Errorf("cn %q dns %v", p.Subject.CommonName, p.DNSNames)
				}
			}, ""},
		{"CN from request when CSR has none", ecRole, k.p256, x509.CertificateRequest{}, LeafRequest{CommonName: "x.example.com"},
			func(t *testing.T, p *LeafPlan) {
				if p.Subject.CommonName != "x.example.com" {
					t.Errorf("cn %q", p.Subject.CommonName)
				}
			}, ""},
		{"key type checked before names", ecRole, k.rsa2048, x509.CertificateRequest{Subject: pkix.Name{CommonName: "evil.org"}}, LeafRequest{}, nil,
			"role requires keys of type ec"},
		{"CSR SAN refused", ecRole, k.p256, x509.CertificateRequest{Subject: pkix.Name{CommonName: "a.example.com"}, DNSNames: []string{"evil.org"}}, LeafRequest{}, nil,
			"subject alternate name evil.org not allowed by this role"},
		{"CSR IP refused", map[string]any{"allowed_domains": "example.com", "allow_subdomains": true, "key_type": "ec", "allow_ip_sans": false}, k.p256,
			x509.CertificateRequest{Subject: pkix.Name{CommonName: "a.example.com"}, IPAddresses: []net.IP{net.ParseIP("10.0.0.1")}}, LeafRequest{}, nil,
			"IP Subject Alternative Names are not allowed in this role, but was provided some via CSR"},
		{"CSR URI refused", ecRole, k.p256, x509.CertificateRequest{Subject: pkix.Name{CommonName: "a.example.com"}, URIs: []*url.URL{{Scheme: "spiffe", Host: "x"}}}, LeafRequest{}, nil,
			"URI Subject Alternative Names are not allowed in this role, but were provided via CSR"},
		{"CSR subject serial fails a default role", ecRole, k.p256, x509.CertificateRequest{Subject: pkix.Name{CommonName: "a.example.com", SerialNumber: "1234"}}, LeafRequest{}, nil,
			"serial_number 1234 not allowed by this role"},
		{"CSR UID fails a default role", ecRole, k.p256, x509.CertificateRequest{Subject: pkix.Name{CommonName: "a.example.com",
			ExtraNames: []pkix.AttributeTypeAndValue{{Type: oidUserID, Value: "bob"}}}}, LeafRequest{}, nil,
			"user_id bob is not allowed by this role"},
		{"CSR other name", map[string]any{"allowed_domains": "example.com", "allow_subdomains": true, "key_type": "ec", "allowed_other_sans": "1.2.3.4;UTF8:*"}, k.p256,
			x509.CertificateRequest{Subject: pkix.Name{CommonName: "a.example.com"}, ExtraExtensions: []pkix.Extension{otherNameSAN(t, "1.2.3.4", "hello")}}, LeafRequest{},
			func(t *testing.T, p *LeafPlan) {
				if !reflect.DeepEqual(p.OtherSANs, []OtherName{{"1.2.3.4", "hello"}}) {
					t.Errorf("other sans %v", p.OtherSANs)
				}
			}, ""},
		{"CSR basic constraints dropped with a warning", ecRole, k.p256, x509.CertificateRequest{Subject: pkix.Name{CommonName: "a.example.com"},
			ExtraExtensions: []pkix.Extension{{Id: oidBasicConstraints, Critical: true, Value: []byte{0x30, 0x03, 0x01, 0x01, 0xff}}}}, LeafRequest{},
			func(t *testing.T, p *LeafPlan) {
				if len(p.ExtraExtensions) != 0 || len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "Basic Constraints extension that was ignored") {
					t.Errorf("extensions %v warnings %q", p.ExtraExtensions, p.Warnings)
				}
			}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			csr := makeCSR(t, tc.key, &tc.csr)
			p, err := mustRole(t, tc.role).PlanSign(leaf(tc.req), csr, testEnv())
			if tc.err != "" {
				if err == nil || errs.Message(err) != tc.err {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, p)
		})
	}
}

// otherNameSAN encodes a SAN extension holding one otherName the way
// OpenSSL and Vault do.
func otherNameSAN(t testing.TB, oid, value string) pkix.Extension {
	t.Helper()
	o, err := ParseOID(oid)
	if err != nil {
		t.Fatal(err)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(o)
			b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.UTF8String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(value)) })
			})
		})
	})
	return pkix.Extension{Id: oidSubjectAltName, Value: b.BytesOrPanic()}
}

func TestPlanSignBadSignature(t *testing.T) {
	t.Parallel()
	csr := makeCSR(t, keysOnce().p256, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "a.example.com"}})
	csr.Signature = append([]byte(nil), csr.Signature...)
	csr.Signature[len(csr.Signature)-1] ^= 0xff
	role := mustRole(t, map[string]any{"allowed_domains": "example.com", "allow_subdomains": true, "key_type": "ec"})
	if _, err := role.PlanSign(leaf(LeafRequest{}), csr, testEnv()); err == nil || errs.Message(err) != "request signature invalid" {
		t.Fatalf("err %v", err)
	}
}

func TestPlanVerbatim(t *testing.T) {
	t.Parallel()
	k := keysOnce()
	kuExt := pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 15}, Critical: true, Value: []byte{0x03, 0x02, 0x07, 0x80}}
	csr := makeCSR(t, k.p224, &x509.CertificateRequest{
		Subject:         pkix.Name{CommonName: "Anything At All", Organization: []string{"Kept Org"}, SerialNumber: "77"},
		DNSNames:        []string{"under_score.internal"},
		ExtraExtensions: []pkix.Extension{kuExt, {Id: oidBasicConstraints, Value: []byte{0x30, 0x00}}},
	})
	params := DefaultVerbatimParams()
	base := mustRole(t, map[string]any{"ttl": "1h", "no_store": true, "issuer_ref": "int", "key_type": "ec", "allowed_domains": "nothing.test"})
	r := VerbatimRole(&params, base)
	if !r.NoStore || r.IssuerRef != "int" || r.TTL != time.Hour || r.KeyType != "any" {
		t.Fatalf("verbatim role from base: %+v", r)
	}
	p, err := r.PlanSign(leaf(LeafRequest{}), csr, testEnv())
	if err != nil {
		t.Fatal(err)
	}
	if string(p.RawSubject) != string(csr.RawSubject) || !slices.Equal(p.DNSNames, []string{"under_score.internal"}) {
		t.Errorf("subject/SANs not copied: %v", p.DNSNames)
	}
	// Every CSR extension but Basic Constraints, the SAN extension included.
	if len(p.ExtraExtensions) != 2 || !p.ExtraExtensions[0].Id.Equal(oidSubjectAltName) || !p.ExtraExtensions[1].Id.Equal(kuExt.Id) {
		t.Errorf("extensions %v", p.ExtraExtensions)
	}
	if !p.NotAfter.Equal(testNow.Add(time.Hour)) || p.Key.Bits != 224 {
		t.Errorf("notAfter %s key %+v", p.NotAfter, p.Key)
	}
	// RSA below 2048 is refused without the size (Appendix C).
	small := makeCSR(t, k.rsa1024, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "x"}})
	if _, err := VerbatimRole(&params, nil).PlanSign(leaf(LeafRequest{}), small, testEnv()); err == nil ||
		errs.Message(err) != "RSA keys < 2048 bits are unsafe and not supported" {
		t.Errorf("small RSA: %v", err)
	}
}
