package api_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/pkid-dev/pkid/pkidtest"
)

// issPKI is the tutorial's hierarchy on a test server, with EC keys for
// speed: pki_root holds root-2024, pki_int an intermediate it signed
// (installed with the pem_bundle, so pki_int knows the root too), and the
// tutorial's five roles on pki_int.
type issPKI struct {
	srv  *pkidtest.Server
	c    *vault.Client
	root *x509.Certificate
	int  *x509.Certificate
}

func newIssPKI(t *testing.T) *issPKI {
	t.Helper()
	srv := pkidtest.Start(t)
	c := srv.Client(t)
	srv.EnablePKI(t, "pki_root", 87600*time.Hour)
	srv.EnablePKI(t, "pki_int", 26280*time.Hour)
	root := issWrite(t, c, "pki_root/root/generate/internal", map[string]any{
		"common_name": "My Organization Root CA", "issuer_name": "root-2024", "key_type": "ec", "ttl": "87600h"})
	csr := issWrite(t, c, "pki_int/intermediate/generate/internal", map[string]any{
		"common_name": "My Organization Intermediate CA", "issuer_name": "intermediate-2024", "key_type": "ec"}).Data["csr"].(string)
	signed := issWrite(t, c, "pki_root/root/sign-intermediate", map[string]any{
		"csr": csr, "format": "pem_bundle", "ttl": "26280h"}).Data["certificate"].(string)
	issWrite(t, c, "pki_int/intermediate/set-signed", map[string]any{"certificate": signed})
	issWrite(t, c, "pki_int/config/urls", map[string]any{
		"issuing_certificates":    "https://vault.example.com:8200/v1/pki_int/ca",
		"crl_distribution_points": "https://vault.example.com:8200/v1/pki_int/crl"})
	for name, body := range issTutorialRoles() {
		issWrite(t, c, "pki_int/roles/"+name, body)
	}
	return &issPKI{srv: srv, c: c, root: issCerts(t, root.Data["certificate"].(string))[0], int: issCerts(t, signed)[0]}
}

// issTutorialRoles are the tutorial's roles as the vault CLI sends them.
func issTutorialRoles() map[string]map[string]any {
	return map[string]map[string]any{
		"web-servers": {"allowed_domains": "example.com", "allow_subdomains": "true", "allow_bare_domains": "true",
			"max_ttl": "720h", "ttl": "24h", "key_type": "rsa", "key_bits": "2048",
			"key_usage": "DigitalSignature,KeyEncipherment", "ext_key_usage": "ServerAuth"},
		"internal-services": {"allowed_domains": "internal.example.com,svc.cluster.local", "allow_subdomains": "true",
			"max_ttl": "168h", "ttl": "1h", "key_type": "ec", "key_bits": "256",
			"key_usage": "DigitalSignature", "ext_key_usage": "ServerAuth,ClientAuth"},
		"client-auth": {"allowed_domains": "users.example.com", "allow_subdomains": "true", "max_ttl": "720h", "ttl": "8h",
			"key_type": "ec", "key_bits": "256", "key_usage": "DigitalSignature", "ext_key_usage": "ClientAuth",
			"organization": "My Organization", "no_store": "true"},
		"production-services": {"allowed_domains": "prod.example.com", "allow_subdomains": "true", "max_ttl": "4h", "ttl": "1h"},
		"payment-service": {"allowed_domains": "payments.prod.example.com", "allow_subdomains": "false",
			"allow_bare_domains": "true", "allow_glob_domains": "false", "allow_any_name": "false",
			"enforce_hostnames": "true", "max_ttl": "1h"},
	}
}

func issWrite(t *testing.T, c *vault.Client, path string, data map[string]any) *vault.Secret {
	t.Helper()
	s, err := c.Logical().WriteWithContext(context.Background(), path, data)
	if err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	return s
}

func issCerts(t *testing.T, text string) []*x509.Certificate {
	t.Helper()
	var out []*x509.Certificate
	for rest := []byte(text); ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			return out
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
}

var issSerialRE = regexp.MustCompile(`^[0-9a-f]{2}(:[0-9a-f]{2})*$`)

