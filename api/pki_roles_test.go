package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	vault "github.com/hashicorp/vault/api"

	"github.com/pkid-dev/pkid/pkidtest"
)

// issStatus returns the HTTP status and error texts of a vault/api error.
func issStatus(t *testing.T, err error) (int, []string) {
	t.Helper()
	var re *vault.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("not a response error: %v", err)
	}
	return re.StatusCode, re.Errors
}

// issWantError asserts a refused request: the status and the start of the
// error text.
func issWantError(t *testing.T, err error, status int, text string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted, want %d %q", status, text)
	}
	got, msgs := issStatus(t, err)
	if got != status || len(msgs) == 0 || !strings.Contains(msgs[0], text) {
		t.Fatalf("got %d %q, want %d %q", got, msgs, status, text)
	}
}

func TestRolesThroughVaultClient(t *testing.T) {
	t.Parallel()
	srv := pkidtest.Start(t)
	srv.EnablePKI(t, "pki", 0)
	c := srv.Client(t)
	l := c.Logical()
	ctx := context.Background()

	// No roles yet: LIST is a 404, which the client turns into nil.
	if s, err := l.ListWithContext(ctx, "pki/roles"); s != nil || err != nil {
		t.Fatalf("empty list: %v %v", s, err)
	}
	// A role written with only allowed_domains reads back every field at
	// Vault's default, numbers as numbers and lists as arrays. With no
	// issuer yet, the write warns.
	w, err := l.WriteWithContext(ctx, "pki/roles/web", map[string]any{"allowed_domains": "example.com", "name": "ignored"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(w.Warnings, "Issuing Certificate was set to default, but no default issuing certificate (configurable at /config/issuers) is currently set") {
		t.Errorf("warnings %q", w.Warnings)
	}
	named, err := l.WriteWithContext(ctx, "pki/roles/named", map[string]any{"issuer_ref": "nope"})
	if err != nil || !slices.Contains(named.Warnings, "Issuing Certificate was set to nope but no issuing certificate currently has that name") {
		t.Errorf("issuer_ref warning: %v %v", named, err)
	}
	if _, err := l.DeleteWithContext(ctx, "pki/roles/named"); err != nil {
		t.Fatal(err)
	}
	r, err := l.ReadWithContext(ctx, "pki/roles/web")
	if err != nil || r == nil {
		t.Fatalf("read: %v %v", r, err)
	}
	want := map[string]any{
		"allow_localhost": true, "allowed_domains": []any{"example.com"}, "allow_subdomains": false,
		"allow_wildcard_certificates": true, "enforce_hostnames": true, "allow_ip_sans": true,
		"server_flag": true, "client_flag": true, "key_type": "rsa", "key_bits": json.Number("2048"),
		"signature_bits": json.Number("256"), "ttl": json.Number("0"), "max_ttl": json.Number("0"),
		"not_before_duration": json.Number("30"), "require_cn": true, "use_csr_common_name": true,
		"use_csr_sans": true, "cn_validations": []any{"email", "hostname"}, "allowed_uri_sans": []any{},
		"allowed_other_sans": []any{}, "allowed_serial_numbers": []any{}, "allowed_user_ids": []any{},
		"key_usage": []any{"DigitalSignature", "KeyAgreement", "KeyEncipherment"}, "ext_key_usage": []any{},
		"policy_identifiers": []any{}, "issuer_ref": "default", "generate_lease": false, "no_store": false,
		"not_after": "", "organization": []any{}, "serial_number_source": "json-csr",
	}
	for k, v := range want {
		if !reflect.DeepEqual(r.Data[k], v) {
			t.Errorf("%s = %#v, want %#v", k, r.Data[k], v)
		}
	}
	if len(r.Data) < 49 {
		t.Errorf("role read has %d fields", len(r.Data))
	}

	// PATCH merges; POST replaces.
	p, err := l.JSONMergePatch(ctx, "pki/roles/web", map[string]any{"allow_subdomains": true, "ttl": "1h"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Data["allow_subdomains"] != true || p.Data["ttl"] != json.Number("3600") || !reflect.DeepEqual(p.Data["allowed_domains"], []any{"example.com"}) {
		t.Errorf("patch: %v", p.Data)
	}
	if _, err := l.JSONMergePatch(ctx, "pki/roles/missing", map[string]any{"ttl": "1h"}); err == nil {
		t.Error("patch of a missing role accepted")
	} else {
		issWantError(t, err, http.StatusBadRequest, "Unable to fetch role entry to patch")
	}
	rp, err := l.WriteWithContext(ctx, "pki/roles/web", map[string]any{"ttl": "2h", "bogus": "x"})
	if err != nil {
		t.Fatal(err)
	}
	if rp.Data["allow_subdomains"] != false || !reflect.DeepEqual(rp.Data["allowed_domains"], []any{}) ||
		!slices.Contains(rp.Warnings, "Endpoint ignored these unrecognized parameters: [bogus]") {
		t.Errorf("replace: %v %q", rp.Data, rp.Warnings)
	}

	// Refusals, with Vault's statuses.
	_, err = l.WriteWithContext(ctx, "pki/roles/bad", map[string]any{"ttl": "2h", "max_ttl": "1h"})
	issWantError(t, err, http.StatusBadRequest, `"ttl" value must be less than "max_ttl" value`)
	_, err = l.WriteWithContext(ctx, "pki/roles/bad", map[string]any{"key_type": "ec", "key_bits": "2048"})
	issWantError(t, err, http.StatusBadRequest, "unsupported bit length for EC key: 2048")
	_, err = l.WriteWithContext(ctx, "pki/roles/bad", map[string]any{"cn_validations": "dns"})
	issWantError(t, err, http.StatusInternalServerError, "cn_validations value incorrect: unknown type: `dns`")
	if s, _ := l.ReadWithContext(ctx, "pki/roles/bad"); s != nil {
		t.Error("a refused role was stored")
	}
	_, err = l.WriteWithContext(ctx, "pki/roles/bad-", map[string]any{})
	issWantError(t, err, http.StatusNotFound, "unsupported path")

	// LIST is sorted and pages; DELETE is 204 even twice.
	for _, n := range []string{"zeta", "alpha"} {
		if _, err := l.WriteWithContext(ctx, "pki/roles/"+n, map[string]any{"generate_lease": true}); err != nil {
			t.Fatal(err)
		}
	}
	ls, err := l.ListWithContext(ctx, "pki/roles")
	if err != nil || !reflect.DeepEqual(ls.Data["keys"], []any{"alpha", "web", "zeta"}) {
		t.Fatalf("list: %v %v", ls, err)
	}
	ls, err = l.ReadWithDataWithContext(ctx, "pki/roles", map[string][]string{"list": {"true"}, "after": {"alpha"}, "limit": {"1"}})
	if err != nil || !reflect.DeepEqual(ls.Data["keys"], []any{"web"}) {
		t.Fatalf("list after/limit: %v %v", ls, err)
	}
	for range 2 {
		if _, err := l.DeleteWithContext(ctx, "pki/roles/web"); err != nil {
			t.Fatal(err)
		}
	}
	if s, err := l.ReadWithContext(ctx, "pki/roles/web"); s != nil || err != nil {
		t.Fatalf("deleted role: %v %v", s, err)
	}
}
