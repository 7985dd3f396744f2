package acl

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/storage"
)

// keyPrefix is where policies live in the store's space.
const keyPrefix = "policy/acl/"

// record is a stored policy. Only the text is kept: it is re-parsed on load,
// so a parser fix applies to stored policies too.
type record struct {
	Version int    `json:"version"`
	Name    string `json:"name"`
	Raw     string `json:"raw"`
}

// Store keeps named ACL policies in a storage space and builds ACLs from
// policy names. Parsed policies and built ACLs are cached; the store is the
// only writer of its keys, so the cache never goes stale.
type Store struct {
	space *storage.Space

	mu       sync.RWMutex
	gen      uint64             // bumped by every write, so loads racing a write are not cached
	policies map[string]*Policy // parsed, by name; nil entry = known missing
	acls     map[string]*ACL    // by sorted, joined policy names
}

// NewStore returns a store over space. Call Init once before use.
func NewStore(space *storage.Space) *Store {
	return &Store{space: space, policies: map[string]*Policy{}, acls: map[string]*ACL{}}
}

// Init writes the default policy when it is missing, as Vault does on
// unseal; an operator's edited default policy is kept.
func (s *Store) Init() error {
	return s.space.Update(func(tx storage.Tx) error {
		if tx.Get(keyPrefix+DefaultPolicyName) != nil {
			return nil
		}
		return storage.PutJSON(tx, keyPrefix+DefaultPolicyName, record{Version: 1, Name: DefaultPolicyName, Raw: DefaultPolicyText})
	})
}

// Get returns the named policy, or nil when there is none. The root policy
// always exists and has no text.
func (s *Store) Get(name string) (*Policy, error) {
	name = NormalizeName(name)
	if name == RootPolicyName {
		return RootPolicy(), nil
	}
	s.mu.RLock()
	p, cached := s.policies[name]
	gen := s.gen
	s.mu.RUnlock()
	if cached {
		return p, nil
	}
	p, err := s.load(name)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.gen == gen {
		s.policies[name] = p
	}
	s.mu.Unlock()
	return p, nil
}

func (s *Store) load(name string) (*Policy, error) {
	var rec record
	var found bool
	err := s.space.View(func(tx storage.Tx) error {
		var err error
		found, err = storage.GetJSON(tx, keyPrefix+name, &rec)
		return err
	})
	if err != nil || !found {
		return nil, err
	}
	p, err := Parse(name, rec.Raw)
	if err != nil {
		return nil, fmt.Errorf("acl: stored policy %q: %w", name, err)
	}
	return p, nil
}

// Put parses and stores a policy under its normalized name. It returns the
// parser's warnings. Vault refuses to change root.
func (s *Store) Put(name, raw string) ([]string, error) {
	name = NormalizeName(name)
	if name == "" {
		return nil, errs.Invalidf("policy name missing")
	}
	if name == RootPolicyName {
		return nil, errs.Invalidf("cannot update %q policy", name)
	}
	if strings.TrimSpace(raw) == "" {
		return nil, errs.Invalidf("'policy' parameter not supplied or empty")
	}
	p, err := Parse(name, raw)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, err.Error())
	}
	err = s.space.Update(func(tx storage.Tx) error {
		return storage.PutJSON(tx, keyPrefix+name, record{Version: 1, Name: name, Raw: raw})
	})
	if err != nil {
		return nil, fmt.Errorf("acl: store policy %q: %w", name, err)
	}
	s.remember(name, p)
	return p.Warnings, nil
}

// Delete removes a policy; deleting a missing one is not an error. root and
// default cannot be deleted.
func (s *Store) Delete(name string) error {
	name = NormalizeName(name)
	switch name {
	case RootPolicyName:
		return errs.Invalidf("cannot delete %q policy", name)
	case DefaultPolicyName:
		return errs.Invalidf("cannot delete default policy")
	}
	err := s.space.Update(func(tx storage.Tx) error { return tx.Delete(keyPrefix + name) })
	if err != nil {
		return fmt.Errorf("acl: delete policy %q: %w", name, err)
	}
	s.remember(name, nil)
	return nil
}

// remember updates the policy cache and drops every built ACL, since any
// of them may include the changed policy.
func (s *Store) remember(name string, p *Policy) {
	s.mu.Lock()
	s.gen++
	s.policies[name] = p
	s.acls = map[string]*ACL{}
	s.mu.Unlock()
}

// List returns the stored policy names, sorted, followed by "root" as
// Vault lists them.
func (s *Store) List() ([]string, error) {
	var names []string
	err := s.space.View(func(tx storage.Tx) error {
		var err error
		names, err = tx.Keys(keyPrefix, "", 0)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("acl: list policies: %w", err)
	}
	sort.Strings(names)
	return append(names, RootPolicyName), nil
}

// ACL builds (or returns the cached) ACL for a token's policy names. Names
// of missing policies are ignored, as Vault ignores them.
func (s *Store) ACL(names []string) (*ACL, error) {
	norm := make([]string, 0, len(names))
	for _, n := range names {
		norm = append(norm, NormalizeName(n))
	}
	norm = SortedNames(norm)
	key := strings.Join(norm, ",")
	s.mu.RLock()
	a, ok := s.acls[key]
	gen := s.gen
	s.mu.RUnlock()
	if ok {
		return a, nil
	}
	policies := make([]*Policy, 0, len(norm))
	for _, n := range norm {
		p, err := s.Get(n)
		if err != nil {
			return nil, err
		}
		policies = append(policies, p)
	}
	a = New(policies...)
	s.mu.Lock()
	if s.gen == gen {
		s.acls[key] = a
	}
	s.mu.Unlock()
	return a, nil
}

// Exists reports whether the named policy exists (root always does).
func (s *Store) Exists(name string) (bool, error) {
	p, err := s.Get(name)
	if err != nil {
		return false, err
	}
	return p != nil, nil
}

// Invalidate forgets every parsed policy and ACL, for when another replica
// on the same store wrote a policy: the next lookup reads it afresh.
func (s *Store) Invalidate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++ // a load racing this call must not cache what it read before
	s.policies = map[string]*Policy{}
	s.acls = map[string]*ACL{}
}
