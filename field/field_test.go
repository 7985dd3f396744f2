package field

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pkid-dev/pkid/errs"
)

func TestParseDuration(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in      any
		want    time.Duration
		wantErr bool
	}{
		{json.Number("30"), 30 * time.Second, false},
		{"30", 30 * time.Second, false},
		{"30s", 30 * time.Second, false},
		{"90m", 90 * time.Minute, false},
		{"1h30m", 90 * time.Minute, false},
		{"1.5h", 90 * time.Minute, false},
		{"87600h0m0s", 87600 * time.Hour, false},
		{"30d", 720 * time.Hour, false},
		{"1d12h", 0, true},
		{"1y", 0, true},
		{"1w", 0, true},
		{"3.5", 0, true},
		{json.Number("1.9"), time.Second, false},
		{"", 0, false},
		{nil, 0, false},
		{"-5", -5 * time.Second, false},
		{true, 0, true},
		{"99999999999999999999", 0, true},
		{"9999999999999d", 0, true},
	}
	for _, tc := range cases {
		got, err := ParseDuration(tc.in)
		if (err != nil) != tc.wantErr || (err == nil && got != tc.want) {
			t.Errorf("ParseDuration(%#v) = %v, %v; want %v, err %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

type sample struct {
	Name     string            `json:"name"`
	Flag     bool              `json:"flag"`
	Default  bool              `json:"default_true"`
	Bits     int               `json:"bits"`
	TTL      time.Duration     `json:"ttl"`
	Skew     time.Duration     `json:"skew" field:"signed"`
	Domains  []string          `json:"domains"`
	Verbatim []string          `json:"verbatim" field:"list"`
	Opt      *int              `json:"opt"`
	Meta     map[string]string `json:"meta"`
	Lower    string            `json:"lower" field:"lower"`
	Nested   struct {
		Max string `json:"max"`
	} `json:"nested"`
}

func TestDecodeWeakTypes(t *testing.T) {
	t.Parallel()
	raw := map[string]any{
		"name": json.Number("42"), "flag": "t", "default_true": "", "bits": "4096",
		"ttl": "87600h0m0s", "skew": "-30", "domains": "example.com, svc.cluster.local",
		"verbatim": []any{"a,b", " c "}, "opt": json.Number("7"), "meta": map[string]any{"k": json.Number("1")},
		"lower": "MiXeD", "nested": map[string]any{"max": "1h", "ignored": 1}, "extra": 1, "another": nil,
	}
	s := sample{Default: true}
	unknown, err := Decode(raw, &s)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "42" || !s.Flag || s.Default || s.Bits != 4096 || s.TTL != 87600*time.Hour || s.Skew != -30*time.Second {
		t.Errorf("scalars: %+v", s)
	}
	if !reflect.DeepEqual(s.Domains, []string{"example.com", "svc.cluster.local"}) ||
		!reflect.DeepEqual(s.Verbatim, []string{"a,b", "c"}) {
		t.Errorf("lists: %q %q", s.Domains, s.Verbatim)
	}
	if s.Opt == nil || *s.Opt != 7 || s.Meta["k"] != "1" || s.Lower != "mixed" || s.Nested.Max != "1h" {
		t.Errorf("others: %+v", s)
	}
	if !reflect.DeepEqual(unknown, []string{"another", "extra"}) {
		t.Errorf("unknown %v", unknown)
	}
}

func TestDecodeAbsentKeepsDefaults(t *testing.T) {
	t.Parallel()
	s := sample{Default: true, Bits: 2048}
	if _, err := Decode(map[string]any{"default_true": nil}, &s); err != nil {
		t.Fatal(err)
	}
	if !s.Default || s.Bits != 2048 || s.Opt != nil {
		t.Fatalf("defaults lost: %+v", s)
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	cases := map[string]any{
		"flag": "maybe", "bits": "many", "ttl": "soon", "domains": map[string]any{},
		"meta": "k=v", "opt": json.Number("1.5"),
	}
	for k, v := range cases {
		var s sample
		_, err := Decode(map[string]any{k: v}, &s)
		if !errors.Is(err, errs.Invalid) {
			t.Errorf("%s=%v: err %v, want Invalid", k, v, err)
			continue
		}
		want := `Field validation failed: error converting input for field "` + k + `"`
		if !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: %q, want prefix %q", k, err, want)
		}
	}
	var s sample
	if _, err := Decode(map[string]any{"ttl": "-5"}, &s); err == nil || !strings.Contains(err.Error(), "cannot provide negative value") {
		t.Errorf("negative ttl: %v", err)
	}
}

func TestCommaList(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   any
		want []string
	}{
		{"", []string{}},
		{"a", []string{"a"}},
		{"a, b ,c", []string{"a", "b", "c"}},
		{"a,,b", []string{"a", "", "b"}},
		{[]any{"a,b", "c"}, []string{"a,b", "c"}},
		{json.Number("5"), []string{"5"}},
	}
	for _, tc := range cases {
		got, err := CommaList(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("CommaList(%#v) = %q, %v", tc.in, got, err)
		}
	}
}

func TestMergePatch(t *testing.T) {
	t.Parallel()
	base := map[string]any{"a": 1, "b": map[string]any{"x": 1, "y": 2}, "c": 3}
	got := MergePatch(base, map[string]any{"a": 9, "b": map[string]any{"y": nil, "z": 3}, "c": nil})
	want := map[string]any{"a": 9, "b": map[string]any{"x": 1, "z": 3}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%v", got)
	}
	if base["a"] != 1 {
		t.Fatal("base modified")
	}
}

// FuzzDecode throws arbitrary JSON bodies at the decoder: it must never
// panic, and every failure must be a 400.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"name":"x","ttl":"1h","domains":"a,b","bits":2048}`,
		`{"ttl":99999999999999999999,"bits":1e400}`,
		`{"meta":{"a":[1,2]},"nested":"x","opt":"7"}`,
		`{"verbatim":[null,1,true,{"a":1}]}`,
		`{"skew":"-9223372036854775808"}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		dec := json.NewDecoder(strings.NewReader(body))
		dec.UseNumber()
		var raw map[string]any
		if dec.Decode(&raw) != nil {
			return
		}
		var s sample
		if _, err := Decode(raw, &s); err != nil && !errors.Is(err, errs.Invalid) {
			t.Fatalf("non-400 error: %v", err)
		}
	})
}

func FuzzParseDuration(f *testing.F) {
	for _, seed := range []string{"30", "30d", "1h30m", "-5", "", "1.5h", "9223372036854775807", "1e9h"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = ParseDuration(s)
		_, _ = ParseDuration(json.Number(s))
	})
}
