package ca

import (
	"context"
	"strings"
	"testing"

	"github.com/pkid-dev/pkid/records"
	"github.com/pkid-dev/pkid/storage"
)

// TestSigningIssuerCacheFollowsStorage changes, one at a time, each record a
// signing issuer is resolved from, after a resolution has been cached, and
// checks that the next resolution sees the change.
func TestSigningIssuerCacheFollowsStorage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name  string
		ref   string
		setup func(t *testing.T, c *testCA) // runs before the first resolution
		// change modifies storage; check inspects the resolution after it.
		change func(t *testing.T, c *testCA)
		check  func(t *testing.T, c *testCA, si *SigningIssuer, err error)
	}{
		{
			name:   "new default issuer",
			ref:    "default",
			change: func(t *testing.T, c *testCA) { mustDo(t, c.setDefault("second")) },
			check:  wantIssuerNamed("second"),
		},
		{
			name: "default spelled differently",
			ref:  "DeFault",
			change: func(t *testing.T, c *testCA) {
				mustDo(t, c.setDefault("second"))
			},
			check: wantIssuerNamed("second"),
		},
		{
			name: "issuing usage removed",
			ref:  "first",
			change: func(t *testing.T, c *testCA) {
				_, _, err := c.UpdateIssuer(ctx, "first", IssuerUpdate{Usage: &[]string{"crl-signing"}}, false)
				mustDo(t, err)
			},
			check: wantErrorContaining("requested usage issuing-certificates"),
		},
		{
			name: "issuer renamed away from the reference",
			ref:  "first",
			change: func(t *testing.T, c *testCA) {
				_, _, err := c.UpdateIssuer(ctx, "first", IssuerUpdate{IssuerName: str("renamed")}, false)
				mustDo(t, err)
			},
			check: wantErrorContaining("unable to find PKI issuer for reference: first"),
		},
		{
			name: "another issuer takes the name",
			ref:  "third",
			setup: func(t *testing.T, c *testCA) {
				c.ecRoot(t, "third")
			},
			change: func(t *testing.T, c *testCA) {
				_, _, err := c.UpdateIssuer(ctx, "third", IssuerUpdate{IssuerName: str("old-third")}, false)
				mustDo(t, err)
				_, _, err = c.UpdateIssuer(ctx, "second", IssuerUpdate{IssuerName: str("third")}, false)
				mustDo(t, err)
			},
			check: func(t *testing.T, c *testCA, si *SigningIssuer, err error) {
				second, _ := c.Issuer("third")
				if err != nil || second == nil || si.ID != second.ID {
					t.Errorf("resolved %v, %v; want the issuer now named third", si, err)
				}
			},
		},
		{
			name: "leaf_not_after_behavior",
			ref:  "default",
			change: func(t *testing.T, c *testCA) {
				_, _, err := c.UpdateIssuer(ctx, "default", IssuerUpdate{LeafNotAfterBehavior: str("permit")}, false)
				mustDo(t, err)
			},
			check: func(t *testing.T, c *testCA, si *SigningIssuer, err error) {
				if err != nil || si.LeafNotAfterBehavior != NotAfterPermit {
					t.Errorf("behavior %v, %v", si, err)
				}
			},
		},
		{
			name: "mount URLs",
			ref:  "default",
			change: func(t *testing.T, c *testCA) {
				_, _, err := c.SetURLs(URLConfigUpdate{OCSPServers: &[]string{"http://ocsp.example"}})
				mustDo(t, err)
			},
			check: func(t *testing.T, c *testCA, si *SigningIssuer, err error) {
				if err != nil || len(si.URLs.OCSPServers) != 1 || si.URLs.OCSPServers[0] != "http://ocsp.example" {
					t.Errorf("urls %+v, %v", si, err)
				}
			},
		},
		{
			name: "cluster path of templated URLs",
			ref:  "default",
			setup: func(t *testing.T, c *testCA) {
				_, err := c.SetCluster(ClusterUpdate{Path: str("https://a.example/v1/pki")})
				mustDo(t, err)
				_, _, err = c.SetURLs(URLConfigUpdate{EnableTemplating: boolp(true),
					IssuingCertificates: &[]string{"{{cluster_path}}/issuer/{{issuer_id}}/der"}})
				mustDo(t, err)
			},
			change: func(t *testing.T, c *testCA) {
				_, err := c.SetCluster(ClusterUpdate{Path: str("https://b.example/v1/pki")})
				mustDo(t, err)
			},
			check: func(t *testing.T, c *testCA, si *SigningIssuer, err error) {
				if err != nil || !strings.HasPrefix(si.URLs.IssuingCertificates[0], "https://b.example/") {
					t.Errorf("urls %+v, %v", si, err)
				}
			},
		},
		{
			name: "key deleted under the issuer",
			ref:  "first",
			change: func(t *testing.T, c *testCA) {
				// DeleteKey refuses a key in use; remove the record as a
				// lower layer could, to prove the key record is checked.
				si, err := c.SigningIssuer("first")
				mustDo(t, err)
				mustDo(t, c.cfg.Space.Update(func(tx storage.Tx) error { return tx.Delete(records.KeyPrefix + si.KeyID) }))
			},
			check: wantErrorContaining("unable to fetch corresponding key for issuer"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newTestCA(t)
			c.ecRoot(t, "first")
			c.ecRoot(t, "second")
			if tt.setup != nil {
				tt.setup(t, c)
			}
			first, err := c.SigningIssuer(tt.ref)
			if err != nil {
				t.Fatal(err)
			}
			if again, _ := c.SigningIssuer(tt.ref); again != first {
				t.Fatalf("second resolution of unchanged records was not served from the cache")
			}
			tt.change(t, c)
			si, err := c.SigningIssuer(tt.ref)
			tt.check(t, c, si, err)
		})
	}
}

