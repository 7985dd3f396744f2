package ca

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/records"
	"github.com/pkid-dev/pkid/storage"
)

// ImportResult is the answer of the import endpoints (set-signed,
// config/ca, issuers/import/*): what was new, what was already there, and
// which key each issuer of the bundle is linked to ("" for none).
type ImportResult struct {
	Mapping         map[string]string
	ImportedKeys    []string
	ImportedIssuers []string
	ExistingKeys    []string
	ExistingIssuers []string
	Warnings        []string
}

const (
	warnDefaultNoKey     = "The default issuer has no key associated with it. Some operations like issuing certificates and signing CRLs will be unavailable with the requested default issuer until a key is imported or the default issuer is changed."
	warnMultipleKeyed    = "The imported bundle contained multiple certs matching keys, the default issuer that was selected should be verified and manually changed if incorrect."
	warnDefaultUnchanged = "Default issuer left unchanged: could not select new issuer automatically as multiple imported issuers had key material in Vault."
)

// Import imports CA material (spec §3.2 import, and intermediate/set-signed
// which uses the same engine): every certificate of the bundle becomes an
// issuer (de-duplicated by exact DER, linked to the stored key with the
// same public key, named after the key's pending issuer_name), every
// private key a key (de-duplicated by public key). Exactly one of
// pemBundle (config/ca, issuers/import/*) and certificate (set-signed) is
// expected; keys are refused when !keysAllowed or when certificate is used.
// Re-importing the same bundle changes nothing. New issuers force a CRL
// rebuild.
func (a *Authority) Import(ctx context.Context, pemBundle, certificate string, keysAllowed bool) (*ImportResult, error) {
	switch {
	case pemBundle == "" && certificate == "":
		return nil, errs.Invalidf("'pem_bundle' and 'certificate' parameters were empty")
	case pemBundle != "" && certificate != "":
		return nil, errs.Invalidf("'pem_bundle' and 'certificate' parameters were both provided")
	case certificate != "":
		keysAllowed, pemBundle = false, certificate
	}
	if len(pemBundle) < 75 {
		return nil, errs.Invalidf("provided data for import was too short; perhaps a path was passed to the API rather than the contents of a PEM file")
	}
	certs, keyBlocks, err := splitBundle(pemBundle)
	if err != nil {
		return nil, err
	}
	if len(keyBlocks) > 0 && !keysAllowed {
		return nil, errs.Invalidf("private keys found in the PEM bundle but not allowed by the path; use /issuers/import/bundle")
	}
	keys, err := parseKeys(keyBlocks)
	if err != nil {
		return nil, err
	}
	res := &ImportResult{Mapping: map[string]string{}}
	var keyed int
	err = a.cfg.Space.Update(func(tx storage.Tx) error {
		var err error
		keyed, err = a.importTx(tx, certs, keys, res)
		return err
	})
	if err != nil {
		return nil, err
	}
	// Vault's order: CRL rebuild notes, then the default issuer notes.
	if len(res.ImportedIssuers) > 0 {
		w, err := a.rebuildCRL(ctx, true)
		if err != nil {
			res.Warnings = append(res.Warnings, "Rebuilding the CRL failed. While this is indicative of a problem with the imported issuers (perhaps because of their revocation_signature_algorithm), they did import successfully and are now usable. It is strongly suggested to fix the CRL building errors before continuing. The original error is reproduced below:\n\n\t"+errs.Message(err))
		}
		res.Warnings = append(res.Warnings, w...)
	}
	if err := a.cfg.Space.View(func(tx storage.Tx) error { return importWarnings(tx, res, keyed) }); err != nil {
		return nil, err
	}
	return res, nil
}

// bundleCert is a certificate of a bundle with the PEM it came as.
type bundleCert struct {
	cert *x509.Certificate
	pem  string
	err  error
}

