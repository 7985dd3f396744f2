package api

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkid-dev/pkid/storage"
)

type panicBackend struct{ emptyBackend }

func (panicBackend) routes() []Route {
	return []Route{
		{Pattern: "boom", Operations: map[Operation]HandlerFunc{
			OpRead: func(context.Context, *Request) (*Response, error) { panic("kaboom") },
		}},
		{Pattern: "items", Operations: map[Operation]HandlerFunc{
			OpList: func(_ context.Context, req *Request) (*Response, error) {
				if req.Data["after"] == "empty" {
					return &Response{Data: map[string]any{"keys": []string{}}}, nil
				}
				return &Response{Data: map[string]any{"keys": []string{"a", "b"}}}, nil
			},
		}},
		{Pattern: "named/{name:" + NamePattern + "}", Operations: map[Operation]HandlerFunc{
			OpUpdate: func(_ context.Context, req *Request) (*Response, error) {
				var in struct {
					Name string `json:"name"`
					TTL  int    `json:"ttl"`
				}
				if err := req.Decode(&in); err != nil {
					return nil, err
				}
				return &Response{Data: map[string]any{"name": in.Name, "ttl": in.TTL}}, nil
			},
		}},
	}
}

// testPeriodicInterval is the periodic interval of test servers: short, so
// that any test touching the mount table or a mount's state without the
// server's lock races the periodic loop and the race detector sees it.
const testPeriodicInterval = 10 * time.Millisecond

// newTestServer is a server with a panicBackend mounted at test/ and the
// periodic loop running every testPeriodicInterval.
func newTestServer(t *testing.T, logs *bytes.Buffer) (*Server, *httptest.Server) {
	t.Helper()
	return newTestServerWith(t, logs, testPeriodicInterval)
}

// newTestServerWith is newTestServer with a chosen periodic interval
// (negative: no periodic loop, for tests that count RunPeriodic calls).
func newTestServerWith(t *testing.T, logs *bytes.Buffer, periodic time.Duration) (*Server, *httptest.Server) {
	t.Helper()
	store, err := storage.Open(filepath.Join(t.TempDir(), "db"), storage.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{Store: store, Logger: slog.New(slog.NewTextHandler(logs, nil)), PeriodicInterval: periodic})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.InitRootToken("root"); err != nil {
		t.Fatal(err)
	}
	srv.addTestMount("test/", panicBackend{})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); srv.Close(); store.Close() })
	return srv, hs
}

// addTestMount mounts a test backend at path (with its trailing slash)
// under the server's lock, as enableMount does, so the periodic loop never
// sees the table half-written. The mount's UUID is its path.
func (s *Server) addTestMount(path string, b backend) *mount {
	m := &mount{life: &mountLife{}, entry: MountEntry{Kind: kindSecret, Path: path, Type: "test", UUID: path},
		backend: b, table: newRouteTable(b.routes(), b.unauthenticatedPaths(), b.sudoPaths())}
	s.mu.Lock()
	s.mounts[path] = m
	s.mu.Unlock()
	return m
}

func do(t *testing.T, method, url, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("X-Vault-Token", "root")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return resp, buf.String()
}

func TestPanicIsRecoveredAndLogged(t *testing.T) {
	var logs bytes.Buffer
	_, hs := newTestServer(t, &logs)
	resp, body := do(t, "GET", hs.URL+"/v1/test/boom", "")
	if resp.StatusCode != 500 || !strings.Contains(body, "internal error") {
		t.Fatalf("panic answered %d %s", resp.StatusCode, body)
	}
	id := resp.Header.Get("X-Request-Id")
	if !strings.Contains(logs.String(), "kaboom") || !strings.Contains(logs.String(), id) {
		t.Fatalf("panic not logged with request id %s: %s", id, logs.String())
	}
	if resp, _ := do(t, "GET", hs.URL+"/v1/sys/health", ""); resp.StatusCode != 200 {
		t.Fatalf("server stopped serving after a panic: %d", resp.StatusCode)
	}
}

