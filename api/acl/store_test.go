package acl

import (
	"errors"
	"reflect"
	"sync"
	"testing"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/storage/storagetest"
)

func newStore(t *testing.T) *Store {
	t.Helper()
	s := NewStore(storagetest.Open(t).Space("sys"))
	if err := s.Init(); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStoreLifecycle(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	names, err := s.List()
	if err != nil || !reflect.DeepEqual(names, []string{"default", "root"}) {
		t.Fatalf("List = %v, %v", names, err)
	}
	if _, err := s.Put(" Cert-Manager-Policy ", certManagerPolicy); err != nil {
		t.Fatal(err)
	}
	p, err := s.Get("cert-manager-policy")
	if err != nil || p == nil || p.Raw != certManagerPolicy {
		t.Fatalf("Get = %+v, %v", p, err)
	}
	names, _ = s.List()
	if !reflect.DeepEqual(names, []string{"cert-manager-policy", "default", "root"}) {
		t.Fatalf("List = %v", names)
	}
	a, err := s.ACL([]string{"default", "cert-manager-policy", "gone"})
	if err != nil {
		t.Fatal(err)
	}
	if !a.Check(OpUpdate, "pki_int/sign/internal-services", nil).Allowed || !a.Check(OpRead, "auth/token/lookup-self", nil).Allowed {
		t.Fatal("ACL from store lacks a policy")
	}
	// Rewriting a policy changes ACLs built afterwards.
	if _, err := s.Put("cert-manager-policy", `path "x" { capabilities = ["read"] }`); err != nil {
		t.Fatal(err)
	}
	a, _ = s.ACL([]string{"cert-manager-policy"})
	if a.Check(OpUpdate, "pki_int/sign/internal-services", nil).Allowed || !a.Check(OpRead, "x", nil).Allowed {
		t.Fatal("stale ACL after policy update")
	}
	if err := s.Delete("cert-manager-policy"); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.Get("cert-manager-policy"); p != nil {
		t.Fatal("policy survived delete")
	}
	a, _ = s.ACL([]string{"cert-manager-policy"})
	if a.Check(OpRead, "x", nil).Allowed {
		t.Fatal("stale ACL after policy delete")
	}
	if err := s.Delete("never-was"); err != nil {
		t.Fatalf("delete of a missing policy: %v", err)
	}
}

func TestStoreRefusals(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	tests := []struct {
		name string
		fn   func() error
		msg  string
	}{
		{"update root", func() error { _, err := s.Put("root", `path "a" {}`); return err }, `cannot update "root" policy`},
		{"empty policy", func() error { _, err := s.Put("x", "  "); return err }, `'policy' parameter not supplied or empty`},
		{"parse error", func() error { _, err := s.Put("x", `path "a" { capabilities = ["nope"] }`); return err }, `failed to parse policy: path "a": invalid capability "nope"`},
		{"delete root", func() error { return s.Delete("root") }, `cannot delete "root" policy`},
		{"delete default", func() error { return s.Delete("Default") }, `cannot delete default policy`},
	}
	for _, tt := range tests {
		err := tt.fn()
		if !errors.Is(err, errs.Invalid) || errs.Message(err) != tt.msg {
			t.Errorf("%s: err = %v, want 400 %q", tt.name, err, tt.msg)
		}
	}
}

func TestStoreRootAndDefault(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	root, _ := s.Get("root")
	if root == nil || root.Raw != "" {
		t.Fatalf("root = %+v", root)
	}
	def, _ := s.Get("default")
	if def == nil || def.Raw != DefaultPolicyText {
		t.Fatal("default policy not installed")
	}
	// An edited default survives Init.
	if _, err := s.Put("default", `path "a" { capabilities = ["read"] }`); err != nil {
		t.Fatal(err)
	}
	if err := s.Init(); err != nil {
		t.Fatal(err)
	}
	fresh := NewStore(s.space)
	def, _ = fresh.Get("default")
	if def.Raw == DefaultPolicyText {
		t.Fatal("Init overwrote an edited default policy")
	}
	a, _ := s.ACL([]string{"root", "default"})
	if !a.IsRoot() {
		t.Fatal("root policy did not make a root ACL")
	}
}

func TestStoreConcurrentACLs(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	if _, err := s.Put("p", certManagerPolicy); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				if i == 0 && j%10 == 0 {
					if _, err := s.Put("p", certManagerPolicy); err != nil {
						t.Error(err)
					}
				}
				a, err := s.ACL([]string{"p", "default"})
				if err != nil || !a.Check(OpUpdate, "pki_int/sign/internal-services", nil).Allowed {
					t.Errorf("ACL: %v", err)
					return
				}
			}
		}(i)
	}
	wg.Wait()
}
