package roles

import (
	"crypto"
	"crypto/dsa" //lint:ignore SA1019 a DSA key, to check how it is refused
	"crypto/ecdh"
	"crypto/rand"
	"testing"

	"github.com/pkid-dev/pkid/errs"
)

// Keys Go parses but Vault does not sign are refused with Vault's texts:
// DSA by the role's type check, a key without an x509 algorithm as empty.
func TestCheckCSRKeyOtherKinds(t *testing.T) {
	t.Parallel()
	x, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		role map[string]any
		pub  crypto.PublicKey
		err  string
	}{
		{"dsa under rsa", map[string]any{}, &dsa.PublicKey{}, "role requires keys of type rsa"},
		{"dsa under ec", map[string]any{"key_type": "ec"}, &dsa.PublicKey{}, "role requires keys of type ec"},
		{"dsa under any", map[string]any{"key_type": "any"}, &dsa.PublicKey{}, "Unknown key type in CSR: DSA"},
		{"x25519 under any", map[string]any{"key_type": "any"}, x.PublicKey(), "Refusing to sign CSR with empty PublicKey."},
		{"x25519 under rsa", map[string]any{}, x.PublicKey(), "Refusing to sign CSR with empty PublicKey."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := mustRole(t, tc.role).CheckCSRKey(tc.pub)
			if err == nil || errs.KindOf(err) != errs.Invalid || len(errs.Message(err)) < len(tc.err) || errs.Message(err)[:len(tc.err)] != tc.err {
				t.Fatalf("err %v, want 400 %q", err, tc.err)
			}
		})
	}
}
