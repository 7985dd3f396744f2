// Package field decodes request data the way Vault's framework does: weakly
// typed, because clients send everything as strings (the CLI), as JSON
// numbers and booleans (the Go client), or as form values.
//
// A request type is a plain struct whose json tags name Vault's fields:
//
//	type issueRequest struct {
//		CommonName string        `json:"common_name"`
//		IPSANs     []string      `json:"ip_sans"`     // comma list or array
//		TTL        time.Duration `json:"ttl"`         // Vault duration-seconds
//		KeyBits    *int          `json:"key_bits"`    // nil when absent
//	}
//
// Decode fills it from the raw request map and returns the keys the struct
// does not know, for the "ignored unrecognized parameters" warning. A key
// absent from the request (or sent as JSON null) leaves the field as it was,
// so callers set defaults before decoding.
package field

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pkid-dev/pkid/duration"
	"github.com/pkid-dev/pkid/errs"
)

// Options in the `field` struct tag:
//
//	field:"list"    []string that is not split on commas (Vault TypeStringSlice)
//	field:"signed"  time.Duration that may be negative
//	field:"lower"   string lower-cased after decoding
const tagName = "field"

// Decode fills the struct dst points to from raw. It returns the sorted keys
// of raw that no field of dst names. A conversion failure is an errs.Invalid
// error worded as Vault words it.
func Decode(raw map[string]any, dst any) (unknown []string, err error) {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("field: Decode needs a pointer to a struct, got %T", dst)
	}
	known := map[string]bool{}
	if err := decodeStruct(raw, rv.Elem(), known); err != nil {
		return nil, err
	}
	for k := range raw {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	return unknown, nil
}

func fieldName(f reflect.StructField) (string, bool) {
	if !f.IsExported() {
		return "", false
	}
	tag := f.Tag.Get("json")
	name, _, _ := strings.Cut(tag, ",")
	if name == "-" || f.Tag.Get(tagName) == "-" {
		return "", false
	}
	if name == "" {
		if f.Anonymous {
			return "", false
		}
		name = f.Name
	}
	return name, true
}

func decodeStruct(raw map[string]any, v reflect.Value, known map[string]bool) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct && f.Tag.Get("json") == "" {
			if err := decodeStruct(raw, v.Field(i), known); err != nil {
				return err
			}
			continue
		}
		name, ok := fieldName(f)
		if !ok {
			continue
		}
		known[name] = true
		in, present := raw[name]
		if !present || in == nil {
			continue
		}
		if err := set(v.Field(i), in, f.Tag.Get(tagName)); err != nil {
			return errs.Wrap(errs.Invalid, err, fmt.Sprintf(
				"Field validation failed: error converting input for field %q: %v", name, err))
		}
	}
	return nil
}

var durationType = reflect.TypeOf(time.Duration(0))

func set(dst reflect.Value, in any, opts string) error {
	if dst.Kind() == reflect.Pointer {
		p := reflect.New(dst.Type().Elem())
		if err := set(p.Elem(), in, opts); err != nil {
			return err
		}
		dst.Set(p)
		return nil
	}
	if dst.Type() == durationType {
		d, err := ParseDuration(in)
		if err != nil {
			return err
		}
		if d < 0 && !strings.Contains(opts, "signed") {
			return fmt.Errorf("cannot provide negative value '%d'", int64(d/time.Second))
		}
		dst.SetInt(int64(d))
		return nil
	}
	switch dst.Kind() {
	case reflect.String:
		s, err := String(in)
		if err != nil {
			return err
		}
		if strings.Contains(opts, "lower") {
			s = strings.ToLower(s)
		}
		dst.SetString(s)
	case reflect.Bool:
		b, err := Bool(in)
		if err != nil {
			return err
		}
		dst.SetBool(b)
	case reflect.Int, reflect.Int64, reflect.Int32:
		n, err := Int(in)
		if err != nil {
			return err
		}
		if dst.OverflowInt(n) {
			return fmt.Errorf("value %d overflows %s", n, dst.Type())
		}
		dst.SetInt(n)
	case reflect.Float64:
		f, err := Float(in)
		if err != nil {
			return err
		}
		dst.SetFloat(f)
	case reflect.Slice:
		if dst.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("field: unsupported slice type %s", dst.Type())
		}
		var list []string
		var err error
		if strings.Contains(opts, "list") {
			list, err = StringList(in)
		} else {
			list, err = CommaList(in)
		}
		if err != nil {
			return err
		}
		dst.Set(reflect.ValueOf(list).Convert(dst.Type()))
	case reflect.Map:
		return setMap(dst, in)
	case reflect.Struct:
		m, ok := in.(map[string]any)
		if !ok {
			return fmt.Errorf("expected a map, got %s", kindName(in))
		}
		return decodeStruct(m, dst, map[string]bool{})
	case reflect.Interface:
		dst.Set(reflect.ValueOf(in))
	default:
		return fmt.Errorf("field: unsupported type %s", dst.Type())
	}
	return nil
}

func setMap(dst reflect.Value, in any) error {
	m, ok := in.(map[string]any)
	if !ok {
		return fmt.Errorf("expected a map, got %s", kindName(in))
	}
	out := reflect.MakeMapWithSize(dst.Type(), len(m))
	elem := dst.Type().Elem()
	for k, v := range m {
		ev := reflect.New(elem).Elem()
		if v != nil {
			if err := set(ev, v, ""); err != nil {
				return fmt.Errorf("key %q: %w", k, err)
			}
		}
		out.SetMapIndex(reflect.ValueOf(k).Convert(dst.Type().Key()), ev)
	}
	dst.Set(out)
	return nil
}

