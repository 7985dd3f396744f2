package token

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestCalculateTTL checks Vault's framework.CalculateTTL rules and words.
func TestCalculateTTL(t *testing.T) {
	t.Parallel()
	start := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name    string
		plan    ttlPlan
		now     time.Time
		want    time.Duration
		warning string
		err     string
	}{
		{"default when none asked", ttlPlan{def: time.Hour, max: 768 * time.Hour, start: start}, start, time.Hour, "", ""},
		{"asked within the max", ttlPlan{asked: 2 * time.Hour, def: time.Hour, max: 768 * time.Hour, start: start}, start, 2 * time.Hour, "", ""},
		{"asked above the max", ttlPlan{asked: 1000 * time.Hour, def: time.Hour, max: 768 * time.Hour, start: start}, start, 768 * time.Hour,
			`TTL of "1000h" exceeded the effective max_ttl of "768h"; TTL value is capped accordingly`, ""},
		{"explicit max is smaller", ttlPlan{asked: 2 * time.Hour, max: 768 * time.Hour, explicit: 90 * time.Minute, start: start}, start, 90 * time.Minute,
			`TTL of "2h" exceeded the effective max_ttl of "1h30m"; TTL value is capped accordingly`, ""},
		{"renewal near the end", ttlPlan{asked: time.Hour, max: 2 * time.Hour, start: start}, start.Add(90 * time.Minute), 30 * time.Minute,
			`TTL of "1h" exceeded the effective max_ttl of "30m"; TTL value is capped accordingly`, ""},
		{"renewal past the end", ttlPlan{asked: time.Hour, max: time.Hour, start: start}, start.Add(2 * time.Hour), 0, "",
			"past the max TTL, cannot renew"},
		{"period", ttlPlan{period: 3 * time.Hour, max: 768 * time.Hour, start: start}, start.Add(1000 * time.Hour), 3 * time.Hour, "", ""},
		{"period above the max", ttlPlan{period: 1000 * time.Hour, max: 768 * time.Hour, start: start}, start, 768 * time.Hour,
			`period of "1000h" exceeded the effective max_ttl of "768h"; period value is capped accordingly`, ""},
		{"period within an explicit max", ttlPlan{period: time.Hour, max: 768 * time.Hour, explicit: 2 * time.Hour, start: start}, start.Add(90 * time.Minute), 30 * time.Minute,
			`TTL of "1h" exceeded the effective max_ttl of "30m"; TTL value is capped accordingly`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, warnings, err := calculateTTL(tc.plan, tc.now)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("ttl %v, want %v", got, tc.want)
			}
			if w := strings.Join(warnings, "|"); w != tc.warning {
				t.Errorf("warnings %q, want %q", w, tc.warning)
			}
		})
	}
}

// TestSanitizePoliciesAndNames checks Vault's policyutil.SanitizePolicies
// and its display-name rule.
func TestSanitizePoliciesAndNames(t *testing.T) {
	t.Parallel()
	policies := []struct {
		in         []string
		addDefault bool
		want       []string
	}{
		{nil, true, []string{"default"}},
		{[]string{" Web ", "web", ""}, false, []string{"web"}},
		{[]string{"b", "a"}, true, []string{"a", "b", "default"}},
		{[]string{"web", "ROOT"}, true, []string{"root"}},
		{[]string{"default", "x"}, true, []string{"default", "x"}},
	}
	for _, tc := range policies {
		if got := SanitizePolicies(tc.in, tc.addDefault); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SanitizePolicies(%q, %v) = %q, want %q", tc.in, tc.addDefault, got, tc.want)
		}
	}
	names := map[string]string{"": "token", "ci": "token-ci", "my app!": "token-my-app", "a.b_c": "token-a-b-c", "root": "token-root"}
	for in, want := range names {
		if got := displayName(in); got != want {
			t.Errorf("displayName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestChildInheritsPoliciesAsTheyAre checks that a child asked without
// policies gets its parent's, without an added "default".
func TestChildInheritsPoliciesAsTheyAre(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	parent := mustCreate(t, s, nil, CreateRequest{Policies: []string{"web"}, NoDefaultPolicy: true})
	child := mustCreate(t, s, parent, CreateRequest{})
	if !reflect.DeepEqual(child.Policies, []string{"web"}) {
		t.Fatalf("child policies %q, want the parent's [web]", child.Policies)
	}
	root := mustCreate(t, s, nil, CreateRequest{Policies: []string{"root"}, DisplayName: "root", VerbatimDisplayName: true})
	if root.TTL != 0 || !root.ExpireTime.IsZero() || root.DisplayName != "root" {
		t.Fatalf("root token %+v, want no expiry", root)
	}
	if _, err := s.Renew(root, time.Hour); err == nil || !strings.Contains(err.Error(), "lease is not renewable") {
		t.Fatalf("renewing a non-expiring token: %v", err)
	}
}
