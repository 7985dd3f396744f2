package api

import (
	"reflect"
	"strings"
	"testing"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/field"
	"github.com/pkid-dev/pkid/roles"
)

// A field added to roles.Settings but not carried by roleRequest would be
// silently dropped from every role write; filling the wire struct and
// checking every setting arrives catches it.
func TestRoleRequestCarriesEverySetting(t *testing.T) {
	t.Parallel()
	var q roleRequest
	fillNonZero(t, reflect.ValueOf(&q).Elem())
	if zero := zeroFields(reflect.ValueOf(q.settings()), "Settings."); len(zero) > 0 {
		t.Errorf("roleRequest.settings does not carry %v", zero)
	}
}

// And the way back, which builds the wire defaults from roles' defaults.
func TestRoleRequestOfCarriesEverySetting(t *testing.T) {
	t.Parallel()
	var s roles.Settings
	fillNonZero(t, reflect.ValueOf(&s).Elem())
	q := roleRequestOf(s)
	if got := q.settings(); !reflect.DeepEqual(got, s) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, s)
	}
}

// An empty body must give Vault's defaults, as roles defines them.
func TestRoleRequestDefaults(t *testing.T) {
	t.Parallel()
	q := defaultRoleRequest()
	unknown, err := field.Decode(map[string]any{}, &q)
	if err != nil || len(unknown) != 0 {
		t.Fatalf("decode: %v %v", unknown, err)
	}
	if got, want := q.settings(), roles.DefaultSettings(); !reflect.DeepEqual(got, want) {
		t.Fatalf("defaults:\n got %+v\nwant %+v", got, want)
	}
	if q.Name != "" || q.Backend != "" || q.PolicyIdentifiers != nil {
		t.Fatalf("name %q backend %q policies %v, want none", q.Name, q.Backend, q.PolicyIdentifiers)
	}
}

// The keys a role write knows drive the "ignored unrecognized parameters"
// warning: they are Vault's and must not change.
func TestRoleRequestKnownKeys(t *testing.T) {
	t.Parallel()
	keys := strings.Fields(`name backend issuer_ref ttl max_ttl
		allow_localhost allowed_domains allowed_domains_template allow_bare_domains
		allow_subdomains allow_glob_domains allow_wildcard_certificates allow_any_name
		enforce_hostnames allow_ip_sans allowed_uri_sans allowed_uri_sans_template
		allowed_other_sans allowed_serial_numbers allowed_user_ids server_flag
		client_flag code_signing_flag email_protection_flag key_usage ext_key_usage
		ext_key_usage_oids use_csr_common_name use_csr_sans ou organization country
		locality province street_address postal_code key_type key_bits signature_bits
		use_pss generate_lease no_store no_store_metadata require_cn cn_validations
		basic_constraints_valid_for_non_ca not_before_duration not_after
		serial_number_source policy_identifiers`)
	raw := map[string]any{"not_a_role_key": "x"}
	for _, k := range keys {
		raw[k] = nil // null leaves the field alone but still counts as known
	}
	q := defaultRoleRequest()
	unknown, err := field.Decode(raw, &q)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(unknown, []string{"not_a_role_key"}) {
		t.Fatalf("unknown keys %v, want only not_a_role_key", unknown)
	}
	if n := countWireKeys(reflect.TypeOf(q)); n != len(keys) {
		t.Fatalf("roleRequest knows %d keys, want %d", n, len(keys))
	}
}

// Conversion failures name the field by its Vault name.
func TestRoleRequestFieldErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		raw map[string]any
		msg string
	}{
		{map[string]any{"allow_any_name": "maybe"}, `Field validation failed: error converting input for field "allow_any_name"`},
		{map[string]any{"ttl": "-5"}, `Field validation failed: error converting input for field "ttl"`},
	}
	for _, tc := range cases {
		q := defaultRoleRequest()
		_, err := field.Decode(tc.raw, &q)
		if errs.KindOf(err) != errs.Invalid || !strings.HasPrefix(errs.Message(err), tc.msg) {
			t.Fatalf("%v: got %v, want %q", tc.raw, err, tc.msg)
		}
	}
}

func countWireKeys(t reflect.Type) int {
	n := 0
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Tag.Get("json") == "" {
			n += countWireKeys(f.Type)
		} else if f.Tag.Get("json") != "" {
			n++
		}
	}
	return n
}
