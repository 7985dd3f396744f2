package storage

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
)

// memEngine keeps spaces in maps, for tests that want no file at all. One
// writer at a time, readers in parallel; a failed write is undone from a log
// of the values it replaced.
type memEngine struct {
	mu     sync.RWMutex
	spaces map[string]*memSpace
	closed bool
}

type memSpace struct {
	vals map[string][]byte
	keys []string // sorted, the keys of vals
}

func newMemEngine() *memEngine { return &memEngine{spaces: map[string]*memSpace{}} }

func (e *memEngine) View(space string, fn func(Tx) error) error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return errClosed
	}
	return fn(&memTx{e: e, space: space})
}

func (e *memEngine) Update(space string, fn func(Tx) error) error {
	return e.write(space, fn)
}

// Commit is Update: with no fsync to share there is nothing to batch. A
// panic in fn becomes an error, as in the bbolt committer.
func (e *memEngine) Commit(space string, fn func(Tx) error) error {
	return e.write(space, func(tx Tx) (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("storage: panic in commit: %v", p)
			}
		}()
		return fn(tx)
	})
}

func (e *memEngine) write(space string, fn func(Tx) error) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return errClosed
	}
	tx := &memTx{e: e, space: space, writable: true}
	done := false
	defer func() {
		if !done { // fn failed or panicked
			tx.rollback()
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	done = true
	return nil
}

func (e *memEngine) DropSpace(space string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return errClosed
	}
	delete(e.spaces, space)
	return nil
}

func (e *memEngine) Check() error { return nil }

// Spaces implements SpaceLister.
func (e *memEngine) Spaces() ([]string, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make([]string, 0, len(e.spaces))
	for name := range e.spaces {
		out = append(out, name)
	}
	sort.Strings(out)
	return out, nil
}

func (e *memEngine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	return nil
}

// memTx runs under the engine's lock: shared for a view, exclusive for a
// write.
type memTx struct {
	e        *memEngine
	space    string
	writable bool
	undo     []memUndo
}

// memUndo is a key's value before a write changed it (nil: absent).
type memUndo struct {
	key string
	old []byte
}

func (t *memTx) sp() *memSpace { return t.e.spaces[t.space] }

func (t *memTx) Get(key string) []byte {
	sp := t.sp()
	if sp == nil {
		return nil
	}
	v, ok := sp.vals[key]
	if !ok {
		return nil
	}
	return bytes.Clone(v)
}

func (t *memTx) Put(key string, value []byte) error {
	if !t.writable {
		return fmt.Errorf("storage: put %s: %w", key, ErrReadOnly)
	}
	sp := t.sp()
	if sp == nil {
		sp = &memSpace{vals: map[string][]byte{}}
		t.e.spaces[t.space] = sp
	}
	t.undo = append(t.undo, memUndo{key: key, old: sp.vals[key]})
	sp.set(key, append([]byte{}, value...))
	return nil
}

func (t *memTx) Delete(key string) error {
	if !t.writable {
		return fmt.Errorf("storage: delete %s: %w", key, ErrReadOnly)
	}
	sp := t.sp()
	if sp == nil {
		return nil
	}
	if old, ok := sp.vals[key]; ok {
		t.undo = append(t.undo, memUndo{key: key, old: old})
		sp.remove(key)
	}
	return nil
}

func (t *memTx) Keys(prefix, after string, limit int) ([]string, error) {
	return KeysByScan(t, prefix, after, limit)
}

// Scan finds each next key by search rather than by position, so a write
// made by fn during the scan cannot make it skip or repeat a key.
func (t *memTx) Scan(prefix, after string, fn func(key string, value []byte) error) error {
	sp := t.sp()
	if sp == nil {
		return nil
	}
	from, strict := prefix+after, after != ""
	for {
		i := sort.SearchStrings(sp.keys, from)
		if strict && i < len(sp.keys) && sp.keys[i] == from {
			i++
		}
		if i >= len(sp.keys) || !strings.HasPrefix(sp.keys[i], prefix) {
			return nil
		}
		k := sp.keys[i]
		if err := fn(k[len(prefix):], bytes.Clone(sp.vals[k])); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
		from, strict = k, true
	}
}

// rollback undoes the transaction's writes, newest first.
func (t *memTx) rollback() {
	sp := t.sp()
	if sp == nil {
		return
	}
	for _, u := range slices.Backward(t.undo) {
		if u.old == nil {
			sp.remove(u.key)
		} else {
			sp.set(u.key, u.old)
		}
	}
	if len(sp.keys) == 0 {
		delete(t.e.spaces, t.space)
	}
}

func (sp *memSpace) set(key string, v []byte) {
	if _, ok := sp.vals[key]; !ok {
		i := sort.SearchStrings(sp.keys, key)
		sp.keys = slices.Insert(sp.keys, i, key)
	}
	sp.vals[key] = v
}

func (sp *memSpace) remove(key string) {
	delete(sp.vals, key)
	if i := sort.SearchStrings(sp.keys, key); i < len(sp.keys) && sp.keys[i] == key {
		sp.keys = slices.Delete(sp.keys, i, i+1)
	}
}
