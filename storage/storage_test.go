package storage_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/pkid-dev/pkid/storage"
	"github.com/pkid-dev/pkid/storage/storagetest"
)

func TestReopenKeepsData(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "pkid.db")
	st, err := storage.Open(path, storage.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	storagetest.Put(t, st.Space("m"), "a", "1")
	if err := st.Space("m").Commit(func(tx storage.Tx) error { return tx.Put("b", []byte("2")) }); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = storage.Open(path, storage.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if st.Path() != path {
		t.Errorf("Path = %q, want %q", st.Path(), path)
	}
	for k, want := range map[string]string{"a": "1", "b": "2"} {
		if v := storagetest.Get(t, st.Space("m"), k); string(v) != want {
			t.Errorf("after reopen %s = %q, want %q", k, v, want)
		}
	}
	if err := st.Check(); err != nil {
		t.Fatal(err)
	}
}

func writeSchemaVersion(t *testing.T, path, version string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), []byte(version))
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSchemaVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		version string // "" leaves what Open wrote
		wantErr error  // nil: opens; errAny: any error
	}{
		{"fresh file", "", nil},
		{"same version", "1", nil},
		{"older version", "0", nil},
		{"newer version refused", "2", storage.ErrNewerSchema},
		{"much newer refused", "100", storage.ErrNewerSchema},
		{"unreadable", "one", errAny},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "pkid.db")
			st, err := storage.Open(path, storage.Options{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			storagetest.Put(t, st.Space("m"), "k", "v")
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			if tc.version != "" {
				writeSchemaVersion(t, path, tc.version)
			}
			st, err = storage.Open(path, storage.Options{NoSync: true})
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("Open: %v", err)
			case tc.wantErr == errAny && err == nil, tc.wantErr != nil && tc.wantErr != errAny && !errors.Is(err, tc.wantErr):
				if st != nil {
					st.Close()
				}
				t.Fatalf("Open = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				// A refused file is left untouched and unlocked.
				assertUnlocked(t, path)
				return
			}
			defer st.Close()
			if v := storagetest.Get(t, st.Space("m"), "k"); string(v) != "v" {
				t.Fatalf("data lost: %q", v)
			}
		})
	}
}

var errAny = errors.New("any error")

func assertUnlocked(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Nanosecond, ReadOnly: true})
	if err != nil {
		t.Fatalf("file left locked or damaged after a refused Open: %v", err)
	}
	db.Close()
}

func TestSecondOpenIsLocked(t *testing.T) {
	t.Parallel()
	st := storagetest.Open(t)
	// flock(2) locks belong to the open file description, so a second Open
	// in the same process conflicts just as another process would.
	tests := []struct {
		name    string
		timeout time.Duration
	}{
		{"no wait", -1},
		{"short wait", 100 * time.Millisecond},
		{"default wait (one second)", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			again, err := storage.Open(st.Path(), storage.Options{LockTimeout: tc.timeout})
			if err == nil {
				again.Close()
				t.Fatal("second Open of a locked file succeeded")
			}
			if !errors.Is(err, storage.ErrLocked) {
				t.Fatalf("second Open = %v, want ErrLocked", err)
			}
			if !strings.Contains(err.Error(), st.Path()) {
				t.Errorf("error %q does not name the file", err)
			}
			// Not a performance assertion: only "it does not hang".
			if d := time.Since(start); d > 15*time.Second {
				t.Fatalf("second Open took %v", d)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name string
		path string
	}{
		{"missing directory", filepath.Join(dir, "no", "such", "pkid.db")},
		{"path is a directory", dir},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := storage.Open(tc.path, storage.Options{NoSync: true})
			if err == nil {
				st.Close()
				t.Fatal("Open succeeded")
			}
			if errors.Is(err, storage.ErrLocked) {
				t.Fatalf("Open = %v, must not claim a lock", err)
			}
		})
	}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		open storagetest.Opener
	}{
		{"bolt", storagetest.Open},
		{"memory", storagetest.OpenMemory},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			storagetest.RunConformance(t, tc.open)
		})
	}
}
