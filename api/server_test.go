package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/pkid-dev/pkid/pkidtest"
)

// call sends a raw request and returns the status and decoded JSON body.
func call(t *testing.T, srv *pkidtest.Server, method, path, token, body string, hdr ...string) (int, map[string]any, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("X-Vault-Token", token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: bad JSON %q: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode, out, resp.Header
}

func TestMountLifecycleThroughVaultClient(t *testing.T) {
	t.Parallel()
	srv := pkidtest.Start(t)
	c := srv.Client(t)
	ctx := context.Background()

	err := c.Sys().MountWithContext(ctx, "pki", &vault.MountInput{Type: "pki", Description: "test CA",
		Config: vault.MountConfigInput{MaxLeaseTTL: "87600h"}})
	if err != nil {
		t.Fatalf("enable: %v", err)
	}
	if err := c.Sys().MountWithContext(ctx, "pki/prod/x", &vault.MountInput{Type: "pki"}); err == nil {
		t.Fatal("overlapping mount accepted")
	}
	if err := c.Sys().MountWithContext(ctx, "team/pki", &vault.MountInput{Type: "pki"}); err != nil {
		t.Fatalf("nested mount path: %v", err)
	}
	mounts, err := c.Sys().ListMountsWithContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m := mounts["pki/"]
	if m == nil || m.Type != "pki" || m.Description != "test CA" || m.Config.MaxLeaseTTL != 315360000 || m.Config.DefaultLeaseTTL != 0 {
		t.Fatalf("pki/ listed as %+v", m)
	}
	for _, p := range []string{"sys/", "cubbyhole/", "identity/", "team/pki/"} {
		if mounts[p] == nil {
			t.Errorf("mount %s not listed", p)
		}
	}
	tune, err := c.Sys().MountConfigWithContext(ctx, "pki")
	if err != nil {
		t.Fatal(err)
	}
	if tune.DefaultLeaseTTL != 2764800 || tune.MaxLeaseTTL != 315360000 {
		t.Fatalf("tune read %+v: want effective TTLs 2764800/315360000", tune)
	}
	if err := c.Sys().TuneMountWithContext(ctx, "pki", vault.MountConfigInput{DefaultLeaseTTL: "1h"}); err != nil {
		t.Fatal(err)
	}
	tune, _ = c.Sys().MountConfigWithContext(ctx, "pki")
	if tune.DefaultLeaseTTL != 3600 || tune.MaxLeaseTTL != 315360000 {
		t.Fatalf("after tune %+v", tune)
	}
	err = c.Sys().TuneMountWithContext(ctx, "pki", vault.MountConfigInput{MaxLeaseTTL: "30m"})
	if err == nil || !strings.Contains(err.Error(), "would be less than backend default lease TTL") {
		t.Fatalf("max below default: %v", err)
	}
	if err := c.Sys().UnmountWithContext(ctx, "pki"); err != nil {
		t.Fatal(err)
	}
	mounts, _ = c.Sys().ListMountsWithContext(ctx)
	if mounts["pki/"] != nil {
		t.Fatal("pki/ still listed after disable")
	}
	if err := c.Sys().UnmountWithContext(ctx, "never-mounted"); err != nil {
		t.Fatalf("disabling nothing: %v", err)
	}
}

func TestMountEnableExactCLIBody(t *testing.T) {
	t.Parallel()
	srv := pkidtest.Start(t)
	// What `vault secrets enable -path=pki_root pki` and `secrets tune` send.
	body := `{"type":"pki","description":"","config":{"options":null,"default_lease_ttl":"0s","max_lease_ttl":"0s","force_no_cache":false},"local":false,"seal_wrap":false,"external_entropy_access":false,"options":null}`
	if st, out, _ := call(t, srv, "PUT", "/v1/sys/mounts/pki_root", "root", body); st != 204 {
		t.Fatalf("enable: %d %v", st, out)
	}
	tune := `{"options":null,"default_lease_ttl":"","max_lease_ttl":"87600h0m0s","force_no_cache":false}`
	if st, out, _ := call(t, srv, "PUT", "/v1/sys/mounts/pki_root/tune", "root", tune); st != 204 {
		t.Fatalf("tune: %d %v", st, out)
	}
	st, out, _ := call(t, srv, "GET", "/v1/sys/mounts/pki_root/tune", "root", "")
	data, _ := out["data"].(map[string]any)
	if st != 200 || data["max_lease_ttl"] != float64(315360000) || data["default_lease_ttl"] != float64(2764800) {
		t.Fatalf("tune read: %d %v", st, out)
	}
	st, out, _ = call(t, srv, "GET", "/v1/sys/mounts/pki_root", "root", "")
	if st != 200 || out["type"] != "pki" {
		t.Fatalf("read mount (sys routes copy data to the top level): %d %v", st, out)
	}
}

func TestHealthAndStatus(t *testing.T) {
	t.Parallel()
	srv := pkidtest.Start(t, pkidtest.Options{Version: "1.17.3"})
	c := srv.Client(t)
	h, err := c.Sys().HealthWithContext(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !h.Initialized || h.Sealed || h.Standby || h.Version != "1.17.3" || h.ClusterID == "" {
		t.Fatalf("health %+v", h)
	}
	seal, err := c.Sys().SealStatusWithContext(context.Background())
	if err != nil || seal.Sealed || seal.Version != "1.17.3" || seal.Type != "shamir" {
		t.Fatalf("seal-status %+v %v", seal, err)
	}
	leader, err := c.Sys().LeaderWithContext(context.Background())
	if err != nil || leader.HAEnabled {
		t.Fatalf("leader %+v %v", leader, err)
	}
	cases := []struct {
		method, query string
		want          int
	}{
		{"GET", "", 200},
		{"HEAD", "", 200},
		{"GET", "?activecode=299", 299},
		{"HEAD", "?activecode=204", 204},
		{"GET", "?standbyok=true&perfstandbyok=true", 200},
		{"GET", "?activecode=abc", 400},
	}
	for _, tc := range cases {
		if st, _, _ := call(t, srv, tc.method, "/v1/sys/health"+tc.query, "", ""); st != tc.want {
			t.Errorf("%s sys/health%s: %d, want %d", tc.method, tc.query, st, tc.want)
		}
	}
	if st, out, _ := call(t, srv, "GET", "/v1/sys/init", "", ""); st != 200 || out["initialized"] != true {
		t.Errorf("sys/init: %d %v", st, out)
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	srv := pkidtest.Start(t)
	c := srv.Client(t)
	ctx := context.Background()
	sec, err := c.Auth().Token().CreateWithContext(ctx, &vault.TokenCreateRequest{
		Policies: []string{"root"}, TTL: "1h", DisplayName: "ci", Metadata: map[string]string{"team": "pki"}})
	if err != nil {
		t.Fatal(err)
	}
	if sec.Auth == nil || !strings.HasPrefix(sec.Auth.ClientToken, "hvs.") || sec.Auth.LeaseDuration != 3600 || !sec.Auth.Renewable {
		t.Fatalf("create: %+v", sec.Auth)
	}
	child := srv.Client(t)
	child.SetToken(sec.Auth.ClientToken)
	self, err := child.Auth().Token().LookupSelfWithContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if self.Data["display_name"] != "token-ci" || self.Data["path"] != "auth/token/create" ||
		self.Data["accessor"] != sec.Auth.Accessor || self.Data["id"] != sec.Auth.ClientToken {
		t.Fatalf("lookup-self: %v", self.Data)
	}
	if ttl, _ := self.Data["ttl"].(json.Number).Int64(); ttl < 3590 || ttl > 3600 {
		t.Fatalf("ttl %v", self.Data["ttl"])
	}
	other, err := c.Auth().Token().LookupWithContext(ctx, sec.Auth.ClientToken)
	if err != nil || other.Data["accessor"] != sec.Auth.Accessor {
		t.Fatalf("lookup: %v %v", other, err)
	}
	// A child of the created token is revoked with it.
	grand, err := child.Auth().Token().CreateWithContext(ctx, &vault.TokenCreateRequest{TTL: "10m"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Auth().Token().RevokeTreeWithContext(ctx, sec.Auth.ClientToken); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{sec.Auth.ClientToken, grand.Auth.ClientToken} {
		if st, out, _ := call(t, srv, "GET", "/v1/auth/token/lookup-self", tok, ""); st != 403 {
			t.Fatalf("revoked token still works: %d %v", st, out)
		}
	}
	// revoke-self, and a token without the root policy is refused elsewhere.
	weak, err := c.Auth().Token().CreateWithContext(ctx, &vault.TokenCreateRequest{Policies: []string{"nothing"}})
	if err != nil {
		t.Fatal(err)
	}
	if st, out, _ := call(t, srv, "GET", "/v1/sys/mounts", weak.Auth.ClientToken, ""); st != 403 {
		t.Fatalf("non-root token on sys/mounts: %d %v", st, out)
	}
	if st, _, _ := call(t, srv, "POST", "/v1/auth/token/revoke-self", weak.Auth.ClientToken, ""); st != 204 {
		t.Fatalf("revoke-self: %d", st)
	}
	if st, _, _ := call(t, srv, "GET", "/v1/auth/token/lookup-self", weak.Auth.ClientToken, ""); st != 403 {
		t.Fatalf("revoked-self token: %d", st)
	}
}

func TestTokenBearerAndExpiry(t *testing.T) {
	t.Parallel()
	srv := pkidtest.Start(t)
	if st, _, _ := call(t, srv, "GET", "/v1/auth/token/lookup-self", "", "", "Authorization", "Bearer root"); st != 200 {
		t.Fatalf("Authorization: Bearer: %d", st)
	}
	if st, _, _ := call(t, srv, "GET", "/v1/auth/token/lookup-self", "", "", "Authorization", "Basic cm9vdA=="); st != 403 {
		t.Fatalf("Basic auth must be ignored: %d", st)
	}
}

func TestStatusCodesAndEnvelopes(t *testing.T) {
	t.Parallel()
	srv := pkidtest.Start(t, pkidtest.Options{MaxRequestSize: 1 << 10})
	srv.EnablePKI(t, "pki", 0)
	cases := []struct {
		name, method, path, token, body string
		hdr                             []string
		want                            int
		wantErr                         string // substring of errors[0]; "-" means errors must be []
	}{
		{"no token", "GET", "/v1/sys/mounts", "", "", nil, 403, "permission denied"},
		{"bad token", "GET", "/v1/sys/mounts", "nope", "", nil, 403, "permission denied"},
		{"no mount", "GET", "/v1/nothing/here", "root", "", nil, 404, `no handler for route "nothing/here"`},
		{"unknown path on mount", "GET", "/v1/pki/nonsense", "root", "", nil, 404, "unsupported path"},
		{"wrong verb", "DELETE", "/v1/sys/health", "", "", nil, 405, "unsupported operation"},
		{"unknown verb", "BREW", "/v1/sys/health", "", "", nil, 405, "-"},
		{"list=maybe", "GET", "/v1/sys/mounts?list=maybe", "root", "", nil, 400, "-"},
		{"malformed JSON", "PUT", "/v1/sys/mounts/x", "root", `{"type":`, nil, 400, "failed to decode JSON input"},
		{"JSON array body", "PUT", "/v1/sys/mounts/x", "root", `["pki"]`, nil, 400, "failed to decode JSON input"},
		{"body over the limit", "PUT", "/v1/sys/mounts/x", "root", `{"type":"pki","description":"` + strings.Repeat("a", 2000) + `"}`, nil, 413, "too large"},
		{"unknown mount type", "PUT", "/v1/sys/mounts/x", "root", `{"type":"bogus"}`, nil, 400, "plugin not found in the catalog: bogus"},
		{"kv refused clearly", "PUT", "/v1/sys/mounts/kv", "root", `{"type":"kv"}`, nil, 400, "only the pki secrets engine"},
		{"missing type", "PUT", "/v1/sys/mounts/x", "root", `{}`, nil, 400, "backend type must be specified"},
		{"bad TTL string", "PUT", "/v1/sys/mounts/x", "root", `{"type":"pki","config":{"max_lease_ttl":"ten years"}}`, nil, 400, "max TTL"},
		{"negative TTL", "PUT", "/v1/sys/mounts/x", "root", `{"type":"pki","config":{"max_lease_ttl":"-5"}}`, nil, 400, "negative"},
		{"default above max", "PUT", "/v1/sys/mounts/x", "root", `{"type":"pki","config":{"default_lease_ttl":"2h","max_lease_ttl":"1h"}}`, nil, 400, "greater than given max"},
		{"bad tune TTL", "PUT", "/v1/sys/mounts/pki/tune", "root", `{"max_lease_ttl":"soon"}`, nil, 400, "max TTL"},
		{"empty mount path", "PUT", "/v1/sys/mounts/", "root", `{"type":"pki"}`, nil, 404, "unsupported path"},
		{"reserved path", "PUT", "/v1/sys/mounts/sys", "root", `{"type":"pki"}`, nil, 400, "already in use"},
		{"read of nothing", "GET", "/v1/sys/mounts/none", "root", "", nil, 400, "No secret engine mount at none/"},
		{"form body", "PUT", "/v1/sys/mounts/formed", "root", "type=pki&description=x", []string{"Content-Type", "application/x-www-form-urlencoded"}, 204, ""},
		{"JSON with a form type", "PUT", "/v1/sys/mounts/jf", "root", `{"type":"pki"}`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 204, ""},
		// renew-self of the initial root token is a 400 in Vault (it has no
		// lease), so the null body is tried on lookup-self.
		{"null body", "PUT", "/v1/auth/token/lookup-self", "root", `null`, nil, 200, ""},
		{"PATCH without merge-patch", "PATCH", "/v1/sys/mounts/pki/tune", "root", `{}`, nil, 415, "merge-patch"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, out, h := call(t, srv, tc.method, tc.path, tc.token, tc.body, tc.hdr...)
			if st != tc.want {
				t.Fatalf("status %d, want %d (%v)", st, tc.want, out)
			}
			if h.Get("X-Request-Id") == "" || h.Get("Cache-Control") != "no-store" {
				t.Errorf("missing request id or cache-control: %v", h)
			}
			if tc.wantErr == "" {
				return
			}
			errsList, ok := out["errors"].([]any)
			if !ok {
				t.Fatalf("no errors list: %v", out)
			}
			if tc.wantErr == "-" {
				if len(errsList) != 0 {
					t.Fatalf("errors %v, want []", errsList)
				}
				return
			}
			if len(errsList) == 0 || !strings.Contains(errsList[0].(string), tc.wantErr) {
				t.Fatalf("errors %v, want %q", errsList, tc.wantErr)
			}
		})
	}
	// The server still answers after all of that.
	if st, _, _ := call(t, srv, "GET", "/v1/sys/health", "", ""); st != 200 {
		t.Fatalf("health after bad input: %d", st)
	}
}

func TestEnvelopeShape(t *testing.T) {
	t.Parallel()
	srv := pkidtest.Start(t)
	st, out, _ := call(t, srv, "GET", "/v1/auth/token/lookup-self", "root", "")
	if st != 200 {
		t.Fatalf("%d %v", st, out)
	}
	for _, k := range []string{"request_id", "lease_id", "renewable", "lease_duration", "data", "wrap_info", "warnings", "auth", "mount_type"} {
		if _, ok := out[k]; !ok {
			t.Errorf("envelope lacks %q: %v", k, out)
		}
	}
	if out["warnings"] != nil || out["wrap_info"] != nil || out["mount_type"] != "token" {
		t.Errorf("envelope %v", out)
	}
	// Unknown body keys are ignored with Vault's warning.
	st, out, _ = call(t, srv, "POST", "/v1/auth/token/create", "root", `{"ttl":"1h","frobnicate":true,"zeta":1}`)
	ws, _ := out["warnings"].([]any)
	if st != 200 || len(ws) != 1 || ws[0] != "Endpoint ignored these unrecognized parameters: [frobnicate zeta]" {
		t.Fatalf("warnings %d %v", st, out)
	}
}

func TestUnCleanPathRedirects(t *testing.T) {
	t.Parallel()
	srv := pkidtest.Start(t)
	for _, p := range []string{"/v1/sys//health", "/v1/sys/./health", "/v1/sys/x/../health"} {
		req, _ := http.NewRequest("GET", srv.URL+p, nil)
		req.URL.Opaque = p // keep the path as written
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 307 || resp.Header.Get("Location") != "/v1/sys/health" {
			t.Errorf("%s: %d %q", p, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

func TestLongPathAnsweredQuickly(t *testing.T) {
	t.Parallel()
	srv := pkidtest.Start(t)
	start := time.Now()
	st, _, _ := call(t, srv, "GET", "/v1/sys/mounts/"+strings.Repeat("a", 200<<10), "root", "")
	if st != 414 {
		t.Fatalf("status %d, want 414", st)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("took %v", d)
	}
}
