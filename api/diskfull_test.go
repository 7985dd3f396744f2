package api_test

import (
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/pkid-dev/pkid/pkidtest"
)

// With the disk full, writes answer 503 naming the cause and write nothing,
// reads keep working, and everything works again once there is room.
func TestDiskFullAnswers503AndRecovers(t *testing.T) {
	t.Parallel()
	var full atomic.Bool
	srv := pkidtest.Start(t, pkidtest.Options{StorageFault: func(op, space string) error {
		if full.Load() {
			return syscall.ENOSPC
		}
		return nil
	}})
	h := srv.BuildHierarchy(t)
	c := srv.Client(t)
	issue := func() error {
		_, err := c.Logical().Write(h.IntMount+"/issue/"+h.Role, map[string]any{"common_name": "a.internal.example.com"})
		return err
	}
	listCount := func(path string) int {
		s, err := c.Logical().List(path)
		if err != nil {
			t.Fatalf("LIST %s: %v", path, err)
		}
		if s == nil {
			return 0
		}
		return len(s.Data["keys"].([]any))
	}
	if err := issue(); err != nil {
		t.Fatal(err)
	}
	certs, roles := listCount(h.IntMount+"/certs"), listCount(h.IntMount+"/roles")

	full.Store(true)
	wantStatus(t, issue(), 503, "storage: no space left on device")
	_, err := c.Logical().Write(h.IntMount+"/roles/another", map[string]any{"allow_any_name": true})
	wantStatus(t, err, 503, "storage: no space left on device")
	if _, err := c.Logical().Read(h.IntMount + "/roles/" + h.Role); err != nil {
		t.Errorf("read with the disk full: %v", err)
	}
	if got, gotRoles := listCount(h.IntMount+"/certs"), listCount(h.IntMount+"/roles"); got != certs || gotRoles != roles {
		t.Errorf("with the disk full: %d certs, %d roles; want %d, %d", got, gotRoles, certs, roles)
	}

	full.Store(false)
	if err := issue(); err != nil {
		t.Fatalf("issue after room came back: %v", err)
	}
	if got := listCount(h.IntMount + "/certs"); got != certs+1 {
		t.Errorf("%d certs after recovery, want %d", got, certs+1)
	}
}
