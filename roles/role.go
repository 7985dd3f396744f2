// Package roles holds PKI roles: their fields and Vault's defaults, the name
// policy (which names a role allows), the key policy and the TTL rule, and
// the plan that turns a role plus an issue/sign request into the contents of
// a leaf certificate. Pure logic: no HTTP, no signing, no key generation.
package roles

import (
	"time"
)

// Role is a stored PKI role (spec §4.1). Each field's zero value is not
// necessarily Vault's default: roles are built by New (POST semantics),
// which fills every field a request omits with Vault's default.
type Role struct {
	// Name is the role's name (the path segment); not part of the record.
	Name string `json:"-"`

	Settings

	// AllowTokenDisplayName is a read-only legacy field: no request sets it,
	// but it is still returned and still honoured.
	AllowTokenDisplayName bool `json:"allow_token_displayname"`
	// PolicyIdentifiers holds plain OIDs or JSON {"oid","cps","notice"}
	// objects, one per entry, as Vault stores them.
	PolicyIdentifiers []string `json:"policy_identifiers"`

	// verbatim marks the synthetic role of sign-verbatim, whose
	// certificates copy the CSR's subject and extensions.
	verbatim bool
}

// Settings are the role fields a write sends and the role keeps as they
// were sent (Request and Role share them, so a field is declared once).
type Settings struct {
	// IssuerRef is resolved at use time: "default", an issuer ID or name.
	IssuerRef string `json:"issuer_ref"`

	// TTL is the validity when the request has none; 0 means the mount's
	// default lease TTL.
	TTL time.Duration `json:"ttl"`
	// MaxTTL caps requested TTLs; 0 means the mount's max lease TTL. It is
	// not itself capped by the mount's max (spec §4.1).
	MaxTTL time.Duration `json:"max_ttl"`

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

	Subject

	// KeyType is rsa, ec, ed25519 or any. KeyBits and SignatureBits hold
	// the resolved values (2048 for rsa, 256 for ec; 256-bit hashes for
	// rsa), as Vault stores and returns them.
	KeyType       string `json:"key_type"`
	KeyBits       int    `json:"key_bits"`
	SignatureBits int    `json:"signature_bits"`
	UsePSS        bool   `json:"use_pss"`

	GenerateLease   bool `json:"generate_lease"`
	NoStore         bool `json:"no_store"`
	NoStoreMetadata bool `json:"no_store_metadata"`

	RequireCN bool `json:"require_cn"`
	// CNValidations is "email" and/or "hostname", or the single "disabled".
	CNValidations                 []string `json:"cn_validations"`
	BasicConstraintsValidForNonCA bool     `json:"basic_constraints_valid_for_non_ca"`
	// NotBeforeDuration backdates NotBefore. Vault backdates 30s when it is
	// zero (certutil only overrides its 30s default with a positive value).
	NotBeforeDuration time.Duration `json:"not_before_duration"`
	// NotAfter, when set (RFC 3339), fixes every leaf's NotAfter.
	NotAfter string `json:"not_after"`
	// SerialNumberSource is Vault's json-csr (request, else CSR) or json.
	SerialNumberSource string `json:"serial_number_source"`
}

// Defaults Vault's role schema gives omitted fields (path_roles.go).
const (
	defaultIssuerRef         = "default"
	defaultNotBeforeDuration = 30 * time.Second
	defaultSerialSource      = "json-csr"
)
