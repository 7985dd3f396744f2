package api_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/pkid-dev/pkid/clock"
	"github.com/pkid-dev/pkid/pkidtest"
)

// Vault-fidelity tests for revocation, CRLs, OCSP and tidy: each request is
// one a client could send to Vault, and each expectation is Vault's answer
// (status, body fields and their JSON types, exact texts), as read from
// Vault's pki backend (path_revoke.go, crl_util.go, path_fetch.go,
// path_fetch_issuers.go, path_config_crl.go, path_ocsp.go, path_tidy.go).

// conformance is a pkid on a fake clock, driven over raw HTTP.
type conformance struct {
	t     *testing.T
	srv   *pkidtest.Server
	clock *clock.Fake
}

func newConformance(t *testing.T) *conformance {
	t.Helper()
	fake := clock.NewFake(time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC))
	return &conformance{t: t, srv: pkidtest.Start(t, pkidtest.Options{Clock: fake}), clock: fake}
}

// envelope is a decoded Vault response body.
type envelope struct {
	RequestID string         `json:"request_id"`
	Data      map[string]any `json:"data"`
	Warnings  []string       `json:"warnings"`
	Errors    []string       `json:"errors"`
}

// do sends a request with the root token (auth) or none, and returns the
// status, the headers and the body. A []byte body is sent as is, as an OCSP
// request; anything else as JSON.
func (c *conformance) do(method, path string, body any, auth bool) (int, http.Header, []byte) {
	c.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		r = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, c.srv.URL+"/v1/"+path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	if auth {
		req.Header.Set("X-Vault-Token", c.srv.Token)
	}
	if _, raw := body.([]byte); raw {
		req.Header.Set("Content-Type", "application/ocsp-request") // raw bodies are OCSP requests
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, out
}

// call sends an authenticated request and decodes the JSON answer.
func (c *conformance) call(method, path string, body any) (int, envelope) {
	c.t.Helper()
	status, _, raw := c.do(method, path, body, true)
	return status, decodeEnvelope(c.t, raw)
}

func decodeEnvelope(t *testing.T, raw []byte) envelope {
	t.Helper()
	var env envelope
	if len(raw) == 0 {
		return env
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&env); err != nil {
		t.Fatalf("body %q: %v", raw, err)
	}
	return env
}

// must sends an authenticated request that must succeed with 200.
func (c *conformance) must(method, path string, body any) envelope {
	c.t.Helper()
	status, env := c.call(method, path, body)
	if status != 200 {
		c.t.Fatalf("%s %s: %d %v", method, path, status, env.Errors)
	}
	return env
}

// crlAt fetches a raw DER CRL path, checks it is signed by issuer and
// returns it with its bytes.
func (c *conformance) crlAt(path string, issuer *x509.Certificate) (*x509.RevocationList, []byte) {
	c.t.Helper()
	status, h, der := c.do("GET", path, nil, false)
	if status != 200 || h.Get("Content-Type") != "application/pkix-crl" {
		c.t.Fatalf("GET %s: %d %q", path, status, h.Get("Content-Type"))
	}
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		c.t.Fatalf("GET %s: %v", path, err)
	}
	if err := rl.CheckSignatureFrom(issuer); err != nil {
		c.t.Fatalf("GET %s: signature: %v", path, err)
	}
	return rl, der
}

// tutorialMounts is the tutorial's hierarchy after its intermediate
// rotation: pki_root with root-2024, pki_int with intermediate-2024 and
// intermediate-2027 (now the default), and one leaf from each.
type tutorialMounts struct {
	root, oldInt, newInt  *x509.Certificate
	oldLeaf, newLeaf      *x509.Certificate
	oldSerial, newSerial  string
	rootIDInInt, oldIntID string
}

func (c *conformance) tutorial() *tutorialMounts {
	c.t.Helper()
	c.srv.EnablePKI(c.t, "pki_root", 87600*time.Hour)
	c.srv.EnablePKI(c.t, "pki_int", 43800*time.Hour)
	m := &tutorialMounts{}
	root := c.must("POST", "pki_root/root/generate/internal", map[string]any{
		"common_name": "My Organization Root CA", "issuer_name": "root-2024", "key_type": "ec", "ttl": "87600h"})
	m.root = crlParseCert(c.t, root.Data["certificate"].(string))
	intermediate := func(cn, name string) (*x509.Certificate, map[string]any) {
		csr := c.must("POST", "pki_int/intermediate/generate/internal", map[string]any{
			"common_name": cn, "issuer_name": name, "key_type": "ec"}).Data["csr"]
		signed := c.must("POST", "pki_root/root/sign-intermediate", map[string]any{
			"csr": csr, "format": "pem_bundle", "ttl": "26280h"}).Data["certificate"].(string)
		set := c.must("POST", "pki_int/intermediate/set-signed", map[string]any{"certificate": signed})
		return crlParseCert(c.t, signed), set.Data["mapping"].(map[string]any)
	}
	var mapping map[string]any
	m.oldInt, mapping = intermediate("My Organization Intermediate CA", "intermediate-2024")
	for id, key := range mapping {
		if key == "" {
			m.rootIDInInt = id
		} else {
			m.oldIntID = id
		}
	}
	c.must("POST", "pki_int/config/urls", map[string]any{
		"issuing_certificates":          "https://vault.example.com:8200/v1/pki_int/ca",
		"crl_distribution_points":       "https://vault.example.com:8200/v1/pki_int/crl",
		"delta_crl_distribution_points": "https://vault.example.com:8200/v1/pki_int/crl/delta"})
	c.must("POST", "pki_int/roles/web-servers", map[string]any{
		"allowed_domains": "example.com", "allow_subdomains": true, "max_ttl": "720h", "key_type": "ec"})
	issue := func(cn string) (*x509.Certificate, string) {
		d := c.must("POST", "pki_int/issue/web-servers", map[string]any{"common_name": cn, "ttl": "24h"}).Data
		return crlParseCert(c.t, d["certificate"].(string)), d["serial_number"].(string)
	}
	m.oldLeaf, m.oldSerial = issue("old.example.com")
	m.newInt, _ = intermediate("My Organization Intermediate CA v2", "intermediate-2027")
	c.must("POST", "pki_int/config/issuers", map[string]any{"default": "intermediate-2027"})
	m.newLeaf, m.newSerial = issue("new.example.com")
	return m
}

