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

// CRLConfig is config/crl (spec §3.2). Durations are kept as the strings the
// client sent, as Vault stores and echoes them. The zero value is not
// meaningful; DefaultCRLConfig is what an unconfigured mount uses.
type CRLConfig struct {
	Version int
	// Expiry is the CRL lifetime: nextUpdate = build time + Expiry.
	Expiry string
	// Disable stops CRL building; a forced build then signs an empty CRL.
	Disable bool
	// OCSPDisable makes the responder answer "unauthorized".
	OCSPDisable bool
	// OCSPExpiry is the OCSP nextUpdate offset; "0" leaves it out.
	OCSPExpiry string
	// AutoRebuild rebuilds CRLs periodically instead of on every revoke.
	AutoRebuild bool
	// AutoRebuildGracePeriod: a CRL this close to nextUpdate is rebuilt.
	AutoRebuildGracePeriod string
	// EnableDelta maintains delta CRLs (needs AutoRebuild).
	EnableDelta bool
	// DeltaRebuildInterval spaces delta rebuilds.
	DeltaRebuildInterval string
	// AllowExpiredCertRevocation [OpenBao] lets revoke accept expired certs.
	AllowExpiredCertRevocation bool
	// Vault's cluster and size knobs (spec §3.2). The cluster ones are Vault
	// Enterprise features that Vault CE (and pkid) refuse to turn on;
	// max_crl_entries (0: the default 100000, -1: no limit) fails CRL
	// builds that would list more, as in Vault.
	UnifiedCRL                bool
	UnifiedCRLOnExistingPaths bool
	CrossClusterRevocation    bool
	MaxCRLEntries             int
}

// DefaultCRLConfig is Vault's implicit config/crl. ocsp_expiry is 12h as
// Vault applies it (its schema's "1h" is never used, spec §3.2).
func DefaultCRLConfig() CRLConfig {
	return CRLConfig{
		Version:                1,
		Expiry:                 "72h",
		OCSPExpiry:             "12h",
		AutoRebuildGracePeriod: "12h",
		DeltaRebuildInterval:   "15m",
		MaxCRLEntries:          defaultMaxCRLEntries,
	}
}

// CRLConfigPatch is a config/crl write: only the fields sent change.
type CRLConfigPatch struct {
	Expiry                     *string
	Disable                    *bool
	OCSPDisable                *bool
	OCSPExpiry                 *string
	AutoRebuild                *bool
	AutoRebuildGracePeriod     *string
	EnableDelta                *bool
	DeltaRebuildInterval       *string
	AllowExpiredCertRevocation *bool
	UnifiedCRL                 *bool
	UnifiedCRLOnExistingPaths  *bool
	CrossClusterRevocation     *bool
	MaxCRLEntries              *int
}

// defaultMaxCRLEntries is Vault's max_crl_entries when none is stored.
const defaultMaxCRLEntries = 100000

// MaxEntries is max_crl_entries as Vault reads it: 0 means the default.
func (c CRLConfig) MaxEntries() int {
	if c.MaxCRLEntries == 0 {
		return defaultMaxCRLEntries
	}
	return c.MaxCRLEntries
}

// checkEntries refuses to build a CRL of more than max_crl_entries entries
// (-1: no limit), as Vault does, with its text; it is a Go error there, so
// a 500.
func (c CRLConfig) checkEntries(n int) error {
	if c.MaxCRLEntries <= -1 || n <= c.MaxEntries() {
		return nil
	}
	return errs.Newf(errs.InvalidVault500, "error building CRLs: error building CRL: revocation list size (%d) exceeds configured maximum (%d)", n, c.MaxEntries())
}

// crlDurations are a config's durations, parsed as Vault parses them where
// it uses them: the strings were checked when stored, and an empty one is
// zero (parseutil.ParseDurationSecond("")).
type crlDurations struct {
	expiry, ocspExpiry, grace, deltaInterval time.Duration
}

func (c CRLConfig) durations() crlDurations {
	parse := func(s string) time.Duration {
		d, _ := duration.Parse(s)
		return d
	}
	return crlDurations{
		expiry:        parse(c.Expiry),
		ocspExpiry:    parse(c.OCSPExpiry),
		grace:         parse(c.AutoRebuildGracePeriod),
		deltaInterval: parse(c.DeltaRebuildInterval),
	}
}

// apply merges p into c, checking each duration as Vault does
// (path_config_crl.go: a parse check only, and ocsp_expiry not negative)
// and then the cross-field rules, in Vault's order and words. The cluster
// features are Vault Enterprise's: Vault CE refuses to turn them on, and so
// does pkid.
func (c *CRLConfig) apply(p CRLConfigPatch) error {
	durs := []struct {
		name string
		in   *string
		dst  *string
	}{
		{"expiry", p.Expiry, &c.Expiry},
		{"ocsp_expiry", p.OCSPExpiry, &c.OCSPExpiry},
		{"auto_rebuild_grace_period", p.AutoRebuildGracePeriod, &c.AutoRebuildGracePeriod},
		{"delta_rebuild_interval", p.DeltaRebuildInterval, &c.DeltaRebuildInterval},
	}
	for _, d := range durs {
		if d.in == nil {
			continue
		}
		v, err := duration.Parse(*d.in)
		if err != nil {
			return errs.Invalidf("given %s could not be decoded: %v", d.name, err)
		}
		if v < 0 && d.name == "ocsp_expiry" {
			return errs.Invalidf("ocsp_expiry must be greater than or equal to 0 got: %s", v)
		}
		*d.dst = *d.in
	}
	setBool(&c.Disable, p.Disable)
	setBool(&c.OCSPDisable, p.OCSPDisable)
	setBool(&c.AutoRebuild, p.AutoRebuild)
	setBool(&c.EnableDelta, p.EnableDelta)
	setBool(&c.AllowExpiredCertRevocation, p.AllowExpiredCertRevocation)
	setBool(&c.UnifiedCRL, p.UnifiedCRL)
	setBool(&c.UnifiedCRLOnExistingPaths, p.UnifiedCRLOnExistingPaths)
	setBool(&c.CrossClusterRevocation, p.CrossClusterRevocation)
	// Vault keeps the old value for anything but -1 or a positive count.
	if p.MaxCRLEntries != nil && (*p.MaxCRLEntries == -1 || *p.MaxCRLEntries > 0) {
		c.MaxCRLEntries = *p.MaxCRLEntries
	}
	return c.check()
}

