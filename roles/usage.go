package roles

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"fmt"
	"strings"
)

// KeyUsages reads key_usage names (x509.KeyUsage without the prefix,
// case-insensitive). Unknown names are ignored, as Vault ignores them.
func KeyUsages(names []string) x509.KeyUsage {
	var ku x509.KeyUsage
	for _, n := range names {
		switch strings.ToLower(strings.TrimSpace(n)) {
		case "digitalsignature":
			ku |= x509.KeyUsageDigitalSignature
		case "contentcommitment":
			ku |= x509.KeyUsageContentCommitment
		case "keyencipherment":
			ku |= x509.KeyUsageKeyEncipherment
		case "dataencipherment":
			ku |= x509.KeyUsageDataEncipherment
		case "keyagreement":
			ku |= x509.KeyUsageKeyAgreement
		case "certsign":
			ku |= x509.KeyUsageCertSign
		case "crlsign":
			ku |= x509.KeyUsageCRLSign
		case "encipheronly":
			ku |= x509.KeyUsageEncipherOnly
		case "decipheronly":
			ku |= x509.KeyUsageDecipherOnly
		}
	}
	return ku
}

// extKeyUsageNames maps Vault's ext_key_usage names (lower-cased) to Go's.
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

// extKeyUsageOrder is the order certutil's AddKeyUsages emits them in.
var extKeyUsageOrder = []x509.ExtKeyUsage{
	x509.ExtKeyUsageAny, x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth,
	x509.ExtKeyUsageCodeSigning, x509.ExtKeyUsageEmailProtection,
	x509.ExtKeyUsageIPSECEndSystem, x509.ExtKeyUsageIPSECTunnel, x509.ExtKeyUsageIPSECUser,
	x509.ExtKeyUsageTimeStamping, x509.ExtKeyUsageOCSPSigning,
	x509.ExtKeyUsageMicrosoftServerGatedCrypto, x509.ExtKeyUsageNetscapeServerGatedCrypto,
	x509.ExtKeyUsageMicrosoftCommercialCodeSigning, x509.ExtKeyUsageMicrosoftKernelCodeSigning,
}

// ExtKeyUsages ORs the four role flags (CA paths pass none) with the
// ext_key_usage names (unknown names ignored) and returns them, without
// duplicates, in Vault's order.
func ExtKeyUsages(names []string, server, client, codeSigning, email bool) []x509.ExtKeyUsage {
	set := map[x509.ExtKeyUsage]bool{
		x509.ExtKeyUsageServerAuth:      server,
		x509.ExtKeyUsageClientAuth:      client,
		x509.ExtKeyUsageCodeSigning:     codeSigning,
		x509.ExtKeyUsageEmailProtection: email,
	}
	for _, n := range names {
		if eku, ok := extKeyUsageNames[strings.ToLower(strings.TrimSpace(n))]; ok {
			set[eku] = true
		}
	}
	var out []x509.ExtKeyUsage
	for _, eku := range extKeyUsageOrder {
		if set[eku] {
			out = append(out, eku)
		}
	}
	return out
}

// ExtKeyUsageOIDs parses ext_key_usage_oids; entries that do not parse are
// skipped (they were refused at role write).
func ExtKeyUsageOIDs(oids []string) []asn1.ObjectIdentifier {
	var out []asn1.ObjectIdentifier
	for _, s := range oids {
		if oid, err := ParseOID(s); err == nil {
			out = append(out, oid)
		}
	}
	return out
}

// policyEntry is one qualified policy as Vault stores it: a JSON object.
type policyEntry struct {
	OID    string `json:"oid"`
	CPS    string `json:"cps,omitempty"`
	Notice string `json:"notice,omitempty"`
}

// Policies is a role's Certificate Policies (RFC 5280 §4.2.1.4).
type Policies struct {
	// OIDs are the policy identifiers.
	OIDs []asn1.ObjectIdentifier
	// Extension, when not nil, is the whole certificatePolicies extension
	// with CPS / user notice qualifiers; it replaces what Go would build
	// from OIDs.
	Extension *pkix.Extension
}

