package api

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkid-dev/pkid/storage"
)

// TestInvalidateSyncsMounts: two servers on one store, as two replicas on
// one etcd cluster; a mount enabled, tuned or disabled on one reaches the
// other's table once the watch reports the record.
func TestInvalidateSyncsMounts(t *testing.T) {
	st := storage.OpenMemory()
	t.Cleanup(func() { _ = st.Close() })
	newServer := func() *Server {
		s, err := New(Config{Store: st, PeriodicInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		return s
	}
	a, b := newServer(), newServer()
	if err := a.enableMount(MountEntry{Kind: kindSecret, Path: "pki/", Type: "pki"}); err != nil {
		t.Fatal(err)
	}
	if b.lookupMount("pki/issue/web") != nil {
		t.Fatal("b sees the mount before any invalidation")
	}
	if err := b.Invalidate("sys", mountPrefix+"pki/"); err != nil {
		t.Fatal(err)
	}
	ea, _ := a.mountEntry("pki/")
	eb, ok := b.mountEntry("pki/")
	if !ok || eb.UUID != ea.UUID {
		t.Fatalf("b's entry = %+v, %v; want a's UUID %s", eb, ok, ea.UUID)
	}

	if err := a.modifyMountEntry(ea, func(e *MountEntry) error { e.Description = "tuned"; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := b.Invalidate("", ""); err != nil { // a watch that was down
		t.Fatal(err)
	}
	if eb, _ := b.mountEntry("pki/"); eb.Description != "tuned" {
		t.Fatalf("b's description = %q after a tune", eb.Description)
	}

	if err := a.disableMount("pki/"); err != nil {
		t.Fatal(err)
	}
	if err := b.Invalidate("sys", mountPrefix+"pki/"); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.mountEntry("pki/"); ok {
		t.Fatal("b still serves a mount a disabled")
	}
}

// TestLeaderGatesPeriodic: a replica that does not hold the election runs
// no periodic work; once it wins, it does.
func TestLeaderGatesPeriodic(t *testing.T) {
	st := storage.OpenMemory()
	t.Cleanup(func() { _ = st.Close() })
	var leader atomic.Bool
	srv, err := New(Config{Store: st, PeriodicInterval: 5 * time.Millisecond, Leader: leader.Load})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	b, _ := addLifeMount(srv, "life/")
	time.Sleep(50 * time.Millisecond)
	if n := b.periodics.Load(); n != 0 {
		t.Fatalf("periodic ran %d times without the election", n)
	}
	leader.Store(true)
	for deadline := time.Now().Add(5 * time.Second); b.periodics.Load() == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("periodic never ran as leader")
		}
	}
}
