package main

import "runtime/debug"

// serverGCPercent is the GOGC a server runs with unless $GOGC says
// otherwise. The server's live heap is small (a few MB) while each issue
// allocates ~50 KB, so at Go's default of 100 the collector ran every few
// hundred requests and took a quarter of the CPU of a P-256 issue. At 400
// that share mostly goes (measured with `pkid bench issue -pid`, 16
// clients: no_store 0.17–0.22 → 0.13–0.14 ms of server CPU per
// certificate, stored 0.24 → 0.20) for ~20 MB more resident memory.
const serverGCPercent = 400

// tuneGC applies serverGCPercent when the environment does not set GOGC.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(serverGCPercent)
	}
}