// parsePolicies reads policy_identifiers entries: each a dotted OID or a
// JSON {"oid","cps","notice"} object. Empty entries are skipped.
func parsePolicies(entries []string) ([]policyEntry, error) {
	var out []policyEntry
	for _, s := range entries {
		if s == "" {
			continue
		}
		_, oidErr := ParseOID(s)
		if oidErr == nil {
			out = append(out, policyEntry{OID: s})
			continue
		}
		var e policyEntry
		if err := json.Unmarshal([]byte(s), &e); err != nil {
			return nil, fmt.Errorf("Policy Identifier %q is neither a valid OID: %s, Nor JSON Policy Identifier: %s", s, oidErr, err)
		}
		if _, err := ParseOID(e.OID); err != nil {
			return nil, fmt.Errorf("Policy Identifier %q is neither a valid OID: %s, Nor JSON Policy Identifier: invalid oid %q", s, oidErr, e.OID)
		}
		out = append(out, e)
	}
	return out, nil
}

// PolicyInfo builds the Certificate Policies of the role's
// policy_identifiers. Plain OIDs go to Go's template field; when any entry
// is in the JSON form (with or without qualifiers) the whole extension is
// built here, as Vault's AddPolicyIdentifiers does: Go cannot encode
// qualifiers, and the extension then sits among the extra extensions, after
// the ones Go builds.
func PolicyInfo(entries []string) (Policies, error) {
	parsed, err := parsePolicies(entries)
	if err != nil {
		return Policies{}, err
	}
	var p Policies
	qualified := false
	for _, e := range parsed {
		oid, _ := ParseOID(e.OID)
		p.OIDs = append(p.OIDs, oid)
	}
	for _, s := range entries {
		if _, err := ParseOID(s); err != nil && s != "" {
			qualified = true
		}
	}
	if !qualified {
		return p, nil
	}
	ext, err := policyExtension(parsed)
	if err != nil {
		return Policies{}, err
	}
	p.Extension = ext
	return p, nil
}

// ASN.1 of RFC 5280 §4.2.1.4 PolicyInformation and its two qualifiers.
type policyInformation struct {
	Policy     asn1.ObjectIdentifier
	Qualifiers []any `asn1:"optional,omitempty"`
}

type cpsQualifier struct {
	ID  asn1.ObjectIdentifier
	URI string `asn1:"ia5"`
}

type noticeQualifier struct {
	ID     asn1.ObjectIdentifier
	Notice userNotice
}

type userNotice struct {
	ExplicitText string `asn1:"utf8"`
}

var (
	oidCertificatePolicies = asn1.ObjectIdentifier{2, 5, 29, 32}
	oidQualifierCPS        = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 2, 1}
	oidQualifierUserNotice = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 2, 2}
)

func policyExtension(entries []policyEntry) (*pkix.Extension, error) {
	infos := make([]policyInformation, 0, len(entries))
	for _, e := range entries {
		oid, err := ParseOID(e.OID)
		if err != nil {
			return nil, err
		}
		pi := policyInformation{Policy: oid}
		if e.CPS != "" {
			pi.Qualifiers = append(pi.Qualifiers, cpsQualifier{ID: oidQualifierCPS, URI: e.CPS})
		}
		if e.Notice != "" {
			pi.Qualifiers = append(pi.Qualifiers, noticeQualifier{ID: oidQualifierUserNotice, Notice: userNotice{ExplicitText: e.Notice}})
		}
		infos = append(infos, pi)
	}
	der, err := asn1.Marshal(infos)
	if err != nil {
		return nil, fmt.Errorf("roles: encode certificate policies: %w", err)
	}
	return &pkix.Extension{Id: oidCertificatePolicies, Value: der}, nil
}
