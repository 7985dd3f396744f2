package audit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkid-dev/pkid/clock"
	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/storage/storagetest"
)

var testTime = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func newBroker(t *testing.T) *Broker {
	t.Helper()
	return NewBroker(Options{Clock: clock.NewFake(testTime), Rand: rand.Reader})
}

func enableFile(t *testing.T, b *Broker, path string, opts map[string]string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "logs", "audit.log")
	o := map[string]string{"file_path": file}
	for k, v := range opts {
		o[k] = v
	}
	if err := b.Enable(path, Config{Type: "file", Options: o}); err != nil {
		t.Fatalf("Enable: %v", err)
	}
	return file
}

// readEntries returns the file's entries, skipping Vault's test probe.
func readEntries(t *testing.T, file string) []map[string]any {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e map[string]any
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if req, _ := e["request"].(map[string]any); req["path"] == "sys/audit/test" {
			continue
		}
		out = append(out, e)
	}
	return out
}

const (
	token    = "hvs.CAESIJ-secret-token"
	accessor = "accessor-abc"
	privKey  = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEI...\n-----END EC PRIVATE KEY-----"
)

func issueInput() *Input {
	return &Input{
		Auth: &Auth{
			ClientToken: token, Accessor: accessor, DisplayName: "kubernetes-cert-manager-cert-manager",
			Policies: []string{"cert-manager-policy", "default"}, TokenPolicies: []string{"cert-manager-policy", "default"},
			TokenType: "service", TTL: time.Hour, IssueTime: testTime.Add(-time.Minute),
			PolicyResults: &PolicyResults{Allowed: true, GrantingPolicies: []string{"cert-manager-policy"}},
		},
		Request: &Request{
			ID: "req-1", Operation: "update", MountPoint: "pki_int/", MountType: "pki", MountAccessor: "pki_1234",
			ClientToken: token, ClientTokenAccessor: accessor, Path: "pki_int/issue/internal-services",
			Data:       map[string]any{"common_name": "api.internal.example.com", "ttl": "1h"},
			RemoteAddr: "127.0.0.1", RemotePort: 50000,
		},
		Response: &Response{
			Data: map[string]any{
				"certificate":      "-----BEGIN CERTIFICATE-----\nMIIB...",
				"private_key":      privKey,
				"private_key_type": "ec",
				"ca_chain":         []string{"-----BEGIN CERTIFICATE-----\nint", "-----BEGIN CERTIFICATE-----\nroot"},
				"serial_number":    "39:dd:2e",
				"expiration":       int64(1714568400),
			},
			Warnings: []string{"a warning"},
		},
	}
}

