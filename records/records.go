// Package records owns the stored records of one PKI mount: the key layout
// of its space (roles, issuers, keys, certificates, revocations, CRL state,
// configs), versioned record types that are separate from the API's wire
// shapes, and typed accessors that work inside a storage transaction.
//
// Domain packages take and return Go types; only this package knows how
// they are laid out on disk, so a rename at the API edge cannot change the
// disk format, and no domain package parses another's records. The golden
// files in api/testdata/golden pin the layout.
package records

// The key layout of a mount's space. Every record of a mount lives under
// one of these keys or prefixes (serials in hyphen form, IDs as UUIDs).
const (
	// RolePrefix holds roles by name (roleV1 records).
	RolePrefix = "role/"
	// IssuerPrefix holds issuers by ID; KeyPrefix keys by ID.
	IssuerPrefix = "config/issuer/"
	KeyPrefix    = "config/key/"
	// IssuersConfigKey is config/issuers (the default issuer);
	// KeysConfigKey is config/keys (the default key).
	IssuersConfigKey = "config/issuers"
	KeysConfigKey    = "config/keys"
	// URLsKey is config/urls (stored under "urls", as Vault does).
	URLsKey = "urls"
	// ClusterKey is config/cluster.
	ClusterKey = "config/cluster"
	// CertPrefix holds every stored certificate as raw DER by serial.
	CertPrefix = "certs/"
	// RevokedPrefix holds revocation records by serial; RevIndexPrefix the
	// per-issuer index of them (revidx/<issuer id>/<serial>);
	// DeltaWALPrefix the revocations not yet on a complete CRL.
	RevokedPrefix  = "revoked/"
	RevIndexPrefix = "revidx/"
	DeltaWALPrefix = "delta-wal/"
	// CRLPrefix holds CRL state: crls/config (numbering, last builds) and
	// each issuer's cached DER (crls/<id>, crls/<id>-delta).
	CRLPrefix = "crls/"
	// CRLConfigKey is config/crl.
	CRLConfigKey = "config/crl"
	// AutoTidyKey is config/auto-tidy; LastTidyKey the time of the last
	// automatic tidy run.
	AutoTidyKey = "config/auto-tidy"
	LastTidyKey = "config/auto-tidy-last-run"
)
