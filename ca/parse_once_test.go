package ca

import (
	"testing"
)

// A generated root's certificate and key are cached as the very objects
// generation made: neither the chain rebuild in its write transaction nor
// the issues that follow parse the stored PEM again.
func TestGeneratedRootIsNotParsedAgain(t *testing.T) {
	t.Parallel()
	c := newTestCA(t)
	res := c.ecRoot(t, "once")
	si, err := c.SigningIssuer(res.IssuerID)
	if err != nil {
		t.Fatal(err)
	}
	if si.Cert != res.Cert {
		t.Error("the issuer's certificate was parsed again from storage")
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if len(c.certs) != 1 || len(c.signers) != 1 {
		t.Errorf("cache holds %d certificates and %d keys, want one of each", len(c.certs), len(c.signers))
	}
}
