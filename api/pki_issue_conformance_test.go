package api_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pkid-dev/pkid/pkidtest"
)

// These tests pin behaviours where Vault (the reference) and OpenBao (whose
// source the spec was read from) differ, or where pkid once differed from
// both: each case is a raw request with the exact answer Vault gives. They
// go through raw HTTP so that statuses, warnings and field types are seen as
// a client sees them.

// lcAnswer is a decoded Vault envelope.
type lcAnswer struct {
	status   int
	Data     map[string]any `json:"data"`
	Warnings []string       `json:"warnings"`
	Errors   []string       `json:"errors"`
}

func lcDo(t *testing.T, srv *pkidtest.Server, method, path string, body any) lcAnswer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, srv.URL+"/v1/"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Vault-Token", srv.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := lcAnswer{status: resp.StatusCode}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &a); err != nil {
			t.Fatalf("%s %s: %d %q: %v", method, path, resp.StatusCode, raw, err)
		}
	}
	return a
}

// lcMust writes and fails the test on anything but 200/204.
func lcMust(t *testing.T, srv *pkidtest.Server, path string, body any) lcAnswer {
	t.Helper()
	a := lcDo(t, srv, "POST", path, body)
	if a.status != 200 && a.status != 204 {
		t.Fatalf("POST %s: %d %v", path, a.status, a.Errors)
	}
	return a
}

// lcServer has three mounts with roots of different key types: pki
// (P-256), p384 (P-384) and prsa (RSA-2048), and the roles the cases use.
func lcServer(t *testing.T) *pkidtest.Server {
	t.Helper()
	srv := pkidtest.Start(t)
	for mount, key := range map[string]map[string]any{
		"pki":  {"key_type": "ec"},
		"p384": {"key_type": "ec", "key_bits": 384},
		"prsa": {"key_type": "rsa"},
	} {
		srv.EnablePKI(t, mount, 87600*time.Hour)
		body := map[string]any{"common_name": mount + " root", "ttl": "87600h"}
		for k, v := range key {
			body[k] = v
		}
		lcMust(t, srv, mount+"/root/generate/internal", body)
	}
	roles := map[string]map[string]any{
		"pki/roles/sub":   {"allowed_domains": "example.com", "allow_subdomains": "true", "key_type": "ec"},
		"pki/roles/any":   {"allow_any_name": "true", "key_type": "ec"},
		"pki/roles/glob":  {"allowed_domains": "*.Example.com", "allow_glob_domains": "true", "key_type": "ec"},
		"pki/roles/pol":   {"allow_any_name": "true", "key_type": "ec", "policy_identifiers": `[{"oid":"1.2.3.4"}]`},
		"p384/roles/rsa":  {"allow_any_name": "true"},
		"p384/roles/ec":   {"allow_any_name": "true", "key_type": "ec"},
		"prsa/roles/ecps": {"allow_any_name": "true", "key_type": "ec", "use_pss": "true"},
		"prsa/roles/pss":  {"allow_any_name": "true", "key_type": "any", "use_pss": "true"},
	}
	for path, body := range roles {
		lcMust(t, srv, path, body)
	}
	return srv
}

func lcCert(t *testing.T, a lcAnswer) *x509.Certificate {
	t.Helper()
	s, _ := a.Data["certificate"].(string)
	certs := issCerts(t, s)
	if len(certs) == 0 {
		t.Fatalf("no certificate in %v", a.Data)
	}
	return certs[0]
}

func lcCSR(t *testing.T, typ string) string {
	t.Helper()
	switch typ {
	case "ed25519":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return issCSR(t, k, "csr.example.com")
	case "p256":
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return issCSR(t, k, "csr.example.com")
	}
	return issCSR(t, issKey(t, typ), "csr.example.com")
}

