package crl

import (
	"context"
	"fmt"
	"time"

	"github.com/pkid-dev/pkid/duration"
	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/records"
	"github.com/pkid-dev/pkid/storage"
)

// Vault's tidy defaults (path_tidy.go defaultTidyConfig, fields.go).
const (
	defaultSafetyBuffer     = 72 * time.Hour
	defaultIssuerBuffer     = 365 * 24 * time.Hour
	defaultAcmeBuffer       = 30 * 24 * time.Hour
	defaultQueueBuffer      = 48 * time.Hour
	defaultAutoTidyInterval = 12 * time.Hour
	defaultMinBackoff       = 5 * time.Minute
	defaultMaxBackoff       = 15 * time.Minute
	defaultPageSize         = 1000
)

// anyTidyOps names the operation flags in Vault's "no operation" messages
// (path_tidy.go AnyTidyConfig).
const anyTidyOps = "tidy_cert_store / tidy_revoked_certs / tidy_revoked_cert_issuer_associations / tidy_expired_issuers / tidy_move_legacy_ca_bundle / tidy_revocation_queue / tidy_cross_cluster_revoked_certs / tidy_acme"

// errCertMetadata is Vault CE's answer to tidy_cert_metadata=true.
const errCertMetadata = "certificate metadata is only supported on Vault Enterprise"

// TidyOps are the operations of a tidy run.
type TidyOps struct {
	CertStore      bool
	RevokedCerts   bool
	IssuerAssocs   bool
	ExpiredIssuers bool
	InvalidCerts   bool
	// The rest are accepted for compatibility: pkid has no legacy CA
	// bundle, no ACME or CMPv2 state and one cluster (Vault's revocation
	// queue and cross-cluster store are Enterprise replication features;
	// certificate metadata is Enterprise only and refused), so they find
	// nothing to do.
	BackupBundle      bool
	Acme              bool
	RevocationQueue   bool
	CrossRevokedCerts bool
	CertMetadata      bool
	CMPV2NonceStore   bool
}

// any is Vault's IsAnyTidyEnabled (plus OpenBao's tidy_invalid_certs).
func (o TidyOps) any() bool {
	return o.CertStore || o.RevokedCerts || o.IssuerAssocs || o.ExpiredIssuers || o.InvalidCerts || o.BackupBundle ||
		o.Acme || o.RevocationQueue || o.CrossRevokedCerts || o.CertMetadata || o.CMPV2NonceStore
}

// tidyRun is a validated tidy: operations and buffers.
type tidyRun struct {
	TidyOps
	safety, revokedSafety, issuerSafety, acmeSafety, queueSafety time.Duration
	pause                                                        time.Duration
	pageSize                                                     int
	auto                                                         bool
}

// TidyRequest is a tidy write (spec §3.1 tidy). Defaults are Vault's
// schema defaults, not config/auto-tidy's; see DefaultTidyRequest.
type TidyRequest struct {
	TidyOps
	TidyRevocationList  bool // deprecated alias of tidy_revoked_certs
	SafetyBuffer        time.Duration
	RevokedSafetyBuffer *time.Duration
	IssuerSafetyBuffer  time.Duration
	AcmeSafetyBuffer    time.Duration
	QueueSafetyBuffer   time.Duration
	PauseDuration       string
	PageSize            int
}

// DefaultTidyRequest is a tidy with nothing sent.
func DefaultTidyRequest() TidyRequest {
	return TidyRequest{
		SafetyBuffer:       defaultSafetyBuffer,
		IssuerSafetyBuffer: defaultIssuerBuffer,
		AcmeSafetyBuffer:   defaultAcmeBuffer,
		QueueSafetyBuffer:  defaultQueueBuffer,
		PauseDuration:      "0s",
		PageSize:           defaultPageSize,
	}
}

