package pkidtest_test

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"time"

	"github.com/pkid-dev/pkid/pkidtest"
)

// A server outside a test (New and Close), with the PKI set up through the
// Vault client as a user's code would do it.
func ExampleNew() {
	srv, err := pkidtest.New(pkidtest.Options{InMemory: true})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	c, err := srv.NewClient()
	if err != nil {
		panic(err)
	}
	steps := []struct {
		path string
		data map[string]any
	}{
		{"sys/mounts/pki", map[string]any{"type": "pki"}},
		{"pki/root/generate/internal", map[string]any{"common_name": "example.com", "key_type": "ec", "ttl": "720h"}},
		{"pki/roles/web", map[string]any{"allowed_domains": "example.com", "allow_subdomains": true, "key_type": "ec"}},
	}
	for _, st := range steps {
		if _, err := c.Logical().Write(st.path, st.data); err != nil {
			panic(err)
		}
	}
	sec, err := c.Logical().Write("pki/issue/web", map[string]any{"common_name": "www.example.com", "ttl": "1h"})
	if err != nil {
		panic(err)
	}
	block, _ := pem.Decode([]byte(sec.Data["certificate"].(string)))
	leaf, _ := x509.ParseCertificate(block.Bytes)
	fmt.Println(leaf.Subject.CommonName, leaf.Issuer.CommonName, leaf.NotAfter.Sub(leaf.NotBefore).Truncate(time.Hour))
	// Output: www.example.com example.com 1h0m0s
}
