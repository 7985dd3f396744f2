package api

// This file is what a Server needs when several replicas share one store
// (storage/etcdstore): the records behind its in-memory state can change
// under it, and an engine's watch reports them here.

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/pkid-dev/pkid/records"
	"github.com/pkid-dev/pkid/storage"
)

// policyPrefix is where api/acl keeps policies in the sys space.
const policyPrefix = "policy/"

// Invalidate tells the Server that another replica changed the record key
// of space; an empty space means "anything may have changed" (a watch that
// was down). The caches that check the stored bytes on every read (roles,
// tokens, signing issuers) need nothing; what is held in memory without
// such a check is reloaded: the mount table, the ACL policies, a PKI
// mount's CRL and tidy configs and cached CRL entries. Certificates, the
// bulk of the writes, cost nothing here.
func (s *Server) Invalidate(space, key string) error {
	switch {
	case space == "":
		s.sec.policies.Invalidate()
		if err := s.syncMounts(); err != nil {
			return err
		}
		return s.invalidateCRLs("")
	case space == "sys" && strings.HasPrefix(key, mountPrefix):
		return s.syncMounts()
	case space == "sys" && strings.HasPrefix(key, policyPrefix):
		s.sec.policies.Invalidate()
		return nil
	case space == "sys", strings.HasPrefix(key, records.CertPrefix):
		return nil
	}
	return s.invalidateCRLs(space)
}

// invalidateCRLs reloads the CRL state of the PKI mount stored in space
// (every PKI mount when space is empty).
func (s *Server) invalidateCRLs(space string) error {
	s.mu.RLock()
	var todo []*pkiBackend
	for _, m := range s.mounts {
		if pb, ok := m.backend.(*pkiBackend); ok && (space == "" || m.entry.UUID == space) {
			todo = append(todo, pb)
		}
	}
	s.mu.RUnlock()
	for _, pb := range todo {
		if err := pb.crl.Invalidate(); err != nil {
			return err
		}
	}
	return nil
}

// syncMounts makes the mount table what the store says: mounts another
// replica enabled are built, those it disabled are retired (their data is
// already gone: the disabling replica dropped it), tuned entries are
// swapped in.
func (s *Server) syncMounts() error {
	stored := map[string]MountEntry{}
	err := s.sys.View(func(tx storage.Tx) error {
		return tx.Scan(mountPrefix, "", func(_ string, v []byte) error {
			var e MountEntry
			if err := jsonUnmarshal(v, &e); err != nil {
				return err
			}
			stored[e.Path] = e
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("api: reload mounts: %w", err)
	}
	retired, err := s.applyMounts(stored)
	for _, m := range retired {
		m.life.mu.Lock() // wait for the requests in flight on the mount
		m.life.gone = true
		m.life.mu.Unlock()
		m.backend.close()
	}
	return err
}

// applyMounts swaps the stored entries into the table and returns the
// mounts it removed.
func (s *Server) applyMounts(stored map[string]MountEntry) ([]*mount, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var retired []*mount
	for path, m := range s.mounts {
		e, ok := stored[path]
		switch {
		case !ok || e.UUID != m.entry.UUID:
			delete(s.mounts, path)
			retired = append(retired, m)
		case !reflect.DeepEqual(e, m.entry):
			updated := *m
			updated.entry = e
			s.mounts[path] = &updated
		}
	}
	for path, e := range stored {
		if _, ok := s.mounts[path]; ok {
			continue
		}
		m, err := s.newMount(e)
		if err != nil {
			return retired, fmt.Errorf("api: mount %s: %w", path, err)
		}
		s.mounts[path] = m
	}
	return retired, nil
}
