package roles

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestComputeValidity(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 6, 1, 12, 0, 0, 500_000_000, time.UTC) // sub-second, as a real clock
	day := 24 * time.Hour
	mount := func(in ValidityInput) ValidityInput {
		if in.MountDefaultTTL == 0 {
			in.MountDefaultTTL = 768 * time.Hour
		}
		if in.MountMaxTTL == 0 {
			in.MountMaxTTL = 768 * time.Hour
		}
		in.Now = now
		return in
	}
	cases := []struct {
		name      string
		in        ValidityInput
		notAfter  time.Time
		notBefore time.Time // zero: now-30s
		warnings  []string
		err       string
	}{
		{name: "request ttl", in: ValidityInput{TTL: day}, notAfter: now.Add(day)},
		{name: "role ttl when request has none", in: ValidityInput{RoleTTL: time.Hour}, notAfter: now.Add(time.Hour)},
		{name: "request ttl wins over role ttl", in: ValidityInput{TTL: 2 * time.Hour, RoleTTL: time.Hour}, notAfter: now.Add(2 * time.Hour)},
		{name: "mount default", in: ValidityInput{}, notAfter: now.Add(768 * time.Hour)},
		{name: "tuned mount default", in: ValidityInput{MountDefaultTTL: time.Hour}, notAfter: now.Add(time.Hour)},
		{name: "capped by role max with a warning", in: ValidityInput{TTL: 1000 * time.Hour, RoleMaxTTL: 720 * time.Hour},
			notAfter: now.Add(720 * time.Hour), warnings: []string{`TTL "1000h0m0s" is longer than permitted maxTTL "720h0m0s", so maxTTL is being used`}},
		{name: "capped by mount max", in: ValidityInput{TTL: 1000 * time.Hour},
			notAfter: now.Add(768 * time.Hour), warnings: []string{`TTL "1000h0m0s" is longer than permitted maxTTL "768h0m0s", so maxTTL is being used`}},
		{name: "default above role max warns", in: ValidityInput{RoleMaxTTL: time.Hour},
			notAfter: now.Add(time.Hour), warnings: []string{`TTL "768h0m0s" is longer than permitted maxTTL "1h0m0s", so maxTTL is being used`}},
		{name: "role max may exceed mount max", in: ValidityInput{TTL: 2000 * time.Hour, RoleMaxTTL: 3000 * time.Hour}, notAfter: now.Add(2000 * time.Hour)},
		{name: "within max: no warning", in: ValidityInput{TTL: time.Hour, RoleMaxTTL: 4 * time.Hour}, notAfter: now.Add(time.Hour)},
		{name: "request not_after", in: ValidityInput{NotAfter: "2025-07-01T00:00:00Z"}, notAfter: time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)},
		{name: "not_after is not capped", in: ValidityInput{NotAfter: "2030-01-01T00:00:00Z", RoleMaxTTL: time.Hour},
			notAfter: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), warnings: []string{`TTL "768h0m0s" is longer than permitted maxTTL "1h0m0s", so maxTTL is being used`}},
		{name: "role not_after wins over request's", in: ValidityInput{NotAfter: "2025-07-01T00:00:00Z", RoleNotAfter: "2025-08-01T00:00:00Z"}, notAfter: time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC)},
		{name: "ttl and not_after", in: ValidityInput{TTL: time.Hour, NotAfter: "2025-07-01T00:00:00Z"},
			err: "Either ttl or not_after should be provided. Both should not be provided in the same request."},
		{name: "ttl and role not_after", in: ValidityInput{TTL: time.Hour, RoleNotAfter: "2025-07-01T00:00:00Z"},
			err: "Either ttl or not_after should be provided."},
		{name: "bad not_after", in: ValidityInput{NotAfter: "tomorrow"}, err: `parsing time "tomorrow"`},
		{name: "beyond issuer: err", in: ValidityInput{TTL: 48 * time.Hour, IssuerNotAfter: now.Add(day).Truncate(time.Second)},
			err: "cannot satisfy request, as TTL would result in notAfter of 2025-06-03T12:00:00.5Z that is beyond the expiration of the CA certificate at 2025-06-02T12:00:00Z"},
		{name: "beyond issuer: default behavior is err", in: ValidityInput{TTL: 48 * time.Hour, IssuerNotAfter: now.Add(day), Behavior: ""}, err: "cannot satisfy request"},
		{name: "within issuer", in: ValidityInput{TTL: time.Hour, IssuerNotAfter: now.Add(day)}, notAfter: now.Add(time.Hour)},
		{name: "beyond issuer: truncate", in: ValidityInput{TTL: 48 * time.Hour, IssuerNotAfter: now.Add(day), Behavior: NotAfterTruncate}, notAfter: now.Add(day)},
		{name: "truncate to a passed issuer", in: ValidityInput{TTL: time.Hour, IssuerNotAfter: now.Add(-time.Hour), Behavior: NotAfterTruncate},
			err: "cannot satisfy request, as NotAfter date 2025-06-01T11:00:00.5Z is in the past"},
		{name: "beyond issuer: permit", in: ValidityInput{TTL: 48 * time.Hour, IssuerNotAfter: now.Add(day), Behavior: NotAfterPermit}, notAfter: now.Add(48 * time.Hour)},
		// Appendix C: a root made with the default 768h, a leaf asking for
		// 768h a moment later: the leaf's sub-second NotAfter passes the
		// root's whole-second one.
		{name: "sub-second quirk", in: ValidityInput{IssuerNotAfter: now.Truncate(time.Second).Add(768 * time.Hour)}, err: "beyond the expiration of the CA certificate"},
		{name: "not_before_duration", in: ValidityInput{TTL: time.Hour, NotBeforeDuration: time.Minute}, notAfter: now.Add(time.Hour), notBefore: now.Add(-time.Minute)},
		{name: "zero not_before_duration backdates 30s", in: ValidityInput{TTL: time.Hour}, notAfter: now.Add(time.Hour), notBefore: now.Add(-30 * time.Second)},
		{name: "not_after before not_before", in: ValidityInput{NotAfter: "2025-06-01T11:00:00Z"}, err: "is later than the certificate's Not After"},
		{name: "not_after equal to not_before", in: ValidityInput{NotAfter: "2025-06-01T11:59:00Z", NotBeforeDuration: 60*time.Second + 500*time.Millisecond}, err: "is equal to the certificate's Not After"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, err := ComputeValidity(mount(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !v.NotAfter.Equal(tc.notAfter) {
				t.Errorf("NotAfter %s, want %s", v.NotAfter, tc.notAfter)
			}
			nb := tc.notBefore
			if nb.IsZero() {
				nb = now.Add(-30 * time.Second)
			}
			if !v.NotBefore.Equal(nb) {
				t.Errorf("NotBefore %s, want %s", v.NotBefore, nb)
			}
			if !reflect.DeepEqual(v.Warnings, tc.warnings) {
				t.Errorf("warnings %q, want %q", v.Warnings, tc.warnings)
			}
		})
	}
}
