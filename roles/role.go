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
	Name string

	Settings

	// AllowTokenDisplayName is a read-only legacy field: no request sets it,
	// but it is still returned and still honoured.
	AllowTokenDisplayName bool
	// PolicyIdentifiers holds plain OIDs or JSON {"oid","cps","notice"}
	// objects, one per entry, as Vault stores them.
	PolicyIdentifiers []string

	// verbatim marks the synthetic role of sign-verbatim, whose
	// certificates copy the CSR's subject and extensions.
	verbatim bool
}

// Settings are the role fields a write sends and the role keeps as they
// were sent. They carry no wire names: the Vault schema is api's, which
// converts its request to Settings.
type Settings struct {
	// IssuerRef is resolved at use time: "default", an issuer ID or name.
	IssuerRef string

	// TTL is the validity when the request has none; 0 means the mount's
	// default lease TTL.
	TTL time.Duration
	// MaxTTL caps requested TTLs; 0 means the mount's max lease TTL. It is
	// not itself capped by the mount's max (spec §4.1).
	MaxTTL time.Duration

	AllowLocalhost            bool
	AllowedDomains            []string
	AllowedDomainsTemplate    bool
	AllowBareDomains          bool
	AllowSubdomains           bool
	AllowGlobDomains          bool
	AllowWildcardCertificates bool
	AllowAnyName              bool
	EnforceHostnames          bool

	AllowIPSANs            bool
	AllowedURISANs         []string
	AllowedURISANsTemplate bool
	AllowedOtherSANs       []string
	AllowedSerialNumbers   []string
	AllowedUserIDs         []string

	ServerFlag          bool
	ClientFlag          bool
	CodeSigningFlag     bool
	EmailProtectionFlag bool
	KeyUsage            []string
	ExtKeyUsage         []string
	ExtKeyUsageOIDs     []string

	UseCSRCommonName bool
	UseCSRSANs       bool

	Subject

	// KeyType is rsa, ec, ed25519 or any. KeyBits and SignatureBits hold
	// the resolved values (2048 for rsa, 256 for ec; 256-bit hashes for
	// rsa), as Vault stores and returns them.
	KeyType       string
	KeyBits       int
	SignatureBits int
	UsePSS        bool

	GenerateLease   bool
	NoStore         bool
	NoStoreMetadata bool

	RequireCN bool
	// CNValidations is "email" and/or "hostname", or the single "disabled".
	CNValidations                 []string
	BasicConstraintsValidForNonCA bool
	// NotBeforeDuration backdates NotBefore. Vault backdates 30s when it is
	// zero (certutil only overrides its 30s default with a positive value).
	NotBeforeDuration time.Duration
	// NotAfter, when set (RFC 3339), fixes every leaf's NotAfter.
	NotAfter string
	// SerialNumberSource is Vault's json-csr (request, else CSR) or json.
	SerialNumberSource string
}

// Defaults Vault's role schema gives omitted fields (path_roles.go).
const (
	defaultIssuerRef         = "default"
	defaultNotBeforeDuration = 30 * time.Second
	defaultSerialSource      = "json-csr"
)
