package main

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
)

// TestEtcdUnreachableFailsAtStart: a server pointed at no etcd says so and
// exits within the dial timeout, rather than serving 503s.
func TestEtcdUnreachableFailsAtStart(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	start := time.Now()
	code := runServer([]string{"-storage", "etcd", "-etcd-endpoints", freeAddr(t), "-listen", freeAddr(t)}, io.Discard, &stderr)
	if code != 1 {
		t.Fatalf("exit code %d, want 1; stderr %q", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "cannot use etcd at") || !strings.Contains(stderr.String(), "storage unavailable") {
		t.Fatalf("unclear error: %q", stderr.String())
	}
	if d := time.Since(start); d > 9*time.Second {
		t.Fatalf("took %v to fail", d)
	}
}

func TestStorageFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"-storage", "etcd"}, "needs -etcd-endpoints"},
		{[]string{"-storage", "etcd", "-etcd-endpoints", "h:1", "-etcd-cert", "c"}, "go together"},
		{[]string{"-storage", "zk", "-data", "d"}, "bad -storage"},
		{[]string{"-data", "d", "-etcd-endpoints", "h:1"}, "needs -storage etcd"},
		{[]string{"-storage", "etcd", "-etcd-endpoints", "h:1,h:2"}, ""}, // no -data needed
	} {
		_, err := parseServerFlags(tc.args, io.Discard)
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%q: error %v, want %q", tc.args, err, tc.wantErr)
		}
	}
}
