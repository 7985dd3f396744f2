package ca

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"github.com/pkid-dev/pkid/records"
	"net"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/field"
	"github.com/pkid-dev/pkid/roles"
	"github.com/pkid-dev/pkid/storage"
)

// putRole writes a role as the API would from a request body.
func (c *testCA) putRole(t testing.TB, name string, raw map[string]any) *roles.Role {
	t.Helper()
	var req struct {
		roles.Settings
		PolicyIdentifiers string `json:"policy_identifiers"`
	}
	req.Settings = roles.DefaultSettings()
	if _, err := field.Decode(settingsGoNames(raw), &req); err != nil {
		t.Fatal(err)
	}
	var policies []string
	if req.PolicyIdentifiers != "" {
		var err error
		if policies, err = roles.PolicyEntries(req.PolicyIdentifiers); err != nil {
			t.Fatal(err)
		}
	}
	r, _, err := roles.New(name, req.Settings, policies)
	if err != nil {
		t.Fatal(err)
	}
	if err := records.NewRoles(c.cfg.Space).Put(r); err != nil {
		t.Fatal(err)
	}
	return r
}

// settingsGoNames renames raw's Vault keys to the Go names of the
// roles.Settings fields (allow_ip_sans is AllowIPSANs): the Vault schema
// lives in api, which ca tests cannot import.
func settingsGoNames(raw map[string]any) map[string]any {
	byKey := map[string]string{}
	var collect func(reflect.Type)
	collect = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			if f := t.Field(i); f.Anonymous {
				collect(f.Type)
			} else {
				byKey[strings.ToLower(f.Name)] = f.Name
			}
		}
	}
	collect(reflect.TypeOf(roles.Settings{}))
	out := make(map[string]any, len(raw))
	for k, v := range raw {
		if name, ok := byKey[strings.ReplaceAll(k, "_", "")]; ok {
			k = name
		}
		out[k] = v
	}
	return out
}

// issueReq is an issue request with Vault's defaults and the given fields.
func issueReq(cn string, edit ...func(*IssueRequest)) *IssueRequest {
	r := DefaultIssueRequest()
	r.CommonName = cn
	for _, e := range edit {
		e(&r)
	}
	return &r
}

var leafOpts = LeafOptions{TTLs: MountTTLs{Default: 768 * time.Hour, Max: 87600 * time.Hour}}

