//go:build perfprof

// Temporary profiling hook for performance work (only built with -tags perfprof).
package main

import (
	"net/http"
	_ "net/http/pprof"
	"os"
)

func init() {
	if addr := os.Getenv("PKID_PPROF"); addr != "" {
		go http.ListenAndServe(addr, nil)
	}
}
