package api

import (
	"time"

	"github.com/pkid-dev/pkid/ca"
	"github.com/pkid-dev/pkid/crl"
	"github.com/pkid-dev/pkid/field"
	"github.com/pkid-dev/pkid/roles"
)

// The Vault wire form of the PKI domain's results: the maps the answers
// carry, with Vault's names, types (durations as seconds, [] not null) and
// quirks. The domain packages return Go values and never see these.

// roleData renders the role as Vault's GET roles/:name answers it: every field,
// durations as integer seconds, lists as arrays ([] rather than null), and
// key_bits/signature_bits as numbers (terraform's provider needs numbers).
func roleData(r *roles.Role) map[string]any {
	return map[string]any{
		"issuer_ref":                         r.IssuerRef,
		"ttl":                                field.Seconds(r.TTL),
		"max_ttl":                            field.Seconds(r.MaxTTL),
		"allow_localhost":                    r.AllowLocalhost,
		"allowed_domains":                    nonNil(r.AllowedDomains),
		"allowed_domains_template":           r.AllowedDomainsTemplate,
		"allow_bare_domains":                 r.AllowBareDomains,
		"allow_subdomains":                   r.AllowSubdomains,
		"allow_glob_domains":                 r.AllowGlobDomains,
		"allow_wildcard_certificates":        r.AllowWildcardCertificates,
		"allow_any_name":                     r.AllowAnyName,
		"enforce_hostnames":                  r.EnforceHostnames,
		"allow_token_displayname":            r.AllowTokenDisplayName,
		"allow_ip_sans":                      r.AllowIPSANs,
		"allowed_uri_sans":                   nonNil(r.AllowedURISANs),
		"allowed_uri_sans_template":          r.AllowedURISANsTemplate,
		"allowed_other_sans":                 nonNil(r.AllowedOtherSANs),
		"allowed_serial_numbers":             nonNil(r.AllowedSerialNumbers),
		"allowed_user_ids":                   nonNil(r.AllowedUserIDs),
		"server_flag":                        r.ServerFlag,
		"client_flag":                        r.ClientFlag,
		"code_signing_flag":                  r.CodeSigningFlag,
		"email_protection_flag":              r.EmailProtectionFlag,
		"key_usage":                          nonNil(r.KeyUsage),
		"ext_key_usage":                      nonNil(r.ExtKeyUsage),
		"ext_key_usage_oids":                 nonNil(r.ExtKeyUsageOIDs),
		"use_csr_common_name":                r.UseCSRCommonName,
		"use_csr_sans":                       r.UseCSRSANs,
		"ou":                                 nonNil(r.OU),
		"organization":                       nonNil(r.Organization),
		"country":                            nonNil(r.Country),
		"locality":                           nonNil(r.Locality),
		"province":                           nonNil(r.Province),
		"street_address":                     nonNil(r.StreetAddress),
		"postal_code":                        nonNil(r.PostalCode),
		"key_type":                           r.KeyType,
		"key_bits":                           r.KeyBits,
		"signature_bits":                     r.SignatureBits,
		"use_pss":                            r.UsePSS,
		"generate_lease":                     r.GenerateLease,
		"no_store":                           r.NoStore,
		"no_store_metadata":                  r.NoStoreMetadata,
		"require_cn":                         r.RequireCN,
		"cn_validations":                     nonNil(r.CNValidations),
		"policy_identifiers":                 nonNil(r.PolicyIdentifiers),
		"basic_constraints_valid_for_non_ca": r.BasicConstraintsValidForNonCA,
		"not_before_duration":                field.Seconds(r.NotBeforeDuration),
		"not_after":                          r.NotAfter,
		"serial_number_source":               r.SerialNumberSource,
	}
}

// nonNil returns l, or an empty non-nil list so that JSON shows [] not null.
func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// patchedRole returns the role a PATCH (RFC 7396 merge patch) of r makes:
// the patch merged into r's response form, then decoded as a POST would be,
// so that fields the patch does not name keep their values.
func patchedRole(r *roles.Role, patch map[string]any) (*roles.Role, []string, error) {
	merged := field.MergePatch(roleData(r), patch)
	req := defaultRoleRequest()
	if _, err := field.Decode(merged, &req); err != nil {
		return nil, nil, err
	}
	next, warnings, err := req.role(r.Name)
	if err != nil {
		return nil, nil, err
	}
	// Not writable, but a legacy role keeps it.
	next.AllowTokenDisplayName = r.AllowTokenDisplayName
	return next, warnings, nil
}

