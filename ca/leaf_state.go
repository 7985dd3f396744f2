package ca

import (
	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/records"
	"github.com/pkid-dev/pkid/roles"
	"github.com/pkid-dev/pkid/storage"
)

// leafState is what an Authority keeps for leaf issuance between requests.
// Its zero value is ready to use.
type leafState struct {
	keys  keyPool
	roles records.RoleCache
}

// loadRole reads a role for issuance; a missing one is Vault's 400.
func (a *Authority) loadRole(tx storage.Tx, name string) (*roles.Role, error) {
	role, err := a.leaf.roles.Get(tx, name)
	if err == nil && role == nil {
		return nil, errs.Invalidf("unknown role: %s", name)
	}
	return role, err
}