// run validates the request with Vault's messages, in Vault's order
// (path_tidy.go pathTidyWrite; revoked_safety_buffer and page_size are
// OpenBao's).
func (r TidyRequest) run() (tidyRun, error) {
	run := tidyRun{TidyOps: r.TidyOps, safety: r.SafetyBuffer, revokedSafety: r.SafetyBuffer,
		issuerSafety: r.IssuerSafetyBuffer, acmeSafety: r.AcmeSafetyBuffer, queueSafety: r.QueueSafetyBuffer,
		pageSize: r.PageSize}
	run.RevokedCerts = run.RevokedCerts || r.TidyRevocationList
	if r.RevokedSafetyBuffer != nil {
		run.revokedSafety = *r.RevokedSafetyBuffer
	}
	switch {
	case run.safety < time.Second:
		return run, errs.Invalidf("safety_buffer must be greater than zero")
	case run.revokedSafety < time.Second:
		return run, errs.Invalidf("revokedSafetyBuffer must be greater than zero")
	case run.issuerSafety < time.Second:
		return run, errs.Invalidf("issuer_safety_buffer must be greater than zero")
	case run.queueSafety < time.Second:
		return run, errs.Invalidf("revocation_queue_safety_buffer must be greater than zero")
	case run.acmeSafety < time.Second:
		return run, errs.Invalidf("acme_account_safety_buffer must be greater than zero")
	}
	if r.PauseDuration != "" {
		d, err := duration.Parse(r.PauseDuration)
		if err != nil {
			return run, errs.Invalidf("Error parsing pause_duration: %v", err)
		}
		if d < 0 {
			return run, errs.Invalidf("received invalid, negative pause_duration")
		}
		run.pause = d
	}
	if run.CertMetadata {
		return run, errs.Invalidf(errCertMetadata)
	}
	if r.PageSize > 0 && r.PageSize < 5 {
		return run, errs.Invalidf("page_size must be greater than five")
	}
	if run.pageSize <= 0 {
		run.pageSize = defaultPageSize // Vault: unpaged; batches keep write transactions short
	}
	return run, nil
}

// AutoTidyConfig is config/auto-tidy (spec §3.2), as stored.
type AutoTidyConfig struct {
	Version  int
	Enabled  bool
	Interval time.Duration
	// MinBackoff and MaxBackoff bound Vault's random delay of the first
	// auto-tidy after the mount starts.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	TidyOps
	SafetyBuffer        time.Duration
	RevokedSafetyBuffer *time.Duration
	IssuerSafetyBuffer  time.Duration
	AcmeSafetyBuffer    time.Duration
	QueueSafetyBuffer   time.Duration
	PauseDuration       time.Duration
	PageSize            int
	MaintainCount       bool
	PublishMetrics      bool
}

// DefaultAutoTidyConfig is an unconfigured mount's config/auto-tidy.
func DefaultAutoTidyConfig() AutoTidyConfig {
	return AutoTidyConfig{
		Version: 1, Interval: defaultAutoTidyInterval, MinBackoff: defaultMinBackoff, MaxBackoff: defaultMaxBackoff,
		SafetyBuffer: defaultSafetyBuffer, IssuerSafetyBuffer: defaultIssuerBuffer, AcmeSafetyBuffer: defaultAcmeBuffer,
		QueueSafetyBuffer: defaultQueueBuffer, PageSize: defaultPageSize,
	}
}

func (c AutoTidyConfig) run() tidyRun {
	r := tidyRun{TidyOps: c.TidyOps, safety: c.SafetyBuffer, revokedSafety: c.SafetyBuffer,
		issuerSafety: c.IssuerSafetyBuffer, acmeSafety: c.AcmeSafetyBuffer, queueSafety: c.QueueSafetyBuffer,
		pause: c.PauseDuration, pageSize: c.PageSize, auto: true}
	if c.RevokedSafetyBuffer != nil {
		r.revokedSafety = *c.RevokedSafetyBuffer
	}
	if r.pageSize <= 0 {
		r.pageSize = defaultPageSize
	}
	return r
}

// AutoTidyPatch is a config/auto-tidy write: only sent fields change.
type AutoTidyPatch struct {
	Enabled             *bool
	Interval            *time.Duration
	MinBackoff          *time.Duration
	MaxBackoff          *time.Duration
	CertStore           *bool
	RevokedCerts        *bool
	IssuerAssocs        *bool
	ExpiredIssuers      *bool
	InvalidCerts        *bool
	BackupBundle        *bool
	Acme                *bool
	RevocationQueue     *bool
	CrossRevokedCerts   *bool
	CertMetadata        *bool
	CMPV2NonceStore     *bool
	SafetyBuffer        *time.Duration
	RevokedSafetyBuffer *time.Duration
	IssuerSafetyBuffer  *time.Duration
	AcmeSafetyBuffer    *time.Duration
	QueueSafetyBuffer   *time.Duration
	PauseDuration       *string
	PageSize            *int
	MaintainCount       *bool
	PublishMetrics      *bool
	// TidyRevocationList is tidy's deprecated alias, which Vault's
	// auto-tidy schema accepts and ignores.
	TidyRevocationList *bool
}

