package api_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pkid-dev/pkid/clock"
	"github.com/pkid-dev/pkid/pkidtest"
	"github.com/pkid-dev/pkid/records"
	"github.com/pkid-dev/pkid/storage"
)

// The golden records are the safety net of the storage layout: a mount as
// the code of the day writes it (roles, a root and an intermediate issuer,
// keys, certificates, a revocation, CRL state and every config record),
// dumped from bbolt into testdata. Two tests guard it:
//   - TestGoldenRecordsLoad puts the dumped records into a fresh bbolt file
//     and checks that the server reads them back as it did when it wrote
//     them, and can still issue, revoke and rebuild its CRL on top of them;
//   - TestGoldenRecordShapes writes the same mount with today's code and
//     checks that every record key and JSON field is still there, so a
//     rename of a wire field cannot silently change the disk format.
//
// Regenerate only for a deliberate, versioned layout change:
//   go test ./api -run TestGoldenRecord -update-golden

var updateGolden = flag.Bool("update-golden", false, "rewrite api/testdata/golden/records.json")

const goldenFile = "testdata/golden/records.json"

// goldenTime is the fixed clock of the golden mount, so that reads of it
// (TTLs left, CRL next-update) do not depend on the day the test runs.
var goldenTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// goldenDump is the file's layout.
type goldenDump struct {
	Mounts []goldenMount `json:"mounts"`
	// Reads are the data answers of reads made right after writing,
	// keyed by path; the load test expects them again.
	Reads map[string]map[string]any `json:"reads"`
}

type goldenMount struct {
	Path  string                     `json:"path"`
	Entry json.RawMessage            `json:"entry"` // the sys mount-table record
	JSON  map[string]json.RawMessage `json:"json"`  // records whose value is JSON
	Bytes map[string]string          `json:"bytes"` // other records, base64
}

// goldenReads are the paths whose answers must survive a reload.
var goldenReads = []string{
	"pki_int/roles/web-servers",
	"pki_int/issuer/default",
	"pki_int/issuer/intermediate-2024",
	"pki_int/key/intermediate-key",
	"pki_int/config/urls",
	"pki_int/config/crl",
	"pki_int/config/auto-tidy",
	"pki_int/config/cluster",
	"pki_int/config/issuers",
	"pki_int/config/keys",
	"pki_root/issuer/root-2024",
	"pki_root/config/issuers",
}

// goldenLists are the list paths whose answers must survive a reload.
var goldenLists = []string{
	"pki_int/roles",
	"pki_int/issuers",
	"pki_int/keys",
	"pki_int/certs",
	"pki_int/certs/revoked",
	"pki_root/certs",
}

