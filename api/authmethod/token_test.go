package authmethod

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/pkid-dev/pkid/errs"
)

func ptr[T any](v T) *T { return &v }

func TestApplyUpgradesDeprecatedNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		fields           TokenFields
		policies, legacy []string
		ttl, legacyTTL   time.Duration
	}{
		{"new name only", TokenFields{TokenPolicies: ptr([]string{"B", "a", "a"}), TokenTTL: ptr(time.Hour)}, []string{"a", "b"}, nil, time.Hour, 0},
		{"old name only", TokenFields{Policies: ptr([]string{"x"}), TTL: ptr(time.Minute)}, []string{"x"}, []string{"x"}, time.Minute, time.Minute},
		{"both: the new name wins", TokenFields{TokenPolicies: ptr([]string{"new"}), Policies: ptr([]string{"old"}), TokenTTL: ptr(time.Hour), TTL: ptr(time.Minute)}, []string{"new"}, []string{"new"}, time.Hour, time.Hour},
	}
	for _, tt := range tests {
		var p TokenParams
		if err := p.Apply(tt.fields); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !reflect.DeepEqual(p.TokenPolicies, tt.policies) || !reflect.DeepEqual(p.Policies, tt.legacy) ||
			p.TokenTTL != tt.ttl || p.TTL != tt.legacyTTL || p.TokenType != "default" {
			t.Errorf("%s: got %+v", tt.name, p)
		}
	}
}

func TestApplyRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		fields TokenFields
		msg    string
	}{
		{"ttl over max", TokenFields{TokenTTL: ptr(2 * time.Hour), TokenMaxTTL: ptr(time.Hour)}, "'token_ttl' cannot be greater than 'token_max_ttl'"},
		{"negative uses", TokenFields{TokenNumUses: ptr(-1)}, "'token_num_uses' cannot be negative"},
		{"bad type", TokenFields{TokenType: ptr("weird")}, `invalid 'token_type' value "weird"`},
		{"bad cidr", TokenFields{TokenBoundCIDRs: ptr([]string{"nope"})}, `invalid CIDR block "nope"`},
	}
	for _, tt := range tests {
		var p TokenParams
		if err := p.Apply(tt.fields); !errors.Is(err, errs.Invalid) || errs.Message(err) != tt.msg {
			t.Errorf("%s: err = %v", tt.name, err)
		}
	}
}

func TestCIDRs(t *testing.T) {
	t.Parallel()
	blocks := []string{"10.0.0.0/8", "192.168.1.7", "2001:db8::/32"}
	for addr, want := range map[string]bool{
		"10.1.2.3": true, "10.1.2.3:8200": true, "192.168.1.7": true, "192.168.1.8": false,
		"[2001:db8::1]:443": true, "::ffff:10.0.0.1": true, "junk": false,
	} {
		if got := AddrInCIDRs(addr, blocks); got != want {
			t.Errorf("AddrInCIDRs(%q) = %v", addr, got)
		}
	}
	for block, want := range map[string]bool{"10.1.0.0/16": true, "10.0.0.0/7": false, "192.168.1.7": true, "172.16.0.0/12": false} {
		if got := CIDRWithin(block, blocks); got != want {
			t.Errorf("CIDRWithin(%q) = %v", block, got)
		}
	}
}
