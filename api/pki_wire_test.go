package api

import (
	"reflect"
	"testing"
	"time"

	"github.com/pkid-dev/pkid/ca"
	"github.com/pkid-dev/pkid/crl"
)

// The renderers of the domain's results, field by field as Vault answers.
func TestWireRenderers(t *testing.T) {
	t.Parallel()
	at := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	tests := []struct {
		name string
		got  map[string]any
		want map[string]any // the named fields only; nil: the whole map is nil
	}{
		{"revoke", revokeData(&crl.RevokeResult{Time: at}), map[string]any{
			"state": "revoked", "revocation_time": at.Unix(), "revocation_time_rfc3339": "2030-01-02T03:04:05.000000006Z"}},
		{"revoke refused", revokeData(&crl.RevokeResult{Warnings: []string{"expired"}}), nil},
		{"cert unrevoked", storedCertData(&ca.StoredCert{}), map[string]any{
			"revocation_time": int64(0), "revocation_time_rfc3339": "", "issuer_id": nil}},
		{"cert revoked", storedCertData(&ca.StoredCert{RevokedAt: at, RevocationIssuerID: "i1"}), map[string]any{
			"revocation_time": at.Unix(), "issuer_id": "i1"}},
		{"config/crl defaults", crlConfigData(crl.DefaultCRLConfig()), map[string]any{
			"expiry": "72h", "disable": false, "ocsp_disable": false, "ocsp_expiry": "12h", "auto_rebuild": false,
			"auto_rebuild_grace_period": "12h", "enable_delta": false, "delta_rebuild_interval": "15m", "max_crl_entries": 100000}},
		{"config/auto-tidy defaults", autoTidyData(crl.DefaultAutoTidyConfig()), map[string]any{
			"enabled": false, "interval_duration": int64(43200), "safety_buffer": int64(259200),
			"revoked_safety_buffer": int64(259200), "issuer_safety_buffer": int64(31536000), "pause_duration": "0s",
			"tidy_cert_store": false, "acme_account_safety_buffer": int64(2592000)}},
		{"tidy-status inactive", tidyStatusData(crl.TidyStatus{State: crl.TidyInactive}), map[string]any{
			"state": "Inactive", "safety_buffer": nil, "cert_store_deleted_count": nil, "time_finished": nil}},
		{"tidy-status finished", tidyStatusData(crl.TidyStatus{State: crl.TidyFinished, Started: at, Finished: at, Message: "x"}), map[string]any{
			"state": "Finished", "message": nil, "pause_duration": "0s", "time_finished": "2030-01-02T03:04:05.000000006Z",
			"cert_store_deleted_count": 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.want == nil {
				if tc.got != nil {
					t.Errorf("got %v, want nil", tc.got)
				}
				return
			}
			for k, v := range tc.want {
				if got, ok := tc.got[k]; !reflect.DeepEqual(got, v) || (v == nil && !ok && k != "issuer_id") {
					t.Errorf("%s = %#v (present %v), want %#v", k, got, ok, v)
				}
			}
		})
	}
}
