package ca

import (
	"testing"

	"github.com/pkid-dev/pkid/roles"
)

// TestLeafUsesPSS: Vault's certTemplateSetSigAlgo only turns use_pss into a
// PSS signature for a signature size it knows (256, 384, 512); with any
// other, 0 included (ec, ed25519 and any roles, sign-verbatim of a non-RSA
// CSR), an RSA issuer signs with PKCS #1 v1.5.
func TestLeafUsesPSS(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		key  roles.KeySpec
		want bool
	}{
		{"rsa role", roles.KeySpec{Type: "rsa", SignatureBits: 256, UsePSS: true}, true},
		{"sha-512", roles.KeySpec{Type: "rsa", SignatureBits: 512, UsePSS: true}, true},
		{"ec role carries 0", roles.KeySpec{Type: "ec", UsePSS: true}, false},
		{"ec role with an odd size", roles.KeySpec{Type: "ec", SignatureBits: 123, UsePSS: true}, false},
		{"ed25519 CSR under any", roles.KeySpec{Type: "ed25519", UsePSS: true}, false},
		{"not asked", roles.KeySpec{Type: "rsa", SignatureBits: 256}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := leafUsesPSS(tc.key); got != tc.want {
				t.Errorf("leafUsesPSS(%+v) = %v, want %v", tc.key, got, tc.want)
			}
		})
	}
}