func leafCSR(t testing.TB, key crypto.Signer, tmpl *x509.CertificateRequest) string {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

// checkLeaf asserts what every leaf must be: chained to the root with the
// issuer's key identifiers, never a CA, validity as planned, stored unless
// no_store.
func (c *testCA) checkLeaf(t *testing.T, l *Leaf, root *x509.Certificate, inter ...*x509.Certificate) {
	t.Helper()
	verify(t, l.Cert, root, inter...)
	if l.Cert.IsCA {
		t.Error("leaf is a CA")
	}
	skid, _ := SubjectKeyID(l.Cert.PublicKey)
	if !bytes.Equal(l.Cert.SubjectKeyId, skid) || !bytes.Equal(l.Cert.AuthorityKeyId, l.Issuer.Cert.SubjectKeyId) {
		t.Error("key identifiers are not Vault's")
	}
	if !l.Cert.NotBefore.Equal(testNow.Add(-30 * time.Second).Truncate(time.Second)) {
		t.Errorf("NotBefore %s", l.Cert.NotBefore)
	}
	if l.Serial != records.FormatSerial(l.Cert.SerialNumber) || l.Cert.SerialNumber.BitLen() > 159 {
		t.Errorf("serial %s", l.Serial)
	}
	var der []byte
	_ = c.cfg.Space.View(func(tx storage.Tx) error { der = records.GetCert(tx, l.Serial); return nil })
	if l.Role.NoStore != (der == nil) || l.Stored == l.Role.NoStore {
		t.Errorf("stored=%v in store=%v no_store=%v", l.Stored, der != nil, l.Role.NoStore)
	}
	lintRFC5280(t, l.Cert)
}

func TestIssueKeyTypes(t *testing.T) {
	t.Parallel()
	c := newTestCA(t)
	root := c.ecRoot(t, "root")
	cases := []struct {
		role    map[string]any
		req     func(*IssueRequest)
		keyType string
		bits    int
	}{
		{map[string]any{"key_type": "rsa"}, nil, "rsa", 2048},
		{map[string]any{"key_type": "ec"}, nil, "ec", 256},
		{map[string]any{"key_type": "ec", "key_bits": 384}, nil, "ec", 384},
		{map[string]any{"key_type": "ed25519"}, nil, "ed25519", 0},
		{map[string]any{"key_type": "any"}, func(r *IssueRequest) { r.KeyType = str("ec"); r.KeyBits = intp(521) }, "ec", 521},
	}
	for _, tc := range cases {
		name := tc.keyType + "-" + strings.Repeat("x", 0)
		t.Run(name, func(t *testing.T) {
			raw := map[string]any{"allowed_domains": "example.com", "allow_subdomains": true, "ttl": "24h"}
			for k, v := range tc.role {
				raw[k] = v
			}
			c.putRole(t, "r-"+tc.keyType, raw)
			edit := []func(*IssueRequest){func(r *IssueRequest) { r.AltNames = "b.example.com"; r.IPSANs = []string{"10.0.0.1"} }}
			if tc.req != nil {
				edit = append(edit, tc.req)
			}
			l, err := c.Issue(context.Background(), "r-"+tc.keyType, issueReq("a.example.com", edit...), leafOpts)
			if err != nil {
				t.Fatal(err)
			}
			c.checkLeaf(t, l, root.Cert)
			if KeyTypeOf(l.Key.Public()) != tc.keyType || KeyBits(l.Cert.PublicKey) != tc.bits {
				t.Errorf("key %s/%d", KeyTypeOf(l.Key.Public()), KeyBits(l.Cert.PublicKey))
			}
			if !publicKeysEqual(l.Key.Public(), l.Cert.PublicKey) {
				t.Error("private key does not match the certificate")
			}
			if !slices.Equal(l.Cert.DNSNames, []string{"a.example.com", "b.example.com"}) || len(l.Cert.IPAddresses) != 1 ||
				!l.Cert.NotAfter.Equal(testNow.Add(24*time.Hour)) || l.Cert.SignatureAlgorithm != x509.ECDSAWithSHA256 {
				t.Errorf("cert %v %v %s %s", l.Cert.DNSNames, l.Cert.IPAddresses, l.Cert.NotAfter, l.Cert.SignatureAlgorithm)
			}
			if l.Cert.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageKeyAgreement|x509.KeyUsageKeyEncipherment ||
				!slices.Equal(l.Cert.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}) ||
				l.Cert.BasicConstraintsValid {
				t.Errorf("usages %v %v bc=%v", l.Cert.KeyUsage, l.Cert.ExtKeyUsage, l.Cert.BasicConstraintsValid)
			}
		})
	}
}

