package api_test

// Vault fidelity of the HTTP conventions (spec §1, Appendices C–E) and of
// the sys and token endpoints (spec §2): each case is a request as a client
// sends it and the status, errors, warnings and fields Vault answers with
// (read from Vault's source: http/handler.go, http/logical.go,
// sdk/framework/backend.go, sdk/logical/response_util.go,
// vault/logical_system.go, vault/token_store.go, http/sys_health.go).

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"

	vault "github.com/hashicorp/vault/api"

	"github.com/pkid-dev/pkid/pkidtest"
)

// rawCall sends a request and returns the status, headers and body bytes.
func rawCall(t *testing.T, srv *pkidtest.Server, method, path, token, body string, hdr ...string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("X-Vault-Token", token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, raw
}

// expect is what a case checks of an answer; zero fields are not checked.
type expect struct {
	status   int
	errors   []string       // exact "errors" list (non-nil: checked)
	warnings []string       // exact "warnings" (non-nil: checked; []string{} means null)
	data     map[string]any // these keys of "data" (or of the body when unwrapped), exactly
	noData   []string       // keys "data" must not have
	top      []string       // keys that must be at the top level too (sys injection)
	auth     map[string]any // these keys of "auth", exactly
	header   map[string]string
}

type confCase struct {
	name, method, path, token, body string
	hdr                             []string
	want                            expect
}

func runConfCases(t *testing.T, srv *pkidtest.Server, cases []confCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			token := tc.token
			if token == "" {
				token = srv.Token
			}
			if token == "-" {
				token = ""
			}
			st, h, raw := rawCall(t, srv, tc.method, tc.path, token, tc.body, tc.hdr...)
			checkAnswer(t, tc.want, st, h, raw)
		})
	}
}

