package api

import (
	"time"

	"github.com/pkid-dev/pkid/crl"
)

// The Vault wire shapes of the revoke, config/crl, tidy and config/auto-tidy
// writes. crl's types are Go values with no names on them; these carry the
// field names, so a rename here cannot touch crl or the disk. Each keeps
// the field order and Go types crl's tagged types had: field decodes in
// that order and by those types, so errors, defaults and the set of known
// keys (the unknown-parameter warning) stay what they were.

// revokeWire is a revoke or revoke-with-key body.
type revokeWire struct {
	SerialNumber *string `json:"serial_number"`
	Certificate  *string `json:"certificate"`
	PrivateKey   *string `json:"private_key"`
}

// request is w for crl; withKey comes from the path, never the body.
func (w revokeWire) request(withKey bool) crl.RevokeRequest {
	return crl.RevokeRequest{SerialNumber: w.SerialNumber, Certificate: w.Certificate,
		PrivateKey: w.PrivateKey, WithKey: withKey}
}

// crlConfigPatchWire is a config/crl write.
type crlConfigPatchWire struct {
	Expiry                     *string `json:"expiry"`
	Disable                    *bool   `json:"disable"`
	OCSPDisable                *bool   `json:"ocsp_disable"`
	OCSPExpiry                 *string `json:"ocsp_expiry"`
	AutoRebuild                *bool   `json:"auto_rebuild"`
	AutoRebuildGracePeriod     *string `json:"auto_rebuild_grace_period"`
	EnableDelta                *bool   `json:"enable_delta"`
	DeltaRebuildInterval       *string `json:"delta_rebuild_interval"`
	AllowExpiredCertRevocation *bool   `json:"allow_expired_cert_revocation"`
	UnifiedCRL                 *bool   `json:"unified_crl"`
	UnifiedCRLOnExistingPaths  *bool   `json:"unified_crl_on_existing_paths"`
	CrossClusterRevocation     *bool   `json:"cross_cluster_revocation"`
	MaxCRLEntries              *int    `json:"max_crl_entries"`
}

// patch is w for crl: the fields match one for one, so a field added to
// only one side fails to build.
func (w crlConfigPatchWire) patch() crl.CRLConfigPatch { return crl.CRLConfigPatch(w) }

// tidyWire is a tidy body. The operation flags come first, where crl's
// embedded TidyOps put them; they are flat because field cannot set the
// fields of an unexported embedded struct.
type tidyWire struct {
	CertStore           bool           `json:"tidy_cert_store"`
	RevokedCerts        bool           `json:"tidy_revoked_certs"`
	IssuerAssocs        bool           `json:"tidy_revoked_cert_issuer_associations"`
	ExpiredIssuers      bool           `json:"tidy_expired_issuers"`
	InvalidCerts        bool           `json:"tidy_invalid_certs"`
	BackupBundle        bool           `json:"tidy_move_legacy_ca_bundle"`
	Acme                bool           `json:"tidy_acme"`
	RevocationQueue     bool           `json:"tidy_revocation_queue"`
	CrossRevokedCerts   bool           `json:"tidy_cross_cluster_revoked_certs"`
	CertMetadata        bool           `json:"tidy_cert_metadata"`
	CMPV2NonceStore     bool           `json:"tidy_cmpv2_nonce_store"`
	TidyRevocationList  bool           `json:"tidy_revocation_list"`
	SafetyBuffer        time.Duration  `json:"safety_buffer"`
	RevokedSafetyBuffer *time.Duration `json:"revoked_safety_buffer"`
	IssuerSafetyBuffer  time.Duration  `json:"issuer_safety_buffer"`
	AcmeSafetyBuffer    time.Duration  `json:"acme_account_safety_buffer"`
	QueueSafetyBuffer   time.Duration  `json:"revocation_queue_safety_buffer"`
	PauseDuration       string         `json:"pause_duration"`
	PageSize            int            `json:"page_size"`
}

// newTidyWire starts a tidy body from crl's defaults, so that what a
// client leaves out is what crl would have used.
func newTidyWire() tidyWire { return tidyWireFrom(crl.DefaultTidyRequest()) }

