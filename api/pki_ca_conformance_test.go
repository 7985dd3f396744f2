package api_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pkid-dev/pkid/clock"
	"github.com/pkid-dev/pkid/pkidtest"
)

// Vault-fidelity cases for the CA hierarchy endpoints (spec §3.0–§3.2,
// §5, Appendix C): the same request Vault would get, compared status by
// status and text by text.

// caConfReply is a decoded Vault envelope, or error body.
type caConfReply struct {
	status   int
	errors   []string
	data     map[string]any
	warnings []string
}

// caConfDo sends one authenticated request with a JSON body and decodes the
// answer. method LIST is sent as the custom verb.
func caConfDo(t *testing.T, srv *pkidtest.Server, method, path string, body map[string]any) caConfReply {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
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
	var env struct {
		Errors   []string       `json:"errors"`
		Data     map[string]any `json:"data"`
		Warnings []string       `json:"warnings"`
	}
	if resp.StatusCode != http.StatusNoContent {
		if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
			t.Fatalf("%s %s: decode: %v", method, path, err)
		}
	}
	return caConfReply{status: resp.StatusCode, errors: env.Errors, data: env.Data, warnings: env.Warnings}
}

// caConfCSR is a PEM CSR for a fresh P-256 key.
func caConfCSR(t *testing.T, cn string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

func caConfCert(t *testing.T, r caConfReply) *x509.Certificate {
	t.Helper()
	s, _ := r.data["certificate"].(string)
	certs := parsePEMCerts(t, s)
	if len(certs) == 0 {
		t.Fatalf("no certificate in %d %v %v", r.status, r.errors, r.data)
	}
	return certs[0]
}

// TestCAConformanceErrors pins statuses and exact error texts of requests
// Vault refuses (never a 500 "internal error" for a caller's mistake).
func TestCAConformanceErrors(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	srv := pkidtest.Start(t, pkidtest.Options{Clock: clock.NewFake(now)})
	srv.EnablePKI(t, "pki", 87600*time.Hour)
	for _, body := range []map[string]any{
		{"common_name": "Root", "issuer_name": "root", "key_type": "ec"},
		{"common_name": "Zero", "issuer_name": "zero", "key_type": "ec", "max_path_length": 0},
	} {
		if r := caConfDo(t, srv, "POST", "pki/root/generate/internal", body); r.status != 200 {
			t.Fatalf("root: %d %v", r.status, r.errors)
		}
	}
	csr := caConfCSR(t, "Int")
	wrapped := func(msg string) string { return "1 error occurred:\n\t* " + msg + "\n\n" }
	tests := []struct {
		name, method, path string
		body               map[string]any
		status             int
		err                string
	}{
		{"root max_path_length below -1", "POST", "pki/root/generate/internal",
			map[string]any{"common_name": "x", "key_type": "ec", "max_path_length": -5}, 400,
			"requested max_path_length -5 is invalid: must be a non-negative integer or -1 for no constraint"},
		{"sign-intermediate max_path_length below -1", "POST", "pki/root/sign-intermediate",
			map[string]any{"csr": csr, "max_path_length": "-7"}, 400,
			"requested max_path_length -7 is invalid: must be a non-negative integer or -1 for no constraint"},
		{"sign-intermediate bad format", "POST", "pki/issuer/root/sign-intermediate",
			map[string]any{"csr": csr, "format": "json"}, 400,
			`The "format" path parameter must be "pem", "der" or "pem_bundle"`},
		{"sign-intermediate under pathlen 0", "POST", "pki/issuer/zero/sign-intermediate",
			map[string]any{"csr": csr}, 400,
			"signing certificate has a max path length of zero, and cannot issue further CA certificates"},
		{"root not_after before not_before", "POST", "pki/root/generate/internal",
			map[string]any{"common_name": "x", "key_type": "ec", "not_after": "2020-01-01T00:00:00Z"}, 400,
			"The certificate's Not Before (2030-06-01T11:59:30Z) is later than the certificate's Not After (2020-01-01T00:00:00Z)"},
		{"sign-intermediate not_after before not_before", "POST", "pki/root/sign-intermediate",
			map[string]any{"csr": csr, "not_after": "2030-06-01T11:59:30Z"}, 400,
			"The certificate's Not Before (2030-06-01T11:59:30Z) is equal to the certificate's Not After (2030-06-01T11:59:30Z)"},
		{"bad permitted IP range", "POST", "pki/root/generate/internal",
			map[string]any{"common_name": "x", "key_type": "ec", "permitted_ip_ranges": "nope"}, 400,
			`invalid permitted_ip_ranges value: error parsing IP range "nope": invalid CIDR address: nope`},
		{"bad excluded IP range on sign-intermediate", "POST", "pki/root/sign-intermediate",
			map[string]any{"csr": csr, "excluded_ip_ranges": "10.0.0.1"}, 400,
			`invalid excluded_ip_ranges value: error parsing IP range "10.0.0.1": invalid CIDR address: 10.0.0.1`},
		{"LIST on a read path", "LIST", "pki/config/urls", nil, 404, wrapped("unsupported path")},
		{"LIST on an issuer", "LIST", "pki/issuer/root", nil, 404, wrapped("unsupported path")},
		{"GET ?list=true on config/issuers", "GET", "pki/config/issuers?list=true", nil, 404, wrapped("unsupported path")},
		{"read of a list-only path", "GET", "pki/issuers", nil, 405, wrapped("unsupported operation")},
		{"read of list-only keys", "GET", "pki/keys", nil, 405, wrapped("unsupported operation")},
		{"unknown issuer", "GET", "pki/issuer/nope", nil, 500, wrapped("unable to find PKI issuer for reference: nope")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := caConfDo(t, srv, tt.method, tt.path, tt.body)
			if r.status != tt.status || len(r.errors) != 1 || r.errors[0] != tt.err {
				t.Errorf("got %d %q, want %d %q", r.status, r.errors, tt.status, tt.err)
			}
		})
	}
}

