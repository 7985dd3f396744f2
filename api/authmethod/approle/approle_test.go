package approle

import (
	"crypto/rand"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/pkid-dev/pkid/api/authmethod"
	"github.com/pkid-dev/pkid/clock"
	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/storage/storagetest"
)

const mountMax = 768 * time.Hour

func newBackend(t *testing.T) (*Backend, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
	return New(storagetest.Open(t).Space("auth-approle"), clk, rand.Reader), clk
}

func ptr[T any](v T) *T { return &v }

func writeRole(t *testing.T, b *Backend, name string, req RoleRequest) {
	t.Helper()
	if _, err := b.WriteRole(name, req, mountMax); err != nil {
		t.Fatalf("WriteRole(%s): %v", name, err)
	}
}

func roleID(t *testing.T, b *Backend, name string) string {
	t.Helper()
	id, ok, err := b.ReadRoleID(name)
	if err != nil || !ok {
		t.Fatalf("ReadRoleID(%s): %v %v", name, ok, err)
	}
	return id
}

func secret(t *testing.T, b *Backend, name string, req SecretIDRequest) *SecretID {
	t.Helper()
	s, err := b.GenerateSecretID(name, req, mountMax)
	if err != nil {
		t.Fatalf("GenerateSecretID(%s): %v", name, err)
	}
	return s
}

func wantErr(t *testing.T, err error, kind errs.Kind, msg string) {
	t.Helper()
	if !errors.Is(err, kind) || errs.Message(err) != msg {
		t.Fatalf("err = %v (kind %v), want %v %q", err, errs.KindOf(err), kind, msg)
	}
}

func TestLoginEndToEnd(t *testing.T) {
	t.Parallel()
	b, _ := newBackend(t)
	writeRole(t, b, "Cert-Manager", RoleRequest{TokenFields: authmethod.TokenFields{
		TokenPolicies: ptr([]string{"cert-manager-policy", " Default "}),
		TokenTTL:      ptr(time.Hour),
		TokenMaxTTL:   ptr(4 * time.Hour),
	}, SecretIDTTL: ptr(10 * time.Minute)})
	s := secret(t, b, "cert-manager", SecretIDRequest{Metadata: `{"team":"platform"}`})
	if s.TTL != 10*time.Minute || s.NumUses != 0 || len(s.SecretID) != 36 || len(s.Accessor) != 36 {
		t.Fatalf("secret id = %+v", s)
	}
	auth, err := b.Login(LoginRequest{RoleID: roleID(t, b, "cert-manager"), SecretID: s.SecretID}, "127.0.0.1:5000")
	if err != nil {
		t.Fatal(err)
	}
	want := &authmethod.Auth{
		Policies: []string{"cert-manager-policy", "default"}, TTL: time.Hour, MaxTTL: 4 * time.Hour,
		Metadata:     map[string]string{"role_name": "cert-manager", "team": "platform"},
		Alias:        roleID(t, b, "cert-manager"),
		InternalData: map[string]string{"role_name": "cert-manager"},
		BoundCIDRs:   nil,
	}
	auth.BoundCIDRs = nil
	if !reflect.DeepEqual(auth, want) {
		t.Fatalf("auth = %+v\nwant   %+v", auth, want)
	}
}

