package seal

import (
	"bytes"
	"fmt"

	"github.com/pkid-dev/pkid/storage"
)

// View implements storage.Engine.
func (e *Engine) View(space string, fn func(storage.Tx) error) error {
	return e.inner.View(space, e.wrap(space, fn))
}

// Update implements storage.Engine.
func (e *Engine) Update(space string, fn func(storage.Tx) error) error {
	return e.inner.Update(space, e.wrap(space, fn))
}

// Commit implements storage.Engine.
func (e *Engine) Commit(space string, fn func(storage.Tx) error) error {
	return e.inner.Commit(space, e.wrap(space, fn))
}

// DropSpace implements storage.Engine.
func (e *Engine) DropSpace(space string) error { return e.inner.DropSpace(space) }

// Check implements storage.Engine.
func (e *Engine) Check() error { return e.inner.Check() }

// Close implements storage.Engine.
func (e *Engine) Close() error { return e.inner.Close() }

// Spaces implements storage.SpaceLister.
func (e *Engine) Spaces() ([]string, error) { return e.inner.(storage.SpaceLister).Spaces() }

// wrap runs fn over a sealing Tx. Tx.Get cannot return an error, so a
// sealed value that does not open makes Get return nil and the whole
// transaction fail with the opening error (a write transaction is then
// rolled back): whatever fn concluded from the missing value is discarded.
func (e *Engine) wrap(space string, fn func(storage.Tx) error) func(storage.Tx) error {
	return func(inner storage.Tx) error {
		t := &sealTx{e: e, inner: inner, space: space}
		err := fn(t)
		if t.err != nil {
			return t.err
		}
		return err
	}
}

type sealTx struct {
	e     *Engine
	inner storage.Tx
	space string
	err   error // the first value that did not open
}

func (t *sealTx) fail(err error) error {
	if t.err == nil {
		t.err = err
	}
	return err
}

// openRecord opens the stored value v of key. A key record in the clear is
// refused: Open sealed every one, so a clear one was put there behind
// pkid's back.
func (t *sealTx) openRecord(key string, v []byte) ([]byte, error) {
	if !isSealed(v) {
		return nil, t.fail(fmt.Errorf("%w: %s in space %s is stored in the clear in sealed data", ErrOpen, key, t.space))
	}
	p, err := t.e.open(recordAD(t.space, key), v)
	if err != nil {
		return nil, t.fail(fmt.Errorf("%w: %s in space %s (changed on disk, copied from another record, or sealed with another key)", ErrOpen, key, t.space))
	}
	return p, nil
}

func (t *sealTx) Get(key string) []byte {
	v := t.inner.Get(key)
	if v == nil || !sealedKey(t.space, key) {
		return v
	}
	p, err := t.openRecord(key, v)
	if err != nil {
		return nil
	}
	return p
}

func (t *sealTx) Put(key string, value []byte) error {
	if sealedKey(t.space, key) {
		sv, err := t.e.seal(recordAD(t.space, key), value)
		if err != nil {
			return err
		}
		value = sv
	}
	return t.inner.Put(key, value)
}

func (t *sealTx) Delete(key string) error { return t.inner.Delete(key) }

func (t *sealTx) Keys(prefix, after string, limit int) ([]string, error) {
	return t.inner.Keys(prefix, after, limit)
}

func (t *sealTx) Scan(prefix, after string, fn func(key string, value []byte) error) error {
	return t.inner.Scan(prefix, after, func(k string, v []byte) error {
		if full := prefix + k; sealedKey(t.space, full) {
			p, err := t.openRecord(full, v)
			if err != nil {
				return err
			}
			v = p
		}
		return fn(k, v)
	})
}

// ValueIs keeps storage.ValueIs's copy-free comparison for the records
// that are not sealed; a sealed one is opened and compared.
func (t *sealTx) ValueIs(key string, want []byte) bool {
	if !sealedKey(t.space, key) {
		return storage.ValueIs(t.inner, key, want)
	}
	v := t.Get(key)
	return (v == nil) == (want == nil) && bytes.Equal(v, want)
}

var (
	_ storage.Engine      = (*Engine)(nil)
	_ storage.SpaceLister = (*Engine)(nil)
)
