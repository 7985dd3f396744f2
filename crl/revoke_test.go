package crl

import (
	"context"
	"crypto/x509"
	"errors"
	"github.com/pkid-dev/pkid/records"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/storage"
)

func TestRevokeIsOnTheCRL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cert := e.stored(e.ca, t0.Add(24*time.Hour))
	e.clock.Advance(90 * time.Second)
	res := e.revoke(cert)
	if !res.Time.Equal(t0.Add(90*time.Second)) || len(res.Warnings) > 0 {
		t.Fatalf("revoke = %+v, want time %v and no warnings", res, t0.Add(90*time.Second))
	}

	rl := e.crl("", false, e.ca.cert)
	got, ok := revokedSet(rl)[records.FormatSerial(cert.SerialNumber)]
	if !ok || !got.Equal(res.Time) {
		t.Fatalf("CRL entries %v lack %s at %v", revokedSet(rl), records.FormatSerial(cert.SerialNumber), res.Time)
	}
	if !rl.ThisUpdate.Equal(e.clock.Now()) || !rl.NextUpdate.Equal(e.clock.Now().Add(72*time.Hour)) {
		t.Errorf("thisUpdate %v nextUpdate %v, want now and now+72h", rl.ThisUpdate, rl.NextUpdate)
	}
	// The same CRL is served on every path naming the default issuer.
	for _, ref := range []string{"default", "root", "root-2030", "DEFAULT"} {
		if again := e.crl(ref, false, e.ca.cert); again.Number.Cmp(rl.Number) != 0 {
			t.Errorf("CRL via %q has number %v, want %v", ref, again.Number, rl.Number)
		}
	}
	checkWithOpenSSL(t, rl.Raw, e.ca.cert)
}

// checkWithOpenSSL runs `openssl crl` over the PEM CRL, verifying it with
// the issuer, when openssl is installed.
func checkWithOpenSSL(t *testing.T, der []byte, issuer *x509.Certificate) {
	path, err := exec.LookPath("openssl")
	if err != nil {
		t.Log("openssl not installed; skipping the openssl crl check")
		return
	}
	dir := t.TempDir()
	crlFile, caFile := filepath.Join(dir, "crl.pem"), filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(crlFile, []byte(pemCRL(der)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(caFile, []byte(certPEM(issuer)), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(path, "crl", "-in", crlFile, "-CAfile", caFile, "-noout", "-text").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "verify OK") {
		t.Fatalf("openssl crl: %v\n%s", err, out)
	}
}

func TestRevokeAnswers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other := newRoot(t, "Other CA", nil, 365*24*time.Hour)
	live := e.stored(e.ca, t0.Add(time.Hour))
	// A stored certificate with the serial of a presented one, but other bytes.
	clash := e.ca.leaf(t, nil, t0.Add(time.Hour))
	clashTwin := *clash
	clashTwin.Raw = nil
	foreign := other.leaf(t, nil, t0.Add(time.Hour))
	if err := e.space.Update(func(tx storage.Tx) error {
		return tx.Put(records.CertKey(records.FormatSerial(clash.SerialNumber)), live.Raw)
	}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		req     RevokeRequest
		kind    errs.Kind
		wantMsg string
	}{
		{"neither", RevokeRequest{}, errs.Invalid, "The serial number or certificate to revoke must be provided."},
		{"both", RevokeRequest{SerialNumber: ptr("01"), Certificate: ptr(certPEM(live))}, errs.Invalid, "Must provide either the certificate or the serial to revoke; not both."},
		{"empty serial", RevokeRequest{SerialNumber: ptr("")}, errs.Invalid, "The serial number must be provided"},
		{"unknown serial", RevokeRequest{SerialNumber: ptr("de:ad:be:ef")}, errs.Invalid, "certificate with serial de:ad:be:ef not found."},
		// Vault looks any other string up and finds nothing (spec §3.1).
		{"not hex", RevokeRequest{SerialNumber: ptr("zz:top")}, errs.Invalid, "certificate with serial zz:top not found."},
		{"path", RevokeRequest{SerialNumber: ptr("a/b")}, errs.Invalid, `invalid serial number "a/b"`},
		{"crl", RevokeRequest{SerialNumber: ptr("crl")}, errs.Invalid, `invalid serial number "crl"`},
		{"delta-crl", RevokeRequest{SerialNumber: ptr("delta-crl")}, errs.Invalid, `invalid serial number "delta-crl"`},
		{"dot", RevokeRequest{SerialNumber: ptr(".")}, errs.Invalid, `invalid serial number "."`},
		{"dot dot", RevokeRequest{SerialNumber: ptr("..")}, errs.Invalid, `invalid serial number ".."`},
		{"issuer serial", RevokeRequest{SerialNumber: ptr(records.FormatSerial(e.ca.cert.SerialNumber))}, errs.Invalid, "certificate with serial " + records.FormatSerial(e.ca.cert.SerialNumber) + " not found."},
		{"other CA", RevokeRequest{Certificate: ptr(certPEM(foreign))}, errs.Invalid, "unable to verify signature on presented cert from any present issuer in this mount; certificates from previous CAs will need to have their issuing CA and key re-imported if revocation is necessary"},
		{"short PEM", RevokeRequest{Certificate: ptr("-----BEGIN CERTIFICATE-----")}, errs.Invalid, "provided certificate data was too short; perhaps a path was passed to the API rather than the contents of a PEM file"},
		{"not PEM", RevokeRequest{Certificate: ptr(strings.Repeat("x", 100))}, errs.Invalid, "certificate contains no PEM data"},
		{"PEM garbage", RevokeRequest{Certificate: ptr("-----BEGIN CERTIFICATE-----\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n-----END CERTIFICATE-----\n")}, errs.Invalid, "certificate could not be parsed: "},
		// A plain Go error in Vault: a 500 (spec Appendix C).
		{"unequal twin", RevokeRequest{Certificate: ptr(certPEM(clash))}, errs.InvalidVault500, "certificate with same serial but unequal value already present in this cluster's storage; refusing to revoke"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.m.Revoke(context.Background(), tc.req)
			if err == nil || errs.KindOf(err) != tc.kind || !strings.HasPrefix(errs.Message(err), tc.wantMsg) {
				t.Fatalf("err = %v (kind %v), want %v %q", err, errs.KindOf(err), tc.kind, tc.wantMsg)
			}
		})
	}
}

func TestRevokeIssuerSerialRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// The root's own certificate is in the store, as a generated root is.
	if err := e.space.Update(func(tx storage.Tx) error { return records.PutCert(tx, e.ca.cert) }); err != nil {
		t.Fatal(err)
	}
	s := records.FormatSerial(e.ca.cert.SerialNumber)
	_, err := e.m.Revoke(context.Background(), RevokeRequest{SerialNumber: &s})
	if !errors.Is(err, errs.Invalid) || errs.Message(err) != "adding issuer (id: root) to its own CRL is not allowed" {
		t.Fatalf("err = %v", err)
	}
}

func TestRevokeTwiceKeepsTheFirstTime(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cert := e.stored(e.ca, t0.Add(time.Hour))
	first := e.revoke(cert)
	number := e.crl("", false, e.ca.cert).Number
	e.clock.Advance(time.Minute)
	// In hyphen form and upper case: the same certificate.
	s := strings.ToUpper(strings.ReplaceAll(records.FormatSerial(cert.SerialNumber), ":", "-"))
	again, err := e.m.Revoke(context.Background(), RevokeRequest{SerialNumber: &s})
	if err != nil || !again.Time.Equal(first.Time) {
		t.Fatalf("second revoke = %+v, %v; want time %v", again, err, first.Time)
	}
	if n := e.crl("", false, e.ca.cert).Number; n.Cmp(number) != 0 {
		t.Errorf("second revoke rebuilt the CRL: number %v -> %v", number, n)
	}
}