func TestLoginRefusals(t *testing.T) {
	t.Parallel()
	b, clk := newBackend(t)
	writeRole(t, b, "web", RoleRequest{SecretIDTTL: ptr(time.Minute), SecretIDNumUses: ptr(2)})
	writeRole(t, b, "other", RoleRequest{})
	id := roleID(t, b, "web")
	good := secret(t, b, "web", SecretIDRequest{})
	otherSecret := secret(t, b, "other", SecretIDRequest{})

	tests := []struct {
		name string
		req  LoginRequest
		msg  string
	}{
		{"missing role_id", LoginRequest{SecretID: good.SecretID}, "missing role_id"},
		{"unknown role_id", LoginRequest{RoleID: "nope", SecretID: good.SecretID}, "invalid role or secret ID"},
		{"missing secret_id", LoginRequest{RoleID: id}, "missing secret_id"},
		{"wrong secret_id", LoginRequest{RoleID: id, SecretID: "wrong"}, "invalid role or secret ID"},
		{"another role's secret_id", LoginRequest{RoleID: id, SecretID: otherSecret.SecretID}, "invalid role or secret ID"},
		{"the accessor is not a secret", LoginRequest{RoleID: id, SecretID: good.Accessor}, "invalid role or secret ID"},
	}
	for _, tt := range tests {
		_, err := b.Login(tt.req, "127.0.0.1")
		wantErr(t, err, errs.Invalid, tt.msg)
	}

	// Two uses, then the secret id is gone.
	for i := 0; i < 2; i++ {
		if _, err := b.Login(LoginRequest{RoleID: id, SecretID: good.SecretID}, "127.0.0.1"); err != nil {
			t.Fatalf("use %d: %v", i+1, err)
		}
	}
	_, err := b.Login(LoginRequest{RoleID: id, SecretID: good.SecretID}, "127.0.0.1")
	wantErr(t, err, errs.Invalid, "invalid role or secret ID")

	// Expiry comes from the injected clock, and the expired id is removed.
	late := secret(t, b, "web", SecretIDRequest{})
	clk.Advance(time.Minute)
	_, err = b.Login(LoginRequest{RoleID: id, SecretID: late.SecretID}, "127.0.0.1")
	wantErr(t, err, errs.Invalid, "invalid role or secret ID")
	if accessors, _, _ := b.ListSecretIDAccessors("web"); len(accessors) != 0 {
		t.Fatalf("expired secret id still listed: %v", accessors)
	}
	if got, err := b.LookupSecretIDAccessor("web", late.Accessor); !errors.Is(err, errs.NotFound) || got != nil {
		t.Fatalf("expired secret id not deleted: %v %v", got, err)
	}
}

func TestSecretIDNeverExpiresWithZeroTTL(t *testing.T) {
	t.Parallel()
	b, clk := newBackend(t)
	writeRole(t, b, "web", RoleRequest{})
	s := secret(t, b, "web", SecretIDRequest{})
	if s.TTL != 0 {
		t.Fatalf("ttl = %v", s.TTL)
	}
	clk.Advance(10 * 365 * 24 * time.Hour)
	if _, err := b.Login(LoginRequest{RoleID: roleID(t, b, "web"), SecretID: s.SecretID}, "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	// A secret_id_ttl beyond the mount's max is capped by it.
	writeRole(t, b, "long", RoleRequest{SecretIDTTL: ptr(10000 * time.Hour)})
	if got := secret(t, b, "long", SecretIDRequest{}).TTL; got != mountMax {
		t.Fatalf("capped ttl = %v", got)
	}
}

func TestRoleReadWrite(t *testing.T) {
	t.Parallel()
	b, _ := newBackend(t)
	warnings, err := b.WriteRole("web", RoleRequest{
		TokenFields:  authmethod.TokenFields{Policies: ptr([]string{"b", "a"}), TokenMaxTTL: ptr(1000 * time.Hour)},
		SecretIDTTL:  ptr(time.Hour),
		BindSecretID: ptr(true),
	}, mountMax)
	if err != nil || len(warnings) != 1 {
		t.Fatalf("WriteRole: %v %v", warnings, err)
	}
	got, err := b.ReadRole("web")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"bind_secret_id": true, "secret_id_bound_cidrs": []string{}, "secret_id_num_uses": 0,
		"secret_id_ttl": int64(3600), "local_secret_ids": false,
		"token_policies": []string{"a", "b"}, "policies": []string{"a", "b"},
		"token_ttl": int64(0), "token_max_ttl": int64(3600000), "token_explicit_max_ttl": int64(0),
		"token_period": int64(0), "token_num_uses": 0, "token_no_default_policy": false,
		"token_bound_cidrs": []string{}, "token_type": "default",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ReadRole =\n%v\nwant\n%v", got, want)
	}
	// An update touches only what it sends; token_policies replaces the
	// deprecated name.
	writeRole(t, b, "web", RoleRequest{TokenFields: authmethod.TokenFields{TokenPolicies: ptr([]string{"c"})}})
	got, _ = b.ReadRole("web")
	if !reflect.DeepEqual(got["token_policies"], []string{"c"}) || got["policies"] != nil || got["secret_id_ttl"] != int64(3600) {
		t.Fatalf("after update: %v", got)
	}
	names, _ := b.ListRoles()
	if !reflect.DeepEqual(names, []string{"web"}) {
		t.Fatalf("ListRoles = %v", names)
	}
	if missing, err := b.ReadRole("nope"); missing != nil || err != nil {
		t.Fatalf("missing role: %v %v", missing, err)
	}
}

