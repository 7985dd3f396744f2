package etcdstore

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sort"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pkid-dev/pkid/storage"
)

// etcdTx is one run of a transaction's fn. Reads go to etcd at one
// revision (that of the first read) and are remembered for the commit's
// compares; writes are buffered and visible to the transaction's own
// later reads.
type etcdTx struct {
	e        *Engine
	space    string
	base     string // the space's key prefix
	writable bool
	rev      int64 // 0 until the first read
	err      error // the first failed read; the transaction then fails

	reads  map[string]int64 // key → mod revision seen (0: absent)
	ranges []readRange
	writes map[string]*[]byte // key → value, nil: deleted
	order  []string           // keys of writes, first write first
}

// readRange is a scanned key range [from, to) of the space, as of the
// transaction's revision.
type readRange struct{ from, to string }

// scanPage is how many keys a Scan fetches per request.
const scanPage = 256

func (e *Engine) newTx(space string, writable bool) *etcdTx {
	return &etcdTx{
		e: e, space: space, base: e.spaceKey(space), writable: writable,
		reads: map[string]int64{}, writes: map[string]*[]byte{},
	}
}

// get runs one range request at the transaction's revision.
func (t *etcdTx) get(key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	if t.err != nil {
		return nil, t.err
	}
	ctx, cancel := t.e.ctx()
	defer cancel()
	var resp *clientv3.GetResponse
	var err error
	if t.rev != 0 {
		// Pinned to the revision of the first (linearizable) read, later
		// reads need no quorum round: a member serves them from its own
		// data, unless it has not applied that revision yet.
		opts = append(opts, clientv3.WithRev(t.rev))
		resp, err = t.e.cli.Get(ctx, key, append(opts, clientv3.WithSerializable())...)
		if errors.Is(err, rpctypes.ErrFutureRev) {
			resp, err = t.e.cli.Get(ctx, key, opts...)
		}
	} else {
		resp, err = t.e.cli.Get(ctx, key, opts...)
	}
	if err != nil {
		t.err = wrap("read "+t.space, err)
		return nil, t.err
	}
	if t.rev == 0 {
		t.rev = resp.Header.Revision
	}
	return resp, nil
}

func (t *etcdTx) Get(key string) []byte {
	if v, ok := t.writes[key]; ok {
		if v == nil {
			return nil
		}
		return bytes.Clone(*v)
	}
	resp, err := t.get(t.base + key)
	if err != nil {
		return nil
	}
	if len(resp.Kvs) == 0 {
		t.reads[key] = 0
		return nil
	}
	kv := resp.Kvs[0]
	t.reads[key] = kv.ModRevision
	if kv.Value == nil {
		return []byte{} // an empty value is a value, not an absent key
	}
	return kv.Value
}

func (t *etcdTx) Put(key string, value []byte) error {
	if !t.writable {
		return fmt.Errorf("storage: put %s: %w", key, storage.ErrReadOnly)
	}
	v := bytes.Clone(value)
	if v == nil {
		v = []byte{}
	}
	t.write(key, &v)
	return nil
}

func (t *etcdTx) Delete(key string) error {
	if !t.writable {
		return fmt.Errorf("storage: delete %s: %w", key, storage.ErrReadOnly)
	}
	t.write(key, nil)
	return nil
}

func (t *etcdTx) write(key string, v *[]byte) {
	if _, ok := t.writes[key]; !ok {
		t.order = append(t.order, key)
	}
	t.writes[key] = v
}

func (t *etcdTx) Keys(prefix, after string, limit int) ([]string, error) {
	return storage.KeysByScan(t, prefix, after, limit)
}

