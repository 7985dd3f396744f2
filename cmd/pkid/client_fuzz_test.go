package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzKVData feeds the key=value builder arbitrary arguments and stdin: it
// must never panic, and whatever it accepts must encode as a JSON body.
func FuzzKVData(f *testing.F) {
	f.Add("common_name=a.example.com", "ttl=24h", "")
	f.Add("k=1", "k=2", "")
	f.Add("-", "x=y", `{"x": 1, "n": [1, 2]}`)
	f.Add("token=-", "v=x", "secret\n")
	f.Add("=", "==", "")
	f.Add("-", "-", "{}")
	f.Add("@", "a=@", "")
	f.Fuzz(func(t *testing.T, a, b, stdin string) {
		for _, arg := range []string{a, b} {
			// @name reads a file; fuzzed names could be /dev/zero.
			if i := strings.IndexByte(arg, '@'); i >= 0 && i < len(arg)-1 {
				t.Skip("file arguments read the filesystem")
			}
		}
		data, err := kvData(strings.NewReader(stdin), []string{a, b})
		if err != nil {
			return
		}
		if _, err := json.Marshal(data); err != nil {
			t.Fatalf("accepted %q %q but cannot encode: %v", a, b, err)
		}
	})
}