// apply merges p with Vault's checks and messages, in Vault's order
// (pathConfigAutoTidyWrite).
func (c *AutoTidyConfig) apply(p AutoTidyPatch) error {
	setBool(&c.Enabled, p.Enabled)
	if err := c.applyTiming(p); err != nil {
		return err
	}
	for _, f := range []struct{ dst, src *bool }{
		{&c.CertStore, p.CertStore}, {&c.RevokedCerts, p.RevokedCerts}, {&c.IssuerAssocs, p.IssuerAssocs},
		{&c.ExpiredIssuers, p.ExpiredIssuers}, {&c.InvalidCerts, p.InvalidCerts},
		{&c.BackupBundle, p.BackupBundle}, {&c.Acme, p.Acme}, {&c.RevocationQueue, p.RevocationQueue},
		{&c.CrossRevokedCerts, p.CrossRevokedCerts}, {&c.CertMetadata, p.CertMetadata},
		{&c.CMPV2NonceStore, p.CMPV2NonceStore},
	} {
		setBool(f.dst, f.src)
	}
	if err := c.applyBuffers(p); err != nil {
		return err
	}
	if p.PauseDuration != nil {
		d, err := duration.Parse(*p.PauseDuration)
		if err != nil {
			return errs.Invalidf("unable to parse given pause_duration: %v", err)
		}
		if d < 0 {
			return errs.Invalidf("received invalid, negative pause_duration")
		}
		c.PauseDuration = d
	}
	if p.PageSize != nil {
		if *p.PageSize > 0 && *p.PageSize < 5 {
			return errs.Invalidf("page_size must be greater than five")
		}
		c.PageSize = *p.PageSize
	}
	if p.CertMetadata != nil && c.CertMetadata {
		return errs.Invalidf(errCertMetadata)
	}
	if c.Enabled && !c.TidyOps.any() {
		return errs.Invalidf("Auto-tidy enabled but no tidy operations were requested. Enable at least one tidy operation to be run (%s).", anyTidyOps)
	}
	setBool(&c.MaintainCount, p.MaintainCount)
	setBool(&c.PublishMetrics, p.PublishMetrics)
	if c.PublishMetrics && !c.MaintainCount {
		return errs.Invalidf("Can not publish a running storage metrics count to metrics without first maintaining that count.  Enable `maintain_stored_certificate_counts` to enable `publish_stored_certificate_count_metrics`.")
	}
	return nil
}

// applyTiming merges the startup backoff bounds and the interval.
func (c *AutoTidyConfig) applyTiming(p AutoTidyPatch) error {
	if p.MinBackoff != nil {
		if *p.MinBackoff < time.Second {
			return errs.Invalidf("min_startup_backoff_duration must be at least 1 second: parsed: %v", *p.MinBackoff)
		}
		c.MinBackoff = *p.MinBackoff
	}
	if p.MaxBackoff != nil {
		if *p.MaxBackoff < time.Second {
			return errs.Invalidf("max_startup_backoff_duration must be at least 1 second: parsed: %v", *p.MaxBackoff)
		}
		c.MaxBackoff = *p.MaxBackoff
	}
	if c.MinBackoff > c.MaxBackoff {
		return errs.Invalidf("max_startup_backoff_duration %v must be greater or equal to min_startup_backoff_duration %v", c.MaxBackoff, c.MinBackoff)
	}
	if p.Interval != nil {
		if *p.Interval < 0 {
			return errs.Invalidf("given interval_duration must be greater than or equal to zero seconds; got: %v", int64(*p.Interval/time.Second))
		}
		c.Interval = *p.Interval
	}
	return nil
}

func (c *AutoTidyConfig) applyBuffers(p AutoTidyPatch) error {
	check := func(v *time.Duration, dst *time.Duration, msg string) error {
		if v == nil {
			return nil
		}
		if *v < time.Second {
			return errs.Invalidf(msg, int64(*v/time.Second))
		}
		*dst = *v
		return nil
	}
	if err := check(p.SafetyBuffer, &c.SafetyBuffer, "given safety_buffer must be at least one second; got: %v"); err != nil {
		return err
	}
	if p.RevokedSafetyBuffer != nil {
		var d time.Duration
		if err := check(p.RevokedSafetyBuffer, &d, "revoked_safety_buffer must be at least one second; got: %v"); err != nil {
			return err
		}
		c.RevokedSafetyBuffer = &d
	}
	// Vault names safety_buffer in the issuer buffer's message too.
	if err := check(p.IssuerSafetyBuffer, &c.IssuerSafetyBuffer, "given safety_buffer must be at least one second; got: %v"); err != nil {
		return err
	}
	if err := check(p.QueueSafetyBuffer, &c.QueueSafetyBuffer, "given revocation_queue_safety_buffer must be at least one second; got: %v"); err != nil {
		return err
	}
	return check(p.AcmeSafetyBuffer, &c.AcmeSafetyBuffer, "given acme_account_safety_buffer must be at least one second; got: %v")
}