func TestIssueVaultConformance(t *testing.T) {
	t.Parallel()
	srv := lcServer(t)
	rsaCSR, ecCSR, edCSR := lcCSR(t, "rsa"), lcCSR(t, "p256"), lcCSR(t, "ed25519")
	oidPolicies := asn1.ObjectIdentifier{2, 5, 29, 32}
	cases := []struct {
		name   string
		path   string
		body   map[string]any
		status int
		errMsg string // for 4xx/5xx: the exact error
		check  func(t *testing.T, a lcAnswer, c *x509.Certificate)
	}{
		// Vault sorts DNS SANs (strutil.RemoveDuplicates); OpenBao keeps
		// request order. The tutorial's own request shows it.
		{"DNS SANs sorted, CN not first", "pki/issue/sub",
			map[string]any{"common_name": "api.example.com", "alt_names": "api-internal.example.com", "ttl": "24h"}, 200, "",
			func(t *testing.T, _ lcAnswer, c *x509.Certificate) {
				if !slices.Equal(c.DNSNames, []string{"api-internal.example.com", "api.example.com"}) {
					t.Errorf("dns %q", c.DNSNames)
				}
			}},
		{"alt_names trimmed, deduplicated, sorted", "pki/issue/sub",
			map[string]any{"common_name": "m.example.com", "alt_names": " z.example.com, b.example.com,,b.example.com ", "ttl": "1h"}, 200, "",
			func(t *testing.T, _ lcAnswer, c *x509.Certificate) {
				if !slices.Equal(c.DNSNames, []string{"b.example.com", "m.example.com", "z.example.com"}) {
					t.Errorf("dns %q", c.DNSNames)
				}
			}},
		{"first refused alt name is the first in sorted order", "pki/issue/sub",
			map[string]any{"common_name": "m.example.com", "alt_names": "z.evil.org,a.evil.org"}, 400,
			"subject alternate name a.evil.org not allowed by this role", nil},
		// Vault's hostnameRegex admits only a whole "*." label: a partial
		// wildcard passes the name policy but is not a DNS SAN.
		{"partial wildcard CN not copied to SANs", "pki/issue/any",
			map[string]any{"common_name": "b*z.example.com", "alt_names": "f*o.example.com,*.example.com"}, 200, "",
			func(t *testing.T, _ lcAnswer, c *x509.Certificate) {
				if c.Subject.CommonName != "b*z.example.com" || !slices.Equal(c.DNSNames, []string{"*.example.com"}) {
					t.Errorf("cn %q dns %q", c.Subject.CommonName, c.DNSNames)
				}
			}},
		// Vault ≥ 1.15 compares glob domains case-insensitively.
		{"glob domains case-insensitive", "pki/issue/glob",
			map[string]any{"common_name": "WWW.EXAMPLE.COM"}, 200, "", nil},
		{"glob still refuses other domains", "pki/issue/glob",
			map[string]any{"common_name": "www.example.org"}, 400, "common name www.example.org not allowed by this role", nil},
		// Vault computes the TTL before it looks at user IDs.
		{"TTL refused before user IDs", "pki/issue/sub",
			map[string]any{"common_name": "a.example.com", "ttl": "1h", "not_after": "2030-01-01T00:00:00Z", "user_ids": "bob"}, 400,
			"Either ttl or not_after should be provided. Both should not be provided in the same request.", nil},
		{"user IDs refused by a default role", "pki/issue/sub",
			map[string]any{"common_name": "a.example.com", "user_ids": "bob"}, 400, "user_id bob is not allowed by this role", nil},
		// A JSON-form policy, even without qualifiers, makes Vault build
		// the whole extension itself: it then follows Go's extensions.
		{"JSON policy identifiers as an extra extension", "pki/issue/pol",
			map[string]any{"common_name": "a.example.com"}, 200, "",
			func(t *testing.T, _ lcAnswer, c *x509.Certificate) {
				last := c.Extensions[len(c.Extensions)-1]
				if !last.Id.Equal(oidPolicies) || len(c.PolicyIdentifiers) != 1 || !c.PolicyIdentifiers[0].Equal(asn1.ObjectIdentifier{1, 2, 3, 4}) {
					t.Errorf("policies %v, last extension %v", c.PolicyIdentifiers, last.Id)
				}
			}},
		// The signature_bits quirk (spec §5.6): on the CSR paths a P-384
		// issuer signs with the hash the role's signature_bits names (256
		// for an RSA role); issue follows the curve.
		{"P-384 issuer, RSA role, sign: ECDSA-SHA256", "p384/sign/rsa",
			map[string]any{"csr": rsaCSR}, 200, "",
			func(t *testing.T, _ lcAnswer, c *x509.Certificate) {
				if c.SignatureAlgorithm != x509.ECDSAWithSHA256 {
					t.Errorf("alg %v", c.SignatureAlgorithm)
				}
			}},
		{"P-384 issuer, RSA role, issue: ECDSA-SHA384", "p384/issue/ec",
			map[string]any{"common_name": "a.example.com"}, 200, "",
			func(t *testing.T, _ lcAnswer, c *x509.Certificate) {
				if c.SignatureAlgorithm != x509.ECDSAWithSHA384 {
					t.Errorf("alg %v", c.SignatureAlgorithm)
				}
			}},
		// certutil only honours use_pss together with a known signature
		// size; an EC role carries 0, so an RSA issuer signs PKCS #1 v1.5.
		{"use_pss with an EC role: PKCS #1 v1.5", "prsa/issue/ecps",
			map[string]any{"common_name": "a.example.com"}, 200, "",
			func(t *testing.T, _ lcAnswer, c *x509.Certificate) {
				if c.SignatureAlgorithm != x509.SHA256WithRSA {
					t.Errorf("alg %v", c.SignatureAlgorithm)
				}
			}},
		{"use_pss, any role, RSA CSR: PSS", "prsa/sign/pss",
			map[string]any{"csr": rsaCSR}, 200, "",
			func(t *testing.T, _ lcAnswer, c *x509.Certificate) {
				if c.SignatureAlgorithm != x509.SHA256WithRSAPSS {
					t.Errorf("alg %v", c.SignatureAlgorithm)
				}
			}},
		{"use_pss, any role, EC CSR: PKCS #1 v1.5", "prsa/sign/pss",
			map[string]any{"csr": ecCSR}, 200, "",
			func(t *testing.T, _ lcAnswer, c *x509.Certificate) {
				if c.SignatureAlgorithm != x509.SHA256WithRSA {
					t.Errorf("alg %v", c.SignatureAlgorithm)
				}
			}},
		{"sign-verbatim use_pss, RSA CSR: PSS", "prsa/sign-verbatim",
			map[string]any{"csr": rsaCSR, "use_pss": "true"}, 200, "",
			func(t *testing.T, _ lcAnswer, c *x509.Certificate) {
				if c.SignatureAlgorithm != x509.SHA256WithRSAPSS {
					t.Errorf("alg %v", c.SignatureAlgorithm)
				}
			}},
		{"sign-verbatim use_pss, Ed25519 CSR: PKCS #1 v1.5", "prsa/sign-verbatim",
			map[string]any{"csr": edCSR, "use_pss": "true"}, 200, "",
			func(t *testing.T, _ lcAnswer, c *x509.Certificate) {
				if c.SignatureAlgorithm != x509.SHA256WithRSA {
					t.Errorf("alg %v", c.SignatureAlgorithm)
				}
			}},
		{"sign-verbatim use_pss with signature_bits, EC CSR: PSS", "prsa/sign-verbatim",
			map[string]any{"csr": ecCSR, "use_pss": "true", "signature_bits": "384"}, 200, "",
			func(t *testing.T, _ lcAnswer, c *x509.Certificate) {
				if c.SignatureAlgorithm != x509.SHA384WithRSAPSS {
					t.Errorf("alg %v", c.SignatureAlgorithm)
				}
			}},
		// cert-manager's sign request (spec Appendix D): every value a
		// string, empty ip/uri lists, a Go duration, exclude_cn_from_sans.
		{"cert-manager sign", "pki/sign/sub",
			map[string]any{"common_name": "web.example.com", "alt_names": "web.example.com,a.example.com", "ip_sans": "", "uri_sans": "",
				"ttl": "2160h0m0s", "csr": lcCSRWith(t, "web.example.com", "web.example.com", "a.example.com"), "exclude_cn_from_sans": "true"}, 200, "",
			func(t *testing.T, a lcAnswer, c *x509.Certificate) {
				want := []string{`the common_name field was provided but the role is set with "use_csr_common_name" set to true`,
					`the alt_names field was provided but the role is set with "use_csr_sans" set to true`}
				if !slices.Equal(a.Warnings, want) || !slices.Equal(c.DNSNames, []string{"a.example.com", "web.example.com"}) ||
					c.NotAfter.Sub(c.NotBefore) != 2160*time.Hour+30*time.Second {
					t.Errorf("warnings %q dns %q validity %v", a.Warnings, c.DNSNames, c.NotAfter.Sub(c.NotBefore))
				}
				if _, ok := a.Data["ca_chain"].([]any); !ok {
					t.Errorf("ca_chain %T", a.Data["ca_chain"])
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := lcDo(t, srv, "POST", tc.path, tc.body)
			if a.status != tc.status {
				t.Fatalf("status %d, want %d: %v", a.status, tc.status, a.Errors)
			}
			if tc.status != 200 {
				if len(a.Errors) != 1 || a.Errors[0] != tc.errMsg {
					t.Fatalf("errors %q, want %q", a.Errors, tc.errMsg)
				}
				return
			}
			if tc.check != nil {
				tc.check(t, a, lcCert(t, a))
			}
		})
	}
}

func lcCSRWith(t *testing.T, cn string, dns ...string) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return issCSR(t, k, cn, dns...)
}

