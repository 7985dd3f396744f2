package records

import (
	"strings"
	"testing"
	"time"

	"github.com/pkid-dev/pkid/storage"
	"github.com/pkid-dev/pkid/storage/storagetest"
)

var (
	crlDefaults = CRLConfig{Version: 1, Expiry: "72h", OCSPExpiry: "12h", AutoRebuildGracePeriod: "12h",
		DeltaRebuildInterval: "15m", MaxCRLEntries: 100000}
	tidyDefaults = AutoTidy{Version: 1, Interval: 12 * time.Hour, MinBackoff: 5 * time.Minute,
		MaxBackoff: 15 * time.Minute, SafetyBuffer: 72 * time.Hour, PageSize: 1000}
)

// TestCRLConfigReadsOverDefaults: a missing record is the defaults, and a
// record of older code that lacks fields keeps the defaults for them, as
// crl's unmarshal over its defaults always did.
func TestCRLConfigReadsOverDefaults(t *testing.T) {
	t.Parallel()
	space := storagetest.Open(t).Space("mount-uuid")
	err := space.Update(func(tx storage.Tx) error {
		got, err := GetCRLConfig(tx, crlDefaults)
		if err != nil || got != crlDefaults {
			t.Errorf("missing record = %+v, %v; want the defaults", got, err)
		}
		if err := tx.Put(CRLConfigKey, []byte(`{"expiry":"48h","auto_rebuild":true}`)); err != nil {
			return err
		}
		got, err = GetCRLConfig(tx, crlDefaults)
		want := crlDefaults
		want.Expiry, want.AutoRebuild = "48h", true
		if err != nil || got != want {
			t.Errorf("partial record = %+v, %v; want %+v", got, err, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAutoTidyReadsOverDefaults(t *testing.T) {
	t.Parallel()
	space := storagetest.Open(t).Space("mount-uuid")
	err := space.Update(func(tx storage.Tx) error {
		got, err := GetAutoTidy(tx, tidyDefaults)
		if err != nil || got != tidyDefaults {
			t.Errorf("missing record = %+v, %v; want the defaults", got, err)
		}
		if err := tx.Put(AutoTidyKey, []byte(`{"enabled":true,"tidy_acme":true,"revoked_safety":7}`)); err != nil {
			return err
		}
		got, err = GetAutoTidy(tx, tidyDefaults)
		if err != nil || got.RevokedSafetyBuffer == nil || *got.RevokedSafetyBuffer != 7 {
			t.Fatalf("partial record = %+v, %v; want revoked_safety 7", got, err)
		}
		want := tidyDefaults
		want.Enabled, want.Acme, want.RevokedSafetyBuffer = true, true, got.RevokedSafetyBuffer
		if got != want {
			t.Errorf("partial record = %+v; want %+v", got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAutoTidyDefaultsNotWrittenThrough: reading a record over defaults
// that hold a pointer leaves the caller's pointee alone.
func TestAutoTidyDefaultsNotWrittenThrough(t *testing.T) {
	t.Parallel()
	space := storagetest.Open(t).Space("mount-uuid")
	d := tidyDefaults
	buf := time.Hour
	d.RevokedSafetyBuffer = &buf
	err := space.Update(func(tx storage.Tx) error {
		if err := tx.Put(AutoTidyKey, []byte(`{"revoked_safety":5}`)); err != nil {
			return err
		}
		_, err := GetAutoTidy(tx, d)
		return err
	})
	if err != nil || buf != time.Hour {
		t.Errorf("defaults' revoked_safety = %v after read (%v), want 1h", buf, err)
	}
}

// TestCRLConfigDecodeErrorNamesTheKey: a broken record fails with the key
// in the message, which crl wraps as before.
func TestCRLConfigDecodeErrorNamesTheKey(t *testing.T) {
	t.Parallel()
	space := storagetest.Open(t).Space("mount-uuid")
	err := space.Update(func(tx storage.Tx) error {
		if err := firstErr(tx.Put(CRLConfigKey, []byte(`{"expiry":1}`)), tx.Put(AutoTidyKey, []byte(`{"enabled":"x"}`))); err != nil {
			return err
		}
		if _, err := GetCRLConfig(tx, crlDefaults); err == nil || !strings.Contains(err.Error(), "decode config/crl") {
			t.Errorf("config/crl error = %v", err)
		}
		if _, err := GetAutoTidy(tx, tidyDefaults); err == nil || !strings.Contains(err.Error(), "decode config/auto-tidy") {
			t.Errorf("config/auto-tidy error = %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestCRLConfigRecordBytes pins the stored field names and order.
func TestCRLConfigRecordBytes(t *testing.T) {
	t.Parallel()
	space := storagetest.Open(t).Space("mount-uuid")
	want := map[string]string{
		CRLConfigKey: `{"version":1,"expiry":"72h","disable":false,"ocsp_disable":false,"ocsp_expiry":"12h","auto_rebuild":false,"auto_rebuild_grace_period":"12h","enable_delta":false,"delta_rebuild_interval":"15m","allow_expired_cert_revocation":false,"unified_crl":false,"unified_crl_on_existing_paths":false,"cross_cluster_revocation":false,"max_crl_entries":100000}`,
		AutoTidyKey:  `{"version":1,"enabled":false,"interval":43200000000000,"min_startup_backoff":300000000000,"max_startup_backoff":900000000000,"tidy_cert_store":false,"tidy_revoked_certs":false,"tidy_revoked_cert_issuer_associations":false,"tidy_expired_issuers":false,"tidy_invalid_certs":false,"tidy_move_legacy_ca_bundle":false,"tidy_acme":false,"tidy_revocation_queue":false,"tidy_cross_cluster_revoked_certs":false,"tidy_cert_metadata":false,"tidy_cmpv2_nonce_store":false,"safety":259200000000000,"revoked_safety":null,"issuer_safety":0,"acme_safety":0,"queue_safety":0,"pause":0,"page_size":1000,"maintain_stored_certificate_counts":false,"publish_stored_certificate_count_metrics":false}`,
	}
	err := space.Update(func(tx storage.Tx) error {
		return firstErr(PutCRLConfig(tx, crlDefaults), PutAutoTidy(tx, tidyDefaults))
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = space.View(func(tx storage.Tx) error {
		for k, w := range want {
			if got := string(tx.Get(k)); got != w {
				t.Errorf("%s:\n got %s\nwant %s", k, got, w)
			}
		}
		return nil
	})
}
