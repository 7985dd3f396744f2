package api_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/pkid-dev/pkid/pkidtest"
)

// wantStatus asserts a vault/api error's status and that one of its
// messages contains part.
func wantStatus(t *testing.T, err error, status int, part string) {
	t.Helper()
	var re *vault.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want HTTP %d", err, status)
	}
	if re.StatusCode != status || !strings.Contains(strings.Join(re.Errors, "|"), part) {
		t.Fatalf("got %d %q, want %d containing %q", re.StatusCode, re.Errors, status, part)
	}
}

func ecRootHTTP(t *testing.T, c *vault.Client, mount, name string) *vault.Secret {
	t.Helper()
	return mustWrite(t, c, mount+"/root/generate/internal", map[string]any{
		"common_name": name + " Root", "issuer_name": name, "key_type": "ec", "ttl": "8760h",
	})
}

func TestCAFetchEndpoints(t *testing.T) {
	t.Parallel()
	srv := pkidtest.Start(t)
	c := srv.Client(t)
	srv.EnablePKI(t, "pki", 87600*time.Hour)

	// Nothing configured yet: raw paths answer 204, cert/ca 400, lists 404.
	for _, p := range []string{"pki/ca", "pki/ca/pem", "pki/ca_chain", "pki/cert/ca/raw", "pki/cert/ca/raw/pem"} {
		if status, _, _ := caHTTP(t, srv, "GET", p, ""); status != http.StatusNoContent {
			t.Errorf("GET %s = %d before any root, want 204", p, status)
		}
	}
	_, err := c.Logical().Read("pki/cert/ca")
	wantStatus(t, err, 400, "no default issuer currently configured")
	if s, err := c.Logical().List("pki/issuers"); err != nil || s != nil {
		t.Errorf("LIST issuers with none = %v, %v; want nothing (404)", s, err)
	}

	root := ecRootHTTP(t, c, "pki", "root")
	rootPEM := root.Data["certificate"].(string)
	if strings.HasSuffix(rootPEM, "\n") {
		t.Error("certificate has a trailing newline")
	}
	rootDER := parsePEMCerts(t, rootPEM)[0].Raw
	tests := []struct {
		path, ctype string
		body        []byte
	}{
		{"pki/ca", "application/pkix-cert", rootDER},
		{"pki/cert/ca/raw", "application/pkix-cert", rootDER},
		{"pki/ca/pem", "application/pem-certificate-chain", []byte(rootPEM)},
		{"pki/cert/ca/raw/pem", "application/pem-certificate-chain", []byte(rootPEM)},
		{"pki/ca_chain", "application/pkix-cert", []byte(rootPEM)},
		{"pki/issuer/root/pem", "application/pem-certificate-chain", []byte(rootPEM + "\n")},
		{"pki/issuer/default/der", "application/pkix-cert", rootDER},
	}
	for _, tt := range tests {
		status, ctype, body := caHTTP(t, srv, "GET", tt.path, "")
		if status != 200 || ctype != tt.ctype || string(body) != string(tt.body) {
			t.Errorf("GET %s = %d %s %q", tt.path, status, ctype, body)
		}
	}
	ca, err := c.Logical().Read("pki/cert/ca")
	if err != nil || ca.Data["certificate"] != rootPEM || ca.Data["revocation_time"] == nil {
		t.Errorf("cert/ca = %v %v", ca, err)
	}
	chain, err := c.Logical().Read("pki/cert/ca_chain")
	if err != nil || chain.Data["ca_chain"] != rootPEM || chain.Data["certificate"] != rootPEM {
		t.Errorf("cert/ca_chain = %v %v", chain, err)
	}
	js, err := c.Logical().Read("pki/issuer/root/json")
	if err != nil || js.Data["issuer_name"] != "root" || len(js.Data["ca_chain"].([]any)) != 1 {
		t.Errorf("issuer json = %v %v", js, err)
	}
	// Unknown issuers are Vault's 500s; no token is needed for pem/der/json.
	status, _, body := caHTTP(t, srv, "GET", "pki/issuer/nope/pem", "")
	if status != 500 || !strings.Contains(string(body), "unable to find PKI issuer for reference: nope") {
		t.Errorf("GET issuer/nope/pem = %d %s", status, body)
	}
	_, err = c.Logical().Read("pki/issuer/nope")
	wantStatus(t, err, 500, "1 error occurred:\n\t* unable to find PKI issuer for reference: nope")
	if status, _, _ := caHTTP(t, srv, "GET", "pki/issuer/root", ""); status != 403 {
		t.Errorf("issuer read without a token = %d, want 403", status)
	}
}

