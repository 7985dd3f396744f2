package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/pkid-dev/pkid/records"
	"github.com/pkid-dev/pkid/storage"
)

// runPkid runs pkid to its end (it must refuse to start) and returns its
// exit code and stderr.
func runPkid(t *testing.T, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestRunMainHelper$", "--"}, args...)...)
	cmd.Env = append(append(os.Environ(), "PKID_HELPER_PROCESS=1"), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := runWithContext(ctx, cmd)
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("pkid %v: %v\n%s", args, err, stderr.String())
	}
	return cmd.ProcessState.ExitCode(), stderr.String()
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func issue(c *vault.Client) error {
	_, err := c.Logical().Write("pki/issue/web", map[string]any{"common_name": "www.example.com"})
	return err
}

// TestSealedServer runs a server with a sealing passphrase, then checks
// every way of starting it again: with the passphrase (file or
// environment) it serves; without, with another passphrase or with a key
// file it refuses with exit code 1 and says why; and a flipped byte in a
// sealed key makes issuing fail with the seal's error in the log, while the
// server keeps serving.
func TestSealedServer(t *testing.T) {
	dir := t.TempDir()
	secrets := t.TempDir()
	passFile := writeFile(t, secrets, "pass", "correct horse battery staple\n")
	db := filepath.Join(dir, "pkid.db")
	addr := freeAddr(t)

	p := startPkid(t, "server", "-data", dir, "-listen", addr, "-seal-passphrase-file", passFile)
	url, root := p.banner(t)
	c := client(t, url, root)
	if err := c.Sys().Mount("pki", &vault.MountInput{Type: "pki", Config: vault.MountConfigInput{MaxLeaseTTL: "87600h"}}); err != nil {
		t.Fatal(err)
	}
	for path, data := range map[string]map[string]any{
		"pki/root/generate/internal": {"common_name": "Sealed Root", "key_type": "ec", "ttl": "8760h"},
		"pki/roles/web":              {"allowed_domains": "example.com", "allow_subdomains": true, "key_type": "ec"},
	} {
		if _, err := c.Logical().Write(path, data); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	if err := issue(c); err != nil {
		t.Fatal(err)
	}
	p.stop(t)

	for _, tc := range []struct {
		name     string
		env      []string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no secret", nil, nil, 1,
			"pkid server: seal: data is sealed; give -seal-passphrase-file, -seal-key-file or PKID_SEAL_PASSPHRASE to open " + db},
		{"wrong passphrase file", nil, []string{"-seal-passphrase-file", writeFile(t, secrets, "wrong", "correct horse battery stapler\n")}, 1,
			"pkid server: seal: wrong passphrase or key file for " + db},
		{"wrong passphrase in the environment", []string{"PKID_SEAL_PASSPHRASE=nope"}, nil, 1,
			"pkid server: seal: wrong passphrase or key file for " + db},
		{"key file for passphrase-sealed data", nil, []string{"-seal-key-file", writeFile(t, secrets, "key", strings.Repeat("k", 32))}, 1,
			"pkid server: seal: wrong passphrase or key file for " + db + ": it was sealed with a passphrase, this is a key file"},
		{"short key file", nil, []string{"-seal-key-file", writeFile(t, secrets, "short", "16 bytes only!!!")}, 1,
			"pkid server: seal: key file has 16 bytes, want at least 32 random bytes"},
		{"empty passphrase file", nil, []string{"-seal-passphrase-file", writeFile(t, secrets, "empty", "\n")}, 1,
			"pkid server: seal: empty passphrase in "},
		{"both files", nil, []string{"-seal-passphrase-file", passFile, "-seal-key-file", passFile}, 2,
			"pkid server: -seal-passphrase-file and -seal-key-file exclude each other: give one"},
		{"environment and a file", []string{"PKID_SEAL_PASSPHRASE=x"}, []string{"-seal-passphrase-file", passFile}, 1,
			"pkid server: PKID_SEAL_PASSPHRASE is set and a seal flag is given: use one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"server", "-data", dir, "-listen", freeAddr(t)}, tc.args...)
			code, stderr := runPkid(t, tc.env, args...)
			if code != tc.wantCode || !strings.HasPrefix(stderr, tc.wantErr) {
				t.Fatalf("exit %d, stderr %q\nwant exit %d, stderr starting %q", code, stderr, tc.wantCode, tc.wantErr)
			}
		})
	}

	t.Run("passphrase in the environment", func(t *testing.T) {
		p := startPkidEnv(t, []string{"PKID_SEAL_PASSPHRASE=correct horse battery staple"}, "server", "-data", dir, "-listen", addr)
		p.banner(t)
		if err := issue(client(t, url, root)); err != nil {
			t.Fatalf("issue after a restart: %v", err)
		}
		p.stop(t)
	})

	t.Run("flipped byte", func(t *testing.T) {
		flipKeyByte(t, db)
		p := startPkid(t, "server", "-data", dir, "-listen", addr, "-seal-passphrase-file", passFile)
		p.banner(t)
		c := client(t, url, root)
		err := issue(c)
		var re *vault.ResponseError
		if !errors.As(err, &re) || re.StatusCode != 500 {
			t.Fatalf("issue with a damaged key: %v", err)
		}
		if _, err := c.Sys().ListMounts(); err != nil {
			t.Fatalf("server after the damaged key: %v", err)
		}
		p.stop(t)
		if log := p.stderr.String(); !strings.Contains(log, "seal: sealed value does not open: config/key/") {
			t.Fatalf("the log does not say the key does not open:\n%s", log)
		}
	})
}

