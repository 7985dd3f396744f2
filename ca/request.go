package ca

import (
	"crypto/x509"
	"fmt"
	"net"
	"strings"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/roles"
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
	KeyType *string
	KeyBits *int
	// SignatureBits picks the RSA hash (0 → 256).
	SignatureBits int
	// KeyName names a newly stored key.
	KeyName string
	// KeyRef selects the key of the existing mode ("" → default).
	KeyRef string
}

// CAExtensionFields are the CA certificate fields of root generation and
// sign-intermediate (spec §3.0 blocks CAISSUE and KU).
type CAExtensionFields struct {
	// MaxPathLength: nil means unlimited for a root and the signer's
	// length minus one for an intermediate; -1 unlimited; 0 pathlen:0.
	MaxPathLength *int
	// PermittedDNSDomains become a critical Name Constraints extension,
	// as do the other constraints Vault 1.18 added.
	PermittedDNSDomains     []string
	ExcludedDNSDomains      []string
	PermittedIPRanges       []string
	ExcludedIPRanges        []string
	PermittedEmailAddresses []string
	ExcludedEmailAddresses  []string
	PermittedURIDomains     []string
	ExcludedURIDomains      []string
	// KeyUsage, when sent, may add DigitalSignature to CertSign and
	// CRLSign; Vault ignores every other usage on a CA (with a warning).
	KeyUsage *[]string
	// ExtKeyUsage, when sent, is the certificate's EKU; sending
	// ExtKeyUsageOIDs clears the EKU (Vault's quirk).
	ExtKeyUsage     *[]string
	ExtKeyUsageOIDs *[]string
}

// OutputFields are the output fields of the CA endpoints.
type OutputFields struct {
	Format           string
	PrivateKeyFormat string
}

// checkMaxPathLength refuses a max_path_length below -1 (-1 means no
// constraint), with recent Vault's 400 rather than the signing failure older
// versions answered with.
func checkMaxPathLength(p *int) error {
	if p != nil && *p < -1 {
		return errs.Invalidf("requested max_path_length %d is invalid: must be a non-negative integer or -1 for no constraint", *p)
	}
	return nil
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
func (f CAExtensionFields) apply(tmpl *x509.Certificate, maxPathLen int) error {
	tmpl.BasicConstraintsValid = true
	tmpl.IsCA = true
	tmpl.MaxPathLen = maxPathLen
	tmpl.MaxPathLenZero = maxPathLen == 0
	// CA/B Forum BR 7.1.2.10.7: Digital Signature is the only usage a CA
	// certificate may add, and the only one Vault adds.
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	if f.KeyUsage != nil {
		tmpl.KeyUsage |= roles.KeyUsages(*f.KeyUsage) & x509.KeyUsageDigitalSignature
	}
	if f.ExtKeyUsage != nil {
		tmpl.ExtKeyUsage = roles.ExtKeyUsages(*f.ExtKeyUsage, false, false, false, false)
	}
	if f.ExtKeyUsageOIDs != nil {
		tmpl.ExtKeyUsage = nil
	}
	return f.applyNameConstraints(tmpl)
}

// applyNameConstraints sets the Name Constraints extension, critical
// whenever it has any content (as Vault marks it).
func (f CAExtensionFields) applyNameConstraints(tmpl *x509.Certificate) error {
	permittedIPs, err := parseIPRanges("permitted_ip_ranges", f.PermittedIPRanges)
	if err != nil {
		return err
	}
	excludedIPs, err := parseIPRanges("excluded_ip_ranges", f.ExcludedIPRanges)
	if err != nil {
		return err
	}
	tmpl.PermittedDNSDomains, tmpl.ExcludedDNSDomains = f.PermittedDNSDomains, f.ExcludedDNSDomains
	tmpl.PermittedIPRanges, tmpl.ExcludedIPRanges = permittedIPs, excludedIPs
	tmpl.PermittedEmailAddresses, tmpl.ExcludedEmailAddresses = f.PermittedEmailAddresses, f.ExcludedEmailAddresses
	tmpl.PermittedURIDomains, tmpl.ExcludedURIDomains = f.PermittedURIDomains, f.ExcludedURIDomains
	tmpl.PermittedDNSDomainsCritical = len(tmpl.PermittedDNSDomains)+len(tmpl.ExcludedDNSDomains)+
		len(permittedIPs)+len(excludedIPs)+len(tmpl.PermittedEmailAddresses)+len(tmpl.ExcludedEmailAddresses)+
		len(tmpl.PermittedURIDomains)+len(tmpl.ExcludedURIDomains) > 0
	return nil
}

// parseIPRanges reads CIDR ranges (RFC 4632 / RFC 4291 notation).
func parseIPRanges(field string, ranges []string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, r := range ranges {
		_, ipnet, err := net.ParseCIDR(r)
		if err != nil {
			return nil, errs.Invalidf("invalid %s value: error parsing IP range %q: %v", field, r, err)
		}
		out = append(out, ipnet)
	}
	return out, nil
}

// keyUsageProblems words what Vault ignores in a CA's key_usage
// (validateCaKeyUsages): "" when every usage is one a CA keeps.
func (f CAExtensionFields) keyUsageProblems() string {
	if f.KeyUsage == nil {
		return ""
	}
	var problems []string
	for _, u := range *f.KeyUsage {
		switch strings.ToLower(strings.TrimSpace(u)) {
		case "crlsign", "certsign", "digitalsignature":
		case "contentcommitment", "keyencipherment", "dataencipherment", "keyagreement", "encipheronly", "decipheronly":
			problems = append(problems, fmt.Sprintf("key usage %s is only valid for non-Ca certs", u))
		default:
			problems = append(problems, fmt.Sprintf("unrecognized key usage %s", u))
		}
	}
	return strings.Join(problems, "; ")
}