func checkAnswer(t *testing.T, want expect, st int, h http.Header, raw []byte) {
	t.Helper()
	if want.status != 0 && st != want.status {
		t.Fatalf("status %d, want %d: %s", st, want.status, raw)
	}
	for k, v := range want.header {
		if got := h.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	var out map[string]any
	if len(raw) > 0 {
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.UseNumber()
		if err := dec.Decode(&out); err != nil {
			t.Fatalf("body is not JSON: %q", raw)
		}
	}
	if want.errors != nil {
		if got := strList(out["errors"]); !reflect.DeepEqual(got, want.errors) || out["errors"] == nil {
			t.Errorf("errors %q, want %q", got, want.errors)
		}
	}
	if want.warnings != nil {
		if got := strList(out["warnings"]); !reflect.DeepEqual(got, want.warnings) {
			t.Errorf("warnings %q, want %q", got, want.warnings)
		}
	}
	data, _ := out["data"].(map[string]any)
	if data == nil {
		data = out
	}
	for k, v := range want.data {
		got, ok := data[k]
		if !ok {
			t.Errorf("data lacks %q: %s", k, raw)
			continue
		}
		if js, _ := json.Marshal(got); string(js) != mustJSON(t, v) {
			t.Errorf("data[%q] = %s, want %s", k, js, mustJSON(t, v))
		}
	}
	authBlock, _ := out["auth"].(map[string]any)
	for k, v := range want.auth {
		if js, _ := json.Marshal(authBlock[k]); string(js) != mustJSON(t, v) {
			t.Errorf("auth[%q] = %s, want %s", k, js, mustJSON(t, v))
		}
	}
	for _, k := range want.noData {
		if _, ok := data[k]; ok {
			t.Errorf("data has %q, which Vault does not send here: %s", k, raw)
		}
	}
	for _, k := range want.top {
		if _, ok := out[k]; !ok {
			t.Errorf("%q not copied to the top level: %s", k, raw)
		}
	}
}

func strList(v any) []string {
	list, _ := v.([]any)
	out := []string{}
	for _, e := range list {
		s, _ := e.(string)
		out = append(out, s)
	}
	return out
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	js, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(js)
}

// TestConformanceHTTPConventions covers spec §1: verbs, query handling,
// content types, headers, injected sys routes, error bodies.
func TestConformanceHTTPConventions(t *testing.T) {
	t.Parallel()
	srv := pkidtest.Start(t)
	srv.EnablePKI(t, "pki", 0)
	cases := []confCase{
		{name: "?list= with no value is a read", method: "GET", path: "/v1/sys/policy?list=",
			want: expect{status: 200, warnings: []string{"Endpoint ignored these unrecognized parameters: [list]"}, top: []string{"keys", "policies"}}},
		{name: "?list=false stays in the read's data", method: "GET", path: "/v1/sys/policy?list=false",
			want: expect{status: 200, warnings: []string{"Endpoint ignored these unrecognized parameters: [list]"}}},
		{name: "?list=true is consumed", method: "GET", path: "/v1/sys/policy?list=true",
			want: expect{status: 200, warnings: []string{}, data: map[string]any{"keys": []string{"default", "root"}}}},
		{name: "a read warns of unknown query keys", method: "GET", path: "/v1/auth/token/lookup-self?bogus=1",
			want: expect{status: 200, warnings: []string{"Endpoint ignored these unrecognized parameters: [bogus]"}}},
		{name: "PATCH with a JSON content type", method: "PATCH", path: "/v1/pki/roles/web", body: `{}`,
			hdr:  []string{"Content-Type", "application/json"},
			want: expect{status: 415, errors: []string{"PATCH requires Content-Type of application/merge-patch+json, provided application/json"}}},
		{name: "form body that does not parse", method: "PUT", path: "/v1/sys/policies/acl/f", body: "policy=%zz",
			hdr:  []string{"Content-Type", "application/x-www-form-urlencoded"},
			want: expect{status: 400, errors: []string{"error parsing form data"}}},
		{name: "a write answering nothing is 204 with Vault's content type", method: "DELETE", path: "/v1/sys/policies/acl/none",
			want: expect{status: 204, header: map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"}}},
		{name: "X-Vault-Namespace is echoed", method: "GET", path: "/v1/sys/health", hdr: []string{"X-Vault-Namespace", "root"},
			want: expect{status: 200, header: map[string]string{"X-Vault-Namespace": "root"}}},
		{name: "the first Bearer Authorization value counts", method: "GET", path: "/v1/auth/token/lookup-self", token: "-",
			hdr:  []string{"Authorization", "Basic cm9vdA==", "Authorization", "Bearer root"},
			want: expect{status: 200, data: map[string]any{"id": "root"}}},
		{name: "no token", method: "GET", path: "/v1/sys/mounts", token: "-",
			want: expect{status: 403, errors: []string{"permission denied"}}},
		{name: "a token that does not exist (Vault 1.17+)", method: "GET", path: "/v1/sys/mounts", token: "nope",
			want: expect{status: 403, errors: []string{"2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"}}},
		{name: "sys/audit-hash is an injected route", method: "PUT", path: "/v1/sys/audit-hash/none", body: `{"input":"x"}`,
			want: expect{status: 400, errors: []string{`unknown audit backend "none/"`}}},
		{name: "sys/capabilities-self is an injected route", method: "PUT", path: "/v1/sys/capabilities-self", body: `{"paths":["pki/roles/x"]}`,
			want: expect{status: 200, top: []string{"capabilities", "pki/roles/x"}}},
		{name: "LIST of an injected route is injected", method: "LIST", path: "/v1/sys/policy",
			want: expect{status: 200, top: []string{"keys", "policies"}}},
	}
	runConfCases(t, srv, cases)

	// A non-printable path is refused by Vault's outermost handler with a
	// bare 400: no body, no headers of its own.
	st, h, raw := rawCall(t, srv, "GET", "/v1/sys/mounts/a%01b", srv.Token, "")
	if st != 400 || len(raw) != 0 || h.Get("Cache-Control") != "" {
		t.Errorf("non-printable path: %d %q %v", st, raw, h)
	}
	// sys/policies/acl is not an injected route.
	_, _, raw = rawCall(t, srv, "LIST", "/v1/sys/policies/acl", srv.Token, "")
	if strings.Contains(string(raw), `"keys":["default","root"],"lease`) || strings.HasPrefix(string(raw), `{"keys"`) {
		t.Errorf("sys/policies/acl copied its data to the top level: %s", raw)
	}
}

// TestConformanceMounts covers spec §2.1–2.3: enable, read, tune.
func TestConformanceMounts(t *testing.T) {
	t.Parallel()
	srv := pkidtest.Start(t)
	srv.EnablePKI(t, "pki", 0)
	c := srv.Client(t)
	if err := c.Sys().EnableAuthWithOptionsWithContext(context.Background(), "approle", &vault.EnableAuthOptions{Type: "approle"}); err != nil {
		t.Fatal(err)
	}
	cases := []confCase{
		{name: "read finds the mount by longest prefix", method: "GET", path: "/v1/sys/mounts/pki/roles/web",
			want: expect{status: 200, data: map[string]any{"type": "pki", "deprecation_status": "supported"}}},
		{name: "read of a core mount has no deprecation status", method: "GET", path: "/v1/sys/mounts/sys",
			want: expect{status: 200, data: map[string]any{"type": "system", "seal_wrap": true,
				"config": map[string]any{"default_lease_ttl": 0, "force_no_cache": false, "max_lease_ttl": 0, "passthrough_request_headers": []string{"Accept"}}},
				noData: []string{"deprecation_status"}}},
		{name: "read of nothing", method: "GET", path: "/v1/sys/mounts/nope",
			want: expect{status: 400, errors: []string{"No secret engine mount at nope/"}}},
		{name: "default above the system max", method: "PUT", path: "/v1/sys/mounts/x", body: `{"type":"pki","config":{"default_lease_ttl":"800h"}}`,
			want: expect{status: 400, errors: []string{"given default lease TTL greater than system max lease TTL of 2764800"}}},
		{name: "a TTL that does not parse", method: "PUT", path: "/v1/sys/mounts/x", body: `{"type":"pki","config":{"max_lease_ttl":"ten"}}`,
			want: expect{status: 400, errors: []string{`unable to parse max TTL of ten: time: invalid duration "ten"`}}},
		{name: "TTLs are checked before the type", method: "PUT", path: "/v1/sys/mounts/x", body: `{"type":"bogus","config":{"default_lease_ttl":"2h","max_lease_ttl":"1h"}}`,
			want: expect{status: 400, errors: []string{"given default lease TTL greater than given max lease TTL"}}},
		{name: "the path is checked before the type", method: "PUT", path: "/v1/sys/mounts/pki", body: `{"type":"bogus"}`,
			want: expect{status: 400, errors: []string{"path is already in use at pki/"}}},
		{name: "plugin_name alone is no type", method: "PUT", path: "/v1/sys/mounts/x", body: `{"plugin_name":"pki"}`,
			want: expect{status: 400, errors: []string{"backend type must be specified as a string"}}},
		{name: "type plugin takes plugin_name", method: "PUT", path: "/v1/sys/mounts/plugged", body: `{"type":"plugin","plugin_name":"pki"}`,
			want: expect{status: 204}},
		{name: "type plugin without plugin_name", method: "PUT", path: "/v1/sys/mounts/x", body: `{"type":"plugin"}`,
			want: expect{status: 400, errors: []string{"plugin_name must be provided for plugin backend"}}},
		{name: "no version for pki", method: "PUT", path: "/v1/sys/mounts/x", body: `{"type":"pki","options":{"version":"2"}}`,
			want: expect{status: 400, errors: []string{`secrets engine "pki" does not allow setting a version`}}},
		{name: "bad listing visibility", method: "PUT", path: "/v1/sys/mounts/x", body: `{"type":"pki","config":{"listing_visibility":"nope"}}`,
			want: expect{status: 400, errors: []string{"invalid listing_visibility nope"}}},
		{name: "tune read by longest prefix, no empty options", method: "GET", path: "/v1/sys/mounts/pki/roles/tune",
			want: expect{status: 200, data: map[string]any{"default_lease_ttl": 2764800, "max_lease_ttl": 2764800}, noData: []string{"options", "token_type"}}},
		{name: "tune read of an auth mount has its token type", method: "GET", path: "/v1/sys/auth/approle/tune",
			want: expect{status: 200, data: map[string]any{"token_type": "default-service"}}},
		{name: "tune read of nothing", method: "GET", path: "/v1/sys/mounts/nope/tune",
			want: expect{status: 400, errors: []string{`cannot fetch sysview for path "nope/"`}}},
		{name: "tune write of nothing", method: "POST", path: "/v1/sys/mounts/nope/tune", body: `{}`,
			want: expect{status: 400, errors: []string{`tune of path "nope/" failed: no mount entry found`}}},
		{name: "sys cannot be tuned", method: "POST", path: "/v1/sys/mounts/sys/tune", body: `{"max_lease_ttl":"1h"}`,
			want: expect{status: 400, errors: []string{`cannot tune "sys/"`}}},
		{name: "tuned default above the system max", method: "POST", path: "/v1/sys/mounts/pki/tune", body: `{"default_lease_ttl":"800h"}`,
			want: expect{status: 400, errors: []string{"new backend default lease TTL of 2880000 greater than system max lease TTL of 2764800"}}},
		{name: "auth method path in use, named as Vault names it", method: "POST", path: "/v1/sys/auth/approle", body: `{"type":"approle"}`,
			want: expect{status: 400, errors: []string{"path is already in use at approle/"}}},
		{name: "auth read by longest prefix", method: "GET", path: "/v1/sys/auth/approle/role",
			want: expect{status: 200, data: map[string]any{"type": "approle"}}},
	}
	runConfCases(t, srv, cases)

	// The Go client reads the listing into MountOutput.
	mounts, err := c.Sys().ListMountsWithContext(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if m := mounts["pki/"]; m == nil || m.DeprecationStatus != "supported" || m.Config.DefaultLeaseTTL != 0 || m.Accessor == "" || m.UUID == "" {
		t.Fatalf("pki/ as MountOutput: %+v", m)
	}
	if m := mounts["sys/"]; m == nil || m.DeprecationStatus != "" {
		t.Fatalf("sys/ as MountOutput: %+v", m)
	}
}

// TestConformanceHealthAndUIMounts covers spec §2.4 and §2.9.
func TestConformanceHealthAndUIMounts(t *testing.T) {
	t.Parallel()
	srv := pkidtest.Start(t)
	srv.EnablePKI(t, "pki", 0)
	srv.EnablePKI(t, "public", 0)
	c := srv.Client(t)
	ctx := context.Background()
	if err := c.Sys().TuneMountWithContext(ctx, "public", vault.MountConfigInput{ListingVisibility: "unauth"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Sys().PutPolicyWithContext(ctx, "pki-reader", `path "pki/cert/*" { capabilities = ["read"] }`); err != nil {
		t.Fatal(err)
	}
	reader, err := c.Auth().Token().CreateWithContext(ctx, &vault.TokenCreateRequest{Policies: []string{"pki-reader"}})
	if err != nil {
		t.Fatal(err)
	}
	tok := reader.Auth.ClientToken
	bare := expect{status: 400, errors: []string{}}
	cases := []confCase{
		{name: "health: a code that is not a number", method: "GET", path: "/v1/sys/health?activecode=abc", token: "-", want: bare},
		{name: "health: a code out of range", method: "GET", path: "/v1/sys/health?activecode=1000", token: "-", want: bare},
		{name: "health: a bad standbyok", method: "GET", path: "/v1/sys/health?standbyok=maybe", token: "-", want: bare},
		{name: "health: an empty standbyok", method: "GET", path: "/v1/sys/health?standbyok=", token: "-", want: bare},
		{name: "health: a good override", method: "GET", path: "/v1/sys/health?activecode=299&standbyok=true", token: "-",
			want: expect{status: 299, data: map[string]any{"initialized": true, "sealed": false, "standby": false},
				noData: []string{"removed_from_cluster", "ha_connection_healthy"}}},
		{name: "ui mount: effective TTLs", method: "GET", path: "/v1/sys/internal/ui/mounts/pki",
			want: expect{status: 200, data: map[string]any{"type": "pki", "path": "pki/",
				"config": map[string]any{"default_lease_ttl": 2764800, "force_no_cache": false, "max_lease_ttl": 2764800}}}},
		{name: "ui mount: by longest prefix", method: "GET", path: "/v1/sys/internal/ui/mounts/pki/roles/web",
			want: expect{status: 200, data: map[string]any{"path": "pki/"}}},
		{name: "ui mount: a token with access under the mount", method: "GET", path: "/v1/sys/internal/ui/mounts/pki", token: tok,
			want: expect{status: 200, data: map[string]any{"path": "pki/"}}},
		{name: "ui mount: a token without access", method: "GET", path: "/v1/sys/internal/ui/mounts/public", token: tok,
			want: expect{status: 403, errors: []string{`preflight capability check returned 403, please ensure client's policies grant access to path "public/"`}}},
		{name: "ui mount: no token", method: "GET", path: "/v1/sys/internal/ui/mounts/pki", token: "-",
			want: expect{status: 403, errors: []string{"permission denied"}}},
		{name: "ui mount: no token, unknown mount", method: "GET", path: "/v1/sys/internal/ui/mounts/nope", token: "-",
			want: expect{status: 403, errors: []string{`preflight capability check returned 403, please ensure client's policies grant access to path "nope/"`}}},
		{name: "ui mounts: a bad token", method: "GET", path: "/v1/sys/internal/ui/mounts", token: "bogus",
			want: expect{status: 403, errors: []string{"permission denied"}}},
		{name: "ui mounts: no token sees the unauth mounts only", method: "GET", path: "/v1/sys/internal/ui/mounts", token: "-",
			want: expect{status: 200, data: map[string]any{"auth": map[string]any{},
				"secret": map[string]any{"public/": map[string]any{"type": "pki", "description": "", "options": nil}}}}},
	}
	runConfCases(t, srv, cases)
}

// TestConformanceTokens covers spec §2.8 against Vault's token store.
func TestConformanceTokens(t *testing.T) {
	t.Parallel()
	srv := pkidtest.Start(t)
	c := srv.Client(t)
	ctx := context.Background()
	reader := `path "sys/mounts" { capabilities = ["read"] }
path "auth/token/create" { capabilities = ["update"] }`
	if err := c.Sys().PutPolicyWithContext(ctx, "reader", reader); err != nil {
		t.Fatal(err)
	}
	noDefault, err := c.Auth().Token().CreateWithContext(ctx, &vault.TokenCreateRequest{Policies: []string{"reader"}, NoDefaultPolicy: true})
	if err != nil {
		t.Fatal(err)
	}
	limited, err := c.Auth().Token().CreateWithContext(ctx, &vault.TokenCreateRequest{Policies: []string{"reader"}, NumUses: 5})
	if err != nil {
		t.Fatal(err)
	}
	child, err := c.Auth().Token().CreateWithContext(ctx, &vault.TokenCreateRequest{Policies: []string{"reader"}, TTL: "1h"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Auth().Token().RenewWithContext(ctx, child.Auth.ClientToken, 1800); err != nil {
		t.Fatal(err)
	}
	customIDWarning := "Supplying a custom ID for the token uses the weaker SHA1 hashing instead of the more secure SHA2-256 HMAC for token obfuscation. SHA1 hashed tokens on the wire leads to less secure lookups."
	cases := []confCase{
		{name: "lookup of a token that does not exist", method: "POST", path: "/v1/auth/token/lookup", body: `{"token":"nope"}`,
			want: expect{status: 403, errors: []string{"bad token"}}},
		{name: "lookup with the token in the URL is no route", method: "GET", path: "/v1/auth/token/lookup/root",
			want: expect{status: 404}},
		{name: "the initial root token has no lease", method: "GET", path: "/v1/auth/token/lookup-self",
			want: expect{status: 200, data: map[string]any{"path": "auth/token/root", "ttl": 0, "expire_time": nil}, noData: []string{"renewable", "issue_time"}}},
		{name: "a renewed token shows its lease", method: "POST", path: "/v1/auth/token/lookup", body: `{"token":"` + child.Auth.ClientToken + `"}`,
			want: expect{status: 200, data: map[string]any{"renewable": true, "creation_ttl": 3600, "policies": []string{"default", "reader"}}}},
		{name: "lookup-self knows its unused token field", method: "PUT", path: "/v1/auth/token/lookup-self", body: `{"token":"x"}`,
			want: expect{status: 200, warnings: []string{}, data: map[string]any{"id": "root"}}},
		{name: "renew-self of the initial root token", method: "POST", path: "/v1/auth/token/renew-self",
			want: expect{status: 400, errors: []string{"invalid lease ID"}}},
		{name: "renew without a token", method: "POST", path: "/v1/auth/token/renew", body: `{}`,
			want: expect{status: 400, errors: []string{"missing token ID"}}},
		{name: "renew of a token that does not exist", method: "POST", path: "/v1/auth/token/renew", body: `{"token":"nope"}`,
			want: expect{status: 400, errors: []string{"token not found"}}},
		{name: "revoke without a token", method: "POST", path: "/v1/auth/token/revoke", body: `{}`,
			want: expect{status: 400, errors: []string{"missing token ID"}}},
		{name: "revoke-orphan without a token", method: "POST", path: "/v1/auth/token/revoke-orphan", body: `{}`,
			want: expect{status: 400, errors: []string{"missing token ID"}}},
		{name: "root swallows the other policies", method: "POST", path: "/v1/auth/token/create", body: `{"policies":["Reader","root"]}`,
			want: expect{status: 200, warnings: []string{}, auth: map[string]any{"policies": []string{"root"}, "renewable": false, "lease_duration": 0}}},
		{name: "a policy that does not exist", method: "POST", path: "/v1/auth/token/create", body: `{"policies":["Ghost"]}`,
			want: expect{status: 200, warnings: []string{`Policy "ghost" does not exist`}}},
		{name: "a TTL above the max is capped", method: "POST", path: "/v1/auth/token/create", body: `{"ttl":"1000h"}`,
			want: expect{status: 200, warnings: []string{`TTL of "1000h" exceeded the effective max_ttl of "768h"; TTL value is capped accordingly`},
				auth: map[string]any{"lease_duration": 2764800, "policies": []string{"root"}}}},
		{name: "a custom id", method: "POST", path: "/v1/auth/token/create", body: `{"id":"my-token","policies":["reader"]}`,
			want: expect{status: 200, warnings: []string{customIDWarning}}},
		{name: "a negative TTL", method: "POST", path: "/v1/auth/token/create", body: `{"ttl":"-1h"}`,
			want: expect{status: 400, errors: []string{"ttl must be positive"}}},
		{name: "a TTL that does not parse", method: "POST", path: "/v1/auth/token/create", body: `{"ttl":"soon"}`,
			want: expect{status: 400, errors: []string{`time: invalid duration "soon"`}}},
		{name: "a token type Vault does not know", method: "POST", path: "/v1/auth/token/create", body: `{"type":"default"}`,
			want: expect{status: 400, errors: []string{"invalid 'token_type' value"}}},
		{name: "a limited-use parent", method: "POST", path: "/v1/auth/token/create", token: limited.Auth.ClientToken, body: `{}`,
			want: expect{status: 400, errors: []string{"restricted use token cannot generate child tokens"}}},
		{name: "a periodic token needs sudo", method: "POST", path: "/v1/auth/token/create", token: child.Auth.ClientToken, body: `{"period":"1h"}`,
			want: expect{status: 400, errors: []string{"root or sudo privileges required to create periodic token"}}},
		{name: "a child may not add a policy", method: "POST", path: "/v1/auth/token/create", token: child.Auth.ClientToken,
			body: `{"policies":["reader","other"]}`,
			want: expect{status: 400, errors: []string{"child policies must be subset of parent"}}},
		{name: "nor default, when its parent lacks it", method: "POST", path: "/v1/auth/token/create", token: noDefault.Auth.ClientToken,
			body: `{"policies":["reader","default"]}`,
			want: expect{status: 400, errors: []string{"child policies must be subset of parent"}}},
		{name: "a child of a parent without default gets none", method: "POST", path: "/v1/auth/token/create", token: noDefault.Auth.ClientToken,
			body: `{"policies":["reader"]}`,
			want: expect{status: 200, warnings: []string{}, auth: map[string]any{"policies": []string{"reader"}}}},
		{name: "token roles: none", method: "LIST", path: "/v1/auth/token/roles",
			want: expect{status: 404, errors: []string{}}},
		{name: "create against a role that does not exist", method: "POST", path: "/v1/auth/token/create/web", body: `{}`,
			want: expect{status: 400, errors: []string{"unknown role web"}}},
	}
	runConfCases(t, srv, cases)

	// Shapes through the Go client.
	made, err := c.Auth().Token().CreateWithContext(ctx, &vault.TokenCreateRequest{
		Policies: []string{"reader"}, NoDefaultPolicy: true, DisplayName: "my app!"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(made.Auth.Policies, []string{"reader"}) || !reflect.DeepEqual(made.Auth.TokenPolicies, []string{"reader"}) {
		t.Errorf("no_default_policy: policies %v / %v", made.Auth.Policies, made.Auth.TokenPolicies)
	}
	self, err := c.Auth().Token().LookupWithContext(ctx, made.Auth.ClientToken)
	if err != nil {
		t.Fatal(err)
	}
	if self.Data["display_name"] != "token-my-app" {
		t.Errorf("display name %q, want Vault's sanitized token-my-app", self.Data["display_name"])
	}
	orphan, err := c.Auth().Token().CreateOrphanWithContext(ctx, &vault.TokenCreateRequest{Policies: []string{"reader"}})
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := c.Auth().Token().LookupWithContext(ctx, orphan.Auth.ClientToken); l == nil || l.Data["path"] != "auth/token/create-orphan" || l.Data["orphan"] != true {
		t.Errorf("create-orphan token: %v", l)
	}
	renewed, err := c.Auth().Token().LookupWithContext(ctx, child.Auth.ClientToken)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := renewed.Data["last_renewal_time"].(json.Number); !ok || renewed.Data["last_renewal"] == nil {
		t.Errorf("a renewed token lacks last_renewal_time/last_renewal: %v", renewed.Data)
	}
}

// TestConformancePolicies covers spec §2.6's two write paths.
func TestConformancePolicies(t *testing.T) {
	t.Parallel()
	srv := pkidtest.Start(t)
	rules := `{"rules":"path \"x\" { capabilities = [\"read\"] }"}`
	cases := []confCase{
		{name: "legacy path takes rules, with Vault's warning", method: "PUT", path: "/v1/sys/policy/Legacy", body: rules,
			want: expect{status: 200, warnings: []string{"'rules' is deprecated, please use 'policy' instead"}}},
		{name: "legacy read answers rules", method: "GET", path: "/v1/sys/policy/legacy",
			want: expect{status: 200, data: map[string]any{"name": "legacy", "rules": `path "x" { capabilities = ["read"] }`}, top: []string{"rules"}}},
		{name: "sys/policies/acl does not take rules", method: "PUT", path: "/v1/sys/policies/acl/modern", body: rules,
			want: expect{status: 400, errors: []string{"'policy' parameter not supplied or empty"}}},
		{name: "root is listed last", method: "LIST", path: "/v1/sys/policies/acl",
			want: expect{status: 200, data: map[string]any{"keys": []string{"default", "legacy", "root"}}}},
	}
	runConfCases(t, srv, cases)
}

// TestConformanceConcurrentRequests runs mount, tune, token and read
// requests at once: every one must get a sane answer and the stores stay
// consistent (pkidtest checks the database when the test ends).
func TestConformanceConcurrentRequests(t *testing.T) {
	t.Parallel()
	srv := pkidtest.Start(t)
	c := srv.Client(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errc := make(chan error, 200)
	for i := 0; i < 8; i++ {
		path := "pki" + strings.Repeat("x", i)
		wg.Add(4)
		go func() {
			defer wg.Done()
			errc <- c.Sys().MountWithContext(ctx, path, &vault.MountInput{Type: "pki"})
			errc <- c.Sys().TuneMountWithContext(ctx, path, vault.MountConfigInput{MaxLeaseTTL: "1000h"})
		}()
		go func() {
			defer wg.Done()
			_, err := c.Sys().ListMountsWithContext(ctx)
			errc <- err
			_, err = c.Sys().MountConfigWithContext(ctx, "sys")
			errc <- err
		}()
		go func() {
			defer wg.Done()
			s, err := c.Auth().Token().CreateWithContext(ctx, &vault.TokenCreateRequest{TTL: "1h"})
			errc <- err
			if err == nil {
				_, err = c.Auth().Token().RenewWithContext(ctx, s.Auth.ClientToken, 60)
				errc <- err
				errc <- c.Auth().Token().RevokeTreeWithContext(ctx, s.Auth.ClientToken)
			}
		}()
		go func() {
			defer wg.Done()
			_, err := c.Sys().HealthWithContext(ctx)
			errc <- err
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Error(err)
		}
	}
	mounts, err := c.Sys().ListMountsWithContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for p := range mounts {
		if strings.HasPrefix(p, "pki") {
			n++
			if cfg, _ := c.Sys().MountConfigWithContext(ctx, strings.TrimSuffix(p, "/")); cfg == nil || cfg.MaxLeaseTTL != 3600000 {
				t.Errorf("%s tune lost: %+v", p, cfg)
			}
		}
	}
	if n != 8 {
		t.Fatalf("%d pki mounts, want 8", n)
	}
}