func TestRoleValidation(t *testing.T) {
	t.Parallel()
	b, _ := newBackend(t)
	tests := []struct {
		name string
		req  RoleRequest
		kind errs.Kind
		msg  string
	}{
		{"no constraint", RoleRequest{BindSecretID: ptr(false)}, errs.InvalidVault500, "at least one constraint should be enabled on the role"},
		{"ttl over max", RoleRequest{TokenFields: authmethod.TokenFields{TokenTTL: ptr(2 * time.Hour), TokenMaxTTL: ptr(time.Hour)}}, errs.Invalid, "'token_ttl' cannot be greater than 'token_max_ttl'"},
		{"negative uses", RoleRequest{SecretIDNumUses: ptr(-1)}, errs.Invalid, "secret_id_num_uses cannot be negative"},
		{"bad cidr", RoleRequest{SecretIDBoundCIDRs: ptr([]string{"10.0.0.0/33"})}, errs.Invalid, "invalid CIDR blocks"},
		{"batch tokens", RoleRequest{TokenFields: authmethod.TokenFields{TokenType: ptr("batch")}}, errs.Invalid, `token_type "batch" is not supported by pkid: it issues service tokens`},
		{"period over max", RoleRequest{TokenFields: authmethod.TokenFields{TokenPeriod: ptr(1000 * time.Hour)}}, errs.Invalid, `period of "1000h0m0s" is greater than the backend's maximum lease TTL of "768h0m0s"`},
	}
	for _, tt := range tests {
		_, err := b.WriteRole("r", tt.req, mountMax)
		if !errors.Is(err, tt.kind) || errs.Message(err) != tt.msg {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.msg)
		}
	}
	// bind_secret_id=false is fine with a CIDR constraint, and then login
	// needs no secret id but the right address.
	writeRole(t, b, "cidr", RoleRequest{BindSecretID: ptr(false), SecretIDBoundCIDRs: ptr([]string{"10.1.0.0/16"})})
	id := roleID(t, b, "cidr")
	if _, err := b.Login(LoginRequest{RoleID: id}, "10.1.2.3:4000"); err != nil {
		t.Fatalf("login from inside the CIDR: %v", err)
	}
	_, err := b.Login(LoginRequest{RoleID: id}, "10.2.0.1:4000")
	wantErr(t, err, errs.Invalid, `source address "10.2.0.1:4000" unauthorized by CIDR restrictions on the role`)
	_, err = b.GenerateSecretID("cidr", SecretIDRequest{}, mountMax)
	wantErr(t, err, errs.Invalid, "bind_secret_id is not set on the role")
}

