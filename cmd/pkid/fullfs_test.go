package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"
	bolt "go.etcd.io/bbolt"
)

// inMountNamespace is set in the test binary that TestRealDiskFullAndReadOnly
// runs again under unshare, where it may mount a file system of its own.
const inMountNamespace = "PKID_TEST_IN_MOUNT_NAMESPACE"

// TestRealDiskFullAndReadOnly runs `pkid server -data DIR` on a 4 MiB tmpfs
// and fills it for real: writes answer 503 naming the cause, reads keep
// working, nothing acknowledged is lost, writes work again once there is
// room, and the file passes bbolt's check. Then the folder is remounted
// read-only: the server refuses to start and says why.
//
// The fault layer (TestDiskFullAnswers503AndRecovers) covers the same
// answers on every machine; this test is the kernel's word for it, in a
// private mount namespace (unshare -Urm) so it needs no root and leaves no
// mount behind. Where user namespaces are off it says so and skips.
func TestRealDiskFullAndReadOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("server subprocess")
	}
	if os.Getenv(inMountNamespace) == "" {
		runInMountNamespace(t)
		return
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=4m"); err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	defer syscall.Unmount(dir, syscall.MNT_DETACH)

	addr := freeAddr(t)
	args := []string{"server", "-dev", "-data", dir, "-dev-listen-address", addr, "-dev-root-token-id", "root"}
	p := startPkid(t, args...)
	a, tok := p.banner(t)
	c := client(t, a, tok)
	mustWriteC(t, c, "sys/mounts/pki", map[string]any{"type": "pki"})
	mustWriteC(t, c, "pki/root/generate/internal", map[string]any{"common_name": "Full Root", "key_type": "ec", "ttl": "87600h"})
	mustWriteC(t, c, "pki/roles/r", map[string]any{"allow_any_name": true, "key_type": "ec", "ttl": "1h"})
	acked := issueN(t, c, 5)

	filler := filepath.Join(dir, "filler")
	fill(t, filler)
	full, err := issueUntilFull(t, c, 2000)
	acked = append(acked, full...)
	wantStatusC(t, err, 503, "storage: no space left on device")
	t.Logf("disk full after %d more issues; %d acknowledged in all", len(full), len(acked))
	// A small write may still fit in pages bbolt freed; one that does
	// not must fail the same way.
	if _, err := c.Logical().Write("pki/roles/other", map[string]any{"allow_any_name": true}); err != nil {
		wantStatusC(t, err, 503, "storage: no space left on device")
	}
	if s, err := c.Logical().Read("pki/roles/r"); err != nil || s == nil {
		t.Errorf("read with the disk full: %v", err)
	}
	checkListed(t, c, acked)

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	acked = append(acked, issueN(t, c, 3)...)
	checkListed(t, c, acked)
	p.stop(t)
	checkBolt(t, filepath.Join(dir, "pkid.db"))

	if err := syscall.Mount("", dir, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, "size=4m"); err != nil {
		t.Fatalf("remount read-only: %v", err)
	}
	code, stderr := runPkid(t, nil, args...)
	want := "storage: open " + filepath.Join(dir, "pkid.db") + ": read-only file system"
	if code != 1 || !strings.Contains(stderr, want) {
		t.Errorf("start on a read-only folder: exit %d, stderr %q; want 1 and %q", code, stderr, want)
	}
}

// runInMountNamespace runs this test again in a user and mount namespace of
// its own and reports its output.
func runInMountNamespace(t *testing.T) {
	if err := exec.Command("unshare", "-Urm", "true").Run(); err != nil {
		t.Skipf("no private mount namespace here (unshare -Urm: %v); the storage fault tests cover disk full", err)
	}
	cmd := exec.Command("unshare", "-Urm", os.Args[0], "-test.run=^TestRealDiskFullAndReadOnly$", "-test.v", "-test.timeout=3m")
	cmd.Env = append(os.Environ(), inMountNamespace+"=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	t.Logf("in a mount namespace:\n%s", out.String())
	if err != nil {
		t.Fatalf("test in the mount namespace: %v", err)
	}
	if !strings.Contains(out.String(), "--- PASS: TestRealDiskFullAndReadOnly") {
		t.Fatal("the test in the mount namespace did not pass")
	}
}

// fill writes zeros to path until the file system is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill: %v", err)
			}
			return
		}
	}
}

func issueN(t *testing.T, c *vault.Client, n int) []string {
	t.Helper()
	var serials []string
	for range n {
		s, err := c.Logical().Write("pki/issue/r", map[string]any{"common_name": "full.example.com"})
		if err != nil {
			t.Fatalf("issue: %v", err)
		}
		serials = append(serials, s.Data["serial_number"].(string))
	}
	return serials
}

// issueUntilFull issues until a request fails, at most limit times, and
// returns the serials answered before and the failure.
func issueUntilFull(t *testing.T, c *vault.Client, limit int) ([]string, error) {
	t.Helper()
	var serials []string
	deadline := time.Now().Add(time.Minute)
	for range limit {
		s, err := c.Logical().Write("pki/issue/r", map[string]any{"common_name": "full.example.com"})
		if err != nil {
			return serials, err
		}
		serials = append(serials, s.Data["serial_number"].(string))
		if time.Now().After(deadline) {
			break
		}
	}
	t.Fatalf("%d issues succeeded on a full disk", len(serials))
	return nil, nil
}

func wantStatusC(t *testing.T, err error, status int, part string) {
	t.Helper()
	var re *vault.ResponseError
	if !errors.As(err, &re) || re.StatusCode != status || !strings.Contains(strings.Join(re.Errors, "|"), part) {
		t.Fatalf("err = %v, want HTTP %d containing %q", err, status, part)
	}
}

// checkListed fails the test unless every serial is listed and readable.
func checkListed(t *testing.T, c *vault.Client, serials []string) {
	t.Helper()
	s, err := c.Logical().List("pki/certs")
	if err != nil || s == nil {
		t.Fatalf("LIST pki/certs: %v", err)
	}
	listed := map[string]bool{}
	for _, k := range s.Data["keys"].([]any) {
		listed[k.(string)] = true
	}
	for _, serial := range serials {
		if r, err := c.Logical().Read("pki/cert/" + serial); !listed[serial] || err != nil || r == nil {
			t.Errorf("acknowledged %s: listed %v, read %v", serial, listed[serial], err)
		}
	}
}

func checkBolt(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	}); err != nil {
		t.Errorf("bbolt check: %v", err)
	}
}
