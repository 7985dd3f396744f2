package acl

import (
	"reflect"
	"strings"
	"testing"
)

func mustParse(t testing.TB, name, raw string) *Policy {
	t.Helper()
	p, err := Parse(name, raw)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return p
}

// The tutorial's two policies (shared/tutorial.md, "Kubernetes Integration"
// and "Protect the Root CA").
const (
	certManagerPolicy = `
# Allow cert-manager to issue certificates
path "pki_int/sign/internal-services" {
  capabilities = ["create", "update"]
}

path "pki_int/issue/internal-services" {
  capabilities = ["create"]
}
`
	rootCAPolicy = `
# Only allow signing intermediate CSRs
path "pki_root/root/sign-intermediate" {
  capabilities = ["create", "update"]
}

# Deny direct certificate issuance
path "pki_root/issue/*" {
  capabilities = ["deny"]
}

path "pki_root/sign/*" {
  capabilities = ["deny"]
}
`
)

type check struct {
	op      Operation
	path    string
	allowed bool
	sudo    bool
}

func runChecks(t *testing.T, a *ACL, checks []check) {
	t.Helper()
	for _, c := range checks {
		got := a.Check(c.op, c.path, nil)
		if got.Allowed != c.allowed || got.Sudo != c.sudo {
			t.Errorf("%s %s: allowed=%v sudo=%v, want allowed=%v sudo=%v", c.op, c.path, got.Allowed, got.Sudo, c.allowed, c.sudo)
		}
	}
}

func TestTutorialPolicies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		policy string
		checks []check
	}{
		{
			name:   "cert-manager",
			policy: certManagerPolicy,
			checks: []check{
				{OpUpdate, "pki_int/sign/internal-services", true, false},
				{OpCreate, "pki_int/sign/internal-services", true, false},
				// issue grants only create: a PKI write is an update (spec §1.2),
				// so a Vault server refuses it too.
				{OpUpdate, "pki_int/issue/internal-services", false, false},
				{OpCreate, "pki_int/issue/internal-services", true, false},
				{OpUpdate, "pki_int/sign/web-servers", false, false},
				{OpUpdate, "pki_int/issue/web-servers", false, false},
				{OpRead, "pki_int/roles/internal-services", false, false},
				{OpUpdate, "pki_root/root/sign-intermediate", false, false},
				{OpList, "pki_int/certs/", false, false},
			},
		},
		{
			name:   "root-ca",
			policy: rootCAPolicy,
			checks: []check{
				{OpUpdate, "pki_root/root/sign-intermediate", true, false},
				{OpUpdate, "pki_root/issue/web", false, false},
				{OpCreate, "pki_root/issue/anything", false, false},
				{OpUpdate, "pki_root/sign/web", false, false},
				{OpUpdate, "pki_root/root/generate/internal", false, false},
				{OpUpdate, "pki_int/issue/web", false, false},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := New(mustParse(t, tt.name, tt.policy), DefaultPolicy())
			runChecks(t, a, tt.checks)
		})
	}
}

