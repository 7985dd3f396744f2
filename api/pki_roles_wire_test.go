package api

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/field"
	"github.com/pkid-dev/pkid/roles"
)

// Vault's role write warnings, as roles gives them.
const (
	warnGenerateLeaseText = "it is encouraged to disable generate_lease and rely on PKI's native " +
		"capabilities when possible; this option can cause instance-wide issues with large " +
		"numbers of issued certificates"
	warnNoStoreLeaseText = "mutually exclusive values no_store=true and generate_lease=true were " +
		"both specified; no_store=true takes priority"
)

// wireRole decodes raw as a POST body is decoded and builds the role.
func wireRole(t testing.TB, raw map[string]any) *roles.Role {
	t.Helper()
	req := defaultRoleRequest()
	if _, err := field.Decode(raw, &req); err != nil {
		t.Fatalf("role %v: %v", raw, err)
	}
	r, _, err := req.role("test")
	if err != nil {
		t.Fatalf("role %v: %v", raw, err)
	}
	return r
}

// wantDefaults is GET roles/:name of a role written with nothing but
// allowed_domains=example.com, as Vault answers it.
func wantDefaults() map[string]any {
	return map[string]any{
		"issuer_ref": "default", "ttl": 0, "max_ttl": 0,
		"allow_localhost": true, "allowed_domains": []any{"example.com"},
		"allowed_domains_template": false, "allow_bare_domains": false,
		"allow_subdomains": false, "allow_glob_domains": false,
		"allow_wildcard_certificates": true, "allow_any_name": false,
		"enforce_hostnames": true, "allow_token_displayname": false,
		"allow_ip_sans": true, "allowed_uri_sans": []any{}, "allowed_uri_sans_template": false,
		"allowed_other_sans": []any{}, "allowed_serial_numbers": []any{}, "allowed_user_ids": []any{},
		"server_flag": true, "client_flag": true, "code_signing_flag": false,
		"email_protection_flag": false,
		"key_usage":             []any{"DigitalSignature", "KeyAgreement", "KeyEncipherment"},
		"ext_key_usage":         []any{}, "ext_key_usage_oids": []any{},
		"use_csr_common_name": true, "use_csr_sans": true,
		"ou": []any{}, "organization": []any{}, "country": []any{}, "locality": []any{},
		"province": []any{}, "street_address": []any{}, "postal_code": []any{},
		"key_type": "rsa", "key_bits": 2048, "signature_bits": 256, "use_pss": false,
		"generate_lease": false, "no_store": false, "no_store_metadata": false,
		"require_cn": true, "cn_validations": []any{"email", "hostname"},
		"policy_identifiers": []any{}, "basic_constraints_valid_for_non_ca": false,
		"not_before_duration": 30, "not_after": "", "serial_number_source": "json-csr",
	}
}

