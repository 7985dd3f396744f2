package crl

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pkid-dev/pkid/records"
	"github.com/pkid-dev/pkid/storage"
)

// setEvery sets every field under v, through pointers and embedded
// structs, to a non-zero value.
func setEvery(t *testing.T, v reflect.Value) {
	t.Helper()
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		setEvery(t, v.Elem())
	case reflect.Struct:
		for i := range v.NumField() {
			setEvery(t, v.Field(i))
		}
	case reflect.Bool:
		v.SetBool(true)
	case reflect.String:
		v.SetString("x")
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(time.Second) + int64(v.Type().Size()))
	default:
		t.Fatalf("setEvery: no value for %s", v.Type())
	}
}

// TestAutoTidyRecordCarriesEveryField: the hand-written conversion to and
// from records.AutoTidy misses no field either way.
func TestAutoTidyRecordCarriesEveryField(t *testing.T) {
	t.Parallel()
	var c AutoTidyConfig
	setEvery(t, reflect.ValueOf(&c).Elem())
	rec := c.record()
	rv := reflect.ValueOf(rec)
	for i := range rv.NumField() {
		if rv.Field(i).IsZero() {
			t.Errorf("record() leaves %s zero", rv.Type().Field(i).Name)
		}
	}
	if back := autoTidyFromRecord(rec); !reflect.DeepEqual(back, c) {
		t.Errorf("round trip:\n got %+v\nwant %+v", back, c)
	}
}

// TestConfigsLoadOverDefaults: records of older code that lack fields load
// with crl's defaults for them, and no record at all is the defaults.
func TestConfigsLoadOverDefaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	err := e.space.Update(func(tx storage.Tx) error {
		crlCfg, err := loadCRLConfig(tx)
		if err != nil || crlCfg != DefaultCRLConfig() {
			t.Errorf("no config/crl = %+v, %v; want the defaults", crlCfg, err)
		}
		tidyCfg, err := loadAutoTidyConfig(tx)
		if err != nil || !reflect.DeepEqual(tidyCfg, DefaultAutoTidyConfig()) {
			t.Errorf("no config/auto-tidy = %+v, %v; want the defaults", tidyCfg, err)
		}
		for k, v := range map[string]string{
			records.CRLConfigKey: `{"version":1,"expiry":"48h","ocsp_disable":true}`,
			records.AutoTidyKey:  `{"enabled":true,"tidy_revoked_certs":true,"pause":2000000000}`,
		} {
			if err := tx.Put(k, []byte(v)); err != nil {
				return err
			}
		}
		wantCRL := DefaultCRLConfig()
		wantCRL.Expiry, wantCRL.OCSPDisable = "48h", true
		if crlCfg, err = loadCRLConfig(tx); err != nil || crlCfg != wantCRL {
			t.Errorf("partial config/crl = %+v, %v; want %+v", crlCfg, err, wantCRL)
		}
		wantTidy := DefaultAutoTidyConfig()
		wantTidy.Enabled, wantTidy.RevokedCerts, wantTidy.PauseDuration = true, true, 2*time.Second
		if tidyCfg, err = loadAutoTidyConfig(tx); err != nil || !reflect.DeepEqual(tidyCfg, wantTidy) {
			t.Errorf("partial config/auto-tidy = %+v, %v; want %+v", tidyCfg, err, wantTidy)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestConfigLoadErrorsKeepTheirWords: a broken record fails as before.
func TestConfigLoadErrorsKeepTheirWords(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	err := e.space.Update(func(tx storage.Tx) error {
		if err := tx.Put(records.CRLConfigKey, []byte(`{"expiry":1}`)); err != nil {
			return err
		}
		if err := tx.Put(records.AutoTidyKey, []byte(`{"enabled":"x"}`)); err != nil {
			return err
		}
		if _, err := loadCRLConfig(tx); err == nil || err.Error() != "crl: load config/crl: storage: decode config/crl: json: cannot unmarshal number into Go struct field crlConfigV1.expiry of type string" {
			t.Errorf("config/crl: %v", err)
		}
		if _, err := loadAutoTidyConfig(tx); err == nil || !strings.HasPrefix(err.Error(), "crl: load config/auto-tidy: storage: decode config/auto-tidy: ") {
			t.Errorf("config/auto-tidy: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
