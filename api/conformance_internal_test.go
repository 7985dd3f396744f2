package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// shapeBackend answers with the response shapes Vault's HTTP layer has
// rules for (sdk/logical RespondErrorCommon), one route per shape.
type shapeBackend struct {
	emptyBackend
	started chan struct{} // closed when "slow" starts
	done    chan error    // what "slow" saw when it ended
}

func (b *shapeBackend) routes() []Route {
	list := func(resp *Response) map[Operation]HandlerFunc {
		return map[Operation]HandlerFunc{
			OpList: func(context.Context, *Request) (*Response, error) { return resp, nil },
			OpRead: func(context.Context, *Request) (*Response, error) { return resp, nil },
		}
	}
	return []Route{
		{Pattern: "keys-empty", Operations: list(&Response{Data: map[string]any{"keys": []string{}}})},
		{Pattern: "keys-any", Operations: list(&Response{Data: map[string]any{"keys": []any{"a", "b"}}})},
		{Pattern: "keys-bad", Operations: list(&Response{Data: map[string]any{"keys": []any{"a", 1}}})},
		{Pattern: "keys-wrong-type", Operations: list(&Response{Data: map[string]any{"keys": "a,b"}})},
		{Pattern: "other-data", Operations: list(&Response{Data: map[string]any{"key_info": map[string]any{}}})},
		{Pattern: "warnings-only", Operations: list(&Response{Warnings: []string{"careful"}})},
		{Pattern: "nothing", Operations: map[Operation]HandlerFunc{
			OpList:   func(context.Context, *Request) (*Response, error) { return nil, nil },
			OpRead:   func(context.Context, *Request) (*Response, error) { return nil, nil },
			OpHeader: func(context.Context, *Request) (*Response, error) { return nil, nil },
			OpUpdate: func(context.Context, *Request) (*Response, error) { return nil, nil },
			OpDelete: func(context.Context, *Request) (*Response, error) { return nil, nil },
		}},
		{Pattern: "echo/{name:" + NamePattern + "}", Operations: map[Operation]HandlerFunc{
			OpUpdate: b.echo, OpRead: b.echo,
		}},
		{Pattern: "slow", Operations: map[Operation]HandlerFunc{OpRead: b.slow}},
	}
}

// echo decodes "name" and "ttl" and warns, as a handler with a warning of
// its own would.
func (b *shapeBackend) echo(_ context.Context, req *Request) (*Response, error) {
	var in struct {
		Name string `json:"name"`
		TTL  int    `json:"ttl"`
	}
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	return &Response{Data: map[string]any{"name": in.Name}, Warnings: []string{"handler warning"}}, nil
}

// slow waits for its client to go away and reports what ended it.
func (b *shapeBackend) slow(ctx context.Context, _ *Request) (*Response, error) {
	close(b.started)
	select {
	case <-ctx.Done():
		b.done <- ctx.Err()
	case <-time.After(10 * time.Second):
		b.done <- errors.New("handler ran to its end: its context was never cancelled")
	}
	return nil, ctx.Err()
}

func newShapeServer(t *testing.T) (*shapeBackend, *httptest.Server) {
	t.Helper()
	srv, hs := newTestServer(t, &bytes.Buffer{})
	b := &shapeBackend{started: make(chan struct{}), done: make(chan error, 1)}
	srv.addTestMount("shape/", b)
	return b, hs
}