// Scan pages through etcd and merges the transaction's own writes in. Each
// key is looked up in the write buffer when it is visited, so a delete or
// overwrite made by fn during the scan is seen.
func (t *etcdTx) Scan(prefix, after string, fn func(key string, value []byte) error) error {
	from := prefix + after
	if after != "" {
		from += "\x00" // strictly after
	}
	end := prefixEnd(prefix)
	for {
		kvs, more, err := t.page(from, end)
		if err != nil {
			return err
		}
		pageEnd := end
		if more {
			pageEnd = kvs[len(kvs)-1].key + "\x00"
		}
		done, next, err := t.visit(t.merge(kvs, from, pageEnd), prefix, fn)
		if err != nil {
			return err
		}
		if done {
			t.ranges = append(t.ranges, readRange{from, next})
			return nil
		}
		t.ranges = append(t.ranges, readRange{from, pageEnd})
		if !more {
			return nil
		}
		from = pageEnd
	}
}

type item struct {
	key string // space-relative
	val []byte
}

// page reads up to scanPage keys of [from, to); more reports a full page.
func (t *etcdTx) page(from, to string) ([]item, bool, error) {
	rangeEnd := t.base + to
	if to == "" {
		rangeEnd = prefixEnd(t.base)
	}
	resp, err := t.get(t.base+from, clientv3.WithRange(rangeEnd), clientv3.WithLimit(scanPage),
		clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend))
	if err != nil {
		return nil, false, err
	}
	out := make([]item, len(resp.Kvs))
	for i, kv := range resp.Kvs {
		k := string(kv.Key[len(t.base):])
		t.reads[k] = kv.ModRevision
		out[i] = item{key: k, val: kv.Value}
	}
	return out, resp.More, nil
}

// merge adds the buffered writes of [from, to) to a page, in key order.
func (t *etcdTx) merge(kvs []item, from, to string) []item {
	seen := make(map[string]bool, len(kvs))
	for _, kv := range kvs {
		seen[kv.key] = true
	}
	for k := range t.writes {
		if k >= from && (to == "" || k < to) && !seen[k] {
			kvs = append(kvs, item{key: k})
		}
	}
	sort.Slice(kvs, func(i, j int) bool { return kvs[i].key < kvs[j].key })
	return kvs
}

// visit calls fn over the page; done reports an early stop, with next the
// end of what was read.
func (t *etcdTx) visit(kvs []item, prefix string, fn func(string, []byte) error) (done bool, next string, err error) {
	for _, kv := range kvs {
		v := kv.val
		if w, ok := t.writes[kv.key]; ok {
			if w == nil {
				continue
			}
			v = *w
		}
		if v == nil {
			v = []byte{}
		}
		if err := fn(kv.key[len(prefix):], bytes.Clone(v)); err != nil {
			if errors.Is(err, storage.ErrStop) {
				return true, kv.key + "\x00", nil
			}
			return true, "", err
		}
	}
	return false, "", nil
}

// compares guard the commit: each key read still has the mod revision it
// had, and no key of a scanned range was written after the transaction's
// revision. Over max compares, the keys found by scans lose their own
// compares (their ranges still catch changes, not deletions).
func (t *etcdTx) compares(max int) []clientv3.Cmp {
	var cmps []clientv3.Cmp
	for _, r := range t.ranges {
		end := t.base + r.to
		if r.to == "" {
			end = prefixEnd(t.base)
		}
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(t.base+r.from), "<", t.rev+1).WithRange(end))
	}
	keys := make([]string, 0, len(t.reads))
	for k := range t.reads {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if len(cmps)+len(keys) > max {
		keys = slices.DeleteFunc(keys, t.inScannedRange)
	}
	for _, k := range keys {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(t.base+k), "=", t.reads[k]))
	}
	return cmps
}

func (t *etcdTx) inScannedRange(k string) bool {
	for _, r := range t.ranges {
		if k >= r.from && (r.to == "" || k < r.to) {
			return true
		}
	}
	return false
}

// prefixEnd is the first key after every key with prefix p ("" for an
// empty prefix: no upper bound).
func prefixEnd(p string) string {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1])
		}
	}
	return ""
}