func tidyWireFrom(d crl.TidyRequest) tidyWire {
	o := d.TidyOps
	return tidyWire{CertStore: o.CertStore, RevokedCerts: o.RevokedCerts, IssuerAssocs: o.IssuerAssocs,
		ExpiredIssuers: o.ExpiredIssuers, InvalidCerts: o.InvalidCerts, BackupBundle: o.BackupBundle, Acme: o.Acme,
		RevocationQueue: o.RevocationQueue, CrossRevokedCerts: o.CrossRevokedCerts, CertMetadata: o.CertMetadata,
		CMPV2NonceStore: o.CMPV2NonceStore, TidyRevocationList: d.TidyRevocationList,
		SafetyBuffer: d.SafetyBuffer, RevokedSafetyBuffer: d.RevokedSafetyBuffer,
		IssuerSafetyBuffer: d.IssuerSafetyBuffer, AcmeSafetyBuffer: d.AcmeSafetyBuffer,
		QueueSafetyBuffer: d.QueueSafetyBuffer, PauseDuration: d.PauseDuration, PageSize: d.PageSize}
}

func (w tidyWire) request() crl.TidyRequest {
	ops := crl.TidyOps{CertStore: w.CertStore, RevokedCerts: w.RevokedCerts, IssuerAssocs: w.IssuerAssocs,
		ExpiredIssuers: w.ExpiredIssuers, InvalidCerts: w.InvalidCerts, BackupBundle: w.BackupBundle, Acme: w.Acme,
		RevocationQueue: w.RevocationQueue, CrossRevokedCerts: w.CrossRevokedCerts, CertMetadata: w.CertMetadata,
		CMPV2NonceStore: w.CMPV2NonceStore}
	return crl.TidyRequest{TidyOps: ops, TidyRevocationList: w.TidyRevocationList,
		SafetyBuffer: w.SafetyBuffer, RevokedSafetyBuffer: w.RevokedSafetyBuffer,
		IssuerSafetyBuffer: w.IssuerSafetyBuffer, AcmeSafetyBuffer: w.AcmeSafetyBuffer,
		QueueSafetyBuffer: w.QueueSafetyBuffer, PauseDuration: w.PauseDuration, PageSize: w.PageSize}
}

// autoTidyPatchWire is a config/auto-tidy write.
type autoTidyPatchWire struct {
	Enabled             *bool          `json:"enabled"`
	Interval            *time.Duration `json:"interval_duration"`
	MinBackoff          *time.Duration `json:"min_startup_backoff_duration"`
	MaxBackoff          *time.Duration `json:"max_startup_backoff_duration"`
	CertStore           *bool          `json:"tidy_cert_store"`
	RevokedCerts        *bool          `json:"tidy_revoked_certs"`
	IssuerAssocs        *bool          `json:"tidy_revoked_cert_issuer_associations"`
	ExpiredIssuers      *bool          `json:"tidy_expired_issuers"`
	InvalidCerts        *bool          `json:"tidy_invalid_certs"`
	BackupBundle        *bool          `json:"tidy_move_legacy_ca_bundle"`
	Acme                *bool          `json:"tidy_acme"`
	RevocationQueue     *bool          `json:"tidy_revocation_queue"`
	CrossRevokedCerts   *bool          `json:"tidy_cross_cluster_revoked_certs"`
	CertMetadata        *bool          `json:"tidy_cert_metadata"`
	CMPV2NonceStore     *bool          `json:"tidy_cmpv2_nonce_store"`
	SafetyBuffer        *time.Duration `json:"safety_buffer"`
	RevokedSafetyBuffer *time.Duration `json:"revoked_safety_buffer"`
	IssuerSafetyBuffer  *time.Duration `json:"issuer_safety_buffer"`
	AcmeSafetyBuffer    *time.Duration `json:"acme_account_safety_buffer"`
	QueueSafetyBuffer   *time.Duration `json:"revocation_queue_safety_buffer"`
	PauseDuration       *string        `json:"pause_duration"`
	PageSize            *int           `json:"page_size"`
	MaintainCount       *bool          `json:"maintain_stored_certificate_counts"`
	PublishMetrics      *bool          `json:"publish_stored_certificate_count_metrics"`
	// TidyRevocationList is tidy's deprecated alias; Vault's auto-tidy
	// schema knows it (so no warning) and ignores it.
	TidyRevocationList *bool `json:"tidy_revocation_list"`
}

// patch is w for crl, converted whole as crlConfigPatchWire's is.
func (w autoTidyPatchWire) patch() crl.AutoTidyPatch { return crl.AutoTidyPatch(w) }
