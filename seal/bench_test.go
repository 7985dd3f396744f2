package seal

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkid-dev/pkid/storage"
)

// BenchmarkDerive is the start-up cost of a passphrase at DefaultParams
// (run with -benchtime=1x -count=5 for single derivations).
func BenchmarkDerive(b *testing.B) {
	s := pass(b, "correct horse battery staple")
	salt := make([]byte, saltLen)
	for b.Loop() {
		if _, err := s.Derive(salt, DefaultParams); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGet reads a P-256 key record (about 330 bytes of JSON) in a
// bbolt view, sealed and in the clear: the difference is what sealing adds
// to each read of a CA key.
func BenchmarkGet(b *testing.B) {
	value := `{"version":1,"id":"5f0e6a4c","name":"","private_key_type":"ec","private_key":"-----BEGIN EC PRIVATE KEY-----\n` +
		strings.Repeat("A", 160) + `\n-----END EC PRIVATE KEY-----\n"}`
	for _, sealed := range []bool{false, true} {
		name := "clear"
		if sealed {
			name = "sealed"
		}
		b.Run(name, func(b *testing.B) {
			var eng storage.Engine = openBolt(b, filepath.Join(b.TempDir(), "b.db"))
			defer eng.Close()
			if sealed {
				eng = mustOpen(b, eng, pass(b, "p"))
			}
			put(b, eng, "m", keyRec, value)
			b.ReportAllocs()
			for b.Loop() {
				err := eng.View("m", func(tx storage.Tx) error {
					if len(tx.Get(keyRec)) != len(value) {
						b.Fatal("bad value")
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