func kindName(in any) string {
	switch in.(type) {
	case string:
		return "string"
	case json.Number, float64, int, int64:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "list"
	case map[string]any:
		return "map"
	}
	return fmt.Sprintf("%T", in)
}

// String converts a value to a string the way mapstructure's weak decoding
// does: numbers as written, booleans as "1" or "0".
func String(in any) (string, error) {
	switch v := in.(type) {
	case string:
		return v, nil
	case json.Number:
		return v.String(), nil
	case bool:
		if v {
			return "1", nil
		}
		return "0", nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case int:
		return strconv.Itoa(v), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case []any:
		// mapstructure accepts a one-element list for a string.
		if len(v) == 1 {
			return String(v[0])
		}
	}
	return "", fmt.Errorf("expected type 'string', got unconvertible type '%s'", kindName(in))
}

// Bool converts a JSON bool, a number (non-zero is true) or one of Go's
// strconv.ParseBool spellings; the empty string is false.
func Bool(in any) (bool, error) {
	switch v := in.(type) {
	case bool:
		return v, nil
	case string:
		if v == "" {
			return false, nil
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, fmt.Errorf("cannot parse '' as bool: %w", err)
		}
		return b, nil
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return false, err
		}
		return f != 0, nil
	case float64:
		return v != 0, nil
	case int:
		return v != 0, nil
	case int64:
		return v != 0, nil
	}
	return false, fmt.Errorf("expected type 'bool', got unconvertible type '%s'", kindName(in))
}

// Int converts a JSON number or a numeric string; the empty string is 0.
func Int(in any) (int64, error) {
	switch v := in.(type) {
	case json.Number:
		n, err := v.Int64()
		if err != nil {
			return 0, fmt.Errorf("error decoding json.Number into int: %w", err)
		}
		return n, nil
	case string:
		if v == "" {
			return 0, nil
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 0, 64)
		if err != nil {
			return 0, fmt.Errorf("cannot parse '' as int: %w", err)
		}
		return n, nil
	case bool:
		if v {
			return 1, nil
		}
		return 0, nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > math.MaxInt64 {
			return 0, errors.New("number out of range")
		}
		return int64(v), nil
	case int:
		return int64(v), nil
	case int64:
		return v, nil
	}
	return 0, fmt.Errorf("expected type 'int', got unconvertible type '%s'", kindName(in))
}

// Float converts a JSON number or a numeric string.
func Float(in any) (float64, error) {
	switch v := in.(type) {
	case json.Number:
		return v.Float64()
	case string:
		if v == "" {
			return 0, nil
		}
		return strconv.ParseFloat(v, 64)
	case float64:
		return v, nil
	case int:
		return float64(v), nil
	case int64:
		return float64(v), nil
	case bool:
		if v {
			return 1, nil
		}
		return 0, nil
	}
	return 0, fmt.Errorf("expected type 'float64', got unconvertible type '%s'", kindName(in))
}

// CommaList is Vault's TypeCommaStringSlice: a JSON array (elements trimmed,
// not split) or a string split on commas, each part trimmed; "" is empty.
func CommaList(in any) ([]string, error) {
	if s, ok := in.(string); ok {
		if s == "" {
			return []string{}, nil
		}
		parts := strings.Split(s, ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		return parts, nil
	}
	if n, ok := in.(json.Number); ok {
		return []string{n.String()}, nil
	}
	return StringList(in)
}

// StringList is Vault's TypeStringSlice: a JSON array, or a single value
// taken as a one-element list; elements are trimmed.
func StringList(in any) ([]string, error) {
	switch v := in.(type) {
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if e == nil {
				out = append(out, "")
				continue
			}
			s, err := String(e)
			if err != nil {
				return nil, err
			}
			out = append(out, strings.TrimSpace(s))
		}
		return out, nil
	case []string:
		out := make([]string, len(v))
		for i, s := range v {
			out[i] = strings.TrimSpace(s)
		}
		return out, nil
	case string:
		if v == "" {
			return []string{}, nil
		}
		return []string{strings.TrimSpace(v)}, nil
	}
	s, err := String(in)
	if err != nil {
		return nil, err
	}
	return []string{s}, nil
}

// ParseDuration reads a Vault duration (spec §7.1): a number or a string of
// digits is seconds, digits followed by "d" are days, anything else goes to
// time.ParseDuration; "" is zero. Fractional seconds are truncated.
func ParseDuration(in any) (time.Duration, error) {
	switch v := in.(type) {
	case nil:
		return 0, nil
	case time.Duration:
		return v, nil
	case int:
		return time.Duration(v) * time.Second, nil
	case int64:
		return time.Duration(v) * time.Second, nil
	case float64:
		return duration.SecondsFloat(v)
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return duration.Seconds(n)
		}
		f, err := v.Float64()
		if err != nil {
			return 0, err
		}
		return duration.SecondsFloat(f)
	case string:
		return duration.Parse(v)
	}
	return 0, errors.New("could not parse duration from input")
}

// MergePatch applies an RFC 7396 JSON merge patch to base and returns the
// result; base is not modified. A null in the patch deletes the key.
func MergePatch(base, patch map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(patch))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range patch {
		if v == nil {
			delete(out, k)
			continue
		}
		pm, pok := v.(map[string]any)
		bm, bok := out[k].(map[string]any)
		if pok && bok {
			out[k] = MergePatch(bm, pm)
			continue
		}
		out[k] = v
	}
	return out
}

// Seconds renders a duration as Vault's JSON integer of seconds.
func Seconds(d time.Duration) int64 { return int64(d / time.Second) }