func (c *testCA) setDefault(ref string) error {
	_, _, err := c.SetIssuersConfig(ref, nil)
	return err
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantIssuerNamed(name string) func(*testing.T, *testCA, *SigningIssuer, error) {
	return func(t *testing.T, _ *testCA, si *SigningIssuer, err error) {
		t.Helper()
		if err != nil || si.Name != name {
			t.Errorf("resolved %v, %v; want issuer %q", si, err, name)
		}
	}
}

func wantErrorContaining(text string) func(*testing.T, *testCA, *SigningIssuer, error) {
	return func(t *testing.T, _ *testCA, si *SigningIssuer, err error) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), text) {
			t.Errorf("resolved %v, %v; want an error with %q", si, err, text)
		}
	}
}

// TestRecordingTxUncacheable: reads the cache cannot replay make the result
// uncacheable.
func TestRecordingTxUncacheable(t *testing.T) {
	t.Parallel()
	c := newTestCA(t)
	c.ecRoot(t, "first")
	tests := []struct {
		name string
		read func(tx storage.Tx) error
		want bool
	}{
		{"get", func(tx storage.Tx) error { tx.Get(records.IssuersConfigKey); return nil }, false},
		{"full scan", func(tx storage.Tx) error {
			return tx.Scan(records.IssuerPrefix, "", func(string, []byte) error { return nil })
		}, false},
		{"partial scan", func(tx storage.Tx) error {
			return tx.Scan(records.IssuerPrefix, "", func(string, []byte) error { return storage.ErrStop })
		}, true},
		{"scan after", func(tx storage.Tx) error {
			return tx.Scan(records.IssuerPrefix, "a", func(string, []byte) error { return nil })
		}, true},
		{"keys", func(tx storage.Tx) error { _, err := tx.Keys(records.IssuerPrefix, "", 0); return err }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := c.cfg.Space.View(func(tx storage.Tx) error {
				r := &recordingTx{tx: tx}
				if err := tt.read(r); err != nil {
					return err
				}
				if r.uncacheable != tt.want {
					t.Errorf("uncacheable = %v, want %v", r.uncacheable, tt.want)
				}
				if !tt.want && !(&signingEntry{reads: r.reads}).valid(tx) {
					t.Errorf("recorded reads do not replay in the same transaction")
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
