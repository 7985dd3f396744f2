// Package approle is Vault's AppRole auth method: roles carrying token
// parameters, a role_id per role, secret_ids generated against a role, and a
// login that trades role_id + secret_id for a token.
//
// Secret IDs are never stored: only their HMAC under a per-role key, as in
// Vault (builtin/credential/approle). Role IDs are indexed by their HMAC
// under a per-mount salt.
package approle

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pkid-dev/pkid/api/authmethod"
	"github.com/pkid-dev/pkid/clock"
	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/randid"
	"github.com/pkid-dev/pkid/storage"
)

// Storage keys inside the mount's space.
const (
	keySalt      = "salt"
	keyRoleID    = "role_id/"   // + HMAC(salt, role_id)
	keySecretID  = "secret_id/" // + HMAC(role key, role name) + "/" + HMAC(role key, secret_id)
	keyAccessor  = "accessor/"  // + HMAC(salt, accessor)
	maxHMACInput = 4096         // Vault refuses longer role names and secret ids
)

// Backend is one approle mount.
type Backend struct {
	space *storage.Space
	clock clock.Clock
	rand  io.Reader
}

// New returns the approle backend of a mount whose records live in space.
func New(space *storage.Space, clk clock.Clock, rnd io.Reader) *Backend {
	return &Backend{space: space, clock: clk, rand: rnd}
}

// role is a stored role.
type role struct {
	Version int    `json:"version"`
	Name    string `json:"name"`
	RoleID  string `json:"role_id"`
	// HMACKey keys the HMACs of this role's secret ids.
	HMACKey            string        `json:"hmac_key"`
	BindSecretID       bool          `json:"bind_secret_id"`
	SecretIDBoundCIDRs []string      `json:"secret_id_bound_cidrs"`
	SecretIDNumUses    int           `json:"secret_id_num_uses"`
	SecretIDTTL        time.Duration `json:"secret_id_ttl"`
	LocalSecretIDs     bool          `json:"local_secret_ids"`
	authmethod.TokenParams
}

// RoleRequest is the body of POST role/:role_name. Absent fields keep their
// value on update and take Vault's default on create.
type RoleRequest struct {
	authmethod.TokenFields
	BindSecretID       *bool          `json:"bind_secret_id"`
	SecretIDBoundCIDRs *[]string      `json:"secret_id_bound_cidrs"`
	BoundCIDRList      *[]string      `json:"bound_cidr_list"` // deprecated name of secret_id_bound_cidrs
	SecretIDNumUses    *int           `json:"secret_id_num_uses"`
	SecretIDTTL        *time.Duration `json:"secret_id_ttl"`
	RoleID             *string        `json:"role_id"`
	LocalSecretIDs     *bool          `json:"local_secret_ids"`
}

// RoleExists tells create from update, for the ACL's existence check.
func (b *Backend) RoleExists(name string) (bool, error) {
	r, err := authmethod.ViewRole[role](b.space, name)
	return r != nil, err
}

// WriteRole creates or updates a role. maxTTL is the mount's effective max
// lease TTL, used for Vault's warnings. It returns warnings for the answer.
func (b *Backend) WriteRole(name string, req RoleRequest, maxTTL time.Duration) ([]string, error) {
	if name == "" {
		return nil, errs.Invalidf("missing role_name")
	}
	if len(name) > maxHMACInput {
		return nil, errs.Invalidf("role_name is longer than maximum of %d bytes", maxHMACInput)
	}
	// Random values are drawn before the write transaction (no slow work
	// inside it); they are used only when the role is new.
	hmacKey, err := randid.UUID(b.rand)
	if err != nil {
		return nil, err
	}
	newRoleID, err := randid.UUID(b.rand)
	if err != nil {
		return nil, err
	}
	var warnings []string
	err = b.space.Update(func(tx storage.Tx) error {
		salt, err := b.saltTx(tx)
		if err != nil {
			return err
		}
		r, err := authmethod.GetRole[role](tx, name)
		if err != nil {
			return err
		}
		create := r == nil
		if create {
			r = &role{Version: 1, Name: strings.ToLower(name), HMACKey: hmacKey, BindSecretID: true, RoleID: newRoleID}
		}
		oldRoleID := r.RoleID
		warnings, err = applyRole(r, req, create, maxTTL)
		if err != nil {
			return err
		}
		return putRole(tx, salt, r, oldRoleID, create)
	})
	return warnings, err
}

