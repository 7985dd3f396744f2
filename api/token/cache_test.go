package token

import (
	"testing"
	"time"

	"github.com/pkid-dev/pkid/clock"
)

// TestLookupCacheIsExact: once a token has been looked up (and its entry
// cached), each change to it is seen by the next lookup.
func TestLookupCacheIsExact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		req    CreateRequest
		change func(t *testing.T, s *Store, e *Entry, clk *clock.Fake)
		check  func(t *testing.T, got *Entry)
	}{
		{
			name:   "revoked",
			change: func(t *testing.T, s *Store, e *Entry, _ *clock.Fake) { must(t, s.Revoke(e.ID)) },
			check:  wantGone,
		},
		{
			name: "revoked by accessor",
			change: func(t *testing.T, s *Store, e *Entry, _ *clock.Fake) {
				_, err := s.RevokeAccessor(e.Accessor)
				must(t, err)
			},
			check: wantGone,
		},
		{
			name: "expired",
			req:  CreateRequest{TTL: time.Hour},
			change: func(t *testing.T, _ *Store, _ *Entry, clk *clock.Fake) {
				clk.Advance(time.Hour)
			},
			check: wantGone,
		},
		{
			name: "one use left",
			req:  CreateRequest{NumUses: 3},
			change: func(t *testing.T, s *Store, e *Entry, _ *clock.Fake) {
				must(t, s.UseOnce(e))
				must(t, s.UseOnce(e))
			},
			check: func(t *testing.T, got *Entry) {
				if got == nil || got.NumUses != 1 {
					t.Errorf("lookup = %+v, want 1 use left", got)
				}
			},
		},
		{
			name: "uses exhausted",
			req:  CreateRequest{NumUses: 1},
			change: func(t *testing.T, s *Store, e *Entry, _ *clock.Fake) {
				must(t, s.UseOnce(e))
			},
			check: wantGone,
		},
		{
			name: "renewed",
			req:  CreateRequest{TTL: time.Hour},
			change: func(t *testing.T, s *Store, e *Entry, clk *clock.Fake) {
				clk.Advance(30 * time.Minute)
				_, err := s.Renew(e, 2*time.Hour)
				must(t, err)
				clk.Advance(time.Hour)
			},
			check: func(t *testing.T, got *Entry) {
				if got == nil {
					t.Errorf("renewed token gone an hour after its renewal")
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, clk := newStore(t)
			req := tt.req
			req.Policies = []string{"a"}
			e := mustCreate(t, s, nil, req)
			for range 2 { // the second lookup is served from the cache
				got, err := s.Lookup(e.ID)
				if err != nil || got == nil || got.ID != e.ID || got.Accessor != e.Accessor {
					t.Fatalf("lookup before the change = %+v, %v", got, err)
				}
				got.Accessor = "changed by a caller" // must not reach the cache
			}
			tt.change(t, s, e, clk)
			got, err := s.Lookup(e.ID)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, got)
		})
	}
}

func wantGone(t *testing.T, got *Entry) {
	t.Helper()
	if got != nil {
		t.Errorf("lookup = %+v, want no live token", got)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
