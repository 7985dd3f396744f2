package ca

import (
	"context"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/storage"
)

func TestUpdateIssuer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newTestCA(t)
	root := c.ecRoot(t, "root")
	c.ecRoot(t, "other")

	// PATCH changes only what is sent.
	is, _, err := c.UpdateIssuer(ctx, "root", IssuerUpdate{LeafNotAfterBehavior: str("truncate"),
		IssuingCertificates: &[]string{"https://pki.example/ca"}}, false)
	if err != nil {
		t.Fatal(err)
	}
	if is.Name != "root" || is.LeafNotAfterBehavior != "truncate" || is.AIA == nil || is.AIA.IssuingCertificates[0] != "https://pki.example/ca" {
		t.Errorf("patched %+v", is)
	}
	si, _ := c.SigningIssuer("root")
	if si.URLs.IssuingCertificates[0] != "https://pki.example/ca" || si.LeafNotAfterBehavior != "truncate" {
		t.Errorf("signing issuer ignores the override: %+v", si.URLs)
	}
	// POST replaces: absent fields take their defaults (the name is cleared).
	is, _, err = c.UpdateIssuer(ctx, root.IssuerID, IssuerUpdate{Usage: &[]string{"read-only", "crl-signing"}}, true)
	if err != nil {
		t.Fatal(err)
	}
	if is.Name != "" || is.LeafNotAfterBehavior != "err" || is.AIA != nil || is.Usage.String() != "crl-signing,read-only" {
		t.Errorf("replaced %+v usage %v", is, is.Usage)
	}
	is, _, err = c.UpdateIssuer(ctx, root.IssuerID, IssuerUpdate{IssuerName: str("renamed"), RevocationSignatureAlgorithm: str("ecdsawithsha384")}, false)
	if err != nil || is.Name != "renamed" || is.RevocationSignatureAlgorithm != "ECDSAWithSHA384" {
		t.Fatalf("rename: %+v %v", is, err)
	}
	tests := []struct {
		name string
		u    IssuerUpdate
		want string
		kind errs.Kind
	}{
		{"name in use", IssuerUpdate{IssuerName: str("other")}, "issuer name already in use", errs.Invalid},
		{"reserved name", IssuerUpdate{IssuerName: str("DEFAULT")}, "reserved keyword 'default' can not be used as issuer name", errs.Invalid},
		{"bad leaf behavior", IssuerUpdate{LeafNotAfterBehavior: str("maybe")}, "Unknown value for field `leaf_not_after_behavior`. Possible values are `err`, `truncate`, and `permit`.", errs.Invalid},
		{"bad usage", IssuerUpdate{Usage: &[]string{"signing"}}, "Unable to parse specified usages: [signing] - valid values are crl-signing,issuing-certificates,ocsp-signing,read-only", errs.Invalid},
		{"bad algorithm", IssuerUpdate{RevocationSignatureAlgorithm: str("md5")}, "Unknown signature algorithm value: md5", errs.Invalid},
		{"algorithm for another key type", IssuerUpdate{RevocationSignatureAlgorithm: str("sha256withrsa")}, "unable to use issuer of type ECDSA to sign with SHA256-RSA key type", errs.InvalidVault500},
		{"bad url", IssuerUpdate{OCSPServers: &[]string{"not a url"}}, "invalid URL found in Authority Information Access (AIA) parameter ocsp_servers: not a url", errs.Invalid},
		{"manual chain must start with self", IssuerUpdate{ManualChain: &[]string{"other"}}, "expected first cert in chain to be a self-reference, but was: other/", errs.Invalid},
		{"manual chain unknown ref", IssuerUpdate{ManualChain: &[]string{"self", "ghost"}}, "unable to find PKI issuer for reference: ghost", errs.InvalidVault500},
	}
	for _, tt := range tests {
		_, _, err := c.UpdateIssuer(ctx, "renamed", tt.u, false)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) || errs.KindOf(err) != tt.kind {
			t.Errorf("%s: %v (kind %v)", tt.name, err, errs.KindOf(err))
		}
	}
	if _, _, err := c.UpdateIssuer(ctx, "ghost", IssuerUpdate{}, false); err == nil || err.Error() != "unable to find PKI issuer for reference: ghost" || !errors.Is(err, errs.InvalidVault500) {
		t.Errorf("unknown ref: %v", err)
	}
	// A manual chain replaces the automatic one.
	is, _, err = c.UpdateIssuer(ctx, "renamed", IssuerUpdate{ManualChain: &[]string{"self", "other"}}, false)
	if err != nil || len(is.CAChain) != 2 || len(is.ManualChain) != 2 {
		t.Fatalf("manual chain: %v %v", is, err)
	}
}

