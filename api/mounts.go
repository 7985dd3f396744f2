package api

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/randid"
	"github.com/pkid-dev/pkid/storage"
)

// backend is what serves the paths under one mount.
type backend interface {
	routes() []Route
	// unauthenticatedPaths and sudoPaths are Vault-style special paths
	// relative to the mount (spec §1.8).
	unauthenticatedPaths() []string
	sudoPaths() []string
	periodic(ctx context.Context)
	close()
}

// Mount kinds: a secrets engine at "<path>/" or an auth method at
// "auth/<path>/". Both live in one table keyed by the full logical prefix.
const (
	kindSecret = "secret"
	kindAuth   = "auth"
)

// MountEntry is a stored mount.
type MountEntry struct {
	Kind                  string            `json:"kind"`
	Path                  string            `json:"path"` // full logical prefix, trailing slash
	Type                  string            `json:"type"`
	Description           string            `json:"description"`
	UUID                  string            `json:"uuid"`
	Accessor              string            `json:"accessor"`
	Config                MountConfig       `json:"config"`
	Options               map[string]string `json:"options"`
	Local                 bool              `json:"local"`
	SealWrap              bool              `json:"seal_wrap"`
	ExternalEntropyAccess bool              `json:"external_entropy_access"`
	Builtin               bool              `json:"builtin"`
	Version               int               `json:"version"`
}

// MountConfig is a mount's tunable configuration. Zero TTLs mean "the
// system's".
type MountConfig struct {
	DefaultLeaseTTL           time.Duration `json:"default_lease_ttl"`
	MaxLeaseTTL               time.Duration `json:"max_lease_ttl"`
	ForceNoCache              bool          `json:"force_no_cache"`
	ListingVisibility         string        `json:"listing_visibility,omitempty"`
	PassthroughRequestHeaders []string      `json:"passthrough_request_headers,omitempty"`
	AllowedResponseHeaders    []string      `json:"allowed_response_headers,omitempty"`
	AuditNonHMACRequestKeys   []string      `json:"audit_non_hmac_request_keys,omitempty"`
	AuditNonHMACResponseKeys  []string      `json:"audit_non_hmac_response_keys,omitempty"`
}

type mount struct {
	entry   MountEntry
	backend backend
	table   *routeTable
	life    *mountLife // shared by the copies a tune makes
}

// mountLife lets disabling a mount wait for the requests it is serving, so
// none of them writes into the mount's storage after it has been dropped.
type mountLife struct {
	mu   sync.RWMutex
	gone bool
}

// enter marks a request in flight on the mount; it reports false once the
// mount is disabled. A true answer must be paired with leave.
func (m *mount) enter() bool {
	m.life.mu.RLock()
	if m.life.gone {
		m.life.mu.RUnlock()
		return false
	}
	return true
}

func (m *mount) leave() { m.life.mu.RUnlock() }

// runPeriodic runs the backend's time-driven work unless the mount has been
// disabled since the caller found it: a CRL rebuild or tidy bookkeeping on a
// dropped mount would write its records back into storage as an orphan
// space. Disabling waits for a run in progress, as for requests.
func (m *mount) runPeriodic(ctx context.Context) {
	if !m.enter() {
		return
	}
	defer m.leave()
	m.backend.periodic(ctx)
}

const mountPrefix = "mount/"

// builtinMounts are the mounts every Vault has. Only sys/ and auth/token/
// serve requests here; cubbyhole/ and identity/ are listed for fidelity.
// Their settings are Vault's (vault/mount.go requiredMountTable): sys/ is
// seal-wrapped and passes Accept through, identity/ passes Authorization.
var builtinMounts = []MountEntry{
	{Kind: kindSecret, Path: "cubbyhole/", Type: "cubbyhole", Description: "per-token private secret storage", Local: true},
	{Kind: kindSecret, Path: "identity/", Type: "identity", Description: "identity store",
		Config: MountConfig{PassthroughRequestHeaders: []string{"Authorization"}}},
	{Kind: kindSecret, Path: "sys/", Type: "system", Description: "system endpoints used for control, policy and debugging",
		SealWrap: true, Config: MountConfig{PassthroughRequestHeaders: []string{"Accept"}}},
	{Kind: kindAuth, Path: "auth/token/", Type: "token", Description: "token based credentials"},
}

