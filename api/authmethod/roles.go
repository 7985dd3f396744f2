package authmethod

import (
	"strings"

	"github.com/pkid-dev/pkid/storage"
)

// rolePrefix is where a method keeps its roles in its mount's space, as JSON
// under the lower-cased name: Vault's role names are case-insensitive.
const rolePrefix = "role/"

// RoleKey is the storage key of the role name.
func RoleKey(name string) string { return rolePrefix + strings.ToLower(name) }

// GetRole reads the role name within tx; nil when there is none.
func GetRole[R any](tx storage.Tx, name string) (*R, error) {
	var r R
	found, err := storage.GetJSON(tx, RoleKey(name), &r)
	if err != nil || !found {
		return nil, err
	}
	return &r, nil
}

// ViewRole is GetRole in a read transaction of its own.
func ViewRole[R any](space *storage.Space, name string) (*R, error) {
	var r *R
	err := space.View(func(tx storage.Tx) error {
		var err error
		r, err = GetRole[R](tx, name)
		return err
	})
	return r, err
}

// ListRoles returns the names of the roles in space, sorted.
func ListRoles(space *storage.Space) ([]string, error) {
	var names []string
	err := space.View(func(tx storage.Tx) error {
		var err error
		names, err = tx.Keys(rolePrefix, "", 0)
		return err
	})
	return names, err
}
