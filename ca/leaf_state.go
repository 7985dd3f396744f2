package ca

import (
	"bytes"
	"sync"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/roles"
	"github.com/pkid-dev/pkid/storage"
)

// leafState is what an Authority keeps for leaf issuance between requests.
// Its zero value is ready to use.
type leafState struct {
	keys  keyPool
	roles roleCache
}

// roleCache keeps parsed roles keyed by their stored bytes: every issue
// still reads the record in its transaction, and a role whose bytes changed
// is parsed again, so the cache can never serve a stale role. It saves the
// JSON decoding of the role on the hot path.
type roleCache struct {
	mu sync.RWMutex
	m  map[string]cachedRole
}

type cachedRole struct {
	raw  []byte
	role *roles.Role
}

// maxCachedRoles bounds the cache; past it the cache starts over.
const maxCachedRoles = 1024

// get returns the parsed role for raw, parsing it when needed. The role is
// shared: callers must not modify it.
func (c *roleCache) get(name string, raw []byte) (*roles.Role, error) {
	c.mu.RLock()
	e, ok := c.m[name]
	c.mu.RUnlock()
	if ok && bytes.Equal(e.raw, raw) {
		return e.role, nil
	}
	role, err := roles.Decode(name, raw)
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

// loadRole reads a role for issuance; a missing one is Vault's 400.
func (a *Authority) loadRole(tx storage.Tx, name string) (*roles.Role, error) {
	raw := tx.Get(roles.StorageKey(name))
	if raw == nil {
		return nil, errs.Invalidf("unknown role: %s", name)
	}
	return a.leaf.roles.get(name, raw)
}