func TestMatching(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		policy string
		checks []check
	}{
		{
			name:   "exact only",
			policy: `path "pki/issue/web" { capabilities = ["update"] }`,
			checks: []check{
				{OpUpdate, "pki/issue/web", true, false},
				{OpUpdate, "/pki/issue/web", true, false},
				{OpUpdate, "pki/issue/web2", false, false},
				{OpUpdate, "pki/issue/we", false, false},
				{OpUpdate, "pki/issue/web/x", false, false},
				{OpRead, "pki/issue/web", false, false},
			},
		},
		{
			name:   "trailing glob is a plain prefix, not a segment",
			policy: `path "pki/issue/web*" { capabilities = ["update"] }`,
			checks: []check{
				{OpUpdate, "pki/issue/web", true, false},
				{OpUpdate, "pki/issue/web-servers", true, false},
				{OpUpdate, "pki/issue/web/deeper/still", true, false},
				{OpUpdate, "pki/issue/we", false, false},
			},
		},
		{
			name:   "star alone matches everything",
			policy: `path "*" { capabilities = ["read", "list"] }`,
			checks: []check{
				{OpRead, "anything/at/all", true, false},
				{OpList, "pki/roles/", true, false},
				{OpUpdate, "pki/roles/x", false, false},
			},
		},
		{
			name:   "plus matches exactly one segment",
			policy: `path "pki/+/web" { capabilities = ["update"] }`,
			checks: []check{
				{OpUpdate, "pki/issue/web", true, false},
				{OpUpdate, "pki/sign/web", true, false},
				{OpUpdate, "pki/issuer/x/issue/web", false, false},
				{OpUpdate, "pki/web", false, false},
				{OpUpdate, "pki/issue/web/x", false, false},
				{OpUpdate, "pki//web", true, false},
			},
		},
		{
			name:   "plus with a glob tail",
			policy: `path "+/issue/*" { capabilities = ["update"] }`,
			checks: []check{
				{OpUpdate, "pki/issue/web", true, false},
				{OpUpdate, "pki_int/issue/a/b", true, false},
				{OpUpdate, "pki/sign/web", false, false},
				{OpUpdate, "pki/issue", false, false},
			},
		},
		{
			name:   "plus with a partial-segment glob",
			policy: `path "pki/+/int*" { capabilities = ["read"] }`,
			checks: []check{
				{OpRead, "pki/roles/internal", true, false},
				{OpRead, "pki/roles/internal/more", true, false},
				{OpRead, "pki/roles/ext", false, false},
			},
		},
		{
			name: "exact beats glob",
			policy: `
path "pki/*" { capabilities = ["read", "update"] }
path "pki/roles/secret" { capabilities = ["read"] }`,
			checks: []check{
				{OpUpdate, "pki/roles/secret", false, false},
				{OpRead, "pki/roles/secret", true, false},
				{OpUpdate, "pki/roles/other", true, false},
			},
		},
		{
			name: "longer prefix wins",
			policy: `
path "pki/*" { capabilities = ["update"] }
path "pki/roles/*" { capabilities = ["read"] }`,
			checks: []check{
				{OpUpdate, "pki/roles/x", false, false},
				{OpRead, "pki/roles/x", true, false},
				{OpUpdate, "pki/issue/x", true, false},
			},
		},
		{
			name: "later first wildcard wins over earlier",
			policy: `
path "pki/+/web" { capabilities = ["read"] }
path "pki/issue/+" { capabilities = ["update"] }`,
			checks: []check{
				{OpUpdate, "pki/issue/web", true, false},
				{OpRead, "pki/issue/web", false, false},
				{OpRead, "pki/sign/web", true, false},
			},
		},
		{
			name: "glob prefix later than plus wins",
			policy: `
path "pki/+/web" { capabilities = ["read"] }
path "pki/iss*" { capabilities = ["update"] }`,
			checks: []check{
				// first wildcard: "+" at 4 vs "*" at 7: the glob is more specific.
				{OpUpdate, "pki/issue/web", true, false},
				{OpRead, "pki/issue/web", false, false},
			},
		},
		{
			name: "non-glob beats glob at the same position",
			policy: `
path "pki/+" { capabilities = ["read"] }
path "pki/*" { capabilities = ["update"] }`,
			checks: []check{
				{OpRead, "pki/roles", true, false},
				{OpUpdate, "pki/roles", false, false},
				{OpUpdate, "pki/roles/x", true, false},
			},
		},
		{
			name: "fewer plus segments win",
			policy: `
path "pki/+/+/web" { capabilities = ["read"] }
path "pki/+/x/web" { capabilities = ["update"] }`,
			checks: []check{
				{OpUpdate, "pki/a/x/web", true, false},
				{OpRead, "pki/a/x/web", false, false},
				{OpRead, "pki/a/y/web", true, false},
			},
		},
		{
			name: "longer glob wins among segment globs",
			policy: `
path "pki/+/bar/b*" { capabilities = ["read"] }
path "pki/+/bar/ba*" { capabilities = ["update"] }`,
			checks: []check{
				{OpUpdate, "pki/a/bar/baz", true, false},
				{OpRead, "pki/a/bar/baz", false, false},
				{OpRead, "pki/a/bar/bz", true, false},
			},
		},
		{
			name: "list sees the rule without the trailing slash",
			policy: `
path "pki/roles" { capabilities = ["list"] }
path "pki/certs/*" { capabilities = ["list"] }`,
			checks: []check{
				{OpList, "pki/roles/", true, false},
				{OpList, "pki/roles", true, false},
				{OpRead, "pki/roles/", false, false},
				{OpList, "pki/certs/", true, false},
				{OpList, "pki/certs", false, false},
			},
		},
		{
			name:   "sudo travels with the matching rule",
			policy: `path "pki/root" { capabilities = ["delete", "sudo"] }` + "\n" + `path "pki/root/*" { capabilities = ["update"] }`,
			checks: []check{
				{OpDelete, "pki/root", true, true},
				{OpUpdate, "pki/root/sign-self-issued", true, false},
				{OpUpdate, "pki/root", false, true},
			},
		},
		{
			name:   "legacy policy shorthand",
			policy: `path "pki/*" { policy = "write" }` + "\n" + `path "sys/audit" { policy = "sudo" }`,
			checks: []check{
				{OpUpdate, "pki/issue/x", true, false},
				{OpList, "pki/roles/", true, false},
				{OpPatch, "pki/roles/x", false, false},
				{OpRead, "sys/audit", true, true},
			},
		},
		{
			name:   "json policy",
			policy: `{"path": {"pki/issue/*": {"capabilities": ["update"]}, "pki/roles/web": {"capabilities": ["read"]}}}`,
			checks: []check{
				{OpUpdate, "pki/issue/web", true, false},
				{OpRead, "pki/roles/web", true, false},
				{OpRead, "pki/roles/db", false, false},
			},
		},
		{
			name:   "leading slash in policy path is dropped",
			policy: `path "/pki/issue/web" { capabilities = ["update"] }`,
			checks: []check{{OpUpdate, "pki/issue/web", true, false}},
		},
		{
			name:   "no rules denies everything",
			policy: `name = "empty"`,
			checks: []check{{OpRead, "pki/ca", false, false}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			runChecks(t, New(mustParse(t, "p", tt.policy)), tt.checks)
		})
	}
}

