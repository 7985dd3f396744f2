package token

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/pkid-dev/pkid/clock"
	"github.com/pkid-dev/pkid/storage/storagetest"
)

func newStore(t *testing.T) (*Store, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
	return NewStore(storagetest.Open(t).Space("sys"), clk, rand.Reader, 768*time.Hour, 768*time.Hour), clk
}

func mustCreate(t *testing.T, s *Store, parent *Entry, req CreateRequest) *Entry {
	t.Helper()
	e, err := s.Create(parent, req)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func alive(t *testing.T, s *Store, e *Entry) bool {
	t.Helper()
	got, err := s.Lookup(e.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got != nil
}

func TestRevocations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		revoke        func(s *Store, parent *Entry) error
		parentAlive   bool
		childrenAlive bool
	}{
		{"revoke takes the children", func(s *Store, p *Entry) error { return s.Revoke(p.ID) }, false, false},
		{"revoke-accessor takes the children", func(s *Store, p *Entry) error {
			_, err := s.RevokeAccessor(p.Accessor)
			return err
		}, false, false},
		{"revoke-orphan leaves orphans", func(s *Store, p *Entry) error { return s.RevokeOrphan(p.ID) }, false, true},
		{"revoke by path prefix", func(s *Store, _ *Entry) error { return s.RevokeByPathPrefix("auth/approle/") }, false, false},
		{"other prefixes untouched", func(s *Store, _ *Entry) error { return s.RevokeByPathPrefix("auth/kubernetes/") }, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, _ := newStore(t)
			parent := mustCreate(t, s, nil, CreateRequest{Policies: []string{"a"}, Path: "auth/approle/login"})
			child := mustCreate(t, s, parent, CreateRequest{Policies: []string{"a"}})
			grandchild := mustCreate(t, s, child, CreateRequest{Policies: []string{"a"}})
			if err := tt.revoke(s, parent); err != nil {
				t.Fatal(err)
			}
			if alive(t, s, parent) != tt.parentAlive || alive(t, s, child) != tt.childrenAlive || alive(t, s, grandchild) != tt.childrenAlive {
				t.Fatalf("alive: parent %v child %v grandchild %v", alive(t, s, parent), alive(t, s, child), alive(t, s, grandchild))
			}
			if tt.childrenAlive && !tt.parentAlive {
				c, _ := s.Lookup(child.ID)
				if !c.Orphan || c.Parent != "" {
					t.Fatalf("child not orphaned: %+v", c)
				}
			}
		})
	}
	s, _ := newStore(t)
	if found, err := s.RevokeAccessor("nope"); found || err != nil {
		t.Fatalf("unknown accessor: %v %v", found, err)
	}
}

func TestLoginTokens(t *testing.T) {
	t.Parallel()
	s, clk := newStore(t)
	e := mustCreate(t, s, nil, CreateRequest{
		Policies: []string{"p"}, TTL: 2 * time.Hour, MaxTTL: time.Hour,
		DisplayName: "kubernetes-ns-sa", VerbatimDisplayName: true, Path: "auth/kubernetes/login",
	})
	if e.DisplayName != "kubernetes-ns-sa" || e.TTL != time.Hour || !e.Orphan {
		t.Fatalf("entry = %+v", e)
	}
	// Renewal never passes the max TTL, counted from creation.
	clk.Advance(50 * time.Minute)
	r, err := s.Renew(e, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if want := e.CreationTime.Add(time.Hour); !r.ExpireTime.Equal(want) {
		t.Fatalf("renewed to %v, want %v", r.ExpireTime, want)
	}
	if plain := mustCreate(t, s, nil, CreateRequest{Policies: []string{"p"}, DisplayName: "ci"}); plain.DisplayName != "token-ci" {
		t.Fatalf("display name = %q", plain.DisplayName)
	}
	accs, err := s.Accessors()
	if err != nil || len(accs) != 2 {
		t.Fatalf("accessors = %v, %v", accs, err)
	}
	clk.Advance(time.Hour)
	if alive(t, s, e) {
		t.Fatal("token outlived its max TTL")
	}
}
