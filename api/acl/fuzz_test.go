package acl

import (
	"strings"
	"testing"
)

// FuzzPolicy feeds arbitrary text to the parser and, when it parses, checks
// the matcher's invariants on an arbitrary path: no panic, deny grants
// nothing, and an allowed operation is reflected in Capabilities.
func FuzzPolicy(f *testing.F) {
	seeds := []struct{ policy, path string }{
		{certManagerPolicy, "pki_int/sign/internal-services"},
		{rootCAPolicy, "pki_root/issue/web"},
		{DefaultPolicyText, "auth/token/lookup-self"},
		{`path "+/+/*" { capabilities = ["read", "list"] }`, "a/b/c/d"},
		{`path "*" { policy = "sudo" }`, ""},
		{`{"path": {"a/+": {"capabilities": ["deny"]}}}`, "a/b"},
		{`path "a" { capabilities = ["read"] allowed_parameters = { "x" = ["*y"] } }`, "a"},
		{`path "a/+*" {}`, "a/b"},
		{"path \"\u00e9/+/\" { capabilities = [\"update\"] }", "\u00e9//"},
		{`path`, "x"},
		{`path "a" "b" { capabilities = ["read"] }`, "a"},
	}
	for _, s := range seeds {
		f.Add(s.policy, s.path)
	}
	ops := []Operation{OpRead, OpList, OpUpdate, OpCreate, OpDelete, OpPatch}
	f.Fuzz(func(t *testing.T, policy, path string) {
		p, err := Parse("fuzz", policy)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "failed to parse policy") {
				t.Fatalf("error without Vault's prefix: %v", err)
			}
			return
		}
		a := New(p, DefaultPolicy())
		caps := a.Capabilities(path)
		denied := len(caps) == 1 && caps[0] == "deny"
		for _, op := range ops {
			res := a.Check(op, path, map[string]any{"k": path})
			if res.Allowed && res.Capabilities&Deny != 0 {
				t.Fatalf("%s %q allowed under deny", op, path)
			}
			if res.Allowed && op != OpList && denied {
				t.Fatalf("%s %q allowed but Capabilities says deny", op, path)
			}
		}
	})
}
