package crl

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

func ocspRequest(t testing.TB, cert, issuer *x509.Certificate) []byte {
	t.Helper()
	req, err := ocsp.CreateRequest(cert, issuer, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestOCSP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	good := e.stored(e.ca, t0.Add(time.Hour))
	revoked := e.stored(e.ca, t0.Add(time.Hour))
	e.clock.Advance(time.Minute)
	res := e.revoke(revoked)
	other := newRoot(t, "Other", nil, time.Hour)
	stranger := other.leaf(t, nil, t0.Add(time.Hour))

	tests := []struct {
		name   string
		cert   *x509.Certificate
		issuer *x509.Certificate // the request names it
		signer *x509.Certificate // the response is signed by it
		status int
	}{
		{"good", good, e.ca.cert, e.ca.cert, ocsp.Good},
		{"revoked", revoked, e.ca.cert, e.ca.cert, ocsp.Revoked},
		{"unknown issuer", stranger, other.cert, e.ca.cert, ocsp.Unknown},
	}
	for _, tc := range tests {
		for _, get := range []bool{false, true} {
			der := ocspRequest(t, tc.cert, tc.issuer)
			var a OCSPAnswer
			if get {
				a = e.m.OCSPBase64(ctx, base64.StdEncoding.EncodeToString(der))
			} else {
				a = e.m.OCSP(ctx, der)
			}
			if a.Outcome != OCSPAnswered {
				t.Fatalf("%s (get %v): outcome %v", tc.name, get, a.Outcome)
			}
			resp, err := ocsp.ParseResponseForCert(a.Body, tc.cert, tc.signer)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if resp.Status != tc.status || resp.SerialNumber.Cmp(tc.cert.SerialNumber) != 0 {
				t.Errorf("%s: status %d serial %v, want %d", tc.name, resp.Status, resp.SerialNumber, tc.status)
			}
			if !resp.ThisUpdate.Equal(e.clock.Now()) || !resp.NextUpdate.Equal(e.clock.Now().Add(12*time.Hour)) {
				t.Errorf("%s: thisUpdate %v nextUpdate %v", tc.name, resp.ThisUpdate, resp.NextUpdate)
			}
			if tc.status == ocsp.Revoked && (!resp.RevokedAt.Equal(res.Time) || resp.RevocationReason != ocsp.Unspecified) {
				t.Errorf("revoked at %v reason %d, want %v unspecified", resp.RevokedAt, resp.RevocationReason, res.Time)
			}
		}
	}
}

func TestOCSPRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	cert := e.stored(e.ca, t0.Add(time.Hour))
	req := ocspRequest(t, cert, e.ca.cert)
	tests := []struct {
		name string
		do   func() OCSPAnswer
		want OCSPOutcome
		body []byte
	}{
		{"garbage", func() OCSPAnswer { return e.m.OCSP(ctx, []byte("not an OCSP request")) }, OCSPMalformed, ocsp.MalformedRequestErrorResponse},
		{"empty", func() OCSPAnswer { return e.m.OCSP(ctx, nil) }, OCSPMalformed, ocsp.MalformedRequestErrorResponse},
		{"huge", func() OCSPAnswer { return e.m.OCSP(ctx, make([]byte, 4096)) }, OCSPMalformed, ocsp.MalformedRequestErrorResponse},
		{"bad base64", func() OCSPAnswer { return e.m.OCSPBase64(ctx, "%%%") }, OCSPMalformed, ocsp.MalformedRequestErrorResponse},
		// Vault decodes GET requests with the standard alphabet only.
		{"url-safe base64", func() OCSPAnswer { return e.m.OCSPBase64(ctx, base64.RawURLEncoding.EncodeToString(req)) }, OCSPMalformed, ocsp.MalformedRequestErrorResponse},
		{"standard base64", func() OCSPAnswer { return e.m.OCSPBase64(ctx, base64.StdEncoding.EncodeToString(req)) }, OCSPAnswered, nil},
	}
	for _, tc := range tests {
		a := tc.do()
		if a.Outcome != tc.want || (tc.body != nil && string(a.Body) != string(tc.body)) {
			t.Errorf("%s: outcome %v body %x", tc.name, a.Outcome, a.Body)
		}
	}
	// No ocsp-signing usage on the matching issuer: unauthorized.
	e.src.edit("root", func(i *Issuer) { i.OCSPSigning = false })
	if a := e.m.OCSP(ctx, req); a.Outcome != OCSPUnauthorized || string(a.Body) != string(ocsp.UnauthorizedErrorResponse) {
		t.Errorf("no usage: %v", a.Outcome)
	}
	e.src.edit("root", func(i *Issuer) { i.OCSPSigning = true })
	if _, _, err := e.m.SetCRLConfig(ctx, CRLConfigPatch{OCSPDisable: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []OCSPAnswer{e.m.OCSP(ctx, req), e.m.OCSPBase64(ctx, "AAAA")} {
		if a.Outcome != OCSPUnauthorized {
			t.Errorf("ocsp_disable: %v", a.Outcome)
		}
	}
}

// FuzzOCSP: any request body gets an OCSP answer, never a panic.
func FuzzOCSP(f *testing.F) {
	e := newEnv(f)
	cert := e.stored(e.ca, t0.Add(time.Hour))
	f.Add(ocspRequest(f, cert, e.ca.cert))
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x00})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, der []byte) {
		a := e.m.OCSP(context.Background(), der)
		if len(a.Body) == 0 {
			t.Fatalf("empty answer, outcome %v", a.Outcome)
		}
		if a.Outcome == OCSPAnswered {
			if _, err := ocsp.ParseResponse(a.Body, nil); err != nil {
				t.Fatalf("answer does not parse: %v", err)
			}
		}
	})
}
