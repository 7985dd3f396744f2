package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"
)

// TestRunMainHelper is not a test: it is the pkid binary when a test runs
// this test binary as a subprocess (the os/exec "helper process" pattern).
func TestRunMainHelper(t *testing.T) {
	if os.Getenv("PKID_HELPER_PROCESS") != "1" {
		t.Skip("helper process only")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	os.Exit(run(args, os.Stdin, os.Stdout, os.Stderr))
}

type proc struct {
	cmd    *exec.Cmd
	stdout *bufio.Reader
	stderr *bytes.Buffer
}

func startPkid(t *testing.T, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestRunMainHelper$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), "PKID_HELPER_PROCESS=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, stdout: bufio.NewReader(out), stderr: &stderr}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return p
}

// banner reads the start-up banner up to its closing blank line and returns
// the address and root token it printed.
func (p *proc) banner(t *testing.T) (addr, token string) {
	t.Helper()
	var text strings.Builder
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		line, err := p.stdout.ReadString('\n')
		text.WriteString(line)
		if err != nil {
			t.Fatalf("banner: %v\nstdout: %s\nstderr: %s", err, text.String(), p.stderr.String())
		}
		if m := regexp.MustCompile(`export VAULT_ADDR='([^']+)'`).FindStringSubmatch(line); m != nil {
			addr = m[1]
		}
		if m := regexp.MustCompile(`^Root Token: (\S+)`).FindStringSubmatch(line); m != nil {
			token = m[1]
		}
		if strings.TrimSpace(line) == bannerEnd {
			return addr, token
		}
	}
	t.Fatalf("no banner: %s", text.String())
	return "", ""
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func client(t *testing.T, addr, token string) *vault.Client {
	t.Helper()
	cfg := vault.DefaultConfig()
	cfg.Address = addr
	cfg.MaxRetries = 0
	c, err := vault.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(token)
	return c
}

func (p *proc) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("server exit: %v\n%s", err, p.stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("server did not stop on SIGTERM")
	}
}

func TestDevServerStartsWithGivenToken(t *testing.T) {
	addr := freeAddr(t)
	start := time.Now()
	p := startPkid(t, "server", "-dev", "-dev-listen-address", addr, "-dev-root-token-id", "devroot")
	gotAddr, tok := p.banner(t)
	t.Logf("dev server ready in %v", time.Since(start))
	if gotAddr != "http://"+addr || tok != "devroot" {
		t.Fatalf("banner addr %q token %q", gotAddr, tok)
	}
	c := client(t, gotAddr, tok)
	if _, err := c.Auth().Token().LookupSelf(); err != nil {
		t.Fatal(err)
	}
	p.stop(t)
}

func TestPersistentRestartKeepsMountsAndTokens(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	p := startPkid(t, "server", "-data", dir, "-listen", addr)
	url, root := p.banner(t)
	if !strings.HasPrefix(root, "hvs.") {
		t.Fatalf("first start must print a root token, got %q", root)
	}
	c := client(t, url, root)
	if err := c.Sys().Mount("pki_int", &vault.MountInput{Type: "pki", Config: vault.MountConfigInput{MaxLeaseTTL: "43800h"}}); err != nil {
		t.Fatal(err)
	}
	sec, err := c.Auth().Token().Create(&vault.TokenCreateRequest{Policies: []string{"root"}, TTL: "2h"})
	if err != nil {
		t.Fatal(err)
	}
	p.stop(t)

	p2 := startPkid(t, "server", "-data", dir, "-listen", addr)
	_, root2 := p2.banner(t)
	if root2 != "" {
		t.Fatalf("a restart must not print a new root token, got %q", root2)
	}
	c = client(t, url, root)
	mounts, err := c.Sys().ListMounts()
	if err != nil {
		t.Fatalf("root token after restart: %v", err)
	}
	if m := mounts["pki_int/"]; m == nil || m.Config.MaxLeaseTTL != 43800*3600 {
		t.Fatalf("pki_int/ after restart: %+v", m)
	}
	c.SetToken(sec.Auth.ClientToken)
	if _, err := c.Auth().Token().LookupSelf(); err != nil {
		t.Fatalf("created token after restart: %v", err)
	}
	p2.stop(t)
}

func TestSecondServerOnSameDataFailsFast(t *testing.T) {
	dir := t.TempDir()
	p := startPkid(t, "server", "-data", dir, "-listen", freeAddr(t))
	p.banner(t)
	start := time.Now()
	cmd := exec.Command(os.Args[0], "-test.run=^TestRunMainHelper$", "--", "server", "-data", dir, "-listen", freeAddr(t))
	cmd.Env = append(os.Environ(), "PKID_HELPER_PROCESS=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err := runWithContext(ctx, cmd)
	elapsed := time.Since(start)
	if err == nil {
		t.Fatal("second server started on a locked data folder")
	}
	if !strings.Contains(stderr.String(), "in use by another pkid process") {
		t.Fatalf("unclear error: %q", stderr.String())
	}
	if elapsed > 10*time.Second {
		t.Fatalf("took %v to fail", elapsed)
	}
	t.Logf("second server failed in %v: %s", elapsed, strings.TrimSpace(stderr.String()))
	p.stop(t)
}

func runWithContext(ctx context.Context, cmd *exec.Cmd) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		return fmt.Errorf("timed out: %w", ctx.Err())
	}
}
