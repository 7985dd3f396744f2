package crl

import (
	"context"
	"crypto/x509"
	"github.com/pkid-dev/pkid/records"
	"strings"
	"testing"
	"time"

	"github.com/pkid-dev/pkid/storage"
)

func (e *env) tidy(r TidyRequest) TidyStatus {
	e.t.Helper()
	started, ws, err := e.m.StartTidy(r)
	if err != nil || !started {
		e.t.Fatalf("start tidy = %v, %v, %v", started, ws, err)
	}
	return e.waitTidy()
}

func (e *env) waitTidy() TidyStatus {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.m.WaitTidy(ctx); err != nil {
		e.t.Fatal(err)
	}
	s, err := e.m.TidyStatus(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) certStored(c *x509.Certificate) bool {
	var ok bool
	_ = e.space.View(func(tx storage.Tx) error {
		ok = records.GetCert(tx, records.FormatSerial(c.SerialNumber)) != nil
		return nil
	})
	return ok
}

func TestTidyHonoursSafetyBuffer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	expiredA := e.stored(e.ca, t0.Add(time.Hour))
	validB := e.stored(e.ca, t0.Add(10*time.Hour))
	revokedC := e.stored(e.ca, t0.Add(time.Hour))
	revokedD := e.stored(e.ca, t0.Add(100*time.Hour))
	e.revoke(revokedC)
	e.revoke(revokedD)
	r := DefaultTidyRequest()
	r.CertStore, r.RevokedCerts, r.SafetyBuffer = true, true, time.Hour

	e.clock.Set(t0.Add(90 * time.Minute)) // A and C expired 30 min ago: inside the buffer
	if s := e.tidy(r); s.State != TidyFinished || s.CertsDeleted != 0 || s.RevokedDeleted != 0 {
		t.Fatalf("tidy inside the buffer: %+v", s)
	}
	e.clock.Set(t0.Add(3 * time.Hour))
	s := e.tidy(r)
	if s.State != TidyFinished || s.CertsDeleted != 2 || s.RevokedDeleted != 1 {
		t.Fatalf("tidy status = %+v, want 2 certificates and 1 revocation deleted", s)
	}
	for c, want := range map[*x509.Certificate]bool{expiredA: false, validB: true, revokedC: false, revokedD: true} {
		if got := e.certStored(c); got != want {
			t.Errorf("%s stored = %v, want %v", records.FormatSerial(c.SerialNumber), got, want)
		}
	}
	onCRL := revokedSet(e.crl("", false, e.ca.cert))
	if _, ok := onCRL[records.FormatSerial(revokedC.SerialNumber)]; ok || len(onCRL) != 1 {
		t.Errorf("CRL after tidy = %v, want only %s", onCRL, records.FormatSerial(revokedD.SerialNumber))
	}
	if keys, _ := e.m.ListRevoked(ctx, "", 0); len(keys) != 1 {
		t.Errorf("revoked list = %v", keys)
	}
	if set := s.Settings(); s.State != TidyFinished || set.Safety != time.Hour || set.Pause != 0 || s.Finished.IsZero() {
		t.Errorf("status %+v, settings %+v", s, set)
	}
}

// TestTidyRevokedOnly: the revocation pass alone removes expired
// revocations (and their certificates) and the CRL is rebuilt without them.
func TestTidyRevokedOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	old := e.stored(e.ca, t0.Add(time.Hour))
	e.revoke(old)
	r := DefaultTidyRequest()
	r.TidyRevocationList = true // the deprecated alias
	e.clock.Set(t0.Add(time.Hour + 73*time.Hour))
	s := e.tidy(r)
	// Vault counts only the revocation, though the certificate goes too.
	if s.RevokedDeleted != 1 || s.CertsDeleted != 0 || e.certStored(old) {
		t.Fatalf("status %+v, still stored %v", s, e.certStored(old))
	}
	if got := revokedSet(e.crl("", false, e.ca.cert)); len(got) != 0 {
		t.Errorf("CRL still lists %v", got)
	}
}