func hasSerial(rl *x509.RevocationList, serial *big.Int) bool {
	return slices.ContainsFunc(rl.RevokedCertificateEntries, func(e x509.RevocationListEntry) bool {
		return e.SerialNumber.Cmp(serial) == 0
	})
}

// TestConformanceRotationRevocation walks the tutorial's revocation after
// its intermediate rotation: a certificate of the old and one of the new
// intermediate are revoked; each lands on its own issuer's CRL, the legacy
// crl paths serve the default (new) issuer's, and, as in Vault, every
// revocation rebuilds every CRL of the mount (crl_util.go revokeCert →
// rebuild), complete and delta numbered from one counter per CRL.
func TestConformanceRotationRevocation(t *testing.T) {
	t.Parallel()
	c := newConformance(t)
	m := c.tutorial()

	oldCRL, _ := c.crlAt("pki_int/issuer/intermediate-2024/crl/der", m.oldInt)
	newCRL, _ := c.crlAt("pki_int/issuer/intermediate-2027/crl/der", m.newInt)

	c.clock.Advance(time.Minute)
	status, rev := c.call("POST", "pki_int/revoke", map[string]any{"serial_number": m.oldSerial})
	want := c.clock.Now()
	if status != 200 || rev.Data["state"] != "revoked" || rev.Data["revocation_time"] != json.Number(fmt.Sprint(want.Unix())) ||
		rev.Data["revocation_time_rfc3339"] != want.Format(time.RFC3339Nano) || rev.Warnings != nil {
		t.Fatalf("revoke old: %d %+v", status, rev)
	}
	old2, _ := c.crlAt("pki_int/issuer/intermediate-2024/crl/der", m.oldInt)
	new2, _ := c.crlAt("pki_int/issuer/intermediate-2027/crl/der", m.newInt)
	if !hasSerial(old2, m.oldLeaf.SerialNumber) || hasSerial(new2, m.oldLeaf.SerialNumber) {
		t.Errorf("old leaf: on old CRL %v, on new CRL %v", hasSerial(old2, m.oldLeaf.SerialNumber), hasSerial(new2, m.oldLeaf.SerialNumber))
	}
	// Both CRLs were rebuilt: a complete and a delta build each.
	for _, tc := range []struct {
		name          string
		before, after *x509.RevocationList
	}{{"intermediate-2024", oldCRL, old2}, {"intermediate-2027", newCRL, new2}} {
		if got := new(big.Int).Sub(tc.after.Number, tc.before.Number); got.Int64() != 2 || !tc.after.ThisUpdate.Equal(want) {
			t.Errorf("%s: number %v -> %v, thisUpdate %v; want +2 and %v", tc.name, tc.before.Number, tc.after.Number, tc.after.ThisUpdate, want)
		}
	}

	c.clock.Advance(time.Minute)
	c.must("POST", "pki_int/revoke", map[string]any{"serial_number": m.newSerial})
	old3, _ := c.crlAt("pki_int/issuer/intermediate-2024/crl/der", m.oldInt)
	new3, newDER := c.crlAt("pki_int/issuer/intermediate-2027/crl/der", m.newInt)
	if !hasSerial(new3, m.newLeaf.SerialNumber) || hasSerial(old3, m.newLeaf.SerialNumber) || !hasSerial(old3, m.oldLeaf.SerialNumber) {
		t.Errorf("new leaf misplaced: old CRL %v, new CRL %v", old3.RevokedCertificateEntries, new3.RevokedCertificateEntries)
	}
	checkCRLShape(t, new3, m.newInt, c.clock.Now())

	// The legacy paths serve the default issuer's CRL, byte for byte.
	legacy, legacyDER := c.crlAt("pki_int/crl", m.newInt)
	if !bytes.Equal(legacyDER, newDER) || legacy.Issuer.CommonName != m.newInt.Subject.CommonName {
		t.Error("pki_int/crl is not the default issuer's CRL")
	}
	checkPEMForms(t, c, newDER)

	// The delta CRL: empty (auto_rebuild=false), numbered after the
	// complete CRL it refers to, with a critical Delta CRL Indicator.
	delta, _ := c.crlAt("pki_int/crl/delta", m.newInt)
	base, critical := deltaIndicator(t, delta)
	if len(delta.RevokedCertificateEntries) != 0 || base != new3.Number.Int64() || !critical ||
		delta.Number.Int64() != new3.Number.Int64()+1 {
		t.Errorf("delta: %d entries, number %v, base %d (critical %v); complete is %v",
			len(delta.RevokedCertificateEntries), delta.Number, base, critical, new3.Number)
	}

	// OCSP answers each leaf from its own issuer.
	for _, tc := range []struct {
		leaf, issuer *x509.Certificate
	}{{m.oldLeaf, m.oldInt}, {m.newLeaf, m.newInt}} {
		req, err := ocsp.CreateRequest(tc.leaf, tc.issuer, nil)
		if err != nil {
			t.Fatal(err)
		}
		status, h, body := c.do("POST", "pki_int/ocsp", req, false)
		resp, err := ocsp.ParseResponseForCert(body, tc.leaf, tc.issuer)
		if status != 200 || h.Get("Content-Type") != "application/ocsp-response" || err != nil || resp.Status != ocsp.Revoked {
			t.Errorf("OCSP %s: %d %v %+v", tc.leaf.Subject.CommonName, status, err, resp)
		}
	}

	status, list := c.call("LIST", "pki_int/certs/revoked", nil)
	keys := list.Data["keys"].([]any)
	if status != 200 || len(keys) != 2 || !slices.Contains(keys, any(m.oldSerial)) || !slices.Contains(keys, any(m.newSerial)) {
		t.Errorf("LIST certs/revoked: %d %v", status, list.Data)
	}
}