func TestListBothWays(t *testing.T) {
	_, hs := newTestServer(t, &bytes.Buffer{})
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{"LIST", "/v1/test/items", 200},
		{"LIST", "/v1/test/items/", 200},
		{"GET", "/v1/test/items?list=true", 200},
		{"GET", "/v1/test/items?list=1", 200},
		{"GET", "/v1/test/items/?list=TRUE", 200},
		{"GET", "/v1/test/items?list=false", 405},
		{"GET", "/v1/test/items", 405},
		{"GET", "/v1/test/items?list=maybe", 400},
		{"LIST", "/v1/test/items?after=empty", 404},
	} {
		resp, body := do(t, tc.method, hs.URL+tc.path, "")
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, resp.StatusCode, body, tc.want)
		}
		if tc.want == 200 && !strings.Contains(body, `"keys":["a","b"]`) {
			t.Errorf("%s %s: %s", tc.method, tc.path, body)
		}
		if tc.want == 404 && !strings.Contains(body, `{"errors":[]}`) {
			t.Errorf("%s %s: empty list must answer {\"errors\":[]}: %s", tc.method, tc.path, body)
		}
	}
}

func TestPathCaptureWinsWithWarning(t *testing.T) {
	_, hs := newTestServer(t, &bytes.Buffer{})
	resp, body := do(t, "PUT", hs.URL+"/v1/test/named/web", `{"name":"other","ttl":"30"}`)
	if resp.StatusCode != 200 || !strings.Contains(body, `"name":"web"`) || !strings.Contains(body, `"ttl":30`) ||
		!strings.Contains(body, "Endpoint replaced the value of these parameters with the values captured from the endpoint's path: [name]") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	resp, body = do(t, "PUT", hs.URL+"/v1/test/named/web-", `{}`)
	if resp.StatusCode != 404 {
		t.Fatalf("a name ending in '-' must not match: %d %s", resp.StatusCode, body)
	}
	resp, body = do(t, "PUT", hs.URL+"/v1/test/named/web", `{"ttl":"soon"}`)
	if resp.StatusCode != 400 || !strings.Contains(body, `Field validation failed: error converting input for field \"ttl\"`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

func TestMatchSpecial(t *testing.T) {
	cases := []struct {
		pattern, path string
		want          bool
	}{
		{"ca", "ca", true},
		{"ca", "ca/pem", false},
		{"cert/*", "cert/ab:cd", true},
		{"cert/*", "cert/", true},
		{"cert/*", "certs", false},
		{"issuer/+/pem", "issuer/root-2024/pem", true},
		{"issuer/+/pem", "issuer//pem", false},
		{"issuer/+/pem", "issuer/a/b/pem", false},
		{"issuers/", "issuers/", true},
		{"rotate*", "rotate/keyring", true},
		{"ocsp/*", "ocsp/MEMwQT", true},
	}
	for _, tc := range cases {
		if got := specialMatches(tc.pattern, tc.path); got != tc.want {
			t.Errorf("%q ~ %q = %v, want %v", tc.pattern, tc.path, got, tc.want)
		}
	}
}

// blockingBackend's "slow" route waits until released, to hold a request
// in flight on its mount.
type blockingBackend struct {
	emptyBackend
	started, release chan struct{}
}

func (b blockingBackend) routes() []Route {
	return []Route{{Pattern: "slow", Operations: map[Operation]HandlerFunc{
		OpUpdate: func(context.Context, *Request) (*Response, error) {
			close(b.started)
			<-b.release
			return &Response{Data: map[string]any{"done": true}}, nil
		},
	}}}
}

func TestDisableWaitsForRequestsInFlight(t *testing.T) {
	srv, hs := newTestServer(t, &bytes.Buffer{})
	b := blockingBackend{started: make(chan struct{}), release: make(chan struct{})}
	srv.addTestMount("slow/", b)
	done := make(chan int, 1)
	go func() {
		resp, _ := do(t, "PUT", hs.URL+"/v1/slow/slow", "{}")
		done <- resp.StatusCode
	}()
	<-b.started
	disabled := make(chan error, 1)
	go func() { disabled <- srv.disableMount("slow/") }()
	select {
	case <-disabled:
		t.Fatal("disable returned while a request was still in flight on the mount")
	case <-time.After(100 * time.Millisecond):
	}
	close(b.release)
	if st := <-done; st != 200 {
		t.Fatalf("in-flight request answered %d", st)
	}
	if err := <-disabled; err != nil {
		t.Fatal(err)
	}
	if resp, _ := do(t, "PUT", hs.URL+"/v1/slow/slow", "{}"); resp.StatusCode != 404 {
		t.Fatalf("request after disable: %d", resp.StatusCode)
	}
}
