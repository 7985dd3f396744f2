// Package example is a user's module testing its certificate code against
// pkid, importing pkidtest exactly as it would from the module proxy.
package example

import (
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"

	"github.com/pkid-dev/pkid/pkidtest"
)

func TestIssuedCertificateChainsAndExpires(t *testing.T) {
	srv := pkidtest.Start(t, pkidtest.Options{InMemory: true, TestDouble: true})
	h := srv.BuildHierarchy(t)
	c := srv.Client(t)

	sec, err := c.Logical().Write(h.IntMount+"/issue/"+h.Role, map[string]any{
		"common_name": "billing.internal.example.com", "ttl": "1h",
	})
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(sec.Data["certificate"].(string)))
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	opts := x509.VerifyOptions{DNSName: "billing.internal.example.com", Roots: h.Roots, Intermediates: h.Intermediates}
	if _, err := leaf.Verify(opts); err != nil {
		t.Fatalf("leaf does not verify against the root: %v", err)
	}

	// Two hours later the certificate has expired, on the server's clock.
	clk := srv.Clock(t)
	clk.Advance(2 * time.Hour)
	opts.CurrentTime = clk.Now()
	if _, err := leaf.Verify(opts); err == nil {
		t.Fatal("a 1h certificate still verifies two hours later")
	}
}