// checkCRLShape checks what Vault's CRLs hold (crl_util.go buildCRL through
// x509.CreateRevocationList): version 2, the issuer's subject, thisUpdate
// now and nextUpdate 72h later, the CRL Number and the Authority Key
// Identifier and no other extension, and entries with no reason code and
// no extensions.
func checkCRLShape(t *testing.T, rl *x509.RevocationList, issuer *x509.Certificate, now time.Time) {
	t.Helper()
	var tbs struct {
		Version int `asn1:"optional"`
		Rest    asn1.RawValue
	}
	if _, err := asn1.Unmarshal(rl.RawTBSRevocationList, &tbs); err != nil || tbs.Version != 1 {
		t.Errorf("CRL version field = %d (%v), want 1 (v2)", tbs.Version, err)
	}
	if !bytes.Equal(rl.RawIssuer, issuer.RawSubject) || !rl.ThisUpdate.Equal(now) || !rl.NextUpdate.Equal(now.Add(72*time.Hour)) {
		t.Errorf("CRL issuer %s, thisUpdate %v, nextUpdate %v; now %v", rl.Issuer, rl.ThisUpdate, rl.NextUpdate, now)
	}
	if !bytes.Equal(rl.AuthorityKeyId, issuer.SubjectKeyId) || rl.Number == nil {
		t.Errorf("CRL AKID %x (issuer SKID %x), number %v", rl.AuthorityKeyId, issuer.SubjectKeyId, rl.Number)
	}
	// Only those two: no Freshest CRL even with delta CRL URLs configured.
	for _, e := range rl.Extensions {
		if !e.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 35}) && !e.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 20}) {
			t.Errorf("CRL extension %v", e.Id)
		}
	}
	for _, e := range rl.RevokedCertificateEntries {
		if e.ReasonCode != 0 || len(e.Extensions) != 0 {
			t.Errorf("entry %x: reason %d, %d extensions", e.SerialNumber, e.ReasonCode, len(e.Extensions))
		}
	}
}

// checkPEMForms: crl/pem has no trailing newline (path_fetch.go trims it),
// the issuer paths keep it (path_fetch_issuers.go), and the JSON siblings
// carry the same PEM text.
func checkPEMForms(t *testing.T, c *conformance, der []byte) {
	t.Helper()
	withNL := string(pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}))
	trimmed := strings.TrimSpace(withNL)
	for path, want := range map[string]string{
		"pki_int/crl/pem":                          trimmed,
		"pki_int/issuer/intermediate-2027/crl/pem": withNL,
		"pki_int/issuer/default/crl/pem":           withNL,
	} {
		status, h, body := c.do("GET", path, nil, false)
		if status != 200 || h.Get("Content-Type") != "application/x-pem-file" || string(body) != want {
			t.Errorf("%s: %d %q\n%q", path, status, h.Get("Content-Type"), body)
		}
	}
	for path, field := range map[string]string{
		"pki_int/cert/crl":                     "certificate",
		"pki_int/issuer/intermediate-2027/crl": "crl",
	} {
		status, _, raw := c.do("GET", path, nil, false)
		env := decodeEnvelope(t, raw)
		want := withNL
		if field == "certificate" {
			want = trimmed
		}
		if status != 200 || env.Data[field] != want {
			t.Errorf("%s: %d %v", path, status, env.Data)
		}
	}
}