func TestIssueEntriesAreHashed(t *testing.T) {
	t.Parallel()
	b := newBroker(t)
	file := enableFile(t, b, "file", nil)
	in := issueInput()
	ctx := context.Background()
	if err := b.LogRequest(ctx, in); err != nil {
		t.Fatal(err)
	}
	if err := b.LogResponse(ctx, in); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(file)
	for _, secret := range []string{token, accessor, "MHcCAQEEI", "api.internal.example.com", "39:dd:2e"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("audit log holds %q in clear", secret)
		}
	}
	entries := readEntries(t, file)
	if len(entries) != 2 {
		t.Fatalf("%d entries, want 2", len(entries))
	}
	h := func(s string) string { v, _ := b.Hash("file", s); return v }
	req, resp := entries[0], entries[1]
	checks := []struct {
		name      string
		got, want any
	}{
		{"request type", req["type"], "request"},
		{"response type", resp["type"], "response"},
		{"time", req["time"], "2024-05-01T12:00:00Z"},
		{"auth token", dig(req, "auth", "client_token"), h(token)},
		{"auth accessor", dig(req, "auth", "accessor"), h(accessor)},
		{"auth display name in clear", dig(req, "auth", "display_name"), "kubernetes-cert-manager-cert-manager"},
		{"policy results", dig(req, "auth", "policy_results", "allowed"), true},
		{"request token", dig(req, "request", "client_token"), h(token)},
		{"request accessor", dig(req, "request", "client_token_accessor"), h(accessor)},
		{"request path in clear", dig(req, "request", "path"), "pki_int/issue/internal-services"},
		{"request operation", dig(req, "request", "operation"), "update"},
		{"request mount type", dig(req, "request", "mount_type"), "pki"},
		{"request remote address", dig(req, "request", "remote_address"), "127.0.0.1"},
		{"request data string", dig(req, "request", "data", "common_name"), h("api.internal.example.com")},
		{"namespace", dig(req, "request", "namespace", "id"), "root"},
		{"private key", dig(resp, "response", "data", "private_key"), h(privKey)},
		{"private key type is hashed too", dig(resp, "response", "data", "private_key_type"), h("ec")},
		{"number kept", dig(resp, "response", "data", "expiration"), float64(1714568400)},
		{"list element", dig(resp, "response", "data", "ca_chain", 1), h("-----BEGIN CERTIFICATE-----\nroot")},
		{"warnings in clear", dig(resp, "response", "warnings", 0), "a warning"},
		{"response request token", dig(resp, "request", "client_token"), h(token)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if !strings.HasPrefix(h(token), "hmac-sha256:") || len(h(token)) != len("hmac-sha256:")+64 {
		t.Errorf("hash %q has the wrong shape", h(token))
	}
}

// dig walks a decoded JSON tree by keys and indexes.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func TestFormatOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		opts  map[string]string
		in    func() *Input
		check func(t *testing.T, b *Broker, resp map[string]any, line string)
	}{
		{
			name: "log_raw logs everything in clear",
			opts: map[string]string{"log_raw": "true"},
			in:   issueInput,
			check: func(t *testing.T, _ *Broker, resp map[string]any, _ string) {
				if dig(resp, "response", "data", "private_key") != privKey || dig(resp, "auth", "client_token") != token {
					t.Error("log_raw hashed something")
				}
			},
		},
		{
			name: "hmac_accessor=false leaves accessors clear",
			opts: map[string]string{"hmac_accessor": "false"},
			in:   issueInput,
			check: func(t *testing.T, b *Broker, resp map[string]any, _ string) {
				if dig(resp, "auth", "accessor") != accessor || dig(resp, "request", "client_token_accessor") != accessor {
					t.Error("accessor hashed")
				}
				if dig(resp, "auth", "client_token") == token {
					t.Error("token in clear")
				}
			},
		},
		{
			name: "non-HMAC keys stay clear at any depth",
			in: func() *Input {
				in := issueInput()
				in.NonHMACResponseKeys = []string{"serial_number", "ca_chain"}
				in.NonHMACRequestKeys = []string{"common_name"}
				return in
			},
			check: func(t *testing.T, _ *Broker, resp map[string]any, _ string) {
				if dig(resp, "response", "data", "serial_number") != "39:dd:2e" || dig(resp, "request", "data", "common_name") != "api.internal.example.com" {
					t.Error("non-HMAC key hashed")
				}
				if dig(resp, "response", "data", "ca_chain", 0) != "-----BEGIN CERTIFICATE-----\nint" {
					t.Error("non-HMAC list hashed")
				}
				if dig(resp, "response", "data", "private_key") == privKey {
					t.Error("private key in clear")
				}
			},
		},
		{
			name: "elide_list_responses counts keys",
			opts: map[string]string{"elide_list_responses": "true"},
			in: func() *Input {
				return &Input{
					Request:  &Request{Operation: "list", Path: "pki_int/certs/"},
					Response: &Response{Data: map[string]any{"keys": []string{"a", "b", "c"}, "key_info": map[string]any{"a": 1}}},
				}
			},
			check: func(t *testing.T, _ *Broker, resp map[string]any, _ string) {
				if dig(resp, "response", "data", "keys") != float64(3) || dig(resp, "response", "data", "key_info") != float64(1) {
					t.Errorf("data = %v", dig(resp, "response", "data"))
				}
			},
		},
		{
			name: "prefix starts each line",
			opts: map[string]string{"prefix": "@cee: "},
			in:   issueInput,
			check: func(t *testing.T, _ *Broker, _ map[string]any, line string) {
				if !strings.HasPrefix(line, "@cee: {") {
					t.Errorf("line %q", line)
				}
			},
		},
		{
			name: "anonymous request logs a default token type",
			in: func() *Input {
				return &Input{Request: &Request{Operation: "read", Path: "pki_int/ca/pem"}, Error: "boom"}
			},
			check: func(t *testing.T, _ *Broker, resp map[string]any, _ string) {
				if dig(resp, "auth", "token_type") != "default" || resp["error"] != "boom" {
					t.Errorf("entry = %v", resp)
				}
			},
		},
		{
			name: "login response auth is hashed",
			in: func() *Input {
				return &Input{
					Request:  &Request{Operation: "update", Path: "auth/approle/login", Data: map[string]any{"role_id": "r", "secret_id": "s3cret"}},
					Response: &Response{Auth: &Auth{ClientToken: "hvs.new", Accessor: "acc2", Policies: []string{"default"}}},
				}
			},
			check: func(t *testing.T, b *Broker, resp map[string]any, line string) {
				if strings.Contains(line, "hvs.new") || strings.Contains(line, "s3cret") {
					t.Error("login secrets in clear")
				}
				want, _ := b.Hash("file", "hvs.new")
				if dig(resp, "response", "auth", "client_token") != want {
					t.Errorf("response auth = %v", dig(resp, "response", "auth"))
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBroker(t)
			file := enableFile(t, b, "file", tt.opts)
			if err := b.LogResponse(context.Background(), tt.in()); err != nil {
				t.Fatal(err)
			}
			raw, _ := os.ReadFile(file)
			lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
			last := lines[len(lines)-1]
			var e map[string]any
			if err := json.Unmarshal([]byte(strings.TrimPrefix(last, tt.opts["prefix"])), &e); err != nil {
				t.Fatal(err)
			}
			tt.check(t, b, e, last)
		})
	}
}

