// Package storage keeps pkid's records in one bbolt file.
//
// Records live in spaces: "sys" for the server's own tables (mounts, tokens,
// policies) and one space per mount, named by the mount's UUID, so disabling a
// mount drops a single bucket. Keys are slash-separated strings such as
// "certs/39-dd-2e"; values are opaque bytes (by convention JSON with a
// version field, see PutJSON).
//
// Two write paths exist. Update runs one transaction and pays one fsync.
// Commit hands the work to a group committer that runs every pending Commit
// in one transaction, so concurrent writers share an fsync; it is the write
// path of certificate issuance.
package storage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// SchemaVersion is the layout version this build writes and understands.
const SchemaVersion = 1

const (
	metaBucket       = "meta"
	schemaVersionKey = "schema_version"
	spacePrefix      = "space/"
)

// ErrLocked is returned by Open when another process holds the data file.
var ErrLocked = errors.New("storage: data file is locked by another process")

// ErrNewerSchema is returned by Open when the file was written by a newer
// pkid, whose layout this build cannot be trusted to read or write.
var ErrNewerSchema = errors.New("storage: data was written by a newer pkid")

// Options tune Open. The zero value is the production default.
type Options struct {
	// LockTimeout bounds the wait for the file lock held by another process.
	// Zero means one second; a negative value means do not wait at all.
	LockTimeout time.Duration
	// MaxBatch caps how many Commit calls share one transaction.
	// Zero means 256.
	MaxBatch int
	// NoSync skips fsync (tests only: a crash may lose committed writes).
	NoSync bool
}

// Store is an open pkid database.
type Store struct {
	db        *bolt.DB
	path      string // kept here: bbolt forgets its path on Close
	committer *committer
}

// Open opens (creating if needed) the bbolt file at path.
func Open(path string, opts Options) (*Store, error) {
	timeout := opts.LockTimeout
	switch {
	case timeout == 0:
		timeout = time.Second
	case timeout < 0:
		timeout = time.Nanosecond
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:        timeout,
		NoSync:         opts.NoSync,
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("%w: %s", ErrLocked, path)
		}
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	if err := initSchema(db); err != nil {
		db.Close()
		return nil, err
	}
	maxBatch := opts.MaxBatch
	if maxBatch <= 0 {
		maxBatch = 256
	}
	s := &Store{db: db, path: path}
	s.committer = newCommitter(db, maxBatch)
	return s, nil
}

func initSchema(db *bolt.DB) error {
	return db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(metaBucket))
		if err != nil {
			return fmt.Errorf("storage: create meta bucket: %w", err)
		}
		v := b.Get([]byte(schemaVersionKey))
		if v == nil {
			return b.Put([]byte(schemaVersionKey), []byte(strconv.Itoa(SchemaVersion)))
		}
		n, err := strconv.Atoi(string(v))
		if err != nil {
			return fmt.Errorf("storage: unreadable schema version %q", v)
		}
		if n > SchemaVersion {
			return fmt.Errorf("%w (schema %d, this build knows %d)", ErrNewerSchema, n, SchemaVersion)
		}
		return nil
	})
}

// Close waits for pending commits and closes the file.
func (s *Store) Close() error {
	s.committer.close()
	return s.db.Close()
}

// Path returns the file's path.
func (s *Store) Path() string { return s.path }

// Space returns the space named name. It exists once something is written.
func (s *Store) Space(name string) *Space {
	return &Space{store: s, bucket: []byte(spacePrefix + name)}
}

// DropSpace deletes a space and every record in it.
func (s *Store) DropSpace(name string) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		err := tx.DeleteBucket([]byte(spacePrefix + name))
		if errors.Is(err, berrors.ErrBucketNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("storage: drop space %s: %w", name, err)
	}
	return nil
}

// Check runs bbolt's consistency check and returns the problems found (the
// first few, joined), or nil.
func (s *Store) Check() error {
	const maxReported = 10
	return s.db.View(func(tx *bolt.Tx) error {
		var errs []error
		// Drain the channel even after maxReported: the checker goroutine
		// reads pages of this transaction and would otherwise block on its
		// next send after the transaction has closed.
		for err := range tx.Check() {
			if len(errs) < maxReported {
				errs = append(errs, err)
			}
		}
		if len(errs) > 0 {
			return fmt.Errorf("storage: consistency check: %w", errors.Join(errs...))
		}
		return nil
	})
}

// Space is one namespace of records.
type Space struct {
	store  *Store
	bucket []byte
}

