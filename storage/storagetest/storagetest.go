// Package storagetest opens throwaway stores for tests, the way bbolt's own
// internal/btesting does: a fresh file in t.TempDir(), and a consistency check
// of that file once the test is over.
package storagetest

import (
	"path/filepath"
	"testing"

	"github.com/pkid-dev/pkid/storage"
)

// Open returns a store in a fresh file under t.TempDir(). Writes skip fsync:
// tests need consistency, not durability against power loss.
//
// When the test ends the store is closed (a test may close it itself first),
// the file is opened again — which proves it is readable and not left locked —
// and bbolt's consistency check runs over it. Any problem fails the test.
func Open(t testing.TB) *storage.Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pkid.db")
	s, err := storage.Open(path, storage.Options{NoSync: true})
	if err != nil {
		t.Fatalf("storagetest: open: %v", err)
	}
	t.Cleanup(func() { closeAndCheck(t, s, path) })
	return s
}

func closeAndCheck(t testing.TB, s *storage.Store, path string) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Errorf("storagetest: close: %v", err)
		return
	}
	// A negative timeout: if the file is still locked, Close did not release it.
	again, err := storage.Open(path, storage.Options{NoSync: true, LockTimeout: -1})
	if err != nil {
		t.Errorf("storagetest: reopen after test: %v", err)
		return
	}
	defer again.Close()
	if err := again.Check(); err != nil {
		t.Errorf("storagetest: consistency check: %v", err)
	}
}

// OpenMemory returns an empty memory store, closed when the test ends.
func OpenMemory(t testing.TB) *storage.Store {
	t.Helper()
	s := storage.OpenMemory()
	t.Cleanup(func() { _ = s.Close() })
	return s
}