func TestRevokeAndDeleteIssuer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newTestCA(t)
	root := c.ecRoot(t, "root")
	second := c.ecRoot(t, "second")
	before := c.crlNumber(t, "second")
	is, warnings, err := c.RevokeIssuer(ctx, "second")
	if err != nil {
		t.Fatal(err)
	}
	if !is.Revoked || is.Usage.Has(UsageIssuing) || !is.RevocationTime.Equal(testNow) {
		t.Errorf("revoked %+v", is)
	}
	if !containsPart(warnings, "self-signed (potentially root)") || !containsPart(warnings, "lacks another parent issuer") {
		t.Errorf("warnings %q", warnings)
	}
	if n := c.crlNumber(t, "second"); n <= before {
		t.Errorf("revocation did not rebuild the CRL (number %d, before %d)", n, before)
	}
	if _, w, _ := c.RevokeIssuer(ctx, "second"); len(w) != 0 {
		t.Errorf("second revocation warned %q", w)
	}
	if _, _, err := c.UpdateIssuer(ctx, "second", IssuerUpdate{Usage: &[]string{"issuing-certificates"}}, false); err == nil || !strings.HasPrefix(err.Error(), "This issuer was revoked") {
		t.Errorf("re-adding issuing to a revoked issuer: %v", err)
	}
	if _, err := c.SigningIssuer("second"); err == nil {
		t.Error("revoked issuer still signs")
	}
	// Delete: the default goes away with a warning, unknown refs are no error.
	deleted, warnings, err := c.RemoveIssuer(ctx, "default")
	if err != nil || !deleted || !containsPart(warnings, "this was configured as the default issuer") {
		t.Fatalf("delete default: %v %q %v", deleted, warnings, err)
	}
	if cfg, _ := c.IssuersConfig(); cfg.Default != "" {
		t.Error("deleting the default issuer left a default")
	}
	if deleted, _, err := c.RemoveIssuer(ctx, root.IssuerID); err != nil || deleted {
		t.Errorf("delete unknown: %v %v", deleted, err)
	}
	if _, err := c.Issuer("default"); err == nil || err.Error() != "no default issuer currently configured" {
		t.Errorf("issuer/default: %v", err)
	}
	// The key stays.
	if _, err := c.Key(root.KeyID); err != nil {
		t.Errorf("key deleted with its issuer: %v", err)
	}
	// tidy's remover.
	wasDefault, err := c.DeleteIssuer(ctx, second.IssuerID)
	if err != nil || wasDefault {
		t.Errorf("DeleteIssuer: %v %v", wasDefault, err)
	}
	if issuers, _ := c.ListIssuers(); len(issuers) != 0 {
		t.Errorf("%d issuers left", len(issuers))
	}
}

