// Package seal keeps CA private keys encrypted at rest. It wraps a
// storage.Engine so that key records ("config/key/<id>", records.KeyPrefix,
// in every mount's space) are sealed with XChaCha20-Poly1305 on Put and
// opened on Get and Scan; every other record passes through unchanged.
//
// The sealing key is derived from a passphrase with argon2id (RFC 9106) or
// from a key file of at least 32 random bytes with HKDF-SHA256 (RFC 5869):
// a key file already has full entropy, so a memory-hard function would only
// slow the start down. The salt, the KDF and its parameters live in the
// meta record of space "seal", with a check value (a known text sealed with
// the key) that tells a wrong passphrase at start instead of at the first
// issue.
//
// A sealed value is "\x00PS1" || 24-byte nonce || ciphertext and tag. The
// associated data is the record's space and key, so a sealed value copied
// to another record (another key ID, another mount) does not open.
package seal

import (
	"bytes"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/pkid-dev/pkid/storage"
)

// Space holds the meta record; it is never sealed itself.
const Space = "seal"

const (
	metaKey = "meta"
	// keyPrefix is records.KeyPrefix (a test holds them equal): package
	// records pulls in roles and field, which sealing has no use for.
	keyPrefix  = "config/key/"
	marker     = "\x00PS1"
	keyLen     = chacha20poly1305.KeySize
	saltLen    = 16
	minKeyFile = 32
	checkText  = "pkid seal check v1"
	hkdfInfo   = "pkid seal v1"

	kdfArgon2id = "argon2id"
	kdfHKDF     = "hkdf-sha256"
)

// ErrWrongSecret is returned by Open when the passphrase or key file does
// not open the data's check value.
var ErrWrongSecret = errors.New("seal: wrong passphrase or key file")

// ErrSealed is the refusal to open sealed data without a secret (see
// Sealed).
var ErrSealed = errors.New("seal: data is sealed")

// ErrOpen is returned by reads of a sealed value that does not open: it was
// changed on disk, copied from another record, or sealed with another key.
var ErrOpen = errors.New("seal: sealed value does not open")

// Params are argon2id's costs. A zero field takes the default of
// DefaultParams.
type Params struct {
	Time      uint32 `json:"time"`       // passes over memory
	MemoryKiB uint32 `json:"memory_kib"` // memory in KiB
	Threads   uint8  `json:"threads"`    // lanes
}

// DefaultParams are RFC 9106's second recommended option with two lanes:
// t=3, m=64 MiB, p=2.
var DefaultParams = Params{Time: 3, MemoryKiB: 64 * 1024, Threads: 2}

// TestParams cost next to nothing, for tests that seal a store many times.
// They protect nothing against guessing: never use them for real data.
var TestParams = Params{Time: 1, MemoryKiB: 64, Threads: 1}

func (p Params) withDefaults() Params {
	if p.Time == 0 {
		p.Time = DefaultParams.Time
	}
	if p.MemoryKiB == 0 {
		p.MemoryKiB = DefaultParams.MemoryKiB
	}
	if p.Threads == 0 {
		p.Threads = DefaultParams.Threads
	}
	return p
}

// Secret is what the sealing key is derived from. The zero value is no
// secret.
type Secret struct {
	kdf string
	b   []byte
}

// Passphrase is a secret typed by a person, stretched with argon2id.
func Passphrase(p []byte) (Secret, error) {
	if len(p) == 0 {
		return Secret{}, errors.New("seal: empty passphrase")
	}
	return Secret{kdf: kdfArgon2id, b: bytes.Clone(p)}, nil
}

// KeyFile is a secret of at least 32 random bytes, used through HKDF.
func KeyFile(b []byte) (Secret, error) {
	if len(b) < minKeyFile {
		return Secret{}, fmt.Errorf("seal: key file has %d bytes, want at least %d random bytes", len(b), minKeyFile)
	}
	return Secret{kdf: kdfHKDF, b: bytes.Clone(b)}, nil
}

// IsZero reports whether s is no secret.
func (s Secret) IsZero() bool { return s.kdf == "" }

func (s Secret) what() string {
	if s.kdf == kdfHKDF {
		return "a key file"
	}
	return "a passphrase"
}

