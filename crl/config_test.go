package crl

import (
	"context"
	"testing"
	"time"

	"github.com/pkid-dev/pkid/errs"
)

func TestCRLConfigValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    CRLConfigPatch
		want string
	}{
		{"bad expiry", CRLConfigPatch{Expiry: ptr("soon")}, `given expiry could not be decoded: time: invalid duration "soon"`},
		{"days with hours", CRLConfigPatch{Expiry: ptr("1d12h")}, `given expiry could not be decoded: time: unknown unit "d" in duration "1d12h"`},
		{"bad ocsp_expiry", CRLConfigPatch{OCSPExpiry: ptr("x")}, `given ocsp_expiry could not be decoded: time: invalid duration "x"`},
		{"negative ocsp_expiry", CRLConfigPatch{OCSPExpiry: ptr("-1h")}, "ocsp_expiry must be greater than or equal to 0 got: -1h0m0s"},
		{"bad grace", CRLConfigPatch{AutoRebuildGracePeriod: ptr("y")}, `given auto_rebuild_grace_period could not be decoded: time: invalid duration "y"`},
		{"bad delta interval", CRLConfigPatch{DeltaRebuildInterval: ptr("z")}, `given delta_rebuild_interval could not be decoded: time: invalid duration "z"`},
		{"grace too long", CRLConfigPatch{AutoRebuild: ptr(true), AutoRebuildGracePeriod: ptr("72h")},
			"CRL auto-rebuilding grace period (72h) must be strictly shorter than CRL expiry (72h) value when auto-rebuilding of CRLs is enabled"},
		{"delta without auto", CRLConfigPatch{EnableDelta: ptr(true)},
			"Delta CRLs cannot be enabled when auto rebuilding is disabled as the complete CRL is always regenerated!"},
		{"delta interval too long", CRLConfigPatch{AutoRebuild: ptr(true), EnableDelta: ptr(true), DeltaRebuildInterval: ptr("100h")},
			"CRL delta rebuild window (100h) must be strictly shorter than CRL expiry (72h) value when delta CRLs are enabled"},
	}
	e := newEnv(t)
	for _, tc := range tests {
		_, _, err := e.m.SetCRLConfig(context.Background(), tc.p)
		if errs.KindOf(err) != errs.Invalid || errs.Message(err) != tc.want {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	if got := e.m.CRLConfig(); got != DefaultCRLConfig() {
		t.Errorf("refused writes changed the config: %+v", got)
	}
	// Vault only checks that expiry parses (path_config_crl.go), so a
	// negative one is stored.
	if cfg, _, err := e.m.SetCRLConfig(context.Background(), CRLConfigPatch{Expiry: ptr("-5")}); err != nil || cfg.Expiry != "-5" {
		t.Errorf("negative expiry: %+v, %v", cfg, err)
	}
}

func TestCRLConfigMergesAndPersists(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	cfg, ws, err := e.m.SetCRLConfig(ctx, CRLConfigPatch{Expiry: ptr("48h"), OCSPDisable: ptr(true)})
	if err != nil || len(ws) != 0 {
		t.Fatal(err, ws)
	}
	cfg, _, err = e.m.SetCRLConfig(ctx, CRLConfigPatch{AutoRebuild: ptr(true)})
	if err != nil || cfg.Expiry != "48h" || !cfg.OCSPDisable || !cfg.AutoRebuild {
		t.Fatalf("merged config = %+v, %v", cfg, err)
	}
	e.m.Close()
	e.m = e.newManager()
	got := e.m.CRLConfig()
	want := DefaultCRLConfig()
	want.Expiry, want.OCSPDisable, want.AutoRebuild = "48h", true, true
	if got != want {
		t.Errorf("after restart %+v, want %+v", got, want)
	}
}

func TestAutoTidyConfig(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	if d := e.m.AutoTidyConfig(); d.Enabled || d.Interval != 12*time.Hour || d.SafetyBuffer != 72*time.Hour ||
		d.RevokedSafetyBuffer != nil || d.IssuerSafetyBuffer != 8760*time.Hour || d.PauseDuration != 0 ||
		d.CertStore || d.AcmeSafetyBuffer != 720*time.Hour {
		t.Errorf("defaults %+v", d)
	}
	tests := []struct {
		name string
		p    AutoTidyPatch
		want string
	}{
		{"enabled with nothing", AutoTidyPatch{Enabled: ptr(true)}, "Auto-tidy enabled but no tidy operations were requested. Enable at least one tidy operation to be run (" + anyTidyOps + ")."},
		{"tiny safety", AutoTidyPatch{SafetyBuffer: ptr(time.Duration(0))}, "given safety_buffer must be at least one second; got: 0"},
		{"tiny revoked", AutoTidyPatch{RevokedSafetyBuffer: ptr(time.Duration(0))}, "revoked_safety_buffer must be at least one second; got: 0"},
		{"bad pause", AutoTidyPatch{PauseDuration: ptr("x")}, `unable to parse given pause_duration: time: invalid duration "x"`},
		{"negative pause", AutoTidyPatch{PauseDuration: ptr("-1s")}, "received invalid, negative pause_duration"},
		{"metrics without counts", AutoTidyPatch{PublishMetrics: ptr(true)}, "Can not publish a running storage metrics count to metrics without first maintaining that count.  Enable `maintain_stored_certificate_counts` to enable `publish_stored_certificate_count_metrics`."},
	}
	for _, tc := range tests {
		if _, err := e.m.SetAutoTidyConfig(ctx, tc.p); err == nil || err.Error() != tc.want {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	cfg, err := e.m.SetAutoTidyConfig(ctx, AutoTidyPatch{Enabled: ptr(true), RevokedCerts: ptr(true), PauseDuration: ptr("2s"), Interval: ptr(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Enabled || !cfg.RevokedCerts || cfg.PauseDuration != 2*time.Second || cfg.Interval != time.Hour {
		t.Errorf("config = %+v", cfg)
	}
	e.m.Close()
	e.m = e.newManager()
	if got := e.m.AutoTidyConfig().PauseDuration; got != 2*time.Second {
		t.Errorf("after restart pause_duration = %v", got)
	}
}