func TestIssueRefusals(t *testing.T) {
	t.Parallel()
	c := newTestCA(t)
	ctx := context.Background()
	c.putRole(t, "web", map[string]any{"allowed_domains": "example.com", "allow_subdomains": true})
	c.putRole(t, "any", map[string]any{"allowed_domains": "example.com", "allow_subdomains": true, "key_type": "any"})
	c.putRole(t, "elsewhere", map[string]any{"allowed_domains": "example.com", "allow_subdomains": true, "issuer_ref": "nope"})
	// No issuer yet: Vault's 500.
	_, err := c.Issue(ctx, "web", issueReq("a.example.com"), leafOpts)
	if errs.KindOf(err) != errs.InvalidVault500 || errs.Message(err) != "could not fetch the CA certificate (was one set?): no default issuer currently configured" {
		t.Fatalf("no issuer: %v", err)
	}
	c.ecRoot(t, "root")
	cases := []struct {
		name string
		role string
		req  *IssueRequest
		kind errs.Kind
		msg  string
	}{
		{"unknown role", "nope", issueReq("a.example.com"), errs.Invalid, "unknown role: nope"},
		{"any without key_type", "any", issueReq("a.example.com"), errs.Invalid, `role key type "any" not allowed for issuing certificates without providing key_type and/or key_bits request parameters`},
		{"any with bad bits", "any", issueReq("a.example.com", func(r *IssueRequest) { r.KeyType = str("rsa"); r.KeyBits = intp(1024) }), errs.InvalidVault500, "failed to validate role: RSA keys < 2048 bits are unsafe and not supported: got 1024"},
		{"bad format", "web", issueReq("a.example.com", func(r *IssueRequest) { r.Format = "json" }), errs.Invalid, `the "format" path parameter must be "pem", "der", or "pem_bundle"`},
		{"unknown issuer", "elsewhere", issueReq("a.example.com"), errs.InvalidVault500, "could not fetch the CA certificate (was one set?): unable to find PKI issuer for reference: nope"},
		{"name refused", "web", issueReq("a.example.org"), errs.Invalid, "common name a.example.org not allowed by this role"},
		{"beyond the CA", "web", issueReq("a.example.com", func(r *IssueRequest) { r.TTL = 9000 * time.Hour }), errs.Invalid, "cannot satisfy request, as TTL would result in notAfter"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Issue(ctx, tc.role, tc.req, leafOpts)
			if errs.KindOf(err) != tc.kind || !strings.HasPrefix(errs.Message(err), tc.msg) {
				t.Fatalf("got %v %q, want %v %q", errs.KindOf(err), errs.Message(err), tc.kind, tc.msg)
			}
		})
	}
	// The issuer/:ref form wins over the role's issuer_ref.
	if _, err := c.Issue(ctx, "elsewhere", issueReq("a.example.com"), LeafOptions{IssuerRef: "root", TTLs: leafOpts.TTLs}); err != nil {
		t.Fatalf("issuer/:ref form: %v", err)
	}
	var n int
	_ = c.cfg.Space.View(func(tx storage.Tx) error {
		keys, _ := records.ListCerts(tx, "", 0)
		n = len(keys)
		return nil
	})
	if n != 2 { // the root and the one leaf that was issued
		t.Errorf("refused requests left certificates behind: %d stored", n)
	}
}

func TestSignCSRs(t *testing.T) {
	t.Parallel()
	c := newTestCA(t)
	root := c.ecRoot(t, "root")
	ctx := context.Background()
	c.putRole(t, "rsa", map[string]any{"allowed_domains": "example.com", "allow_subdomains": true, "organization": "Org"})
	c.putRole(t, "ec", map[string]any{"allowed_domains": "example.com", "allow_subdomains": true, "key_type": "ec"})
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, tc := range []struct {
		role string
		key  crypto.Signer
	}{{"rsa", rsaKey}, {"ec", ecKey}} {
		t.Run(tc.role, func(t *testing.T) {
			req := DefaultSignRequest()
			req.CSR = leafCSR(t, tc.key, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "a.example.com", Organization: []string{"Not Copied"}},
				DNSNames: []string{"b.example.com"}, ExtraExtensions: []pkix.Extension{{Id: []int{2, 5, 29, 19}, Value: []byte{0x30, 0x00}}}})
			req.TTL = time.Hour
			l, err := c.Sign(ctx, tc.role, &req, leafOpts)
			if err != nil {
				t.Fatal(err)
			}
			c.checkLeaf(t, l, root.Cert)
			if l.Key != nil || !publicKeysEqual(l.Cert.PublicKey, tc.key.Public()) {
				t.Error("signed certificate does not carry the CSR's key")
			}
			// DNS SANs sorted, as Vault's strutil.RemoveDuplicates leaves them.
			if !slices.Equal(l.Cert.DNSNames, []string{"a.example.com", "b.example.com"}) || l.Cert.BasicConstraintsValid ||
				slices.Contains(l.Cert.Subject.Organization, "Not Copied") || len(l.Warnings) != 1 {
				t.Errorf("cert %v %v warnings %q", l.Cert.DNSNames, l.Cert.Subject, l.Warnings)
			}
		})
	}
	// Wrong key type for the role, then a forged CSR.
	req := DefaultSignRequest()
	req.CSR = leafCSR(t, ecKey, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "a.example.com"}})
	if _, err := c.Sign(ctx, "rsa", &req, leafOpts); errs.Message(err) != "role requires keys of type rsa" {
		t.Errorf("EC CSR on RSA role: %v", err)
	}
	block, _ := pem.Decode([]byte(req.CSR))
	block.Bytes[len(block.Bytes)-3] ^= 0x40
	req.CSR = string(pem.EncodeToMemory(block))
	if _, err := c.Sign(ctx, "ec", &req, leafOpts); err == nil || (errs.Message(err) != "request signature invalid" && !strings.HasPrefix(errs.Message(err), "certificate request could not be parsed")) {
		t.Errorf("forged CSR: %v", err)
	}
	for csr, want := range map[string]string{"": `"csr" is empty`, "junk": "csr contains no data"} {
		req.CSR = csr
		if _, err := c.Sign(ctx, "ec", &req, leafOpts); err == nil || errs.Message(err) != want {
			t.Errorf("csr %q: %v", csr, err)
		}
	}
}

