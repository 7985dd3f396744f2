package api_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/pkid-dev/pkid/pkidtest"
)

// Concurrent PATCHes of different fields of one role must all land: the
// read and the write of each merge run in one transaction.
func TestConcurrentRolePatchesLoseNothing(t *testing.T) {
	t.Parallel()
	srv := pkidtest.Start(t)
	h := srv.BuildHierarchy(t)
	c := srv.Client(t)
	path := h.IntMount + "/roles/" + h.Role
	fields := []string{"ou", "organization", "country", "locality", "province",
		"street_address", "postal_code", "allowed_uri_sans", "allowed_serial_numbers", "allowed_user_ids"}
	const rounds = 40
	lost := 0
	for round := range rounds {
		want := fmt.Sprintf("r%d", round)
		var wg sync.WaitGroup
		errc := make(chan error, len(fields))
		for _, f := range fields {
			wg.Go(func() {
				_, err := c.Logical().JSONMergePatch(context.Background(), path, map[string]any{f: []string{want}})
				errc <- err
			})
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Fatalf("round %d: patch: %v", round, err)
			}
		}
		got, err := c.Logical().Read(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fields {
			if v, _ := got.Data[f].([]any); len(v) != 1 || v[0] != want {
				lost++
				t.Errorf("round %d: %s = %v, want [%s]", round, f, got.Data[f], want)
			}
		}
	}
	t.Logf("%d patches in %d rounds of %d concurrent, %d lost", rounds*len(fields), rounds, len(fields), lost)
}

// Concurrent tunes of different fields of one mount must all land.
func TestConcurrentTunesLoseNothing(t *testing.T) {
	t.Parallel()
	srv := pkidtest.Start(t)
	srv.EnablePKI(t, "pki", 0)
	c := srv.Client(t)
	fields := []string{"passthrough_request_headers", "allowed_response_headers",
		"audit_non_hmac_request_keys", "audit_non_hmac_response_keys"}
	lost := 0
	for round := range 25 {
		want := fmt.Sprintf("r%d", round)
		var wg sync.WaitGroup
		for _, f := range fields {
			wg.Go(func() {
				if _, err := c.Logical().Write("sys/mounts/pki/tune", map[string]any{f: []string{want}}); err != nil {
					t.Errorf("tune %s: %v", f, err)
				}
			})
		}
		wg.Go(func() {
			if _, err := c.Logical().Write("sys/mounts/pki/tune", map[string]any{"description": want}); err != nil {
				t.Errorf("tune description: %v", err)
			}
		})
		wg.Wait()
		got, err := c.Logical().Read("sys/mounts/pki/tune")
		if err != nil {
			t.Fatal(err)
		}
		if got.Data["description"] != want {
			lost++
		}
		for _, f := range fields {
			if v, _ := got.Data[f].([]any); len(v) != 1 || v[0] != want {
				lost++
				t.Errorf("round %d: %s = %v, want [%s]", round, f, got.Data[f], want)
			}
		}
	}
	t.Logf("%d tunes in 25 rounds of %d concurrent, %d lost", 25*(len(fields)+1), len(fields)+1, lost)
	if lost > 0 {
		t.Errorf("%d tuned fields lost", lost)
	}
}
