package storagetest

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/pkid-dev/pkid/storage"
)

// Opener makes a fresh, empty store for one test and closes it when the
// test ends.
type Opener func(testing.TB) *storage.Store

// RunConformance runs the contract every storage engine keeps (Get copies,
// rollback, ordered Keys and Scan with after and limit, space isolation,
// DropSpace, JSON helpers) against stores made by open.
func RunConformance(t *testing.T, open Opener) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"GetReturnsACopy", testGetReturnsACopy},
		{"GetMissing", testGetMissing},
		{"PutOverwritesAndEmptyValue", testPutOverwritesAndEmptyValue},
		{"PutInViewFails", testPutInViewFails},
		{"Delete", testDelete},
		{"UpdateErrorRollsBack", testUpdateErrorRollsBack},
		{"Keys", testKeys},
		{"KeysMissingSpace", testKeysMissingSpace},
		{"Scan", testScan},
		{"SpacesIsolated", testSpacesIsolated},
		{"DropSpace", testDropSpace},
		{"JSON", testJSON},
		{"CommitPanicRollsBack", testCommitPanicRollsBack},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// Put writes key/value pairs in one Update, failing the test on error.
func Put(t testing.TB, sp *storage.Space, kv ...string) {
	t.Helper()
	err := sp.Update(func(tx storage.Tx) error {
		for i := 0; i < len(kv); i += 2 {
			if err := tx.Put(kv[i], []byte(kv[i+1])); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("put: %v", err)
	}
}

// Get reads key in a View, failing the test on error.
func Get(t testing.TB, sp *storage.Space, key string) []byte {
	t.Helper()
	var v []byte
	if err := sp.View(func(tx storage.Tx) error { v = tx.Get(key); return nil }); err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	return v
}

func testGetReturnsACopy(t *testing.T, open Opener) {
	t.Parallel()
	sp := open(t).Space("m")
	Put(t, sp, "a", "hello")

	var got []byte
	err := sp.Update(func(tx storage.Tx) error {
		got = tx.Get("a")
		// bbolt's own slices point into the mmap and die with the
		// transaction; writing into ours must not touch the stored value.
		got[0] = 'J'
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "Jello" {
		t.Fatalf("copy = %q", got)
	}
	if v := Get(t, sp, "a"); string(v) != "hello" {
		t.Fatalf("stored value changed through Get's slice: %q", v)
	}
}

func testGetMissing(t *testing.T, open Opener) {
	t.Parallel()
	st := open(t)
	Put(t, st.Space("m"), "a", "1")
	tests := []struct {
		name  string
		space string
		key   string
	}{
		{"missing key", "m", "b"},
		{"missing space", "never-written", "a"},
		{"prefix of a key", "m", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if v := Get(t, st.Space(tc.space), tc.key); v != nil {
				t.Fatalf("Get = %q, want nil", v)
			}
		})
	}
}

func testPutOverwritesAndEmptyValue(t *testing.T, open Opener) {
	t.Parallel()
	sp := open(t).Space("m")
	Put(t, sp, "a", "1")
	Put(t, sp, "a", "2")
	if v := Get(t, sp, "a"); string(v) != "2" {
		t.Fatalf("Get = %q, want 2", v)
	}
	Put(t, sp, "e", "")
	v := Get(t, sp, "e")
	if v == nil || len(v) != 0 {
		t.Fatalf("empty value: Get = %#v, want empty non-nil", v)
	}
}

func testPutInViewFails(t *testing.T, open Opener) {
	t.Parallel()
	sp := open(t).Space("m")
	Put(t, sp, "a", "1")
	err := sp.View(func(tx storage.Tx) error { return tx.Put("b", []byte("2")) })
	if err == nil {
		t.Fatal("Put in a read-only transaction succeeded")
	}
	err = sp.View(func(tx storage.Tx) error { return tx.Delete("a") })
	if err == nil {
		t.Fatal("Delete in a read-only transaction succeeded")
	}
}

func testDelete(t *testing.T, open Opener) {
	t.Parallel()
	st := open(t)
	sp := st.Space("m")
	Put(t, sp, "a", "1", "b", "2")
	tests := []struct {
		name  string
		space string
		key   string
	}{
		{"existing", "m", "a"},
		{"already gone", "m", "a"},
		{"never there", "m", "zzz"},
		{"missing space", "nothing-here", "a"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := st.Space(tc.space).Update(func(tx storage.Tx) error { return tx.Delete(tc.key) })
			if err != nil {
				t.Fatalf("Delete: %v", err)
			}
			if v := Get(t, st.Space(tc.space), tc.key); v != nil {
				t.Fatalf("still there: %q", v)
			}
		})
	}
	if v := Get(t, sp, "b"); string(v) != "2" {
		t.Fatalf("sibling key lost: %q", v)
	}
}

func testUpdateErrorRollsBack(t *testing.T, open Opener) {
	t.Parallel()
	sp := open(t).Space("m")
	Put(t, sp, "keep", "1")
	boom := errors.New("boom")
	err := sp.Update(func(tx storage.Tx) error {
		if err := tx.Put("new", []byte("x")); err != nil {
			return err
		}
		if err := tx.Delete("keep"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want boom", err)
	}
	if v := Get(t, sp, "new"); v != nil {
		t.Fatalf("rolled-back Put visible: %q", v)
	}
	if v := Get(t, sp, "keep"); string(v) != "1" {
		t.Fatalf("rolled-back Delete visible: %q", v)
	}
}

// listFixture is a space shaped like a PKI mount's: several record kinds
// side by side, where a prefix must not leak into its neighbours.
func listFixture(t *testing.T, open Opener) *storage.Space {
	sp := open(t).Space("m")
	Put(t, sp,
		"cert/aa", "x", // "cert/" must not match "certs/"
		"certs/01", "1",
		"certs/02", "2",
		"certs/0a", "a",
		"certs/10", "10",
		"certs/ff", "ff",
		"certsx", "no",
		"role/web", "r",
	)
	return sp
}

func testKeys(t *testing.T, open Opener) {
	t.Parallel()
	sp := listFixture(t, open)
	tests := []struct {
		name   string
		prefix string
		after  string
		limit  int
		want   []string
	}{
		{"prefix", "certs/", "", 0, []string{"01", "02", "0a", "10", "ff"}},
		{"limit", "certs/", "", 2, []string{"01", "02"}},
		{"negative limit is no limit", "certs/", "", -1, []string{"01", "02", "0a", "10", "ff"}},
		{"after existing key", "certs/", "02", 0, []string{"0a", "10", "ff"}},
		{"after missing key", "certs/", "03", 0, []string{"0a", "10", "ff"}},
		{"after and limit", "certs/", "01", 2, []string{"02", "0a"}},
		{"after the last", "certs/", "ff", 0, nil},
		{"after before the first", "certs/", "0", 0, []string{"01", "02", "0a", "10", "ff"}},
		{"no match", "revoked/", "", 0, nil},
		{"empty prefix lists all", "", "certs/ff", 0, []string{"certsx", "role/web"}},
		{"prefix without slash", "cert", "", 0, []string{"/aa", "s/01", "s/02", "s/0a", "s/10", "s/ff", "sx"}},
		{"one key", "role/", "", 0, []string{"web"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			err := sp.View(func(tx storage.Tx) error {
				var err error
				got, err = tx.Keys(tc.prefix, tc.after, tc.limit)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("Keys(%q, %q, %d) = %q, want %q", tc.prefix, tc.after, tc.limit, got, tc.want)
			}
		})
	}
}

func testKeysMissingSpace(t *testing.T, open Opener) {
	t.Parallel()
	sp := open(t).Space("empty")
	err := sp.View(func(tx storage.Tx) error {
		keys, err := tx.Keys("", "", 0)
		if err != nil || keys != nil {
			t.Errorf("Keys = %q, %v; want nil, nil", keys, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testScan(t *testing.T, open Opener) {
	t.Parallel()
	sp := listFixture(t, open)
	boom := errors.New("boom")
	tests := []struct {
		name    string
		prefix  string
		after   string
		stopAt  string // return stopErr from fn at this key
		stopErr error
		want    string // "key=value " for each call
		wantErr error
	}{
		{name: "all", prefix: "certs/", want: "01=1 02=2 0a=a 10=10 ff=ff "},
		{name: "after", prefix: "certs/", after: "0a", want: "10=10 ff=ff "},
		{name: "ErrStop ends without error", prefix: "certs/", stopAt: "02", stopErr: storage.ErrStop, want: "01=1 02=2 "},
		{name: "wrapped ErrStop", prefix: "certs/", stopAt: "01", stopErr: fmtWrap(storage.ErrStop), want: "01=1 "},
		{name: "other error returned", prefix: "certs/", stopAt: "0a", stopErr: boom, want: "01=1 02=2 0a=a ", wantErr: boom},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var b strings.Builder
			err := sp.View(func(tx storage.Tx) error {
				return tx.Scan(tc.prefix, tc.after, func(k string, v []byte) error {
					b.WriteString(k + "=" + string(v) + " ")
					if k == tc.stopAt {
						return tc.stopErr
					}
					return nil
				})
			})
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("Scan error = %v, want %v", err, tc.wantErr)
			}
			if b.String() != tc.want {
				t.Fatalf("Scan saw %q, want %q", b.String(), tc.want)
			}
		})
	}
}

func fmtWrap(err error) error { return errors.Join(errors.New("context"), err) }

func testSpacesIsolated(t *testing.T, open Opener) {
	t.Parallel()
	st := open(t)
	a, b, ab := st.Space("a"), st.Space("b"), st.Space("a/b")
	Put(t, a, "k", "in a", "only-a", "1")
	Put(t, b, "k", "in b")
	Put(t, ab, "k", "in a/b")

	for _, tc := range []struct {
		sp   *storage.Space
		want string
		keys []string
	}{
		{a, "in a", []string{"k", "only-a"}},
		{b, "in b", []string{"k"}},
		{ab, "in a/b", []string{"k"}},
	} {
		if v := Get(t, tc.sp, "k"); string(v) != tc.want {
			t.Errorf("Get k = %q, want %q", v, tc.want)
		}
		var keys []string
		if err := tc.sp.View(func(tx storage.Tx) (err error) { keys, err = tx.Keys("", "", 0); return err }); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(keys, tc.keys) {
			t.Errorf("Keys = %q, want %q", keys, tc.keys)
		}
	}
}

func testDropSpace(t *testing.T, open Opener) {
	t.Parallel()
	st := open(t)
	Put(t, st.Space("gone"), "k", "1", "certs/01", "c")
	Put(t, st.Space("kept"), "k", "2")

	if err := st.DropSpace("gone"); err != nil {
		t.Fatalf("DropSpace: %v", err)
	}
	if v := Get(t, st.Space("gone"), "k"); v != nil {
		t.Fatalf("dropped record still readable: %q", v)
	}
	if v := Get(t, st.Space("kept"), "k"); string(v) != "2" {
		t.Fatalf("other space affected: %q", v)
	}
	if err := st.DropSpace("gone"); err != nil {
		t.Fatalf("DropSpace of a missing space: %v", err)
	}
	if err := st.DropSpace("never"); err != nil {
		t.Fatalf("DropSpace of a never-written space: %v", err)
	}
	// A re-enabled mount starts fresh under the same name.
	Put(t, st.Space("gone"), "new", "3")
	var keys []string
	if err := st.Space("gone").View(func(tx storage.Tx) (err error) { keys, err = tx.Keys("", "", 0); return err }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys, []string{"new"}) {
		t.Fatalf("keys after re-create = %q", keys)
	}
}

func testJSON(t *testing.T, open Opener) {
	t.Parallel()
	sp := open(t).Space("m")
	type rec struct {
		Version int      `json:"version"`
		Name    string   `json:"name"`
		List    []string `json:"list"`
	}
	in := rec{Version: 1, Name: "web", List: []string{"a", "b"}}
	if err := sp.Update(func(tx storage.Tx) error { return storage.PutJSON(tx, "role/web", in) }); err != nil {
		t.Fatal(err)
	}
	Put(t, sp, "role/bad", "{not json")

	tests := []struct {
		name    string
		key     string
		found   bool
		wantErr bool
	}{
		{"present", "role/web", true, false},
		{"missing", "role/none", false, false},
		{"corrupt", "role/bad", true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out rec
			var found bool
			err := sp.View(func(tx storage.Tx) (err error) {
				found, err = storage.GetJSON(tx, tc.key, &out)
				return err
			})
			if found != tc.found || (err != nil) != tc.wantErr {
				t.Fatalf("GetJSON = %v, %v; want found=%v err=%v", found, err, tc.found, tc.wantErr)
			}
			if tc.key == "role/web" && !slices.Equal(out.List, in.List) || (tc.key == "role/web" && out.Name != "web") {
				t.Fatalf("GetJSON decoded %+v, want %+v", out, in)
			}
		})
	}

	err := sp.Update(func(tx storage.Tx) error { return storage.PutJSON(tx, "x", func() {}) })
	if err == nil {
		t.Fatal("PutJSON of an unencodable value succeeded")
	}
}

func testCommitPanicRollsBack(t *testing.T, open Opener) {
	t.Parallel()
	sp := open(t).Space("m")
	err := sp.Commit(func(tx storage.Tx) error {
		if err := tx.Put("half", []byte("x")); err != nil {
			return err
		}
		panic("mid-commit")
	})
	if err == nil || !strings.Contains(err.Error(), "panic") {
		t.Fatalf("Commit with a panic = %v, want a panic error", err)
	}
	if v := Get(t, sp, "half"); v != nil {
		t.Fatalf("write of a panicked commit kept: %q", v)
	}
	Put(t, sp, "after", "1")
	if v := Get(t, sp, "after"); string(v) != "1" {
		t.Fatalf("store unusable after a panicked commit: %q", v)
	}
}