// TestCAConformanceUnauthenticated: only the list form of "issuers" and
// the raw issuer forms are special paths (spec §1.8).
func TestCAConformanceUnauthenticated(t *testing.T) {
	t.Parallel()
	srv := pkidtest.Start(t)
	srv.EnablePKI(t, "pki", 87600*time.Hour)
	if r := caConfDo(t, srv, "POST", "pki/root/generate/internal", map[string]any{"common_name": "Root", "issuer_name": "root", "key_type": "ec"}); r.status != 200 {
		t.Fatalf("root: %d %v", r.status, r.errors)
	}
	tests := []struct {
		name, method, path string
		status             int
		body               string
	}{
		{"LIST issuers", "LIST", "pki/issuers", 200, `"key_info"`},
		{"GET ?list=true issuers", "GET", "pki/issuers?list=true", 200, `"key_info"`},
		{"GET issuers", "GET", "pki/issuers", 403, `{"errors":["permission denied"]}`},
		{"issuer json", "GET", "pki/issuer/root/json", 200, `"issuer_name":"root"`},
		{"issuer read", "GET", "pki/issuer/root", 403, `{"errors":["permission denied"]}`},
		{"LIST keys", "LIST", "pki/keys", 403, `{"errors":["permission denied"]}`},
		{"LIST ca", "LIST", "pki/ca", 404, `{"errors":["unsupported path"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := caHTTP(t, srv, tt.method, tt.path, "")
			if status != tt.status || !strings.Contains(string(body), tt.body) {
				t.Errorf("got %d %s, want %d with %s", status, body, tt.status, tt.body)
			}
		})
	}
}

// TestCAConformanceSANs: Vault trims alt_names, drops empty entries and
// sorts the DNS and e-mail SANs (strutil.RemoveDuplicates), CN included.
func TestCAConformanceSANs(t *testing.T) {
	t.Parallel()
	srv := pkidtest.Start(t)
	srv.EnablePKI(t, "pki", 87600*time.Hour)
	alt := " b.example.com,a.example.com,,a.example.com, y@example.org ,b@example.org"
	root := caConfDo(t, srv, "POST", "pki/root/generate/internal", map[string]any{
		"common_name": "z.example.com", "alt_names": alt, "key_type": "ec", "issuer_name": "root"})
	inter := caConfDo(t, srv, "POST", "pki/root/sign-intermediate", map[string]any{
		"csr": caConfCSR(t, "ignored"), "common_name": "m.example.com", "alt_names": alt})
	for _, tt := range []struct {
		name string
		r    caConfReply
		dns  []string
	}{
		{"root/generate", root, []string{"a.example.com", "b.example.com", "z.example.com"}},
		{"sign-intermediate", inter, []string{"a.example.com", "b.example.com", "m.example.com"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.r.status != 200 {
				t.Fatalf("%d %v", tt.r.status, tt.r.errors)
			}
			c := caConfCert(t, tt.r)
			if !slices.Equal(c.DNSNames, tt.dns) || !slices.Equal(c.EmailAddresses, []string{"b@example.org", "y@example.org"}) {
				t.Errorf("DNS %v, e-mail %v", c.DNSNames, c.EmailAddresses)
			}
		})
	}
}

// TestCAConformanceNameConstraints: the name constraints Vault 1.18 accepts
// on CA paths end up in one critical extension.
func TestCAConformanceNameConstraints(t *testing.T) {
	t.Parallel()
	srv := pkidtest.Start(t)
	srv.EnablePKI(t, "pki", 87600*time.Hour)
	constraints := map[string]any{
		"permitted_dns_domains": "example.com", "excluded_dns_domains": "bad.example.com",
		"permitted_ip_ranges": "10.0.0.0/8", "excluded_ip_ranges": "10.1.0.0/16,2001:db8::/32",
		"permitted_email_addresses": "example.com", "excluded_email_addresses": "spam@example.com",
		"permitted_uri_domains": ".example.com", "excluded_uri_domains": "evil.example.com",
	}
	rootBody := map[string]any{"common_name": "Root", "key_type": "ec", "issuer_name": "root"}
	// A ttl of its own: the default would reach past the root's expiry
	// whenever the second turns between the two calls (then capped, with
	// a warning).
	interBody := map[string]any{"csr": caConfCSR(t, "Int"), "ttl": "1h"}
	for k, v := range constraints {
		rootBody[k], interBody[k] = v, v
	}
	root := caConfDo(t, srv, "POST", "pki/root/generate/internal", rootBody)
	inter := caConfDo(t, srv, "POST", "pki/root/sign-intermediate", interBody)
	for name, r := range map[string]caConfReply{"root/generate": root, "sign-intermediate": inter} {
		t.Run(name, func(t *testing.T) {
			if r.status != 200 || len(r.warnings) != 1 { // only the AIA warning: every field is known
				t.Fatalf("%d %v %q", r.status, r.errors, r.warnings)
			}
			c := caConfCert(t, r)
			ips := func(ns []*net.IPNet) (out []string) {
				for _, n := range ns {
					out = append(out, n.String())
				}
				return out
			}
			if !slices.Equal(c.PermittedDNSDomains, []string{"example.com"}) || !slices.Equal(c.ExcludedDNSDomains, []string{"bad.example.com"}) ||
				!slices.Equal(ips(c.PermittedIPRanges), []string{"10.0.0.0/8"}) ||
				!slices.Equal(ips(c.ExcludedIPRanges), []string{"10.1.0.0/16", "2001:db8::/32"}) ||
				!slices.Equal(c.PermittedEmailAddresses, []string{"example.com"}) || !slices.Equal(c.ExcludedEmailAddresses, []string{"spam@example.com"}) ||
				!slices.Equal(c.PermittedURIDomains, []string{".example.com"}) || !slices.Equal(c.ExcludedURIDomains, []string{"evil.example.com"}) ||
				!c.PermittedDNSDomainsCritical {
				t.Errorf("name constraints %+v", c)
			}
		})
	}
}

// TestCAConformanceImportWarningOrder: Vault reports the CRL rebuild's
// warnings before its notes on the default issuer and the AIA URLs.
func TestCAConformanceImportWarningOrder(t *testing.T) {
	t.Parallel()
	srv := pkidtest.Start(t)
	srv.EnablePKI(t, "pki", 0)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	// A CA certificate without CRLSign: its CRL cannot be built.
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "No CRL CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		BasicConstraintsValid: true, IsCA: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	bundle := string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})) +
		string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	r := caConfDo(t, srv, "POST", "pki/issuers/import/bundle", map[string]any{"pem_bundle": bundle})
	if r.status != 200 || len(r.warnings) != 2 ||
		!strings.HasPrefix(r.warnings[0], "Warning 1 during CRL rebuild: ") ||
		!strings.Contains(r.warnings[0], "lacked an issuer with CRL Signing KeyUsage") ||
		!strings.HasPrefix(r.warnings[1], "This mount hasn't configured any authority information access (AIA) fields") {
		t.Errorf("%d %v warnings %q", r.status, r.errors, r.warnings)
	}
}

// TestCAConformanceWarnings pins the warnings Vault adds on the CA paths,
// in Vault's order.
func TestCAConformanceWarnings(t *testing.T) {
	t.Parallel()
	// A fixed clock: the intermediate ends exactly when the root does, so
	// no "outlives the CA" warning joins in.
	srv := pkidtest.Start(t, pkidtest.Options{Clock: clock.NewFake(time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC))})
	srv.EnablePKI(t, "pki", 0) // untuned: max 768h
	const (
		noAIA    = "This mount hasn't configured any authority information access (AIA) fields; this may make it harder for systems to find missing certificates in the chain or to validate revocation status of certificates. Consider updating /config/urls or the newly generated issuer with this information."
		ttlCap   = `TTL "87600h0m0s" is longer than permitted maxTTL "768h0m0s", so maxTTL is being used`
		rootAIA  = "When generating root CA, found global AIA configuration with issuer_id template unsuitable for root generation. This AIA configuration has been ignored. To include AIA on this root CA, set the global AIA configuration to not include issuer_id and instead to refer to a static issuer name."
		kuProbs  = "key usage KeyEncipherment is only valid for non-Ca certs; unrecognized key usage bogus"
		pathZero = "Max path length of the signed certificate is zero. This certificate cannot be used to issue intermediate CA certificates."
	)
	root := caConfDo(t, srv, "POST", "pki/root/generate/internal", map[string]any{
		"common_name": "Root", "key_type": "ec", "ttl": "87600h", "key_usage": "DigitalSignature,KeyEncipherment,bogus"})
	if root.status != 200 || !slices.Equal(root.warnings, []string{"Invalid key usage will be ignored: " + kuProbs, noAIA, ttlCap}) {
		t.Errorf("root: %d %v %q", root.status, root.errors, root.warnings)
	}
	if c := caConfCert(t, root); c.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign|x509.KeyUsageDigitalSignature {
		t.Errorf("root key usage %v: only DigitalSignature may be added", c.KeyUsage)
	}
	inter := caConfDo(t, srv, "POST", "pki/root/sign-intermediate", map[string]any{
		"csr": caConfCSR(t, "Int"), "ttl": "87600h", "max_path_length": 0, "key_usage": "KeyEncipherment,bogus"})
	if inter.status != 200 || !slices.Equal(inter.warnings, []string{noAIA, pathZero, ttlCap, "Invalid key usage: " + kuProbs}) {
		t.Errorf("sign-intermediate: %d %v %q", inter.status, inter.errors, inter.warnings)
	}
	if c := caConfCert(t, inter); c.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		t.Errorf("intermediate key usage %v", c.KeyUsage)
	}
	if r := caConfDo(t, srv, "POST", "pki/config/urls", map[string]any{
		"issuing_certificates": "http://pki.example/{{issuer_id}}/der", "enable_templating": true}); r.status != 200 {
		t.Fatalf("config/urls: %d %v", r.status, r.errors)
	}
	templated := caConfDo(t, srv, "POST", "pki/root/generate/internal", map[string]any{"common_name": "Root 2", "key_type": "ec", "ttl": "87600h"})
	if templated.status != 200 || !slices.Equal(templated.warnings, []string{noAIA, ttlCap, rootAIA}) {
		t.Errorf("templated root: %d %v %q", templated.status, templated.errors, templated.warnings)
	}
}
