package token

import (
	"encoding/json"
	"fmt"
	"sync"

	"github.com/pkid-dev/pkid/storage"
)

// entryCache keeps decoded token entries with the stored bytes they were
// decoded from. Every lookup still reads the record in its own transaction
// and compares the bytes, so a revoked token (record gone), a counted use
// or a renewal (record rewritten) is seen by the very next request, and
// expiry is still checked against the clock on each lookup: the cache only
// spares the JSON decoding of the entry on every authenticated request.
type entryCache struct {
	mu sync.RWMutex
	m  map[string]cachedEntry // by token hash
}

type cachedEntry struct {
	raw []byte
	e   Entry
}

// maxCachedEntries bounds the cache; past it the cache starts over.
const maxCachedEntries = 4096

// getEntry returns the stored entry with hash h (a copy the caller may
// change), or nil when there is none.
func (s *Store) getEntry(tx storage.Tx, h string) (*Entry, error) {
	key := idPrefix + h
	s.cache.mu.RLock()
	c, ok := s.cache.m[h]
	s.cache.mu.RUnlock()
	if ok && storage.ValueIs(tx, key, c.raw) {
		e := c.e
		return &e, nil
	}
	raw := tx.Get(key)
	if raw == nil {
		return nil, nil
	}
	var e Entry
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, fmt.Errorf("storage: decode %s: %w", key, err)
	}
	s.cache.mu.Lock()
	if s.cache.m == nil || len(s.cache.m) >= maxCachedEntries {
		s.cache.m = map[string]cachedEntry{}
	}
	s.cache.m[h] = cachedEntry{raw: raw, e: e}
	s.cache.mu.Unlock()
	out := e
	return &out, nil
}
