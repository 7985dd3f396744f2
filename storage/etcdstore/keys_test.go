package etcdstore

import "testing"

func TestPrefixEnd(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"certs/", "certs0"},
		{"a\xff", "b"},
		{"\xff\xff", ""},
		{"", ""},
	} {
		if got := prefixEnd(tc.in); got != tc.want {
			t.Errorf("prefixEnd(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestSplitKey: a space with a slash in its name is escaped in the key, so
// it comes back whole and never reads as another space's record.
func TestSplitKey(t *testing.T) {
	e := New(nil, Options{Prefix: "/pkid/"})
	for _, tc := range []struct{ space, key string }{
		{"sys", "mount/pki/"},
		{"a/b", "k"},
		{"9b1d-uuid", "certs/01-02"},
	} {
		space, key, ok := splitKey(e.prefix+"/", e.spaceKey(tc.space)+tc.key)
		if !ok || space != tc.space || key != tc.key {
			t.Errorf("splitKey of %q/%q = %q, %q, %v", tc.space, tc.key, space, key, ok)
		}
	}
	if _, _, ok := splitKey("/pkid/", "/other/sys/k"); ok {
		t.Error("a key outside the prefix was split")
	}
}
