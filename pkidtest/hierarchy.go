package pkidtest

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"
)

// Hierarchy is the tutorial's two-tier CA, as BuildHierarchy makes it.
type Hierarchy struct {
	RootMount, IntMount, Role string // "pki_root", "pki_int", "internal-services"
	Root, Intermediate        *x509.Certificate
	// Roots trusts only the root, as a relying party of the CA would.
	Roots *x509.CertPool
	// Intermediates holds the intermediate, for x509.VerifyOptions.
	Intermediates *x509.CertPool
}

// BuildHierarchy makes the tutorial's hierarchy in one call, with P-256
// keys throughout (fast to make): a root in pki_root (10 years), an
// intermediate in pki_int (3 years) signed by it and installed with
// set-signed, and the role internal-services (allowed_domains
// internal.example.com and svc.cluster.local with subdomains, ttl 1h,
// max_ttl 168h, ServerAuth and ClientAuth).
func (s *Server) BuildHierarchy(t testing.TB) *Hierarchy {
	t.Helper()
	h := &Hierarchy{RootMount: "pki_root", IntMount: "pki_int", Role: "internal-services"}
	s.EnablePKI(t, h.RootMount, 87600*time.Hour)
	s.EnablePKI(t, h.IntMount, 26280*time.Hour)
	root := s.Write(t, h.RootMount+"/root/generate/internal", map[string]any{
		"common_name": "My Organization Root CA", "issuer_name": "root-2024",
		"key_type": "ec", "key_bits": 256, "ttl": "87600h",
	})
	csr := s.Write(t, h.IntMount+"/intermediate/generate/internal", map[string]any{
		"common_name": "My Organization Intermediate CA", "issuer_name": "intermediate-2024",
		"key_type": "ec", "key_bits": 256,
	})
	signed := s.Write(t, h.RootMount+"/root/sign-intermediate", map[string]any{
		"csr": csr["csr"], "format": "pem_bundle", "ttl": "26280h",
	})
	s.Write(t, h.IntMount+"/intermediate/set-signed", map[string]any{"certificate": signed["certificate"]})
	s.Write(t, h.IntMount+"/roles/"+h.Role, map[string]any{
		"allowed_domains": "internal.example.com,svc.cluster.local", "allow_subdomains": true,
		"max_ttl": "168h", "ttl": "1h", "key_type": "ec", "key_bits": 256,
		"key_usage": "DigitalSignature", "ext_key_usage": "ServerAuth,ClientAuth",
	})
	h.Root = parseCert(t, root["certificate"])
	h.Intermediate = parseCert(t, signed["certificate"])
	h.Roots, h.Intermediates = x509.NewCertPool(), x509.NewCertPool()
	h.Roots.AddCert(h.Root)
	h.Intermediates.AddCert(h.Intermediate)
	return h
}

// Write is a vault/api write with the root token that fails the test on
// error; it returns the answer's data (nil for a 204).
func (s *Server) Write(t testing.TB, path string, data map[string]any) map[string]any {
	t.Helper()
	sec, err := s.root.Logical().WriteWithContext(context.Background(), path, data)
	if err != nil {
		t.Fatalf("pkidtest: write %s: %v", path, err)
	}
	if sec == nil {
		return nil
	}
	return sec.Data
}

// parseCert reads the first certificate of a PEM text.
func parseCert(t testing.TB, v any) *x509.Certificate {
	t.Helper()
	text, _ := v.(string)
	block, _ := pem.Decode([]byte(text))
	if block == nil {
		t.Fatalf("pkidtest: no PEM certificate in %q", text)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("pkidtest: parse certificate: %v", err)
	}
	return c
}