// storedCertData renders the certificate as Vault's cert/:serial (spec §3.1): the PEM
// without a trailing newline and the revocation fields, revocation_time 0
// and "" when not revoked, issuer_id only when revoked by a known issuer.
func storedCertData(c *ca.StoredCert) map[string]any {
	d := map[string]any{
		"certificate":             ca.CertPEM(c.DER),
		"revocation_time":         int64(0),
		"revocation_time_rfc3339": "",
	}
	if !c.RevokedAt.IsZero() {
		d["revocation_time"] = c.RevokedAt.Unix()
		d["revocation_time_rfc3339"] = c.RevokedAt.UTC().Format(time.RFC3339Nano)
		if c.RevocationIssuerID != "" {
			d["issuer_id"] = c.RevocationIssuerID
		}
	}
	return d
}

// revokeData is the revoke answer's data as Vault gives it: nil for a
// refusal.
func revokeData(r *crl.RevokeResult) map[string]any {
	if r.Time.IsZero() {
		return nil
	}
	return map[string]any{
		"revocation_time":         r.Time.Unix(),
		"revocation_time_rfc3339": r.Time.UTC().Format(time.RFC3339Nano),
		"state":                   "revoked",
	}
}

// crlConfigData is the config as config/crl answers it.
func crlConfigData(c crl.CRLConfig) map[string]any {
	return map[string]any{
		"expiry":                        c.Expiry,
		"disable":                       c.Disable,
		"ocsp_disable":                  c.OCSPDisable,
		"ocsp_expiry":                   c.OCSPExpiry,
		"auto_rebuild":                  c.AutoRebuild,
		"auto_rebuild_grace_period":     c.AutoRebuildGracePeriod,
		"enable_delta":                  c.EnableDelta,
		"delta_rebuild_interval":        c.DeltaRebuildInterval,
		"allow_expired_cert_revocation": c.AllowExpiredCertRevocation,
		"unified_crl":                   c.UnifiedCRL,
		"unified_crl_on_existing_paths": c.UnifiedCRLOnExistingPaths,
		"cross_cluster_revocation":      c.CrossClusterRevocation,
		"max_crl_entries":               c.MaxEntries(),
	}
}

// autoTidyData is config/auto-tidy as Vault answers it (path_tidy.go
// getTidyConfigData): durations in seconds, pause_duration as a Go duration
// string; revoked_safety_buffer, tidy_invalid_certs and page_size are
// OpenBao's.
func autoTidyData(c crl.AutoTidyConfig) map[string]any {
	revoked := c.SafetyBuffer
	if c.RevokedSafetyBuffer != nil {
		revoked = *c.RevokedSafetyBuffer
	}
	return map[string]any{
		"enabled":                                  c.Enabled,
		"interval_duration":                        field.Seconds(c.Interval),
		"min_startup_backoff_duration":             field.Seconds(c.MinBackoff),
		"max_startup_backoff_duration":             field.Seconds(c.MaxBackoff),
		"tidy_cert_store":                          c.CertStore,
		"tidy_revoked_certs":                       c.RevokedCerts,
		"tidy_revoked_cert_issuer_associations":    c.IssuerAssocs,
		"tidy_expired_issuers":                     c.ExpiredIssuers,
		"tidy_invalid_certs":                       c.InvalidCerts,
		"tidy_move_legacy_ca_bundle":               c.BackupBundle,
		"tidy_acme":                                c.Acme,
		"tidy_revocation_queue":                    c.RevocationQueue,
		"tidy_cross_cluster_revoked_certs":         c.CrossRevokedCerts,
		"tidy_cert_metadata":                       c.CertMetadata,
		"tidy_cmpv2_nonce_store":                   c.CMPV2NonceStore,
		"safety_buffer":                            field.Seconds(c.SafetyBuffer),
		"revoked_safety_buffer":                    field.Seconds(revoked),
		"issuer_safety_buffer":                     field.Seconds(c.IssuerSafetyBuffer),
		"acme_account_safety_buffer":               field.Seconds(c.AcmeSafetyBuffer),
		"revocation_queue_safety_buffer":           field.Seconds(c.QueueSafetyBuffer),
		"pause_duration":                           c.PauseDuration.String(),
		"page_size":                                c.PageSize,
		"maintain_stored_certificate_counts":       c.MaintainCount,
		"publish_stored_certificate_count_metrics": c.PublishMetrics,
	}
}

