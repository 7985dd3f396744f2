package api

import (
	"fmt"
	"time"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/field"
	"github.com/pkid-dev/pkid/roles"
)

// roleRequest is the body of a role write, typed as Vault's role schema
// types it. The Vault names live here, at the edge, so roles.Settings stays
// a plain Go type. Start from defaultRoleRequest: field.Decode leaves
// omitted fields alone, so they keep Vault's defaults (POST replaces the
// whole role). The field order is the decode order, which picks the error a
// body with several bad fields gets: keep it as Vault's schema had it.
type roleRequest struct {
	// Name and Backend are in Vault's schema (hvac sends name); the path
	// capture decides the name.
	Name    string `json:"name"`
	Backend string `json:"backend"`

	IssuerRef string        `json:"issuer_ref"`
	TTL       time.Duration `json:"ttl"`
	MaxTTL    time.Duration `json:"max_ttl"`

	AllowLocalhost            bool     `json:"allow_localhost"`
	AllowedDomains            []string `json:"allowed_domains"`
	AllowedDomainsTemplate    bool     `json:"allowed_domains_template"`
	AllowBareDomains          bool     `json:"allow_bare_domains"`
	AllowSubdomains           bool     `json:"allow_subdomains"`
	AllowGlobDomains          bool     `json:"allow_glob_domains"`
	AllowWildcardCertificates bool     `json:"allow_wildcard_certificates"`
	AllowAnyName              bool     `json:"allow_any_name"`
	EnforceHostnames          bool     `json:"enforce_hostnames"`

	AllowIPSANs            bool     `json:"allow_ip_sans"`
	AllowedURISANs         []string `json:"allowed_uri_sans"`
	AllowedURISANsTemplate bool     `json:"allowed_uri_sans_template"`
	AllowedOtherSANs       []string `json:"allowed_other_sans"`
	AllowedSerialNumbers   []string `json:"allowed_serial_numbers"`
	AllowedUserIDs         []string `json:"allowed_user_ids"`

	ServerFlag          bool     `json:"server_flag"`
	ClientFlag          bool     `json:"client_flag"`
	CodeSigningFlag     bool     `json:"code_signing_flag"`
	EmailProtectionFlag bool     `json:"email_protection_flag"`
	KeyUsage            []string `json:"key_usage"`
	ExtKeyUsage         []string `json:"ext_key_usage"`
	ExtKeyUsageOIDs     []string `json:"ext_key_usage_oids"`

	UseCSRCommonName bool `json:"use_csr_common_name"`
	UseCSRSANs       bool `json:"use_csr_sans"`

	subjectWire

	KeyType       string `json:"key_type"`
	KeyBits       int    `json:"key_bits"`
	SignatureBits int    `json:"signature_bits"`
	UsePSS        bool   `json:"use_pss"`

	GenerateLease   bool `json:"generate_lease"`
	NoStore         bool `json:"no_store"`
	NoStoreMetadata bool `json:"no_store_metadata"`

	RequireCN                     bool          `json:"require_cn"`
	CNValidations                 []string      `json:"cn_validations"`
	BasicConstraintsValidForNonCA bool          `json:"basic_constraints_valid_for_non_ca"`
	NotBeforeDuration             time.Duration `json:"not_before_duration"`
	NotAfter                      string        `json:"not_after"`
	SerialNumberSource            string        `json:"serial_number_source"`

	// PolicyIdentifiers is a comma list of OIDs, or one string holding a
	// JSON array of {"oid","cps","notice"} objects (Vault accepts both).
	PolicyIdentifiers any `json:"policy_identifiers"`
}

// defaultRoleRequest holds Vault's defaults, which roles defines.
func defaultRoleRequest() roleRequest {
	return roleRequestOf(roles.DefaultSettings())
}

// role builds and validates the role the request writes under name.
func (q *roleRequest) role(name string) (*roles.Role, []string, error) {
	policies, err := policyIdentifiers(q.PolicyIdentifiers)
	if err != nil {
		return nil, nil, err
	}
	return roles.New(name, q.settings(), policies)
}