func TestSignVerbatimCopiesTheCSR(t *testing.T) {
	t.Parallel()
	c := newTestCA(t)
	root := c.ecRoot(t, "root")
	ctx := context.Background()
	c.putRole(t, "short", map[string]any{"ttl": "2h", "no_store": true, "allowed_domains": "unrelated.test"})
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csr := leafCSR(t, key, &x509.CertificateRequest{
		Subject:        pkix.Name{CommonName: "Free Form Name", Organization: []string{"Kept"}, Country: []string{"NL"}},
		DNSNames:       []string{"anything.example.net"},
		EmailAddresses: []string{"ops@example.net"},
		URIs:           []*url.URL{{Scheme: "spiffe", Host: "example.net", Path: "/svc"}},
		ExtraExtensions: []pkix.Extension{
			{Id: []int{2, 5, 29, 15}, Critical: true, Value: []byte{0x03, 0x02, 0x07, 0x80}}, // digitalSignature only
		},
	})
	for _, tc := range []struct {
		name, role string
		ttl        time.Duration
		stored     bool
	}{{"no role", "", 768 * time.Hour, true}, {"with role", "short", 2 * time.Hour, false}} {
		t.Run(tc.name, func(t *testing.T) {
			req := DefaultVerbatimRequest()
			req.CSR = csr
			req.ExtKeyUsage = []string{"ClientAuth"}
			l, err := c.SignVerbatim(ctx, tc.role, &req, leafOpts)
			if err != nil {
				t.Fatal(err)
			}
			c.checkLeaf(t, l, root.Cert)
			if l.Cert.Subject.CommonName != "Free Form Name" || l.Cert.Subject.Organization[0] != "Kept" ||
				l.Cert.EmailAddresses[0] != "ops@example.net" || l.Cert.URIs[0].String() != "spiffe://example.net/svc" {
				t.Errorf("CSR values not copied: %+v", l.Cert.Subject)
			}
			if l.Cert.KeyUsage != x509.KeyUsageDigitalSignature || !slices.Equal(l.Cert.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) {
				t.Errorf("usages %v %v (the CSR's key usage wins, the EKU param applies)", l.Cert.KeyUsage, l.Cert.ExtKeyUsage)
			}
			if !l.Cert.NotAfter.Equal(testNow.Add(tc.ttl)) || l.Stored != tc.stored {
				t.Errorf("NotAfter %s stored %v", l.Cert.NotAfter, l.Stored)
			}
		})
	}
	req := DefaultVerbatimRequest()
	req.CSR = csr
	if _, err := c.SignVerbatim(ctx, "missing", &req, leafOpts); errs.Message(err) != "unknown role: missing" {
		t.Errorf("unknown role: %v", err)
	}
}

