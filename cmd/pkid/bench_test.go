package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func benchServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/pki_int/issue/web" && r.URL.Path != "/v1/pki_int/sign/web" {
			w.WriteHeader(404)
			fmt.Fprint(w, `{"errors":[]}`)
			return
		}
		fmt.Fprint(w, `{"data":{"certificate":"C","serial_number":"01"}}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestBenchCommand(t *testing.T) {
	t.Parallel()
	srv := benchServer(t)
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   []string // substrings
		stderr   string
		wantJSON bool
	}{
		{
			name:   "issue",
			args:   []string{"issue", "-role=web", "-clients=2", "-duration=200ms", "-warmup=0s"},
			stdout: []string{"pkid bench issue: ", "path           pki_int/issue/web\n", "certificates   ", "latency        p50 ", "errors         0\n", "load average   "},
		},
		{
			name:   "sign",
			args:   []string{"sign", "-role=web", "-clients=2", "-duration=200ms", "-warmup=0s"},
			stdout: []string{"path           pki_int/sign/web\n"},
		},
		{
			name:   "-csr is sign",
			args:   []string{"issue", "-csr", "-role=web", "-clients=1", "-duration=100ms", "-warmup=0s"},
			stdout: []string{"path           pki_int/sign/web\n"},
		},
		{
			name:     "json",
			args:     []string{"issue", "-json", "-role=web", "-clients=1", "-duration=100ms", "-warmup=0s"},
			wantJSON: true,
		},
		{name: "no mode", args: nil, code: 2, stderr: "Usage: pkid bench issue|sign"},
		{name: "no role", args: []string{"issue"}, code: 2, stderr: "-role is required"},
		{name: "stray argument", args: []string{"issue", "-role=web", "extra"}, code: 2, stderr: `unexpected argument "extra"`},
		{name: "bad flag", args: []string{"issue", "-clients=many"}, code: 2, stderr: "invalid value"},
		{name: "unknown role", args: []string{"issue", "-role=nope", "-duration=100ms"}, code: 1, stderr: "first issue request failed: 404 Not Found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			args := tc.args
			if len(args) > 0 {
				args = append([]string{args[0], "-addr=" + srv.URL, "-token=t"}, args[1:]...)
			}
			code := runBench(args, &out, &errOut)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out.String(), errOut.String())
			}
			for _, s := range tc.stdout {
				if !strings.Contains(out.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, out.String())
				}
			}
			if tc.stderr != "" && !strings.Contains(errOut.String(), tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, errOut.String())
			}
			if tc.wantJSON {
				var res struct {
					Issued int
					Path   string
				}
				if err := json.Unmarshal(out.Bytes(), &res); err != nil || res.Issued == 0 || res.Path != "pki_int/issue/web" {
					t.Fatalf("JSON output %+v (%v):\n%s", res, err, out.String())
				}
			}
		})
	}
}