// writeGoldenMount builds the representative mounts on srv with the code
// of the day.
func writeGoldenMount(t *testing.T, srv *pkidtest.Server) {
	t.Helper()
	srv.EnablePKI(t, "pki_root", 87600*time.Hour)
	srv.EnablePKI(t, "pki_int", 26280*time.Hour)
	srv.Write(t, "pki_root/root/generate/internal", map[string]any{
		"common_name": "Golden Root CA", "issuer_name": "root-2024", "key_name": "root-key",
		"key_type": "ec", "key_bits": 256, "ttl": "87600h"})
	csr := srv.Write(t, "pki_int/intermediate/generate/internal", map[string]any{
		"common_name": "Golden Intermediate CA", "key_name": "intermediate-key",
		"key_type": "ec", "key_bits": 256})
	signed := srv.Write(t, "pki_root/root/sign-intermediate", map[string]any{
		"csr": csr["csr"], "format": "pem_bundle", "ttl": "26280h"})
	set := srv.Write(t, "pki_int/intermediate/set-signed", map[string]any{"certificate": signed["certificate"]})
	imported, _ := set["imported_issuers"].([]any)
	if len(imported) == 0 {
		t.Fatalf("set-signed imported nothing: %v", set)
	}
	srv.Write(t, "pki_int/issuer/"+imported[0].(string), map[string]any{"issuer_name": "intermediate-2024"})
	srv.Write(t, "pki_int/config/urls", map[string]any{
		"issuing_certificates":    "https://pki.example.com/v1/pki_int/ca",
		"crl_distribution_points": "https://pki.example.com/v1/pki_int/crl",
		"ocsp_servers":            "https://pki.example.com/v1/pki_int/ocsp"})
	srv.Write(t, "pki_int/config/cluster", map[string]any{
		"path": "https://pki.example.com/v1/pki_int", "aia_path": "https://aia.example.com/v1/pki_int"})
	srv.Write(t, "pki_int/config/crl", map[string]any{
		"expiry": "48h", "enable_delta": true, "delta_rebuild_interval": "30m", "auto_rebuild": true})
	srv.Write(t, "pki_int/config/auto-tidy", map[string]any{
		"enabled": true, "interval_duration": "12h", "tidy_cert_store": true, "tidy_revoked_certs": true,
		"safety_buffer": "72h"})
	srv.Write(t, "pki_int/roles/web-servers", map[string]any{
		"allowed_domains": "example.com", "allow_subdomains": true, "allow_glob_domains": true,
		"ttl": "24h", "max_ttl": "720h", "key_type": "ec", "key_bits": 256,
		"key_usage": "DigitalSignature", "ext_key_usage": "ServerAuth,ClientAuth",
		"ou": "Web", "organization": "Golden", "country": "NL", "allowed_uri_sans": "spiffe://example.com/*",
		"issuer_ref": "intermediate-2024", "no_store": false, "generate_lease": false,
		"allowed_other_sans": "1.3.6.1.4.1.311.20.2.3;UTF8:*@example.com"})
	srv.Write(t, "pki_int/roles/no-store", map[string]any{
		"allow_any_name": true, "no_store": true, "key_type": "ec", "ttl": "1h"})
	first := srv.Write(t, "pki_int/issue/web-servers", map[string]any{
		"common_name": "a.example.com", "alt_names": "b.example.com", "ip_sans": "10.0.0.1",
		"uri_sans": "spiffe://example.com/a", "ttl": "48h"})
	srv.Write(t, "pki_int/issue/web-servers", map[string]any{"common_name": "c.example.com"})
	srv.Write(t, "pki_int/issue/no-store", map[string]any{"common_name": "not-stored"})
	srv.Write(t, "pki_int/revoke", map[string]any{"serial_number": first["serial_number"]})
	srv.Write(t, "pki_int/tidy", map[string]any{"tidy_cert_store": true, "safety_buffer": "720h"})
	waitTidy(t, srv)
	srv.Write(t, "pki_root/root/rotate/internal", map[string]any{
		"common_name": "Golden Root CA 2", "issuer_name": "root-2025", "key_type": "ec", "ttl": "87600h"})
}

