package storage

import "bytes"

// ValueIs reports whether the value at key is exactly want, where a nil
// want means the key is absent. It does not copy the stored value, so a
// cache can check that the records it was built from are unchanged at the
// cost of a byte comparison. A Tx that wraps another (package seal's)
// answers through its own ValueIs method, so values it passes through
// unchanged keep the cheap path.
func ValueIs(tx Tx, key string, want []byte) bool {
	var v []byte
	if vt, ok := tx.(interface{ ValueIs(string, []byte) bool }); ok {
		return vt.ValueIs(key, want)
	}
	if bt, ok := tx.(*boltTx); ok {
		if b := bt.b(); b != nil {
			v = b.Get([]byte(key))
		}
	} else {
		v = tx.Get(key)
	}
	return (v == nil) == (want == nil) && bytes.Equal(v, want)
}
