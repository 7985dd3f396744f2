package roles

import (
	"reflect"
	"strings"
	"testing"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/field"
)

// newRole decodes raw as the API decodes a POST body and builds the role.
func newRole(t testing.TB, raw map[string]any) (*Role, []string, error) {
	t.Helper()
	var req testRequest
	req.Settings = DefaultSettings()
	if _, err := field.Decode(goNames(raw), &req); err != nil {
		return nil, nil, err
	}
	return New("test", req.Settings, testPolicies(req.PolicyIdentifiers))
}

// testRequest is the API's role body, for tests that build roles from the
// maps clients send (api decodes policy_identifiers the same way).
type testRequest struct {
	Settings
	PolicyIdentifiers string `json:"policy_identifiers"`
}

// goNames renames raw's Vault keys to the Go names of Settings fields, so
// that tests keep writing the maps clients send while the Vault schema
// itself lives in api: every Vault name is its field's name in snake case
// (allow_ip_sans is AllowIPSANs). Keys no field matches stay as they are.
func goNames(raw map[string]any) map[string]any {
	byKey := map[string]string{}
	collectNames(reflect.TypeOf(Settings{}), byKey)
	out := make(map[string]any, len(raw))
	for k, v := range raw {
		if name, ok := byKey[strings.ReplaceAll(k, "_", "")]; ok {
			k = name
		}
		out[k] = v
	}
	return out
}

func collectNames(t reflect.Type, byKey map[string]string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous {
			collectNames(f.Type, byKey)
			continue
		}
		byKey[strings.ToLower(f.Name)] = f.Name
	}
}

func testPolicies(s string) []string {
	if s == "" {
		return []string{}
	}
	if list, err := PolicyEntries(s); err == nil {
		return list
	}
	return strings.Split(s, ",")
}

func mustRole(t testing.TB, raw map[string]any) *Role {
	t.Helper()
	r, _, err := newRole(t, raw)
	if err != nil {
		t.Fatalf("role %v: %v", raw, err)
	}
	return r
}

func TestRoleWriteRefused(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		raw  map[string]any
		kind errs.Kind
		msg  string
	}{
		{"ttl over max_ttl", map[string]any{"ttl": "2h", "max_ttl": "1h"}, errs.Invalid, `"ttl" value must be less than "max_ttl" value`},
		{"rsa 1024", map[string]any{"key_bits": 1024}, errs.Invalid, "RSA keys < 2048 bits are unsafe and not supported: got 1024"},
		{"rsa odd size", map[string]any{"key_bits": 2049}, errs.Invalid, "unsupported bit length for RSA key: 2049"},
		{"ec odd size", map[string]any{"key_type": "ec", "key_bits": 512}, errs.Invalid, "unsupported bit length for EC key: 512"},
		{"unknown key type", map[string]any{"key_type": "dsa"}, errs.Invalid, "unknown key type dsa"},
		{"bad signature bits", map[string]any{"signature_bits": 128}, errs.Invalid, "unsupported hash signature algorithm: 128"},
		{"bad eku oid", map[string]any{"ext_key_usage_oids": "1.2.x"}, errs.Invalid, `"1.2.x" could not be parsed as a valid oid for an extended key usage`},
		{"bad allowed_other_sans", map[string]any{"allowed_other_sans": "1.2.3:UTF8:x"}, errs.Invalid, `error parsing allowed_other_sans: expected a semicolon in other SAN "1.2.3:UTF8:x"`},
		{"other SAN type", map[string]any{"allowed_other_sans": "1.2.3;IA5:x"}, errs.Invalid, `error parsing allowed_other_sans: only utf8 other SANs are supported; found non-supported type in other SAN "1.2.3;IA5:x"`},
		{"serial source", map[string]any{"serial_number_source": "csr"}, errs.Invalid, "unknown serial_number_source csr"},
		{"cn_validations unknown is a 500", map[string]any{"cn_validations": "dns"}, errs.InvalidVault500, "cn_validations value incorrect: unknown type: `dns`"},
		{"cn_validations disabled mixed", map[string]any{"cn_validations": "disabled,email"}, errs.InvalidVault500, "cn_validations value incorrect: cannot specify `disabled` along with `email` or `hostname`"},
		{"cn_validations twice", map[string]any{"cn_validations": "email,Email"}, errs.InvalidVault500, "cn_validations value incorrect: `email` specified multiple times"},
		{"policy neither OID nor JSON is a 500", map[string]any{"policy_identifiers": "not-an-oid"}, errs.InvalidVault500, `Policy Identifier "not-an-oid" is neither a valid OID`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := newRole(t, tc.raw)
			if err == nil {
				t.Fatalf("accepted, want %q", tc.msg)
			}
			if errs.KindOf(err) != tc.kind || !strings.HasPrefix(errs.Message(err), tc.msg) {
				t.Fatalf("got %v %q, want %v %q", errs.KindOf(err), errs.Message(err), tc.kind, tc.msg)
			}
		})
	}
}

func TestRoleWriteWarnings(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		raw  map[string]any
		want []string
	}{
		{"none", map[string]any{}, nil},
		{"generate_lease", map[string]any{"generate_lease": true}, []string{warnGenerateLease}},
		{"no_store wins", map[string]any{"generate_lease": true, "no_store": true}, []string{warnNoStoreLease}},
		{"no_store alone", map[string]any{"no_store": true}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, w, err := newRole(t, tc.raw)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(w, tc.want) {
				t.Fatalf("warnings %q, want %q", w, tc.want)
			}
		})
	}
}
