// Package token is pkid's token store: service tokens with policies, TTLs,
// accessors and parent/child links, kept in the sys space and stored only
// as hashes, so a copy of the data file does not leak usable tokens.
package token

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/pkid-dev/pkid/clock"
	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/randid"
	"github.com/pkid-dev/pkid/storage"
)

const (
	idPrefix       = "token/id/"
	accessorPrefix = "token/accessor/"
	childPrefix    = "token/child/"
)

// Entry is a stored token. The token itself is never stored: ID is filled
// only on the entry returned by Create or Lookup.
type Entry struct {
	ID             string            `json:"-"`
	Hash           string            `json:"hash"`
	Accessor       string            `json:"accessor"`
	Policies       []string          `json:"policies"`
	Parent         string            `json:"parent,omitempty"` // parent's hash
	Meta           map[string]string `json:"meta,omitempty"`
	DisplayName    string            `json:"display_name"`
	NumUses        int               `json:"num_uses"`
	CreationTime   time.Time         `json:"creation_time"`
	TTL            time.Duration     `json:"ttl"` // creation TTL; 0 = never expires
	ExplicitMaxTTL time.Duration     `json:"explicit_max_ttl"`
	// MaxTTL caps renewals, counted from creation: a login's role
	// token_max_ttl or its mount's max (zero: the system max).
	MaxTTL     time.Duration `json:"max_ttl,omitempty"`
	Period     time.Duration `json:"period,omitempty"`
	ExpireTime time.Time     `json:"expire_time"` // zero = never
	Renewable  bool          `json:"renewable"`
	Orphan     bool          `json:"orphan"`
	Path       string        `json:"path"`
	Type       string        `json:"type"`
	EntityID   string        `json:"entity_id"`
	Version    int           `json:"version"`
	// LastRenewal is when the token was last renewed (zero: never).
	LastRenewal time.Time `json:"last_renewal,omitempty"`
	// Warnings are what Create or Renew has to tell the caller (a TTL
	// capped by a max); they are not stored.
	Warnings []string `json:"-"`
}

// IsRoot reports whether the token carries the root policy.
func (e *Entry) IsRoot() bool { return slices.Contains(e.Policies, "root") }

// Store is the token store.
type Store struct {
	space *storage.Space
	clock clock.Clock
	rand  io.Reader
	// DefaultTTL and MaxTTL are the system lease TTLs that token TTLs follow.
	DefaultTTL, MaxTTL time.Duration
	// cache spares Lookup the decoding of unchanged entries (cache.go).
	cache entryCache
}

// NewStore returns a token store over the sys space.
func NewStore(space *storage.Space, clk clock.Clock, rnd io.Reader, defaultTTL, maxTTL time.Duration) *Store {
	return &Store{space: space, clock: clk, rand: rnd, DefaultTTL: defaultTTL, MaxTTL: maxTTL}
}

