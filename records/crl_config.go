package records

import (
	"time"

	"github.com/pkid-dev/pkid/storage"
)

// The mount's CRL configs: config/crl and config/auto-tidy. crl decides
// what they mean and what an unconfigured mount uses; this file only knows
// how they sit on disk. The stored names predate this file (crl once
// stored its own tagged types), so the V1 types copy them field for field,
// in their order, and api's golden fixtures pin the bytes.

// CRLConfig is config/crl. Durations are the strings the client sent, as
// Vault stores and echoes them.
type CRLConfig struct {
	// Version is kept as read, not stamped: records written before this
	// type existed carry whatever crl put there.
	Version                    int
	Expiry                     string
	Disable                    bool
	OCSPDisable                bool
	OCSPExpiry                 string
	AutoRebuild                bool
	AutoRebuildGracePeriod     string
	EnableDelta                bool
	DeltaRebuildInterval       string
	AllowExpiredCertRevocation bool
	UnifiedCRL                 bool
	UnifiedCRLOnExistingPaths  bool
	CrossClusterRevocation     bool
	MaxCRLEntries              int
}

// crlConfigV1 is config/crl as stored. It has CRLConfig's fields exactly, so
// the two convert directly and a field added to one alone fails to build.
type crlConfigV1 struct {
	Version                    int    `json:"version"`
	Expiry                     string `json:"expiry"`
	Disable                    bool   `json:"disable"`
	OCSPDisable                bool   `json:"ocsp_disable"`
	OCSPExpiry                 string `json:"ocsp_expiry"`
	AutoRebuild                bool   `json:"auto_rebuild"`
	AutoRebuildGracePeriod     string `json:"auto_rebuild_grace_period"`
	EnableDelta                bool   `json:"enable_delta"`
	DeltaRebuildInterval       string `json:"delta_rebuild_interval"`
	AllowExpiredCertRevocation bool   `json:"allow_expired_cert_revocation"`
	UnifiedCRL                 bool   `json:"unified_crl"`
	UnifiedCRLOnExistingPaths  bool   `json:"unified_crl_on_existing_paths"`
	CrossClusterRevocation     bool   `json:"cross_cluster_revocation"`
	MaxCRLEntries              int    `json:"max_crl_entries"`
}

// AutoTidy is config/auto-tidy: whether and how often tidy runs by itself,
// the operations it runs and their buffers.
type AutoTidy struct {
	// Version is kept as read, as CRLConfig's is.
	Version    int
	Enabled    bool
	Interval   time.Duration
	MinBackoff time.Duration
	MaxBackoff time.Duration

	CertStore         bool
	RevokedCerts      bool
	IssuerAssocs      bool
	ExpiredIssuers    bool
	InvalidCerts      bool
	BackupBundle      bool
	Acme              bool
	RevocationQueue   bool
	CrossRevokedCerts bool
	CertMetadata      bool
	CMPV2NonceStore   bool

	SafetyBuffer time.Duration
	// RevokedSafetyBuffer is nil when it follows SafetyBuffer.
	RevokedSafetyBuffer *time.Duration
	IssuerSafetyBuffer  time.Duration
	AcmeSafetyBuffer    time.Duration
	QueueSafetyBuffer   time.Duration
	PauseDuration       time.Duration
	PageSize            int
	MaintainCount       bool
	PublishMetrics      bool
}

// autoTidyV1 is config/auto-tidy as stored, flat: the operation flags sit
// between the backoffs and the buffers, where crl's embedded struct put
// them. Its fields are AutoTidy's, for the same direct conversion.
type autoTidyV1 struct {
	Version    int           `json:"version"`
	Enabled    bool          `json:"enabled"`
	Interval   time.Duration `json:"interval"`
	MinBackoff time.Duration `json:"min_startup_backoff"`
	MaxBackoff time.Duration `json:"max_startup_backoff"`

	CertStore         bool `json:"tidy_cert_store"`
	RevokedCerts      bool `json:"tidy_revoked_certs"`
	IssuerAssocs      bool `json:"tidy_revoked_cert_issuer_associations"`
	ExpiredIssuers    bool `json:"tidy_expired_issuers"`
	InvalidCerts      bool `json:"tidy_invalid_certs"`
	BackupBundle      bool `json:"tidy_move_legacy_ca_bundle"`
	Acme              bool `json:"tidy_acme"`
	RevocationQueue   bool `json:"tidy_revocation_queue"`
	CrossRevokedCerts bool `json:"tidy_cross_cluster_revoked_certs"`
	CertMetadata      bool `json:"tidy_cert_metadata"`
	CMPV2NonceStore   bool `json:"tidy_cmpv2_nonce_store"`

	SafetyBuffer        time.Duration  `json:"safety"`
	RevokedSafetyBuffer *time.Duration `json:"revoked_safety"`
	IssuerSafetyBuffer  time.Duration  `json:"issuer_safety"`
	AcmeSafetyBuffer    time.Duration  `json:"acme_safety"`
	QueueSafetyBuffer   time.Duration  `json:"queue_safety"`
	PauseDuration       time.Duration  `json:"pause"`
	PageSize            int            `json:"page_size"`
	MaintainCount       bool           `json:"maintain_stored_certificate_counts"`
	PublishMetrics      bool           `json:"publish_stored_certificate_count_metrics"`
}

// GetCRLConfig returns config/crl read over defaults: a missing record is
// defaults, and a field an older record lacks keeps its default. On a
// decode error the partly read value comes back with the error.
func GetCRLConfig(tx storage.Tx, defaults CRLConfig) (CRLConfig, error) {
	s := crlConfigV1(defaults)
	_, err := storage.GetJSON(tx, CRLConfigKey, &s)
	return CRLConfig(s), err
}

// PutCRLConfig writes config/crl.
func PutCRLConfig(tx storage.Tx, c CRLConfig) error {
	return storage.PutJSON(tx, CRLConfigKey, crlConfigV1(c))
}

// GetAutoTidy returns config/auto-tidy read over defaults, as GetCRLConfig
// does.
func GetAutoTidy(tx storage.Tx, defaults AutoTidy) (AutoTidy, error) {
	// The decoder writes through a pointer it finds set, so the caller's
	// defaults get a pointer of their own.
	defaults.RevokedSafetyBuffer = clonePtr(defaults.RevokedSafetyBuffer)
	s := autoTidyV1(defaults)
	_, err := storage.GetJSON(tx, AutoTidyKey, &s)
	return AutoTidy(s), err
}

// PutAutoTidy writes config/auto-tidy.
func PutAutoTidy(tx storage.Tx, c AutoTidy) error {
	return storage.PutJSON(tx, AutoTidyKey, autoTidyV1(c))
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