func TestLeafOutputs(t *testing.T) {
	t.Parallel()
	c := newTestCA(t)
	ctx := context.Background()
	root := c.ecRoot(t, "root")
	// An intermediate below the root, made the default.
	gen, err := c.GenerateIntermediate(ctx, ModeInternal, &IntermediateRequest{NameFields: NameFields{CommonName: "Int"}, KeyFields: KeyFields{KeyType: str("ec")}})
	if err != nil {
		t.Fatal(err)
	}
	signed, err := c.SignIntermediate(ctx, "root", &SignIntermediateRequest{CSR: csrPEM(gen.CSR), ValidityFields: ValidityFields{TTL: 4000 * time.Hour}}, bigTTLs)
	if err != nil {
		t.Fatal(err)
	}
	imported, err := c.Import(ctx, "", certsPEM(signed.Cert), false)
	if err != nil || len(imported.ImportedIssuers) != 1 {
		t.Fatalf("set-signed: %v %+v", err, imported)
	}
	intID := imported.ImportedIssuers[0]
	c.putRole(t, "web", map[string]any{"allowed_domains": "example.com", "allow_subdomains": true, "key_type": "ec", "generate_lease": true, "ttl": "1h"})
	issue := func(edit func(*IssueRequest)) (*Leaf, LeafOutput) {
		t.Helper()
		l, err := c.Issue(ctx, "web", issueReq("a.example.com", edit), LeafOptions{IssuerRef: intID, TTLs: leafOpts.TTLs})
		if err != nil {
			t.Fatal(err)
		}
		d, err := l.Output()
		if err != nil {
			t.Fatal(err)
		}
		return l, d
	}
	l, d := issue(func(*IssueRequest) {})
	c.checkLeaf(t, l, root.Cert, signed.Cert)
	chain := d.CAChain
	if len(chain) != 2 || chain[0] != CertPEM(signed.Cert.Raw) || chain[1] != CertPEM(root.Cert.Raw) || d.IssuingCA != CertPEM(signed.Cert.Raw) {
		t.Errorf("ca_chain %d entries", len(chain))
	}
	if _, err := tls.X509KeyPair([]byte(d.Certificate), []byte(d.PrivateKey)); err != nil {
		t.Errorf("key pair: %v", err)
	}
	if d.PrivateKeyType != "ec" || !strings.HasPrefix(d.PrivateKey, "-----BEGIN EC PRIVATE KEY-----") ||
		strings.HasSuffix(d.Certificate, "\n") {
		t.Errorf("pem answer: %v", d)
	}
	if l.LeaseTTL != time.Hour {
		t.Errorf("lease %s", l.LeaseTTL)
	}

	_, d = issue(func(r *IssueRequest) { r.RemoveRootsFromChain = true })
	if chain := d.CAChain; len(chain) != 1 || chain[0] != CertPEM(signed.Cert.Raw) {
		t.Errorf("remove_roots_from_chain: %d entries", len(chain))
	}

	_, d = issue(func(r *IssueRequest) { r.Format = FormatDER; r.PrivateKeyFormat = "pkcs8" })
	der, _ := base64.StdEncoding.DecodeString(d.Certificate)
	keyDER, _ := base64.StdEncoding.DecodeString(d.PrivateKey)
	if _, err := x509.ParseCertificate(der); err != nil {
		t.Errorf("der certificate: %v", err)
	}
	if _, err := x509.ParsePKCS8PrivateKey(keyDER); err != nil {
		t.Errorf("der pkcs8 key: %v", err)
	}

	_, d = issue(func(r *IssueRequest) { r.Format = FormatPEMBundle; r.PrivateKeyFormat = "pkcs8" })
	bundle := d.Certificate
	var types []string
	for rest := []byte(bundle); ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		types = append(types, b.Type)
	}
	if !slices.Equal(types, []string{"EC PRIVATE KEY", "CERTIFICATE", "CERTIFICATE", "CERTIFICATE"}) ||
		!strings.HasPrefix(d.PrivateKey, "-----BEGIN PRIVATE KEY-----") {
		t.Errorf("pem_bundle %v, private_key %.30s", types, d.PrivateKey)
	}
}