func TestSecretIDRequests(t *testing.T) {
	t.Parallel()
	b, _ := newBackend(t)
	writeRole(t, b, "web", RoleRequest{SecretIDNumUses: ptr(3), SecretIDTTL: ptr(time.Hour), SecretIDBoundCIDRs: ptr([]string{"10.0.0.0/8"})})
	tests := []struct {
		name string
		req  SecretIDRequest
		msg  string
	}{
		{"more uses than the role", SecretIDRequest{NumUses: ptr(5)}, "num_uses cannot be higher than the role's secret_id_num_uses"},
		{"unlimited uses on a limited role", SecretIDRequest{NumUses: ptr(0)}, "num_uses cannot be higher than the role's secret_id_num_uses"},
		{"longer ttl than the role", SecretIDRequest{TTL: ptr(2 * time.Hour)}, "ttl cannot be longer than the role's secret_id_ttl"},
		{"cidr outside the role's", SecretIDRequest{CIDRList: []string{"192.168.0.0/24"}}, `failed to verify subset relationship between CIDR blocks on the role ["10.0.0.0/8"] and CIDR blocks on the secret ID ["192.168.0.0/24"]`},
		{"bad metadata", SecretIDRequest{Metadata: "novalue"}, `failed to parse metadata: invalid key/value pair "novalue"`},
	}
	for _, tt := range tests {
		_, err := b.GenerateSecretID("web", tt.req, mountMax)
		if !errors.Is(err, errs.Invalid) || errs.Message(err) != tt.msg {
			t.Errorf("%s: err = %v", tt.name, err)
		}
	}
	_, err := b.GenerateSecretID("nope", SecretIDRequest{}, mountMax)
	wantErr(t, err, errs.NotFound, `role "nope" does not exist`)

	s := secret(t, b, "web", SecretIDRequest{NumUses: ptr(2), CIDRList: []string{"10.1.0.0/16"}, Metadata: "a=b"})
	info, err := b.LookupSecretID("web", s.SecretID)
	if err != nil || info["secret_id_accessor"] != s.Accessor || info["secret_id_num_uses"] != 2 ||
		!reflect.DeepEqual(info["metadata"], map[string]string{"a": "b"}) {
		t.Fatalf("lookup = %v %v", info, err)
	}
	if _, err := b.Login(LoginRequest{RoleID: roleID(t, b, "web"), SecretID: s.SecretID}, "10.2.0.1"); err == nil {
		t.Fatal("login outside the secret id's CIDR")
	}
	custom := secret(t, b, "web", SecretIDRequest{SecretID: "my-own-secret"})
	if custom.SecretID != "my-own-secret" {
		t.Fatalf("custom = %+v", custom)
	}
	_, err = b.GenerateSecretID("web", SecretIDRequest{SecretID: "my-own-secret"}, mountMax)
	wantErr(t, err, errs.Invalid, "SecretID is already registered")

	accessors, ok, _ := b.ListSecretIDAccessors("web")
	if !ok || len(accessors) != 2 {
		t.Fatalf("accessors = %v", accessors)
	}
	if err := b.DestroySecretIDAccessor("web", s.Accessor); err != nil {
		t.Fatal(err)
	}
	if err := b.DestroySecretID("web", "my-own-secret"); err != nil {
		t.Fatal(err)
	}
	if accessors, _, _ := b.ListSecretIDAccessors("web"); len(accessors) != 0 {
		t.Fatalf("after destroy: %v", accessors)
	}
	_, err = b.LookupSecretIDAccessor("web", "unknown")
	wantErr(t, err, errs.NotFound, `failed to find accessor entry for secret_id_accessor: "unknown"`)
}

func TestRoleIDAndDelete(t *testing.T) {
	t.Parallel()
	b, _ := newBackend(t)
	writeRole(t, b, "a", RoleRequest{RoleID: ptr("fixed-id")})
	writeRole(t, b, "b", RoleRequest{})
	if roleID(t, b, "a") != "fixed-id" {
		t.Fatal("custom role_id lost")
	}
	if err := b.WriteRoleID("b", "fixed-id"); !errors.Is(err, errs.Invalid) {
		t.Fatalf("duplicate role_id: %v", err)
	}
	if err := b.WriteRoleID("a", "new-id"); err != nil {
		t.Fatal(err)
	}
	s := secret(t, b, "a", SecretIDRequest{})
	if _, err := b.Login(LoginRequest{RoleID: "fixed-id", SecretID: s.SecretID}, ""); err == nil {
		t.Fatal("old role_id still logs in")
	}
	if _, err := b.Login(LoginRequest{RoleID: "new-id", SecretID: s.SecretID}, ""); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteRole("a"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Login(LoginRequest{RoleID: "new-id", SecretID: s.SecretID}, ""); err == nil {
		t.Fatal("deleted role logs in")
	}
	// Recreating the role does not revive its old secret ids.
	writeRole(t, b, "a", RoleRequest{RoleID: ptr("new-id")})
	if _, err := b.Login(LoginRequest{RoleID: "new-id", SecretID: s.SecretID}, ""); err == nil {
		t.Fatal("secret id survived its role")
	}
	if _, ok, _ := b.ReadRoleID("gone"); ok {
		t.Fatal("role-id of a missing role")
	}
	if exists, _ := b.RoleExists("A"); !exists {
		t.Fatal("role names are case-insensitive")
	}
}