func applyRole(r *role, req RoleRequest, create bool, maxTTL time.Duration) ([]string, error) {
	var warnings []string
	if req.TokenType != nil && strings.HasPrefix(*req.TokenType, "default-") {
		adj := strings.TrimPrefix(*req.TokenType, "default-")
		warnings = append(warnings, fmt.Sprintf("%s has no useful meaning; adjusting to %s", *req.TokenType, adj))
	}
	if err := r.TokenParams.Apply(req.TokenFields); err != nil {
		return nil, err
	}
	if req.LocalSecretIDs != nil {
		if !create {
			return nil, errs.Invalidf("local_secret_ids can only be modified during role creation")
		}
		r.LocalSecretIDs = *req.LocalSecretIDs
	}
	if req.RoleID != nil {
		r.RoleID = strings.TrimSpace(*req.RoleID)
	}
	if r.RoleID == "" {
		return nil, errs.Invalidf("invalid role_id supplied, or failed to generate a role_id")
	}
	if req.BindSecretID != nil {
		r.BindSecretID = *req.BindSecretID
	}
	switch {
	case req.SecretIDBoundCIDRs != nil:
		r.SecretIDBoundCIDRs = *req.SecretIDBoundCIDRs
	case req.BoundCIDRList != nil:
		r.SecretIDBoundCIDRs = *req.BoundCIDRList
	}
	if err := authmethod.ValidateCIDRs(r.SecretIDBoundCIDRs); err != nil {
		return nil, errs.Invalidf("invalid CIDR blocks")
	}
	if req.SecretIDNumUses != nil {
		r.SecretIDNumUses = *req.SecretIDNumUses
	}
	if r.SecretIDNumUses < 0 {
		return nil, errs.Invalidf("secret_id_num_uses cannot be negative")
	}
	if req.SecretIDTTL != nil {
		r.SecretIDTTL = *req.SecretIDTTL
	}
	if r.TokenPeriod > maxTTL && maxTTL > 0 {
		return nil, errs.Invalidf("period of %q is greater than the backend's maximum lease TTL of %q", r.TokenPeriod.String(), maxTTL.String())
	}
	if r.TokenMaxTTL > maxTTL && maxTTL > 0 {
		warnings = append(warnings, "token_max_ttl is greater than the backend mount's maximum TTL value; issued tokens' max TTL value will be truncated")
	}
	// A role must restrict logins somehow (vault validateRoleConstraints);
	// Vault answers this with a 500.
	if !r.BindSecretID && len(r.SecretIDBoundCIDRs) == 0 && len(r.TokenBoundCIDRs) == 0 {
		return nil, errs.New(errs.InvalidVault500, "at least one constraint should be enabled on the role")
	}
	return warnings, nil
}

func putRole(tx storage.Tx, salt []byte, r *role, oldRoleID string, create bool) error {
	if r.RoleID != oldRoleID || create {
		// The new role_id must not belong to another role.
		var idx roleIDIndex
		found, err := storage.GetJSON(tx, keyRoleID+mac(salt, r.RoleID), &idx)
		if err != nil {
			return err
		}
		if found && idx.Name != r.Name {
			return errs.Invalidf("role_id already in use")
		}
		if !create && oldRoleID != "" {
			if err := tx.Delete(keyRoleID + mac(salt, oldRoleID)); err != nil {
				return err
			}
		}
		if err := storage.PutJSON(tx, keyRoleID+mac(salt, r.RoleID), roleIDIndex{Name: r.Name}); err != nil {
			return err
		}
	}
	return storage.PutJSON(tx, authmethod.RoleKey(r.Name), r)
}

type roleIDIndex struct {
	Name string `json:"name"`
}

// ReadRole returns a role as Vault's GET role/:role_name shows it, or nil.
func (b *Backend) ReadRole(name string) (map[string]any, error) {
	r, err := authmethod.ViewRole[role](b.space, name)
	if err != nil || r == nil {
		return nil, err
	}
	data := map[string]any{
		"bind_secret_id":        r.BindSecretID,
		"secret_id_bound_cidrs": orEmpty(r.SecretIDBoundCIDRs),
		"secret_id_num_uses":    r.SecretIDNumUses,
		"secret_id_ttl":         int64(r.SecretIDTTL / time.Second),
		"local_secret_ids":      r.LocalSecretIDs,
	}
	r.TokenParams.Data(data)
	return data, nil
}

func orEmpty(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// ListRoles returns the role names, sorted.
func (b *Backend) ListRoles() ([]string, error) { return authmethod.ListRoles(b.space) }

// DeleteRole removes a role, its role_id index and every secret id issued
// against it. Deleting a missing role is not an error.
func (b *Backend) DeleteRole(name string) error {
	return b.space.Update(func(tx storage.Tx) error {
		r, err := authmethod.GetRole[role](tx, name)
		if err != nil || r == nil {
			return err
		}
		salt, err := b.saltTx(tx)
		if err != nil {
			return err
		}
		if err := b.flushSecretIDs(tx, salt, r); err != nil {
			return err
		}
		if err := tx.Delete(keyRoleID + mac(salt, r.RoleID)); err != nil {
			return err
		}
		return tx.Delete(authmethod.RoleKey(r.Name))
	})
}

// ReadRoleID returns the role's role_id; ok is false when there is no role.
func (b *Backend) ReadRoleID(name string) (roleID string, ok bool, err error) {
	r, err := authmethod.ViewRole[role](b.space, name)
	if err != nil || r == nil {
		return "", false, err
	}
	return r.RoleID, true, nil
}

// WriteRoleID sets a custom role_id (POST role/:role_name/role-id).
func (b *Backend) WriteRoleID(name, roleID string) error {
	if strings.TrimSpace(roleID) == "" {
		return errs.Invalidf("missing role_id")
	}
	return b.space.Update(func(tx storage.Tx) error {
		r, err := authmethod.GetRole[role](tx, name)
		if err != nil {
			return err
		}
		if r == nil {
			return errs.Newf(errs.NotFound, "role %q does not exist", name)
		}
		salt, err := b.saltTx(tx)
		if err != nil {
			return err
		}
		old := r.RoleID
		r.RoleID = strings.TrimSpace(roleID)
		return putRole(tx, salt, r, old, false)
	})
}

// saltTx returns the mount's salt, creating it on first use. It is drawn
// from the random source inside the transaction, which is cheap (32 bytes).
func (b *Backend) saltTx(tx storage.Tx) ([]byte, error) {
	if s := tx.Get(keySalt); s != nil {
		return s, nil
	}
	s := make([]byte, 32)
	if _, err := io.ReadFull(b.rand, s); err != nil {
		return nil, fmt.Errorf("approle: salt: %w", err)
	}
	return s, tx.Put(keySalt, s)
}

// mac is the hex HMAC-SHA256 of value under key.
func mac(key []byte, value string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))
}