func TestTidyIssuerAssociations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	late := newRoot(t, "Late CA", nil, 365*24*time.Hour)
	cert := e.stored(late, t0.Add(time.Hour))
	e.revoke(cert) // late is not an issuer yet: unassigned
	e.src.add(late.issuer("late", "late"), false)
	r := DefaultTidyRequest()
	r.IssuerAssocs = true
	s := e.tidy(r)
	if s.MissingIssuerCerts != 1 {
		t.Fatalf("missing_issuer_cert_count = %d", s.MissingIssuerCerts)
	}
	_ = e.space.View(func(tx storage.Tx) error {
		rev, _ := GetRevocation(tx, records.FormatSerial(cert.SerialNumber))
		if rev == nil || rev.IssuerID != "late" {
			t.Errorf("revocation = %+v, want issuer late", rev)
		}
		return nil
	})
	if _, err := e.m.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := revokedSet(e.crl("late", false, late.cert))[records.FormatSerial(cert.SerialNumber)]; !ok {
		t.Error("re-associated revocation missing from its issuer's CRL")
	}
	if got := revokedSet(e.crl("root", false, e.ca.cert)); len(got) != 0 {
		t.Errorf("default CRL still lists %v", got)
	}
	if s := e.tidy(r); s.MissingIssuerCerts != 0 {
		t.Errorf("second run found %d missing", s.MissingIssuerCerts)
	}
}

func TestTidyExpiredIssuers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	old := newRoot(t, "Old", nil, time.Hour)
	oldDefault := newRoot(t, "Old default", nil, time.Hour)
	e.src.add(old.issuer("old", "old"), false)
	e.src.add(oldDefault.issuer("old-default", ""), true)
	r := DefaultTidyRequest()
	r.ExpiredIssuers, r.IssuerSafetyBuffer = true, time.Hour
	e.clock.Set(t0.Add(90 * time.Minute))
	e.tidy(r)
	if len(e.src.deleted) != 0 {
		t.Fatalf("deleted inside the buffer: %v", e.src.deleted)
	}
	e.clock.Set(t0.Add(3 * time.Hour))
	e.tidy(r)
	if strings.Join(e.src.deleted, ",") != "old" {
		t.Errorf("deleted = %v, want only old (the default is kept)", e.src.deleted)
	}
}