func TestStoredCertsAndNoStore(t *testing.T) {
	t.Parallel()
	c := newTestCA(t)
	c.ecRoot(t, "root")
	ctx := context.Background()
	c.putRole(t, "kept", map[string]any{"allow_any_name": true, "key_type": "ec"})
	c.putRole(t, "ephemeral", map[string]any{"allow_any_name": true, "key_type": "ec", "no_store": true, "generate_lease": true})
	kept, err := c.Issue(ctx, "kept", issueReq("kept.example.com"), leafOpts)
	if err != nil {
		t.Fatal(err)
	}
	gone, err := c.Issue(ctx, "ephemeral", issueReq("gone.example.com"), leafOpts)
	if err != nil {
		t.Fatal(err)
	}
	if gone.Stored || gone.Serial == "" || gone.LeaseTTL != 0 {
		t.Errorf("no_store leaf: stored=%v serial=%q lease=%s", gone.Stored, gone.Serial, gone.LeaseTTL)
	}
	list, err := c.ListCerts("", 0)
	if err != nil || len(list) != 2 || !slices.Contains(list, kept.Serial) || slices.Contains(list, gone.Serial) {
		t.Errorf("list %v %v", list, err)
	}
	sc, err := c.StoredCert(strings.ToUpper(strings.ReplaceAll(kept.Serial, ":", "-")))
	if err != nil || sc == nil || !bytes.Equal(sc.DER, kept.Cert.Raw) {
		t.Fatalf("stored cert by hyphen serial: %v %v", sc, err)
	}
	if !sc.RevokedAt.IsZero() || sc.RevocationIssuerID != "" {
		t.Errorf("unrevoked cert %+v", sc)
	}
	if sc, err := c.StoredCert(gone.Serial); sc != nil || err != nil {
		t.Errorf("no_store cert readable: %v %v", sc, err)
	}
	// Paging: after takes either form and need not exist.
	first, _ := c.ListCerts("", 1)
	rest, _ := c.ListCerts(strings.ReplaceAll(first[0], ":", "-"), 0)
	if len(first) != 1 || len(rest) != 1 || rest[0] == first[0] {
		t.Errorf("paging %v %v", first, rest)
	}
}

func TestLeavesPassZlint(t *testing.T) {
	t.Parallel()
	issuers := []struct {
		name, typ string
		bits      int
		pss       bool
	}{{"rsa", "rsa", 2048, false}, {"rsa-pss", "rsa", 2048, true}, {"ec-256", "ec", 256, false}, {"ec-384", "ec", 384, false}, {"ed25519", "ed25519", 0, false}}
	for _, is := range issuers {
		t.Run(is.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			c := newTestCA(t)
			if _, _, err := c.SetURLs(URLConfigUpdate{
				IssuingCertificates:   &[]string{"http://pki.example/v1/pki/ca"},
				CRLDistributionPoints: &[]string{"http://pki.example/v1/pki/crl"},
			}); err != nil {
				t.Fatal(err)
			}
			root, err := c.GenerateRoot(ctx, ModeInternal, false, &RootRequest{
				NameFields: NameFields{CommonName: "Root " + is.name}, KeyFields: KeyFields{KeyType: str(is.typ), KeyBits: intp(is.bits)},
				UsePSS: is.pss, ValidityFields: ValidityFields{TTL: 8760 * time.Hour},
			}, bigTTLs)
			if err != nil {
				t.Fatal(err)
			}
			base := map[string]any{"allowed_domains": "example.com", "allow_subdomains": true, "allow_bare_domains": true,
				"allowed_uri_sans": "spiffe://example.com/*", "allowed_other_sans": "*", "use_pss": is.pss,
				"organization": "Example", "ou": "Ops", "country": "US"}
			variants := map[string]map[string]any{
				"rsa":       {"key_type": "rsa"},
				"ec":        {"key_type": "ec"},
				"ed25519":   {"key_type": "ed25519"},
				"bc-policy": {"key_type": "ec", "basic_constraints_valid_for_non_ca": true, "policy_identifiers": `[{"oid":"1.3.6.1.4.1.44947.1.2.4","cps":"https://example.com/cps","notice":"test"}]`},
				"no-ku":     {"key_type": "ec", "key_usage": "", "code_signing_flag": true, "ext_key_usage_oids": "1.3.6.1.4.1.311.10.3.12"},
				"sha-512":   {"key_type": "rsa", "signature_bits": 512},
			}
			for name, v := range variants {
				raw := map[string]any{}
				for k, x := range base {
					raw[k] = x
				}
				for k, x := range v {
					raw[k] = x
				}
				c.putRole(t, name, raw)
				l, err := c.Issue(ctx, name, issueReq("www.example.com", func(r *IssueRequest) {
					r.AltNames = "example.com,ops@example.com"
					r.IPSANs = []string{"192.0.2.1", "2001:db8::1"}
					r.URISANs = []string{"spiffe://example.com/web"}
					r.OtherSANs = []string{"1.3.6.1.4.1.311.20.2.3;UTF8:web@example.com"}
				}), leafOpts)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				c.checkLeaf(t, l, root.Cert)
			}
			// sign and sign-verbatim too.
			key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			csr := leafCSR(t, key, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "csr.example.com"}, DNSNames: []string{"csr.example.com"},
				IPAddresses: []net.IP{net.ParseIP("192.0.2.2")}})
			sreq := DefaultSignRequest()
			sreq.CSR = csr
			l, err := c.Sign(ctx, "ec", &sreq, leafOpts)
			if err != nil {
				t.Fatal(err)
			}
			c.checkLeaf(t, l, root.Cert)
			vreq := DefaultVerbatimRequest()
			vreq.CSR = csr
			if l, err = c.SignVerbatim(ctx, "", &vreq, leafOpts); err != nil {
				t.Fatal(err)
			}
			c.checkLeaf(t, l, root.Cert)
		})
	}
}

