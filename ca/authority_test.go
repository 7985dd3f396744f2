package ca

import (
	"context"
	"crypto/x509"
	"errors"
	"github.com/pkid-dev/pkid/records"
	"strings"
	"testing"
	"time"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/storage"
)

func TestRootIntermediateSetSigned(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rootCA := newTestCA(t)
	intCA := newTestCAOn(t, rootCA.store, "int")

	root := rootCA.ecRoot(t, "root-2024")
	if root.IssuerName != "root-2024" || root.KeyID == "" || root.IssuerID == "" {
		t.Fatalf("root result %+v", root)
	}
	if n := rootCA.crlNumber(t, "default"); n != 1 {
		t.Errorf("root generation built CRL number %d, want 1 (one build)", n)
	}
	gen, err := intCA.GenerateIntermediate(ctx, ModeInternal, &IntermediateRequest{
		NameFields: NameFields{CommonName: "Intermediate"},
		KeyFields:  KeyFields{KeyType: str("ec")},
		IssuerName: str("intermediate-2027"),
	})
	if err != nil {
		t.Fatal(err)
	}
	signed, err := rootCA.SignIntermediate(ctx, "root-2024", &SignIntermediateRequest{
		CSR: csrPEM(gen.CSR), ValidityFields: ValidityFields{TTL: 4380 * time.Hour},
	}, bigTTLs)
	if err != nil {
		t.Fatal(err)
	}
	if len(signed.Warnings) == 0 || !strings.Contains(strings.Join(signed.Warnings, "|"), "authority information access") {
		t.Errorf("warnings %q", signed.Warnings)
	}
	verify(t, signed.Cert, root.Cert)
	if signed.Cert.MaxPathLen != -1 || !signed.Cert.IsCA {
		t.Errorf("pathlen %d", signed.Cert.MaxPathLen)
	}
	// The signed intermediate is in the root mount's certificate store.
	rootCA.cfg.Space.View(func(tx storage.Tx) error {
		if records.GetCert(tx, records.FormatSerial(signed.Cert.SerialNumber)) == nil {
			t.Error("signed intermediate not in the certificate store")
		}
		return nil
	})

	bundle := certsPEM(signed.Cert, root.Cert)
	imp, err := intCA.Import(ctx, "", bundle, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(imp.ImportedIssuers) != 2 || len(imp.ImportedKeys) != 0 {
		t.Fatalf("import %+v", imp)
	}
	intID := imp.ImportedIssuers[0]
	if imp.Mapping[intID] != gen.KeyID || imp.Mapping[imp.ImportedIssuers[1]] != "" {
		t.Errorf("mapping %v", imp.Mapping)
	}
	info, err := intCA.Issuer("intermediate-2027")
	if err != nil {
		t.Fatalf("pending issuer name not applied: %v", err)
	}
	if info.ID != intID || len(info.CAChain) != 2 {
		t.Errorf("issuer %s chain %d", info.ID, len(info.CAChain))
	}
	cfg, _ := intCA.IssuersConfig()
	if cfg.Default != intID {
		t.Errorf("default %s, want the keyed intermediate %s", cfg.Default, intID)
	}
	// A second set-signed of the same bundle changes nothing (Vault: 200).
	again, err := intCA.Import(ctx, "", bundle, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.ImportedIssuers) != 0 || len(again.ExistingIssuers) != 2 {
		t.Errorf("re-import %+v", again)
	}
	si, err := intCA.SigningIssuer("default")
	if err != nil {
		t.Fatal(err)
	}
	if len(si.Chain) != 2 || !si.Chain[1].Equal(root.Cert) {
		t.Errorf("signing chain %d", len(si.Chain))
	}
}

func TestSigningIssuerErrors(t *testing.T) {
	t.Parallel()
	c := newTestCA(t)
	tests := []struct {
		name, ref, want string
	}{
		{"no default", "default", "could not fetch the CA certificate (was one set?): no default issuer currently configured"},
		{"unknown", "nope", "could not fetch the CA certificate (was one set?): unable to find PKI issuer for reference: nope"},
	}
	for _, tt := range tests {
		_, err := c.SigningIssuer(tt.ref)
		if err == nil || err.Error() != tt.want || !errors.Is(err, errs.InvalidVault500) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	root := c.ecRoot(t, "r")
	ctx := context.Background()
	if _, _, err := c.UpdateIssuer(ctx, "r", IssuerUpdate{Usage: &[]string{"read-only", "crl-signing"}}, false); err != nil {
		t.Fatal(err)
	}
	_, err := c.SigningIssuer("r")
	want := "error fetching CA certificate: error while attempting to use issuer " + root.IssuerID +
		": requested usage issuing-certificates for issuer [id:" + root.IssuerID + " / name:r] but only had usage crl-signing,read-only"
	if err == nil || err.Error() != want || !errors.Is(err, errs.InvalidVault500) {
		t.Errorf("usage: %v", err)
	}
	// A keyless issuer: import a root certificate from elsewhere.
	other := newTestCA(t)
	oroot := other.ecRoot(t, "o")
	imp, err := c.Import(ctx, "", certsPEM(oroot.Cert), false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.SigningIssuer(imp.ImportedIssuers[0])
	want = "could not fetch the CA certificate (was one set?): unable to fetch corresponding key for issuer " + imp.ImportedIssuers[0] + "; unable to use this issuer for signing"
	if err == nil || err.Error() != want {
		t.Errorf("keyless: %v", err)
	}
}

func TestSigningIssuerSigns(t *testing.T) {
	t.Parallel()
	c := newTestCA(t)
	root := c.ecRoot(t, "r")
	if _, _, err := c.SetURLs(URLConfigUpdate{
		IssuingCertificates:        &[]string{"https://pki.example/{{issuer_id}}/der"},
		CRLDistributionPoints:      &[]string{"https://pki.example/crl"},
		DeltaCRLDistributionPoints: &[]string{"https://pki.example/delta"},
		EnableTemplating:           boolp(true),
	}); err != nil {
		t.Fatal(err)
	}
	si, err := c.SigningIssuer("default")
	if err != nil {
		t.Fatal(err)
	}
	if si.URLs.IssuingCertificates[0] != "https://pki.example/"+root.IssuerID+"/der" {
		t.Errorf("templated URL %v", si.URLs.IssuingCertificates)
	}
	key, _ := GenerateKey(c.cfg.Rand, "ec", 256)
	serial, _ := NewSerial(c.cfg.Rand)
	tmpl := &x509.Certificate{SerialNumber: serial, NotBefore: testNow, NotAfter: testNow.Add(time.Hour),
		DNSNames: []string{"leaf.example"}, SignatureAlgorithm: si.SignatureAlgorithm(0, false)}
	if err := si.URLs.Apply(tmpl); err != nil {
		t.Fatal(err)
	}
	leaf, err := si.Sign(c.cfg.Rand, tmpl, key.Public())
	if err != nil {
		t.Fatal(err)
	}
	verify(t, leaf, root.Cert)
	if string(leaf.AuthorityKeyId) != string(root.Cert.SubjectKeyId) || len(leaf.SubjectKeyId) != 20 {
		t.Error("key identifiers")
	}
	found := false
	for _, e := range leaf.Extensions {
		found = found || e.Id.Equal(oidFreshestCRL)
	}
	if !found || len(leaf.CRLDistributionPoints) != 1 {
		t.Error("CRL DP / Freshest CRL missing")
	}
}

func boolp(b bool) *bool { return &b }

func TestPendingIssuerNameTaken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newTestCA(t)
	gen, err := c.GenerateIntermediate(ctx, ModeInternal, &IntermediateRequest{
		NameFields: NameFields{CommonName: "Int"}, KeyFields: KeyFields{KeyType: str("ec")}, IssuerName: str("wanted"),
	})
	if err != nil {
		t.Fatal(err)
	}
	// The name is free until an issuer takes it: here, a root.
	c.ecRoot(t, "wanted")
	signed, err := c.SignIntermediate(ctx, "wanted", &SignIntermediateRequest{CSR: csrPEM(gen.CSR)}, bigTTLs)
	if err != nil {
		t.Fatal(err)
	}
	imp, err := c.Import(ctx, "", certsPEM(signed.Cert), false)
	if err != nil {
		t.Fatal(err)
	}
	if !containsPart(imp.Warnings, `The issuer_name "wanted" given when this key's CSR was generated is now used by another issuer`) {
		t.Errorf("warnings %q", imp.Warnings)
	}
	is, _ := c.Issuer(imp.ImportedIssuers[0])
	if is.Name != "" || is.KeyID != gen.KeyID {
		t.Errorf("issuer %q key %s", is.Name, is.KeyID)
	}
	// intermediate/generate refuses a name an issuer already has.
	if _, err := c.GenerateIntermediate(ctx, ModeInternal, &IntermediateRequest{KeyFields: KeyFields{KeyType: str("ec")}, IssuerName: str("wanted")}); err == nil || err.Error() != "issuer name already in use" {
		t.Errorf("taken name: %v", err)
	}
}
