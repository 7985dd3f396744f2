package seal_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	vault "github.com/hashicorp/vault/api"

	"github.com/pkid-dev/pkid/pkidtest"
	"github.com/pkid-dev/pkid/seal"
)

func write(t *testing.T, c *vault.Client, path string, data map[string]any) map[string]any {
	t.Helper()
	sec, err := c.Logical().Write(path, data)
	if err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	if sec == nil {
		return nil
	}
	return sec.Data
}

func start(t *testing.T, dir, passphrase string) *pkidtest.Server {
	t.Helper()
	srv, err := pkidtest.New(pkidtest.Options{DataDir: dir, SealPassphrase: passphrase})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// buildCA makes a root in pki/ and an intermediate in pki_int/ signed by
// it, both with exported EC keys, and a role "web" on the intermediate. It
// returns the two CA keys (PEM) and one issued leaf's key.
func buildCA(t *testing.T, srv *pkidtest.Server) (rootKey, intKey, leafKey string) {
	t.Helper()
	c := srv.Client(t)
	srv.EnablePKI(t, "pki", 0)
	srv.EnablePKI(t, "pki_int", 0)
	root := write(t, c, "pki/root/generate/exported", map[string]any{"common_name": "Sealed Root", "key_type": "ec", "ttl": "8760h"})
	inter := write(t, c, "pki_int/intermediate/generate/exported", map[string]any{"common_name": "Sealed Int", "key_type": "ec"})
	signed := write(t, c, "pki/root/sign-intermediate", map[string]any{"csr": inter["csr"], "ttl": "4380h", "format": "pem_bundle"})
	write(t, c, "pki_int/intermediate/set-signed", map[string]any{"certificate": signed["certificate"]})
	write(t, c, "pki_int/roles/web", map[string]any{"allowed_domains": "example.com", "allow_subdomains": true, "key_type": "ec", "max_ttl": "72h"})
	leaf := write(t, c, "pki_int/issue/web", map[string]any{"common_name": "www.example.com"})
	return root["private_key"].(string), inter["private_key"].(string), leaf["private_key"].(string)
}

// needles are the forms a private key's bytes could take in the data file:
// each line of its PEM body (as the JSON record holds it), its SEC1 and
// PKCS #8 DER, and the raw scalar D.
func needles(t *testing.T, keyPEM string) map[string][]byte {
	t.Helper()
	block, _ := pem.Decode([]byte(keyPEM))
	if block == nil {
		t.Fatalf("no PEM in %q", keyPEM)
	}
	var key *ecdsa.PrivateKey
	var err error
	if block.Type == "EC PRIVATE KEY" {
		key, err = x509.ParseECPrivateKey(block.Bytes)
	} else {
		var k any
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		key, _ = k.(*ecdsa.PrivateKey)
	}
	if err != nil || key == nil {
		t.Fatalf("parse %s: %v", block.Type, err)
	}
	sec1, _ := x509.MarshalECPrivateKey(key)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(key)
	d, err := key.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	n := map[string][]byte{"SEC1 DER": sec1, "PKCS8 DER": pkcs8, "scalar D": d}
	body := strings.Split(strings.TrimSpace(keyPEM), "\n")
	for i, line := range body[1 : len(body)-1] {
		n["PEM line "+string(rune('1'+i))] = []byte(line)
	}
	return n
}

func found(file []byte, n map[string][]byte) []string {
	var out []string
	for name, b := range n {
		if bytes.Contains(file, b) {
			out = append(out, name)
		}
	}
	return out
}

// TestKeysNotInFile builds a root and an intermediate, closes the server
// and greps the bbolt file for the CA keys' bytes. Sealed, no form of
// either key is there; unsealed, the same grep finds the PEM bodies, which
// shows it looks in the right place. An issued leaf's key is never stored
// in either case.
func TestKeysNotInFile(t *testing.T) {
	for _, tc := range []struct {
		name       string
		passphrase string
	}{
		{"sealed", "correct horse battery staple"},
		{"clear", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			srv := start(t, dir, tc.passphrase)
			rootKey, intKey, leafKey := buildCA(t, srv)
			if err := srv.Close(); err != nil {
				t.Fatal(err)
			}
			file, err := os.ReadFile(filepath.Join(dir, "pkid.db"))
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range []struct{ name, pem string }{{"root", rootKey}, {"intermediate", intKey}} {
				got := found(file, needles(t, k.pem))
				switch {
				case tc.passphrase != "" && len(got) > 0:
					t.Errorf("sealed file holds the %s key as %v", k.name, got)
				case tc.passphrase == "" && !strings.Contains(strings.Join(got, ","), "PEM line"):
					t.Errorf("clear file: the grep does not find the %s key's PEM (found %v)", k.name, got)
				}
				t.Logf("%s key: found %v", k.name, got)
			}
			if sealed := bytes.Count(file, []byte("\x00PS1")); (tc.passphrase != "") != (sealed > 0) {
				t.Errorf("%d sealed values in the file", sealed)
			}
			if got := found(file, needles(t, leafKey)); len(got) > 0 {
				t.Errorf("an issued leaf key is in the file as %v", got)
			}
		})
	}
}

// TestSealedRestart: a sealed server restarted with its passphrase issues
// from the intermediate it made before; with another passphrase it does
// not start.
func TestSealedRestart(t *testing.T) {
	dir := t.TempDir()
	srv := start(t, dir, "first")
	buildCA(t, srv)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}

	if _, err := pkidtest.New(pkidtest.Options{DataDir: dir, SealPassphrase: "second"}); !errors.Is(err, seal.ErrWrongSecret) {
		t.Fatalf("wrong passphrase: %v", err)
	}

	srv = start(t, dir, "first")
	defer srv.Close()
	c := srv.Client(t)
	leaf := write(t, c, "pki_int/issue/web", map[string]any{"common_name": "api.example.com"})
	block, _ := pem.Decode([]byte(leaf["certificate"].(string)))
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	block, _ = pem.Decode([]byte(leaf["issuing_ca"].(string)))
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if err := cert.CheckSignatureFrom(ca); err != nil || ca.Subject.CommonName != "Sealed Int" {
		t.Fatalf("issued after restart by %q: %v", ca.Subject.CommonName, err)
	}
	// The CA keys are still served where Vault serves them: a key read
	// shows no private key, and the intermediate key signs (above).
	keys, err := c.Logical().List("pki_int/keys")
	if err != nil || keys == nil {
		t.Fatalf("list keys: %v", err)
	}
}

// TestSealExisting: a store written in the clear is sealed at the next
// start with a passphrase. The records are sealed; whether the clear bytes
// linger in bbolt's free pages is logged (bbolt does not zero them).
func TestSealExisting(t *testing.T) {
	dir := t.TempDir()
	srv := start(t, dir, "")
	rootKey, intKey, _ := buildCA(t, srv)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	srv = start(t, dir, "now sealed")
	c := srv.Client(t)
	write(t, c, "pki_int/issue/web", map[string]any{"common_name": "after.example.com"})
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err := pkidtest.New(pkidtest.Options{DataDir: dir}); !errors.Is(err, seal.ErrSealed) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("sealed data opened without a passphrase: %v", err)
	}
	file, err := os.ReadFile(filepath.Join(dir, "pkid.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []struct{ name, pem string }{{"root", rootKey}, {"intermediate", intKey}} {
		t.Logf("%s key bytes left in the file after sealing: %v", k.name, found(file, needles(t, k.pem)))
	}
}