// Hash returns the storage hash of a token.
func Hash(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// NewID returns a fresh service-token string in Vault's "hvs." format.
func (s *Store) NewID() (string, error) {
	r, err := randid.Base62(s.rand, 24)
	if err != nil {
		return "", err
	}
	return "hvs." + r, nil
}

// CreateRequest is what auth/token/create may ask for.
type CreateRequest struct {
	ID              string
	Policies        []string
	Meta            map[string]string
	NoParent        bool
	NoDefaultPolicy bool
	Renewable       *bool
	TTL             time.Duration
	ExplicitMaxTTL  time.Duration
	Period          time.Duration
	DisplayName     string
	// VerbatimDisplayName keeps DisplayName as given (logins name their
	// tokens "approle", "kubernetes-<ns>-<sa>"); otherwise Vault's "token-"
	// prefix is added.
	VerbatimDisplayName bool
	// MaxTTL caps the token's TTL and renewals (a login's max TTL, or the
	// token mount's); zero means the store's max.
	MaxTTL time.Duration
	// DefaultTTL is the TTL given when none is asked; zero means the
	// store's default.
	DefaultTTL time.Duration
	NumUses    int
	Path       string // "auth/token/create" unless a login says otherwise
}

// Create makes a token as a child of parent (nil for none: orphan).
func (s *Store) Create(parent *Entry, req CreateRequest) (*Entry, error) {
	if req.NumUses < 0 {
		return nil, errs.Invalidf("number of uses cannot be negative")
	}
	id := req.ID
	if id == "" {
		var err error
		if id, err = s.NewID(); err != nil {
			return nil, err
		}
	}
	acc, err := randid.Base62(s.rand, 24)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now().UTC()
	e := &Entry{
		ID:           id,
		Hash:         Hash(id),
		Accessor:     acc,
		Policies:     normalizePolicies(req.Policies, parent, req.NoDefaultPolicy),
		Meta:         req.Meta,
		DisplayName:  displayName(req.DisplayName),
		MaxTTL:       req.MaxTTL,
		NumUses:      req.NumUses,
		CreationTime: now,
		Renewable:    req.Renewable == nil || *req.Renewable,
		Path:         req.Path,
		Type:         "service",
		Period:       req.Period,
		Version:      1,
	}
	if req.VerbatimDisplayName {
		e.DisplayName = req.DisplayName
	}
	if e.Path == "" {
		e.Path = "auth/token/create"
	}
	if parent == nil || req.NoParent {
		e.Orphan = true
	} else {
		e.Parent = parent.Hash
	}
	if err := s.setTTL(e, req); err != nil {
		return nil, err
	}
	err = s.space.Update(func(tx storage.Tx) error {
		if tx.Get(idPrefix+e.Hash) != nil {
			return errs.Invalidf("cannot create a token with a duplicate ID")
		}
		return s.put(tx, e)
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// displayNameSanitize is Vault's: anything but letters, digits and "-"
// becomes "-".
var displayNameSanitize = regexp.MustCompile("[^a-zA-Z0-9-]")

// displayName is Vault's name for a created token: "token", or "token-"
// and the given name, sanitized, without a trailing "-".
func displayName(name string) string {
	if name == "" {
		return "token"
	}
	full := displayNameSanitize.ReplaceAllString("token-"+name, "-")
	return strings.TrimSuffix(full, "-")
}

// normalizePolicies gives a new token its policies as Vault does: those
// asked for (with "default" added unless told not to), or, when none are
// asked, the parent's as they are.
func normalizePolicies(asked []string, parent *Entry, noDefault bool) []string {
	if len(SanitizePolicies(asked, false)) == 0 && parent != nil {
		return SanitizePolicies(parent.Policies, false)
	}
	return SanitizePolicies(asked, !noDefault)
}

// SanitizePolicies is Vault's policyutil.SanitizePolicies: names trimmed
// and lower-cased, empties dropped, "root" alone standing for everything,
// "default" added on request (never next to root), sorted, deduplicated.
func SanitizePolicies(policies []string, addDefault bool) []string {
	out := make([]string, 0, len(policies)+1)
	for _, p := range policies {
		p = strings.ToLower(strings.TrimSpace(p))
		switch p {
		case "":
			continue
		case "root":
			return []string{"root"}
		}
		out = append(out, p)
	}
	if addDefault && !slices.Contains(out, "default") {
		out = append(out, "default")
	}
	sort.Strings(out)
	return slices.Compact(out)
}

func (s *Store) put(tx storage.Tx, e *Entry) error {
	if err := storage.PutJSON(tx, idPrefix+e.Hash, e); err != nil {
		return err
	}
	if err := tx.Put(accessorPrefix+e.Accessor, []byte(e.Hash)); err != nil {
		return err
	}
	if e.Parent != "" {
		return tx.Put(childPrefix+e.Parent+"/"+e.Hash, []byte{1})
	}
	return nil
}

// Lookup returns the live entry of token id, or nil when it does not exist
// or has expired.
func (s *Store) Lookup(id string) (*Entry, error) {
	if id == "" {
		return nil, nil
	}
	h := Hash(id)
	var e *Entry
	err := s.space.View(func(tx storage.Tx) error {
		var err error
		e, err = s.getEntry(tx, h)
		return err
	})
	if err != nil || e == nil {
		return nil, err
	}
	// The key is the hash, but compare it in constant time all the same, so
	// the check does not depend on storage's lookup being timing-safe.
	if subtle.ConstantTimeCompare([]byte(e.Hash), []byte(h)) != 1 {
		return nil, nil
	}
	if s.expired(e) {
		return nil, nil
	}
	e.ID = id
	return e, nil
}

// LookupAccessor returns the live entry with the given accessor, or nil.
// Its ID is empty: an accessor never reveals the token.
func (s *Store) LookupAccessor(acc string) (*Entry, error) {
	var e Entry
	var found bool
	err := s.space.View(func(tx storage.Tx) error {
		h := tx.Get(accessorPrefix + acc)
		if h == nil {
			return nil
		}
		var err error
		found, err = storage.GetJSON(tx, idPrefix+string(h), &e)
		return err
	})
	if err != nil || !found || s.expired(&e) {
		return nil, err
	}
	return &e, nil
}

func (s *Store) expired(e *Entry) bool {
	return !e.ExpireTime.IsZero() && !s.clock.Now().Before(e.ExpireTime)
}

// UseOnce counts one use of a token with limited uses and revokes it after
// its last, as Vault does.
func (s *Store) UseOnce(e *Entry) error {
	if e.NumUses == 0 {
		return nil
	}
	var last bool
	err := s.space.Update(func(tx storage.Tx) error {
		var cur Entry
		found, err := storage.GetJSON(tx, idPrefix+e.Hash, &cur)
		if err != nil || !found {
			return err
		}
		cur.NumUses--
		last = cur.NumUses <= 0
		return storage.PutJSON(tx, idPrefix+e.Hash, &cur)
	})
	if err != nil {
		return err
	}
	if last {
		return s.RevokeHash(e.Hash)
	}
	return nil
}

// Revoke revokes token id and its children.
func (s *Store) Revoke(id string) error { return s.RevokeHash(Hash(id)) }

// RevokeHash revokes the token with the given hash and, recursively, every
// token created as its child.
func (s *Store) RevokeHash(h string) error {
	return s.space.Update(func(tx storage.Tx) error { return revokeTree(tx, h, 0) })
}

var errTooDeep = errors.New("token: token tree too deep")

func revokeTree(tx storage.Tx, h string, depth int) error {
	if depth > 1000 {
		return errTooDeep
	}
	children, err := tx.Keys(childPrefix+h+"/", "", 0)
	if err != nil {
		return err
	}
	for _, c := range children {
		if err := revokeTree(tx, c, depth+1); err != nil {
			return err
		}
		if err := tx.Delete(childPrefix + h + "/" + c); err != nil {
			return err
		}
	}
	var e Entry
	found, err := storage.GetJSON(tx, idPrefix+h, &e)
	if err != nil || !found {
		return err
	}
	if e.Parent != "" {
		if err := tx.Delete(childPrefix + e.Parent + "/" + h); err != nil {
			return err
		}
	}
	if err := tx.Delete(accessorPrefix + e.Accessor); err != nil {
		return err
	}
	return tx.Delete(idPrefix + h)
}

// RemainingTTL is the time left before the token expires; 0 when it never
// does.
func (s *Store) RemainingTTL(e *Entry) time.Duration {
	if e.ExpireTime.IsZero() {
		return 0
	}
	d := e.ExpireTime.Sub(s.clock.Now())
	if d < 0 {
		return 0
	}
	return d.Round(time.Second)
}

// Count returns the number of live and expired stored tokens (tests).
func (s *Store) Count() (int, error) {
	n := 0
	err := s.space.View(func(tx storage.Tx) error {
		return tx.Scan(idPrefix, "", func(string, []byte) error { n++; return nil })
	})
	return n, err
}

// RevokeAccessor revokes the token with the given accessor and its
// children. An unknown accessor is not an error for the store; the caller
// decides what to answer.
func (s *Store) RevokeAccessor(acc string) (bool, error) {
	var found bool
	err := s.space.Update(func(tx storage.Tx) error {
		h := tx.Get(accessorPrefix + acc)
		if h == nil {
			return nil
		}
		found = true
		return revokeTree(tx, string(h), 0)
	})
	return found, err
}

// RevokeOrphan revokes token id alone; its children become orphans, as
// Vault's revoke-orphan does.
func (s *Store) RevokeOrphan(id string) error {
	h := Hash(id)
	return s.space.Update(func(tx storage.Tx) error {
		children, err := tx.Keys(childPrefix+h+"/", "", 0)
		if err != nil {
			return err
		}
		for _, c := range children {
			var child Entry
			found, err := storage.GetJSON(tx, idPrefix+c, &child)
			if err != nil {
				return err
			}
			if found {
				child.Parent, child.Orphan = "", true
				if err := storage.PutJSON(tx, idPrefix+c, &child); err != nil {
					return err
				}
			}
			if err := tx.Delete(childPrefix + h + "/" + c); err != nil {
				return err
			}
		}
		return revokeTree(tx, h, 0)
	})
}

// RevokeByPathPrefix revokes every token created through a path under
// prefix ("auth/approle/"), with its children: disabling an auth method
// revokes the tokens its logins made.
func (s *Store) RevokeByPathPrefix(prefix string) error {
	var hashes []string
	err := s.space.View(func(tx storage.Tx) error {
		return tx.Scan(idPrefix, "", func(k string, v []byte) error {
			var e Entry
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			if strings.HasPrefix(e.Path, prefix) {
				hashes = append(hashes, k)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	for _, h := range hashes {
		if err := s.RevokeHash(h); err != nil {
			return err
		}
	}
	return nil
}

// Accessors returns every live token's accessor, sorted (LIST
// auth/token/accessors).
func (s *Store) Accessors() ([]string, error) {
	var out []string
	err := s.space.View(func(tx storage.Tx) error {
		return tx.Scan(idPrefix, "", func(_ string, v []byte) error {
			var e Entry
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			if !s.expired(&e) {
				out = append(out, e.Accessor)
			}
			return nil
		})
	})
	sort.Strings(out)
	return out, err
}