// tidyStatusKeys are the fields tidy-status always carries, null while no
// tidy ran since the mount loaded: Vault's (path_tidy.go
// pathTidyStatusRead) and OpenBao's (revoked_safety_buffer,
// tidy_invalid_certs, page_size).
var tidyStatusKeys = []string{"safety_buffer", "revoked_safety_buffer", "issuer_safety_buffer",
	"tidy_cert_store", "tidy_revoked_certs", "tidy_invalid_certs", "tidy_revoked_cert_issuer_associations",
	"tidy_expired_issuers", "tidy_move_legacy_ca_bundle", "tidy_revocation_queue",
	"tidy_cross_cluster_revoked_certs", "tidy_acme", "tidy_cert_metadata", "tidy_cmpv2_nonce_store",
	"pause_duration", "page_size", "error", "time_started", "time_finished", "message",
	"cert_store_deleted_count", "revoked_cert_deleted_count", "missing_issuer_cert_count",
	"current_cert_store_count", "current_revoked_cert_count", "internal_backend_uuid",
	"revocation_queue_deleted_count", "cross_revoked_cert_deleted_count", "total_acme_account_count",
	"acme_account_deleted_count", "acme_account_revoked_count", "acme_orders_deleted_count",
	"acme_account_safety_buffer", "cert_metadata_deleted_count", "cmpv2_nonce_deleted_count"}

// tidyStatusData renders tidy-status as Vault does: every run field null while
// Inactive, last_auto_tidy_finished always.
func tidyStatusData(s crl.TidyStatus) map[string]any {
	d := map[string]any{}
	for _, k := range tidyStatusKeys {
		d[k] = nil
	}
	d["state"] = s.State
	d["last_auto_tidy_finished"] = s.LastTidy.UTC().Format(time.RFC3339Nano)
	if s.CertCount != nil {
		d["current_cert_store_count"], d["current_revoked_cert_count"] = *s.CertCount, *s.RevokedCount
	}
	if s.State == crl.TidyInactive {
		return d
	}
	r := s.Settings()
	for k, v := range map[string]any{
		"safety_buffer": int64(r.Safety / time.Second), "revoked_safety_buffer": int64(r.RevokedSafety / time.Second),
		"issuer_safety_buffer": int64(r.IssuerSafety / time.Second), "acme_account_safety_buffer": int64(r.AcmeSafety / time.Second),
		"revocation_queue_safety_buffer": int64(r.QueueSafety / time.Second),
		"tidy_cert_store":                r.CertStore, "tidy_revoked_certs": r.RevokedCerts, "tidy_invalid_certs": r.InvalidCerts,
		"tidy_revoked_cert_issuer_associations": r.IssuerAssocs, "tidy_expired_issuers": r.ExpiredIssuers,
		"tidy_move_legacy_ca_bundle": r.BackupBundle, "tidy_acme": r.Acme, "tidy_revocation_queue": r.RevocationQueue,
		"tidy_cross_cluster_revoked_certs": r.CrossRevokedCerts, "tidy_cert_metadata": r.CertMetadata,
		"tidy_cmpv2_nonce_store": r.CMPV2NonceStore,
		"pause_duration":         r.Pause.String(), "page_size": r.PageSize,
		"time_started": s.Started.UTC().Format(time.RFC3339Nano), "message": s.Message,
		"cert_store_deleted_count": s.CertsDeleted, "revoked_cert_deleted_count": s.RevokedDeleted,
		"missing_issuer_cert_count": s.MissingIssuerCerts, "revocation_queue_deleted_count": 0,
		"cross_revoked_cert_deleted_count": 0, "cert_metadata_deleted_count": 0, "cmpv2_nonce_deleted_count": 0,
		"total_acme_account_count": 0, "acme_account_deleted_count": 0, "acme_account_revoked_count": 0,
		"acme_orders_deleted_count": 0,
	} {
		d[k] = v
	}
	switch s.State {
	case crl.TidyFinished:
		d["message"] = nil
		d["time_finished"] = s.Finished.UTC().Format(time.RFC3339Nano)
	case crl.TidyError:
		d["error"] = s.Err.Error()
		d["time_finished"] = s.Finished.UTC().Format(time.RFC3339Nano)
	case crl.TidyCancelled:
		d["time_finished"] = s.Finished.UTC().Format(time.RFC3339Nano)
	}
	return d
}

// leafData renders an issued or signed certificate as Vault's issue, sign
// and sign-verbatim answers (spec §3.1, §5.7–5.9): serial_number,
// expiration and not_before as JSON integers, ca_chain omitted when empty,
// private_key and private_key_type for issue only.
func leafData(l *ca.Leaf) (map[string]any, error) {
	o, err := l.Output()
	if err != nil {
		return nil, err
	}
	d := map[string]any{
		"serial_number": l.Serial,
		"expiration":    l.Cert.NotAfter.Unix(),
		"not_before":    l.Cert.NotBefore.Unix(),
		"issuing_ca":    o.IssuingCA,
		"certificate":   o.Certificate,
	}
	if o.CAChain != nil {
		d["ca_chain"] = o.CAChain
	}
	if o.PrivateKey != "" {
		d["private_key"] = o.PrivateKey
		d["private_key_type"] = o.PrivateKeyType
	}
	return d, nil
}
