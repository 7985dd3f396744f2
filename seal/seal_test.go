package seal

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"

	"github.com/pkid-dev/pkid/records"
	"github.com/pkid-dev/pkid/storage"
)

const keyRec = "config/key/5f0e6a4c"

func pass(t testing.TB, p string) Secret {
	t.Helper()
	s, err := Passphrase([]byte(p))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func keyFile(t testing.TB, b byte) Secret {
	t.Helper()
	s, err := KeyFile(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func openBolt(t testing.TB, path string) storage.Engine {
	t.Helper()
	eng, err := storage.OpenEngine(path, storage.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func mustOpen(t testing.TB, eng storage.Engine, s Secret) *Engine {
	t.Helper()
	e, err := Open(eng, s, Options{Params: TestParams, Name: "test.db"})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func put(t testing.TB, eng storage.Engine, space, key, value string) {
	t.Helper()
	if err := eng.Update(space, func(tx storage.Tx) error { return tx.Put(key, []byte(value)) }); err != nil {
		t.Fatal(err)
	}
}

// get reads key through eng, returning the value and the transaction's
// error.
func get(eng storage.Engine, space, key string) (string, error) {
	var v []byte
	err := eng.View(space, func(tx storage.Tx) error {
		v = tx.Get(key)
		return nil
	})
	return string(v), err
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name   string
		engine func(t *testing.T) storage.Engine
		secret func(t *testing.T) Secret
	}{
		{"bolt/passphrase", func(t *testing.T) storage.Engine { return openBolt(t, filepath.Join(t.TempDir(), "p.db")) }, func(t *testing.T) Secret { return pass(t, "correct horse") }},
		{"bolt/key-file", func(t *testing.T) storage.Engine { return openBolt(t, filepath.Join(t.TempDir(), "p.db")) }, func(t *testing.T) Secret { return keyFile(t, 7) }},
		{"memory/passphrase", func(*testing.T) storage.Engine { return storage.OpenMemoryEngine() }, func(t *testing.T) Secret { return pass(t, "correct horse") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := tc.engine(t)
			defer raw.Close()
			e := mustOpen(t, raw, tc.secret(t))
			put(t, e, "mount-1", keyRec, `{"private_key":"secret"}`)
			put(t, e, "mount-1", "config/issuer/1", `{"certificate":"public"}`)
			if v, err := get(e, "mount-1", keyRec); err != nil || v != `{"private_key":"secret"}` {
				t.Fatalf("sealed Get = %q, %v", v, err)
			}
			stored, _ := get(raw, "mount-1", keyRec)
			if !isSealed([]byte(stored)) || bytes.Contains([]byte(stored), []byte("secret")) {
				t.Fatalf("stored key record %q is not sealed", stored)
			}
			if v, _ := get(raw, "mount-1", "config/issuer/1"); v != `{"certificate":"public"}` {
				t.Fatalf("issuer record changed on disk: %q", v)
			}
			var scanned []string
			err := e.View("mount-1", func(tx storage.Tx) error {
				return tx.Scan("config/", "", func(k string, v []byte) error {
					scanned = append(scanned, k+"="+string(v))
					return nil
				})
			})
			want := []string{`issuer/1={"certificate":"public"}`, `key/5f0e6a4c={"private_key":"secret"}`}
			if err != nil || len(scanned) != 2 || scanned[0] != want[0] || scanned[1] != want[1] {
				t.Fatalf("Scan = %q, %v; want %q", scanned, err, want)
			}
			err = e.View("mount-1", func(tx storage.Tx) error {
				if !storage.ValueIs(tx, keyRec, []byte(`{"private_key":"secret"}`)) || storage.ValueIs(tx, keyRec, []byte("x")) {
					t.Error("ValueIs on a sealed record")
				}
				if !storage.ValueIs(tx, "config/issuer/1", []byte(`{"certificate":"public"}`)) || !storage.ValueIs(tx, "nothing", nil) {
					t.Error("ValueIs on a clear record")
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pkid.db")
	raw := openBolt(t, path)
	if sealed, err := Sealed(raw); err != nil || sealed {
		t.Fatalf("fresh file: Sealed = %v, %v", sealed, err)
	}
	e := mustOpen(t, raw, pass(t, "first"))
	put(t, e, "m", keyRec, "k1")
	raw.Close()

	for _, tc := range []struct {
		name    string
		secret  Secret
		wantErr string // "" = opens
	}{
		{"same passphrase", pass(t, "first"), ""},
		{"wrong passphrase", pass(t, "second"), "seal: wrong passphrase or key file for test.db"},
		{"key file for a passphrase", keyFile(t, 1), "seal: wrong passphrase or key file for test.db: it was sealed with a passphrase, this is a key file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := openBolt(t, path)
			defer raw.Close()
			if sealed, err := Sealed(raw); err != nil || !sealed {
				t.Fatalf("Sealed = %v, %v", sealed, err)
			}
			e, err := Open(raw, tc.secret, Options{Name: "test.db"})
			if tc.wantErr != "" {
				if !errors.Is(err, ErrWrongSecret) || err.Error() != tc.wantErr {
					t.Fatalf("Open = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v, err := get(e, "m", keyRec); err != nil || v != "k1" {
				t.Fatalf("after reopen: %q, %v", v, err)
			}
		})
	}
}

func TestSecretRefusals(t *testing.T) {
	if _, err := Passphrase(nil); err == nil {
		t.Error("empty passphrase accepted")
	}
	if _, err := KeyFile(make([]byte, 31)); err == nil {
		t.Error("31-byte key file accepted")
	}
	if _, err := Open(storage.OpenMemoryEngine(), Secret{}, Options{}); err == nil {
		t.Error("Open without a secret")
	}
}

// TestDamagedValues changes sealed bytes on disk behind the seal: each
// change must make reads fail with ErrOpen, never panic or return bytes.
func TestDamagedValues(t *testing.T) {
	const other = "config/key/0000other"
	for _, tc := range []struct {
		name   string
		damage func(sealed, otherSealed []byte) (key string, value []byte)
	}{
		{"flipped ciphertext byte", func(s, _ []byte) (string, []byte) { s[len(s)-20] ^= 1; return keyRec, s }},
		{"flipped nonce byte", func(s, _ []byte) (string, []byte) { s[len(marker)+3] ^= 0x80; return keyRec, s }},
		{"flipped tag byte", func(s, _ []byte) (string, []byte) { s[len(s)-1] ^= 1; return keyRec, s }},
		{"truncated", func(s, _ []byte) (string, []byte) { return keyRec, s[:len(marker)+10] }},
		{"marker only", func([]byte, []byte) (string, []byte) { return keyRec, []byte(marker) }},
		{"copied from another key", func(_, o []byte) (string, []byte) { return keyRec, o }},
		{"replaced by clear text", func([]byte, []byte) (string, []byte) { return keyRec, []byte(`{"private_key":"attacker's"}`) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := storage.OpenMemoryEngine()
			e := mustOpen(t, raw, pass(t, "p"))
			put(t, e, "m", keyRec, `{"private_key":"mine"}`)
			put(t, e, "m", other, `{"private_key":"other"}`)
			s, _ := get(raw, "m", keyRec)
			o, _ := get(raw, "m", other)
			key, v := tc.damage([]byte(s), []byte(o))
			put(t, raw, "m", key, string(v))

			got, err := get(e, "m", keyRec)
			if !errors.Is(err, ErrOpen) || got != "" {
				t.Fatalf("Get = %q, %v; want ErrOpen", got, err)
			}
			t.Logf("error: %v", err)
			err = e.View("m", func(tx storage.Tx) error {
				return tx.Scan("config/key/", "", func(string, []byte) error { return nil })
			})
			if !errors.Is(err, ErrOpen) {
				t.Fatalf("Scan: %v; want ErrOpen", err)
			}
			// A write transaction that read the damaged value is rolled
			// back, even when fn itself ignored the problem.
			err = e.Update("m", func(tx storage.Tx) error {
				_ = tx.Get(keyRec)
				return tx.Put("config/issuer/x", []byte("written"))
			})
			if !errors.Is(err, ErrOpen) {
				t.Fatalf("Update: %v; want ErrOpen", err)
			}
			if v, _ := get(raw, "m", "config/issuer/x"); v != "" {
				t.Fatalf("write of a failed transaction kept: %q", v)
			}
		})
	}
}

// TestMovedBetweenMounts: the associated data names the space too.
func TestMovedBetweenMounts(t *testing.T) {
	raw := storage.OpenMemoryEngine()
	e := mustOpen(t, raw, pass(t, "p"))
	put(t, e, "mount-a", keyRec, "a's key")
	s, _ := get(raw, "mount-a", keyRec)
	put(t, raw, "mount-b", keyRec, s)
	if _, err := get(e, "mount-b", keyRec); !errors.Is(err, ErrOpen) {
		t.Fatalf("value moved to another mount: %v", err)
	}
}

// TestResealOnOpen: key records written before sealing was turned on are
// sealed by Open, in every space; other records stay as they were.
func TestResealOnOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pkid.db")
	raw := openBolt(t, path)
	defer raw.Close()
	put(t, raw, "mount-a", keyRec, "clear a")
	put(t, raw, "mount-a", "config/key/2", "clear a2")
	put(t, raw, "mount-b", keyRec, "clear b")
	put(t, raw, "mount-b", "role/web", "role")
	e := mustOpen(t, raw, pass(t, "p"))
	if e.Resealed() != 3 {
		t.Fatalf("Resealed = %d, want 3", e.Resealed())
	}
	for _, r := range []struct{ space, key, want string }{
		{"mount-a", keyRec, "clear a"}, {"mount-a", "config/key/2", "clear a2"}, {"mount-b", keyRec, "clear b"},
	} {
		if v, _ := get(raw, r.space, r.key); !isSealed([]byte(v)) {
			t.Errorf("%s %s still clear: %q", r.space, r.key, v)
		}
		if v, err := get(e, r.space, r.key); v != r.want || err != nil {
			t.Errorf("%s %s = %q, %v", r.space, r.key, v, err)
		}
	}
	if v, _ := get(raw, "mount-b", "role/web"); v != "role" {
		t.Errorf("role record changed: %q", v)
	}
	// Once sealed, a clear key record is not sealed by a later start but
	// refused: it was put there behind pkid's back.
	put(t, raw, "mount-c", keyRec, "planted")
	e2 := mustOpen(t, raw, pass(t, "p"))
	if e2.Resealed() != 0 {
		t.Errorf("second Open resealed %d", e2.Resealed())
	}
	if _, err := get(e2, "mount-c", keyRec); !errors.Is(err, ErrOpen) {
		t.Errorf("planted clear key: %v", err)
	}
}

// TestResealResumes: a first sealing start cut short (meta written, clear
// keys left) is finished by the next start.
func TestResealResumes(t *testing.T) {
	raw := storage.OpenMemoryEngine()
	mustOpen(t, raw, pass(t, "p"))
	err := raw.Update(Space, func(tx storage.Tx) error {
		var m meta
		if _, err := storage.GetJSON(tx, metaKey, &m); err != nil {
			return err
		}
		m.Sealing = true
		return storage.PutJSON(tx, metaKey, &m)
	})
	if err != nil {
		t.Fatal(err)
	}
	put(t, raw, "m", keyRec, "left in the clear")
	e := mustOpen(t, raw, pass(t, "p"))
	if e.Resealed() != 1 {
		t.Fatalf("Resealed = %d, want 1", e.Resealed())
	}
	if v, err := get(e, "m", keyRec); v != "left in the clear" || err != nil {
		t.Fatalf("Get = %q, %v", v, err)
	}
	if e := mustOpen(t, raw, pass(t, "p")); e.Resealed() != 0 {
		t.Fatalf("third Open resealed %d", e.Resealed())
	}
}

func TestKeyPrefixIsRecords(t *testing.T) {
	if keyPrefix != records.KeyPrefix {
		t.Fatalf("seal seals %q, key records live under %q", keyPrefix, records.KeyPrefix)
	}
}
