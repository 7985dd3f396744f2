package vaultcli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// checkOutcome checks that the replay left pkid where the tutorial says
// it should be.
func (r *replay) checkOutcome() {
	t := r.t
	t.Helper()
	roots := x509.NewCertPool()
	rootPEM, err := os.ReadFile("root_ca.crt")
	if err != nil || !roots.AppendCertsFromPEM(rootPEM) {
		t.Fatalf("root_ca.crt: %v", err)
	}
	for _, f := range []string{"intermediate.crt", "intermediate_v2.crt"} {
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode(text)
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if _, err := cert.Verify(x509.VerifyOptions{Roots: roots}); err != nil {
			t.Errorf("%s does not chain to root_ca.crt: %v", f, err)
		}
	}
	if r.issued == "" || r.signed == "" {
		t.Fatalf("issued %q signed %q: a step did not run", r.issued, r.signed)
	}
	revoked, err := r.c.Logical().List("pki_int/certs/revoked")
	if err != nil || revoked == nil || !slices.Contains(anyStrings(revoked.Data["keys"]), r.issued) {
		t.Errorf("certs/revoked lacks %s: %v %v", r.issued, revoked, err)
	}
	// The revoked certificate came from the first intermediate; after the
	// rotation pki_int/crl is the new default issuer's.
	out, err := r.curl([]string{"-s", r.srv.URL + "/v1/pki_int/issuer/intermediate-2024/crl/der"})
	if err != nil {
		t.Fatal(err)
	}
	listing, err := openssl([]string{"crl", "-inform", "DER", "-text"}, out)
	want := serialHex(r.issued)
	if err != nil || !strings.Contains(listing, want) {
		t.Errorf("CRL lacks %s: %v\n%s", want, err, listing)
	}
	def, err := r.c.Logical().Read("pki_int/issuer/default")
	if err != nil || def.Data["issuer_name"] != "intermediate-2027" {
		t.Errorf("default issuer after rotation: %v %v", def, err)
	}
	for _, p := range []string{"cert-manager-policy", "root-ca-policy"} {
		if pol, err := r.c.Sys().GetPolicy(p); err != nil || pol == "" {
			t.Errorf("policy %s: %q %v", p, pol, err)
		}
	}
	if fi, err := os.Stat(filepath.Join(r.dir, "log", "audit.log")); err != nil || fi.Size() == 0 {
		t.Errorf("audit log: %v", err)
	}
}

// serialHex is a colon-separated serial as %X prints its number.
func serialHex(serial string) string {
	return strings.ToUpper(strings.TrimLeft(strings.ReplaceAll(serial, ":", ""), "0"))
}

func anyStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// writeKubernetesCA makes the file the tutorial reads from a pod's service
// account folder: a self-signed CA certificate, as a cluster's is.
func writeKubernetesCA(t *testing.T, path string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kubernetes"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
}