// TestConformanceResponseShapes checks Vault's verdicts on handler answers:
// a list is 404 only with no data (and no warnings), no keys and nothing
// else, or an empty keys list; a keys list that is not strings is a 500; a
// nil answer is 404 to reads, lists and HEAD and 204 (with Vault's JSON
// content type) to writes and deletes.
func TestConformanceResponseShapes(t *testing.T) {
	t.Parallel()
	_, hs := newShapeServer(t)
	cases := []struct {
		name, method, path string
		want               int
		wantBody           string // exact body; "" means not checked
		wantCT             string
	}{
		{"empty keys", "LIST", "/v1/shape/keys-empty", 404, `{"errors":[]}` + "\n", "application/json"},
		{"keys as []any", "LIST", "/v1/shape/keys-any", 200, "", "application/json"},
		{"keys not strings", "LIST", "/v1/shape/keys-bad", 500, `{"errors":[]}` + "\n", "application/json"},
		{"keys of the wrong type", "LIST", "/v1/shape/keys-wrong-type", 500, `{"errors":[]}` + "\n", "application/json"},
		{"no keys but other data", "LIST", "/v1/shape/other-data", 200, "", "application/json"},
		{"warnings only", "LIST", "/v1/shape/warnings-only", 200, "", "application/json"},
		{"warnings only, read", "GET", "/v1/shape/warnings-only", 200, "", "application/json"},
		{"nil list", "LIST", "/v1/shape/nothing", 404, `{"errors":[]}` + "\n", "application/json"},
		{"nil read", "GET", "/v1/shape/nothing", 404, `{"errors":[]}` + "\n", "application/json"},
		{"nil HEAD", "HEAD", "/v1/shape/nothing", 404, "", "application/json"},
		{"nil write", "PUT", "/v1/shape/nothing", 204, "", "application/json"},
		{"nil delete", "DELETE", "/v1/shape/nothing", 204, "", "application/json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, tc.method, hs.URL+tc.path, "")
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.want, body)
			}
			if tc.wantBody != "" && body != tc.wantBody {
				t.Errorf("body %q, want %q", body, tc.wantBody)
			}
			if ct := resp.Header.Get("Content-Type"); ct != tc.wantCT {
				t.Errorf("Content-Type %q, want %q", ct, tc.wantCT)
			}
		})
	}
}

// TestConformanceParameterWarnings checks the framework's two warnings:
// after the handler's own, first the unknown keys (on reads too), then the
// path captures that replaced a sent value (even an equal one).
func TestConformanceParameterWarnings(t *testing.T) {
	t.Parallel()
	_, hs := newShapeServer(t)
	const (
		ignored  = "Endpoint ignored these unrecognized parameters: [alpha zeta]"
		replaced = "Endpoint replaced the value of these parameters with the values captured from the endpoint's path: [name]"
	)
	cases := []struct {
		name, method, path, body string
		want                     []string
	}{
		{"write: handler, ignored, replaced", "PUT", "/v1/shape/echo/web", `{"name":"web","zeta":1,"alpha":2}`,
			[]string{"handler warning", ignored, replaced}},
		{"equal capture still replaced", "PUT", "/v1/shape/echo/web", `{"name":"web"}`,
			[]string{"handler warning", replaced}},
		{"null capture not replaced", "PUT", "/v1/shape/echo/web", `{"name":null}`, []string{"handler warning"}},
		{"read warns about query keys", "GET", "/v1/shape/echo/web?alpha=1&ttl=3", "",
			[]string{"handler warning", "Endpoint ignored these unrecognized parameters: [alpha]"}},
		{"a read keeps list=false as data", "GET", "/v1/shape/echo/web?list=false", "",
			[]string{"handler warning", "Endpoint ignored these unrecognized parameters: [list]"}},
		{"an empty list= is a read", "GET", "/v1/shape/echo/web?list=", "",
			[]string{"handler warning", "Endpoint ignored these unrecognized parameters: [list]"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, tc.method, hs.URL+tc.path, tc.body)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			var out struct{ Warnings []string }
			if err := json.Unmarshal([]byte(body), &out); err != nil {
				t.Fatal(err)
			}
			if strings.Join(out.Warnings, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("warnings\n got %q\nwant %q", out.Warnings, tc.want)
			}
		})
	}
}

// TestConformanceClientGoneCancelsHandler checks that a handler's context
// ends when its client disconnects (spec Appendix E: no work for a client
// that has gone), and that the server serves on.
func TestConformanceClientGoneCancelsHandler(t *testing.T) {
	t.Parallel()
	b, hs := newShapeServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", hs.URL+"/v1/shape/slow", nil)
	req.Header.Set("X-Vault-Token", "root")
	errc := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	select {
	case <-b.started:
	case <-time.After(10 * time.Second):
		t.Fatal("handler never started")
	}
	cancel()
	if err := <-b.done; !errors.Is(err, context.Canceled) {
		t.Fatalf("handler ended with %v, want its context cancelled", err)
	}
	if err := <-errc; err == nil {
		t.Fatal("the cancelled client got an answer")
	}
	if resp, body := do(t, "GET", hs.URL+"/v1/sys/health", ""); resp.StatusCode != 200 {
		t.Fatalf("server stopped serving: %d %s", resp.StatusCode, body)
	}
}