// deltaIndicator returns the base CRL number of a delta CRL's Delta CRL
// Indicator (RFC 5280 §5.2.4) and whether the extension is critical.
func deltaIndicator(t *testing.T, rl *x509.RevocationList) (int64, bool) {
	t.Helper()
	for _, e := range rl.Extensions {
		if e.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 27}) {
			var base *big.Int
			if _, err := asn1.Unmarshal(e.Value, &base); err != nil {
				t.Fatal(err)
			}
			return base.Int64(), e.Critical
		}
	}
	t.Fatal("no Delta CRL Indicator")
	return 0, false
}

// TestConformanceCRLLookups: where there is no CRL to serve, the raw paths
// answer 204, while Vault's JSON and issuer paths report why with a 500
// (resolveIssuerCRLPath): no default issuer, or an issuer with no CRL (a
// keyless one, here the imported root).
func TestConformanceCRLLookups(t *testing.T) {
	t.Parallel()
	c := newConformance(t)
	c.srv.EnablePKI(t, "pki_empty", 0)
	m := c.tutorial()
	keyless := "unable to find CRL for issuer: id:" + m.rootIDInInt + "/ref:"
	tests := []struct {
		path   string
		status int
		want   string // the error, or "" for an empty body
	}{
		{"pki_empty/crl", 204, ""},
		{"pki_empty/crl/pem", 204, ""},
		{"pki_empty/crl/delta", 204, ""},
		{"pki_empty/crl/delta/pem", 204, ""},
		{"pki_empty/cert/crl", 500, "no default issuer currently configured"},
		{"pki_empty/cert/delta-crl", 500, "no default issuer currently configured"},
		{"pki_empty/issuer/default/crl", 500, "no default issuer currently configured"},
		{"pki_int/issuer/" + m.rootIDInInt + "/crl", 500, keyless + m.rootIDInInt},
		{"pki_int/issuer/" + m.rootIDInInt + "/crl/der", 500, keyless + m.rootIDInInt},
		{"pki_int/issuer/" + m.rootIDInInt + "/crl/delta/pem", 500, keyless + m.rootIDInInt},
		{"pki_int/issuer/nope/crl", 500, "unable to find PKI issuer for reference: nope"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			status, _, body := c.do("GET", tc.path, nil, false)
			if status != tc.status {
				t.Fatalf("status %d %q, want %d", status, body, tc.status)
			}
			if tc.want == "" {
				if len(body) != 0 {
					t.Errorf("body %q, want none", body)
				}
				return
			}
			if env := decodeEnvelope(t, body); len(env.Errors) != 1 || env.Errors[0] != tc.want {
				t.Errorf("errors %q, want %q", env.Errors, tc.want)
			}
		})
	}
}

// TestConformanceRevokeAnswers: Vault's answers to revoke and
// revoke-with-key, statuses and exact texts.
func TestConformanceRevokeAnswers(t *testing.T) {
	t.Parallel()
	c := newConformance(t)
	m := c.tutorial()
	leaf := func(ttl string) (*x509.Certificate, string, string) {
		d := c.must("POST", "pki_int/issue/web-servers", map[string]any{"common_name": "x.example.com", "ttl": ttl}).Data
		return crlParseCert(t, d["certificate"].(string)), d["serial_number"].(string), d["private_key"].(string)
	}
	expired, expiredSerial, _ := leaf("1h")
	live, liveSerial, liveKey := leaf("24h")
	c.clock.Advance(2 * time.Hour)

	twin := forgeTwin(t, live)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsaPEM := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}))
	junkKey := string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte("0123456789012345678901234567890123456789")}))
	certPEM := func(c *x509.Certificate) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
	}
	bare := strings.ReplaceAll(liveSerial, ":", "")
	wrapped := func(s string) string { return "1 error occurred:\n\t* " + s + "\n\n" }
	tests := []struct {
		name    string
		path    string
		body    map[string]any
		status  int
		errText string // exact errors[0]; prefix when it ends with "…"
		warning string
	}{
		{"expired: only a warning", "revoke", map[string]any{"serial_number": expiredSerial}, 200, "",
			"certificate with serial " + expiredSerial + " already expired; refusing to add to CRL"},
		{"bare hex is no stored serial", "revoke", map[string]any{"serial_number": bare}, 400, "certificate with serial " + bare + " not found.", ""},
		{"not hex: looked up, not found", "revoke", map[string]any{"serial_number": "zz"}, 400, "certificate with serial zz not found.", ""},
		// Vault answers these with a 500; pkid with a clear 400 (spec Appendix E).
		{"serial crl", "revoke", map[string]any{"serial_number": "crl"}, 400, `invalid serial number "crl"`, ""},
		{"issuer certificate presented", "revoke", map[string]any{"certificate": certPEM(m.oldInt)}, 400,
			"adding issuer (id: " + m.oldIntID + ") to its own CRL is not allowed", ""},
		{"same serial, other bytes", "revoke", map[string]any{"certificate": certPEM(twin)}, 500,
			wrapped("certificate with same serial but unequal value already present in this cluster's storage; refusing to revoke"), ""},
		{"key: no PEM", "revoke-with-key", map[string]any{"serial_number": liveSerial, "private_key": strings.Repeat("k", 80)}, 500,
			wrapped("provided key PEM block contained no data or failed to parse"), ""},
		{"key: no key in PEM", "revoke-with-key", map[string]any{"serial_number": liveSerial, "private_key": junkKey}, 500,
			"1 error occurred:\n\t* failed to parse provided private key: got errors attempting to parse DER private key:\n1. …", ""},
		{"key: other type", "revoke-with-key", map[string]any{"serial_number": liveSerial, "private_key": rsaPEM}, 500,
			wrapped("provided private key type does not match certificate's public key type"), ""},
		{"key: other key", "revoke-with-key", map[string]any{"serial_number": liveSerial, "private_key": freshKeyPEM(t)}, 500,
			wrapped("provided private key does not match certificate's public key"), ""},
		{"key: matching", "revoke-with-key", map[string]any{"serial_number": liveSerial, "private_key": liveKey}, 200, "", ""},
	}
	for _, tc := range tests {
		status, env := c.call("POST", "pki_int/"+tc.path, tc.body)
		if status != tc.status {
			t.Errorf("%s: %d %+v, want %d", tc.name, status, env, tc.status)
			continue
		}
		if tc.errText != "" {
			prefix, isPrefix := strings.CutSuffix(tc.errText, "…")
			if len(env.Errors) != 1 || (!isPrefix && env.Errors[0] != tc.errText) || !strings.HasPrefix(env.Errors[0], prefix) {
				t.Errorf("%s: errors %q, want %q", tc.name, env.Errors, tc.errText)
			}
		}
		if tc.warning != "" && (env.Data != nil || len(env.Warnings) != 1 || env.Warnings[0] != tc.warning) {
			t.Errorf("%s: data %v warnings %q, want only %q", tc.name, env.Data, env.Warnings, tc.warning)
		}
	}
	// Vault stores a presented certificate before revokeCert refuses it.
	if status, env := c.call("GET", "pki_int/cert/"+crlFormat(m.oldInt.SerialNumber), nil); status != 200 || env.Data["certificate"] == nil {
		t.Errorf("presented issuer certificate not stored: %d", status)
	}
	if _, env := c.call("LIST", "pki_int/certs/revoked", nil); slices.Contains(env.Data["keys"].([]any), any(expiredSerial)) {
		t.Error("expired certificate was revoked")
	}
	_ = expired
	_ = live
}

