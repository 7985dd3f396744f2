package ca

import (
	"crypto/x509"
	"strings"

	"pkid/errs"
)

// Export modes of the :exported path segment of the generation endpoints.
const (
	ModeInternal = "internal" // key generated and kept
	ModeExported = "exported" // key generated, kept and returned once
	ModeExisting = "existing" // key_ref selects a stored key
	ModeKMS      = "kms"      // external keys: not supported by pkid
)

// ParseMode validates the :exported path segment with Vault's error (sic,
// the missing quote is Vault's). kms is refused: pkid has no external keys.
func ParseMode(s string) (string, error) {
	switch s {
	case ModeInternal, ModeExported, ModeExisting:
		return s, nil
	case ModeKMS:
		return "", errs.Invalidf("the kms key type is not supported: pkid has no managed or external keys; use internal, exported or existing")
	}
	return "", errs.Invalidf(`the "exported" path parameter must be "internal", "existing", exported" or "kms"`)
}

// KeyFields are the key fields of the generation endpoints (spec §3.0
// block KEYGEN).
type KeyFields struct {
	// KeyType is rsa (when nil), ec or ed25519; KeyBits 0 means the type's
	// default. Neither may be sent with the existing mode.
	KeyType *string `json:"key_type"`
	KeyBits *int    `json:"key_bits"`
	// SignatureBits picks the RSA hash (0 → 256).
	SignatureBits int `json:"signature_bits"`
	// KeyName names a newly stored key.
	KeyName string `json:"key_name"`
	// KeyRef selects the key of the existing mode ("" → default).
	KeyRef string `json:"key_ref"`
}

// CAExtensionFields are the CA certificate fields of root generation and
// sign-intermediate (spec §3.0 blocks CAISSUE and KU).
type CAExtensionFields struct {
	// MaxPathLength: nil means unlimited for a root and the signer's
	// length minus one for an intermediate; -1 unlimited; 0 pathlen:0.
	MaxPathLength *int `json:"max_path_length"`
	// PermittedDNSDomains become a critical Name Constraints extension.
	PermittedDNSDomains []string `json:"permitted_dns_domains"`
	// KeyUsage, when sent, adds its usages to CertSign and CRLSign.
	KeyUsage *[]string `json:"key_usage"`
	// ExtKeyUsage, when sent, is the certificate's EKU; sending
	// ExtKeyUsageOIDs clears the EKU (Vault's quirk).
	ExtKeyUsage     *[]string `json:"ext_key_usage"`
	ExtKeyUsageOIDs *[]string `json:"ext_key_usage_oids"`
}

// OutputFields are the output fields of the CA endpoints.
type OutputFields struct {
	Format           string `json:"format"`
	PrivateKeyFormat string `json:"private_key_format"`
}

// keyParams resolves the key type, bits and signature bits of a generation
// request in mode (existing requests carry no key_type or key_bits).
func (k KeyFields) keyParams(mode string) (keyType string, keyBits, sigBits int, err error) {
	if mode == ModeExisting {
		if k.KeyType != nil || k.KeyBits != nil {
			return "", 0, 0, errs.Invalidf("invalid parameter for the kms/existing path parameter, key_type nor key_bits arguments can be set in this mode")
		}
		return "", 0, k.SignatureBits, nil
	}
	keyType = KeyTypeRSA
	if k.KeyType != nil && *k.KeyType != "" {
		keyType = *k.KeyType
	}
	if k.KeyBits != nil {
		keyBits = *k.KeyBits
	}
	if keyBits, err = ValidateKeyTypeBits(keyType, keyBits); err != nil {
		return "", 0, 0, err
	}
	if sigBits, err = ValidateSignatureBits(keyType, k.SignatureBits); err != nil {
		return "", 0, 0, err
	}
	return keyType, keyBits, sigBits, nil
}

// apply sets the CA extensions on a template: CA:TRUE basic constraints
// (critical), key usages, extended key usages and name constraints.
func (f CAExtensionFields) apply(tmpl *x509.Certificate, maxPathLen int) {
	tmpl.BasicConstraintsValid = true
	tmpl.IsCA = true
	tmpl.MaxPathLen = maxPathLen
	tmpl.MaxPathLenZero = maxPathLen == 0
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	if f.KeyUsage != nil {
		tmpl.KeyUsage |= parseKeyUsages(*f.KeyUsage)
	}
	if f.ExtKeyUsage != nil {
		tmpl.ExtKeyUsage = parseExtKeyUsages(*f.ExtKeyUsage)
	}
	if f.ExtKeyUsageOIDs != nil {
		tmpl.ExtKeyUsage = nil
	}
	if len(f.PermittedDNSDomains) > 0 {
		tmpl.PermittedDNSDomains = f.PermittedDNSDomains
		tmpl.PermittedDNSDomainsCritical = true
	}
}

var keyUsageNames = map[string]x509.KeyUsage{
	"digitalsignature":  x509.KeyUsageDigitalSignature,
	"contentcommitment": x509.KeyUsageContentCommitment,
	"keyencipherment":   x509.KeyUsageKeyEncipherment,
	"dataencipherment":  x509.KeyUsageDataEncipherment,
	"keyagreement":      x509.KeyUsageKeyAgreement,
	"certsign":          x509.KeyUsageCertSign,
	"crlsign":           x509.KeyUsageCRLSign,
	"encipheronly":      x509.KeyUsageEncipherOnly,
	"decipheronly":      x509.KeyUsageDecipherOnly,
}

// parseKeyUsages reads key usage names case-insensitively, ignoring
// unknown ones as Vault does.
func parseKeyUsages(names []string) x509.KeyUsage {
	var ku x509.KeyUsage
	for _, n := range names {
		ku |= keyUsageNames[strings.ToLower(strings.TrimSpace(n))]
	}
	return ku
}

var extKeyUsageNames = map[string]x509.ExtKeyUsage{
	"any":                            x509.ExtKeyUsageAny,
	"serverauth":                     x509.ExtKeyUsageServerAuth,
	"clientauth":                     x509.ExtKeyUsageClientAuth,
	"codesigning":                    x509.ExtKeyUsageCodeSigning,
	"emailprotection":                x509.ExtKeyUsageEmailProtection,
	"ipsecendsystem":                 x509.ExtKeyUsageIPSECEndSystem,
	"ipsectunnel":                    x509.ExtKeyUsageIPSECTunnel,
	"ipsecuser":                      x509.ExtKeyUsageIPSECUser,
	"timestamping":                   x509.ExtKeyUsageTimeStamping,
	"ocspsigning":                    x509.ExtKeyUsageOCSPSigning,
	"microsoftservergatedcrypto":     x509.ExtKeyUsageMicrosoftServerGatedCrypto,
	"netscapeservergatedcrypto":      x509.ExtKeyUsageNetscapeServerGatedCrypto,
	"microsoftcommercialcodesigning": x509.ExtKeyUsageMicrosoftCommercialCodeSigning,
	"microsoftkernelcodesigning":     x509.ExtKeyUsageMicrosoftKernelCodeSigning,
}

// parseExtKeyUsages reads extended key usage names case-insensitively,
// ignoring unknown ones.
func parseExtKeyUsages(names []string) []x509.ExtKeyUsage {
	var out []x509.ExtKeyUsage
	for _, n := range names {
		if eku, ok := extKeyUsageNames[strings.ToLower(strings.TrimSpace(n))]; ok {
			out = append(out, eku)
		}
	}
	return out
}