func TestRevokeExpiredOnlyWarns(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cert := e.stored(e.ca, t0.Add(time.Second)) // within Vault's 2 s margin
	res := e.revoke(cert)
	// Vault's words; OpenBao adds a hint about its own option.
	want := "certificate with serial " + records.FormatSerial(cert.SerialNumber) + " already expired; refusing to add to CRL"
	if !res.Time.IsZero() || len(res.Warnings) != 1 || res.Warnings[0] != want {
		t.Fatalf("revoke = %+v, want only the warning %q", res, want)
	}
	if keys, _ := e.m.ListRevoked(context.Background(), "", 0); len(keys) != 0 {
		t.Errorf("revoked list = %v, want empty", keys)
	}
	// With allow_expired_cert_revocation it is revoked.
	if _, _, err := e.m.SetCRLConfig(context.Background(), CRLConfigPatch{AllowExpiredCertRevocation: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if res := e.revoke(cert); res.Time.IsZero() {
		t.Fatalf("revoke with allow_expired_cert_revocation = %+v", res)
	}
}

func TestRevokePresentedCertificate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cert := e.ca.leaf(t, nil, t0.Add(time.Hour)) // no_store: never stored
	res, err := e.m.Revoke(context.Background(), RevokeRequest{Certificate: ptr(certPEM(cert))})
	if err != nil || res.Time.IsZero() {
		t.Fatalf("revoke = %+v, %v", res, err)
	}
	if _, ok := revokedSet(e.crl("", false, e.ca.cert))[records.FormatSerial(cert.SerialNumber)]; !ok {
		t.Error("presented certificate missing from the CRL")
	}
	err = e.space.View(func(tx storage.Tx) error {
		if records.GetCert(tx, records.FormatSerial(cert.SerialNumber)) == nil {
			t.Error("presented certificate was not stored")
		}
		rev, err := GetRevocation(tx, records.FormatSerial(cert.SerialNumber))
		if err != nil || rev == nil || rev.IssuerID != "root" || !rev.Time.Equal(res.Time) {
			t.Errorf("GetRevocation = %+v, %v", rev, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Presenting it again is the same revocation.
	again, err := e.m.Revoke(context.Background(), RevokeRequest{Certificate: ptr(certPEM(cert))})
	if err != nil || !again.Time.Equal(res.Time) {
		t.Fatalf("again = %+v, %v", again, err)
	}
}

func TestRevokeWithKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key := newKey(t)
	cert := e.ca.leaf(t, key, t0.Add(time.Hour))
	if err := e.space.Update(func(tx storage.Tx) error { return records.PutCert(tx, cert) }); err != nil {
		t.Fatal(err)
	}
	keyPEM := func(k any) string {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return string(pemBlock("PRIVATE KEY", der))
	}
	ecDER, _ := x509.MarshalECPrivateKey(key)
	serial := records.FormatSerial(cert.SerialNumber)
	tests := []struct {
		name    string
		key     *string
		kind    errs.Kind
		wantMsg string
	}{
		{"missing", nil, errs.Invalid, "Must have private key to revoke via the /revoke-with-key path."},
		{"short", ptr("-----BEGIN PRIVATE KEY-----"), errs.Invalid, "Provided data for private_key was too short; perhaps a path was passed to the API rather than the contents of a PEM file?"},
		// Vault returns every key error as a Go error: 500s (spec Appendix C).
		{"not a key", ptr(strings.Repeat("k", 80)), errs.InvalidVault500, "provided key PEM block contained no data or failed to parse"},
		{"wrong key", ptr(keyPEM(newKey(t))), errs.InvalidVault500, "provided private key does not match certificate's public key"},
		{"matching SEC 1", ptr(string(pemBlock("EC PRIVATE KEY", ecDER))), errs.Internal, ""},
		{"matching again", ptr(keyPEM(key)), errs.Internal, ""},
	}
	for _, tc := range tests {
		_, err := e.m.Revoke(context.Background(), RevokeRequest{SerialNumber: &serial, PrivateKey: tc.key, WithKey: true})
		switch {
		case tc.wantMsg == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.wantMsg != "" && (errs.KindOf(err) != tc.kind || errs.Message(err) != tc.wantMsg):
			t.Errorf("%s: err = %v (kind %v), want %q", tc.name, err, errs.KindOf(err), tc.wantMsg)
		}
	}
}

func TestListRevoked(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var serials []string
	for range 3 {
		c := e.stored(e.ca, t0.Add(time.Hour))
		e.revoke(c)
		serials = append(serials, records.FormatSerial(c.SerialNumber))
	}
	all, err := e.m.ListRevoked(context.Background(), "", 0)
	if err != nil || len(all) != 3 {
		t.Fatalf("list = %v, %v", all, err)
	}
	slices.Sort(serials)
	if !slices.Equal(all, serials) {
		t.Errorf("list = %v, want the revoked serials %v in order", all, serials)
	}
	for _, after := range []string{all[0], strings.ReplaceAll(all[0], ":", "-")} {
		page, err := e.m.ListRevoked(context.Background(), after, 1)
		if err != nil || len(page) != 1 || page[0] != all[1] {
			t.Errorf("after %s limit 1 = %v, %v; want [%s]", after, page, err, all[1])
		}
	}
}

// TestRevokeUnknownIssuerGoesToDefaultCRL: a stored certificate whose issuer
// is not in the mount is listed on the default issuer's CRL (spec §6.2).
func TestRevokeUnknownIssuerGoesToDefaultCRL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	gone := newRoot(t, "Deleted CA", nil, 365*24*time.Hour)
	cert := e.stored(gone, t0.Add(time.Hour))
	e.revoke(cert)
	if _, ok := revokedSet(e.crl("", false, e.ca.cert))[records.FormatSerial(cert.SerialNumber)]; !ok {
		t.Fatal("unassigned revocation missing from the default CRL")
	}
}