func freshKeyPEM(t *testing.T) string {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// forgeTwin makes a certificate with cert's serial but other bytes, signed
// by a CA of its own.
func forgeTwin(t *testing.T, cert *x509.Certificate) *x509.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: cert.SerialNumber, Subject: pkix.Name{CommonName: "twin"},
		NotBefore: cert.NotBefore, NotAfter: cert.NotAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	twin, _ := x509.ParseCertificate(der)
	return twin
}

func crlFormat(n *big.Int) string {
	b := n.Bytes()
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02x", x)
	}
	return strings.Join(parts, ":")
}

// TestConformanceCRLConfig: config/crl as Vault CE validates and echoes
// it, and max_crl_entries refusing a CRL that would grow past it.
func TestConformanceCRLConfig(t *testing.T) {
	t.Parallel()
	c := newConformance(t)
	c.tutorial()
	tests := []struct {
		name   string
		body   map[string]any
		status int
		want   any // errors[0], or the echoed value of the field
		field  string
	}{
		{"negative expiry is only parsed", map[string]any{"expiry": "-1h"}, 200, "-1h", "expiry"},
		{"back to 72h", map[string]any{"expiry": "72h"}, 200, "72h", "expiry"},
		{"max_crl_entries 0 keeps the default", map[string]any{"max_crl_entries": 0}, 200, json.Number("100000"), "max_crl_entries"},
		{"max_crl_entries -1", map[string]any{"max_crl_entries": -1}, 200, json.Number("-1"), "max_crl_entries"},
		{"max_crl_entries -7 ignored", map[string]any{"max_crl_entries": "-7"}, 200, json.Number("-1"), "max_crl_entries"},
		{"unified_crl on CE", map[string]any{"unified_crl": true}, 400, "unified_crl can only be enabled on Vault Enterprise", ""},
		{"unified paths without unified", map[string]any{"unified_crl_on_existing_paths": true}, 400,
			"unified_crl_on_existing_paths cannot be enabled if unified_crl is disabled", ""},
		{"cross-cluster without auto_rebuild", map[string]any{"cross_cluster_revocation": true}, 400,
			"Global, cross-cluster revocation queue cannot be enabled when auto rebuilding is disabled as the local cluster may not have the certificate entry!", ""},
		{"cross-cluster on CE", map[string]any{"cross_cluster_revocation": true, "auto_rebuild": true}, 400,
			"Global, cross-cluster revocation queue (cross_cluster_revocation) can only be enabled on Vault Enterprise.", ""},
		{"max_crl_entries 1", map[string]any{"max_crl_entries": 1}, 200, json.Number("1"), "max_crl_entries"},
	}
	for _, tc := range tests {
		status, env := c.call("POST", "pki_int/config/crl", tc.body)
		switch {
		case status != tc.status:
			t.Errorf("%s: %d %+v, want %d", tc.name, status, env, tc.status)
		case tc.field == "" && (len(env.Errors) != 1 || env.Errors[0] != tc.want):
			t.Errorf("%s: errors %q, want %q", tc.name, env.Errors, tc.want)
		case tc.field != "" && env.Data[tc.field] != tc.want:
			t.Errorf("%s: %s = %#v, want %#v", tc.name, tc.field, env.Data[tc.field], tc.want)
		}
	}

	// One CRL entry allowed: the second revocation is stored, but its CRL
	// rebuild fails, and Vault answers that failure with a 500.
	issue := func() string {
		return c.must("POST", "pki_int/issue/web-servers", map[string]any{"common_name": "y.example.com", "ttl": "1h"}).Data["serial_number"].(string)
	}
	first, second := issue(), issue()
	c.must("POST", "pki_int/revoke", map[string]any{"serial_number": first})
	status, env := c.call("POST", "pki_int/revoke", map[string]any{"serial_number": second})
	want := "1 error occurred:\n\t* error encountered during CRL building: error building CRLs: error building CRL: revocation list size (2) exceeds configured maximum (1)\n\n"
	if status != 500 || len(env.Errors) != 1 || env.Errors[0] != want {
		t.Errorf("revoke past max_crl_entries: %d %q", status, env.Errors)
	}
	if _, list := c.call("LIST", "pki_int/certs/revoked", nil); len(list.Data["keys"].([]any)) != 2 {
		t.Errorf("revoked list = %v, want both", list.Data["keys"])
	}
	if status, env := c.call("GET", "pki_int/crl/rotate", nil); status != 500 || len(env.Errors) != 1 ||
		!strings.Contains(env.Errors[0], "error encountered during CRL building: error building CRLs: error building CRL: revocation list size (2)") {
		t.Errorf("crl/rotate past max_crl_entries: %d %q", status, env.Errors)
	}
	c.must("POST", "pki_int/config/crl", map[string]any{"max_crl_entries": -1})
	if status, env := c.call("GET", "pki_int/crl/rotate", nil); status != 200 || env.Data["success"] != true {
		t.Errorf("crl/rotate: %d %+v", status, env)
	}
}

