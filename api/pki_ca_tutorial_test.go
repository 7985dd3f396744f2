package api_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/pkid-dev/pkid/pkidtest"
)

// caHTTP sends a raw request and returns status, content type and body.
func caHTTP(t *testing.T, srv *pkidtest.Server, method, path, token string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+"/v1/"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("X-Vault-Token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

func mustWrite(t *testing.T, c *vault.Client, path string, data map[string]any) *vault.Secret {
	t.Helper()
	s, err := c.Logical().WriteWithContext(context.Background(), path, data)
	if err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	return s
}

func parsePEMCerts(t *testing.T, text string) []*x509.Certificate {
	t.Helper()
	var out []*x509.Certificate
	rest := []byte(text)
	for {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			return out
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
}

func hasWarning(s *vault.Secret, part string) bool {
	for _, w := range s.Warnings {
		if strings.Contains(w, part) {
			return true
		}
	}
	return false
}

// verifyChain checks leaf up to root with root as the only trust anchor,
// with crypto/x509 and, when the machine has it, openssl.
func verifyChain(t *testing.T, root *x509.Certificate, leaf *x509.Certificate, inter ...*x509.Certificate) {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AddCert(root)
	ip := x509.NewCertPool()
	for _, c := range inter {
		ip.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: ip,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Fatalf("crypto/x509 verify %s: %v", leaf.Subject.CommonName, err)
	}
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Log("openssl not found; skipping openssl verify")
		return
	}
	dir := t.TempDir()
	write := func(name string, certs ...*x509.Certificate) string {
		var b strings.Builder
		for _, c := range certs {
			b.Write(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	args := []string{"verify", "-x509_strict", "-CAfile", write("root.pem", root)}
	if len(inter) > 0 {
		args = append(args, "-untrusted", write("inter.pem", inter...))
	}
	args = append(args, write("leaf.pem", leaf))
	out, err := exec.Command(openssl, args...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), ": OK") {
		t.Fatalf("openssl verify: %v\n%s", err, out)
	}
}

// TestTutorialRootIntermediateRotation walks the tutorial's CA steps through
// the real vault/api client: a 10-year RSA-4096 root in pki_root, an
// RSA-4096 intermediate in pki_int signed by it and installed with
// set-signed, and the rotation to intermediate-2027 made default.
func TestTutorialRootIntermediateRotation(t *testing.T) {
	t.Parallel()
	// A short periodic interval: the loop's CRL and tidy checks run between
	// every step, as on a slow machine where the test outlives 5 s.
	srv := pkidtest.Start(t, pkidtest.Options{PeriodicInterval: 10 * time.Millisecond})
	c := srv.Client(t)
	srv.EnablePKI(t, "pki_root", 87600*time.Hour)

	root := mustWrite(t, c, "pki_root/root/generate/internal", map[string]any{
		"common_name": "My Organization Root CA", "issuer_name": "root-2024",
		"key_type": "rsa", "key_bits": "4096", "ttl": "87600h",
	})
	for _, k := range []string{"certificate", "issuing_ca", "serial_number", "expiration", "issuer_id", "issuer_name", "key_id", "key_name"} {
		if _, ok := root.Data[k]; !ok {
			t.Errorf("root/generate answer lacks %s", k)
		}
	}
	if root.Data["issuer_name"] != "root-2024" || hasWarning(root, "maxTTL") || hasWarning(root, "ignored") {
		t.Errorf("root answer %v, warnings %q", root.Data["issuer_name"], root.Warnings)
	}
	rootCert := parsePEMCerts(t, root.Data["certificate"].(string))[0]
	if rootCert.PublicKey.(interface{ Size() int }).Size() != 512 {
		t.Error("root key is not RSA-4096")
	}
	if got := rootCert.NotAfter.Sub(rootCert.NotBefore); got < 87599*time.Hour {
		t.Errorf("root lives %v, want 10 years", got)
	}
	ca, err := c.Logical().Read("pki_root/cert/ca")
	if err != nil || ca.Data["certificate"] != root.Data["certificate"] {
		t.Fatalf("cert/ca = %v, %v", ca, err)
	}
	mustWrite(t, c, "pki_root/config/urls", map[string]any{
		"issuing_certificates":    "https://vault.example.com:8200/v1/pki_root/ca",
		"crl_distribution_points": "https://vault.example.com:8200/v1/pki_root/crl",
	})

	srv.EnablePKI(t, "pki_int", 26280*time.Hour)
	int1 := installIntermediate(t, c, "intermediate-2024", "My Organization Intermediate CA")
	verifyChain(t, rootCert, int1)
	if len(int1.IssuingCertificateURL) != 1 || int1.IssuingCertificateURL[0] != "https://vault.example.com:8200/v1/pki_root/ca" {
		t.Errorf("intermediate AIA %v", int1.IssuingCertificateURL)
	}
	mustWrite(t, c, "pki_int/config/urls", map[string]any{
		"issuing_certificates":    "https://vault.example.com:8200/v1/pki_int/ca",
		"crl_distribution_points": "https://vault.example.com:8200/v1/pki_int/crl",
	})

	int2 := installIntermediate(t, c, "intermediate-2027", "My Organization Intermediate CA v2")
	verifyChain(t, rootCert, int2)
	cfg := mustWrite(t, c, "pki_int/config/issuers", map[string]any{"default": "intermediate-2027"})
	is2, err := c.Logical().Read("pki_int/issuer/intermediate-2027")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Data["default"] != is2.Data["issuer_id"] {
		t.Errorf("default %v, want %v", cfg.Data["default"], is2.Data["issuer_id"])
	}
	chain := is2.Data["ca_chain"].([]any)
	if len(chain) != 2 || parsePEMCerts(t, chain[1].(string))[0].Equal(rootCert) == false {
		t.Errorf("intermediate-2027 ca_chain has %d entries", len(chain))
	}
	caNow, err := c.Logical().Read("pki_int/cert/ca")
	if err != nil || !parsePEMCerts(t, caNow.Data["certificate"].(string))[0].Equal(int2) {
		t.Errorf("pki_int/cert/ca is not the new intermediate: %v", err)
	}

	// LIST issuers needs no token.
	anon := srv.Client(t)
	anon.ClearToken()
	list, err := anon.Logical().List("pki_int/issuers")
	if err != nil {
		t.Fatal(err)
	}
	if keys := list.Data["keys"].([]any); len(keys) != 3 {
		t.Errorf("pki_int has %d issuers, want 3 (two intermediates and the root)", len(keys))
	}
	info := list.Data["key_info"].(map[string]any)[is2.Data["issuer_id"].(string)].(map[string]any)
	if info["issuer_name"] != "intermediate-2027" || info["is_default"] != true {
		t.Errorf("key_info %v", info)
	}
}

// installIntermediate runs the tutorial's CSR → sign (pem_bundle) →
// set-signed steps and returns the installed intermediate.
func installIntermediate(t *testing.T, c *vault.Client, name, cn string) *x509.Certificate {
	t.Helper()
	gen := mustWrite(t, c, "pki_int/intermediate/generate/internal", map[string]any{
		"common_name": cn, "issuer_name": name, "key_type": "rsa", "key_bits": "4096",
	})
	if hasWarning(gen, "unrecognized") {
		t.Errorf("issuer_name was reported unrecognized: %q", gen.Warnings)
	}
	signed := mustWrite(t, c, "pki_root/root/sign-intermediate", map[string]any{
		"csr": gen.Data["csr"], "format": "pem_bundle", "ttl": "26280h",
	})
	bundle := signed.Data["certificate"].(string)
	certs := parsePEMCerts(t, bundle)
	if len(certs) != 2 || len(signed.Data["ca_chain"].([]any)) != 2 {
		t.Fatalf("pem_bundle holds %d certificates", len(certs))
	}
	set := mustWrite(t, c, "pki_int/intermediate/set-signed", map[string]any{"certificate": bundle + "\n"})
	imported := set.Data["imported_issuers"].([]any)
	if len(imported) == 0 || set.Data["mapping"].(map[string]any)[imported[0].(string)] != gen.Data["key_id"] {
		t.Fatalf("set-signed %v", set.Data)
	}
	is, err := c.Logical().Read("pki_int/issuer/" + name)
	if err != nil || is == nil || is.Data["key_id"] != gen.Data["key_id"] {
		t.Fatalf("issuer %s: %v %v", name, is, err)
	}
	return certs[0]
}
