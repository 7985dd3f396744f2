package api

import (
	"reflect"
	"testing"
)

// The request-type guards (pki_*_request_test.go) fill a wire struct with
// non-zero values and look for fields a conversion left zero: a field added
// on one side and forgotten in the conversion would otherwise be dropped
// silently from every request.

// fillNonZero sets every settable field reachable from v to a non-zero value.
func fillNonZero(t *testing.T, v reflect.Value) {
	t.Helper()
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			// An unexported embedded struct is not settable itself, but
			// its exported fields are.
			if f := v.Field(i); f.CanSet() || f.Kind() == reflect.Struct {
				fillNonZero(t, f)
			}
		}
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fillNonZero(t, p.Elem())
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fillNonZero(t, s.Index(0))
		v.Set(s)
	case reflect.Interface:
		v.Set(reflect.ValueOf("x"))
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(7)
	default:
		t.Fatalf("fillNonZero: no value for %s", v.Type())
	}
}

// zeroFields lists the fields of the struct v (nested and embedded structs
// walked into) left at their zero value, each named from path.
func zeroFields(v reflect.Value, path string) []string {
	var zero []string
	for i := 0; i < v.NumField(); i++ {
		f, fv := v.Type().Field(i), v.Field(i)
		name := path + f.Name
		switch {
		case fv.Kind() == reflect.Struct:
			zero = append(zero, zeroFields(fv, name+".")...)
		case fv.IsZero():
			zero = append(zero, name)
		}
	}
	return zero
}
