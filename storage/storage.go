// Package storage keeps pkid's records: in one bbolt file (Open), in memory
// (OpenMemory, for tests), or in any Engine given to NewStore.
//
// Records live in spaces: "sys" for the server's own tables (mounts, tokens,
// policies) and one space per mount, named by the mount's UUID, so disabling a
// mount drops a single bucket. Keys are slash-separated strings such as
// "certs/39-dd-2e"; values are opaque bytes (by convention JSON with a
// version field, see PutJSON).
//
// Two write paths exist (described here for bbolt; other engines keep the
// same contract). Update runs one transaction and pays one fsync.
// Commit hands the work to a group committer that runs every pending Commit
// in one transaction, so concurrent writers share an fsync; it is the write
// path of certificate issuance.
package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"syscall"
	"time"
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

// Engine keeps the records of a Store. Spaces are created on first write
// and are independent of one another.
type Engine interface {
	// View runs fn in a read-only transaction of space.
	View(space string, fn func(Tx) error) error
	// Update runs fn in one read-write transaction of space; an error from
	// fn rolls every write of fn back.
	Update(space string, fn func(Tx) error) error
	// Commit is Update for the hot write path: the engine may run fn in a
	// transaction shared with concurrent callers, and may run it more than
	// once, so fn must act only through its Tx.
	Commit(space string, fn func(Tx) error) error
	// DropSpace deletes a space and every record in it; a missing space is
	// not an error.
	DropSpace(space string) error
	// Check reports inconsistencies the engine can detect (nil if none, or
	// if it has no check).
	Check() error
	// Close waits for pending commits and releases the engine.
	Close() error
}

// Store is an open pkid database.
type Store struct {
	eng  Engine
	path string
}

// NewStore makes a Store over an engine; path is what Path reports (a file,
// a URL, or empty).
func NewStore(e Engine, path string) *Store { return &Store{eng: e, path: path} }

// Open opens (creating if needed) the bbolt file at path.
func Open(path string, opts Options) (*Store, error) {
	e, err := openBolt(path, opts)
	if err != nil {
		return nil, err
	}
	return NewStore(e, path), nil
}

// OpenEngine opens the bbolt file at path as Open does, but returns the
// bare engine, for a caller that wraps it (package seal) before NewStore.
func OpenEngine(path string, opts Options) (Engine, error) {
	e, err := openBolt(path, opts)
	if err != nil {
		return nil, err
	}
	return e, nil
}

// OpenMemoryEngine is the engine of OpenMemory.
func OpenMemoryEngine() Engine { return newMemEngine() }

// SpaceLister is an Engine that can name its spaces (bbolt and memory
// engines can). A wrapper that must visit every record, such as sealing
// existing keys, needs it.
type SpaceLister interface {
	// Spaces returns the names of the spaces that exist, sorted.
	Spaces() ([]string, error)
}

// OpenMemory makes an empty store that lives in memory only: nothing is
// written to disk and everything is gone once it is dropped.
func OpenMemory() *Store { return NewStore(newMemEngine(), "") }

// Close waits for pending commits and closes the store.
func (s *Store) Close() error { return s.eng.Close() }

// Path returns the file's path (empty for a memory store).
func (s *Store) Path() string { return s.path }

// Space returns the space named name. It exists once something is written.
func (s *Store) Space(name string) *Space { return &Space{store: s, name: name} }

// DropSpace deletes a space and every record in it.
func (s *Store) DropSpace(name string) error {
	if err := s.eng.DropSpace(name); err != nil {
		return unwritable(fmt.Errorf("storage: drop space %s: %w", name, err))
	}
	return nil
}

// Check runs the engine's consistency check (bbolt's for a file) and
// returns the problems found, or nil.
func (s *Store) Check() error { return s.eng.Check() }

// Space is one namespace of records.
type Space struct {
	store *Store
	name  string
}

// View runs fn in a read-only transaction.
func (sp *Space) View(fn func(Tx) error) error { return sp.store.eng.View(sp.name, fn) }

// Update runs fn in its own read-write transaction (one fsync on bbolt).
// Use it for rare writes where a group commit would gain nothing.
func (sp *Space) Update(fn func(Tx) error) error {
	return unwritable(sp.store.eng.Update(sp.name, fn))
}

// Commit runs fn in a transaction shared with concurrent Commit calls, and
// returns once that transaction is durable. fn may run more than once (when a
// sibling in the batch fails the batch is retried without it), so it must
// only act through its Tx.
func (sp *Space) Commit(fn func(Tx) error) error {
	return unwritable(sp.store.eng.Commit(sp.name, fn))
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

// ErrReadOnly is returned by a write in a View transaction.
var ErrReadOnly = errors.New("storage: write in a read-only transaction")

// KeysByScan implements Tx.Keys over Tx.Scan, for engines with no faster way.
func KeysByScan(tx Tx, prefix, after string, limit int) ([]string, error) {
	var keys []string
	err := tx.Scan(prefix, after, func(k string, _ []byte) error {
		keys = append(keys, k)
		if limit > 0 && len(keys) >= limit {
			return ErrStop
		}
		return nil
	})
	return keys, err
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

// ErrUnavailable is what an engine's error matches (errors.Is) when its
// backing service cannot be reached or did not answer in time: the request
// may succeed later, so api answers 503 rather than 500.
var ErrUnavailable = errors.New("storage unavailable")

// UnavailableError is an ErrUnavailable with its cause; its text,
// "storage unavailable: <cause>", is what a client is told.
type UnavailableError struct{ Cause error }

// Unavailable wraps cause as an UnavailableError.
func Unavailable(cause error) error { return &UnavailableError{Cause: cause} }

func (e *UnavailableError) Error() string        { return "storage unavailable: " + e.Cause.Error() }
func (e *UnavailableError) Unwrap() error        { return e.Cause }
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// UnwritableError is a write the store could not take: a full disk, a
// quota, a read-only file system, an I/O error. Nothing of the write was
// kept; the same write can succeed once the cause is fixed.
type UnwritableError struct {
	Errno syscall.Errno
	Cause error
}

func (e *UnwritableError) Error() string { return "storage: " + e.Errno.Error() }
func (e *UnwritableError) Unwrap() error { return e.Cause }

// unwritableErrnos are the errors of a store that cannot take writes.
var unwritableErrnos = []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT, syscall.EROFS, syscall.EIO}

// unwritable marks a failed write whose cause is one of unwritableErrnos.
func unwritable(err error) error {
	var errno syscall.Errno
	var done *UnwritableError
	if err == nil || errors.As(err, &done) || !errors.As(err, &errno) || !slices.Contains(unwritableErrnos, errno) {
		return err
	}
	return &UnwritableError{Errno: errno, Cause: err}
}
