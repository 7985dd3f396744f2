package approle

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/pkid-dev/pkid/api/authmethod"
	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/field"
	"github.com/pkid-dev/pkid/randid"
	"github.com/pkid-dev/pkid/storage"
)

// secretID is a stored secret id (its value is only in the key, HMAC'd).
type secretID struct {
	Version         int               `json:"version"`
	Accessor        string            `json:"secret_id_accessor"`
	NumUses         int               `json:"secret_id_num_uses"`
	TTL             time.Duration     `json:"secret_id_ttl"`
	CreationTime    time.Time         `json:"creation_time"`
	ExpirationTime  time.Time         `json:"expiration_time"`
	LastUpdatedTime time.Time         `json:"last_updated_time"`
	Metadata        map[string]string `json:"metadata"`
	CIDRList        []string          `json:"cidr_list"`
	TokenBoundCIDRs []string          `json:"token_bound_cidrs"`
}

// accessorIndex maps an accessor to its secret id's HMAC.
type accessorIndex struct {
	Role         string `json:"role"`
	SecretIDHMAC string `json:"secret_id_hmac"`
}

// SecretIDRequest is the body of POST role/:role_name/secret-id (and
// custom-secret-id, which adds secret_id).
type SecretIDRequest struct {
	SecretID        string         `json:"secret_id"`
	Metadata        string         `json:"metadata"`
	CIDRList        []string       `json:"cidr_list"`
	TokenBoundCIDRs []string       `json:"token_bound_cidrs"`
	NumUses         *int           `json:"num_uses"`
	TTL             *time.Duration `json:"ttl"`
}

// SecretID is what generating a secret id answers.
type SecretID struct {
	SecretID string
	Accessor string
	TTL      time.Duration
	NumUses  int
}

// Data is the answer's data, as Vault shapes it.
func (s SecretID) Data() map[string]any {
	return map[string]any{
		"secret_id":          s.SecretID,
		"secret_id_accessor": s.Accessor,
		"secret_id_ttl":      field.Seconds(s.TTL),
		"secret_id_num_uses": s.NumUses,
	}
}

func secretKey(r *role, secret string) string {
	k := []byte(r.HMACKey)
	return keySecretID + mac(k, r.Name) + "/" + mac(k, secret)
}

func secretPrefix(r *role) string {
	return keySecretID + mac([]byte(r.HMACKey), r.Name) + "/"
}

// GenerateSecretID issues a secret id against a role. When req.SecretID is
// empty a random one is drawn (secret-id); else it is the caller's
// (custom-secret-id). maxTTL is the mount's max lease TTL, which caps the
// secret id's TTL as in Vault.
func (b *Backend) GenerateSecretID(name string, req SecretIDRequest, maxTTL time.Duration) (*SecretID, error) {
	secret := req.SecretID
	if secret == "" {
		var err error
		if secret, err = randid.UUID(b.rand); err != nil {
			return nil, err
		}
	}
	if len(secret) > maxHMACInput {
		return nil, errs.Invalidf("value is longer than maximum of %d bytes", maxHMACInput)
	}
	accessor, err := randid.UUID(b.rand)
	if err != nil {
		return nil, err
	}
	meta, err := parseMetadata(req.Metadata)
	if err != nil {
		return nil, err
	}
	var out *SecretID
	err = b.space.Update(func(tx storage.Tx) error {
		r, err := authmethod.GetRole[role](tx, name)
		if err != nil {
			return err
		}
		if r == nil {
			return errs.Newf(errs.NotFound, "role %q does not exist", name)
		}
		entry, err := newSecretEntry(r, req, meta, accessor, b.clock.Now(), maxTTL)
		if err != nil {
			return err
		}
		salt, err := b.saltTx(tx)
		if err != nil {
			return err
		}
		key := secretKey(r, secret)
		if tx.Get(key) != nil {
			return errs.Invalidf("SecretID is already registered")
		}
		idx := accessorIndex{Role: r.Name, SecretIDHMAC: key}
		if err := storage.PutJSON(tx, keyAccessor+mac(salt, accessor), idx); err != nil {
			return err
		}
		out = &SecretID{SecretID: secret, Accessor: accessor, TTL: deriveTTL(entry.TTL, maxTTL), NumUses: entry.NumUses}
		return storage.PutJSON(tx, key, entry)
	})
	return out, err
}