// splitBundle reads the PEM blocks of a bundle: certificates, and keys
// (anything that is not a certificate, CRL or EC parameters), tolerating
// text between blocks as OpenSSL's output has. Keys are returned as DER,
// parsed only once the path is known to accept them.
func splitBundle(bundle string) ([]bundleCert, [][]byte, error) {
	rest := []byte(bundle)
	var certs []bundleCert
	var keys [][]byte
	for i := 1; len(bytes.TrimSpace(rest)) > 0; i++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, nil, errs.Invalidf("error when parsing block %d: invalid PEM data", i)
		}
		switch block.Type {
		case "CERTIFICATE", "X509 CERTIFICATE":
			c, err := x509.ParseCertificate(block.Bytes)
			certs = append(certs, bundleCert{cert: c, pem: string(pem.EncodeToMemory(block)), err: err})
		case "CRL", "X509 CRL", "EC PARAMS", "EC PARAMETERS":
		default:
			keys = append(keys, block.Bytes)
		}
	}
	return certs, keys, nil
}

// parseKeys parses the key blocks of a bundle.
func parseKeys(blocks [][]byte) ([]crypto.Signer, error) {
	keys := make([]crypto.Signer, 0, len(blocks))
	for i, der := range blocks {
		k, err := ParsePrivateKeyDER(der)
		if err != nil {
			return nil, errs.Invalidf("Error parsing key %v: %v", i, errs.Message(err))
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// importTx stores the bundle's keys and issuers and applies
// default_follows_latest_issuer; it returns how many new issuers have a key.
func (a *Authority) importTx(tx storage.Tx, certs []bundleCert, keys []crypto.Signer, res *ImportResult) (int, error) {
	*res = ImportResult{Mapping: map[string]string{}}
	for _, k := range keys {
		rec, existed, err := a.storeKey(tx, k, "", "")
		if err != nil {
			return 0, err
		}
		res.ImportedKeys, res.ExistingKeys = appendIf(!existed, res.ImportedKeys, res.ExistingKeys, rec.ID)
	}
	keyed := 0
	for i, bc := range certs {
		if bc.err != nil {
			return 0, errs.Invalidf("Error parsing issuer %v: %v\n%v", i, bc.err, bc.pem)
		}
		rec, existed, note, err := a.storeIssuer(tx, bc.cert, "")
		if note != "" {
			res.Warnings = append(res.Warnings, note)
		}
		if err != nil {
			return 0, errs.Wrap(errs.KindOf(err), err, fmt.Sprintf("Error parsing issuer %v: %v\n%v", i, errs.Message(err), bc.pem))
		}
		res.Mapping[rec.ID] = rec.KeyID
		res.ImportedIssuers, res.ExistingIssuers = appendIf(!existed, res.ImportedIssuers, res.ExistingIssuers, rec.ID)
		if !existed && rec.KeyID != "" {
			keyed++
		}
	}
	if err := a.rebuildChains(tx); err != nil {
		return 0, err
	}
	return keyed, followLatest(tx, res, keyed)
}

// followLatest applies default_follows_latest_issuer: a single new keyed
// issuer becomes the default.
func followLatest(tx storage.Tx, res *ImportResult, keyed int) error {
	cfg, err := records.GetIssuersConfig(tx)
	if err != nil || !cfg.FollowsLatest || keyed != 1 {
		return err
	}
	for _, id := range res.ImportedIssuers {
		if res.Mapping[id] != "" {
			cfg.Default = id
		}
	}
	return records.PutIssuersConfig(tx, cfg)
}

// importWarnings adds Vault's notes on the default issuer and on missing
// AIA configuration after an import.
func importWarnings(tx storage.Tx, res *ImportResult, keyed int) error {
	cfg, err := records.GetIssuersConfig(tx)
	if err != nil {
		return err
	}
	if cfg.FollowsLatest && len(res.ImportedIssuers) > 0 && keyed > 1 {
		res.Warnings = append(res.Warnings, warnDefaultUnchanged)
	}
	if keyID, ok := res.Mapping[cfg.Default]; cfg.Default != "" && ok && keyID == "" {
		res.Warnings = append(res.Warnings, warnDefaultNoKey)
	}
	if keyed > 1 && contains(res.ImportedIssuers, cfg.Default) {
		res.Warnings = append(res.Warnings, warnMultipleKeyed)
	}
	urls, err := records.GetURLs(tx)
	if err != nil {
		return err
	}
	if urls.Empty() {
		res.Warnings = append(res.Warnings, warnNoAIA)
	}
	return nil
}

func appendIf(cond bool, yes, no []string, v string) ([]string, []string) {
	if cond {
		return append(yes, v), no
	}
	return yes, append(no, v)
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