// loadMounts reads the mount table, adding the built-in mounts on first
// start, and builds each mount's backend.
func (s *Server) loadMounts() error {
	var entries []MountEntry
	err := s.sys.Update(func(tx storage.Tx) error {
		for _, b := range builtinMounts {
			if tx.Get(mountPrefix+b.Path) != nil {
				continue
			}
			e := b
			e.Builtin, e.Version = true, 1
			if err := s.identify(&e); err != nil {
				return err
			}
			if err := storage.PutJSON(tx, mountPrefix+e.Path, &e); err != nil {
				return err
			}
		}
		return tx.Scan(mountPrefix, "", func(_ string, v []byte) error {
			var e MountEntry
			if err := jsonUnmarshal(v, &e); err != nil {
				return err
			}
			entries = append(entries, e)
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("api: load mounts: %w", err)
	}
	for _, e := range entries {
		m, err := s.newMount(e)
		if err != nil {
			return fmt.Errorf("api: mount %s: %w", e.Path, err)
		}
		// Locked although New loads the table before any other goroutine
		// runs: a reload (tests) races the periodic loop otherwise.
		s.mu.Lock()
		s.mounts[e.Path] = m
		s.mu.Unlock()
	}
	return nil
}

// identify gives a new mount its UUID and accessor.
func (s *Server) identify(e *MountEntry) error {
	id, err := randid.UUID(s.rand)
	if err != nil {
		return err
	}
	acc, err := randid.UUID(s.rand)
	if err != nil {
		return err
	}
	e.UUID = id
	e.Accessor = e.Type + "_" + acc[:8]
	return nil
}

// newMount builds the backend that serves a mount entry.
func (s *Server) newMount(e MountEntry) (*mount, error) {
	var b backend
	switch {
	case e.Path == "sys/":
		b = &sysBackend{s: s}
	case e.Path == "auth/token/":
		b = &tokenBackend{s: s}
	case e.Builtin:
		b = emptyBackend{}
	case e.Kind == kindAuth:
		ab, err := s.newAuthBackend(e) // auth_backends.go
		if err != nil {
			return nil, err
		}
		b = ab
	case e.Type == "pki":
		pb, err := newPKIBackend(s.cfg.Store.Space(e.UUID), s.clock, s.rand, s.keys, s.log.With("mount", e.Path))
		if err != nil {
			return nil, err
		}
		b = pb
	default:
		return nil, fmt.Errorf("unknown mount type %q", e.Type)
	}
	return &mount{entry: e, backend: b, life: &mountLife{},
		table: newRouteTable(b.routes(), b.unauthenticatedPaths(), b.sudoPaths())}, nil
}

// lookupMount finds the mount serving a logical path by longest prefix.
func (s *Server) lookupMount(path string) *mount {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var best *mount
	for p, m := range s.mounts {
		if (strings.HasPrefix(path, p) || path+"/" == p) && (best == nil || len(p) > len(best.entry.Path)) {
			best = m
		}
	}
	return best
}

// mountInfo is what a backend's handlers see of their mount.
func (s *Server) mountInfo(e *MountEntry) *MountInfo {
	def, max := s.effectiveTTLs(e)
	return &MountInfo{
		Path: strings.TrimPrefix(e.Path, "auth/"), UUID: e.UUID, Type: e.Type,
		Accessor: e.Accessor, DefaultTTL: def, MaxTTL: max, Description: e.Description,
	}
}

func (s *Server) effectiveTTLs(e *MountEntry) (def, max time.Duration) {
	def, max = s.cfg.DefaultLeaseTTL, s.cfg.MaxLeaseTTL
	if e.Config.DefaultLeaseTTL != 0 {
		def = e.Config.DefaultLeaseTTL
	}
	if e.Config.MaxLeaseTTL != 0 {
		max = e.Config.MaxLeaseTTL
	}
	return def, max
}

// normalizeMountPath turns "pki/prod" or "/pki/prod/" into "pki/prod/",
// refusing empty segments and dot segments.
func normalizeMountPath(p string) (string, error) {
	p = strings.Trim(p, "/")
	if p == "" {
		return "", errs.Invalidf("path must be specified")
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", errs.Invalidf("invalid mount path %q: empty or dot segment", p)
		}
	}
	return p + "/", nil
}

// enableMount adds a mount, refusing overlaps as Vault does: a path that
// contains or is contained in a mount of the same table is "already in use"
// (auth mounts are named without their "auth/" prefix, as Vault names them).
// The type is checked after the overlap, in Vault's order.
func (s *Server) enableMount(e MountEntry) error {
	if err := s.identify(&e); err != nil {
		return err
	}
	e.Version = 1
	s.mu.Lock()
	defer s.mu.Unlock()
	for p, m := range s.mounts {
		if m.entry.Kind != e.Kind {
			continue
		}
		if strings.HasPrefix(e.Path, p) || strings.HasPrefix(p, e.Path) {
			return errs.Invalidf("path is already in use at %s", strings.TrimPrefix(p, "auth/"))
		}
	}
	if err := checkMountType(e); err != nil {
		return err
	}
	m, err := s.newMount(e)
	if err != nil {
		return err
	}
	err = s.sys.Update(func(tx storage.Tx) error { return storage.PutJSON(tx, mountPrefix+e.Path, &e) })
	if err != nil {
		m.backend.close()
		return fmt.Errorf("api: store mount %s: %w", e.Path, err)
	}
	s.mounts[e.Path] = m
	return nil
}

// checkMountType refuses a type pkid cannot serve (sys.go, sys_auth.go).
func checkMountType(e MountEntry) error {
	if e.Kind == kindAuth {
		return checkAuthType(e.Type)
	}
	return checkEngineType(e.Type)
}

// disableMount removes a mount and deletes its data. Removing nothing is
// not an error (Vault answers 204).
func (s *Server) disableMount(path string) error {
	s.mu.Lock()
	m, ok := s.mounts[path]
	if !ok {
		s.mu.Unlock()
		return nil
	}
	if m.entry.Builtin {
		s.mu.Unlock()
		return errs.Invalidf("cannot unmount %q", path)
	}
	delete(s.mounts, path)
	s.mu.Unlock()
	m.life.mu.Lock() // wait for the requests in flight on the mount
	m.life.gone = true
	m.life.mu.Unlock()
	m.backend.close()
	err := s.sys.Update(func(tx storage.Tx) error { return tx.Delete(mountPrefix + path) })
	if err != nil {
		return fmt.Errorf("api: delete mount %s: %w", path, err)
	}
	if err := s.cfg.Store.DropSpace(m.entry.UUID); err != nil {
		return fmt.Errorf("api: delete data of mount %s: %w", path, err)
	}
	return nil
}

// modifyMountEntry applies change to the current entry of the mount found
// (tune), stores it and swaps it in, all under the lock, so concurrent tunes
// of different fields all land. It acts only if the same mount (same UUID)
// is still enabled: a tune that raced a disable must not write the dropped
// mount back into the table, where the next start would load it.
func (s *Server) modifyMountEntry(found MountEntry, change func(*MountEntry) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.mounts[found.Path]
	if !ok || m.entry.UUID != found.UUID {
		return errs.Invalidf("tune of path %q failed: no mount entry found", found.Path)
	}
	e := m.entry
	if err := change(&e); err != nil {
		return err
	}
	err := s.sys.Update(func(tx storage.Tx) error { return storage.PutJSON(tx, mountPrefix+e.Path, &e) })
	if err != nil {
		return fmt.Errorf("api: store mount %s: %w", e.Path, err)
	}
	// A fresh mount value, so requests holding the old one keep reading a
	// consistent entry without the lock.
	updated := *m
	updated.entry = e
	s.mounts[e.Path] = &updated
	return nil
}

// mountEntries returns a copy of the entries of one kind, sorted by path.
func (s *Server) mountEntries(kind string) []MountEntry {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []MountEntry
	for _, m := range s.mounts {
		if m.entry.Kind == kind {
			out = append(out, m.entry)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// matchingMountEntry is the entry of the mount serving path (with its
// trailing slash) by longest prefix, as Vault's router.MatchingMountEntry:
// "pki/roles/web/" finds pki/.
func (s *Server) matchingMountEntry(path string) (MountEntry, bool) {
	m := s.lookupMount(path)
	if m == nil {
		return MountEntry{}, false
	}
	return m.entry, true
}

func (s *Server) mountEntry(path string) (MountEntry, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	m, ok := s.mounts[path]
	if !ok {
		return MountEntry{}, false
	}
	return m.entry, true
}

type emptyBackend struct{}

func (emptyBackend) routes() []Route                { return nil }
func (emptyBackend) unauthenticatedPaths() []string { return nil }
func (emptyBackend) sudoPaths() []string            { return nil }
func (emptyBackend) periodic(context.Context)       {}
func (emptyBackend) close()                         {}
