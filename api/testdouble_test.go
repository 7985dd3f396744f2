package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/pkid-dev/pkid/pkidtest"
)

func TestMovableClock(t *testing.T) {
	t.Parallel()
	srv := pkidtest.Start(t, pkidtest.Options{TestDouble: true})
	c := srv.Client(t)
	sec, err := c.Logical().Write("auth/token/create", map[string]any{"ttl": "1h"})
	if err != nil {
		t.Fatal(err)
	}
	child := sec.Auth.ClientToken
	moved, err := c.Logical().Write("sys/pkid/clock", map[string]any{"advance": "2h"})
	if err != nil {
		t.Fatal(err)
	}
	if off, _ := moved.Data["offset_seconds"].(interface{ Int64() (int64, error) }); off == nil {
		t.Fatalf("clock answer %v", moved.Data)
	}
	if st, _, _ := call(t, srv, "GET", "/v1/auth/token/lookup-self", child, ""); st != 403 {
		t.Fatalf("a 1h token two hours later: %d, want 403", st)
	}
	if _, err := c.Logical().Write("sys/pkid/clock", map[string]any{"reset": true}); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := call(t, srv, "GET", "/v1/auth/token/lookup-self", child, ""); st != 200 {
		t.Fatalf("after reset: %d", st)
	}
}

func TestInjectedFaults(t *testing.T) {
	t.Parallel()
	srv := pkidtest.Start(t, pkidtest.Options{TestDouble: true})
	c := srv.Client(t)
	_, err := c.Logical().Write("sys/pkid/faults/flaky", map[string]any{
		"path": "sys/mounts", "operations": "read", "status": 503, "message": "try later", "count": 2})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		st, out, _ := call(t, srv, "GET", "/v1/sys/mounts", "root", "")
		if st != 503 || !strings.Contains(out["errors"].([]any)[0].(string), "try later") {
			t.Fatalf("attempt %d: %d %v", i, st, out)
		}
	}
	if st, _, _ := call(t, srv, "GET", "/v1/sys/mounts", "root", ""); st != 200 {
		t.Fatalf("fault outlived its count: %d", st)
	}
	if _, err := c.Logical().Write("sys/pkid/faults/slow", map[string]any{"path": "sys/mounts", "latency": "300ms"}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if st, _, _ := call(t, srv, "GET", "/v1/sys/mounts", "root", ""); st != 200 || time.Since(start) < 300*time.Millisecond {
		t.Fatalf("latency fault: %d after %v", st, time.Since(start))
	}
	list, err := c.Logical().List("sys/pkid/faults")
	if err != nil || len(list.Data["keys"].([]any)) != 1 {
		t.Fatalf("list %v %v", list, err)
	}
	if _, err := c.Logical().Delete("sys/pkid/faults/slow"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Logical().Write("sys/pkid/faults/bad", map[string]any{"path": "x", "status": 200}); err == nil {
		t.Fatal("status 200 accepted")
	}
}

func TestTestDoubleOffByDefault(t *testing.T) {
	t.Parallel()
	srv := pkidtest.Start(t)
	if st, _, _ := call(t, srv, "GET", "/v1/sys/pkid/clock", "root", ""); st != 404 {
		t.Fatalf("sys/pkid/clock without -test-double: %d", st)
	}
}