func TestKeys(t *testing.T) {
	t.Parallel()
	c := newTestCA(t)
	k1, priv, err := c.NewKey("one", "ec", 0)
	if err != nil || priv == nil || k1.Type != "ec" || k1.Name != "one" {
		t.Fatalf("NewKey: %+v %v", k1, err)
	}
	if _, _, err := c.NewKey("two", "rsa", 1024); err == nil || err.Error() != "Validation for key_type, key_bits failed: RSA keys < 2048 bits are unsafe and not supported: got 1024" {
		t.Errorf("refused size: %v", err)
	}
	if _, _, err := c.NewKey("one", "ec", 0); err == nil || err.Error() != "key name already in use" {
		t.Errorf("duplicate name: %v", err)
	}
	k, err := c.Key("default")
	if err != nil || k.ID != k1.ID || len(strings.Split(k.SubjectKeyID, ":")) != 20 {
		t.Fatalf("default key: %+v %v", k, err)
	}
	// Importing the same key again: same ID, a warning.
	pemKey, _ := PrivateKeyPEM(priv)
	k2, warnings, err := c.ImportKey(pemKey, "")
	if err != nil || k2.ID != k1.ID || !containsPart(warnings, "Key already imported") {
		t.Errorf("re-import: %+v %q %v", k2, warnings, err)
	}
	for in, want := range map[string]string{
		"short":                 "provided data for import was too short",
		pemKey + "\n" + pemKey:  "only a single key can be present within the pem_bundle for importing",
		strings.Repeat("x", 70): "provided PEM block contained no data",
	} {
		if _, _, err := c.ImportKey(in, ""); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("ImportKey: %v, want %q", err, want)
		}
	}
	k3, w, err := c.RenameKey("one", "")
	if err != nil || k3.Name != "" || !containsPart(w, "Name successfully deleted") {
		t.Errorf("unname: %+v %q %v", k3, w, err)
	}
	if _, _, err := c.RenameKey(k1.ID, "bad name"); err == nil || err.Error() != "new key name outside of valid character limits" {
		t.Errorf("bad name: %v", err)
	}
	if _, err := c.Key("ghost"); err == nil || err.Error() != "unable to find PKI key for reference: ghost" || !errors.Is(err, errs.InvalidVault500) {
		t.Errorf("unknown key: %v", err)
	}
	// A key in use cannot go; the default key goes with a warning.
	root, err := c.GenerateRoot(context.Background(), ModeExisting, false, &RootRequest{KeyFields: KeyFields{KeyRef: k1.ID}}, bigTTLs)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.DeleteKey(k1.ID); err == nil || err.Error() != "Failed to Delete Key.  Key in Use by Issuer: "+root.IssuerID {
		t.Errorf("delete in use: %v", err)
	}
	if deleted, _, err := c.DeleteKey("ghost"); deleted || err != nil {
		t.Errorf("delete unknown: %v %v", deleted, err)
	}
	if _, _, err := c.RemoveIssuer(context.Background(), root.IssuerID); err != nil {
		t.Fatal(err)
	}
	deleted, w, err := c.DeleteKey(k1.ID)
	if err != nil || !deleted || !containsPart(w, "this was configured as the default key") {
		t.Errorf("delete default: %v %q %v", deleted, w, err)
	}
	if dk, _ := c.DefaultKey(); dk != "" {
		t.Error("default key survived")
	}
}

func TestImportKeyLinksKeylessIssuer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := newTestCA(t)
	exp, err := src.GenerateRoot(ctx, ModeExported, false, &RootRequest{KeyFields: KeyFields{KeyType: str("ec")}, NameFields: NameFields{CommonName: "x"}}, bigTTLs)
	if err != nil {
		t.Fatal(err)
	}
	c := newTestCA(t)
	imp, err := c.Import(ctx, "", certsPEM(exp.Cert), false)
	if err != nil {
		t.Fatal(err)
	}
	if !containsPart(imp.Warnings, "authority information access") {
		t.Errorf("warnings %q", imp.Warnings)
	}
	if cfg, _ := c.IssuersConfig(); cfg.Default != "" {
		t.Error("a keyless issuer became default")
	}
	keyPEM, _ := PrivateKeyPEM(exp.Key)
	k, _, err := c.ImportKey(keyPEM, "imported")
	if err != nil {
		t.Fatal(err)
	}
	is, err := c.Issuer(imp.ImportedIssuers[0])
	if err != nil || is.KeyID != k.ID {
		t.Fatalf("issuer not linked: %+v %v", is, err)
	}
	if cfg, _ := c.IssuersConfig(); cfg.Default != is.ID {
		t.Error("linked issuer did not become default")
	}
	// config/ca style: key and certificate in one bundle, in any order.
	c2 := newTestCA(t)
	res, err := c2.Import(ctx, "junk text\n"+certsPEM(exp.Cert)+"\n"+keyPEM+"\n", "", true)
	built := c2.crlNumber(t, "default")
	if err != nil || len(res.ImportedKeys) != 1 || res.Mapping[res.ImportedIssuers[0]] != res.ImportedKeys[0] {
		t.Fatalf("bundle import: %+v %v", res, err)
	}
	again, err := c2.Import(ctx, keyPEM+"\n"+certsPEM(exp.Cert), "", true)
	if err != nil || len(again.ExistingKeys) != 1 || len(again.ExistingIssuers) != 1 || len(again.ImportedIssuers) != 0 {
		t.Errorf("idempotent import: %+v %v", again, err)
	}
	if n := c2.crlNumber(t, "default"); built == 0 || n != built {
		t.Errorf("CRL number %d after the first import, %d after the second: want one build, only when issuers are new", built, n)
	}
}

func TestImportRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newTestCA(t)
	root := c.ecRoot(t, "r")
	key, _ := GenerateKey(c.cfg.Rand, "ec", 256)
	keyPEM, _ := PrivateKeyPEM(key)
	leafTmpl := &x509.Certificate{SerialNumber: root.Cert.SerialNumber, NotBefore: testNow, NotAfter: testNow.Add(time.Hour)}
	si, _ := c.SigningIssuer("r")
	leaf, err := si.Sign(c.cfg.Rand, leafTmpl, key.Public())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, bundle, cert string
		keys               bool
		want               string
	}{
		{"nothing", "", "", true, "'pem_bundle' and 'certificate' parameters were empty"},
		{"both", "x", "y", true, "'pem_bundle' and 'certificate' parameters were both provided"},
		{"too short", "", "/tmp/int.pem", false, "provided data for import was too short; perhaps a path was passed to the API rather than the contents of a PEM file"},
		{"keys on set-signed", "", certsPEM(root.Cert) + "\n" + keyPEM, false, "private keys found in the PEM bundle but not allowed by the path; use /issuers/import/bundle"},
		{"not a CA", "", certsPEM(leaf), false, "Error parsing issuer 0: Refusing to import non-CA certificate\n-----BEGIN CERTIFICATE-----"},
		{"trailing garbage", certsPEM(root.Cert) + "\ntrailing words", "", true, "error when parsing block 2: invalid PEM data"},
	}
	for _, tt := range tests {
		_, err := c.Import(ctx, tt.bundle, tt.cert, tt.keys)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) || !errors.Is(err, errs.Invalid) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

