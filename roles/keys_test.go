package roles

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"sync"
	"testing"

	"github.com/pkid-dev/pkid/errs"
)

// Test keys, made once: RSA generation is slow.
type testKeys struct {
	rsa1024, rsa2048 *rsa.PrivateKey
	p224, p256, p384 *ecdsa.PrivateKey
	ed               ed25519.PrivateKey
}

var keysOnce = sync.OnceValue(func() *testKeys {
	must := func(k any, err error) any {
		if err != nil {
			panic(err)
		}
		return k
	}
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	return &testKeys{
		rsa1024: must(rsa.GenerateKey(rand.Reader, 1024)).(*rsa.PrivateKey),
		rsa2048: must(rsa.GenerateKey(rand.Reader, 2048)).(*rsa.PrivateKey),
		p224:    must(ecdsa.GenerateKey(elliptic.P224(), rand.Reader)).(*ecdsa.PrivateKey),
		p256:    must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)).(*ecdsa.PrivateKey),
		p384:    must(ecdsa.GenerateKey(elliptic.P384(), rand.Reader)).(*ecdsa.PrivateKey),
		ed:      ed,
	}
})

func TestCheckCSRKey(t *testing.T) {
	t.Parallel()
	k := keysOnce()
	cases := []struct {
		name string
		role map[string]any
		pub  crypto.PublicKey
		want KeySpec
		err  string
	}{
		{"rsa role, rsa key", map[string]any{}, k.rsa2048.Public(), KeySpec{Type: "rsa", Bits: 2048, SignatureBits: 256}, ""},
		{"rsa role refuses ec (the default role)", map[string]any{}, k.p256.Public(), KeySpec{}, "role requires keys of type rsa"},
		{"rsa role refuses small key", map[string]any{}, k.rsa1024.Public(), KeySpec{}, "role requires a minimum of a 2048-bit key, but CSR's key is 1024 bits"},
		{"ec role, p256", map[string]any{"key_type": "ec"}, k.p256.Public(), KeySpec{Type: "ec", Bits: 256}, ""},
		{"ec role, bigger curve", map[string]any{"key_type": "ec"}, k.p384.Public(), KeySpec{Type: "ec", Bits: 384}, ""},
		{"ec role, smaller curve", map[string]any{"key_type": "ec"}, k.p224.Public(), KeySpec{}, "role requires a minimum of a 256-bit key, but CSR's key is 224 bits"},
		{"ec role refuses rsa", map[string]any{"key_type": "ec"}, k.rsa2048.Public(), KeySpec{}, "role requires keys of type ec"},
		{"ed25519 role", map[string]any{"key_type": "ed25519"}, k.ed.Public(), KeySpec{Type: "ed25519"}, ""},
		{"ed25519 role refuses ec", map[string]any{"key_type": "ed25519"}, k.p256.Public(), KeySpec{}, "role requires keys of type ed25519"},
		{"any: rsa gets sha-256", map[string]any{"key_type": "any"}, k.rsa2048.Public(), KeySpec{Type: "rsa", Bits: 2048, SignatureBits: 256}, ""},
		{"any: p224 accepted", map[string]any{"key_type": "any"}, k.p224.Public(), KeySpec{Type: "ec", Bits: 224}, ""},
		{"any: ed25519", map[string]any{"key_type": "any"}, k.ed.Public(), KeySpec{Type: "ed25519"}, ""},
		{"any: rsa 1024", map[string]any{"key_type": "any"}, k.rsa1024.Public(), KeySpec{}, "RSA keys < 2048 bits are unsafe and not supported"},
		{"rsa role use_pss carried", map[string]any{"use_pss": true, "signature_bits": 512}, k.rsa2048.Public(), KeySpec{Type: "rsa", Bits: 2048, SignatureBits: 512, UsePSS: true}, ""},
		{"no key", map[string]any{}, nil, KeySpec{}, "Refusing to sign CSR with empty PublicKey."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := mustRole(t, tc.role).CheckCSRKey(tc.pub)
			if tc.err != "" {
				if err == nil || !strings.HasPrefix(errs.Message(err), tc.err) || errs.KindOf(err) != errs.Invalid {
					t.Fatalf("err %v, want 400 %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v %v, want %+v", got, err, tc.want)
			}
		})
	}
}

func TestIssueKey(t *testing.T) {
	t.Parallel()
	str := func(s string) *string { return &s }
	num := func(n int) *int { return &n }
	cases := []struct {
		name     string
		role     map[string]any
		typ      *string
		bits     *int
		want     KeySpec
		warnings int
		kind     errs.Kind
	}{
		{"rsa role", map[string]any{}, nil, nil, KeySpec{Type: "rsa", Bits: 2048, SignatureBits: 256}, 0, 0},
		{"ec role ignores request with warning", map[string]any{"key_type": "ec"}, str("rsa"), num(4096), KeySpec{Type: "ec", Bits: 256}, 1, 0},
		{"any needs key_type", map[string]any{"key_type": "any"}, nil, num(256), KeySpec{}, 0, errs.Invalid},
		{"any takes key_type", map[string]any{"key_type": "any"}, str("ec"), nil, KeySpec{Type: "ec", Bits: 256}, 0, 0},
		{"any takes key_bits", map[string]any{"key_type": "any"}, str("rsa"), num(3072), KeySpec{Type: "rsa", Bits: 3072, SignatureBits: 256}, 0, 0},
		{"any with bad bits is a 500", map[string]any{"key_type": "any"}, str("ec"), num(257), KeySpec{}, 0, errs.InvalidVault500},
		{"any with bad type is a 500", map[string]any{"key_type": "any"}, str("dsa"), nil, KeySpec{}, 0, errs.InvalidVault500},
		{"any with type any is a 500", map[string]any{"key_type": "any"}, str("any"), nil, KeySpec{}, 0, errs.InvalidVault500},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, w, err := mustRole(t, tc.role).IssueKey(tc.typ, tc.bits)
			if tc.kind != 0 {
				if errs.KindOf(err) != tc.kind {
					t.Fatalf("err %v, want kind %v", err, tc.kind)
				}
				return
			}
			if err != nil || got != tc.want || len(w) != tc.warnings {
				t.Fatalf("got %+v %q %v, want %+v", got, w, err, tc.want)
			}
		})
	}
}
