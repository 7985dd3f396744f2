package openbao

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"testing"
	"time"

	bao "github.com/openbao/openbao/api/v2"

	"github.com/pkid-dev/pkid/pkidtest"
)

// flow makes the calls of the tutorial, failing the test on an error,
// and counts them.
type flow struct {
	t   *testing.T
	c   *bao.Client
	ctx context.Context
	n   int
}

func (f *flow) write(path string, data map[string]any) map[string]any {
	f.t.Helper()
	f.n++
	sec, err := f.c.Logical().WriteWithContext(f.ctx, path, data)
	if err != nil {
		f.t.Fatalf("write %s: %v", path, err)
	}
	if sec == nil {
		return nil
	}
	return sec.Data
}

func (f *flow) read(path string) map[string]any {
	f.t.Helper()
	f.n++
	sec, err := f.c.Logical().ReadWithContext(f.ctx, path)
	if err != nil || sec == nil {
		f.t.Fatalf("read %s: %v %v", path, sec, err)
	}
	return sec.Data
}

func (f *flow) list(path string) []any {
	f.t.Helper()
	f.n++
	sec, err := f.c.Logical().ListWithContext(f.ctx, path)
	if err != nil || sec == nil {
		f.t.Fatalf("list %s: %v %v", path, sec, err)
	}
	keys, _ := sec.Data["keys"].([]any)
	return keys
}

func newClient(t *testing.T, srv *pkidtest.Server) *bao.Client {
	t.Helper()
	cfg := bao.DefaultConfig()
	cfg.Address = srv.URL
	cfg.MaxRetries = 0
	c, err := bao.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(srv.Token)
	return c
}