func TestDenyWins(t *testing.T) {
	t.Parallel()
	allow := mustParse(t, "allow", `path "pki/issue/*" { capabilities = ["create", "update", "sudo"] }`)
	deny := mustParse(t, "deny", `path "pki/issue/*" { capabilities = ["deny"] }`)
	sameStanza := mustParse(t, "same", `path "pki/sign/web" { capabilities = ["update", "deny", "read"] }`)
	tests := []struct {
		name     string
		policies []*Policy
		check    check
	}{
		{"deny after allow", []*Policy{allow, deny}, check{OpUpdate, "pki/issue/web", false, false}},
		{"deny before allow", []*Policy{deny, allow}, check{OpUpdate, "pki/issue/web", false, false}},
		{"allow alone", []*Policy{allow}, check{OpUpdate, "pki/issue/web", true, true}},
		{"deny in the same stanza clears the rest", []*Policy{sameStanza}, check{OpRead, "pki/sign/web", false, false}},
		{"deny on a prefix loses to a more specific allow", []*Policy{deny, mustParse(t, "x", `path "pki/issue/web" { capabilities = ["update"] }`)}, check{OpUpdate, "pki/issue/web", true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			runChecks(t, New(tt.policies...), []check{tt.check})
		})
	}
}

func TestCapabilitiesMergeAcrossPolicies(t *testing.T) {
	t.Parallel()
	a := New(
		mustParse(t, "one", `path "pki/roles/*" { capabilities = ["read"] }`),
		mustParse(t, "two", `path "pki/roles/*" { capabilities = ["update", "list"] }`),
	)
	res := a.Check(OpUpdate, "pki/roles/web", nil)
	if !res.Allowed || !reflect.DeepEqual(res.GrantingPolicies, []string{"two"}) {
		t.Fatalf("update: %+v", res)
	}
	if got := a.Capabilities("pki/roles/web"); !reflect.DeepEqual(got, []string{"list", "read", "update"}) {
		t.Fatalf("Capabilities = %v", got)
	}
}