func TestAutoTidyRunsOnItsInterval(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	cert := e.stored(e.ca, t0.Add(time.Minute))
	_, err := e.m.SetAutoTidyConfig(ctx, AutoTidyPatch{Enabled: ptr(true), CertStore: ptr(true),
		Interval: ptr(time.Hour), SafetyBuffer: ptr(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(30 * time.Minute)
	e.m.Periodic(ctx)
	if s := e.waitTidy(); s.State != TidyInactive {
		t.Fatalf("auto-tidy ran before its interval: %+v", s)
	}
	e.clock.Advance(31 * time.Minute)
	e.m.Periodic(ctx)
	s := e.waitTidy()
	if s.State != TidyFinished || s.CertsDeleted != 1 || e.certStored(cert) {
		t.Fatalf("auto-tidy: %+v", s)
	}
	// The next run is an interval after this one finished.
	started := s.Started
	e.clock.Advance(59 * time.Minute)
	e.m.Periodic(ctx)
	if s := e.waitTidy(); !s.Started.Equal(started) {
		t.Fatalf("auto-tidy ran again after 59 min")
	}
	e.clock.Advance(2 * time.Minute)
	e.m.Periodic(ctx)
	if s := e.waitTidy(); s.Started.Equal(started) {
		t.Fatal("auto-tidy did not run again")
	}
}

func TestTidyCancelAndBusy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for range 3 {
		e.stored(e.ca, t0.Add(time.Minute))
	}
	e.clock.Advance(time.Hour)
	if e.m.CancelTidy() {
		t.Fatal("cancelled a tidy that was not running")
	}
	r := DefaultTidyRequest()
	r.CertStore, r.SafetyBuffer, r.PauseDuration = true, time.Second, "1h"
	started, ws, err := e.m.StartTidy(r)
	if err != nil || !started || ws[0] != "Tidy operation successfully started. Any information from the operation will be printed to Vault's server logs." {
		t.Fatalf("start = %v %v %v", started, ws, err)
	}
	if started, ws, _ := e.m.StartTidy(r); started || ws[0] != "Tidy operation already in progress." {
		t.Fatalf("second start = %v %v", started, ws)
	}
	if !e.m.CancelTidy() {
		t.Fatal("cancel found nothing running")
	}
	if s := e.waitTidy(); s.State != TidyCancelled || s.CertsDeleted != 0 {
		t.Fatalf("after cancel: %+v", s)
	}
	started, ws, _ = e.m.StartTidy(DefaultTidyRequest())
	if !started || !strings.HasPrefix(ws[0], "Manual tidy requested but no tidy operations were set.") {
		t.Errorf("no-op tidy = %v %v", started, ws)
	}
	e.waitTidy()
}

func TestTidyRequestValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(*TidyRequest)
		want string
	}{
		{"zero safety", func(r *TidyRequest) { r.SafetyBuffer = 0 }, "safety_buffer must be greater than zero"},
		{"zero revoked", func(r *TidyRequest) { r.RevokedSafetyBuffer = ptr(time.Duration(0)) }, "revokedSafetyBuffer must be greater than zero"},
		{"zero issuer", func(r *TidyRequest) { r.IssuerSafetyBuffer = 0 }, "issuer_safety_buffer must be greater than zero"},
		{"bad pause", func(r *TidyRequest) { r.PauseDuration = "soon" }, `Error parsing pause_duration: time: invalid duration "soon"`},
		{"negative pause", func(r *TidyRequest) { r.PauseDuration = "-1s" }, "received invalid, negative pause_duration"},
		{"tiny page", func(r *TidyRequest) { r.PageSize = 3 }, "page_size must be greater than five"},
	}
	for _, tc := range tests {
		r := DefaultTidyRequest()
		tc.edit(&r)
		if _, err := r.run(); err == nil || err.Error() != tc.want {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestCertNotAfter(t *testing.T) {
	t.Parallel()
	ca := newRoot(t, "x", nil, time.Hour)
	for _, na := range []time.Time{t0.Add(time.Hour), time.Date(2060, 5, 6, 7, 8, 9, 0, time.UTC)} {
		c := ca.leaf(t, nil, na)
		if got, ok := certNotAfter(c.Raw); !ok || !got.Equal(na) {
			t.Errorf("certNotAfter = %v %v, want %v", got, ok, na)
		}
	}
	if _, ok := certNotAfter([]byte("junk")); ok {
		t.Error("junk has a NotAfter")
	}
}

func FuzzCertNotAfter(f *testing.F) {
	ca := newRoot(f, "x", nil, time.Hour)
	f.Add(ca.cert.Raw)
	f.Add([]byte{0x30, 0x00})
	f.Fuzz(func(t *testing.T, der []byte) {
		got, ok := certNotAfter(der)
		if c, err := x509.ParseCertificate(der); err == nil && (!ok || !got.Equal(c.NotAfter)) {
			t.Fatalf("certNotAfter = %v %v, x509 says %v", got, ok, c.NotAfter)
		}
	})
}

// TestAutoTidyTiming: Vault's auto-tidy waits a startup backoff after the
// mount loads, counts its interval from when it was turned on, never runs
// with an interval of zero, and keeps its last run across restarts
// (path_tidy.go, backend.go periodicFunc).
func TestAutoTidyTiming(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.clock.Advance(3 * time.Hour) // long after the mount loaded at t0
	_, err := e.m.SetAutoTidyConfig(ctx, AutoTidyPatch{Enabled: ptr(true), CertStore: ptr(true),
		Interval: ptr(time.Minute), MinBackoff: ptr(time.Second), MaxBackoff: ptr(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	enabledAt := e.clock.Now()
	if s, _ := e.m.TidyStatus(ctx); !s.LastTidy.Equal(enabledAt) {
		t.Errorf("last tidy = %v, want the time auto-tidy was enabled %v", s.LastTidy, enabledAt)
	}
	steps := []struct {
		name    string
		advance time.Duration
		patch   *AutoTidyPatch
		restart bool
		runs    bool
	}{
		{"interval not yet over since enabling", 30 * time.Second, nil, false, false},
		{"interval over", 31 * time.Second, nil, false, true},
		{"restart: still within the new mount's backoff", 2 * time.Minute, &AutoTidyPatch{MinBackoff: ptr(10 * time.Minute), MaxBackoff: ptr(10 * time.Minute)}, true, false},
		{"backoff over", 10 * time.Minute, nil, false, true},
		{"interval zero", 0, &AutoTidyPatch{Interval: ptr(time.Duration(0))}, false, false},
		{"interval zero, much later", 48 * time.Hour, nil, false, false},
	}
	last := e.waitTidy().Started
	for _, st := range steps {
		if st.patch != nil {
			if _, err := e.m.SetAutoTidyConfig(ctx, *st.patch); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
		}
		if st.restart {
			before, _ := e.m.TidyStatus(ctx)
			e.m.Close()
			e.m = e.newManager()
			s, _ := e.m.TidyStatus(ctx)
			if !s.LastTidy.Equal(before.LastTidy) {
				t.Errorf("%s: last tidy %v after restart, want %v", st.name, s.LastTidy, before.LastTidy)
			}
			last = s.Started // the status itself starts over
		}
		e.clock.Advance(st.advance)
		e.m.Periodic(ctx)
		s := e.waitTidy()
		if ran := !s.Started.Equal(last); ran != st.runs {
			t.Fatalf("%s: ran = %v, want %v (%+v)", st.name, ran, st.runs, s)
		}
		last = s.Started
	}
}