func (c CRLConfig) check() error {
	d := c.durations()
	switch {
	case c.UnifiedCRLOnExistingPaths && !c.UnifiedCRL:
		return errs.Invalidf("unified_crl_on_existing_paths cannot be enabled if unified_crl is disabled")
	case c.AutoRebuild && d.grace >= d.expiry:
		return errs.Invalidf("CRL auto-rebuilding grace period (%v) must be strictly shorter than CRL expiry (%v) value when auto-rebuilding of CRLs is enabled", c.AutoRebuildGracePeriod, c.Expiry)
	case c.EnableDelta && d.deltaInterval >= d.expiry:
		return errs.Invalidf("CRL delta rebuild window (%v) must be strictly shorter than CRL expiry (%v) value when delta CRLs are enabled", c.DeltaRebuildInterval, c.Expiry)
	case !c.AutoRebuild && c.EnableDelta:
		return errs.Invalidf("Delta CRLs cannot be enabled when auto rebuilding is disabled as the complete CRL is always regenerated!")
	case !c.AutoRebuild && c.CrossClusterRevocation:
		return errs.Invalidf("Global, cross-cluster revocation queue cannot be enabled when auto rebuilding is disabled as the local cluster may not have the certificate entry!")
	case c.CrossClusterRevocation:
		return errs.Invalidf("Global, cross-cluster revocation queue (cross_cluster_revocation) can only be enabled on Vault Enterprise.")
	case c.UnifiedCRL:
		return errs.Invalidf("unified_crl can only be enabled on Vault Enterprise")
	}
	return nil
}

func setBool(dst *bool, v *bool) {
	if v != nil {
		*dst = *v
	}
}

// CRLConfig returns the mount's config/crl.
func (m *Manager) CRLConfig() CRLConfig {
	m.cfgMu.RLock()
	defer m.cfgMu.RUnlock()
	return m.crlCfg
}

// loadCRLConfig reads config/crl over the defaults; CRLConfig has the
// record's fields exactly, so the two convert directly.
func loadCRLConfig(tx storage.Tx) (CRLConfig, error) {
	rec, err := records.GetCRLConfig(tx, records.CRLConfig(DefaultCRLConfig()))
	if err != nil {
		return CRLConfig(rec), fmt.Errorf("crl: load config/crl: %w", err)
	}
	return CRLConfig(rec), nil
}

// SetCRLConfig merges p into config/crl and stores it. As Vault does, it
// rebuilds every CRL (forced) when disable changed, auto_rebuild went from
// true to false, or enable_delta changed; rebuild warnings come back as
// "Warning N during CRL rebuild: ..." warnings.
func (m *Manager) SetCRLConfig(ctx context.Context, p CRLConfigPatch) (CRLConfig, []string, error) {
	m.cfgWriteMu.Lock()
	defer m.cfgWriteMu.Unlock()
	// Read from storage in the writing transaction, not from the cache:
	// another replica sharing the store may have changed it.
	var old, next CRLConfig
	err := m.space.Update(func(tx storage.Tx) error {
		var err error
		if old, err = loadCRLConfig(tx); err != nil {
			return err
		}
		next = old
		if err := next.apply(p); err != nil {
			return err
		}
		if err := records.PutCRLConfig(tx, records.CRLConfig(next)); err != nil {
			return fmt.Errorf("crl: store config/crl: %w", err)
		}
		return nil
	})
	if err != nil {
		return old, nil, err
	}
	m.cfgMu.Lock()
	m.crlCfg = next
	m.cfgMu.Unlock()

	if old.Disable == next.Disable && !(old.AutoRebuild && !next.AutoRebuild) && old.EnableDelta == next.EnableDelta {
		return next, nil, nil
	}
	warnings, err := m.Rebuild(ctx, true)
	if err != nil {
		return next, nil, rebuildError(err)
	}
	return next, NumberWarnings(warnings), nil
}

// rebuildError words a failed rebuild as Vault's handlers do.
func rebuildError(err error) error {
	switch errs.KindOf(err) {
	case errs.Invalid:
		return errs.Invalidf("Error during CRL building: %s", errs.Message(err))
	case errs.InvalidVault500:
		return errs.Newf(errs.InvalidVault500, "error encountered during CRL building: %s", errs.Message(err))
	}
	return fmt.Errorf("error encountered during CRL building: %w", err)
}

// NumberWarnings renders rebuild warnings as Vault's revoke, rotate,
// config and issuer handlers add them to their responses.
func NumberWarnings(ws []string) []string {
	out := make([]string, 0, len(ws))
	for i, w := range ws {
		out = append(out, fmt.Sprintf("Warning %d during CRL rebuild: %v", i+1, w))
	}
	return out
}
