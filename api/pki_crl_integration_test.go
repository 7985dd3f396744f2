package api_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"
	"golang.org/x/crypto/ocsp"

	"github.com/pkid-dev/pkid/ca"
	"github.com/pkid-dev/pkid/clock"
	"github.com/pkid-dev/pkid/crl"
	"github.com/pkid-dev/pkid/pkidtest"
)

// The Authority is the CRL manager's issuer source.
var _ crl.IssuerSource = (*ca.Authority)(nil)

// crlServer is a pkid with a PKI mount, an EC root and a role, on a fake
// clock, driven through the real vault/api client.
type crlServer struct {
	t     *testing.T
	srv   *pkidtest.Server
	c     *vault.Client
	clock *clock.Fake
	root  *x509.Certificate
}

func newCRLServer(t *testing.T) *crlServer {
	t.Helper()
	fake := clock.NewFake(time.Now().UTC().Truncate(time.Second))
	srv := pkidtest.Start(t, pkidtest.Options{Clock: fake})
	srv.EnablePKI(t, "pki", 87600*time.Hour)
	s := &crlServer{t: t, srv: srv, c: srv.Client(t), clock: fake}
	root := s.write("pki/root/generate/internal", map[string]any{
		"common_name": "CRL Test Root", "key_type": "ec", "ttl": "8760h", "issuer_name": "root"})
	s.root = crlParseCert(t, root.Data["certificate"].(string))
	s.write("pki/roles/web", map[string]any{
		"allowed_domains": "example.com", "allow_subdomains": true, "key_type": "ec", "max_ttl": "720h"})
	return s
}

func (s *crlServer) write(path string, data map[string]any) *vault.Secret {
	s.t.Helper()
	sec, err := s.c.Logical().WriteWithContext(context.Background(), path, data)
	if err != nil {
		s.t.Fatalf("write %s: %v", path, err)
	}
	return sec
}

func (s *crlServer) read(path string) *vault.Secret {
	s.t.Helper()
	sec, err := s.c.Logical().ReadWithContext(context.Background(), path)
	if err != nil {
		s.t.Fatalf("read %s: %v", path, err)
	}
	return sec
}

// issue returns a fresh leaf certificate and its serial.
func (s *crlServer) issue(cn, ttl string) (*x509.Certificate, string) {
	s.t.Helper()
	sec := s.write("pki/issue/web", map[string]any{"common_name": cn, "ttl": ttl})
	return crlParseCert(s.t, sec.Data["certificate"].(string)), sec.Data["serial_number"].(string)
}

// raw sends an unauthenticated request and returns status, type and body.
func (s *crlServer) raw(method, path, ctype string, body []byte) (int, string, []byte) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.srv.URL+"/v1/"+path, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), out
}

// crl fetches pki/crl, checks it is signed by the root and returns it.
func (s *crlServer) crl() *x509.RevocationList {
	s.t.Helper()
	status, ctype, der := s.raw("GET", "pki/crl", "", nil)
	if status != 200 || ctype != "application/pkix-crl" {
		s.t.Fatalf("GET pki/crl: %d %q", status, ctype)
	}
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		s.t.Fatal(err)
	}
	if err := rl.CheckSignatureFrom(s.root); err != nil {
		s.t.Fatalf("CRL signature: %v", err)
	}
	return rl
}