func loadAutoTidyConfig(tx storage.Tx) (AutoTidyConfig, error) {
	rec, err := records.GetAutoTidy(tx, DefaultAutoTidyConfig().record())
	if err != nil {
		return autoTidyFromRecord(rec), fmt.Errorf("crl: load config/auto-tidy: %w", err)
	}
	return autoTidyFromRecord(rec), nil
}

// record is c as records stores it. The embedded TidyOps keeps a direct
// conversion from working; crl's tests check that every field crosses.
func (c AutoTidyConfig) record() records.AutoTidy {
	o := c.TidyOps
	return records.AutoTidy{
		Version: c.Version, Enabled: c.Enabled, Interval: c.Interval, MinBackoff: c.MinBackoff, MaxBackoff: c.MaxBackoff,
		CertStore: o.CertStore, RevokedCerts: o.RevokedCerts, IssuerAssocs: o.IssuerAssocs,
		ExpiredIssuers: o.ExpiredIssuers, InvalidCerts: o.InvalidCerts, BackupBundle: o.BackupBundle, Acme: o.Acme,
		RevocationQueue: o.RevocationQueue, CrossRevokedCerts: o.CrossRevokedCerts, CertMetadata: o.CertMetadata,
		CMPV2NonceStore: o.CMPV2NonceStore,
		SafetyBuffer:    c.SafetyBuffer, RevokedSafetyBuffer: c.RevokedSafetyBuffer, IssuerSafetyBuffer: c.IssuerSafetyBuffer,
		AcmeSafetyBuffer: c.AcmeSafetyBuffer, QueueSafetyBuffer: c.QueueSafetyBuffer, PauseDuration: c.PauseDuration,
		PageSize: c.PageSize, MaintainCount: c.MaintainCount, PublishMetrics: c.PublishMetrics,
	}
}

func autoTidyFromRecord(r records.AutoTidy) AutoTidyConfig {
	return AutoTidyConfig{
		Version: r.Version, Enabled: r.Enabled, Interval: r.Interval, MinBackoff: r.MinBackoff, MaxBackoff: r.MaxBackoff,
		TidyOps: TidyOps{CertStore: r.CertStore, RevokedCerts: r.RevokedCerts, IssuerAssocs: r.IssuerAssocs,
			ExpiredIssuers: r.ExpiredIssuers, InvalidCerts: r.InvalidCerts, BackupBundle: r.BackupBundle, Acme: r.Acme,
			RevocationQueue: r.RevocationQueue, CrossRevokedCerts: r.CrossRevokedCerts, CertMetadata: r.CertMetadata,
			CMPV2NonceStore: r.CMPV2NonceStore},
		SafetyBuffer: r.SafetyBuffer, RevokedSafetyBuffer: r.RevokedSafetyBuffer, IssuerSafetyBuffer: r.IssuerSafetyBuffer,
		AcmeSafetyBuffer: r.AcmeSafetyBuffer, QueueSafetyBuffer: r.QueueSafetyBuffer, PauseDuration: r.PauseDuration,
		PageSize: r.PageSize, MaintainCount: r.MaintainCount, PublishMetrics: r.PublishMetrics,
	}
}

// AutoTidyConfig returns the mount's config/auto-tidy.
func (m *Manager) AutoTidyConfig() AutoTidyConfig {
	m.cfgMu.RLock()
	defer m.cfgMu.RUnlock()
	return m.tidyCfg
}

// SetAutoTidyConfig merges p into config/auto-tidy and stores it. Turning
// auto-tidy on starts its interval now, as in Vault.
func (m *Manager) SetAutoTidyConfig(ctx context.Context, p AutoTidyPatch) (AutoTidyConfig, error) {
	m.cfgWriteMu.Lock()
	defer m.cfgWriteMu.Unlock()
	var prev, next AutoTidyConfig
	err := m.space.Update(func(tx storage.Tx) error {
		var err error
		if prev, err = loadAutoTidyConfig(tx); err != nil {
			return err
		}
		next = prev
		if err := next.apply(p); err != nil {
			return err
		}
		if err := records.PutAutoTidy(tx, next.record()); err != nil {
			return fmt.Errorf("crl: store config/auto-tidy: %w", err)
		}
		return nil
	})
	if err != nil {
		return prev, err
	}
	m.cfgMu.Lock()
	m.tidyCfg = next
	m.cfgMu.Unlock()
	if next.Enabled && !prev.Enabled {
		m.setLastTidy(m.clock.Now())
	}
	return next, nil
}
