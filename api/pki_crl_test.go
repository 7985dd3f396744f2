package api

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"github.com/pkid-dev/pkid/records"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/pkid-dev/pkid/clock"
	"github.com/pkid-dev/pkid/crl"
	"github.com/pkid-dev/pkid/storage"
	"github.com/pkid-dev/pkid/storage/storagetest"
)

// crlIssuers is a fixed crl.IssuerSource: the ca engineer's Authority
// stands in for it in the server.
type crlIssuers struct{ list []crl.Issuer }

func (s crlIssuers) Issuers(storage.Tx) ([]crl.Issuer, string, error) {
	return s.list, s.list[0].ID, nil
}

func (s crlIssuers) DeleteIssuer(context.Context, string) (bool, error) { return false, nil }

// crlHarness runs the CRL routes the way dispatch does (route match,
// captures, handler, Vault rendering) without the server's auth and mounts.
type crlHarness struct {
	t     *testing.T
	b     *pkiBackend
	table *routeTable
	clock *clock.Fake
	ca    *x509.Certificate
	key   *ecdsa.PrivateKey
}

var crlT0 = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)

func newCRLHarness(t *testing.T) *crlHarness {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1000), Subject: pkix.Name{CommonName: "Harness Root"},
		NotBefore: crlT0.Add(-time.Hour), NotAfter: crlT0.Add(24 * 365 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	space := storagetest.Open(t).Space("m")
	clk := clock.NewFake(crlT0)
	src := crlIssuers{list: []crl.Issuer{{ID: "0a1b2c3d-0000-4000-8000-000000000001", Name: "root", Cert: ca,
		KeyID: "k", Signer: key, CRLSigning: true, OCSPSigning: true}}}
	m, err := crl.New(crl.Config{Space: space, Clock: clk, Issuers: src})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	b := &pkiBackend{space: space, clock: clk, crl: m}
	return &crlHarness{t: t, b: b, table: newRouteTable(b.crlRoutes(), pkiUnauthenticated, pkiSudo), clock: clk, ca: ca, key: key}
}

func (h *crlHarness) leaf(store bool, notAfter time.Time) *x509.Certificate {
	h.t.Helper()
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 159))
	tmpl := &x509.Certificate{SerialNumber: n, Subject: pkix.Name{CommonName: "leaf"},
		NotBefore: crlT0.Add(-time.Hour), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, h.ca, h.key.Public(), h.key)
	if err != nil {
		h.t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	if store {
		if err := h.b.space.Update(func(tx storage.Tx) error { return records.PutCert(tx, cert) }); err != nil {
			h.t.Fatal(err)
		}
	}
	return cert
}

func (h *crlHarness) do(op Operation, path string, data map[string]any, body []byte) *httptest.ResponseRecorder {
	h.t.Helper()
	rec := httptest.NewRecorder()
	s := &Server{}
	matchPath := path
	if op == OpList {
		matchPath = strings.TrimSuffix(path, "/")
	}
	unauth := matchSpecial(pkiUnauthenticated, path)
	route, vars := h.table.match(matchPath)
	if route == nil {
		s.writeError(rec, errUnsupportedPath, !unauth)
		return rec
	}
	hf, ok := route.Operations[op]
	if !ok {
		s.writeError(rec, errUnsupportedOperation, !unauth)
		return rec
	}
	if data == nil {
		data = map[string]any{}
	}
	req := &Request{Op: op, Path: path, Vars: vars, Data: data, Body: body, Mount: &MountInfo{Path: "pki/", UUID: "mount-uuid"}}
	replaced := applyVars(req.Data, vars)
	resp, err := hf(context.Background(), req)
	if err != nil {
		s.writeError(rec, err, !unauth)
		return rec
	}
	if resp != nil {
		resp.Warnings = append(resp.Warnings, paramWarnings(req, replaced)...)
	}
	s.writeResponse(rec, op, MountEntry{Type: "pki"}, resp, "req-id", false)
	return rec
}

type envelopeOut struct {
	RequestID string         `json:"request_id"`
	Data      map[string]any `json:"data"`
	Warnings  []string       `json:"warnings"`
	Errors    []string       `json:"errors"`
}

func decodeEnv(t *testing.T, rec *httptest.ResponseRecorder) envelopeOut {
	t.Helper()
	var e envelopeOut
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
		t.Fatalf("body %q: %v", rec.Body.String(), err)
	}
	return e
}