func TestURLConfig(t *testing.T) {
	t.Parallel()
	c := newTestCA(t)
	cfg, _, err := c.SetURLs(URLConfigUpdate{IssuingCertificates: &[]string{"https://a.example/ca"}})
	if err != nil || cfg.IssuingCertificates[0] != "https://a.example/ca" || cfg.OCSPServers == nil {
		t.Fatalf("%+v %v", cfg, err)
	}
	// Merge: other fields keep their values.
	cfg, _, _ = c.SetURLs(URLConfigUpdate{OCSPServers: &[]string{"http://ocsp.example"}})
	if len(cfg.IssuingCertificates) != 1 || len(cfg.OCSPServers) != 1 {
		t.Errorf("merge %+v", cfg)
	}
	for _, bad := range []string{"ftp//nohost", "{{issuer_id}}/x", "relative/path"} {
		if _, _, err := c.SetURLs(URLConfigUpdate{CRLDistributionPoints: &[]string{bad}}); err == nil ||
			err.Error() != "invalid URL found in Authority Information Access (AIA) parameter crl_distribution_points: "+bad {
			t.Errorf("%q: %v", bad, err)
		}
	}
	// Templating: a root cannot use {{issuer_id}} and warns; children can.
	if _, _, err := c.SetURLs(URLConfigUpdate{EnableTemplating: boolp(true), IssuingCertificates: &[]string{"{{cluster_path}}/issuer/{{issuer_id}}/der"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GenerateRoot(context.Background(), ModeInternal, false, &RootRequest{KeyFields: KeyFields{KeyType: str("ec")}}, bigTTLs); err == nil ||
		!strings.Contains(err.Error(), "lack local cluster address information (path)") {
		t.Errorf("root with unfillable cluster path: %v", err)
	}
	if _, err := c.SetCluster(ClusterUpdate{Path: str("https://vault.example/v1/pki")}); err != nil {
		t.Fatal(err)
	}
	root, err := c.GenerateRoot(context.Background(), ModeInternal, false, &RootRequest{KeyFields: KeyFields{KeyType: str("ec")}}, bigTTLs)
	if err != nil || !containsPart(root.Warnings, "issuer_id template unsuitable for root generation") || len(root.Cert.IssuingCertificateURL) != 0 {
		t.Fatalf("root: %v %q", err, root.Warnings)
	}
	si, _ := c.SigningIssuer("default")
	if si.URLs.IssuingCertificates[0] != "https://vault.example/v1/pki/issuer/"+si.ID+"/der" {
		t.Errorf("templated %v", si.URLs.IssuingCertificates)
	}
	if _, err := c.SetCluster(ClusterUpdate{AIAPath: str("no-scheme")}); err == nil {
		t.Error("bad cluster aia_path accepted")
	}
}

func TestIssuersConfigAndDefaults(t *testing.T) {
	t.Parallel()
	c := newTestCA(t)
	if _, _, err := c.SetIssuersConfig("default", nil); err == nil || err.Error() != "Invalid issuer specification; must be non-empty and can't be 'default'." {
		t.Errorf("default ref: %v", err)
	}
	if _, _, err := c.SetIssuersConfig("ghost", nil); err == nil || err.Error() != "Error resolving issuer reference: unable to find PKI issuer for reference: ghost" || !errors.Is(err, errs.Invalid) {
		t.Errorf("unknown ref: %v", err)
	}
	if _, err := c.SetDefaultKey("ghost"); err == nil || err.Error() != "Error resolving issuer reference: unable to find PKI key for reference: ghost" {
		t.Errorf("unknown key: %v", err)
	}
	if _, err := c.DefaultCA(); err == nil || err.Error() != "no default issuer currently configured" || !errors.Is(err, errs.Invalid) {
		t.Errorf("DefaultCA with none: %v", err)
	}
	r := c.ecRoot(t, "r")
	chain, err := c.DefaultCA()
	if err != nil || len(chain) != 1 || !chain[0].Equal(r.Cert) {
		t.Errorf("DefaultCA: %v", err)
	}
	warnings, err := c.DeleteAll()
	if err != nil || !containsPart(warnings, "DELETE /root deletes all keys and issuers") {
		t.Fatal(err)
	}
	if keys, _ := c.ListKeys(); len(keys) != 0 {
		t.Error("keys survived DELETE root")
	}
	if cfg, _ := c.IssuersConfig(); cfg.Default != "" {
		t.Error("default survived DELETE root")
	}
}

func TestCrossSignedChains(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newTestCA(t)
	ra := a.ecRoot(t, "ra")
	b := newTestCAOn(t, a.store, "b")
	rb := b.ecRoot(t, "rb")
	// b makes a CSR for its root key; a signs it; b imports the
	// cross-signed certificate.
	cross, err := b.GenerateIntermediate(ctx, ModeExisting, &IntermediateRequest{NameFields: NameFields{CommonName: "rb Root"}, KeyFields: KeyFields{KeyRef: "default"}})
	if err != nil {
		t.Fatal(err)
	}
	signed, err := a.SignIntermediate(ctx, "ra", &SignIntermediateRequest{CSR: csrPEM(cross.CSR), SKID: FormatKeyID(rb.Cert.SubjectKeyId)}, bigTTLs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Import(ctx, certsPEM(signed.Cert, ra.Cert), "", false); err != nil {
		t.Fatal(err)
	}
	// An intermediate under rb's key now chains to both roots.
	gen, _ := b.GenerateIntermediate(ctx, ModeInternal, &IntermediateRequest{NameFields: NameFields{CommonName: "leafca"}, KeyFields: KeyFields{KeyType: str("ec")}})
	in, err := b.SignIntermediate(ctx, "rb", &SignIntermediateRequest{CSR: csrPEM(gen.CSR)}, bigTTLs)
	if err != nil {
		t.Fatal(err)
	}
	imp, err := b.Import(ctx, certsPEM(in.Cert), "", false)
	if err != nil {
		t.Fatal(err)
	}
	is, _ := b.Issuer(imp.ImportedIssuers[0])
	if len(is.CAChain) != 4 {
		t.Fatalf("chain of %d, want intermediate, rb, rb cross-signed, ra", len(is.CAChain))
	}
	chainCerts := make([]*x509.Certificate, len(is.CAChain))
	for i, p := range is.CAChain {
		chainCerts[i], _ = parseCertPEM(p)
	}
	if !chainCerts[1].Equal(rb.Cert) || !chainCerts[2].Equal(signed.Cert) || !chainCerts[3].Equal(ra.Cert) {
		t.Error("chain order")
	}
	verify(t, in.Cert, ra.Cert, signed.Cert)
	verify(t, in.Cert, rb.Cert)
}

func TestIssuersForCRL(t *testing.T) {
	t.Parallel()
	c := newTestCA(t)
	root := c.ecRoot(t, "r")
	c.SetURLs(URLConfigUpdate{DeltaCRLDistributionPoints: &[]string{"https://pki.example/delta"}, CRLDistributionPoints: &[]string{"https://pki.example/crl"}})
	err := c.cfg.Space.View(func(tx storage.Tx) error {
		list, def, err := c.Issuers(tx)
		if err != nil {
			return err
		}
		if len(list) != 1 || def != root.IssuerID {
			t.Fatalf("issuers %d default %s", len(list), def)
		}
		is := list[0]
		if is.Signer == nil || is.KeyID != root.KeyID || !is.CRLSigning || !is.OCSPSigning || is.Revoked ||
			is.SignatureAlgorithm != x509.ECDSAWithSHA256 || len(is.DeltaCRLURLs) != 1 {
			t.Errorf("crl issuer %+v", is)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