func TestRSAIssuerSignatureRules(t *testing.T) {
	t.Parallel()
	c := newTestCA(t)
	ctx := context.Background()
	if _, err := c.GenerateRoot(ctx, ModeInternal, false, &RootRequest{NameFields: NameFields{CommonName: "R"},
		ValidityFields: ValidityFields{TTL: 8760 * time.Hour}}, bigTTLs); err != nil {
		t.Fatal(err)
	}
	c.putRole(t, "pss384", map[string]any{"allow_any_name": true, "key_type": "ec", "signature_bits": 384, "use_pss": true})
	c.putRole(t, "rsa512", map[string]any{"allow_any_name": true, "signature_bits": 512})
	for role, want := range map[string]x509.SignatureAlgorithm{"pss384": x509.SHA384WithRSAPSS, "rsa512": x509.SHA512WithRSA} {
		l, err := c.Issue(ctx, role, issueReq("x.example.com"), leafOpts)
		if err != nil {
			t.Fatal(err)
		}
		if l.Cert.SignatureAlgorithm != want {
			t.Errorf("%s: %s, want %s", role, l.Cert.SignatureAlgorithm, want)
		}
	}
}

func TestKeyPool(t *testing.T) {
	t.Parallel()
	var p keyPool
	seen := map[string]bool{}
	take := func() {
		k, err := p.take(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		fp := k.N.String()
		if seen[fp] {
			t.Fatal("a pooled key was handed out twice")
		}
		seen[fp] = true
	}
	take() // empty: generated inline, target doubles, filler starts
	if _, target := p.stats(2048); target != 2*poolStart {
		t.Fatalf("target %d after a miss", target)
	}
	deadline := time.Now().Add(time.Minute)
	for ready, target := p.stats(2048); ready < target; ready, target = p.stats(2048) {
		if time.Now().After(deadline) {
			t.Fatal("pool never filled")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for range 2 * poolStart {
		take() // served from the pool
	}
	if _, target := p.stats(2048); target != 2*poolStart {
		t.Errorf("hits changed the target to %d", target)
	}
	if poolCap(2048) < 16 || poolCap(8192) != 1 {
		t.Error("pool bounds")
	}
	// Ed25519 and EC keys never touch the pool.
	a := &Authority{cfg: Config{Rand: rand.Reader}}
	if k, err := a.leafKey(roles.KeySpec{Type: "ed25519"}); err != nil || k.(ed25519.PrivateKey) == nil {
		t.Fatal(err)
	}
	if _, err := a.leafKey(roles.KeySpec{Type: "rsa", Bits: 1024}); !errors.Is(err, errs.Invalid) {
		t.Errorf("rsa 1024: %v", err)
	}
}

func TestPEMTextMatchesEncodingPEM(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 47, 48, 49, 95, 96, 97, 500, 1190} {
		der := make([]byte, n)
		_, _ = rand.Read(der)
		want := strings.TrimSpace(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
		if got := pemText("CERTIFICATE", der); got != want {
			t.Fatalf("%d bytes: %q, want %q", n, got, want)
		}
	}
}