func TestCapabilities(t *testing.T) {
	t.Parallel()
	a := New(mustParse(t, "p", certManagerPolicy+rootCAPolicy+`path "pki_int/roles" { capabilities = ["list", "sudo"] }`), DefaultPolicy())
	tests := []struct {
		path string
		want []string
	}{
		{"pki_int/sign/internal-services", []string{"create", "update"}},
		{"pki_int/issue/internal-services", []string{"create"}},
		{"pki_root/issue/web", []string{"deny"}},
		{"pki_root/ca", []string{"deny"}},
		{"pki_int/roles/", []string{"list", "sudo"}},
		{"auth/token/lookup-self", []string{"read"}},
		{"sys/capabilities-self", []string{"update"}},
		{"cubbyhole/x", []string{"create", "delete", "list", "read", "update"}},
		{"identity/entity/id/{{identity.entity.id}}", []string{"deny"}},
	}
	for _, tt := range tests {
		if got := a.Capabilities(tt.path); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Capabilities(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
	if got := NewRoot().Capabilities("anything"); !reflect.DeepEqual(got, []string{"root"}) {
		t.Errorf("root capabilities = %v", got)
	}
}

func TestRoot(t *testing.T) {
	t.Parallel()
	a := NewRoot()
	for _, op := range []Operation{OpRead, OpList, OpUpdate, OpCreate, OpDelete, OpPatch} {
		if res := a.Check(op, "sys/audit/file", nil); !res.Allowed || !res.Sudo || !res.Root {
			t.Errorf("root %s: %+v", op, res)
		}
	}
	// A deleted policy in a token's list is skipped, not an error.
	if res := New(nil, mustParse(t, "x", `path "a" { capabilities = ["read"] }`)).Check(OpRead, "a", nil); !res.Allowed {
		t.Errorf("nil policy broke the ACL: %+v", res)
	}
}

func TestDefaultPolicy(t *testing.T) {
	t.Parallel()
	a := New(DefaultPolicy())
	runChecks(t, a, []check{
		{OpRead, "auth/token/lookup-self", true, false},
		{OpUpdate, "auth/token/renew-self", true, false},
		{OpUpdate, "auth/token/revoke-self", true, false},
		{OpUpdate, "sys/capabilities-self", true, false},
		{OpUpdate, "sys/leases/renew", true, false},
		{OpUpdate, "identity/oidc/provider/p/authorize", true, false},
		{OpUpdate, "auth/token/create", false, false},
		{OpRead, "sys/policies/acl/default", false, false},
		{OpRead, "pki/cert/ca", false, false},
	})
}

func TestParameterConstraints(t *testing.T) {
	t.Parallel()
	a := New(mustParse(t, "p", `
path "pki/issue/web" {
  capabilities = ["update"]
  allowed_parameters = {
    "common_name" = ["*.example.com", "example.com"]
    "ttl" = []
  }
  denied_parameters = {
    "ip_sans" = []
  }
}
path "pki/sign/web" {
  capabilities = ["update"]
  required_parameters = ["csr"]
  denied_parameters = { "*" = [] }
}
path "pki/roles/*" {
  capabilities = ["update"]
  allowed_parameters = { "*" = [] }
  denied_parameters = { "allow_any_name" = [true, "true"] }
}`))
	tests := []struct {
		name    string
		path    string
		data    map[string]any
		allowed bool
	}{
		{"allowed glob value", "pki/issue/web", map[string]any{"common_name": "a.example.com", "ttl": "1h"}, true},
		{"allowed exact value", "pki/issue/web", map[string]any{"common_name": "example.com"}, true},
		{"value outside the list", "pki/issue/web", map[string]any{"common_name": "evil.com"}, false},
		{"parameter not listed", "pki/issue/web", map[string]any{"common_name": "a.example.com", "alt_names": "x"}, false},
		{"denied parameter, any value", "pki/issue/web", map[string]any{"ip_sans": "1.2.3.4"}, false},
		{"parameter names are case-insensitive", "pki/issue/web", map[string]any{"Common_Name": "evil.com"}, false},
		{"no data is allowed", "pki/issue/web", nil, true},
		{"required parameter missing", "pki/sign/web", map[string]any{}, false},
		{"required present but every parameter denied", "pki/sign/web", map[string]any{"csr": "x"}, false},
		{"denied value", "pki/roles/x", map[string]any{"allow_any_name": "true"}, false},
		{"denied bool value", "pki/roles/x", map[string]any{"allow_any_name": true}, false},
		{"other value", "pki/roles/x", map[string]any{"allow_any_name": "false", "ttl": "1h"}, true},
	}
	for _, tt := range tests {
		if got := a.Check(OpUpdate, tt.path, tt.data).Allowed; got != tt.allowed {
			t.Errorf("%s: allowed = %v, want %v", tt.name, got, tt.allowed)
		}
	}
	// Lists and deletes carry no parameters to check.
	if !New(mustParse(t, "q", `path "x/*" { capabilities = ["list"] required_parameters = ["y"] }`)).Check(OpList, "x/", nil).Allowed {
		t.Error("required_parameters applied to a list")
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		raw     string
		wantErr string
	}{
		{"bad capability", `path "a" { capabilities = ["reed"] }`, `path "a": invalid capability "reed"`},
		{"bad legacy policy", `path "a" { policy = "all" }`, `path "a": invalid policy "all"`},
		{"plus star", `path "a/+*" { capabilities = ["read"] }`, `invalid use of wildcards ('+*' is forbidden)`},
		{"unknown top-level key", "foo = \"bar\"\npath \"a\" { capabilities = [\"read\"] }", `invalid key "foo" on line 1`},
		{"unknown path key", `path "a" { capabilitys = ["read"] }`, `path "a": invalid key "capabilitys"`},
		{"syntax", `path "a" { capabilities = ["read" }`, "failed to parse policy"},
		{"not an object", `"just a string"`, "failed to parse policy"},
		{"json with a bad capability", `{"path": {"a": {"capabilities": ["reed"]}}}`, `invalid capability "reed"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("p", tt.raw)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
			if !strings.HasPrefix(err.Error(), "failed to parse policy") {
				t.Errorf("err %q lacks Vault's prefix", err)
			}
		})
	}
}

func TestParseAcceptsVaultOnlyKeys(t *testing.T) {
	t.Parallel()
	p := mustParse(t, "p", `
name = "x"
path "pki/*" {
  comment = "ok"
  capabilities = ["read"]
  min_wrapping_ttl = "1m"
  max_wrapping_ttl = "1h"
  mfa_methods = ["m"]
}`)
	if len(p.Rules) != 1 || p.Rules[0].Capabilities != Read || !p.Rules[0].IsPrefix || p.Rules[0].Path != "pki/" {
		t.Fatalf("rules = %+v", p.Rules[0])
	}
}

func TestParseDuplicateAttributesWarns(t *testing.T) {
	t.Parallel()
	p := mustParse(t, "p", `path "a" {
  capabilities = ["read"]
  capabilities = ["update"]
}`)
	if len(p.Warnings) != 1 {
		t.Fatalf("warnings = %v", p.Warnings)
	}
}

func TestAnyAccessUnder(t *testing.T) {
	t.Parallel()
	a := New(mustParse(t, "p", certManagerPolicy+rootCAPolicy+`path "+/roles/x" { capabilities = ["read"] }`))
	tests := map[string]bool{
		"pki_int/":  true,
		"pki_root/": true, // sign-intermediate
		"pki/":      true, // via +/roles/x
		"pki2/":     true,
		"sys/":      true, // "+" matches any first segment
	}
	for mount, want := range tests {
		if got := a.AnyAccessUnder(mount); got != want {
			t.Errorf("AnyAccessUnder(%q) = %v, want %v", mount, got, want)
		}
	}
	b := New(mustParse(t, "q", rootCAPolicy))
	if b.AnyAccessUnder("pki_int/") {
		t.Error("pki_int/ reachable from root-ca-policy")
	}
	if !b.AnyAccessUnder("pki_root/") {
		t.Error("pki_root/ unreachable from root-ca-policy")
	}
	if New(mustParse(t, "r", `path "pki/*" { capabilities = ["deny"] }`)).AnyAccessUnder("pki/") {
		t.Error("deny counted as access")
	}
}

// BenchmarkCheck measures one ACL decision on the request path: the
// tutorial's policies plus default, with prefix and segment rules present.
func BenchmarkCheck(b *testing.B) {
	a := New(mustParse(b, "cm", certManagerPolicy), mustParse(b, "rc", rootCAPolicy),
		mustParse(b, "seg", `path "+/roles/*" { capabilities = ["read"] }`), DefaultPolicy())
	data := map[string]any{"common_name": "a.internal.example.com"}
	b.ReportAllocs()
	for b.Loop() {
		if !a.Check(OpUpdate, "pki_int/sign/internal-services", data).Allowed {
			b.Fatal("denied")
		}
		if a.Check(OpUpdate, "pki_root/issue/web", data).Allowed {
			b.Fatal("allowed")
		}
	}
}