// TestConformancePanicsAnywhere checks that concurrent panicking requests
// are each answered 500 and the server keeps serving the others.
func TestConformancePanicsAnywhere(t *testing.T) {
	t.Parallel()
	_, hs := newTestServer(t, &bytes.Buffer{})
	var wg sync.WaitGroup
	statuses := make(chan int, 40)
	for i := 0; i < 20; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			resp, _ := do(t, "GET", hs.URL+"/v1/test/boom", "")
			statuses <- resp.StatusCode
		}()
		go func() {
			defer wg.Done()
			resp, _ := do(t, "GET", hs.URL+"/v1/sys/health", "")
			statuses <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(statuses)
	n500, n200 := 0, 0
	for st := range statuses {
		switch st {
		case 500:
			n500++
		case 200:
			n200++
		}
	}
	if n500 != 20 || n200 != 20 {
		t.Fatalf("%d answers 500 and %d answers 200, want 20 each", n500, n200)
	}
}

// FuzzParseBody runs the write-body parser on arbitrary input: it must
// never panic, and what it accepts must be a JSON object or a form.
func FuzzParseBody(f *testing.F) {
	for _, seed := range []struct{ ct, body string }{
		{"", `{"type":"pki"}`},
		{"", `null`},
		{"", `["pki"]`},
		{"", `{"a":1}{"b":2}`},
		{"application/json", `{"n":12345678901234567890}`},
		{"application/x-www-form-urlencoded", "type=pki&a=1&a=2"},
		{"application/x-www-form-urlencoded", " {\"type\":\"pki\"}"},
		{"application/x-www-form-urlencoded", "%zz"},
		{"application/merge-patch+json", `{"x":null}`},
		{"text/plain; charset=\xff", "\xff\xfe"},
		{"", strings.Repeat("[", 20000)},
	} {
		f.Add(seed.ct, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		data, err := parseBody(ct, body)
		if err != nil {
			if data != nil {
				t.Fatalf("error %v with data %v", err, data)
			}
			return
		}
		if data == nil {
			t.Fatal("nil data without an error")
		}
		if _, err := json.Marshal(data); err != nil {
			t.Fatalf("accepted data that cannot be rendered: %v", err)
		}
	})
}

// TestConformanceHugeAndOddRequests checks that oversized or strange
// requests get a 4xx and the server keeps answering.
func TestConformanceHugeAndOddRequests(t *testing.T) {
	t.Parallel()
	_, hs := newTestServer(t, &bytes.Buffer{})
	cases := []struct {
		name   string
		req    func() *http.Request
		status int
	}{
		{"header over the limit", func() *http.Request {
			r, _ := http.NewRequest("GET", hs.URL+"/v1/sys/health", nil)
			r.Header.Set("X-Big", strings.Repeat("a", 2<<20))
			return r
		}, http.StatusRequestHeaderFieldsTooLarge},
		{"path over the limit", func() *http.Request {
			r, _ := http.NewRequest("GET", hs.URL+"/v1/test/"+strings.Repeat("a", 64<<10), nil)
			return r
		}, http.StatusRequestURITooLong},
		{"body that never ends in JSON", func() *http.Request {
			r, _ := http.NewRequest("PUT", hs.URL+"/v1/sys/policies/acl/x", io.LimitReader(neverEnding('{'), 40<<20))
			return r
		}, http.StatusRequestEntityTooLarge},
		{"non-printable path", func() *http.Request {
			r, _ := http.NewRequest("GET", hs.URL+"/v1/sys/mounts/a%7Fb", nil)
			return r
		}, http.StatusBadRequest},
		{"unknown verb", func() *http.Request {
			r, _ := http.NewRequest("BREW", hs.URL+"/v1/sys/mounts", nil)
			return r
		}, http.StatusMethodNotAllowed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req()
			req.Header.Set("X-Vault-Token", "root")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
		})
	}
	if resp, body := do(t, "GET", hs.URL+"/v1/sys/health", ""); resp.StatusCode != 200 {
		t.Fatalf("server stopped serving: %d %s", resp.StatusCode, body)
	}
}

type neverEnding byte

func (b neverEnding) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}