// check asserts an issue/sign answer: Vault's field types, the certificate
// verifying to the root through ca_chain with crypto/x509, and for issue
// the private key matching the certificate.
func (p *issPKI) check(t *testing.T, s *vault.Secret, withKey bool) *x509.Certificate {
	t.Helper()
	d := s.Data
	certPEM, _ := d["certificate"].(string)
	cert := issCerts(t, certPEM)
	if len(cert) != 1 || strings.HasSuffix(certPEM, "\n") {
		t.Fatalf("certificate field: %q", certPEM)
	}
	chainAny, ok := d["ca_chain"].([]any)
	if !ok || len(chainAny) != 2 {
		t.Fatalf("ca_chain %#v", d["ca_chain"])
	}
	inter := x509.NewCertPool()
	for _, e := range chainAny {
		for _, c := range issCerts(t, e.(string)) {
			inter.AddCert(c)
		}
	}
	roots := x509.NewCertPool()
	roots.AddCert(p.root)
	if _, err := cert[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Fatalf("verify through ca_chain: %v", err)
	}
	if issCerts(t, d["issuing_ca"].(string))[0].Equal(p.int) != true {
		t.Error("issuing_ca is not the intermediate")
	}
	serial, _ := d["serial_number"].(string)
	exp, _ := d["expiration"].(json.Number)
	nb, _ := d["not_before"].(json.Number)
	if !issSerialRE.MatchString(serial) || exp.String() != strconv.FormatInt(cert[0].NotAfter.Unix(), 10) ||
		nb.String() != strconv.FormatInt(cert[0].NotBefore.Unix(), 10) {
		t.Errorf("serial %q expiration %v not_before %v", serial, d["expiration"], d["not_before"])
	}
	_, hasKey := d["private_key"]
	if hasKey != withKey {
		t.Fatalf("private_key present=%v", hasKey)
	}
	if withKey {
		if _, err := tls.X509KeyPair([]byte(certPEM), []byte(d["private_key"].(string))); err != nil {
			t.Errorf("private key does not match the certificate: %v", err)
		}
	}
	return cert[0]
}

