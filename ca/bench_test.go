package ca

import (
	"context"
	"testing"
	"time"
)

// BenchmarkGenerateRoot measures root/generate end to end: key generation,
// self-signing and the storage transaction (fsync off).
func BenchmarkGenerateRoot(b *testing.B) {
	for _, k := range []struct {
		name string
		typ  string
		bits int
	}{
		{"rsa-2048", "rsa", 2048},
		{"rsa-4096", "rsa", 4096},
		{"ec-256", "ec", 256},
		{"ec-384", "ec", 384},
		{"ed25519", "ed25519", 0},
	} {
		b.Run(k.name, func(b *testing.B) {
			req := RootRequest{NameFields: NameFields{CommonName: "Bench Root"},
				KeyFields: KeyFields{KeyType: str(k.typ), KeyBits: intp(k.bits)}, ValidityFields: ValidityFields{TTL: 87600 * time.Hour}}
			var c *testCA
			n := 0
			for b.Loop() {
				// A mount holds a handful of roots, not thousands: start
				// a fresh one every 20 so the loop measures generation.
				if n%20 == 0 {
					b.StopTimer()
					c = newTestCA(b)
					b.StartTimer()
				}
				n++
				req.CommonName = "Bench Root " + itoa(n)
				if _, err := c.GenerateRoot(context.Background(), ModeInternal, false, &req, bigTTLs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSignIntermediate measures root/sign-intermediate: CSR checks,
// signing and the certificate store write.
func BenchmarkSignIntermediate(b *testing.B) {
	for _, k := range []struct{ name, typ string }{{"ec-256", "ec"}, {"rsa-2048", "rsa"}} {
		b.Run(k.name, func(b *testing.B) {
			c := newTestCA(b)
			bits := 0
			if k.typ == "rsa" {
				bits = 2048
			}
			if _, err := c.GenerateRoot(context.Background(), ModeInternal, false, &RootRequest{
				NameFields: NameFields{CommonName: "Root"}, IssuerName: str("root"),
				KeyFields: KeyFields{KeyType: str(k.typ), KeyBits: intp(bits)}, ValidityFields: ValidityFields{TTL: 87600 * time.Hour},
			}, bigTTLs); err != nil {
				b.Fatal(err)
			}
			gen, err := c.GenerateIntermediate(context.Background(), ModeInternal, &IntermediateRequest{
				NameFields: NameFields{CommonName: "Int"}, KeyFields: KeyFields{KeyType: str("ec")}})
			if err != nil {
				b.Fatal(err)
			}
			req := SignIntermediateRequest{CSR: csrPEM(gen.CSR), ValidityFields: ValidityFields{TTL: 8760 * time.Hour}}
			b.ResetTimer()
			for b.Loop() {
				if _, err := c.SignIntermediate(context.Background(), "root", &req, bigTTLs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
