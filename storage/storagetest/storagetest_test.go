package storagetest_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/pkid-dev/pkid/storage"
	"github.com/pkid-dev/pkid/storage/storagetest"
)

// recordingTB runs the helper's cleanups on demand and keeps its complaints,
// so the helper's own failure path can be tested.
type recordingTB struct {
	testing.TB
	cleanups []func()
	errors   []string
}

func (r *recordingTB) Helper()           {}
func (r *recordingTB) Cleanup(fn func()) { r.cleanups = append(r.cleanups, fn) }
func (r *recordingTB) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recordingTB) Fatalf(format string, args ...any) {
	r.TB.Fatalf("helper gave up early: "+format, args...)
}

func (r *recordingTB) runCleanups() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

func TestOpen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		damage  func(t *testing.T, st *storage.Store)
		wantErr string // substring of the reported problem, "" for none
	}{
		{"clean", func(*testing.T, *storage.Store) {}, ""},
		{"closed by the test", func(t *testing.T, st *storage.Store) { st.Close() }, ""},
		{"file damaged", func(t *testing.T, st *storage.Store) {
			st.Close()
			// Both meta pages gone: bbolt refuses the file.
			if err := os.WriteFile(st.Path(), make([]byte, 8192), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "reopen after test"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := &recordingTB{TB: t}
			st := storagetest.Open(rec)
			err := st.Space("m").Commit(func(tx storage.Tx) error { return tx.Put("k", []byte("v")) })
			if err != nil {
				t.Fatal(err)
			}
			tc.damage(t, st)
			rec.runCleanups()
			got := strings.Join(rec.errors, "; ")
			if tc.wantErr == "" && got != "" || !strings.Contains(got, tc.wantErr) {
				t.Fatalf("helper reported %q, want %q", got, tc.wantErr)
			}
		})
	}
}