func TestCAGenerationFormats(t *testing.T) {
	t.Parallel()
	srv := pkidtest.Start(t)
	c := srv.Client(t)
	srv.EnablePKI(t, "pki", 0)

	s := mustWrite(t, c, "pki/root/generate/exported", map[string]any{
		"common_name": "Bundle Root", "key_type": "ec", "format": "pem_bundle", "private_key_format": "pkcs8", "ttl": "87600h",
		"not_a_field": "x",
	})
	if s.Data["private_key_type"] != "ec" || !strings.HasPrefix(s.Data["private_key"].(string), "-----BEGIN PRIVATE KEY-----") {
		t.Errorf("pkcs8 private key %v", s.Data["private_key"])
	}
	if !strings.HasPrefix(s.Data["certificate"].(string), "-----BEGIN EC PRIVATE KEY-----") {
		t.Error("pem_bundle certificate does not start with the native key")
	}
	if !hasWarning(s, "maxTTL") || !hasWarning(s, "not_a_field") {
		t.Errorf("warnings %q", s.Warnings)
	}
	if _, ok := s.Data["expiration"].(interface{ Int64() (int64, error) }); !ok {
		t.Errorf("expiration is %T, want a JSON number", s.Data["expiration"])
	}
	der := mustWrite(t, c, "pki/issuers/generate/root/exported", map[string]any{"key_type": "ed25519", "format": "der", "common_name": "DER Root"})
	raw, err := base64.StdEncoding.DecodeString(der.Data["certificate"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x509.ParseCertificate(raw); err != nil {
		t.Errorf("der certificate: %v", err)
	}
	if _, err := base64.StdEncoding.DecodeString(der.Data["private_key"].(string)); err != nil {
		t.Errorf("der key: %v", err)
	}

	for _, tt := range []struct {
		path string
		data map[string]any
		want string
	}{
		{"pki/root/generate/internal", map[string]any{"key_type": "rsa", "key_bits": "1024"}, "RSA keys < 2048 bits are unsafe and not supported: got 1024"},
		{"pki/root/generate/internal", map[string]any{"key_type": "ec", "key_bits": 300}, "unsupported bit length for EC key: 300"},
		{"pki/root/generate/internal", map[string]any{"key_type": "foo"}, "unknown key type foo"},
		{"pki/root/generate/bogus", map[string]any{}, `the "exported" path parameter must be`},
		{"pki/root/generate/kms", map[string]any{}, "kms"},
		{"pki/intermediate/generate/internal", map[string]any{"format": "xml"}, `the "format" path parameter must be "pem", "der", or "pem_bundle"`},
		{"pki/root/generate/existing", map[string]any{"key_ref": "nope"}, "unable to find PKI key for reference: nope"},
	} {
		_, err := c.Logical().Write(tt.path, tt.data)
		wantStatus(t, err, 400, tt.want)
	}

	csr := mustWrite(t, c, "pki/intermediate/generate/exported", map[string]any{
		"common_name": "Int", "key_type": "ec", "format": "pem_bundle", "use_pss": true,
	})
	if !strings.HasPrefix(csr.Data["csr"].(string), "-----BEGIN EC PRIVATE KEY-----") || csr.Data["key_id"] == "" {
		t.Errorf("exported pem_bundle CSR %v", csr.Data)
	}
	if !hasWarning(csr, "use_pss") {
		t.Errorf("use_pss is not a field of intermediate/generate: warnings %q", csr.Warnings)
	}
	cross := mustWrite(t, c, "pki/intermediate/cross-sign", map[string]any{"common_name": "Cross", "key_ref": csr.Data["key_id"]})
	if cross.Data["key_id"] != csr.Data["key_id"] || cross.Data["private_key"] != nil {
		t.Errorf("cross-sign %v", cross.Data)
	}
}

func TestCASignAndImportErrors(t *testing.T) {
	t.Parallel()
	srv := pkidtest.Start(t)
	c := srv.Client(t)
	srv.EnablePKI(t, "pki", 87600*time.Hour)
	srv.EnablePKI(t, "pki_int", 87600*time.Hour)
	ecRootHTTP(t, c, "pki", "root")
	gen := mustWrite(t, c, "pki_int/intermediate/generate/internal", map[string]any{"common_name": "Int", "key_type": "ec"})
	csr := gen.Data["csr"].(string)
	block, _ := pem.Decode([]byte(csr))
	bad := append([]byte(nil), block.Bytes...)
	bad[len(bad)-2] ^= 0x55
	badSig := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: bad}))

	for _, tt := range []struct {
		path   string
		data   map[string]any
		status int
		want   string
	}{
		{"pki/root/sign-intermediate", map[string]any{"csr": "garbage"}, 400, "csr contains no data"},
		{"pki/root/sign-intermediate", map[string]any{"csr": "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----"}, 400, "certificate request could not be parsed"},
		{"pki/root/sign-intermediate", map[string]any{"csr": badSig}, 400, "request signature invalid"},
		{"pki/root/sign-intermediate", map[string]any{}, 400, `"csr" is empty`},
		{"pki/issuer/nope/sign-intermediate", map[string]any{"csr": csr}, 500, "could not fetch the CA certificate (was one set?): unable to find PKI issuer for reference: nope"},
		{"pki/root/sign-intermediate", map[string]any{"csr": csr, "issuer_ref": "nope"}, 500, "unable to find PKI issuer for reference: nope"},
		{"pki_int/intermediate/set-signed", map[string]any{"certificate": ""}, 400, "'pem_bundle' and 'certificate' parameters were empty"},
		{"pki_int/intermediate/set-signed", map[string]any{"certificate": "int.pem"}, 400, "provided data for import was too short"},
		{"pki_int/issuers/import/cert", map[string]any{"pem_bundle": gen.Data["csr"]}, 400, "private keys found in the PEM bundle but not allowed by the path"},
	} {
		_, err := c.Logical().Write(tt.path, tt.data)
		wantStatus(t, err, tt.status, tt.want)
	}

	signed := mustWrite(t, c, "pki/issuer/root/sign-intermediate", map[string]any{"csr": csr, "format": "pem_bundle"})
	first := mustWrite(t, c, "pki_int/intermediate/set-signed", map[string]any{"certificate": signed.Data["certificate"]})
	if len(first.Data["imported_issuers"].([]any)) != 2 || first.Data["imported_keys"] != nil {
		t.Errorf("set-signed %v", first.Data)
	}
	// A second set-signed of the same certificates is no error (Vault: 200).
	second := mustWrite(t, c, "pki_int/intermediate/set-signed", map[string]any{"certificate": signed.Data["certificate"]})
	if second.Data["imported_issuers"] != nil || len(second.Data["existing_issuers"].([]any)) != 2 {
		t.Errorf("second set-signed %v", second.Data)
	}
	selfIssued := mustWrite(t, c, "pki/root/sign-self-issued", map[string]any{"certificate": parsePEM(t, c, "pki/cert/ca")})
	if selfIssued.Data["certificate"] == "" || selfIssued.Data["issuing_ca"] == "" {
		t.Errorf("sign-self-issued %v", selfIssued.Data)
	}
	_, err := c.Logical().Write("pki/root/sign-self-issued", map[string]any{"certificate": "nope"})
	wantStatus(t, err, 400, "certificate could not be PEM-decoded")
}

