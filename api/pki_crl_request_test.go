package api

import (
	"reflect"
	"testing"
	"time"

	"github.com/pkid-dev/pkid/crl"
)

// fillNonZero sets every field of the struct v points to, through pointers
// and embedded structs, to a non-zero value.
func fillNonZero(t *testing.T, v reflect.Value) {
	t.Helper()
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillNonZero(t, v.Elem())
	case reflect.Struct:
		for i := range v.NumField() {
			fillNonZero(t, v.Field(i))
		}
	case reflect.Bool:
		v.SetBool(true)
	case reflect.String:
		v.SetString("x")
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(time.Second))
	default:
		t.Fatalf("fillNonZero: no value for %s", v.Type())
	}
}

// zeroFields names the fields of v left zero, embedded structs looked into.
func zeroFields(v reflect.Value, prefix string) []string {
	var out []string
	for i := range v.NumField() {
		f, fv := v.Type().Field(i), v.Field(i)
		if f.Anonymous && fv.Kind() == reflect.Struct {
			out = append(out, zeroFields(fv, prefix+f.Name+".")...)
		} else if fv.IsZero() {
			out = append(out, prefix+f.Name)
		}
	}
	return out
}

// TestCRLWireConversionsCarryEveryField: a field added to a wire type or a
// crl type but forgotten in the conversion shows up zero on the crl side.
func TestCRLWireConversionsCarryEveryField(t *testing.T) {
	conversions := map[string]func(t *testing.T) any{
		"revoke": func(t *testing.T) any {
			var w revokeWire
			fillNonZero(t, reflect.ValueOf(&w).Elem())
			return w.request(true)
		},
		"config/crl": func(t *testing.T) any {
			var w crlConfigPatchWire
			fillNonZero(t, reflect.ValueOf(&w).Elem())
			return w.patch()
		},
		"tidy": func(t *testing.T) any {
			var w tidyWire
			fillNonZero(t, reflect.ValueOf(&w).Elem())
			return w.request()
		},
		"config/auto-tidy": func(t *testing.T) any {
			var w autoTidyPatchWire
			fillNonZero(t, reflect.ValueOf(&w).Elem())
			return w.patch()
		},
	}
	for name, convert := range conversions {
		if zero := zeroFields(reflect.ValueOf(convert(t)), ""); len(zero) > 0 {
			t.Errorf("%s: conversion leaves %v zero", name, zero)
		}
	}
}

// TestTidyWireDefaultsAreCRLs: a tidy with nothing sent reaches crl as
// crl's own default request, and the mapping that seeds the wire value
// from crl's misses no field either.
func TestTidyWireDefaultsAreCRLs(t *testing.T) {
	if got, want := newTidyWire().request(), crl.DefaultTidyRequest(); !reflect.DeepEqual(got, want) {
		t.Fatalf("defaults differ:\n got %+v\nwant %+v", got, want)
	}
	var full crl.TidyRequest
	fillNonZero(t, reflect.ValueOf(&full).Elem())
	if zero := zeroFields(reflect.ValueOf(tidyWireFrom(full)), ""); len(zero) > 0 {
		t.Errorf("tidyWireFrom leaves %v zero", zero)
	}
}