func TestCRLRoutesRevokeAndServe(t *testing.T) {
	t.Parallel()
	h := newCRLHarness(t)
	cert := h.leaf(true, crlT0.Add(time.Hour))
	serial := records.FormatSerial(cert.SerialNumber)

	rec := h.do(OpUpdate, "revoke", map[string]any{"serial_number": serial, "extra": "x"}, nil)
	env := decodeEnv(t, rec)
	if rec.Code != 200 || env.Data["state"] != "revoked" || env.Data["revocation_time"] != float64(crlT0.Unix()) {
		t.Fatalf("revoke: %d %s", rec.Code, rec.Body)
	}
	if len(env.Warnings) != 1 || env.Warnings[0] != "Endpoint ignored these unrecognized parameters: [extra]" {
		t.Errorf("warnings = %q", env.Warnings)
	}

	rec = h.do(OpList, "certs/revoked/", nil, nil)
	if env := decodeEnv(t, rec); rec.Code != 200 || len(env.Data["keys"].([]any)) != 1 {
		t.Errorf("list revoked: %d %s", rec.Code, rec.Body)
	}

	for _, tc := range []struct {
		path, ctype string
		pem         bool
	}{
		{"crl", "application/pkix-crl", false},
		{"crl/pem", "application/x-pem-file", true},
		{"issuer/root/crl/der", "application/pkix-crl", false},
		{"issuer/default/crl/pem", "application/x-pem-file", true},
		{"crl/delta", "application/pkix-crl", false},
		{"issuer/root/crl/delta/pem", "application/x-pem-file", true},
	} {
		rec := h.do(OpRead, tc.path, nil, nil)
		if rec.Code != 200 || rec.Header().Get("Content-Type") != tc.ctype {
			t.Errorf("%s: %d %q", tc.path, rec.Code, rec.Header().Get("Content-Type"))
			continue
		}
		der := rec.Body.Bytes()
		if tc.pem {
			block, _ := pem.Decode(der)
			if block == nil || block.Type != "X509 CRL" {
				t.Errorf("%s: not a PEM CRL: %q", tc.path, der)
				continue
			}
			if legacy := tc.path == "crl/pem"; legacy == strings.HasSuffix(rec.Body.String(), "\n") {
				t.Errorf("%s: trailing newline %v", tc.path, !legacy)
			}
			der = block.Bytes
		}
		rl, err := x509.ParseRevocationList(der)
		if err != nil || rl.CheckSignatureFrom(h.ca) != nil {
			t.Errorf("%s: %v", tc.path, err)
			continue
		}
		if !strings.Contains(tc.path, "delta") && (len(rl.RevokedCertificateEntries) != 1 || rl.RevokedCertificateEntries[0].SerialNumber.Cmp(cert.SerialNumber) != 0) {
			t.Errorf("%s: entries %v", tc.path, rl.RevokedCertificateEntries)
		}
	}
	for _, path := range []string{"cert/crl", "cert/delta-crl"} {
		env := decodeEnv(t, h.do(OpRead, path, nil, nil))
		if !strings.HasPrefix(env.Data["certificate"].(string), "-----BEGIN X509 CRL-----") || env.Data["revocation_time"] != float64(0) {
			t.Errorf("%s: %v", path, env.Data)
		}
	}
	env = decodeEnv(t, h.do(OpRead, "issuer/root/crl", nil, nil))
	if !strings.HasSuffix(env.Data["crl"].(string), "-----END X509 CRL-----\n") {
		t.Errorf("issuer/root/crl: %v", env.Data)
	}
}