// jsonOf renders v as a client sees it and decodes it back generically.
func jsonOf(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDefaultsReadBack(t *testing.T) {
	t.Parallel()
	r := wireRole(t, map[string]any{"allowed_domains": "example.com"})
	got := jsonOf(t, roleData(r))
	want := jsonOf(t, wantDefaults())
	if !reflect.DeepEqual(got, want) {
		for k := range want {
			if !reflect.DeepEqual(got[k], want[k]) {
				t.Errorf("%s = %#v, want %#v", k, got[k], want[k])
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("unexpected field %s", k)
			}
		}
	}
	// Numbers must be JSON numbers, lists JSON arrays (terraform, Appendix D).
	raw, _ := json.Marshal(roleData(r))
	for _, frag := range []string{`"key_bits":2048`, `"signature_bits":256`, `"ttl":0`, `"not_before_duration":30`, `"allowed_uri_sans":[]`} {
		if !strings.Contains(string(raw), frag) {
			t.Errorf("response lacks %s: %s", frag, raw)
		}
	}
}

func TestRoleWrite(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		raw  map[string]any
		// check the named fields of the response
		want map[string]any
	}{
		{"strings from the CLI", map[string]any{
			"allowed_domains": "example.com,example.org", "allow_subdomains": "true",
			"max_ttl": "720h", "ttl": "24h", "key_type": "rsa", "key_bits": "2048",
			"key_usage": "DigitalSignature,KeyEncipherment", "ext_key_usage": "ServerAuth",
		}, map[string]any{
			"allowed_domains": []any{"example.com", "example.org"}, "allow_subdomains": true,
			"max_ttl": 2592000, "ttl": 86400, "key_bits": 2048,
			"key_usage": []any{"DigitalSignature", "KeyEncipherment"}, "ext_key_usage": []any{"ServerAuth"},
		}},
		{"ec resolves 256 and keeps signature_bits 0", map[string]any{"key_type": "ec"},
			map[string]any{"key_bits": 256, "signature_bits": 0}},
		{"ed25519 has no sizes", map[string]any{"key_type": "ed25519", "signature_bits": 384},
			map[string]any{"key_bits": 0, "signature_bits": 0}},
		{"any keeps key_bits 0", map[string]any{"key_type": "any"},
			map[string]any{"key_bits": 0, "signature_bits": 0}},
		{"rsa 4096 sha-384", map[string]any{"key_bits": 4096, "signature_bits": 384},
			map[string]any{"key_bits": 4096, "signature_bits": 384}},
		{"cn_validations lower-cased", map[string]any{"cn_validations": "Email"},
			map[string]any{"cn_validations": []any{"email"}}},
		{"empty cn_validations is the default", map[string]any{"cn_validations": ""},
			map[string]any{"cn_validations": []any{"email", "hostname"}}},
		{"no_store forces generate_lease off", map[string]any{"no_store": true, "generate_lease": true},
			map[string]any{"no_store": true, "generate_lease": false}},
		{"allow_wildcard_certificates false kept", map[string]any{"allow_wildcard_certificates": false},
			map[string]any{"allow_wildcard_certificates": false}},
		{"empty issuer_ref is default", map[string]any{"issuer_ref": ""},
			map[string]any{"issuer_ref": "default"}},
		{"policy OIDs comma list", map[string]any{"policy_identifiers": "1.2.3,1.2.4"},
			map[string]any{"policy_identifiers": []any{"1.2.3", "1.2.4"}}},
		{"policy JSON form", map[string]any{"policy_identifiers": `[{"oid":"1.3.6.1.4.1.7.8","notice":"I am a user Notice"},{"oid":"1.3.6.1.4.1.44947.1.2.4","cps":"https://example.com"}]`},
			map[string]any{"policy_identifiers": []any{`{"oid":"1.3.6.1.4.1.7.8","notice":"I am a user Notice"}`, `{"oid":"1.3.6.1.4.1.44947.1.2.4","cps":"https://example.com"}`}}},
		{"other SANs", map[string]any{"allowed_other_sans": "1.3.6.1.4.1.311.20.2.3;UTF8:*@example.com"},
			map[string]any{"allowed_other_sans": []any{"1.3.6.1.4.1.311.20.2.3;UTF8:*@example.com"}}},
		{"durations in seconds", map[string]any{"ttl": 3600, "max_ttl": "2h", "not_before_duration": "1m"},
			map[string]any{"ttl": 3600, "max_ttl": 7200, "not_before_duration": 60}},
		{"serial_number_source json", map[string]any{"serial_number_source": "json"},
			map[string]any{"serial_number_source": "json"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := wireRole(t, tc.raw)
			got := jsonOf(t, roleData(r))
			want := jsonOf(t, tc.want)
			for k, v := range want {
				if !reflect.DeepEqual(got[k], v) {
					t.Errorf("%s = %#v, want %#v", k, got[k], v)
				}
			}
		})
	}
}

func TestPatchMergesPostReplaces(t *testing.T) {
	t.Parallel()
	base := wireRole(t, map[string]any{
		"allowed_domains": "example.com", "allow_subdomains": true, "ttl": "1h",
		"key_type": "ec", "organization": "Org", "generate_lease": true,
		"policy_identifiers": `[{"oid":"1.2.3","cps":"https://cps"}]`,
	})
	patched, warnings, err := patchedRole(base, map[string]any{"ttl": "2h", "allow_bare_domains": true, "organization": nil})
	if err != nil {
		t.Fatal(err)
	}
	if patched.TTL.Hours() != 2 || !patched.AllowBareDomains || !patched.AllowSubdomains ||
		patched.KeyType != "ec" || patched.KeyBits != 256 || len(patched.Organization) != 0 ||
		!reflect.DeepEqual(patched.PolicyIdentifiers, base.PolicyIdentifiers) || !patched.GenerateLease {
		t.Fatalf("patch lost or kept the wrong fields: %+v", patched)
	}
	if !reflect.DeepEqual(warnings, []string{warnGenerateLeaseText}) {
		t.Errorf("warnings %q", warnings)
	}
	// A patch setting no_store on a leased role reports the clash.
	_, warnings, err = patchedRole(base, map[string]any{"no_store": true})
	if err != nil || !reflect.DeepEqual(warnings, []string{warnNoStoreLeaseText}) {
		t.Errorf("no_store patch: %q %v", warnings, err)
	}
	// A patch is validated like a write.
	if _, _, err := patchedRole(base, map[string]any{"max_ttl": "30m"}); !errors.Is(err, errs.Invalid) {
		t.Errorf("patch max_ttl below ttl: %v", err)
	}
	// POST replaces: what is not sent returns to its default.
	replaced := wireRole(t, map[string]any{"ttl": "2h"})
	if replaced.KeyType != "rsa" || len(replaced.AllowedDomains) != 0 || replaced.AllowSubdomains {
		t.Errorf("POST did not replace: %+v", replaced)
	}
}