// TestRoleWriteVaultConformance: hvac's create_or_update_role sends the role
// name again as "name"; Vault's framework warns whenever a body key is
// replaced by a path capture, equal or not.
func TestRoleWriteVaultConformance(t *testing.T) {
	t.Parallel()
	srv := pkidtest.Start(t)
	srv.EnablePKI(t, "pki", 87600*time.Hour)
	const replaced = "Endpoint replaced the value of these parameters with the values captured from the endpoint's path: [name]"
	const noIssuer = "Issuing Certificate was set to default, but no default issuing certificate (configurable at /config/issuers) is currently set"
	cases := []struct {
		name     string
		body     map[string]any
		warnings []string
	}{
		// The handler's warnings come first, then the framework's: ignored
		// parameters, then replaced ones.
		{"hvac: same name in the body", map[string]any{"name": "web", "allowed_domains": []string{"example.com"}}, []string{noIssuer, replaced}},
		{"other name in the body", map[string]any{"name": "other", "allowed_domains": "example.com"}, []string{noIssuer, replaced}},
		{"unknown and replaced", map[string]any{"name": "x", "bogus": "1", "allowed_domains": "example.com"},
			[]string{noIssuer, "Endpoint ignored these unrecognized parameters: [bogus]", replaced}},
		{"null name is not sent", map[string]any{"name": nil, "allowed_domains": "example.com"}, []string{noIssuer}},
		{"no name", map[string]any{"allowed_domains": "example.com"}, []string{noIssuer}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := "pki/roles/" + strings.ReplaceAll(tc.name, " ", "-")
			path = strings.ReplaceAll(strings.ReplaceAll(path, ":", ""), ",", "")
			a := lcMust(t, srv, path, tc.body)
			if !slices.Equal(a.Warnings, tc.warnings) {
				t.Errorf("warnings %q, want %q", a.Warnings, tc.warnings)
			}
			if d := a.Data["allowed_domains"]; !slices.Equal(lcStrings(d), []string{"example.com"}) {
				t.Errorf("allowed_domains %v", d)
			}
		})
	}
}

func lcStrings(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, e := range l {
		s, _ := e.(string)
		out = append(out, s)
	}
	return out
}
