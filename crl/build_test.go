package crl

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"github.com/pkid-dev/pkid/records"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/pkid-dev/pkid/storage"
)

func TestNextUpdateFollowsExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, _, err := e.m.SetCRLConfig(context.Background(), CRLConfigPatch{Expiry: ptr("36h")}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(5 * time.Hour)
	if _, err := e.m.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	rl := e.crl("", false, e.ca.cert)
	if want := t0.Add(5 * time.Hour); !rl.ThisUpdate.Equal(want) || !rl.NextUpdate.Equal(want.Add(36*time.Hour)) {
		t.Fatalf("thisUpdate %v nextUpdate %v, want %v and +36h", rl.ThisUpdate, rl.NextUpdate, want)
	}
}

// TestAutoRebuild: with auto_rebuild a revoke builds nothing; the periodic
// function rebuilds once the CRL is within the grace period of nextUpdate.
func TestAutoRebuild(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	if _, _, err := e.m.SetCRLConfig(ctx, CRLConfigPatch{AutoRebuild: ptr(true), Expiry: ptr("48h"), AutoRebuildGracePeriod: ptr("12h")}); err != nil {
		t.Fatal(err)
	}
	before := e.crl("", false, e.ca.cert)
	cert := e.stored(e.ca, t0.Add(100*time.Hour))
	e.revoke(cert)
	e.m.Periodic(ctx)
	after := e.crl("", false, e.ca.cert)
	if after.Number.Cmp(before.Number) != 0 || len(after.RevokedCertificateEntries) != 0 {
		t.Fatalf("CRL changed on revoke under auto_rebuild: #%v -> #%v, %d entries", before.Number, after.Number, len(after.RevokedCertificateEntries))
	}
	e.clock.Advance(35 * time.Hour) // 13h before nextUpdate: not yet
	e.m.Periodic(ctx)
	if n := e.crl("", false, e.ca.cert).Number; n.Cmp(before.Number) != 0 {
		t.Fatalf("rebuilt before the grace period: #%v", n)
	}
	e.clock.Advance(2 * time.Hour) // 11h before nextUpdate
	e.m.Periodic(ctx)
	rebuilt := e.crl("", false, e.ca.cert)
	if rebuilt.Number.Cmp(before.Number) <= 0 {
		t.Fatalf("not rebuilt within the grace period: #%v", rebuilt.Number)
	}
	if _, ok := revokedSet(rebuilt)[records.FormatSerial(cert.SerialNumber)]; !ok {
		t.Error("auto-rebuilt CRL lacks the revocation")
	}
	if want := e.clock.Now().Add(48 * time.Hour); !rebuilt.NextUpdate.Equal(want) {
		t.Errorf("nextUpdate = %v, want %v", rebuilt.NextUpdate, want)
	}
}

func TestDeltaCRL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	if _, _, err := e.m.SetCRLConfig(ctx, CRLConfigPatch{AutoRebuild: ptr(true), EnableDelta: ptr(true), DeltaRebuildInterval: ptr("15m")}); err != nil {
		t.Fatal(err)
	}
	full := e.crl("", false, e.ca.cert)
	cert := e.stored(e.ca, t0.Add(100*time.Hour))
	e.revoke(cert)
	e.clock.Advance(10 * time.Minute)
	e.m.Periodic(ctx)
	if d := e.crl("", true, e.ca.cert); len(d.RevokedCertificateEntries) != 0 {
		t.Fatal("delta rebuilt before delta_rebuild_interval")
	}
	e.clock.Advance(6 * time.Minute)
	e.m.Periodic(ctx)
	delta := e.crl("", true, e.ca.cert)
	if _, ok := revokedSet(delta)[records.FormatSerial(cert.SerialNumber)]; !ok {
		t.Fatal("delta CRL lacks the new revocation")
	}
	if base := deltaBase(t, delta); base != full.Number.Int64() {
		t.Errorf("delta CRL indicator = %d, want the complete CRL's number %v", base, full.Number)
	}
	if delta.Number.Cmp(full.Number) <= 0 {
		t.Errorf("delta number %v not above complete %v", delta.Number, full.Number)
	}
	if n := e.crl("", false, e.ca.cert).Number; n.Cmp(full.Number) != 0 {
		t.Errorf("complete CRL rebuilt by the delta: #%v", n)
	}
	// A forced complete build takes the revocation in and empties the delta.
	if _, err := e.m.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	complete := e.crl("", false, e.ca.cert)
	after := e.crl("", true, e.ca.cert)
	if _, ok := revokedSet(complete)[records.FormatSerial(cert.SerialNumber)]; !ok || len(after.RevokedCertificateEntries) != 0 {
		t.Errorf("after rotate: complete has it %v, delta entries %d", ok, len(after.RevokedCertificateEntries))
	}
	if deltaBase(t, after) != complete.Number.Int64() || after.Number.Int64() != complete.Number.Int64()+1 {
		t.Errorf("numbers: complete %v, delta %v base %d", complete.Number, after.Number, deltaBase(t, after))
	}
	if ws, err := e.m.RebuildDelta(ctx); err != nil || len(ws) != 0 {
		t.Errorf("rotate-delta = %v, %v", ws, err)
	}
}

