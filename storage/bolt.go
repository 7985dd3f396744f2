package storage

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// boltEngine keeps every space as a bucket of one bbolt file, with a group
// committer for Commit.
type boltEngine struct {
	db        *bolt.DB
	committer *committer
}

func openBolt(path string, opts Options) (*boltEngine, error) {
	timeout := opts.LockTimeout
	switch {
	case timeout == 0:
		timeout = time.Second
	case timeout < 0:
		timeout = time.Nanosecond
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:        timeout,
		NoSync:         opts.NoSync,
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("%w: %s", ErrLocked, path)
		}
		// os.PathError already names the file: say it once.
		var pe *os.PathError
		if errors.As(err, &pe) && pe.Path == path {
			return nil, fmt.Errorf("storage: open %s: %w", path, pe.Err)
		}
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	if err := initSchema(db); err != nil {
		db.Close()
		return nil, err
	}
	maxBatch := opts.MaxBatch
	if maxBatch <= 0 {
		maxBatch = 256
	}
	return &boltEngine{db: db, committer: newCommitter(db, maxBatch)}, nil
}

func initSchema(db *bolt.DB) error {
	return db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(metaBucket))
		if err != nil {
			return fmt.Errorf("storage: create meta bucket: %w", err)
		}
		v := b.Get([]byte(schemaVersionKey))
		if v == nil {
			return b.Put([]byte(schemaVersionKey), []byte(strconv.Itoa(SchemaVersion)))
		}
		n, err := strconv.Atoi(string(v))
		if err != nil {
			return fmt.Errorf("storage: unreadable schema version %q", v)
		}
		if n > SchemaVersion {
			return fmt.Errorf("%w (schema %d, this build knows %d)", ErrNewerSchema, n, SchemaVersion)
		}
		return nil
	})
}

func bucketName(space string) []byte { return []byte(spacePrefix + space) }

func (e *boltEngine) View(space string, fn func(Tx) error) error {
	return e.db.View(func(tx *bolt.Tx) error {
		return fn(&boltTx{tx: tx, bucket: bucketName(space)})
	})
}

func (e *boltEngine) Update(space string, fn func(Tx) error) error {
	return e.db.Update(func(tx *bolt.Tx) error {
		return fn(&boltTx{tx: tx, bucket: bucketName(space), writable: true})
	})
}

func (e *boltEngine) Commit(space string, fn func(Tx) error) error {
	bucket := bucketName(space)
	return e.committer.commit(func(tx *bolt.Tx) error {
		return fn(&boltTx{tx: tx, bucket: bucket, writable: true})
	})
}

func (e *boltEngine) DropSpace(space string) error {
	return e.db.Update(func(tx *bolt.Tx) error {
		err := tx.DeleteBucket(bucketName(space))
		if errors.Is(err, berrors.ErrBucketNotFound) {
			return nil
		}
		return err
	})
}

// Spaces implements SpaceLister.
func (e *boltEngine) Spaces() ([]string, error) {
	var out []string
	err := e.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			if s, ok := bytes.CutPrefix(name, []byte(spacePrefix)); ok {
				out = append(out, string(s))
			}
			return nil
		})
	})
	return out, err
}

// Check returns the first few problems bbolt's consistency check finds,
// joined.
func (e *boltEngine) Check() error {
	const maxReported = 10
	return e.db.View(func(tx *bolt.Tx) error {
		var errs []error
		// Drain the channel even after maxReported: the checker goroutine
		// reads pages of this transaction and would otherwise block on its
		// next send after the transaction has closed.
		for err := range tx.Check() {
			if len(errs) < maxReported {
				errs = append(errs, err)
			}
		}
		if len(errs) > 0 {
			return fmt.Errorf("storage: consistency check: %w", errors.Join(errs...))
		}
		return nil
	})
}

func (e *boltEngine) Close() error {
	e.committer.close()
	return e.db.Close()
}

type boltTx struct {
	tx       *bolt.Tx
	bucket   []byte
	writable bool
	// open is the space's bucket once looked up: opening it costs an
	// allocation per call in a read-only transaction, and the issue path
	// reads a dozen records per request.
	open *bolt.Bucket
}

func (t *boltTx) b() *bolt.Bucket {
	if t.open == nil {
		t.open = t.tx.Bucket(t.bucket)
	}
	return t.open
}

func (t *boltTx) Get(key string) []byte {
	b := t.b()
	if b == nil {
		return nil
	}
	v := b.Get([]byte(key))
	if v == nil {
		return nil
	}
	return bytes.Clone(v)
}

func (t *boltTx) Put(key string, value []byte) error {
	b := t.b()
	if b == nil {
		var err error
		if b, err = t.tx.CreateBucketIfNotExists(t.bucket); err != nil {
			return fmt.Errorf("storage: create space: %w", err)
		}
		t.open = b
	}
	if err := b.Put([]byte(key), value); err != nil {
		return fmt.Errorf("storage: put %s: %w", key, err)
	}
	return nil
}

func (t *boltTx) Delete(key string) error {
	b := t.b()
	if b == nil {
		return nil
	}
	if err := b.Delete([]byte(key)); err != nil {
		return fmt.Errorf("storage: delete %s: %w", key, err)
	}
	return nil
}

func (t *boltTx) Keys(prefix, after string, limit int) ([]string, error) {
	return KeysByScan(t, prefix, after, limit)
}

func (t *boltTx) Scan(prefix, after string, fn func(key string, value []byte) error) error {
	b := t.b()
	if b == nil {
		return nil
	}
	c := b.Cursor()
	p := []byte(prefix)
	start := p
	if after != "" {
		start = append(append([]byte{}, p...), after...)
	}
	for k, v := c.Seek(start); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		rest := string(k[len(p):])
		if after != "" && rest <= after {
			continue
		}
		if err := fn(rest, v); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
	return nil
}
