package records

import (
	"time"

	"github.com/pkid-dev/pkid/roles"
)

// roleVersion is the version of the stored role layout this build writes.
const roleVersion = 1

// roleV1 is a role as stored, version 1: every field of roles.Role at the
// top level under its own JSON name. Its tags are the disk format and
// change only with the version; the wire names (api) may change freely.
type roleV1 struct {
	Version                       int           `json:"version"`
	IssuerRef                     string        `json:"issuer_ref"`
	TTL                           time.Duration `json:"ttl"`
	MaxTTL                        time.Duration `json:"max_ttl"`
	AllowLocalhost                bool          `json:"allow_localhost"`
	AllowedDomains                []string      `json:"allowed_domains"`
	AllowedDomainsTemplate        bool          `json:"allowed_domains_template"`
	AllowBareDomains              bool          `json:"allow_bare_domains"`
	AllowSubdomains               bool          `json:"allow_subdomains"`
	AllowGlobDomains              bool          `json:"allow_glob_domains"`
	AllowWildcardCertificates     bool          `json:"allow_wildcard_certificates"`
	AllowAnyName                  bool          `json:"allow_any_name"`
	EnforceHostnames              bool          `json:"enforce_hostnames"`
	AllowIPSANs                   bool          `json:"allow_ip_sans"`
	AllowedURISANs                []string      `json:"allowed_uri_sans"`
	AllowedURISANsTemplate        bool          `json:"allowed_uri_sans_template"`
	AllowedOtherSANs              []string      `json:"allowed_other_sans"`
	AllowedSerialNumbers          []string      `json:"allowed_serial_numbers"`
	AllowedUserIDs                []string      `json:"allowed_user_ids"`
	ServerFlag                    bool          `json:"server_flag"`
	ClientFlag                    bool          `json:"client_flag"`
	CodeSigningFlag               bool          `json:"code_signing_flag"`
	EmailProtectionFlag           bool          `json:"email_protection_flag"`
	KeyUsage                      []string      `json:"key_usage"`
	ExtKeyUsage                   []string      `json:"ext_key_usage"`
	ExtKeyUsageOIDs               []string      `json:"ext_key_usage_oids"`
	UseCSRCommonName              bool          `json:"use_csr_common_name"`
	UseCSRSANs                    bool          `json:"use_csr_sans"`
	OU                            []string      `json:"ou"`
	Organization                  []string      `json:"organization"`
	Country                       []string      `json:"country"`
	Locality                      []string      `json:"locality"`
	Province                      []string      `json:"province"`
	StreetAddress                 []string      `json:"street_address"`
	PostalCode                    []string      `json:"postal_code"`
	KeyType                       string        `json:"key_type"`
	KeyBits                       int           `json:"key_bits"`
	SignatureBits                 int           `json:"signature_bits"`
	UsePSS                        bool          `json:"use_pss"`
	GenerateLease                 bool          `json:"generate_lease"`
	NoStore                       bool          `json:"no_store"`
	NoStoreMetadata               bool          `json:"no_store_metadata"`
	RequireCN                     bool          `json:"require_cn"`
	CNValidations                 []string      `json:"cn_validations"`
	BasicConstraintsValidForNonCA bool          `json:"basic_constraints_valid_for_non_ca"`
	NotBeforeDuration             time.Duration `json:"not_before_duration"`
	NotAfter                      string        `json:"not_after"`
	SerialNumberSource            string        `json:"serial_number_source"`
	AllowTokenDisplayName         bool          `json:"allow_token_displayname"`
	PolicyIdentifiers             []string      `json:"policy_identifiers"`
}