// flipKeyByte flips one ciphertext byte of every key record in the file.
func flipKeyByte(t *testing.T, path string) {
	t.Helper()
	eng, err := storage.OpenEngine(path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	spaces, err := eng.(storage.SpaceLister).Spaces()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, space := range spaces {
		err := eng.Update(space, func(tx storage.Tx) error {
			keys, err := tx.Keys(records.KeyPrefix, "", 0)
			if err != nil {
				return err
			}
			for _, k := range keys {
				v := tx.Get(records.KeyPrefix + k)
				v[len(v)/2] ^= 1
				if err := tx.Put(records.KeyPrefix+k, v); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n == 0 {
		t.Fatal("no key record to damage")
	}
}

func startPkidEnv(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	return startPkid(t, args...)
}

// TestSealKeyFile: data sealed with a key file restarts with it, and a
// passphrase for it is refused with the hint that a key file sealed it.
func TestSealKeyFile(t *testing.T) {
	dir := t.TempDir()
	keyFile := writeFile(t, t.TempDir(), "seal.key", "\x00\x01binary key file of more than 32 bytes\n")
	addr := freeAddr(t)
	var root0 string
	for i := range 2 {
		p := startPkid(t, "server", "-data", dir, "-listen", addr, "-seal-key-file", keyFile)
		url, root := p.banner(t)
		if i == 0 {
			c := client(t, url, root)
			if err := c.Sys().Mount("pki", &vault.MountInput{Type: "pki"}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Logical().Write("pki/root/generate/internal", map[string]any{"common_name": "K", "key_type": "ec", "ttl": "24h"}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Logical().Write("pki/roles/web", map[string]any{"allowed_domains": "example.com", "allow_subdomains": true, "key_type": "ec", "ttl": "1h"}); err != nil {
				t.Fatal(err)
			}
			root0 = root
		}
		if err := issue(client(t, url, root0)); err != nil {
			t.Fatalf("start %d: %v", i+1, err)
		}
		p.stop(t)
	}
	code, stderr := runPkid(t, []string{"PKID_SEAL_PASSPHRASE=guess"}, "server", "-data", dir, "-listen", freeAddr(t))
	want := "it was sealed with a key file, this is a passphrase"
	if code != 1 || !strings.Contains(stderr, want) {
		t.Fatalf("passphrase for key-file data: exit %d, %q", code, stderr)
	}
}
