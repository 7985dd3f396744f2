package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/pkid-dev/pkid/pkidtest"
)

func agentServer(t *testing.T) *pkidtest.Server {
	t.Helper()
	srv := pkidtest.Start(t, pkidtest.Options{TestDouble: true})
	srv.EnablePKI(t, "pki", 0)
	srv.Write(t, "pki/root/generate/internal", map[string]any{"common_name": "Agent Root", "key_type": "ec", "ttl": "8760h"})
	srv.Write(t, "pki/roles/web", map[string]any{"allowed_domains": "example.com", "allow_subdomains": true, "key_type": "ec", "ttl": "24h"})
	return srv
}

func TestAgentCommand(t *testing.T) {
	srv := agentServer(t)
	tests := []struct {
		name   string
		args   []string // after the output flags
		code   int
		stderr string
	}{
		{name: "once", args: []string{"-address=" + srv.URL, "-token=root", "-role=web", "-common-name=a.example.com", "-ttl=1h"}},
		{name: "role refuses name", args: []string{"-address=" + srv.URL, "-token=root", "-role=web", "-common-name=a.evil.com"},
			code: 1, stderr: "a.evil.com"},
		{name: "unreachable", args: []string{"-address=http://127.0.0.1:1", "-token=x", "-role=web", "-common-name=a.example.com",
			"-min-backoff=1ms", "-max-backoff=2ms", "-attempts=2"}, code: 1, stderr: "giving up"},
		{name: "no role", args: []string{"-token=x"}, code: 2, stderr: "role is required"},
		{name: "bad renew-at", args: []string{"-token=x", "-role=web", "-renew-at=1.5"}, code: 2, stderr: "renew-at"},
		{name: "stray argument", args: []string{"-token=x", "-role=web", "extra"}, code: 2, stderr: `unexpected argument "extra"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"agent", "-once", "-cert=" + filepath.Join(dir, "cert.pem"),
				"-key=" + filepath.Join(dir, "key.pem"), "-chain=" + filepath.Join(dir, "chain.pem")}, tc.args...)
			var stdout, stderr bytes.Buffer
			code := run(args, nil, &stdout, &stderr)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, stderr.String())
			}
			_, err := os.Stat(filepath.Join(dir, "cert.pem"))
			if (err == nil) != (tc.code == 0) {
				t.Errorf("cert file present = %v with exit %d", err == nil, code)
			}
		})
	}
}

func TestAgentConfigFileFlagsOverride(t *testing.T) {
	srv := agentServer(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "agent.json")
	// The file names a refused host; the flag overrides it with an allowed one.
	os.WriteFile(cfgPath, []byte(`{"address":"`+srv.URL+`","token":"root","role":"web","common_name":"x.evil.com",
		"cert":"`+filepath.Join(dir, "c.pem")+`","key":"`+filepath.Join(dir, "k.pem")+`","once":true}`), 0o600)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"agent", "-config=" + cfgPath, "-common-name=ok.example.com"}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "c.pem")); err != nil {
		t.Fatal(err)
	}
}

func TestAgentAppRole(t *testing.T) {
	srv := agentServer(t)
	c := srv.Client(t)
	if err := c.Sys().EnableAuthWithOptions("approle", &vault.EnableAuthOptions{Type: "approle"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Sys().PutPolicy("issue-web", `path "pki/issue/web" { capabilities = ["update"] }`); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Logical().Write("auth/approle/role/agent", map[string]any{"token_policies": "issue-web"}); err != nil {
		t.Fatal(err)
	}
	rid, err := c.Logical().Read("auth/approle/role/agent/role-id")
	if err != nil {
		t.Fatal(err)
	}
	sid, err := c.Logical().Write("auth/approle/role/agent/secret-id", nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "role_id"), []byte(rid.Data["role_id"].(string)+"\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "secret_id"), []byte(sid.Data["secret_id"].(string)), 0o600)
	t.Setenv("VAULT_TOKEN", "")
	t.Setenv("HOME", dir)
	var stdout, stderr bytes.Buffer
	code := run([]string{"agent", "-once", "-address=" + srv.URL, "-role=web", "-common-name=a.example.com",
		"-role-id-file=" + filepath.Join(dir, "role_id"), "-secret-id-file=" + filepath.Join(dir, "secret_id"),
		"-cert=" + filepath.Join(dir, "c.pem"), "-key=" + filepath.Join(dir, "k.pem")}, nil, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
}

func TestAgentMainCancel(t *testing.T) {
	srv := agentServer(t)
	dir := t.TempDir()
	cfg, code, ok := parseAgentFlags([]string{"-address=" + srv.URL, "-token=root", "-role=web",
		"-common-name=a.example.com", "-cert=" + filepath.Join(dir, "c"), "-key=" + filepath.Join(dir, "k")}, os.Stderr)
	if !ok {
		t.Fatalf("parse: %d", code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var stderr bytes.Buffer
	if code := agentMain(ctx, cfg, slog.New(slog.NewTextHandler(&stderr, nil)), &stderr); code != 0 {
		t.Fatalf("exit %d after cancel: %s", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "c")); err != nil {
		t.Fatal(err)
	}
}

// TestAgentSIGTERM runs `pkid agent` as a process, waits for its first
// certificate, sends SIGTERM and expects a clean exit 0.
func TestAgentSIGTERM(t *testing.T) {
	srv := agentServer(t)
	dir := t.TempDir()
	cert := filepath.Join(dir, "c.pem")
	p := startPkid(t, "agent", "-address="+srv.URL, "-token=root", "-role=web",
		"-common-name=a.example.com", "-cert="+cert, "-key="+filepath.Join(dir, "k.pem"))
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(cert); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no certificate written: %s", p.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.stop(t) // SIGTERM, then fails unless the exit status is 0 within 20 s
}