func crlParseCert(t *testing.T, text string) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode([]byte(text))
	if b == nil {
		t.Fatalf("no PEM in %q", text)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func crlListed(rl *x509.RevocationList, cert *x509.Certificate) (time.Time, bool) {
	for _, e := range rl.RevokedCertificateEntries {
		if e.SerialNumber.Cmp(cert.SerialNumber) == 0 {
			return e.RevocationTime, true
		}
	}
	return time.Time{}, false
}

func TestCRLOverHTTP(t *testing.T) {
	t.Parallel()
	s := newCRLServer(t)
	good, _ := s.issue("good.example.com", "24h")
	bad, badSerial := s.issue("bad.example.com", "24h")
	s.clock.Advance(time.Minute)

	rev := s.write("pki/revoke", map[string]any{"serial_number": badSerial})
	revokedAt, _ := rev.Data["revocation_time"].(json.Number).Int64()
	if rev.Data["state"] != "revoked" || revokedAt != s.clock.Now().Unix() {
		t.Fatalf("revoke: %v", rev.Data)
	}
	list, err := s.c.Logical().List("pki/certs/revoked")
	if err != nil || list == nil || len(list.Data["keys"].([]any)) != 1 || list.Data["keys"].([]any)[0] != badSerial {
		t.Fatalf("list certs/revoked = %v, %v", list, err)
	}
	cert := s.read("pki/cert/" + badSerial)
	if n, _ := cert.Data["revocation_time"].(json.Number).Int64(); n != revokedAt {
		t.Errorf("cert/%s revocation_time = %v", badSerial, cert.Data["revocation_time"])
	}

	rl := s.crl()
	if at, ok := crlListed(rl, bad); !ok || at.Unix() != revokedAt {
		t.Fatalf("CRL lacks %s at %d", badSerial, revokedAt)
	}
	if _, ok := crlListed(rl, good); ok {
		t.Error("CRL lists the good certificate")
	}
	if !rl.NextUpdate.Equal(s.clock.Now().Add(72 * time.Hour)) {
		t.Errorf("nextUpdate %v, want now+72h", rl.NextUpdate)
	}
	status, ctype, pemCRL := s.raw("GET", "pki/crl/pem", "", nil)
	if status != 200 || ctype != "application/x-pem-file" {
		t.Fatalf("crl/pem: %d %q", status, ctype)
	}
	crlOpenSSL(t, pemCRL, s.root)

	for _, tc := range []struct {
		cert   *x509.Certificate
		status int
	}{{good, ocsp.Good}, {bad, ocsp.Revoked}} {
		req, err := ocsp.CreateRequest(tc.cert, s.root, nil)
		if err != nil {
			t.Fatal(err)
		}
		vias := []string{"POST", "GET"}
		if strings.Contains("/"+base64.StdEncoding.EncodeToString(req), "//") {
			// Path cleaning (Vault's too) redirects "//": GET cannot carry it.
			vias = vias[:1]
		}
		for _, via := range vias {
			var code int
			var body []byte
			if via == "POST" {
				code, _, body = s.raw("POST", "pki/ocsp", "application/ocsp-request", req)
			} else {
				code, _, body = s.raw("GET", "pki/ocsp/"+url.PathEscape(base64.StdEncoding.EncodeToString(req)), "", nil)
			}
			resp, err := ocsp.ParseResponseForCert(body, tc.cert, s.root)
			if code != 200 || err != nil || resp.Status != tc.status {
				t.Errorf("OCSP %s: %d %v %+v", via, code, err, resp)
			}
		}
	}
	if code, _, body := s.raw("POST", "pki/ocsp", "application/ocsp-request", []byte("junk")); code != 400 || !bytes.Equal(body, ocsp.MalformedRequestErrorResponse) {
		t.Errorf("OCSP junk: %d %x", code, body)
	}
}

func TestRevokeErrorsOverHTTP(t *testing.T) {
	t.Parallel()
	s := newCRLServer(t)
	other := newCRLServer(t)
	foreign, _ := other.issue("x.example.com", "1h")
	foreignPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: foreign.Raw}))
	tests := []struct {
		data map[string]any
		want string
	}{
		{map[string]any{}, "The serial number or certificate to revoke must be provided."},
		{map[string]any{"serial_number": "crl"}, `invalid serial number "crl"`},
		{map[string]any{"serial_number": ".."}, `invalid serial number ".."`},
		{map[string]any{"serial_number": "11:22"}, "certificate with serial 11:22 not found."},
		{map[string]any{"certificate": foreignPEM}, "unable to verify signature on presented cert from any present issuer in this mount"},
	}
	for _, tc := range tests {
		_, err := s.c.Logical().Write("pki/revoke", tc.data)
		var re *vault.ResponseError
		if !errorsAs(err, &re) || re.StatusCode != 400 || !strings.Contains(strings.Join(re.Errors, " "), tc.want) {
			t.Errorf("revoke %v: %v, want 400 %q", tc.data, err, tc.want)
		}
	}
	if status, _, _ := s.raw("GET", "pki/cert/crl/raw", "", nil); status != 404 {
		t.Errorf("cert/crl/raw = %d, want 404", status)
	}
}