func newSecretEntry(r *role, req SecretIDRequest, meta map[string]string, accessor string, now time.Time, maxTTL time.Duration) (*secretID, error) {
	if !r.BindSecretID {
		return nil, errs.Invalidf("bind_secret_id is not set on the role")
	}
	if err := checkCIDRSubset(req.CIDRList, r.SecretIDBoundCIDRs, "failed to validate CIDR blocks"); err != nil {
		return nil, err
	}
	if err := checkCIDRSubset(req.TokenBoundCIDRs, r.TokenBoundCIDRs, "failed to validate token CIDR blocks"); err != nil {
		return nil, err
	}
	numUses := r.SecretIDNumUses
	if req.NumUses != nil {
		numUses = *req.NumUses
		if numUses < 0 {
			return nil, errs.Invalidf("num_uses cannot be negative")
		}
		if (numUses == 0 && r.SecretIDNumUses > 0) || (r.SecretIDNumUses > 0 && numUses > r.SecretIDNumUses) {
			return nil, errs.Invalidf("num_uses cannot be higher than the role's secret_id_num_uses")
		}
	}
	ttl := r.SecretIDTTL
	if req.TTL != nil {
		ttl = *req.TTL
		if (ttl == 0 && r.SecretIDTTL > 0) || (r.SecretIDTTL > 0 && ttl > r.SecretIDTTL) {
			return nil, errs.Invalidf("ttl cannot be longer than the role's secret_id_ttl")
		}
	}
	e := &secretID{
		Version: 1, Accessor: accessor, NumUses: numUses, TTL: ttl,
		CreationTime: now, LastUpdatedTime: now, Metadata: meta,
		CIDRList: orEmpty(req.CIDRList), TokenBoundCIDRs: orEmpty(req.TokenBoundCIDRs),
	}
	if d := deriveTTL(ttl, maxTTL); d > 0 {
		e.ExpirationTime = now.Add(d)
	}
	return e, nil
}

// deriveTTL caps a secret id TTL by the mount's max; zero means no expiry
// (approle's deriveSecretIDTTL).
func deriveTTL(ttl, maxTTL time.Duration) time.Duration {
	if maxTTL > 0 && (ttl < 0 || ttl > maxTTL) {
		return maxTTL
	}
	return ttl
}

// checkCIDRSubset checks that every block of sub is valid and, when the role
// restricts, inside one of the role's blocks.
func checkCIDRSubset(sub, role []string, invalidMsg string) error {
	if err := authmethod.ValidateCIDRs(sub); err != nil {
		return errs.Invalidf("%s", invalidMsg)
	}
	if len(sub) == 0 || len(role) == 0 {
		return nil
	}
	for _, c := range sub {
		if !authmethod.CIDRWithin(c, role) {
			return errs.Invalidf("failed to verify subset relationship between CIDR blocks on the role %q and CIDR blocks on the secret ID %q", role, sub)
		}
	}
	return nil
}