func TestIssueThroughVaultClient(t *testing.T) {
	t.Parallel()
	p := newIssPKI(t)
	// The tutorial's RSA web server certificate.
	s := issWrite(t, p.c, "pki_int/issue/web-servers", map[string]any{
		"common_name": "api.example.com", "alt_names": "api-internal.example.com", "ttl": "24h"})
	cert := p.check(t, s, true)
	if s.Data["private_key_type"] != "rsa" || !slices.Equal(cert.DNSNames, []string{"api-internal.example.com", "api.example.com"}) /* sorted, as Vault does */ ||
		cert.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment || cert.NotAfter.Sub(cert.NotBefore) != 24*time.Hour+30*time.Second {
		t.Errorf("web-servers leaf: %v %v %v", cert.DNSNames, cert.KeyUsage, cert.NotAfter.Sub(cert.NotBefore))
	}
	if len(cert.IssuingCertificateURL) != 1 || len(cert.CRLDistributionPoints) != 1 {
		t.Errorf("AIA %v CRL DP %v", cert.IssuingCertificateURL, cert.CRLDistributionPoints)
	}
	// EC for internal services, with the issuer/:ref/issue form.
	s = issWrite(t, p.c, "pki_int/issuer/intermediate-2024/issue/internal-services", map[string]any{"common_name": "db.svc.cluster.local"})
	cert = p.check(t, s, true)
	if s.Data["private_key_type"] != "ec" || cert.PublicKeyAlgorithm != x509.ECDSA ||
		!strings.HasPrefix(s.Data["private_key"].(string), "-----BEGIN EC PRIVATE KEY-----") {
		t.Errorf("internal-services leaf: %s", cert.PublicKeyAlgorithm)
	}
	// Formats: der everywhere, pem_bundle folding the key and chain in.
	s = issWrite(t, p.c, "pki_int/issue/internal-services", map[string]any{"common_name": "a.internal.example.com",
		"format": "der", "private_key_format": "pkcs8"})
	der, _ := base64.StdEncoding.DecodeString(s.Data["certificate"].(string))
	key, _ := base64.StdEncoding.DecodeString(s.Data["private_key"].(string))
	if _, err := x509.ParseCertificate(der); err != nil {
		t.Errorf("der certificate: %v", err)
	}
	if _, err := x509.ParsePKCS8PrivateKey(key); err != nil {
		t.Errorf("pkcs8 key: %v", err)
	}
	s = issWrite(t, p.c, "pki_int/issue/internal-services", map[string]any{"common_name": "b.internal.example.com", "format": "pem_bundle"})
	if bundle := s.Data["certificate"].(string); !strings.HasPrefix(bundle, "-----BEGIN EC PRIVATE KEY-----") || len(issCerts(t, bundle)) != 3 {
		t.Errorf("pem_bundle: %.60q", bundle)
	}
	// Refusals are Vault's 400s and 500s.
	_, err := p.c.Logical().Write("pki_int/issue/web-servers", map[string]any{"common_name": "api.example.org"})
	issWantError(t, err, http.StatusBadRequest, "common name api.example.org not allowed by this role")
	_, err = p.c.Logical().Write("pki_int/issue/nope", map[string]any{"common_name": "x"})
	issWantError(t, err, http.StatusBadRequest, "unknown role: nope")
	_, err = p.c.Logical().Write("pki_int/issuer/missing/issue/web-servers", map[string]any{"common_name": "api.example.com"})
	issWantError(t, err, http.StatusInternalServerError, "could not fetch the CA certificate (was one set?): unable to find PKI issuer for reference: missing")
	_, err = p.c.Logical().Write("pki_int/issue/web-servers", map[string]any{"common_name": "api.example.com", "format": "p12"})
	issWantError(t, err, http.StatusBadRequest, `the "format" path parameter must be "pem", "der", or "pem_bundle"`)
}