func (q *roleRequest) settings() roles.Settings {
	return roles.Settings{
		IssuerRef: q.IssuerRef, TTL: q.TTL, MaxTTL: q.MaxTTL,

		AllowLocalhost: q.AllowLocalhost, AllowedDomains: q.AllowedDomains,
		AllowedDomainsTemplate: q.AllowedDomainsTemplate, AllowBareDomains: q.AllowBareDomains,
		AllowSubdomains: q.AllowSubdomains, AllowGlobDomains: q.AllowGlobDomains,
		AllowWildcardCertificates: q.AllowWildcardCertificates, AllowAnyName: q.AllowAnyName,
		EnforceHostnames: q.EnforceHostnames,

		AllowIPSANs: q.AllowIPSANs, AllowedURISANs: q.AllowedURISANs,
		AllowedURISANsTemplate: q.AllowedURISANsTemplate, AllowedOtherSANs: q.AllowedOtherSANs,
		AllowedSerialNumbers: q.AllowedSerialNumbers, AllowedUserIDs: q.AllowedUserIDs,

		ServerFlag: q.ServerFlag, ClientFlag: q.ClientFlag, CodeSigningFlag: q.CodeSigningFlag,
		EmailProtectionFlag: q.EmailProtectionFlag, KeyUsage: q.KeyUsage,
		ExtKeyUsage: q.ExtKeyUsage, ExtKeyUsageOIDs: q.ExtKeyUsageOIDs,

		UseCSRCommonName: q.UseCSRCommonName, UseCSRSANs: q.UseCSRSANs,

		Subject: q.subjectWire.subject(),

		KeyType: q.KeyType, KeyBits: q.KeyBits, SignatureBits: q.SignatureBits, UsePSS: q.UsePSS,

		GenerateLease: q.GenerateLease, NoStore: q.NoStore, NoStoreMetadata: q.NoStoreMetadata,

		RequireCN: q.RequireCN, CNValidations: q.CNValidations,
		BasicConstraintsValidForNonCA: q.BasicConstraintsValidForNonCA,
		NotBeforeDuration:             q.NotBeforeDuration, NotAfter: q.NotAfter,
		SerialNumberSource: q.SerialNumberSource,
	}
}

// roleRequestOf is the inverse of settings, for defaults held in roles.
func roleRequestOf(s roles.Settings) roleRequest {
	return roleRequest{
		IssuerRef: s.IssuerRef, TTL: s.TTL, MaxTTL: s.MaxTTL,

		AllowLocalhost: s.AllowLocalhost, AllowedDomains: s.AllowedDomains,
		AllowedDomainsTemplate: s.AllowedDomainsTemplate, AllowBareDomains: s.AllowBareDomains,
		AllowSubdomains: s.AllowSubdomains, AllowGlobDomains: s.AllowGlobDomains,
		AllowWildcardCertificates: s.AllowWildcardCertificates, AllowAnyName: s.AllowAnyName,
		EnforceHostnames: s.EnforceHostnames,

		AllowIPSANs: s.AllowIPSANs, AllowedURISANs: s.AllowedURISANs,
		AllowedURISANsTemplate: s.AllowedURISANsTemplate, AllowedOtherSANs: s.AllowedOtherSANs,
		AllowedSerialNumbers: s.AllowedSerialNumbers, AllowedUserIDs: s.AllowedUserIDs,

		ServerFlag: s.ServerFlag, ClientFlag: s.ClientFlag, CodeSigningFlag: s.CodeSigningFlag,
		EmailProtectionFlag: s.EmailProtectionFlag, KeyUsage: s.KeyUsage,
		ExtKeyUsage: s.ExtKeyUsage, ExtKeyUsageOIDs: s.ExtKeyUsageOIDs,

		UseCSRCommonName: s.UseCSRCommonName, UseCSRSANs: s.UseCSRSANs,

		subjectWire: subjectWireOf(s.Subject),

		KeyType: s.KeyType, KeyBits: s.KeyBits, SignatureBits: s.SignatureBits, UsePSS: s.UsePSS,

		GenerateLease: s.GenerateLease, NoStore: s.NoStore, NoStoreMetadata: s.NoStoreMetadata,

		RequireCN: s.RequireCN, CNValidations: s.CNValidations,
		BasicConstraintsValidForNonCA: s.BasicConstraintsValidForNonCA,
		NotBeforeDuration:             s.NotBeforeDuration, NotAfter: s.NotAfter,
		SerialNumberSource: s.SerialNumberSource,
	}
}

// policyIdentifiers reads policy_identifiers as Vault does: a string that is
// a JSON array of qualifier objects becomes one JSON object string per entry;
// anything else is a comma list.
func policyIdentifiers(raw any) ([]string, error) {
	if raw == nil {
		return []string{}, nil
	}
	if s, ok := raw.(string); ok {
		if list, err := roles.PolicyEntries(s); err == nil {
			return list, nil
		}
	}
	list, err := field.CommaList(raw)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, fmt.Sprintf(
			"Field validation failed: error converting input for field %q: %v", "policy_identifiers", err))
	}
	return list, nil
}