func TestEnableErrors(t *testing.T) {
	t.Parallel()
	b := newBroker(t)
	enableFile(t, b, "file", nil)
	blocker := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		cfg  Config
		msg  string
	}{
		{"path in use", "file/", Config{Type: "file", Options: map[string]string{"file_path": "discard"}}, "path already in use"},
		{"unknown type", "sock", Config{Type: "socket"}, `unknown backend type: "socket"`},
		{"no file_path", "f2", Config{Type: "file"}, "file_path is required"},
		{"bad mode", "f3", Config{Type: "file", Options: map[string]string{"file_path": "discard", "mode": "9"}}, "unable to parse 'mode'"},
		{"bad bool", "f4", Config{Type: "file", Options: map[string]string{"file_path": "discard", "log_raw": "maybe"}}, "unable to parse 'log_raw'"},
		{"jsonx", "f5", Config{Type: "file", Options: map[string]string{"file_path": "discard", "format": "jsonx"}}, "unsupported audit format"},
		{"unopenable file", "f6", Config{Type: "file", Options: map[string]string{"file_path": filepath.Join(blocker, "audit.log")}}, "sanity check failed; unable to open"},
		{"device that cannot write its probe", "f7", Config{Type: "file", Options: map[string]string{"file_path": "/dev/full"}}, "audit backend failed test message"},
	}
	for _, tt := range tests {
		err := b.Enable(tt.path, tt.cfg)
		if !errors.Is(err, errs.Invalid) || !strings.Contains(errs.Message(err), tt.msg) {
			t.Errorf("%s: err = %v, want 400 containing %q", tt.name, err, tt.msg)
		}
	}
	if got := len(b.List()); got != 1 {
		t.Errorf("%d devices after failed enables, want 1", got)
	}
}

