package records

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/pkid-dev/pkid/roles"
	"github.com/pkid-dev/pkid/storage"
)

// Roles keeps a mount's roles.
type Roles struct {
	space *storage.Space
}

// NewRoles returns the role store of a mount.
func NewRoles(space *storage.Space) *Roles { return &Roles{space: space} }

// Get returns the role, or nil when there is none.
func (s *Roles) Get(name string) (*roles.Role, error) {
	var r *roles.Role
	err := s.space.View(func(tx storage.Tx) error {
		var err error
		r, err = GetRole(tx, name)
		return err
	})
	return r, err
}

// Put writes the role under its name, replacing any previous one.
func (s *Roles) Put(r *roles.Role) error {
	if err := s.space.Update(func(tx storage.Tx) error { return PutRole(tx, r) }); err != nil {
		return fmt.Errorf("records: write role %s: %w", r.Name, err)
	}
	return nil
}

// Modify replaces the stored role with change(old) in one transaction, so
// concurrent modifications of different fields all land; old is nil when
// there is no such role. An error from change writes nothing.
func (s *Roles) Modify(name string, change func(old *roles.Role) (*roles.Role, error)) (*roles.Role, error) {
	var r *roles.Role
	err := s.space.Update(func(tx storage.Tx) error {
		old, err := GetRole(tx, name)
		if err != nil {
			return err
		}
		if r, err = change(old); err != nil {
			return err
		}
		return PutRole(tx, r)
	})
	return r, err
}

// Delete removes the role; removing a missing role is not an error.
func (s *Roles) Delete(name string) error {
	if err := s.space.Update(func(tx storage.Tx) error { return DeleteRole(tx, name) }); err != nil {
		return fmt.Errorf("records: delete role %s: %w", name, err)
	}
	return nil
}

// List returns role names in byte order, after after (which need not
// exist), at most limit of them when limit > 0.
func (s *Roles) List(after string, limit int) ([]string, error) {
	var names []string
	err := s.space.View(func(tx storage.Tx) error {
		var err error
		names, err = tx.Keys(RolePrefix, after, limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("records: list roles: %w", err)
	}
	return names, nil
}

// RoleKey is the mount-relative storage key of a role.
func RoleKey(name string) string { return RolePrefix + name }

// GetRole reads a role within a transaction; nil when there is none.
func GetRole(tx storage.Tx, name string) (*roles.Role, error) {
	raw := tx.Get(RoleKey(name))
	if raw == nil {
		return nil, nil
	}
	return DecodeRole(name, raw)
}

// PutRole writes r under its name within a transaction.
func PutRole(tx storage.Tx, r *roles.Role) error {
	return storage.PutJSON(tx, RoleKey(r.Name), roleRecord(r))
}

// DeleteRole removes the role within a transaction.
func DeleteRole(tx storage.Tx, name string) error { return tx.Delete(RoleKey(name)) }

// DecodeRole parses a stored role record (the value at RoleKey(name)).
func DecodeRole(name string, raw []byte) (*roles.Role, error) {
	var rec roleV1
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, fmt.Errorf("records: read role %s: %w", name, err)
	}
	if rec.Version > roleVersion {
		return nil, fmt.Errorf("records: role %s was written by a newer pkid (version %d)", name, rec.Version)
	}
	return rec.role(name), nil
}

// RolesReferencing counts the roles whose issuer_ref is ref, scanning at
// most maxScan roles and stopping once maxFind are found; complete is false
// when the scan stopped early or failed. (Vault's "N roles reference X"
// note when an issuer name goes away.)
func RolesReferencing(tx storage.Tx, ref string, maxScan, maxFind int) (found int, complete bool) {
	scanned := 0
	err := tx.Scan(RolePrefix, "", func(_ string, v []byte) error {
		var rec struct {
			IssuerRef string `json:"issuer_ref"`
		}
		if json.Unmarshal(v, &rec) == nil && rec.IssuerRef == ref {
			found++
		}
		scanned++
		if scanned >= maxScan || found >= maxFind {
			return storage.ErrStop
		}
		return nil
	})
	return found, err == nil && scanned < maxScan && found < maxFind
}

// RoleCache keeps parsed roles keyed by their stored bytes: every issue
// still reads the record in its transaction, and a role whose bytes changed
// is parsed again, so the cache can never serve a stale role. It saves the
// JSON decoding of the role on the hot path. The zero value is ready.
type RoleCache struct {
	mu sync.RWMutex
	m  map[string]cachedRole
}

type cachedRole struct {
	raw  []byte
	role *roles.Role
}

// maxCachedRoles bounds the cache; past it the cache starts over.
const maxCachedRoles = 1024

// Get reads the role name in tx, through the cache; nil when there is none.
// The role is shared: callers must not modify it.
func (c *RoleCache) Get(tx storage.Tx, name string) (*roles.Role, error) {
	raw := tx.Get(RoleKey(name))
	if raw == nil {
		return nil, nil
	}
	c.mu.RLock()
	e, ok := c.m[name]
	c.mu.RUnlock()
	if ok && bytes.Equal(e.raw, raw) {
		return e.role, nil
	}
	role, err := DecodeRole(name, raw)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedRoles {
		c.m = map[string]cachedRole{}
	}
	c.m[name] = cachedRole{raw: raw, role: role}
	c.mu.Unlock()
	return role, nil
}
