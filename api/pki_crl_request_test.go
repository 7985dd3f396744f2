package api

import (
	"reflect"
	"testing"

	"github.com/pkid-dev/pkid/crl"
)

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