func parsePEM(t *testing.T, c *vault.Client, path string) string {
	t.Helper()
	s, err := c.Logical().Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return s.Data["certificate"].(string)
}

func TestCAIssuerAndKeyManagement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := pkidtest.Start(t)
	c := srv.Client(t)
	srv.EnablePKI(t, "pki", 87600*time.Hour)
	r1 := ecRootHTTP(t, c, "pki", "one")
	r2 := ecRootHTTP(t, c, "pki", "two")

	cfg, err := c.Logical().Read("pki/config/issuers")
	if err != nil || cfg.Data["default"] != r1.Data["issuer_id"] || cfg.Data["default_follows_latest_issuer"] != false {
		t.Fatalf("config/issuers %v %v", cfg, err)
	}
	set := mustWrite(t, c, "pki/config/issuers", map[string]any{"default": "two"})
	if set.Data["default"] != r2.Data["issuer_id"] {
		t.Errorf("set default %v", set.Data)
	}
	_, err = c.Logical().Write("pki/config/issuers", map[string]any{"default": "ghost"})
	wantStatus(t, err, 400, "Error resolving issuer reference: unable to find PKI issuer for reference: ghost")

	// PATCH merges, POST replaces.
	p, err := c.Logical().JSONMergePatch(ctx, "pki/issuer/one", map[string]any{"leaf_not_after_behavior": "permit", "ocsp_servers": []string{"http://ocsp.example"}})
	if err != nil || p.Data["issuer_name"] != "one" || p.Data["leaf_not_after_behavior"] != "permit" || len(p.Data["ocsp_servers"].([]any)) != 1 {
		t.Fatalf("patch %v %v", p, err)
	}
	w := mustWrite(t, c, "pki/issuer/one", map[string]any{"issuer_name": "uno", "usage": "read-only,crl-signing"})
	if w.Data["leaf_not_after_behavior"] != "err" || w.Data["usage"] != "crl-signing,read-only" || len(w.Data["ocsp_servers"].([]any)) != 0 {
		t.Errorf("post %v", w.Data)
	}
	_, err = c.Logical().Write("pki/issuer/uno", map[string]any{"leaf_not_after_behavior": "never"})
	wantStatus(t, err, 400, "Unknown value for field `leaf_not_after_behavior`")

	rev := mustWrite(t, c, "pki/issuer/uno/revoke", nil)
	if rev.Data["revoked"] != true || rev.Data["revocation_time_rfc3339"] == "" {
		t.Errorf("revoke %v", rev.Data)
	}
	// Deleting: unknown refs answer 200 with no data; the default goes with a warning.
	del, err := c.Logical().Delete("pki/issuer/ghost")
	if err != nil || del == nil || del.Data != nil {
		t.Errorf("delete unknown issuer = %v, %v", del, err)
	}
	del, err = c.Logical().Delete("pki/issuer/two")
	if err != nil || !hasWarning(del, "this was configured as the default issuer") {
		t.Errorf("delete default %v %v", del, err)
	}

	// Keys.
	keys, err := c.Logical().List("pki/keys")
	if err != nil || len(keys.Data["keys"].([]any)) != 2 {
		t.Fatalf("LIST keys %v %v", keys, err)
	}
	gen := mustWrite(t, c, "pki/keys/generate/exported", map[string]any{"key_type": "ec", "key_name": "spare"})
	if gen.Data["key_type"] != "ec" || gen.Data["private_key"] == nil {
		t.Errorf("keys/generate %v", gen.Data)
	}
	k, err := c.Logical().Read("pki/key/spare")
	if err != nil || k.Data["key_type"] != "ec" || k.Data["subject_key_id"] == "" || k.Data["private_key"] != nil {
		t.Errorf("key read %v %v", k, err)
	}
	imp := mustWrite(t, c, "pki/keys/import", map[string]any{"pem_bundle": gen.Data["private_key"]})
	if imp.Data["key_id"] != gen.Data["key_id"] || !hasWarning(imp, "Key already imported") {
		t.Errorf("keys/import %v %q", imp.Data, imp.Warnings)
	}
	_, err = c.Logical().Write("pki/keys/generate/internal", map[string]any{"key_type": "rsa", "key_bits": 1024})
	wantStatus(t, err, 400, "Validation for key_type, key_bits failed")
	_, err = c.Logical().Delete("pki/key/" + r1.Data["key_id"].(string))
	wantStatus(t, err, 400, "Failed to Delete Key.  Key in Use by Issuer: ")
	_, err = c.Logical().Read("pki/key/ghost")
	wantStatus(t, err, 500, "unable to find PKI key for reference: ghost")
	if status, _, _ := caHTTP(t, srv, "DELETE", "pki/key/ghost", srv.Token); status != 204 {
		t.Errorf("DELETE key/ghost = %d, want 204", status)
	}
	mustWrite(t, c, "pki/config/keys", map[string]any{"default": "spare"})
	ck, _ := c.Logical().Read("pki/config/keys")
	if ck.Data["default"] != gen.Data["key_id"] {
		t.Errorf("config/keys %v", ck.Data)
	}

	// config/urls and config/cluster round trips.
	u := mustWrite(t, c, "pki/config/urls", map[string]any{"issuing_certificates": "http://a.example/ca,http://b.example/ca"})
	if len(u.Data["issuing_certificates"].([]any)) != 2 || len(u.Data["ocsp_servers"].([]any)) != 0 {
		t.Errorf("config/urls %v", u.Data)
	}
	_, err = c.Logical().Write("pki/config/urls", map[string]any{"ocsp_servers": "nope"})
	wantStatus(t, err, 400, "invalid URL found in Authority Information Access (AIA) parameter ocsp_servers: nope")
	mustWrite(t, c, "pki/config/cluster", map[string]any{"path": "https://vault.example/v1/pki"})
	cl, _ := c.Logical().Read("pki/config/cluster")
	if cl.Data["path"] != "https://vault.example/v1/pki" {
		t.Errorf("config/cluster %v", cl.Data)
	}

	// Rotation helpers and DELETE root.
	rot := mustWrite(t, c, "pki/root/rotate/internal", map[string]any{"common_name": "Next", "key_type": "ec"})
	if rot.Data["issuer_name"] != "next" {
		t.Errorf("root/rotate named %v", rot.Data["issuer_name"])
	}
	rep := mustWrite(t, c, "pki/root/replace", nil)
	if rep.Data["default"] != rot.Data["issuer_id"] {
		t.Errorf("root/replace %v", rep.Data)
	}
	gone, err := c.Logical().Delete("pki/root")
	if err != nil || !hasWarning(gone, "DELETE /root deletes all keys and issuers") {
		t.Errorf("DELETE root %v %v", gone, err)
	}
	if s, err := c.Logical().List("pki/keys"); err != nil || s != nil {
		t.Errorf("keys after DELETE root: %v %v", s, err)
	}
}
