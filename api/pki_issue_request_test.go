package api

import (
	"reflect"
	"strings"
	"testing"

	"github.com/pkid-dev/pkid/ca"
	"github.com/pkid-dev/pkid/field"
)

// The guards below catch a wire field that a conversion forgets, a key
// that appears or disappears (it changes the "ignored unrecognized
// parameters" warning) and a default that drifts from the domain's.

// reqWireCheckConversion fills a wire struct W and asserts convert left
// no field of the domain result unset.
func reqWireCheckConversion[W, D any](t *testing.T, convert func(W) D) {
	t.Helper()
	var w W
	fillNonZero(t, reflect.ValueOf(&w).Elem())
	d := convert(w)
	if zero := zeroFields(reflect.ValueOf(d), ""); len(zero) > 0 {
		t.Errorf("%T → %T leaves unset: %v", w, d, zero)
	}
}

// reqWireKeys lists the keys field.Decode knows in t, in decode order (the
// order decides which error a body with several bad fields gets).
func reqWireKeys(t reflect.Type) []string {
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if f.Anonymous && f.Type.Kind() == reflect.Struct && tag == "" {
			keys = append(keys, reqWireKeys(f.Type)...)
			continue
		}
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		keys = append(keys, name)
	}
	return keys
}

func reqWireCheckKeys(t *testing.T, w any, want string) {
	t.Helper()
	if got := strings.Join(reqWireKeys(reflect.TypeOf(w)), " "); got != want {
		t.Errorf("%T keys:\n got %s\nwant %s", w, got, want)
	}
}

// reqWireDecodeEmpty decodes an empty body into w, as a handler does.
func reqWireDecodeEmpty(t *testing.T, w any) {
	t.Helper()
	unknown, err := field.Decode(map[string]any{}, w)
	if err != nil || len(unknown) > 0 {
		t.Fatalf("Decode(empty) = %v, %v", unknown, err)
	}
}

const leafKeys = "common_name alt_names ip_sans uri_sans other_sans serial_number ttl not_after " +
	"format private_key_format exclude_cn_from_sans remove_roots_from_chain user_ids issuer_ref"

func TestIssueWireKeys(t *testing.T) {
	reqWireCheckKeys(t, issueWire{}, leafKeys+" key_type key_bits")
	reqWireCheckKeys(t, signWire{}, leafKeys+" csr")
	reqWireCheckKeys(t, verbatimWire{}, leafKeys+
		" key_usage ext_key_usage ext_key_usage_oids signature_bits use_pss basic_constraints_valid_for_non_ca csr")
}

func TestIssueWireConversions(t *testing.T) {
	reqWireCheckConversion(t, issueWire.request)
	reqWireCheckConversion(t, signWire.request)
	reqWireCheckConversion(t, verbatimWire.request)
}

func TestIssueWireDefaults(t *testing.T) {
	issue := defaultIssueWire()
	reqWireDecodeEmpty(t, &issue)
	if got, want := issue.request(), ca.DefaultIssueRequest(); !reflect.DeepEqual(got, want) {
		t.Errorf("issue defaults:\n got %+v\nwant %+v", got, want)
	}
	sign := defaultSignWire()
	reqWireDecodeEmpty(t, &sign)
	if got, want := sign.request(), ca.DefaultSignRequest(); !reflect.DeepEqual(got, want) {
		t.Errorf("sign defaults:\n got %+v\nwant %+v", got, want)
	}
	verbatim := defaultVerbatimWire()
	reqWireDecodeEmpty(t, &verbatim)
	if got, want := verbatim.request(), ca.DefaultVerbatimRequest(); !reflect.DeepEqual(got, want) {
		t.Errorf("verbatim defaults:\n got %+v\nwant %+v", got, want)
	}
}

// The inverse conversions keep the defaults defined once, in the domain:
// they too must carry every field.
func TestIssueWireInverses(t *testing.T) {
	reqWireCheckConversion(t, func(w leafWire) leafWire { return leafWireOf(w.leaf()) })
	reqWireCheckConversion(t, func(w verbatimParamsWire) verbatimParamsWire {
		return verbatimParamsWireOf(w.params())
	})
}