// roleRecord is the stored form of r.
func roleRecord(r *roles.Role) roleV1 {
	return roleV1{
		Version:                       roleVersion,
		IssuerRef:                     r.IssuerRef,
		TTL:                           r.TTL,
		MaxTTL:                        r.MaxTTL,
		AllowLocalhost:                r.AllowLocalhost,
		AllowedDomains:                r.AllowedDomains,
		AllowedDomainsTemplate:        r.AllowedDomainsTemplate,
		AllowBareDomains:              r.AllowBareDomains,
		AllowSubdomains:               r.AllowSubdomains,
		AllowGlobDomains:              r.AllowGlobDomains,
		AllowWildcardCertificates:     r.AllowWildcardCertificates,
		AllowAnyName:                  r.AllowAnyName,
		EnforceHostnames:              r.EnforceHostnames,
		AllowIPSANs:                   r.AllowIPSANs,
		AllowedURISANs:                r.AllowedURISANs,
		AllowedURISANsTemplate:        r.AllowedURISANsTemplate,
		AllowedOtherSANs:              r.AllowedOtherSANs,
		AllowedSerialNumbers:          r.AllowedSerialNumbers,
		AllowedUserIDs:                r.AllowedUserIDs,
		ServerFlag:                    r.ServerFlag,
		ClientFlag:                    r.ClientFlag,
		CodeSigningFlag:               r.CodeSigningFlag,
		EmailProtectionFlag:           r.EmailProtectionFlag,
		KeyUsage:                      r.KeyUsage,
		ExtKeyUsage:                   r.ExtKeyUsage,
		ExtKeyUsageOIDs:               r.ExtKeyUsageOIDs,
		UseCSRCommonName:              r.UseCSRCommonName,
		UseCSRSANs:                    r.UseCSRSANs,
		OU:                            r.OU,
		Organization:                  r.Organization,
		Country:                       r.Country,
		Locality:                      r.Locality,
		Province:                      r.Province,
		StreetAddress:                 r.StreetAddress,
		PostalCode:                    r.PostalCode,
		KeyType:                       r.KeyType,
		KeyBits:                       r.KeyBits,
		SignatureBits:                 r.SignatureBits,
		UsePSS:                        r.UsePSS,
		GenerateLease:                 r.GenerateLease,
		NoStore:                       r.NoStore,
		NoStoreMetadata:               r.NoStoreMetadata,
		RequireCN:                     r.RequireCN,
		CNValidations:                 r.CNValidations,
		BasicConstraintsValidForNonCA: r.BasicConstraintsValidForNonCA,
		NotBeforeDuration:             r.NotBeforeDuration,
		NotAfter:                      r.NotAfter,
		SerialNumberSource:            r.SerialNumberSource,
		AllowTokenDisplayName:         r.AllowTokenDisplayName,
		PolicyIdentifiers:             r.PolicyIdentifiers,
	}
}

// role is the role a record holds, named name (the name is the key, not
// part of the record).
func (rec *roleV1) role(name string) *roles.Role {
	r := &roles.Role{Name: name}
	r.IssuerRef = rec.IssuerRef
	r.TTL = rec.TTL
	r.MaxTTL = rec.MaxTTL
	r.AllowLocalhost = rec.AllowLocalhost
	r.AllowedDomains = rec.AllowedDomains
	r.AllowedDomainsTemplate = rec.AllowedDomainsTemplate
	r.AllowBareDomains = rec.AllowBareDomains
	r.AllowSubdomains = rec.AllowSubdomains
	r.AllowGlobDomains = rec.AllowGlobDomains
	r.AllowWildcardCertificates = rec.AllowWildcardCertificates
	r.AllowAnyName = rec.AllowAnyName
	r.EnforceHostnames = rec.EnforceHostnames
	r.AllowIPSANs = rec.AllowIPSANs
	r.AllowedURISANs = rec.AllowedURISANs
	r.AllowedURISANsTemplate = rec.AllowedURISANsTemplate
	r.AllowedOtherSANs = rec.AllowedOtherSANs
	r.AllowedSerialNumbers = rec.AllowedSerialNumbers
	r.AllowedUserIDs = rec.AllowedUserIDs
	r.ServerFlag = rec.ServerFlag
	r.ClientFlag = rec.ClientFlag
	r.CodeSigningFlag = rec.CodeSigningFlag
	r.EmailProtectionFlag = rec.EmailProtectionFlag
	r.KeyUsage = rec.KeyUsage
	r.ExtKeyUsage = rec.ExtKeyUsage
	r.ExtKeyUsageOIDs = rec.ExtKeyUsageOIDs
	r.UseCSRCommonName = rec.UseCSRCommonName
	r.UseCSRSANs = rec.UseCSRSANs
	r.OU = rec.OU
	r.Organization = rec.Organization
	r.Country = rec.Country
	r.Locality = rec.Locality
	r.Province = rec.Province
	r.StreetAddress = rec.StreetAddress
	r.PostalCode = rec.PostalCode
	r.KeyType = rec.KeyType
	r.KeyBits = rec.KeyBits
	r.SignatureBits = rec.SignatureBits
	r.UsePSS = rec.UsePSS
	r.GenerateLease = rec.GenerateLease
	r.NoStore = rec.NoStore
	r.NoStoreMetadata = rec.NoStoreMetadata
	r.RequireCN = rec.RequireCN
	r.CNValidations = rec.CNValidations
	r.BasicConstraintsValidForNonCA = rec.BasicConstraintsValidForNonCA
	r.NotBeforeDuration = rec.NotBeforeDuration
	r.NotAfter = rec.NotAfter
	r.SerialNumberSource = rec.SerialNumberSource
	r.AllowTokenDisplayName = rec.AllowTokenDisplayName
	r.PolicyIdentifiers = rec.PolicyIdentifiers
	return r
}