func issKey(t *testing.T, typ string) crypto.Signer {
	t.Helper()
	if typ == "rsa" {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func issCSR(t *testing.T, key crypto.Signer, cn string, dns ...string) string {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}, DNSNames: dns}, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

func TestSignThroughVaultClient(t *testing.T) {
	t.Parallel()
	p := newIssPKI(t)
	rsaKey, ecKey := issKey(t, "rsa"), issKey(t, "ec")
	// The tutorial's openssl CSR: RSA 2048, CN only.
	s := issWrite(t, p.c, "pki_int/sign/web-servers", map[string]any{"csr": issCSR(t, rsaKey, "api.example.com"), "ttl": "24h"})
	cert := p.check(t, s, false)
	if !cert.PublicKey.(*rsa.PublicKey).Equal(rsaKey.Public()) || !slices.Equal(cert.DNSNames, []string{"api.example.com"}) {
		t.Errorf("signed RSA leaf: %v", cert.DNSNames)
	}
	// cert-manager's request to internal-services: everything a string.
	s = issWrite(t, p.c, "pki_int/sign/internal-services", map[string]any{
		"csr":         issCSR(t, ecKey, "api.internal.example.com", "api.internal.example.com", "api.svc.cluster.local"),
		"common_name": "api.internal.example.com", "alt_names": "api.internal.example.com,api.svc.cluster.local",
		"ip_sans": "", "uri_sans": "", "ttl": "1h0m0s", "exclude_cn_from_sans": "true"})
	cert = p.check(t, s, false)
	if !cert.PublicKey.(*ecdsa.PublicKey).Equal(ecKey.Public()) || cert.NotAfter.Sub(cert.NotBefore) != time.Hour+30*time.Second ||
		!slices.Equal(cert.DNSNames, []string{"api.internal.example.com", "api.svc.cluster.local"}) {
		t.Errorf("signed EC leaf: %v %v", cert.DNSNames, cert.NotAfter.Sub(cert.NotBefore))
	}
	if len(s.Warnings) != 2 {
		t.Errorf("warnings %q", s.Warnings)
	}
	_, err := p.c.Logical().Write("pki_int/sign/web-servers", map[string]any{"csr": issCSR(t, ecKey, "api.example.com")})
	issWantError(t, err, http.StatusBadRequest, "role requires keys of type rsa")
	_, err = p.c.Logical().Write("pki_int/sign/internal-services", map[string]any{"csr": "not a csr"})
	issWantError(t, err, http.StatusBadRequest, "csr contains no data")
}

func TestSignVerbatimThroughVaultClient(t *testing.T) {
	t.Parallel()
	p := newIssPKI(t)
	key := issKey(t, "ec")
	csr := issCSR(t, key, "Anything Goes", "any.example.net")
	for _, path := range []string{"pki_int/sign-verbatim", "pki_int/sign-verbatim/client-auth", "pki_int/issuer/intermediate-2024/sign-verbatim"} {
		s := issWrite(t, p.c, path, map[string]any{"csr": csr, "ext_key_usage": "ClientAuth"})
		cert := p.check(t, s, false)
		if cert.Subject.CommonName != "Anything Goes" || !slices.Equal(cert.DNSNames, []string{"any.example.net"}) ||
			!slices.Equal(cert.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) {
			t.Errorf("%s: %v %v %v", path, cert.Subject, cert.DNSNames, cert.ExtKeyUsage)
		}
		if strings.Contains(path, "client-auth") && cert.NotAfter.Sub(cert.NotBefore) != 8*time.Hour+30*time.Second {
			t.Errorf("role ttl not applied: %v", cert.NotAfter.Sub(cert.NotBefore))
		}
	}
}

func TestCertStoreThroughVaultClient(t *testing.T) {
	t.Parallel()
	p := newIssPKI(t)
	l := p.c.Logical()
	kept := issWrite(t, p.c, "pki_int/issue/internal-services", map[string]any{"common_name": "kept.internal.example.com"})
	gone := issWrite(t, p.c, "pki_int/issue/client-auth", map[string]any{"common_name": "alice.users.example.com"})
	issWrite(t, p.c, "pki_int/issue/internal-services", map[string]any{"common_name": "other.internal.example.com"})
	keptSerial, goneSerial := kept.Data["serial_number"].(string), gone.Data["serial_number"].(string)
	if !issSerialRE.MatchString(goneSerial) || len(strings.Split(goneSerial, ":")) < 16 {
		t.Errorf("no_store serial %q", goneSerial)
	}
	cert := p.check(t, gone, true)
	if !slices.Equal(cert.Subject.Organization, []string{"My Organization"}) {
		t.Errorf("client-auth subject %v", cert.Subject)
	}
	list, err := l.List("pki_int/certs")
	if err != nil || list == nil {
		t.Fatalf("list: %v", err)
	}
	keys := list.Data["keys"].([]any)
	if !slices.Contains(keys, any(keptSerial)) || slices.Contains(keys, any(goneSerial)) {
		t.Errorf("certs %v: kept %s, no_store %s", keys, keptSerial, goneSerial)
	}
	// Paging takes the colon (listed) form and the hyphen form.
	for _, after := range []string{keys[0].(string), strings.ReplaceAll(keys[0].(string), ":", "-")} {
		page, err := l.ReadWithData("pki_int/certs", map[string][]string{"list": {"true"}, "after": {after}, "limit": {"1"}})
		if err != nil || page == nil || len(page.Data["keys"].([]any)) != 1 || page.Data["keys"].([]any)[0] == keys[0] {
			t.Errorf("after %s: %v %v", after, page, err)
		}
	}
	// cert/:serial is unauthenticated, takes either form and any case.
	anon := p.srv.Client(t)
	anon.ClearToken()
	rd, err := anon.Logical().Read("pki_int/cert/" + strings.ToUpper(strings.ReplaceAll(keptSerial, ":", "-")))
	if err != nil || rd == nil {
		t.Fatalf("cert read: %v %v", rd, err)
	}
	if rd.Data["certificate"] != kept.Data["certificate"] || rd.Data["revocation_time"] != json.Number("0") || rd.Data["revocation_time_rfc3339"] != "" {
		t.Errorf("cert data %v", rd.Data)
	}
	if rd, err := anon.Logical().Read("pki_int/cert/" + goneSerial); rd != nil || err != nil {
		t.Errorf("no_store cert readable: %v %v", rd, err)
	}
	raw := func(path string) (int, string, []byte) {
		resp, err := http.Get(p.srv.URL + "/v1/" + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), b
	}
	if code, ct, body := raw("pki_int/cert/" + keptSerial + "/raw"); code != 200 || ct != "application/pkix-cert" || len(body) == 0 {
		t.Errorf("raw: %d %s", code, ct)
	}
	if code, ct, body := raw("pki_int/cert/" + keptSerial + "/raw/pem"); code != 200 || ct != "application/pem-certificate-chain" || string(body) != kept.Data["certificate"] {
		t.Errorf("raw/pem: %d %s", code, ct)
	}
	if code, _, body := raw("pki_int/cert/" + goneSerial + "/raw"); code != 204 || len(body) != 0 {
		t.Errorf("unknown raw: %d", code)
	}
	if code, _, _ := raw("pki_int/cert/zz"); code != 404 {
		t.Errorf("cert/zz: %d", code)
	}
	// Revocation shows in cert/:serial.
	issWrite(t, p.c, "pki_int/revoke", map[string]any{"serial_number": keptSerial})
	rd, err = anon.Logical().Read("pki_int/cert/" + keptSerial)
	if err != nil || rd == nil || rd.Data["revocation_time"] == json.Number("0") || rd.Data["revocation_time_rfc3339"] == "" || rd.Data["issuer_id"] == nil {
		t.Errorf("revoked cert data %v %v", rd, err)
	}
}

func TestLeaseThroughVaultClient(t *testing.T) {
	t.Parallel()
	p := newIssPKI(t)
	w := issWrite(t, p.c, "pki_int/roles/leased", map[string]any{"allowed_domains": "example.com", "allow_subdomains": true,
		"key_type": "ec", "generate_lease": true, "ttl": "2h"})
	if len(w.Warnings) != 1 || !strings.Contains(w.Warnings[0], "generate_lease") {
		t.Errorf("role warnings %q", w.Warnings)
	}
	s := issWrite(t, p.c, "pki_int/issue/leased", map[string]any{"common_name": "a.example.com"})
	if !strings.HasPrefix(s.LeaseID, "pki_int/issue/leased/") || s.Renewable || s.LeaseDuration < 7190 || s.LeaseDuration > 7200 {
		t.Errorf("lease %q %v %d", s.LeaseID, s.Renewable, s.LeaseDuration)
	}
	serial := s.Data["serial_number"].(string)
	// The lease can be looked up, is not renewable, and revoking it revokes
	// the certificate.
	look, err := p.c.Sys().Lookup(s.LeaseID)
	if err != nil || look.Data["renewable"] != false || look.Data["id"] != s.LeaseID {
		t.Fatalf("lease lookup %v %v", look, err)
	}
	if _, err := p.c.Sys().Renew(s.LeaseID, 60); err == nil || !strings.Contains(err.Error(), "lease is not renewable") {
		t.Errorf("renew: %v", err)
	}
	if err := p.c.Sys().Revoke(s.LeaseID); err != nil {
		t.Fatalf("lease revoke: %v", err)
	}
	cert, err := p.c.Logical().Read("pki_int/cert/" + serial)
	if err != nil || cert == nil || cert.Data["revocation_time_rfc3339"] == "" {
		t.Fatalf("certificate not revoked by its lease: %v %v", cert, err)
	}
	if err := p.c.Sys().Revoke("pki_int/issue/leased/00-11"); err != nil {
		t.Errorf("revoking an unknown lease: %v", err)
	}
	s = issWrite(t, p.c, "pki_int/issue/internal-services", map[string]any{"common_name": "a.internal.example.com"})
	if s.LeaseID != "" || s.LeaseDuration != 0 {
		t.Errorf("unleased role got a lease: %q", s.LeaseID)
	}
}

func TestTutorialRolesThroughVaultClient(t *testing.T) {
	t.Parallel()
	p := newIssPKI(t)
	cases := []struct {
		role, cn, alt, ttl string
		err                string
	}{
		{role: "web-servers", cn: "api.example.com", alt: "api-v2.example.com,api-internal.example.com", ttl: "24h"},
		{role: "web-servers", cn: "example.com"},
		{role: "web-servers", cn: "api.example.org", err: "common name api.example.org not allowed by this role"},
		{role: "internal-services", cn: "api.internal.example.com", alt: "api.svc.cluster.local"},
		{role: "internal-services", cn: "internal.example.com", err: "common name internal.example.com not allowed by this role"},
		{role: "client-auth", cn: "bob.users.example.com"},
		{role: "client-auth", cn: "users.example.com", err: "common name users.example.com not allowed by this role"},
		{role: "production-services", cn: "api.prod.example.com", ttl: "8h"},
		{role: "production-services", cn: "prod.example.com", err: "common name prod.example.com not allowed by this role"},
		{role: "payment-service", cn: "payments.prod.example.com"},
		{role: "payment-service", cn: "api.payments.prod.example.com", err: "common name api.payments.prod.example.com not allowed by this role"},
	}
	for _, tc := range cases {
		body := map[string]any{"common_name": tc.cn}
		if tc.alt != "" {
			body["alt_names"] = tc.alt
		}
		if tc.ttl != "" {
			body["ttl"] = tc.ttl
		}
		s, err := p.c.Logical().Write("pki_int/issue/"+tc.role, body)
		if tc.err != "" {
			issWantError(t, err, http.StatusBadRequest, tc.err)
			continue
		}
		if err != nil {
			t.Errorf("%s %s: %v", tc.role, tc.cn, err)
			continue
		}
		cert := p.check(t, s, true)
		switch tc.role {
		case "production-services": // 8h asked, 4h allowed: a warning, not an error
			if cert.NotAfter.Sub(cert.NotBefore) != 4*time.Hour+30*time.Second || !slices.Contains(s.Warnings, `TTL "8h0m0s" is longer than permitted maxTTL "4h0m0s", so maxTTL is being used`) {
				t.Errorf("production-services: %v %q", cert.NotAfter.Sub(cert.NotBefore), s.Warnings)
			}
		case "payment-service": // no ttl: the mount default, cut to 1h
			if cert.NotAfter.Sub(cert.NotBefore) != time.Hour+30*time.Second || len(s.Warnings) != 1 {
				t.Errorf("payment-service: %v %q", cert.NotAfter.Sub(cert.NotBefore), s.Warnings)
			}
		}
	}
}

// BenchmarkIssueHTTP is issue/:role through the HTTP server in-process,
// from 16 concurrent clients on plain net/http (P-256 issuer and leaves).
// Its CPU figures include the clients: `pkid bench -pid` separates them.
func BenchmarkIssueHTTP(b *testing.B) {
	srv := pkidtest.Start(b)
	c := srv.Client(b)
	srv.EnablePKI(b, "pki", 87600*time.Hour)
	ctx := context.Background()
	for path, body := range map[string]map[string]any{
		"pki/root/generate/internal": {"common_name": "Bench Root", "key_type": "ec", "ttl": "8760h"},
		"pki/roles/stored":           {"allowed_domains": "example.com", "allow_subdomains": true, "key_type": "ec"},
		"pki/roles/no_store":         {"allowed_domains": "example.com", "allow_subdomains": true, "key_type": "ec", "no_store": true},
	} {
		if _, err := c.Logical().WriteWithContext(ctx, path, body); err != nil {
			b.Fatal(err)
		}
	}
	for _, role := range []string{"stored", "no_store"} {
		b.Run(role, func(b *testing.B) {
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				hc := &http.Client{}
				for pb.Next() {
					req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/pki/issue/"+role,
						strings.NewReader(`{"common_name":"www.example.com","ttl":"1h"}`))
					req.Header.Set("X-Vault-Token", srv.Token)
					resp, err := hc.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
		})
	}
}