// View runs fn in a read-only transaction.
func (sp *Space) View(fn func(Tx) error) error {
	return sp.store.db.View(func(tx *bolt.Tx) error {
		return fn(&boltTx{tx: tx, bucket: sp.bucket})
	})
}

// Update runs fn in its own read-write transaction (one fsync). Use it for
// rare writes where a group commit would gain nothing.
func (sp *Space) Update(fn func(Tx) error) error {
	return sp.store.db.Update(func(tx *bolt.Tx) error {
		return fn(&boltTx{tx: tx, bucket: sp.bucket, writable: true})
	})
}

// Commit runs fn in a transaction shared with concurrent Commit calls, and
// returns once that transaction is durable. fn may run more than once (when a
// sibling in the batch fails the batch is retried without it), so it must
// only act through its Tx.
func (sp *Space) Commit(fn func(Tx) error) error {
	return sp.store.committer.commit(func(tx *bolt.Tx) error {
		return fn(&boltTx{tx: tx, bucket: sp.bucket, writable: true})
	})
}

// Tx is a transaction scoped to one space.
type Tx interface {
	// Get returns a copy of the value at key, or nil.
	Get(key string) []byte
	// Put stores value at key.
	Put(key string, value []byte) error
	// Delete removes key; removing a missing key is not an error.
	Delete(key string) error
	// Keys returns, in byte order, the keys that start with prefix, with the
	// prefix removed, that sort after after (when not empty); at most limit
	// keys when limit > 0.
	Keys(prefix, after string, limit int) ([]string, error)
	// Scan calls fn for each key with prefix (prefix removed) in byte order,
	// from the first key after after. The value is valid only during the call.
	// Returning ErrStop from fn ends the scan without error.
	Scan(prefix, after string, fn func(key string, value []byte) error) error
}

// ErrStop ends a Scan early.
var ErrStop = errors.New("storage: stop scan")

type boltTx struct {
	tx       *bolt.Tx
	bucket   []byte
	writable bool
	// open is the space's bucket once looked up: opening it costs an
	// allocation per call in a read-only transaction, and the issue path
	// reads a dozen records per request.
	open *bolt.Bucket
}

func (t *boltTx) b() *bolt.Bucket {
	if t.open == nil {
		t.open = t.tx.Bucket(t.bucket)
	}
	return t.open
}

func (t *boltTx) Get(key string) []byte {
	b := t.b()
	if b == nil {
		return nil
	}
	v := b.Get([]byte(key))
	if v == nil {
		return nil
	}
	return bytes.Clone(v)
}

func (t *boltTx) Put(key string, value []byte) error {
	b := t.b()
	if b == nil {
		var err error
		if b, err = t.tx.CreateBucketIfNotExists(t.bucket); err != nil {
			return fmt.Errorf("storage: create space: %w", err)
		}
		t.open = b
	}
	if err := b.Put([]byte(key), value); err != nil {
		return fmt.Errorf("storage: put %s: %w", key, err)
	}
	return nil
}

func (t *boltTx) Delete(key string) error {
	b := t.b()
	if b == nil {
		return nil
	}
	if err := b.Delete([]byte(key)); err != nil {
		return fmt.Errorf("storage: delete %s: %w", key, err)
	}
	return nil
}

func (t *boltTx) Keys(prefix, after string, limit int) ([]string, error) {
	var keys []string
	err := t.Scan(prefix, after, func(k string, _ []byte) error {
		keys = append(keys, k)
		if limit > 0 && len(keys) >= limit {
			return ErrStop
		}
		return nil
	})
	return keys, err
}

func (t *boltTx) Scan(prefix, after string, fn func(key string, value []byte) error) error {
	b := t.b()
	if b == nil {
		return nil
	}
	c := b.Cursor()
	p := []byte(prefix)
	start := p
	if after != "" {
		start = append(append([]byte{}, p...), after...)
	}
	for k, v := c.Seek(start); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		rest := string(k[len(p):])
		if after != "" && rest <= after {
			continue
		}
		if err := fn(rest, v); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
	return nil
}

// GetJSON decodes the JSON value at key into v. It reports whether the key
// existed.
func GetJSON(tx Tx, key string, v any) (bool, error) {
	raw := tx.Get(key)
	if raw == nil {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return true, fmt.Errorf("storage: decode %s: %w", key, err)
	}
	return true, nil
}

// PutJSON stores v as JSON at key.
func PutJSON(tx Tx, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("storage: encode %s: %w", key, err)
	}
	return tx.Put(key, raw)
}