func TestCRLRoutesStatuses(t *testing.T) {
	t.Parallel()
	h := newCRLHarness(t)
	expired := h.leaf(true, crlT0.Add(time.Second))
	tests := []struct {
		name   string
		op     Operation
		path   string
		data   map[string]any
		status int
		want   string // substring of the body
	}{
		{"neither field", OpUpdate, "revoke", nil, 400, "The serial number or certificate to revoke must be provided."},
		{"serial crl", OpUpdate, "revoke", map[string]any{"serial_number": "crl"}, 400, `invalid serial number \"crl\"`},
		{"serial dotdot", OpUpdate, "revoke", map[string]any{"serial_number": ".."}, 400, `invalid serial number \"..\"`},
		{"unparsable cert", OpUpdate, "revoke", map[string]any{"certificate": "-----BEGIN CERTIFICATE-----\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n-----END CERTIFICATE-----"}, 400, "certificate could not be parsed"},
		{"expired", OpUpdate, "revoke", map[string]any{"serial_number": records.FormatSerial(expired.SerialNumber)}, 200, "already expired; refusing to add to CRL"},
		{"wrong key", OpUpdate, "revoke-with-key", map[string]any{"serial_number": records.FormatSerial(expired.SerialNumber), "private_key": otherKeyPEM(t)}, 500, "1 error occurred:\\n\\t* provided private key does not match certificate's public key"},
		{"empty revoked list", OpList, "certs/revoked/", nil, 404, `{"errors":[]}`},
		{"unknown issuer", OpRead, "issuer/nope/crl/pem", nil, 500, "unable to find PKI issuer for reference: nope"},
		{"cert/crl/raw", OpRead, "cert/crl/raw", nil, 404, "unsupported path"},
		{"cert/delta-crl/raw/pem", OpRead, "cert/delta-crl/raw/pem", nil, 404, "unsupported path"},
		{"rotate is a read", OpUpdate, "crl/rotate", nil, 405, "unsupported operation"},
		{"rotate", OpRead, "crl/rotate", nil, 200, `"success":true`},
		{"rotate-delta off", OpRead, "crl/rotate-delta", nil, 200, "requested rebuild of delta CRL when delta CRL is not enabled; this is a no-op"},
		{"config/crl bad", OpUpdate, "config/crl", map[string]any{"enable_delta": "true"}, 400, "Delta CRLs cannot be enabled when auto rebuilding is disabled"},
		{"config/crl read", OpRead, "config/crl", nil, 200, `"expiry":"72h"`},
		{"config/crl write", OpUpdate, "config/crl", map[string]any{"expiry": json.Number("86400")}, 200, `"expiry":"86400"`},
		{"tidy-status inactive", OpRead, "tidy-status", nil, 200, `"state":"Inactive"`},
		{"tidy-cancel idle", OpUpdate, "tidy-cancel", nil, 200, "Tidy operation cannot be cancelled as none is currently running."},
		{"tidy bad buffer", OpUpdate, "tidy", map[string]any{"safety_buffer": "0"}, 400, "safety_buffer must be greater than zero"},
		{"auto-tidy read", OpRead, "config/auto-tidy", nil, 200, `"interval_duration":43200`},
		{"auto-tidy bad", OpUpdate, "config/auto-tidy", map[string]any{"enabled": true}, 400, "Auto-tidy enabled but no tidy operations were requested."},
	}
	for _, tc := range tests {
		rec := h.do(tc.op, tc.path, tc.data, nil)
		if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.want) {
			t.Errorf("%s: %d %s\nwant %d containing %s", tc.name, rec.Code, rec.Body, tc.status, tc.want)
		}
	}
	env := decodeEnv(t, h.do(OpRead, "tidy-status", nil, nil))
	if env.Data["internal_backend_uuid"] != "mount-uuid" || env.Data["cert_store_deleted_count"] != nil {
		t.Errorf("tidy-status = %v", env.Data)
	}
}

func otherKeyPEM(t *testing.T) string {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func TestCRLRoutesTidy(t *testing.T) {
	t.Parallel()
	h := newCRLHarness(t)
	h.leaf(true, crlT0.Add(time.Minute))
	h.clock.Advance(time.Hour)
	rec := h.do(OpUpdate, "tidy", map[string]any{"tidy_cert_store": true, "safety_buffer": "1s"}, nil)
	env := decodeEnv(t, rec)
	if rec.Code != http.StatusAccepted || env.RequestID != "" || env.Data != nil ||
		len(env.Warnings) != 1 || !strings.HasPrefix(env.Warnings[0], "Tidy operation successfully started.") {
		t.Fatalf("tidy: %d %s", rec.Code, rec.Body)
	}
	if err := h.b.crl.WaitTidy(context.Background()); err != nil {
		t.Fatal(err)
	}
	env = decodeEnv(t, h.do(OpRead, "tidy-status", nil, nil))
	if env.Data["state"] != "Finished" || env.Data["cert_store_deleted_count"] != float64(1) || env.Data["safety_buffer"] != float64(1) {
		t.Errorf("status = %v", env.Data)
	}
}

func TestCRLRoutesOCSP(t *testing.T) {
	t.Parallel()
	h := newCRLHarness(t)
	cert := h.leaf(false, crlT0.Add(time.Hour)) // presented, as for no_store
	rec := h.do(OpUpdate, "revoke", map[string]any{"certificate": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}))}, nil)
	if rec.Code != 200 {
		t.Fatalf("revoke: %d %s", rec.Code, rec.Body)
	}
	req, err := ocsp.CreateRequest(cert, h.ca, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, rec := range map[string]*httptest.ResponseRecorder{
		"POST": h.do(OpUpdate, "ocsp", nil, req),
		"GET":  h.do(OpRead, "ocsp/"+base64.StdEncoding.EncodeToString(req), nil, nil),
	} {
		if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/ocsp-response" {
			t.Errorf("%s: %d %q", name, rec.Code, rec.Header().Get("Content-Type"))
			continue
		}
		resp, err := ocsp.ParseResponseForCert(rec.Body.Bytes(), cert, h.ca)
		if err != nil || resp.Status != ocsp.Revoked {
			t.Errorf("%s: %v status %v", name, err, resp)
		}
	}
	rec = h.do(OpUpdate, "ocsp", nil, []byte("garbage"))
	if rec.Code != 400 || rec.Body.String() != string(ocsp.MalformedRequestErrorResponse) {
		t.Errorf("garbage: %d %x", rec.Code, rec.Body.Bytes())
	}
	h.do(OpUpdate, "config/crl", map[string]any{"ocsp_disable": true}, nil)
	if rec := h.do(OpUpdate, "ocsp", nil, req); rec.Code != 401 || rec.Body.String() != string(ocsp.UnauthorizedErrorResponse) {
		t.Errorf("disabled: %d", rec.Code)
	}
}