// Derive returns the sealing key of s for salt and params (params matter
// only for a passphrase).
func (s Secret) Derive(salt []byte, p Params) ([]byte, error) {
	switch s.kdf {
	case kdfArgon2id:
		p = p.withDefaults()
		return argon2.IDKey(s.b, salt, p.Time, p.MemoryKiB, p.Threads, keyLen), nil
	case kdfHKDF:
		return hkdf.Key(sha256.New, s.b, salt, hkdfInfo, keyLen)
	}
	return nil, errors.New("seal: no secret")
}

// meta is the record at seal/meta. Its version is the format of sealed
// values and of this record.
type meta struct {
	Version int    `json:"version"`
	KDF     string `json:"kdf"`
	Salt    []byte `json:"salt"`
	Argon2  Params `json:"argon2id"`
	Check   []byte `json:"check"`
	// Sealing is set from the start that seals the data until every key
	// record stored in the clear before is sealed, so that a start cut
	// short finishes the job. Once it is clear, a key record in the clear
	// is refused rather than sealed: it was put there behind pkid's back.
	Sealing bool `json:"sealing,omitempty"`
}

// Options tune Open. The zero value is production's.
type Options struct {
	// Params are argon2id's costs when Open seals a store for the first
	// time (zero fields: DefaultParams). A sealed store keeps the
	// parameters it was sealed with.
	Params Params
	// Rand is the source of salts and nonces (nil: crypto/rand).
	Rand io.Reader
	// Name names the data in messages, such as its file path.
	Name string
}

// Engine is a storage.Engine whose key records are sealed.
type Engine struct {
	inner    storage.Engine
	aead     aeadCipher
	rand     io.Reader
	resealed int
}

type aeadCipher interface {
	Seal(dst, nonce, plaintext, additionalData []byte) []byte
	Open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error)
	NonceSize() int
	Overhead() int
}

// Sealed reports whether eng holds sealed data (a seal meta record).
func Sealed(eng storage.Engine) (bool, error) {
	m, err := readMeta(eng)
	return m != nil, err
}