// TestConformanceRebuildWarnings: a CRL build that skips a class of issuers
// without crl-signing reports it as Vault does, prefixed by the local build
// ("warning from local CRL rebuild: ") and numbered by the handler; delta
// builds do not repeat it.
func TestConformanceRebuildWarnings(t *testing.T) {
	t.Parallel()
	c := newConformance(t)
	c.srv.EnablePKI(t, "pki", 87600*time.Hour)
	id := c.must("POST", "pki/root/generate/internal", map[string]any{"common_name": "Root", "key_type": "ec"}).Data["issuer_id"].(string)
	if status, env := c.call("POST", "pki/issuer/"+id, map[string]any{"usage": "read-only,issuing-certificates,ocsp-signing"}); status != 200 {
		t.Fatalf("issuer usage: %d %v", status, env.Errors)
	}
	env := c.must("GET", "pki/crl/rotate", nil)
	want := "Warning 1 during CRL rebuild: warning from local CRL rebuild: Issuer equivalency set with associated keys lacked an issuer with CRL Signing KeyUsage; refusing to rebuild CRL for this group of issuers: " + id
	if len(env.Warnings) != 1 || env.Warnings[0] != want {
		t.Errorf("crl/rotate warnings = %q\nwant %q", env.Warnings, want)
	}
	env = c.must("GET", "pki/crl/rotate-delta", nil)
	if len(env.Warnings) != 1 || env.Warnings[0] != "requested rebuild of delta CRL when delta CRL is not enabled; this is a no-op" {
		t.Errorf("crl/rotate-delta warnings = %q", env.Warnings)
	}
}

