// Package roles holds PKI roles: their fields and Vault's defaults, the name
// policy (which names a role allows) and the TTL rule. Pure logic, no HTTP.
package roles

import "pkid/storage"

// Store keeps a mount's roles.
type Store struct {
	space *storage.Space
}

// NewStore returns the role store of a mount.
func NewStore(space *storage.Space) *Store { return &Store{space: space} }