// parseMetadata reads the metadata parameter: a JSON object of strings,
// sent as a string (Vault's ParseArbitraryKeyValues also takes k=v,k=v).
func parseMetadata(s string) (map[string]string, error) {
	out := map[string]string{}
	s = strings.TrimSpace(s)
	if s == "" {
		return out, nil
	}
	if strings.HasPrefix(s, "{") {
		var raw map[string]any
		if err := json.Unmarshal([]byte(s), &raw); err != nil {
			return nil, errs.Invalidf("failed to parse metadata: %v", err)
		}
		for k, v := range raw {
			str, err := field.String(v)
			if err != nil {
				return nil, errs.Invalidf("failed to parse metadata: %v", err)
			}
			out[k] = str
		}
		return out, nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, errs.Invalidf("failed to parse metadata: invalid key/value pair %q", kv)
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
}

// ListSecretIDAccessors returns the accessors of a role's live secret ids
// (LIST role/:role_name/secret-id); ok is false when there is no role.
func (b *Backend) ListSecretIDAccessors(name string) (accessors []string, ok bool, err error) {
	now := b.clock.Now()
	err = b.space.View(func(tx storage.Tx) error {
		r, err := authmethod.GetRole[role](tx, name)
		if err != nil || r == nil {
			return err
		}
		ok = true
		return tx.Scan(secretPrefix(r), "", func(_ string, v []byte) error {
			var e secretID
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			if !expired(&e, now) {
				accessors = append(accessors, e.Accessor)
			}
			return nil
		})
	})
	return accessors, ok, err
}

func expired(e *secretID, now time.Time) bool {
	return !e.ExpirationTime.IsZero() && !now.Before(e.ExpirationTime)
}

// LookupSecretID returns a secret id's properties, or nil when unknown
// (POST role/:role_name/secret-id/lookup).
func (b *Backend) LookupSecretID(name, secret string) (map[string]any, error) {
	if secret == "" {
		return nil, errs.Invalidf("missing secret_id")
	}
	var out map[string]any
	err := b.space.View(func(tx storage.Tx) error {
		r, err := authmethod.GetRole[role](tx, name)
		if err != nil {
			return err
		}
		if r == nil {
			return errs.Newf(errs.InvalidVault500, "role %q does not exist", name)
		}
		var e secretID
		found, err := storage.GetJSON(tx, secretKey(r, secret), &e)
		if err != nil || !found || expired(&e, b.clock.Now()) {
			return err
		}
		out = e.data()
		return nil
	})
	return out, err
}

func (e *secretID) data() map[string]any {
	return map[string]any{
		"secret_id_accessor": e.Accessor,
		"secret_id_num_uses": e.NumUses,
		"secret_id_ttl":      field.Seconds(e.TTL),
		"creation_time":      e.CreationTime,
		"expiration_time":    e.ExpirationTime,
		"last_updated_time":  e.LastUpdatedTime,
		"metadata":           e.Metadata,
		"cidr_list":          orEmpty(e.CIDRList),
		"token_bound_cidrs":  orEmpty(e.TokenBoundCIDRs),
	}
}

// DestroySecretID deletes a secret id; an unknown one is not an error.
func (b *Backend) DestroySecretID(name, secret string) error {
	if secret == "" {
		return errs.Invalidf("missing secret_id")
	}
	return b.space.Update(func(tx storage.Tx) error {
		r, err := authmethod.GetRole[role](tx, name)
		if err != nil {
			return err
		}
		if r == nil {
			return errs.Newf(errs.InvalidVault500, "role %q does not exist", name)
		}
		salt, err := b.saltTx(tx)
		if err != nil {
			return err
		}
		return deleteSecret(tx, salt, secretKey(r, secret))
	})
}

func deleteSecret(tx storage.Tx, salt []byte, key string) error {
	var e secretID
	found, err := storage.GetJSON(tx, key, &e)
	if err != nil || !found {
		return err
	}
	if err := tx.Delete(keyAccessor + mac(salt, e.Accessor)); err != nil {
		return err
	}
	return tx.Delete(key)
}

// LookupSecretIDAccessor returns the properties of the secret id with the
// given accessor.
func (b *Backend) LookupSecretIDAccessor(name, accessor string) (map[string]any, error) {
	if accessor == "" {
		return nil, errs.Invalidf("missing secret_id_accessor")
	}
	var out map[string]any
	err := b.space.View(func(tx storage.Tx) error {
		key, err := accessorKey(tx, name, accessor)
		if err != nil {
			return err
		}
		var e secretID
		found, err := storage.GetJSON(tx, key, &e)
		if err != nil || !found {
			return err
		}
		out = e.data()
		return nil
	})
	return out, err
}

// DestroySecretIDAccessor deletes the secret id with the given accessor.
func (b *Backend) DestroySecretIDAccessor(name, accessor string) error {
	if accessor == "" {
		return errs.Invalidf("missing secret_id_accessor")
	}
	return b.space.Update(func(tx storage.Tx) error {
		key, err := accessorKey(tx, name, accessor)
		if err != nil {
			return err
		}
		salt, err := b.saltTx(tx)
		if err != nil {
			return err
		}
		return deleteSecret(tx, salt, key)
	})
}

// accessorKey resolves an accessor to its secret id's key, with Vault's
// errors: a 500 for an unknown role, a 404 for an unknown accessor.
func accessorKey(tx storage.Tx, name, accessor string) (string, error) {
	r, err := authmethod.GetRole[role](tx, name)
	if err != nil {
		return "", err
	}
	if r == nil {
		return "", errs.Newf(errs.InvalidVault500, "role %q does not exist", name)
	}
	salt := tx.Get(keySalt)
	var idx accessorIndex
	found := false
	if salt != nil {
		if found, err = storage.GetJSON(tx, keyAccessor+mac(salt, accessor), &idx); err != nil {
			return "", err
		}
	}
	if !found || idx.Role != r.Name {
		return "", errs.Newf(errs.NotFound, "failed to find accessor entry for secret_id_accessor: %q", accessor)
	}
	return idx.SecretIDHMAC, nil
}

// flushSecretIDs deletes every secret id of a role (on role deletion).
func (b *Backend) flushSecretIDs(tx storage.Tx, salt []byte, r *role) error {
	prefix := secretPrefix(r)
	keys, err := tx.Keys(prefix, "", 0)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := deleteSecret(tx, salt, prefix+k); err != nil {
			return err
		}
	}
	return nil
}