// TestConformanceOCSPRequests: Vault decodes GET requests with standard
// base64 only, answers an empty one as malformed, and answers unauthorized
// while OCSP is disabled.
func TestConformanceOCSPRequests(t *testing.T) {
	t.Parallel()
	c := newConformance(t)
	c.srv.EnablePKI(t, "pki", 87600*time.Hour)
	root := crlParseCert(t, c.must("POST", "pki/root/generate/internal", map[string]any{"common_name": "Root", "key_type": "ec"}).Data["certificate"].(string))
	c.must("POST", "pki/roles/r", map[string]any{"allow_any_name": true, "key_type": "ec"})
	// A request whose URL-safe base64 differs from the standard one.
	var req []byte
	for range 50 {
		leaf := crlParseCert(t, c.must("POST", "pki/issue/r", map[string]any{"common_name": "a", "ttl": "1h"}).Data["certificate"].(string))
		r, err := ocsp.CreateRequest(leaf, root, nil)
		if err != nil {
			t.Fatal(err)
		}
		// "//" in a path is cleaned and redirected before routing, by
		// Vault as by pkid, so such a request cannot be sent by GET.
		if std := base64.StdEncoding.EncodeToString(r); std != base64.URLEncoding.EncodeToString(r) && !strings.Contains("/"+std, "//") {
			req = r
			break
		}
	}
	if req == nil {
		t.Fatal("no request with '+' or '/' in its base64")
	}
	malformed, unauthorized := string(ocsp.MalformedRequestErrorResponse), string(ocsp.UnauthorizedErrorResponse)
	tests := []struct {
		name, method, path string
		body               []byte
		status             int
		want               string // exact body; "" = a signed answer
	}{
		{"standard base64", "GET", "pki/ocsp/" + base64.StdEncoding.EncodeToString(req), nil, 200, ""},
		{"URL-safe base64", "GET", "pki/ocsp/" + base64.URLEncoding.EncodeToString(req), nil, 400, malformed},
		{"empty GET", "GET", "pki/ocsp/", nil, 400, malformed},
		{"empty POST", "POST", "pki/ocsp", nil, 400, malformed},
		{"disable", "", "", nil, 0, ""},
		{"disabled GET", "GET", "pki/ocsp/" + base64.StdEncoding.EncodeToString(req), nil, 401, unauthorized},
		{"disabled POST junk", "POST", "pki/ocsp", []byte("junk"), 401, unauthorized},
	}
	for _, tc := range tests {
		if tc.method == "" {
			c.must("POST", "pki/config/crl", map[string]any{"ocsp_disable": true})
			continue
		}
		status, h, body := c.do(tc.method, tc.path, tc.body, false)
		if status != tc.status || h.Get("Content-Type") != "application/ocsp-response" || (tc.want != "" && string(body) != tc.want) {
			t.Errorf("%s: %d %q %x", tc.name, status, h.Get("Content-Type"), body)
		}
	}
}

// vaultTidyStatusKeys are the fields of Vault's tidy-status, present (null
// or not) in every answer (path_tidy.go pathTidyStatusRead).
var vaultTidyStatusKeys = []string{"safety_buffer", "issuer_safety_buffer", "tidy_cert_store", "tidy_revoked_certs",
	"tidy_revoked_cert_issuer_associations", "tidy_expired_issuers", "tidy_move_legacy_ca_bundle",
	"tidy_revocation_queue", "tidy_cross_cluster_revoked_certs", "tidy_acme", "tidy_cert_metadata",
	"tidy_cmpv2_nonce_store", "pause_duration", "state", "error", "time_started", "time_finished", "message",
	"cert_store_deleted_count", "revoked_cert_deleted_count", "missing_issuer_cert_count",
	"current_cert_store_count", "current_revoked_cert_count", "internal_backend_uuid",
	"revocation_queue_deleted_count", "cross_revoked_cert_deleted_count", "total_acme_account_count",
	"acme_account_deleted_count", "acme_account_revoked_count", "acme_orders_deleted_count",
	"acme_account_safety_buffer", "cert_metadata_deleted_count", "cmpv2_nonce_deleted_count",
	"last_auto_tidy_finished"}