func TestFailingDevices(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	full := Config{Type: "file", Options: map[string]string{"file_path": "/dev/full", "skip_test": "true"}}

	t.Run("every device failing fails the request", func(t *testing.T) {
		t.Parallel()
		b := newBroker(t)
		if err := b.Enable("full", full); err != nil {
			t.Fatal(err)
		}
		if err := b.LogRequest(ctx, issueInput()); !errors.Is(err, ErrNotRecorded) {
			t.Fatalf("LogRequest err = %v", err)
		}
		if err := b.LogResponse(ctx, issueInput()); !errors.Is(err, ErrNotRecorded) {
			t.Fatalf("LogResponse err = %v", err)
		}
		// Disabling the broken device lets requests through again.
		if err := b.Disable("full/"); err != nil {
			t.Fatal(err)
		}
		if err := b.LogRequest(ctx, issueInput()); err != nil {
			t.Fatalf("no devices: %v", err)
		}
	})
	t.Run("one good device is enough", func(t *testing.T) {
		t.Parallel()
		b := newBroker(t)
		if err := b.Enable("full", full); err != nil {
			t.Fatal(err)
		}
		file := enableFile(t, b, "good", nil)
		if err := b.LogRequest(ctx, issueInput()); err != nil {
			t.Fatalf("LogRequest: %v", err)
		}
		if n := len(readEntries(t, file)); n != 1 {
			t.Fatalf("%d entries on the good device", n)
		}
	})
	t.Run("a device whose file turns unwritable", func(t *testing.T) {
		t.Parallel()
		b := newBroker(t)
		file := enableFile(t, b, "file", nil)
		// Rotation gone wrong: the log path becomes a directory, and the
		// device reopens (as on SIGHUP).
		if err := os.Remove(file); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(file, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := b.Reopen(); err == nil {
			t.Fatal("Reopen succeeded on a directory")
		}
		if err := b.LogRequest(ctx, issueInput()); !errors.Is(err, ErrNotRecorded) {
			t.Fatalf("LogRequest err = %v", err)
		}
	})
	t.Run("no devices records nothing and passes", func(t *testing.T) {
		t.Parallel()
		if err := newBroker(t).LogResponse(ctx, issueInput()); err != nil {
			t.Fatal(err)
		}
	})
}

func TestSpecialPaths(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	b := NewBroker(Options{Clock: clock.NewFake(testTime), Rand: rand.Reader, Stdout: &out})
	if err := b.Enable("stdout", Config{Type: "file", Options: map[string]string{"file_path": "stdout"}}); err != nil {
		t.Fatal(err)
	}
	if err := b.Enable("discard", Config{Type: "file", Options: map[string]string{"file_path": "discard"}}); err != nil {
		t.Fatal(err)
	}
	if err := b.LogRequest(context.Background(), issueInput()); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "\n"); n != 2 { // probe + request
		t.Fatalf("stdout got %d lines: %s", n, out.String())
	}
	list := b.List()
	if list["stdout/"].Options["file_path"] != "stdout" || list["discard/"].Type != "file" || list["discard/"].Path != "discard/" {
		t.Fatalf("List = %+v", list)
	}
}

func TestHash(t *testing.T) {
	t.Parallel()
	b := newBroker(t)
	enableFile(t, b, "a", nil)
	enableFile(t, b, "b", nil)
	ha, err := b.Hash("a/", "input")
	if err != nil {
		t.Fatal(err)
	}
	hb, _ := b.Hash("b", "input")
	ha2, _ := b.Hash("a", "input")
	if ha != ha2 || ha == hb {
		t.Fatalf("salts: a=%s again=%s b=%s", ha, ha2, hb)
	}
	if _, err := b.Hash("nope", "x"); !errors.Is(err, errs.Invalid) || errs.Message(err) != `unknown audit backend "nope/"` {
		t.Fatalf("unknown device: %v", err)
	}
}

func TestPersistence(t *testing.T) {
	t.Parallel()
	space := storagetest.Open(t).Space("sys")
	opts := Options{Space: space, Clock: clock.NewFake(testTime), Rand: rand.Reader}
	b := NewBroker(opts)
	file := filepath.Join(t.TempDir(), "audit.log")
	if err := b.Enable("file", Config{Type: "file", Description: "d", Options: map[string]string{"file_path": file}}); err != nil {
		t.Fatal(err)
	}
	before, _ := b.Hash("file", "x")
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	again := NewBroker(opts)
	if err := again.Restore(); err != nil {
		t.Fatal(err)
	}
	after, err := again.Hash("file", "x")
	if err != nil || after != before {
		t.Fatalf("salt changed across restart: %s vs %s (%v)", before, after, err)
	}
	if again.List()["file/"].Description != "d" {
		t.Fatal("description lost")
	}
	if err := again.Disable("file"); err != nil {
		t.Fatal(err)
	}
	third := NewBroker(opts)
	if err := third.Restore(); err != nil || third.Enabled() {
		t.Fatalf("disabled device came back: %v", err)
	}
}
