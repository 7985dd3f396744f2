package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pkid-dev/pkid/pkidtest"
)

// BenchmarkPipeline runs requests through the server's handler directly,
// with no network and no client, so that ns/op, cpu-µs/op and allocs/op
// are the server's own: the request pipeline (parse, token, ACL, audit,
// route, render) around cheap handlers, and the issue path around it. The
// store skips fsync here (pkidtest), so "stored" shows the CPU of the
// record write, not the disk.
func BenchmarkPipeline(b *testing.B) {
	srv := pkidtest.Start(b)
	c := srv.Client(b)
	srv.EnablePKI(b, "pki", 87600*time.Hour)
	ctx := context.Background()
	for _, w := range []struct {
		path string
		body map[string]any
	}{
		{"pki/root/generate/internal", map[string]any{"common_name": "Bench Root", "key_type": "ec", "ttl": "8760h"}},
		{"pki/roles/ec", map[string]any{"allowed_domains": "example.com", "allow_subdomains": true, "key_type": "ec"}},
		{"pki/roles/ecns", map[string]any{"allowed_domains": "example.com", "allow_subdomains": true, "key_type": "ec", "no_store": true}},
	} {
		if _, err := c.Logical().WriteWithContext(ctx, w.path, w.body); err != nil {
			b.Fatal(err)
		}
	}
	issue := `{"common_name":"www.example.com","ttl":"1h"}`
	for _, tc := range []struct {
		name, method, path, body string
	}{
		{"health", http.MethodGet, "/v1/sys/health", ""},
		{"read-role", http.MethodGet, "/v1/pki/roles/ec", ""},
		{"issue-no_store", http.MethodPost, "/v1/pki/issue/ecns", issue},
		{"issue-stored", http.MethodPost, "/v1/pki/issue/ec", issue},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := processCPU()
			for b.Loop() {
				req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
				req.Header.Set("X-Vault-Token", srv.Token)
				rec := httptest.NewRecorder()
				srv.API.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", tc.path, rec.Code, rec.Body)
				}
			}
			b.ReportMetric(float64(processCPU()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
		})
	}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
