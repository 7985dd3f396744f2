package records

import (
	"testing"
	"time"

	"github.com/pkid-dev/pkid/storage"
	"github.com/pkid-dev/pkid/storage/storagetest"
)

// TestCARecordBytes pins the disk form of the CA records written through
// the accessors: field order, names, omitempty, the version stamp and the
// flattened config/urls and config/cluster.
func TestCARecordBytes(t *testing.T) {
	t.Parallel()
	space := storagetest.Open(t).Space("mount-uuid")
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	want := map[string]string{
		IssuerPrefix + "i1": `{"version":1,"id":"i1","name":"root","key_id":"k1","certificate":"PEM","ca_chain":["PEM"],"manual_chain":null,"serial_number":"01","leaf_not_after_behavior":"err","usage":"crl-signing,issuing-certificates,ocsp-signing,read-only","revocation_signature_algorithm":"","revoked":false,"revocation_time":0,"revocation_time_utc":"0001-01-01T00:00:00Z","aia_uris":{"issuing_certificates":["http://a"],"crl_distribution_points":null,"delta_crl_distribution_points":null,"ocsp_servers":null,"enable_templating":false},"last_modified":"2026-01-02T03:04:05Z"}`,
		KeyPrefix + "k1":    `{"version":1,"id":"k1","name":"","private_key_type":"ec","private_key":"KEY"}`,
		IssuersConfigKey:    `{"version":1,"default":"i1","default_follows_latest_issuer":false}`,
		KeysConfigKey:       `{"version":1,"default":"k1"}`,
		URLsKey:             `{"version":1,"issuing_certificates":null,"crl_distribution_points":["http://c"],"delta_crl_distribution_points":null,"ocsp_servers":null,"enable_templating":true}`,
		ClusterKey:          `{"version":1,"path":"https://p","aia_path":""}`,
	}
	err := space.Update(func(tx storage.Tx) error {
		return firstErr(
			PutIssuer(tx, &Issuer{ID: "i1", Name: "root", KeyID: "k1", Certificate: "PEM", CAChain: []string{"PEM"},
				SerialNumber: "01", LeafNotAfterBehavior: "err", Usage: UsageAll,
				AIA: &URLs{IssuingCertificates: []string{"http://a"}}, LastModified: when}),
			PutKey(tx, &Key{ID: "k1", Type: "ec", PrivateKey: "KEY"}),
			PutIssuersConfig(tx, IssuersConfig{Default: "i1"}),
			PutKeysConfig(tx, KeysConfig{Default: "k1"}),
			PutURLs(tx, URLs{CRLDistributionPoints: []string{"http://c"}, EnableTemplating: true}),
			PutCluster(tx, Cluster{Path: "https://p"}),
		)
	})
	if err != nil {
		t.Fatal(err)
	}
	mustView(t, space, func(tx storage.Tx) {
		for k, w := range want {
			if got := string(tx.Get(k)); got != w {
				t.Errorf("%s:\n got %s\nwant %s", k, got, w)
			}
		}
	})
}

// TestCARecordsRoundTrip reads back what the accessors wrote and checks
// that missing records read as nil or the zero config.
func TestCARecordsRoundTrip(t *testing.T) {
	t.Parallel()
	space := storagetest.Open(t).Space("mount-uuid")
	mustView(t, space, func(tx storage.Tx) {
		if rec, err := GetIssuer(tx, "none"); rec != nil || err != nil {
			t.Errorf("missing issuer: %v %v", rec, err)
		}
		if c, err := GetURLs(tx); c.EnableTemplating || c.OCSPServers != nil || err != nil {
			t.Errorf("missing urls: %+v %v", c, err)
		}
	})
	err := space.Update(func(tx storage.Tx) error {
		return firstErr(
			PutIssuer(tx, &Issuer{ID: "b", Usage: UsageIssuing}),
			PutIssuer(tx, &Issuer{ID: "a", Usage: UsageCRLSigning}),
			PutKey(tx, &Key{ID: "k", PendingIssuerName: "next"}),
			PutCluster(tx, Cluster{AIAPath: "http://x"}),
		)
	})
	if err != nil {
		t.Fatal(err)
	}
	mustView(t, space, func(tx storage.Tx) {
		all, err := AllIssuers(tx)
		if err != nil || len(all) != 2 || all[0].ID != "a" || all[0].Usage != UsageCRLSigning || all[1].Usage != UsageIssuing {
			t.Errorf("all issuers: %+v %v", all, err)
		}
		keys, err := AllKeys(tx)
		if err != nil || len(keys) != 1 || keys[0].PendingIssuerName != "next" || keys[0].Version != caRecordVersion {
			t.Errorf("all keys: %+v %v", keys, err)
		}
		if c, err := GetCluster(tx); c.AIAPath != "http://x" || err != nil {
			t.Errorf("cluster: %+v %v", c, err)
		}
	})
	if err := space.Update(DeleteAllIssuersAndKeys); err != nil {
		t.Fatal(err)
	}
	mustView(t, space, func(tx storage.Tx) {
		if all, _ := AllIssuers(tx); len(all) != 0 {
			t.Errorf("issuers left: %+v", all)
		}
		if all, _ := AllKeys(tx); len(all) != 0 {
			t.Errorf("keys left: %+v", all)
		}
	})
}

func TestUsageText(t *testing.T) {
	t.Parallel()
	if s := Usage(0).String(); s != "read-only" {
		t.Errorf("no usage: %q", s)
	}
	var u Usage
	if err := u.UnmarshalText([]byte("read-only,ocsp-signing")); err != nil || u != UsageOCSPSigning {
		t.Errorf("unmarshal: %v %v", u, err)
	}
	if _, err := ParseUsage([]string{"bogus"}); err == nil || err.Error() != "unknown name for usage at index 0: bogus" {
		t.Errorf("bad name: %v", err)
	}
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func mustView(t *testing.T, space *storage.Space, fn func(tx storage.Tx)) {
	t.Helper()
	if err := space.View(func(tx storage.Tx) error { fn(tx); return nil }); err != nil {
		t.Fatal(err)
	}
}
