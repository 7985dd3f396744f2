package approle

import (
	"errors"
	"strings"

	"github.com/pkid-dev/pkid/api/authmethod"
	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/storage"
)

// LoginRequest is the body of POST login.
type LoginRequest struct {
	RoleID   string `json:"role_id"`
	SecretID string `json:"secret_id"`
}

// errInvalid is Vault's single answer for every wrong credential, so that a
// caller cannot tell a wrong role_id from a wrong, used-up or expired
// secret_id.
func errInvalid() error { return errs.Invalidf("invalid role or secret ID") }

// Login checks a role_id and secret_id and returns the token to mint.
// remoteAddr is the client's address, for CIDR-bound roles and secret ids.
// A secret id with a use limit is spent in the same transaction that checks
// it, so two concurrent logins cannot both use its last use.
func (b *Backend) Login(req LoginRequest, remoteAddr string) (*authmethod.Auth, error) {
	roleID := strings.TrimSpace(req.RoleID)
	if roleID == "" {
		return nil, errs.Invalidf("missing role_id")
	}
	var auth *authmethod.Auth
	var denied error // a refusal whose cleanup (an expired secret id) must commit
	err := b.space.Update(func(tx storage.Tx) error {
		r, err := roleByID(tx, roleID)
		if err != nil {
			return err
		}
		var e *secretID
		if r.BindSecretID {
			e, err = b.spendSecretID(tx, r, strings.TrimSpace(req.SecretID), remoteAddr)
			if errors.Is(err, errExpired) {
				denied = errInvalid()
				return nil
			}
			if err != nil {
				return err
			}
		}
		if len(r.SecretIDBoundCIDRs) > 0 && !authmethod.AddrInCIDRs(remoteAddr, r.SecretIDBoundCIDRs) {
			return errs.Invalidf("source address %q unauthorized by CIDR restrictions on the role", remoteAddr)
		}
		auth = loginAuth(r, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if denied != nil {
		return nil, denied
	}
	return auth, nil
}

// loginAuth is the token a login mints: the role's token parameters, the
// secret id's metadata plus role_name, and the secret id's token CIDRs when
// it has its own.
func loginAuth(r *role, e *secretID) *authmethod.Auth {
	auth := r.TokenParams.Auth()
	meta := map[string]string{}
	if e != nil {
		for k, v := range e.Metadata {
			meta[k] = v
		}
		if len(e.TokenBoundCIDRs) > 0 {
			auth.BoundCIDRs = append([]string(nil), e.TokenBoundCIDRs...)
		}
	}
	meta["role_name"] = r.Name
	auth.Metadata = meta
	auth.Alias = r.RoleID
	auth.InternalData = map[string]string{"role_name": r.Name}
	return auth
}

var errExpired = errors.New("approle: secret id expired")

func roleByID(tx storage.Tx, roleID string) (*role, error) {
	salt := tx.Get(keySalt)
	if salt == nil {
		return nil, errInvalid()
	}
	var idx roleIDIndex
	found, err := storage.GetJSON(tx, keyRoleID+mac(salt, roleID), &idx)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errInvalid()
	}
	r, err := authmethod.GetRole[role](tx, idx.Name)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, errInvalid()
	}
	return r, nil
}

// spendSecretID validates a secret id for login and consumes one use. An
// expired secret id is deleted on sight: Vault's periodic tidy would have
// removed it.
func (b *Backend) spendSecretID(tx storage.Tx, r *role, secret, remoteAddr string) (*secretID, error) {
	if secret == "" {
		return nil, errs.Invalidf("missing secret_id")
	}
	if len(secret) > maxHMACInput {
		return nil, errInvalid()
	}
	key := secretKey(r, secret)
	var e secretID
	found, err := storage.GetJSON(tx, key, &e)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errInvalid()
	}
	salt := tx.Get(keySalt)
	now := b.clock.Now()
	if expired(&e, now) {
		if err := deleteSecret(tx, salt, key); err != nil {
			return nil, err
		}
		return nil, errExpired
	}
	if len(e.CIDRList) > 0 && !authmethod.AddrInCIDRs(remoteAddr, e.CIDRList) {
		return nil, errs.Invalidf("source address %q unauthorized through CIDR restrictions on the secret ID", remoteAddr)
	}
	switch {
	case e.NumUses == 1:
		err = deleteSecret(tx, salt, key)
	case e.NumUses > 1:
		e.NumUses--
		e.LastUpdatedTime = now
		err = storage.PutJSON(tx, key, &e)
	}
	if err != nil {
		return nil, err
	}
	return &e, nil
}