// waitTidy waits for the tidy run to finish, so its status record is
// written before the dump.
func waitTidy(t *testing.T, srv *pkidtest.Server) {
	t.Helper()
	c := srv.Client(t)
	for range 500 {
		sec, err := c.Logical().Read("pki_int/tidy-status")
		if err != nil {
			t.Fatalf("tidy-status: %v", err)
		}
		if st, _ := sec.Data["state"].(string); st != "Running" {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("tidy did not finish")
}

func startGolden(t *testing.T, dir string) *pkidtest.Server {
	t.Helper()
	return pkidtest.Start(t, pkidtest.Options{DataDir: dir, Clock: clock.NewFake(goldenTime), PeriodicInterval: -1})
}

// dumpGolden reads the records of the two mounts from srv's store.
func dumpGolden(t *testing.T, srv *pkidtest.Server) goldenDump {
	t.Helper()
	var d goldenDump
	for _, path := range []string{"pki_root/", "pki_int/"} {
		m := goldenMount{Path: path, JSON: map[string]json.RawMessage{}, Bytes: map[string]string{}}
		var entry struct {
			UUID string `json:"uuid"`
		}
		err := srv.Store.Space("sys").View(func(tx storage.Tx) error {
			m.Entry = tx.Get("mount/" + path)
			return json.Unmarshal(m.Entry, &entry)
		})
		if err != nil {
			t.Fatalf("mount entry %s: %v", path, err)
		}
		err = srv.Store.Space(entry.UUID).View(func(tx storage.Tx) error {
			return tx.Scan("", "", func(k string, v []byte) error {
				if json.Valid(v) {
					m.JSON[k] = slices.Clone(v)
				} else {
					m.Bytes[k] = base64.StdEncoding.EncodeToString(v)
				}
				return nil
			})
		})
		if err != nil {
			t.Fatalf("dump %s: %v", path, err)
		}
		d.Mounts = append(d.Mounts, m)
	}
	d.Reads = goldenAnswers(t, srv)
	return d
}

// goldenAnswers reads every golden path and list.
func goldenAnswers(t *testing.T, srv *pkidtest.Server) map[string]map[string]any {
	t.Helper()
	c := srv.Client(t)
	out := map[string]map[string]any{}
	for _, p := range goldenReads {
		sec, err := c.Logical().Read(p)
		if err != nil || sec == nil {
			t.Fatalf("read %s: %v %v", p, sec, err)
		}
		out[p] = roundTrip(t, sec.Data)
	}
	for _, p := range goldenLists {
		sec, err := c.Logical().List(p)
		if err != nil || sec == nil {
			t.Fatalf("list %s: %v %v", p, sec, err)
		}
		out["LIST "+p] = roundTrip(t, sec.Data)
	}
	return out
}

// roundTrip makes v as it reads from the golden file (json.Number and all).
func roundTrip(t *testing.T, v map[string]any) map[string]any {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func readGolden(t *testing.T) goldenDump {
	t.Helper()
	raw, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatalf("golden records: %v (regenerate with -update-golden)", err)
	}
	var d goldenDump
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("golden records: %v", err)
	}
	return d
}

// TestGoldenRecordsLoad: records written by an earlier pkid still load.
func TestGoldenRecordsLoad(t *testing.T) {
	if *updateGolden {
		srv := startGolden(t, t.TempDir())
		writeGoldenMount(t, srv)
		d := dumpGolden(t, srv)
		raw, err := json.MarshalIndent(d, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(goldenFile), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenFile, append(raw, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d := readGolden(t)
	dir := t.TempDir()
	store, err := storage.Open(filepath.Join(dir, "pkid.db"), storage.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range d.Mounts {
		var entry struct {
			UUID string `json:"uuid"`
		}
		if err := json.Unmarshal(m.Entry, &entry); err != nil {
			t.Fatal(err)
		}
		err := store.Space("sys").Update(func(tx storage.Tx) error { return tx.Put("mount/"+m.Path, m.Entry) })
		if err != nil {
			t.Fatal(err)
		}
		err = store.Space(entry.UUID).Update(func(tx storage.Tx) error {
			for k, v := range m.JSON {
				if err := tx.Put(k, v); err != nil {
					return err
				}
			}
			for k, v := range m.Bytes {
				b, err := base64.StdEncoding.DecodeString(v)
				if err != nil {
					return err
				}
				if err := tx.Put(k, b); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}

	srv := startGolden(t, dir)
	got := goldenAnswers(t, srv)
	for p, want := range d.Reads {
		if diff := diffJSON(want, got[p]); diff != "" {
			t.Errorf("%s after reload: %s", p, diff)
		}
	}

	// The loaded mount still works: issue from the loaded role and issuer,
	// revoke, rebuild the CRL, and find both revocations on it.
	c := srv.Client(t)
	leaf := srv.Write(t, "pki_int/issue/web-servers", map[string]any{"common_name": "d.example.com"})
	want, _ := got["pki_int/issuer/intermediate-2024"]["certificate"].(string)
	if leaf["issuing_ca"] != strings.TrimSpace(want) {
		t.Errorf("issued by another issuer than the loaded intermediate-2024")
	}
	srv.Write(t, "pki_int/revoke", map[string]any{"serial_number": leaf["serial_number"]})
	if _, err := c.Logical().Read("pki_int/crl/rotate"); err != nil {
		t.Fatalf("crl/rotate: %v", err)
	}
	sec, err := c.Logical().List("pki_int/certs/revoked")
	if err != nil || sec == nil {
		t.Fatalf("list revoked: %v", err)
	}
	if keys, _ := sec.Data["keys"].([]any); len(keys) != 2 {
		t.Errorf("revoked after reload and a new revocation = %v, want 2", keys)
	}
	resp, err := c.Logical().ReadRawWithContext(context.Background(), "pki_int/crl")
	if err != nil {
		t.Fatalf("crl: %v", err)
	}
	resp.Body.Close()
}

func diffJSON(want, got map[string]any) string {
	w, _ := json.Marshal(want)
	g, _ := json.Marshal(got)
	if string(w) == string(g) {
		return ""
	}
	return fmt.Sprintf("\n got %s\nwant %s", g, w)
}

// TestGoldenRecordShapes: today's code writes the same record keys and
// fields as the golden mount (serials, UUIDs and values aside).
func TestGoldenRecordShapes(t *testing.T) {
	if *updateGolden {
		t.Skip("golden records are being rewritten")
	}
	d := readGolden(t)
	srv := startGolden(t, t.TempDir())
	writeGoldenMount(t, srv)
	fresh := dumpGolden(t, srv)
	for i, m := range d.Mounts {
		want, got := mountShape(t, m), mountShape(t, fresh.Mounts[i])
		for k, ws := range want {
			gs, ok := got[k]
			if !ok {
				t.Errorf("%s: record %s no longer written (shape %s)", m.Path, k, ws)
				continue
			}
			if gs != ws {
				t.Errorf("%s: record %s changed shape:\n got %s\nwant %s", m.Path, k, gs, ws)
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("%s: new record %s not in the golden files (version the layout and regenerate)", m.Path, k)
			}
		}
	}
}

var (
	uuidRE   = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	serialRE = regexp.MustCompile(`[0-9a-f]{2}([-:][0-9a-f]{2}){7,}`)
)

func normKey(k string) string {
	return serialRE.ReplaceAllString(uuidRE.ReplaceAllString(k, "<id>"), "<serial>")
}

// mountShape maps each normalised record key to the shape of its value.
func mountShape(t *testing.T, m goldenMount) map[string]string {
	t.Helper()
	out := map[string]string{}
	add := func(k, s string) {
		k = normKey(k)
		if prev, ok := out[k]; ok && prev != s {
			// Two records of one kind (two issuers) may differ in optional
			// fields; keep their union so the comparison is order-free.
			s = prev + " | " + s
			parts := strings.Split(s, " | ")
			slices.Sort(parts)
			s = strings.Join(slices.Compact(parts), " | ")
		}
		out[k] = s
	}
	for k, v := range m.JSON {
		var x any
		if err := json.Unmarshal(v, &x); err != nil {
			t.Fatal(err)
		}
		add(k, shapeOf(x))
	}
	for k := range m.Bytes {
		add(k, "bytes")
	}
	return out
}

// shapeOf describes a JSON value by its fields and types.
func shapeOf(x any) string {
	switch v := x.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var b strings.Builder
		b.WriteString("{")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(normKey(k) + ":" + shapeOf(v[k]))
		}
		b.WriteString("}")
		return b.String()
	case []any:
		if len(v) == 0 {
			return "[]"
		}
		return "[" + shapeOf(v[0]) + "]"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", x)
}

// The CRL config records are pinned byte for byte, not only by shape: they
// moved from crl's tagged types into records' own, and an unchanged encoding
// is the proof that the move left the disk format alone. The fixtures hold
// each record as the pkid of the day stored it, as a JSON string so that
// the file's indentation cannot touch the bytes.
const goldenCRLConfigFile = "testdata/golden/crl_configs.json"

// goldenCRLConfig is one fixture: a record key and the bytes stored there.
type goldenCRLConfig struct {
	Key    string `json:"key"`
	Record string `json:"record"`
}

// goldenCRLConfigWrites are the writes behind each fixture: the golden
// mount's, and one that moves every field a write can move off its default.
var goldenCRLConfigWrites = []struct {
	name, path string
	data       map[string]any
}{
	{"crl golden", "config/crl", map[string]any{
		"expiry": "48h", "enable_delta": true, "delta_rebuild_interval": "30m", "auto_rebuild": true}},
	{"crl full", "config/crl", map[string]any{
		"expiry": "96h", "disable": true, "ocsp_disable": true, "ocsp_expiry": "1h", "auto_rebuild": true,
		"auto_rebuild_grace_period": "2h", "enable_delta": true, "delta_rebuild_interval": "10m",
		"allow_expired_cert_revocation": true, "max_crl_entries": 5}},
	{"auto-tidy golden", "config/auto-tidy", map[string]any{
		"enabled": true, "interval_duration": "12h", "tidy_cert_store": true, "tidy_revoked_certs": true,
		"safety_buffer": "72h"}},
	{"auto-tidy full", "config/auto-tidy", map[string]any{
		"enabled": true, "interval_duration": "6h", "min_startup_backoff_duration": "1m",
		"max_startup_backoff_duration": "2m", "tidy_cert_store": true, "tidy_revoked_certs": true,
		"tidy_revoked_cert_issuer_associations": true, "tidy_expired_issuers": true, "tidy_invalid_certs": true,
		"tidy_move_legacy_ca_bundle": true, "tidy_acme": true, "tidy_revocation_queue": true,
		"tidy_cross_cluster_revoked_certs": true, "tidy_cmpv2_nonce_store": true, "safety_buffer": "24h",
		"revoked_safety_buffer": "48h", "issuer_safety_buffer": "96h", "acme_account_safety_buffer": "120h",
		"revocation_queue_safety_buffer": "36h", "pause_duration": "1s", "page_size": 50,
		"maintain_stored_certificate_counts": true, "publish_stored_certificate_count_metrics": true}},
}

// writeGoldenCRLConfigs makes each write on a mount of its own and returns
// the record it left.
func writeGoldenCRLConfigs(t *testing.T) map[string]goldenCRLConfig {
	t.Helper()
	srv := startGolden(t, t.TempDir())
	out := map[string]goldenCRLConfig{}
	for i, w := range goldenCRLConfigWrites {
		mount := fmt.Sprintf("pki_cfg%d", i)
		srv.EnablePKI(t, mount, time.Hour)
		srv.Write(t, mount+"/"+w.path, w.data)
		out[w.name] = goldenCRLConfig{Key: w.path, Record: string(mountRecord(t, srv, mount, w.path))}
	}
	return out
}

// mountRecord reads one record of a mount straight from the store.
func mountRecord(t *testing.T, srv *pkidtest.Server, mount, key string) []byte {
	t.Helper()
	var entry struct {
		UUID string `json:"uuid"`
	}
	var rec []byte
	err := srv.Store.Space("sys").View(func(tx storage.Tx) error {
		return json.Unmarshal(tx.Get("mount/"+mount+"/"), &entry)
	})
	if err == nil {
		err = srv.Store.Space(entry.UUID).View(func(tx storage.Tx) error {
			rec = slices.Clone(tx.Get(key))
			return nil
		})
	}
	if err != nil || rec == nil {
		t.Fatalf("%s/%s: record %q, %v", mount, key, rec, err)
	}
	return rec
}

func readGoldenCRLConfigs(t *testing.T) map[string]goldenCRLConfig {
	t.Helper()
	raw, err := os.ReadFile(goldenCRLConfigFile)
	if err != nil {
		t.Fatalf("golden CRL configs: %v (regenerate with -update-golden)", err)
	}
	var out map[string]goldenCRLConfig
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("golden CRL configs: %v", err)
	}
	return out
}

// TestGoldenCRLConfigBytes: today's code stores config/crl and
// config/auto-tidy exactly as the golden pkid did.
func TestGoldenCRLConfigBytes(t *testing.T) {
	got := writeGoldenCRLConfigs(t)
	if *updateGolden {
		raw, err := json.MarshalIndent(got, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenCRLConfigFile, append(raw, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := readGoldenCRLConfigs(t)
	if len(got) != len(want) {
		t.Errorf("%d fixtures written, %d golden", len(got), len(want))
	}
	for name, w := range want {
		if g := got[name]; g != w {
			t.Errorf("%s: stored\n %s %s\nwant\n %s %s", name, g.Key, g.Record, w.Key, w.Record)
		}
	}
}

// TestGoldenCRLConfigRecordsRoundTrip: each golden record loads into
// records' types and stores back as the very same bytes.
func TestGoldenCRLConfigRecordsRoundTrip(t *testing.T) {
	store := storage.OpenMemory()
	for name, g := range readGoldenCRLConfigs(t) {
		var got []byte
		err := store.Space(name).Update(func(tx storage.Tx) error {
			if err := tx.Put(g.Key, []byte(g.Record)); err != nil {
				return err
			}
			if err := reencodeCRLConfig(tx, g.Key); err != nil {
				return err
			}
			got = slices.Clone(tx.Get(g.Key))
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if string(got) != g.Record {
			t.Errorf("%s: re-encoded\n %s\nwant\n %s", name, got, g.Record)
		}
	}
}

// reencodeCRLConfig reads the record at key with zero defaults, so that
// every byte written back comes from the record, and stores it again.
func reencodeCRLConfig(tx storage.Tx, key string) error {
	switch key {
	case records.CRLConfigKey:
		c, err := records.GetCRLConfig(tx, records.CRLConfig{})
		if err != nil {
			return err
		}
		return records.PutCRLConfig(tx, c)
	case records.AutoTidyKey:
		c, err := records.GetAutoTidy(tx, records.AutoTidy{})
		if err != nil {
			return err
		}
		return records.PutAutoTidy(tx, c)
	}
	return fmt.Errorf("no CRL config record at %s", key)
}