func errorsAs(err error, target **vault.ResponseError) bool {
	re, ok := err.(*vault.ResponseError)
	if ok {
		*target = re
	}
	return ok
}

// TestTidyOverHTTP: tidy answers 202, removes what expired past the safety
// buffer on the fake clock, and the revoked-and-expired entry leaves the
// CRL; auto-tidy then fires from the server's periodic work.
func TestTidyOverHTTP(t *testing.T) {
	t.Parallel()
	s := newCRLServer(t)
	short, shortSerial := s.issue("short.example.com", "1h")
	_, _ = s.issue("long.example.com", "240h")
	s.write("pki/revoke", map[string]any{"serial_number": shortSerial})
	if _, ok := crlListed(s.crl(), short); !ok {
		t.Fatal("revoked certificate not on the CRL")
	}
	s.clock.Advance(3 * time.Hour)

	req, _ := http.NewRequest("PUT", s.srv.URL+"/v1/pki/tidy", strings.NewReader(`{"tidy_cert_store":true,"tidy_revoked_certs":true,"safety_buffer":"1h"}`))
	req.Header.Set("X-Vault-Token", s.srv.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		RequestID string   `json:"request_id"`
		Warnings  []string `json:"warnings"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&env)
	resp.Body.Close()
	if resp.StatusCode != 202 || env.RequestID != "" || len(env.Warnings) != 1 {
		t.Fatalf("tidy: %d %+v", resp.StatusCode, env)
	}
	status := s.waitTidy()
	if status.Data["cert_store_deleted_count"] != json.Number("1") || status.Data["revoked_cert_deleted_count"] != json.Number("1") {
		t.Fatalf("tidy-status = %v", status.Data)
	}
	if _, ok := crlListed(s.crl(), short); ok {
		t.Error("tidied revocation still on the CRL")
	}
	if l, err := s.c.Logical().List("pki/certs/revoked"); err != nil || l != nil {
		t.Errorf("revoked list after tidy = %v, %v", l, err)
	}

	s.write("pki/config/auto-tidy", map[string]any{"enabled": true, "tidy_cert_store": true,
		"interval_duration": "1h", "safety_buffer": "1h"})
	started := status.Data["time_started"]
	s.clock.Advance(2 * time.Hour)
	s.srv.API.RunPeriodic(context.Background())
	if again := s.waitTidy(); again.Data["time_started"] == started {
		t.Error("auto-tidy did not run")
	}
}

func (s *crlServer) waitTidy() *vault.Secret {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		st := s.read("pki/tidy-status")
		if st.Data["state"] != "Running" {
			return st
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.t.Fatal("tidy still running")
	return nil
}

func crlOpenSSL(t *testing.T, pemCRL []byte, root *x509.Certificate) {
	t.Helper()
	path, err := exec.LookPath("openssl")
	if err != nil {
		return
	}
	dir := t.TempDir()
	crlFile, caFile := filepath.Join(dir, "crl.pem"), filepath.Join(dir, "ca.pem")
	_ = os.WriteFile(crlFile, pemCRL, 0o600)
	_ = os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Raw}), 0o600)
	out, err := exec.Command(path, "crl", "-in", crlFile, "-CAfile", caFile, "-noout").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "verify OK") {
		t.Errorf("openssl crl: %v\n%s", err, out)
	}
}
