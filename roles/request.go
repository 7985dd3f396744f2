package roles

import (
	"encoding/asn1"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/pkid-dev/pkid/errs"
)

// DefaultSettings are the settings of a role write that sends nothing:
// every field at Vault's schema default (path_roles.go).
func DefaultSettings() Settings {
	return Settings{
		IssuerRef:                 defaultIssuerRef,
		AllowLocalhost:            true,
		AllowWildcardCertificates: true,
		EnforceHostnames:          true,
		AllowIPSANs:               true,
		ServerFlag:                true,
		ClientFlag:                true,
		KeyUsage:                  []string{"DigitalSignature", "KeyAgreement", "KeyEncipherment"},
		UseCSRCommonName:          true,
		UseCSRSANs:                true,
		KeyType:                   "rsa",
		RequireCN:                 true,
		CNValidations:             []string{"email", "hostname"},
		NotBeforeDuration:         defaultNotBeforeDuration,
		SerialNumberSource:        defaultSerialSource,
	}
}

// Warnings Vault adds to role writes (path_roles.go).
const (
	warnGenerateLease = "it is encouraged to disable generate_lease and rely on PKI's native " +
		"capabilities when possible; this option can cause instance-wide issues with large " +
		"numbers of issued certificates"
	warnNoStoreLease = "mutually exclusive values no_store=true and generate_lease=true were " +
		"both specified; no_store=true takes priority"
)

// New builds and validates the role a POST writes: every field the request
// omitted is at its default. It returns Vault's warnings with the role.
// Refusals are errs.Invalid (400), except the ones Vault answers with 500
// (unparsable policy identifiers, bad cn_validations: spec Appendix C),
// which are errs.InvalidVault500.
//
// s is every setting of the write (start from DefaultSettings); policies
// are the policy identifiers, plain OIDs or JSON objects (PolicyEntries).
func New(name string, s Settings, policies []string) (*Role, []string, error) {
	if err := checkAllowedOtherSANs(s.AllowedOtherSANs); err != nil {
		return nil, nil, err
	}
	r := &Role{Name: name, Settings: s, PolicyIdentifiers: policies}
	if r.IssuerRef == "" {
		r.IssuerRef = defaultIssuerRef
	}
	var warnings []string
	switch {
	case r.NoStore && s.GenerateLease:
		r.GenerateLease = false
		warnings = append(warnings, warnNoStoreLease)
	case r.NoStore:
		r.GenerateLease = false
	case r.GenerateLease:
		warnings = append(warnings, warnGenerateLease)
	}
	if err := r.validate(); err != nil {
		return nil, nil, err
	}
	return r, warnings, nil
}

// validate applies Vault's validateRole checks, in its order, and stores the
// resolved key_bits and signature_bits.
func (r *Role) validate() error {
	if r.MaxTTL > 0 && r.TTL > r.MaxTTL {
		return errs.Invalidf(`"ttl" value must be less than "max_ttl" value`)
	}
	bits, sigBits, err := ResolveKeyParams(r.KeyType, r.KeyBits, r.SignatureBits)
	if err != nil {
		return err
	}
	r.KeyBits, r.SignatureBits = bits, sigBits
	switch r.SerialNumberSource {
	case "":
		r.SerialNumberSource = defaultSerialSource
	case "json-csr", "json":
	default:
		return errs.Invalidf("unknown serial_number_source %s", r.SerialNumberSource)
	}
	for _, s := range r.ExtKeyUsageOIDs {
		if _, err := ParseOID(s); err != nil {
			return errs.Invalidf("%q could not be parsed as a valid oid for an extended key usage", s)
		}
	}
	if _, err := PolicyInfo(r.PolicyIdentifiers); err != nil {
		return errs.Wrap(errs.InvalidVault500, err, err.Error())
	}
	cnv, err := checkCNValidations(r.CNValidations)
	if err != nil {
		// A user error Vault nonetheless answers with 500 (Appendix C).
		return errs.Wrap(errs.InvalidVault500, err, err.Error())
	}
	r.CNValidations = cnv
	return nil
}

// checkCNValidations lower-cases the list and refuses unknown, repeated or
// contradictory values, with Vault's texts.
func checkCNValidations(in []string) ([]string, error) {
	if len(in) == 0 {
		return []string{"email", "hostname"}, nil
	}
	seen := map[string]bool{}
	out := make([]string, 0, len(in))
	for _, v := range in {
		lv := strings.ToLower(v)
		switch lv {
		case "disabled", "email", "hostname":
		default:
			return nil, fmt.Errorf("cn_validations value incorrect: unknown type: `%s`", v)
		}
		if seen[lv] {
			return nil, fmt.Errorf("cn_validations value incorrect: `%s` specified multiple times", lv)
		}
		seen[lv] = true
		out = append(out, lv)
	}
	if seen["disabled"] && (seen["email"] || seen["hostname"]) {
		return nil, fmt.Errorf("cn_validations value incorrect: cannot specify `disabled` along with `email` or `hostname`")
	}
	return out, nil
}

// PolicyEntries reads one string holding a JSON array of {"oid", "cps",
// "notice"} objects, as Vault accepts policy_identifiers, into one
// normalized JSON object string per entry.
func PolicyEntries(s string) ([]string, error) {
	var entries []policyEntry
	if err := json.Unmarshal([]byte(s), &entries); err != nil {
		return nil, err
	}
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		b, err := json.Marshal(e)
		if err != nil {
			return nil, err
		}
		out = append(out, string(b))
	}
	return out, nil
}

// ParseOID reads a dotted OID. Vault's StringToOid only asks that each arc
// be an integer; pkid also refuses what DER cannot encode (RFC 5280 §4.1.2:
// first arc 0..2, second below 40 under 0 and 1, no negative arcs), so that
// a bad OID is refused at role write rather than failing every issue.
// Package ca parses the OIDs of CA requests with it too.
func ParseOID(s string) (asn1.ObjectIdentifier, error) {
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return nil, fmt.Errorf("invalid OID %q", s)
	}
	oid := make(asn1.ObjectIdentifier, 0, len(parts))
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nil, fmt.Errorf("invalid OID %q", s)
		}
		oid = append(oid, n)
	}
	if oid[0] > 2 || (oid[0] < 2 && oid[1] >= 40) {
		return nil, fmt.Errorf("invalid OID %q", s)
	}
	return oid, nil
}
