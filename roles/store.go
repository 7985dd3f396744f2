package roles

import (
	"encoding/json"
	"fmt"

	"github.com/pkid-dev/pkid/storage"
)

// rolePrefix is the mount-relative prefix of role records.
const rolePrefix = "role/"

// recordVersion is the version of the stored role layout.
const recordVersion = 1

// record is a role as stored: the Role's fields (issuer_ref and the rest at
// the top level, where ca's issuer bookkeeping reads issuer_ref) with a
// layout version.
type record struct {
	Version int `json:"version"`
	*Role
}

// Store keeps a mount's roles.
type Store struct {
	space *storage.Space
}

// NewStore returns the role store of a mount.
func NewStore(space *storage.Space) *Store { return &Store{space: space} }

// Get returns the role, or nil when there is none.
func (s *Store) Get(name string) (*Role, error) {
	var r *Role
	err := s.space.View(func(tx storage.Tx) error {
		var err error
		r, err = GetTx(tx, name)
		return err
	})
	return r, err
}

// GetTx reads a role within a transaction; nil when there is none.
func GetTx(tx storage.Tx, name string) (*Role, error) {
	raw := tx.Get(StorageKey(name))
	if raw == nil {
		return nil, nil
	}
	return Decode(name, raw)
}

// StorageKey is the mount-relative storage key of a role.
func StorageKey(name string) string { return rolePrefix + name }

// Decode parses a stored role record (the value at StorageKey(name)).
// Callers that cache roles key the cache on these bytes.
func Decode(name string, raw []byte) (*Role, error) {
	rec := record{Role: &Role{}}
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, fmt.Errorf("roles: read %s: %w", name, err)
	}
	if rec.Version > recordVersion {
		return nil, fmt.Errorf("roles: role %s was written by a newer pkid (version %d)", name, rec.Version)
	}
	rec.Role.Name = name
	return rec.Role, nil
}

// Put writes the role under its name, replacing any previous one.
func (s *Store) Put(r *Role) error {
	err := s.space.Update(func(tx storage.Tx) error {
		return storage.PutJSON(tx, StorageKey(r.Name), record{Version: recordVersion, Role: r})
	})
	if err != nil {
		return fmt.Errorf("roles: write %s: %w", r.Name, err)
	}
	return nil
}

// Delete removes the role; removing a missing role is not an error.
func (s *Store) Delete(name string) error {
	if err := s.space.Update(func(tx storage.Tx) error { return tx.Delete(StorageKey(name)) }); err != nil {
		return fmt.Errorf("roles: delete %s: %w", name, err)
	}
	return nil
}

// List returns role names in byte order, after after (which need not
// exist), at most limit of them when limit > 0.
func (s *Store) List(after string, limit int) ([]string, error) {
	var names []string
	err := s.space.View(func(tx storage.Tx) error {
		var err error
		names, err = tx.Keys(rolePrefix, after, limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("roles: list: %w", err)
	}
	return names, nil
}
