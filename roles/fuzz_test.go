package roles

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// FuzzNameAllowed checks invariants of the name policy on arbitrary names:
// it never panics, a role without wildcards never allows a '*', a role
// limited to example.com subdomains only allows such names (or localhost),
// and allow_any_name under enforce_hostnames only allows hostname-shaped
// non-e-mail names.
func FuzzNameAllowed(f *testing.F) {
	for _, s := range []string{
		"www.example.com", "example.com", "*.example.com", "b*z.example.com", "user@mail.example.com",
		"a@b@example.com", "localhost", "x.localhost", "bücher.example.com", "a..example.com",
		"", "*", "*.", ".", "@", "*@*", "xn--bcher-kva.example.com", "EXAMPLE.COM", "a.example.com.",
		strings.Repeat("a.", 200) + "example.com", "\x00.example.com", "*.*.example.com",
	} {
		f.Add(s)
	}
	sub := mustRole(f, map[string]any{"allowed_domains": "example.com", "allow_subdomains": true})
	noWild := mustRole(f, map[string]any{"allow_any_name": true, "allow_wildcard_certificates": false, "enforce_hostnames": false})
	anyName := mustRole(f, map[string]any{"allow_any_name": true})
	glob := mustRole(f, map[string]any{"allowed_domains": "*.example.com,ftp*.example.org", "allow_glob_domains": true})
	f.Fuzz(func(t *testing.T, name string) {
		host := name
		if _, d, ok := strings.Cut(name, "@"); ok {
			host = d
		}
		if sub.NameAllowed(name, Identity{}) {
			// (A wildcard's base compares case-insensitively.)
			lh := strings.ToLower(host)
			if !strings.HasSuffix(lh, ".example.com") && !strings.HasSuffix(lh, "localhost") &&
				!strings.HasSuffix(lh, "localdomain") {
				t.Fatalf("subdomain role allowed %q", name)
			}
		}
		if noWild.NameAllowed(name, Identity{}) && strings.Contains(host, "*") {
			t.Fatalf("wildcard allowed with allow_wildcard_certificates=false: %q", name)
		}
		// Only the host part is checked: Vault leaves an e-mail's local part
		// (and an empty e-mail domain) alone.
		if anyName.NameAllowed(name, Identity{}) && !strings.Contains(name, "@") && strings.ContainsAny(name, " _\x00/") {
			t.Fatalf("enforce_hostnames let %q through", name)
		}
		glob.NameAllowed(name, Identity{})
		glob.CommonNameAllowed(name, Identity{})
	})
}

// FuzzGlob compares glob with a regular-expression rendering of the same
// pattern.
func FuzzGlob(f *testing.F) {
	for _, s := range [][2]string{{"*", ""}, {"a*b", "ab"}, {"a*a", "a"}, {"*.example.com", "x.example.com"},
		{"a**b*c", "abc"}, {"x", "x"}, {"", ""}, {"*a*", "bab"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, subject string) {
		parts := strings.Split(pattern, "*")
		for i := range parts {
			parts[i] = regexp.QuoteMeta(parts[i])
		}
		re, err := regexp.Compile(`(?s)^` + strings.Join(parts, ".*") + `$`)
		if err != nil {
			t.Skip()
		}
		if got, want := glob(pattern, subject), re.MatchString(subject); got != want {
			t.Fatalf("glob(%q, %q) = %v, regexp says %v", pattern, subject, got, want)
		}
	})
}

// FuzzOtherSANs feeds arbitrary other_sans entries and SAN extension bytes.
func FuzzOtherSANs(f *testing.F) {
	f.Add("1.2.3;UTF8:x", otherNameSAN(f, "1.2.3.4", "v").Value)
	f.Add("1.2.3;utf-8:", []byte{0x30, 0x00})
	f.Add(";:", []byte{0x30, 0x03, 0xa0, 0x01, 0x00})
	f.Add("x", []byte{})
	role := mustRole(f, map[string]any{"allowed_other_sans": "1.2.3;UTF8:*", "allow_any_name": true, "require_cn": false})
	f.Fuzz(func(t *testing.T, entry string, ext []byte) {
		if parsed, err := ParseOtherSANs([]string{entry}); err == nil {
			if parsed[0].String() == "" {
				t.Fatal("empty rendering")
			}
			_, _, _ = role.otherSANsRefused(parsed)
		}
		names, err := CSROtherNames([]pkix.Extension{{Id: oidSubjectAltName, Value: ext}})
		if err == nil {
			for _, n := range names {
				if _, err := ParseOtherSANs([]string{n.String()}); err != nil {
					t.Fatalf("CSR other name %q does not read back: %v", n, err)
				}
			}
		}
		_, _ = role.PlanIssue(&LeafRequest{OtherSANs: []string{entry}, Format: "pem"}, KeySpec{Type: "ec", Bits: 256}, testEnv())
	})
}

// FuzzPlanSignCSR parses arbitrary DER as a CSR and runs every signing plan
// over what parses: no panics, and whatever a plan admits satisfies its
// role.
func FuzzPlanSignCSR(f *testing.F) {
	k := keysOnce()
	for _, tmpl := range []*x509.CertificateRequest{
		{Subject: pkix.Name{CommonName: "a.example.com"}, DNSNames: []string{"b.example.com"}},
		{Subject: pkix.Name{CommonName: "x", SerialNumber: "1", ExtraNames: []pkix.AttributeTypeAndValue{{Type: oidUserID, Value: "u"}}},
			EmailAddresses: []string{"me@example.com"}, IPAddresses: []net.IP{net.ParseIP("10.0.0.1")},
			URIs: []*url.URL{{Scheme: "spiffe", Host: "example.com", Path: "/w"}}},
		{ExtraExtensions: []pkix.Extension{otherNameSAN(f, "1.2.3.4", "v"), {Id: oidBasicConstraints, Value: []byte{0x30, 0x00}}}},
	} {
		f.Add(makeCSR(f, k.p256, tmpl).Raw)
	}
	f.Add(makeCSR(f, k.rsa2048, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "a.example.com"}}).Raw)
	f.Add([]byte{0x30, 0x00})
	strict := mustRole(f, map[string]any{"allowed_domains": "example.com", "allow_subdomains": true, "key_type": "any"})
	params := DefaultVerbatimParams()
	verbatim := VerbatimRole(&params, nil)
	env := testEnv()
	env.Now = time.Now()
	env.IssuerNotAfter = env.Now.Add(24 * time.Hour * 365)
	f.Fuzz(func(t *testing.T, der []byte) {
		csr, err := x509.ParseCertificateRequest(der)
		if err != nil {
			return
		}
		if p, err := strict.PlanSign(&LeafRequest{Format: "pem"}, csr, env); err == nil {
			for _, n := range append(append([]string{}, p.DNSNames...), p.EmailAddresses...) {
				if !strict.NameAllowed(n, Identity{}) {
					t.Fatalf("plan admitted %q", n)
				}
			}
		}
		_, _ = verbatim.PlanSign(&LeafRequest{Format: "pem"}, csr, env)
	})
}
