package ca

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"net"
	"net/url"
	"slices"
	"testing"

	"github.com/pkid-dev/pkid/errs"
)

// FuzzSignCSR runs arbitrary DER through sign/:role and sign-verbatim on
// a permissive role: every answer is a certificate that verifies against
// the root or a client error (400); never a panic or an unexplained 500.
func FuzzSignCSR(f *testing.F) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, tmpl := range []*x509.CertificateRequest{
		{Subject: pkix.Name{CommonName: "a.example.com"}, DNSNames: []string{"b.example.com"}},
		{Subject: pkix.Name{CommonName: "x", SerialNumber: "7"}, EmailAddresses: []string{"me@example.com"},
			IPAddresses: []net.IP{net.ParseIP("10.0.0.1")}, URIs: []*url.URL{{Scheme: "spiffe", Host: "e", Path: "/w"}}},
		{ExtraExtensions: []pkix.Extension{{Id: []int{2, 5, 29, 19}, Value: []byte{0x30, 0x00}}}},
	} {
		der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(der)
	}
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x00})
	c := newTestCA(f)
	root := c.ecRoot(f, "root")
	c.putRole(f, "open", map[string]any{"allow_any_name": true, "enforce_hostnames": false, "key_type": "any",
		"require_cn": false, "allowed_uri_sans": "*", "allowed_other_sans": "*", "allowed_serial_numbers": "*",
		"allowed_user_ids": "*", "cn_validations": "disabled"})
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, der []byte) {
		csr := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
		sreq := DefaultSignRequest()
		sreq.CSR = csr
		vreq := DefaultVerbatimRequest()
		vreq.CSR = csr
		for _, sign := range []func() (*Leaf, error){
			func() (*Leaf, error) { return c.Sign(ctx, "open", &sreq, leafOpts) },
			func() (*Leaf, error) { return c.SignVerbatim(ctx, "", &vreq, leafOpts) },
		} {
			l, err := sign()
			switch {
			case err == nil:
				verify(t, l.Cert, root.Cert)
			case errs.KindOf(err) == errs.Invalid:
			case errs.KindOf(err) == errs.InvalidVault500 && len(errs.Message(err)) > 0:
				// Vault's own 500s ("unable to create certificate: ...")
			default:
				t.Fatalf("unexplained error: %v", err)
			}
		}
	})
}

// FuzzIssueRequest runs arbitrary LEAF-block values (spec §3.0) through
// issue/:role on a permissive and on a strict role: every answer is a
// certificate that verifies against the root, with its DNS SANs sorted and
// unique as Vault leaves them, or a client error (400) or one of Vault's own
// 500s; never a panic.
func FuzzIssueRequest(f *testing.F) {
	f.Add("a.example.com", "b.example.com, a.example.com", "10.0.0.1", "spiffe://e/w", "1.2.3;UTF8:v", "7", "u", "")
	f.Add("b*z.example.com", "*.example.com,me@example.com", "::1", "", "", "", "", "2030-01-01T00:00:00Z")
	f.Add("a..b", " ,,", "x", "%zz", ";", "", "", "garbage")
	f.Add("münchen.example.com", "xn--abc.example.com,é@example.com", "", "", "", "", "", "")
	c := newTestCA(f)
	root := c.ecRoot(f, "root")
	c.putRole(f, "open", map[string]any{"allow_any_name": true, "enforce_hostnames": false, "key_type": "ec",
		"require_cn": false, "allowed_uri_sans": "*", "allowed_other_sans": "*", "allowed_serial_numbers": "*",
		"allowed_user_ids": "*", "cn_validations": "disabled"})
	c.putRole(f, "strict", map[string]any{"allowed_domains": "example.com", "allow_subdomains": true,
		"allow_glob_domains": true, "key_type": "ec"})
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, cn, alt, ip, uri, other, serial, uid, notAfter string) {
		req := DefaultIssueRequest()
		req.CommonName, req.AltNames, req.NotAfter = cn, alt, notAfter
		req.IPSANs, req.URISANs, req.OtherSANs = []string{ip}, []string{uri}, []string{other}
		req.SerialNumber, req.UserIDs = serial, []string{uid}
		for _, role := range []string{"open", "strict"} {
			l, err := c.Issue(ctx, role, &req, leafOpts)
			switch {
			case err == nil:
				verify(t, l.Cert, root.Cert)
				if !slices.IsSorted(l.Cert.DNSNames) || len(slices.Compact(slices.Clone(l.Cert.DNSNames))) != len(l.Cert.DNSNames) {
					t.Fatalf("DNS SANs not sorted and unique: %q", l.Cert.DNSNames)
				}
			case errs.KindOf(err) == errs.Invalid:
			case errs.KindOf(err) == errs.InvalidVault500 && len(errs.Message(err)) > 0:
			default:
				t.Fatalf("%s: unexplained error: %v", role, err)
			}
		}
	})
}
