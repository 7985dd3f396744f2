package ca

import (
	"bytes"
	"errors"
	"sync"

	"github.com/pkid-dev/pkid/storage"
)

// signingCache keeps resolved signing issuers (what loadIssuer returns)
// together with every storage read they were resolved from: the default
// issuer setting, the issuer and key records, config/urls, config/cluster,
// and for a name reference the whole list of issuers. A lookup repeats
// those reads as byte comparisons in the caller's transaction and serves
// the entry only when every record is byte-for-byte what it was, so a
// change to any of them (a new default, a revoked or renamed issuer, new
// usages, URLs, a deleted key) takes effect on the very next issue, with
// no invalidation to forget. It spares each issue the JSON decoding of
// those records and the rebuilding of chain and URLs (~10% of the CPU of a
// P-256 issue).
//
// Only successful resolutions are cached; errors are rare and resolved
// afresh each time.
type signingCache struct {
	mu sync.RWMutex
	m  map[signingKey]*signingEntry
}

type signingKey struct {
	ref   string // as normalized by NormalizeRef
	usage Usage
}

type signingEntry struct {
	reads []storageRead
	si    *SigningIssuer
}

// storageRead is one read a resolution made: a Get of key (value nil when
// absent) or, with scan set, a whole Scan of the prefix key.
type storageRead struct {
	key   string
	value []byte
	scan  bool
	items []scanItem
}

type scanItem struct {
	key   string
	value []byte
}

// maxSigningEntries bounds the cache (references come from URLs); past it
// the cache starts over.
const maxSigningEntries = 256

// get returns the cached issuer for ref and usage if every record it was
// resolved from is unchanged in tx, else nil.
func (c *signingCache) get(tx storage.Tx, ref string, usage Usage) *SigningIssuer {
	c.mu.RLock()
	e := c.m[signingKey{ref, usage}]
	c.mu.RUnlock()
	if e == nil || !e.valid(tx) {
		return nil
	}
	return e.si
}

func (c *signingCache) put(ref string, usage Usage, reads []storageRead, si *SigningIssuer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxSigningEntries {
		c.m = map[signingKey]*signingEntry{}
	}
	c.m[signingKey{ref, usage}] = &signingEntry{reads: reads, si: si}
}

var errChanged = errors.New("ca: record changed")

func (e *signingEntry) valid(tx storage.Tx) bool {
	for i := range e.reads {
		r := &e.reads[i]
		if !r.scan {
			if !storage.ValueIs(tx, r.key, r.value) {
				return false
			}
			continue
		}
		n := 0
		err := tx.Scan(r.key, "", func(k string, v []byte) error {
			if n >= len(r.items) || r.items[n].key != k || !bytes.Equal(r.items[n].value, v) {
				return errChanged
			}
			n++
			return nil
		})
		if err != nil || n != len(r.items) {
			return false
		}
	}
	return true
}

// recordingTx is a read-only storage.Tx that records the reads made
// through it. Anything it cannot replay (a partial scan, Keys, a write)
// makes the result uncacheable.
type recordingTx struct {
	tx          storage.Tx
	reads       []storageRead
	uncacheable bool
}

func (r *recordingTx) Get(key string) []byte {
	v := r.tx.Get(key)
	r.reads = append(r.reads, storageRead{key: key, value: bytes.Clone(v)})
	return v
}

func (r *recordingTx) Scan(prefix, after string, fn func(key string, value []byte) error) error {
	var items []scanItem
	complete := true
	err := r.tx.Scan(prefix, after, func(k string, v []byte) error {
		items = append(items, scanItem{key: k, value: bytes.Clone(v)})
		err := fn(k, v)
		if err != nil {
			complete = false
		}
		return err
	})
	if err != nil || !complete || after != "" {
		r.uncacheable = true
	} else {
		r.reads = append(r.reads, storageRead{key: prefix, scan: true, items: items})
	}
	return err
}

func (r *recordingTx) Keys(prefix, after string, limit int) ([]string, error) {
	r.uncacheable = true
	return r.tx.Keys(prefix, after, limit)
}

func (r *recordingTx) Put(key string, value []byte) error {
	r.uncacheable = true
	return r.tx.Put(key, value)
}

func (r *recordingTx) Delete(key string) error {
	r.uncacheable = true
	return r.tx.Delete(key)
}