func readMeta(eng storage.Engine) (*meta, error) {
	var m *meta
	err := eng.View(Space, func(tx storage.Tx) error {
		var rec meta
		ok, err := storage.GetJSON(tx, metaKey, &rec)
		if ok && err == nil {
			m = &rec
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("seal: read meta record: %w", err)
	}
	return m, nil
}

// Open seals eng with s: the first time, it writes a meta record with a
// fresh salt; afterwards it checks that s is the secret the data was sealed
// with (ErrWrongSecret otherwise). The start that seals the data also
// seals every key record stored in the clear before (resumed by the next
// start if it is cut short), so that from its return no key record is
// readable without the secret; Resealed says how many there were. Later,
// a key record in the clear is an error at read (ErrOpen), not sealed.
// eng must be a storage.SpaceLister for that visit. Open does not close
// eng on error.
func Open(eng storage.Engine, s Secret, o Options) (*Engine, error) {
	if s.IsZero() {
		return nil, errors.New("seal: no passphrase or key file")
	}
	lister, ok := eng.(storage.SpaceLister)
	if !ok {
		return nil, fmt.Errorf("seal: engine %T cannot list its spaces", eng)
	}
	name := o.Name
	if name == "" {
		name = "the data"
	}
	e := &Engine{inner: eng, rand: o.Rand}
	if e.rand == nil {
		e.rand = rand.Reader
	}
	m, err := readMeta(eng)
	if err != nil {
		return nil, err
	}
	if m == nil {
		if m, err = e.create(s, o.Params); err != nil {
			return nil, err
		}
	} else if err := e.unlock(m, s, name); err != nil {
		return nil, err
	}
	if !m.Sealing {
		return e, nil
	}
	if err := e.resealAll(lister); err != nil {
		return nil, err
	}
	m.Sealing = false
	if err := e.inner.Update(Space, func(tx storage.Tx) error { return storage.PutJSON(tx, metaKey, m) }); err != nil {
		return nil, fmt.Errorf("seal: write meta record: %w", err)
	}
	return e, nil
}

func (e *Engine) create(s Secret, p Params) (*meta, error) {
	m := &meta{Version: 1, KDF: s.kdf, Salt: make([]byte, saltLen), Sealing: true}
	if s.kdf == kdfArgon2id {
		m.Argon2 = p.withDefaults()
	}
	if _, err := io.ReadFull(e.rand, m.Salt); err != nil {
		return nil, fmt.Errorf("seal: salt: %w", err)
	}
	if err := e.setKey(s, m); err != nil {
		return nil, err
	}
	check, err := e.seal(checkAD(), []byte(checkText))
	if err != nil {
		return nil, err
	}
	m.Check = check
	err = e.inner.Update(Space, func(tx storage.Tx) error {
		if tx.Get(metaKey) != nil {
			return errors.New("seal: meta record appeared while sealing")
		}
		return storage.PutJSON(tx, metaKey, m)
	})
	return m, err
}

func (e *Engine) unlock(m *meta, s Secret, name string) error {
	if m.Version != 1 {
		return fmt.Errorf("seal: %s is sealed in format %d, which this build does not know", name, m.Version)
	}
	switch m.KDF {
	case kdfArgon2id, kdfHKDF:
	default:
		return fmt.Errorf("seal: %s is sealed with unknown KDF %q", name, m.KDF)
	}
	if m.KDF != s.kdf {
		want := Secret{kdf: m.KDF}.what()
		return fmt.Errorf("%w for %s: it was sealed with %s, this is %s", ErrWrongSecret, name, want, s.what())
	}
	if err := e.setKey(s, m); err != nil {
		return err
	}
	got, err := e.open(checkAD(), m.Check)
	if err != nil || string(got) != checkText {
		return fmt.Errorf("%w for %s", ErrWrongSecret, name)
	}
	return nil
}

func (e *Engine) setKey(s Secret, m *meta) error {
	key, err := s.Derive(m.Salt, m.Argon2)
	if err != nil {
		return err
	}
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return fmt.Errorf("seal: %w", err)
	}
	e.aead = aead
	return nil
}

// resealAll seals the key records still in the clear, one transaction per
// space.
func (e *Engine) resealAll(l storage.SpaceLister) error {
	spaces, err := l.Spaces()
	if err != nil {
		return fmt.Errorf("seal: list spaces: %w", err)
	}
	for _, space := range spaces {
		if space == Space {
			continue
		}
		err := e.inner.Update(space, func(tx storage.Tx) error {
			type kv struct {
				key   string
				value []byte
			}
			var clear []kv
			err := tx.Scan(keyPrefix, "", func(k string, v []byte) error {
				if !isSealed(v) {
					clear = append(clear, kv{keyPrefix + k, bytes.Clone(v)})
				}
				return nil
			})
			if err != nil {
				return err
			}
			for _, r := range clear {
				sv, err := e.seal(recordAD(space, r.key), r.value)
				if err != nil {
					return err
				}
				if err := tx.Put(r.key, sv); err != nil {
					return err
				}
			}
			e.resealed += len(clear)
			return nil
		})
		if err != nil {
			return fmt.Errorf("seal: seal existing keys of space %s: %w", space, err)
		}
	}
	return nil
}

// Resealed is the number of key records Open found in the clear and sealed.
func (e *Engine) Resealed() int { return e.resealed }

func checkAD() []byte { return []byte(Space + "\x00" + metaKey) }

// recordAD binds a sealed value to its record. Space names are mount UUIDs
// or "sys", so a NUL cannot occur in them and the split is unambiguous.
func recordAD(space, key string) []byte { return []byte(space + "\x00" + key) }

// sealedKey reports whether the record at key of space is sealed.
func sealedKey(space, key string) bool {
	return space != Space && strings.HasPrefix(key, keyPrefix)
}

func isSealed(v []byte) bool { return bytes.HasPrefix(v, []byte(marker)) }

func (e *Engine) seal(ad, plain []byte) ([]byte, error) {
	ns := e.aead.NonceSize()
	out := make([]byte, len(marker)+ns, len(marker)+ns+len(plain)+e.aead.Overhead())
	copy(out, marker)
	// Random 24-byte nonces: XChaCha20's nonce is long enough that random
	// choice never repeats in practice, and a CA writes few keys.
	if _, err := io.ReadFull(e.rand, out[len(marker):]); err != nil {
		return nil, fmt.Errorf("seal: nonce: %w", err)
	}
	return e.aead.Seal(out, out[len(marker):], plain, ad), nil
}

func (e *Engine) open(ad, v []byte) ([]byte, error) {
	ns := e.aead.NonceSize()
	if !isSealed(v) || len(v) < len(marker)+ns+e.aead.Overhead() {
		return nil, ErrOpen
	}
	nonce := v[len(marker) : len(marker)+ns]
	plain, err := e.aead.Open(nil, nonce, v[len(marker)+ns:], ad)
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}
