package api

import (
	"bytes"
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// lifeBackend counts the work done on its mount outside the mount's own
// routes: periodic runs and lease revocations through sys/leases.
type lifeBackend struct {
	emptyBackend
	periodics, revokes *atomic.Int32
}

func (b lifeBackend) periodic(context.Context) { b.periodics.Add(1) }

func (b lifeBackend) revokeLease(context.Context, string) error {
	b.revokes.Add(1)
	return nil
}

func (b lifeBackend) leaseTimes(context.Context, string) (time.Time, time.Time, bool, error) {
	return time.Time{}, time.Time{}, false, nil
}

// addLifeMount mounts a lifeBackend at path and returns it with its mount.
func addLifeMount(srv *Server, path string) (lifeBackend, *mount) {
	b := lifeBackend{periodics: &atomic.Int32{}, revokes: &atomic.Int32{}}
	return b, srv.addTestMount(path, b)
}

// markDisabled is disableMount's first step, with the mount still in the
// table: the state a caller that looked the mount up just before the
// disable sees.
func markDisabled(m *mount) {
	m.life.mu.Lock()
	m.life.gone = true
	m.life.mu.Unlock()
}

func TestPeriodicSkipsDisabledMount(t *testing.T) {
	srv, _ := newTestServerWith(t, &bytes.Buffer{}, -1) // it counts its own RunPeriodic calls
	b, m := addLifeMount(srv, "life/")
	srv.RunPeriodic(context.Background())
	if n := b.periodics.Load(); n != 1 {
		t.Fatalf("periodic ran %d times on a live mount, want 1", n)
	}
	markDisabled(m)
	srv.RunPeriodic(context.Background())
	if n := b.periodics.Load(); n != 1 {
		t.Fatalf("periodic ran on a disabled mount (%d runs)", n)
	}
}

func TestLeaseRevokeSkipsDisabledMount(t *testing.T) {
	srv, hs := newTestServer(t, &bytes.Buffer{})
	b, m := addLifeMount(srv, "leased/")
	body := `{"lease_id":"leased/issue/web/01-02"}`
	if resp, text := do(t, "PUT", hs.URL+"/v1/sys/leases/revoke", body); resp.StatusCode != 204 {
		t.Fatalf("revoke: %d %s", resp.StatusCode, text)
	}
	if n := b.revokes.Load(); n != 1 {
		t.Fatalf("lease revoked %d times on a live mount, want 1", n)
	}
	markDisabled(m)
	if resp, text := do(t, "PUT", hs.URL+"/v1/sys/leases/revoke", body); resp.StatusCode != 204 {
		t.Fatalf("revoke on a disabled mount: %d %s", resp.StatusCode, text)
	}
	if n := b.revokes.Load(); n != 1 {
		t.Fatalf("lease revoked on a disabled mount (%d revocations)", n)
	}
	if resp, _ := do(t, "PUT", hs.URL+"/v1/sys/leases/lookup", body); resp.StatusCode != 400 {
		t.Fatalf("lookup on a disabled mount: %d, want 400 invalid lease", resp.StatusCode)
	}
}

func TestTuneDoesNotRestoreDisabledMount(t *testing.T) {
	srv, _ := newTestServer(t, &bytes.Buffer{})
	if err := srv.enableMount(MountEntry{Kind: kindSecret, Path: "tuned/", Type: "pki"}); err != nil {
		t.Fatal(err)
	}
	e, _ := srv.mountEntry("tuned/")
	describe := func(e *MountEntry) error { e.Description = "tuned"; return nil }
	if err := srv.modifyMountEntry(e, describe); err != nil {
		t.Fatalf("tune of a live mount: %v", err)
	}
	if got, _ := srv.mountEntry("tuned/"); got.Description != "tuned" {
		t.Fatalf("tune not applied: %+v", got)
	}
	// The tune read the entry, then the mount was disabled (and maybe
	// enabled again, with a new UUID) before the tune stored it.
	if err := srv.disableMount("tuned/"); err != nil {
		t.Fatal(err)
	}
	if err := srv.modifyMountEntry(e, describe); err == nil {
		t.Fatal("tune of a disabled mount succeeded")
	}
	if err := srv.enableMount(MountEntry{Kind: kindSecret, Path: "tuned/", Type: "pki"}); err != nil {
		t.Fatal(err)
	}
	if err := srv.modifyMountEntry(e, describe); err == nil {
		t.Fatal("tune of a replaced mount succeeded")
	}
	srv.mu.Lock()
	srv.mounts = map[string]*mount{}
	srv.mu.Unlock()
	if err := srv.loadMounts(); err != nil {
		t.Fatal(err)
	}
	if got, ok := srv.mountEntry("tuned/"); !ok || got.UUID == e.UUID || got.Description == "tuned" {
		t.Fatalf("stored table holds the old mount: %+v", got)
	}
}