func TestTutorialFlowThroughOpenBaoClient(t *testing.T) {
	srv := pkidtest.Start(t, pkidtest.Options{InMemory: true})
	c := newClient(t, srv)
	f := &flow{t: t, c: c, ctx: context.Background()}
	sys := c.Sys()

	// Mounts and tune.
	for mount, ttl := range map[string]string{"pki_root": "87600h", "pki_int": "26280h"} {
		if err := sys.MountWithContext(f.ctx, mount, &bao.MountInput{Type: "pki"}); err != nil {
			t.Fatalf("mount %s: %v", mount, err)
		}
		if err := sys.TuneMountWithContext(f.ctx, mount, bao.MountConfigInput{MaxLeaseTTL: ttl}); err != nil {
			t.Fatalf("tune %s: %v", mount, err)
		}
		cfg, err := sys.MountConfigWithContext(f.ctx, mount)
		if err != nil || cfg.MaxLeaseTTL == 0 {
			t.Fatalf("read tune %s: %+v %v", mount, cfg, err)
		}
	}
	mounts, err := sys.ListMountsWithContext(f.ctx)
	if err != nil || mounts["pki_int/"] == nil || mounts["pki_int/"].Type != "pki" {
		t.Fatalf("list mounts: %v", err)
	}

	// Root CA, URLs.
	root := f.write("pki_root/root/generate/internal", map[string]any{
		"common_name": "My Organization Root CA", "issuer_name": "root-2024", "key_type": "ec", "ttl": "87600h",
	})
	roots := x509.NewCertPool()
	roots.AddCert(parseCert(t, root["certificate"].(string)))
	f.write("pki_root/config/urls", map[string]any{
		"issuing_certificates":    "https://vault.example.com:8200/v1/pki_root/ca",
		"crl_distribution_points": "https://vault.example.com:8200/v1/pki_root/crl",
	})

	// Intermediate: CSR, signed by the root, set-signed, URLs.
	f.intermediate("My Organization Intermediate CA", "intermediate-2024")
	f.write("pki_int/config/urls", map[string]any{
		"issuing_certificates":    []string{"https://vault.example.com:8200/v1/pki_int/ca"},
		"crl_distribution_points": []string{"https://vault.example.com:8200/v1/pki_int/crl"},
	})

	// Roles.
	f.write("pki_int/roles/internal-services", map[string]any{
		"allowed_domains": []string{"internal.example.com", "svc.cluster.local"}, "allow_subdomains": true,
		"max_ttl": "168h", "ttl": "1h", "key_type": "ec", "key_bits": 256,
		"key_usage": "DigitalSignature", "ext_key_usage": []string{"ServerAuth", "ClientAuth"},
	})
	if role := f.read("pki_int/roles/internal-services"); role["key_type"] != "ec" {
		t.Fatalf("role read back: %v", role)
	}
	if keys := f.list("pki_int/roles"); len(keys) != 1 {
		t.Fatalf("roles: %v", keys)
	}

	// Issue and sign.
	issued := f.write("pki_int/issue/internal-services", map[string]any{
		"common_name": "api.internal.example.com", "alt_names": "db.internal.example.com", "ttl": "1h",
	})
	leaf := parseCert(t, issued["certificate"].(string))
	inters := x509.NewCertPool()
	for _, c := range issued["ca_chain"].([]any) {
		inters.AddCert(parseCert(t, c.(string)))
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "db.internal.example.com", Roots: roots, Intermediates: inters}); err != nil {
		t.Fatalf("issued leaf does not verify: %v", err)
	}
	signed := f.write("pki_int/sign/internal-services", map[string]any{"csr": csrPEM(t, "worker.svc.cluster.local"), "ttl": "1h"})
	serial := signed["serial_number"].(string)
	if got := f.read("pki_int/cert/" + serial); got["certificate"] != signed["certificate"] {
		t.Fatalf("cert/%s differs from what sign returned", serial)
	}

	// Revoke, revoked list, CRL.
	rev := f.write("pki_int/revoke", map[string]any{"serial_number": serial})
	if _, ok := rev["revocation_time"]; !ok {
		t.Fatalf("revoke answered %v", rev)
	}
	if !contains(f.list("pki_int/certs/revoked"), serial) {
		t.Fatalf("certs/revoked lacks %s", serial)
	}
	raw, err := c.Logical().ReadRawWithContext(f.ctx, "pki_int/crl")
	if err != nil {
		t.Fatal(err)
	}
	crlDER, err := io.ReadAll(raw.Body)
	raw.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(crlDER)
	if err != nil || len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Cmp(parseCert(t, signed["certificate"].(string)).SerialNumber) != 0 {
		t.Fatalf("CRL: %v %+v", err, crl)
	}

	// Tidy answers 202 with warnings; tidy-status follows it.
	f.n++
	tidy, err := c.Logical().WriteWithContext(f.ctx, "pki_int/tidy", map[string]any{
		"tidy_cert_store": true, "tidy_revoked_certs": true, "safety_buffer": "72h",
	})
	if err != nil || tidy == nil || len(tidy.Warnings) == 0 {
		t.Fatalf("tidy: %v %v", tidy, err)
	}
	waitTidy(f)

	// Rotation: a second intermediate becomes the default.
	f.intermediate("My Organization Intermediate CA v2", "intermediate-2027")
	f.write("pki_int/config/issuers", map[string]any{"default": "intermediate-2027"})
	if def := f.read("pki_int/issuer/default"); def["issuer_name"] != "intermediate-2027" {
		t.Fatalf("default issuer: %v", def["issuer_name"])
	}
	if issuers := f.list("pki_int/issuers"); len(issuers) != 3 { // the root and both intermediates
		t.Fatalf("issuers after rotation: %v", issuers)
	}
	after := parseCert(t, f.write("pki_int/issue/internal-services", map[string]any{"common_name": "new.internal.example.com"})["certificate"].(string))
	if after.Issuer.CommonName != "My Organization Intermediate CA v2" {
		t.Fatalf("issued after rotation by %s", after.Issuer.CommonName)
	}
	t.Logf("openbao api/v2: %d calls of the tutorial flow", f.n+6)
}

// intermediate makes a CSR on pki_int, signs it on pki_root and imports it.
func (f *flow) intermediate(cn, name string) {
	f.t.Helper()
	csr := f.write("pki_int/intermediate/generate/internal", map[string]any{
		"common_name": cn, "issuer_name": name, "key_type": "ec",
	})["csr"].(string)
	cert := f.write("pki_root/root/sign-intermediate", map[string]any{
		"csr": csr, "format": "pem_bundle", "ttl": "26280h",
	})["certificate"].(string)
	imported := f.write("pki_int/intermediate/set-signed", map[string]any{"certificate": cert})
	// A pem_bundle carries the root too: imported the first time only.
	if ids, _ := imported["imported_issuers"].([]any); len(ids) == 0 {
		f.t.Fatalf("set-signed imported %v", imported)
	}
}

func waitTidy(f *flow) {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if st := f.read("pki_int/tidy-status"); st["state"] == "Finished" {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	f.t.Fatal("tidy did not finish")
}

func contains(keys []any, s string) bool {
	for _, k := range keys {
		if k == s {
			return true
		}
	}
	return false
}

func parseCert(t *testing.T, text string) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode([]byte(text))
	if block == nil {
		t.Fatalf("no PEM: %q", text)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func csrPEM(t *testing.T, cn string) string {
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