// TestConformanceTidy: tidy, tidy-status and config/auto-tidy with Vault's
// fields, defaults, checks and timing.
func TestConformanceTidy(t *testing.T) {
	t.Parallel()
	c := newConformance(t)
	c.srv.EnablePKI(t, "pki", 87600*time.Hour)

	st := c.must("GET", "pki/tidy-status", nil)
	for _, k := range vaultTidyStatusKeys {
		v, ok := st.Data[k]
		switch {
		case !ok:
			t.Errorf("tidy-status lacks %q", k)
		case k == "state" && v != "Inactive", k == "internal_backend_uuid" && v == nil:
			t.Errorf("tidy-status %s = %v", k, v)
		case k == "last_auto_tidy_finished":
			if s, _ := v.(string); s == "" {
				t.Errorf("last_auto_tidy_finished = %#v, want a time", v)
			}
		case k != "state" && k != "internal_backend_uuid" && v != nil:
			t.Errorf("tidy-status %s = %v before any run, want null", k, v)
		}
	}

	tests := []struct {
		name   string
		body   map[string]any
		status int
		want   string // errors[0] or the only warning
	}{
		{"metadata is Enterprise", map[string]any{"tidy_cert_metadata": true}, 400, "certificate metadata is only supported on Vault Enterprise"},
		{"queue buffer", map[string]any{"revocation_queue_safety_buffer": "0"}, 400, "revocation_queue_safety_buffer must be greater than zero"},
		{"Vault-only flags are known", map[string]any{"tidy_revocation_queue": true, "tidy_cross_cluster_revoked_certs": false, "tidy_cmpv2_nonce_store": false},
			202, "Tidy operation successfully started. Any information from the operation will be printed to Vault's server logs."},
	}
	for _, tc := range tests {
		status, env := c.call("POST", "pki/tidy", tc.body)
		got := env.Errors
		if status == 202 {
			got = env.Warnings
		}
		if status != tc.status || len(got) != 1 || got[0] != tc.want {
			t.Errorf("%s: %d %+v", tc.name, status, env)
		}
	}
	st = waitTidyDone(t, c)
	if st.Data["tidy_revocation_queue"] != true || st.Data["revocation_queue_safety_buffer"] != json.Number("172800") ||
		st.Data["revocation_queue_deleted_count"] != json.Number("0") || st.Data["pause_duration"] != "0s" {
		t.Errorf("tidy-status after run = %v", st.Data)
	}

	cfg := c.must("GET", "pki/config/auto-tidy", nil).Data
	for k, want := range map[string]any{
		"min_startup_backoff_duration": json.Number("300"), "max_startup_backoff_duration": json.Number("900"),
		"revocation_queue_safety_buffer": json.Number("172800"), "tidy_revocation_queue": false,
		"tidy_cross_cluster_revoked_certs": false, "tidy_cert_metadata": false, "tidy_cmpv2_nonce_store": false,
		"interval_duration": json.Number("43200"), "pause_duration": "0s",
	} {
		if cfg[k] != want {
			t.Errorf("config/auto-tidy %s = %#v, want %#v", k, cfg[k], want)
		}
	}
	for _, tc := range []struct {
		name string
		body map[string]any
		want string
	}{
		{"min backoff", map[string]any{"min_startup_backoff_duration": "0"}, "min_startup_backoff_duration must be at least 1 second: parsed: 0s"},
		{"min over max", map[string]any{"min_startup_backoff_duration": "20m"}, "max_startup_backoff_duration 15m0s must be greater or equal to min_startup_backoff_duration 20m0s"},
		{"metadata", map[string]any{"tidy_cert_metadata": true}, "certificate metadata is only supported on Vault Enterprise"},
		{"queue buffer", map[string]any{"revocation_queue_safety_buffer": "0"}, "given revocation_queue_safety_buffer must be at least one second; got: 0"},
	} {
		if status, env := c.call("POST", "pki/config/auto-tidy", tc.body); status != 400 || len(env.Errors) != 1 || env.Errors[0] != tc.want {
			t.Errorf("auto-tidy %s: %d %q", tc.name, status, env.Errors)
		}
	}

	// Turning auto-tidy on starts its interval then, not at the last run.
	started := st.Data["time_started"]
	c.clock.Advance(5 * time.Hour)
	c.must("POST", "pki/config/auto-tidy", map[string]any{"enabled": true, "tidy_cert_store": true, "interval_duration": "1h"})
	c.srv.API.RunPeriodic(context.Background())
	if st := waitTidyDone(t, c); st.Data["time_started"] != started {
		t.Error("auto-tidy ran as soon as it was enabled")
	}
	c.clock.Advance(61 * time.Minute)
	c.srv.API.RunPeriodic(context.Background())
	st = waitTidyDone(t, c)
	if st.Data["time_started"] == started {
		t.Fatal("auto-tidy did not run after its interval")
	}
	// An interval of zero never runs.
	started = st.Data["time_started"]
	c.must("POST", "pki/config/auto-tidy", map[string]any{"interval_duration": 0})
	c.clock.Advance(48 * time.Hour)
	c.srv.API.RunPeriodic(context.Background())
	if st := waitTidyDone(t, c); st.Data["time_started"] != started {
		t.Error("auto-tidy with interval_duration=0 ran")
	}
}

func waitTidyDone(t *testing.T, c *conformance) envelope {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		st := c.must("GET", "pki/tidy-status", nil)
		if st.Data["state"] != "Running" && st.Data["state"] != "Cancelling" {
			return st
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("tidy still running")
	return envelope{}
}

// TestConformanceTidyRevokedCounts: the revocation pass deletes an expired
// revocation and its certificate, but Vault counts only the revocation
// (path_tidy.go doTidyRevocationStore); the CRL is rebuilt without it.
func TestConformanceTidyRevokedCounts(t *testing.T) {
	t.Parallel()
	c := newConformance(t)
	c.srv.EnablePKI(t, "pki", 87600*time.Hour)
	root := crlParseCert(t, c.must("POST", "pki/root/generate/internal", map[string]any{"common_name": "Root", "key_type": "ec"}).Data["certificate"].(string))
	c.must("POST", "pki/roles/r", map[string]any{"allow_any_name": true, "key_type": "ec"})
	serial := c.must("POST", "pki/issue/r", map[string]any{"common_name": "a", "ttl": "1h"}).Data["serial_number"].(string)
	c.must("POST", "pki/revoke", map[string]any{"serial_number": serial})
	c.clock.Advance(3 * time.Hour)
	if status, env := c.call("POST", "pki/tidy", map[string]any{"tidy_revoked_certs": true, "safety_buffer": "1h"}); status != 202 {
		t.Fatalf("tidy: %d %+v", status, env)
	}
	st := waitTidyDone(t, c)
	if st.Data["state"] != "Finished" || st.Data["revoked_cert_deleted_count"] != json.Number("1") ||
		st.Data["cert_store_deleted_count"] != json.Number("0") || st.Data["missing_issuer_cert_count"] != json.Number("0") {
		t.Errorf("tidy-status = %v", st.Data)
	}
	if status, _, _ := c.do("GET", "pki/cert/"+serial, nil, false); status != 404 {
		t.Errorf("cert/%s after tidy: %d, want 404", serial, status)
	}
	if rl, _ := c.crlAt("pki/crl", root); len(rl.RevokedCertificateEntries) != 0 {
		t.Errorf("CRL still lists %v", rl.RevokedCertificateEntries)
	}
}