func deltaBase(t *testing.T, rl *x509.RevocationList) int64 {
	t.Helper()
	for _, ext := range rl.Extensions {
		if ext.Id.Equal(oidDeltaCRLIndicator) {
			if !ext.Critical {
				t.Error("delta CRL indicator is not critical")
			}
			var n int64
			if _, err := asn1.Unmarshal(ext.Value, &n); err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no delta CRL indicator")
	return 0
}

func TestCRLNumbersIncreaseAndSurviveRestart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	var last int64
	check := func(what string) {
		t.Helper()
		full, delta := e.crl("", false, e.ca.cert), e.crl("", true, e.ca.cert)
		if full.Number.Int64() <= last || delta.Number.Int64() <= full.Number.Int64() {
			t.Fatalf("%s: numbers complete %v delta %v after %d", what, full.Number, delta.Number, last)
		}
		last = delta.Number.Int64()
	}
	check("first build")
	e.revoke(e.stored(e.ca, t0.Add(time.Hour)))
	check("revoke")
	if _, err := e.m.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	check("rotate")
	e.m.Close()
	e.m = e.newManager()
	if _, err := e.m.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	check("after restart")
}

// TestDisable: disabling forces one last, empty CRL with a new number
// (spec Appendix C) and then nothing is rebuilt, not even on revoke.
func TestDisable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.revoke(e.stored(e.ca, t0.Add(time.Hour)))
	before := e.crl("", false, e.ca.cert)
	if _, _, err := e.m.SetCRLConfig(ctx, CRLConfigPatch{Disable: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	empty := e.crl("", false, e.ca.cert)
	if empty.Number.Cmp(before.Number) <= 0 || len(empty.RevokedCertificateEntries) != 0 {
		t.Fatalf("after disable: #%v with %d entries", empty.Number, len(empty.RevokedCertificateEntries))
	}
	e.revoke(e.stored(e.ca, t0.Add(time.Hour)))
	if ws, err := e.m.Rotate(ctx); err != nil || len(ws) != 0 {
		t.Fatalf("rotate = %v, %v", ws, err)
	}
	if n := e.crl("", false, e.ca.cert).Number; n.Cmp(empty.Number) != 0 {
		t.Errorf("disabled CRL rebuilt: #%v", n)
	}
	if _, _, err := e.m.SetCRLConfig(ctx, CRLConfigPatch{Disable: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	if got := len(e.crl("", false, e.ca.cert).RevokedCertificateEntries); got != 2 {
		t.Errorf("re-enabled CRL has %d entries, want 2", got)
	}
}

func TestPerIssuerCRLs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	second := newRoot(t, "Second Root", nil, 365*24*time.Hour)
	e.src.add(second.issuer("second", "second-root"), false)
	// A reissue of the default root: same key, same subject, one CRL.
	reissue := newRoot(t, "Test Root", e.ca.key, 20*365*24*time.Hour)
	e.src.add(Issuer{ID: "reissue", Cert: reissue.cert, KeyID: "key-root", Signer: e.ca.key, CRLSigning: true}, false)
	// A keyless import has no CRL.
	keyless := newRoot(t, "Imported", nil, 365*24*time.Hour)
	e.src.add(Issuer{ID: "keyless", Cert: keyless.cert}, false)
	if _, err := e.m.Rebuild(ctx, true); err != nil {
		t.Fatal(err)
	}
	a, b := e.stored(e.ca, t0.Add(time.Hour)), e.stored(second, t0.Add(time.Hour))
	e.revoke(a)
	e.revoke(b)
	onRoot := revokedSet(e.crl("root", false, e.ca.cert))
	onSecond := revokedSet(e.crl("second-root", false, second.cert))
	onReissue := revokedSet(e.crl("reissue", false, reissue.cert))
	sa, sb := records.FormatSerial(a.SerialNumber), records.FormatSerial(b.SerialNumber)
	if _, ok := onRoot[sa]; !ok || len(onRoot) != 1 {
		t.Errorf("root CRL = %v, want only %s", onRoot, sa)
	}
	if _, ok := onSecond[sb]; !ok || len(onSecond) != 1 {
		t.Errorf("second CRL = %v, want only %s", onSecond, sb)
	}
	if _, ok := onReissue[sa]; !ok {
		t.Errorf("reissue CRL = %v, want the root's", onReissue)
	}
	if der, err := e.m.FetchCRL(ctx, "", false); der == nil || err != nil {
		t.Errorf("default issuer CRL = %d bytes, %v", len(der), err)
	}
	for ref, want := range map[string]string{
		"nope": "unable to find PKI issuer for reference: nope",
		// Vault's resolveIssuerCRLPath: a keyless issuer has no CRL.
		"keyless": "unable to find CRL for issuer: id:keyless/ref:keyless",
	} {
		if _, err := e.m.FetchCRL(ctx, ref, false); err == nil || err.Error() != want {
			t.Errorf("FetchCRL(%q) = %v, want %q", ref, err, want)
		}
	}
	e.src.mu.Lock()
	e.src.defaultID = ""
	e.src.mu.Unlock()
	if der, err := e.m.FetchCRL(ctx, "", false); der != nil || err != nil {
		t.Errorf("legacy CRL with no default = %d bytes, %v", len(der), err)
	}
	if _, err := e.m.FetchCRL(ctx, "default", false); err == nil || err.Error() != "no default issuer currently configured" {
		t.Errorf("issuer/default with no default: %v", err)
	}
}

// TestRevokedIssuerOnParentCRL: a revoked intermediate is listed on its
// parent's CRL, never on its own (spec §3.2 issuer revoke, §6.3).
func TestRevokedIssuerOnParentCRL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	inter := e.ca.sub(t, "Intermediate")
	e.src.add(inter.issuer("inter", "inter"), false)
	if err := e.space.Update(func(tx storage.Tx) error { return records.PutCert(tx, inter.cert) }); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(time.Minute)
	e.src.edit("inter", func(i *Issuer) { i.Revoked, i.RevokedAt = true, at })
	if err := e.space.Update(func(tx storage.Tx) error { return e.m.RecordIssuerRevocation(tx, inter.cert, at) }); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Rebuild(ctx, true); err != nil {
		t.Fatal(err)
	}
	s := records.FormatSerial(inter.cert.SerialNumber)
	onRoot := revokedSet(e.crl("root", false, e.ca.cert))
	if got, ok := onRoot[s]; !ok || !got.Equal(at) || len(onRoot) != 1 {
		t.Errorf("root CRL = %v, want only %s at %v", onRoot, s, at)
	}
	if own := revokedSet(e.crl("inter", false, inter.cert)); len(own) != 0 {
		t.Errorf("intermediate lists itself: %v", own)
	}
	if keys, _ := e.m.ListRevoked(ctx, "", 0); len(keys) != 1 || keys[0] != s {
		t.Errorf("revoked list = %v", keys)
	}
}

// TestIncrementalMatchesFullBuild: the CRL a revoke builds from its cached
// entries lists exactly what a full build from storage lists, including
// when other changes (auto-rebuild revokes, tidy) interleave.
func TestIncrementalMatchesFullBuild(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var certs []*x509.Certificate
	for range 40 {
		certs = append(certs, e.stored(e.ca, t0.Add(time.Hour)))
	}
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := i; j < len(certs); j += 4 {
				s := records.FormatSerial(certs[j].SerialNumber)
				if _, err := e.m.Revoke(ctx, RevokeRequest{SerialNumber: &s}); err != nil {
					t.Error(err)
				}
				if j == 17 {
					mu.Lock()
					_, _, err := e.m.SetCRLConfig(ctx, CRLConfigPatch{AutoRebuild: ptr(true)})
					mu.Unlock()
					if err != nil {
						t.Error(err)
					}
				}
				if j == 25 {
					mu.Lock()
					_, _, err := e.m.SetCRLConfig(ctx, CRLConfigPatch{AutoRebuild: ptr(false)})
					mu.Unlock()
					if err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	last := e.stored(e.ca, t0.Add(time.Hour))
	e.revoke(last) // incremental, possibly from a cache
	incremental := revokedSet(e.crl("", false, e.ca.cert))
	if _, err := e.m.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	full := revokedSet(e.crl("", false, e.ca.cert))
	if len(full) != len(certs)+1 {
		t.Fatalf("full build lists %d, want %d", len(full), len(certs)+1)
	}
	for s, at := range full {
		if got, ok := incremental[s]; !ok || !got.Equal(at) {
			t.Errorf("incremental CRL: %s = %v, %v; full build says %v", s, got, ok, at)
		}
	}
	if len(incremental) != len(full) {
		t.Errorf("incremental lists %d, full %d", len(incremental), len(full))
	}
}

// TestSignatureAlgorithms: the CRL encoder's output parses and verifies for
// every key type and algorithm Vault can configure.
func TestSignatureAlgorithms(t *testing.T) {
	t.Parallel()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	tests := []struct {
		name string
		key  crypto.Signer
		alg  x509.SignatureAlgorithm
		want x509.SignatureAlgorithm
	}{
		{"P-256 default", newKey(t), 0, x509.ECDSAWithSHA256},
		{"P-384 default", p384, 0, x509.ECDSAWithSHA384},
		{"P-521 default", p521, 0, x509.ECDSAWithSHA512},
		{"P-256 SHA-512", newKey(t), x509.ECDSAWithSHA512, x509.ECDSAWithSHA512},
		{"RSA default", rsaKey, 0, x509.SHA256WithRSA},
		{"RSA SHA-384", rsaKey, x509.SHA384WithRSA, x509.SHA384WithRSA},
		{"RSA-PSS SHA-256", rsaKey, x509.SHA256WithRSAPSS, x509.SHA256WithRSAPSS},
		{"RSA-PSS SHA-512", rsaKey, x509.SHA512WithRSAPSS, x509.SHA512WithRSAPSS},
		{"Ed25519", edKey, 0, x509.PureEd25519},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ca := newRoot(t, "Alg CA", tc.key, time.Hour)
			var entries []byte
			want := map[string]time.Time{}
			for i, n := range []*big.Int{big.NewInt(0), big.NewInt(0x80), new(big.Int).Lsh(big.NewInt(1), 159)} {
				at := t0.Add(time.Duration(i) * time.Minute)
				if i == 2 {
					at = time.Date(2051, 1, 1, 0, 0, 0, 0, time.UTC) // GeneralizedTime
				}
				entries = appendEntry(entries, n.Bytes(), at)
				want[records.FormatSerial(n)] = at
			}
			der, err := signCRL(rand.Reader, crlParams{issuer: ca.cert, signer: tc.key, sigAlg: tc.alg, number: 7,
				thisUpdate: t0, nextUpdate: t0.Add(time.Hour), freshest: []string{"http://example.com/delta"}}, entries)
			if err != nil {
				t.Fatal(err)
			}
			rl, err := x509.ParseRevocationList(der)
			if err != nil {
				t.Fatal(err)
			}
			if err := rl.CheckSignatureFrom(ca.cert); err != nil {
				t.Fatal(err)
			}
			if rl.SignatureAlgorithm != tc.want || rl.Number.Int64() != 7 || !rl.NextUpdate.Equal(t0.Add(time.Hour)) {
				t.Errorf("alg %v number %v nextUpdate %v", rl.SignatureAlgorithm, rl.Number, rl.NextUpdate)
			}
			if fmt.Sprint(revokedSet(rl)) != fmt.Sprint(want) {
				t.Errorf("entries = %v, want %v", revokedSet(rl), want)
			}
			if len(rl.AuthorityKeyId) == 0 || string(rl.AuthorityKeyId) != string(ca.cert.SubjectKeyId) {
				t.Errorf("AKI %x, want %x", rl.AuthorityKeyId, ca.cert.SubjectKeyId)
			}
		})
	}
	// An algorithm that does not suit the key is refused.
	_, err = signCRL(rand.Reader, crlParams{issuer: newRoot(t, "x", nil, time.Hour).cert, signer: newKey(t), sigAlg: x509.SHA256WithRSA}, nil)
	if err == nil {
		t.Error("ECDSA key accepted SHA256WithRSA")
	}
}

// TestEncoderMatchesGo: for an ordinary CRL the hand encoder produces what
// x509.CreateRevocationList produces, byte for byte up to the signature.
func TestEncoderMatchesGo(t *testing.T) {
	t.Parallel()
	ca := newRoot(t, "Compare CA", nil, time.Hour)
	entries := []x509.RevocationListEntry{
		{SerialNumber: big.NewInt(12345), RevocationTime: t0},
		{SerialNumber: new(big.Int).SetBytes([]byte{0xff, 1, 2}), RevocationTime: t0.Add(time.Second)},
	}
	var blob []byte
	for _, en := range entries {
		blob = appendEntry(blob, en.SerialNumber.Bytes(), en.RevocationTime)
	}
	ours, err := signCRL(rand.Reader, crlParams{issuer: ca.cert, signer: ca.key, number: 3, thisUpdate: t0, nextUpdate: t0.Add(time.Hour)}, blob)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(3), ThisUpdate: t0, NextUpdate: t0.Add(time.Hour), RevokedCertificateEntries: entries,
	}, ca.cert, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := x509.ParseRevocationList(ours)
	b, _ := x509.ParseRevocationList(theirs)
	if string(a.RawTBSRevocationList) != string(b.RawTBSRevocationList) {
		t.Errorf("TBS differs:\nours   %x\ntheirs %x", a.RawTBSRevocationList, b.RawTBSRevocationList)
	}
}

func TestMissingIssuerWarning(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.src.edit("root", func(i *Issuer) { i.CRLSigning = false })
	ws, err := e.m.Rotate(context.Background())
	if err != nil || len(ws) != 1 || ws[0] != "Warning 1 during CRL rebuild: warning from local CRL rebuild: Issuer equivalency set with associated keys lacked an issuer with CRL Signing KeyUsage; refusing to rebuild CRL for this group of issuers: root" {
		t.Fatalf("rotate = %q, %v", ws, err)
	}
	cert := e.stored(e.ca, t0.Add(time.Hour))
	if res := e.revoke(cert); len(res.Warnings) != 1 {
		t.Errorf("revoke warnings = %q", res.Warnings)
	}
}

// TestDeletedIssuerEntriesMoveToDefault: once an issuer is gone, its
// revocations are listed on the default issuer's CRL (spec §6.2), also by
// a revoke's incremental build.
func TestDeletedIssuerEntriesMoveToDefault(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	second := newRoot(t, "Second", nil, 365*24*time.Hour)
	e.src.add(second.issuer("second", ""), false)
	orphan := e.stored(second, t0.Add(time.Hour))
	e.revoke(orphan)
	first := e.stored(e.ca, t0.Add(time.Hour))
	e.revoke(first) // the default CRL's entries are now cached
	if _, err := e.src.DeleteIssuer(ctx, "second"); err != nil {
		t.Fatal(err)
	}
	e.revoke(e.stored(e.ca, t0.Add(time.Hour)))
	got := revokedSet(e.crl("", false, e.ca.cert))
	if _, ok := got[records.FormatSerial(orphan.SerialNumber)]; !ok || len(got) != 3 {
		t.Fatalf("default CRL = %v, want 3 entries with the deleted issuer's", got)
	}
}
