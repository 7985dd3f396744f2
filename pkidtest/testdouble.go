package pkidtest

import (
	"testing"
	"time"

	"github.com/pkid-dev/pkid/api"
	"github.com/pkid-dev/pkid/clock"
)

// Clock is the server's movable clock, the Go face of sys/pkid/clock:
// token expiry, certificate validity, CRL nextUpdate and tidy all follow it.
type Clock struct{ off *clock.Offset }

// Clock returns the server's movable clock. The server must have been
// started with Options{TestDouble: true}.
func (s *Server) Clock(t testing.TB) *Clock {
	t.Helper()
	off := s.API.TestClock()
	if off == nil {
		t.Fatalf("pkidtest: Clock needs Options{TestDouble: true}")
	}
	return &Clock{off: off}
}

// Now is the server's time.
func (c *Clock) Now() time.Time { return c.off.Now() }

// Advance moves the server's time forward by d (back when d is negative).
func (c *Clock) Advance(d time.Duration) { c.off.Shift(d) }

// Set moves the server's time to at.
func (c *Clock) Set(at time.Time) { c.off.Set(at) }

// Reset returns the server to real time.
func (c *Clock) Reset() { c.off.SetOffset(0) }

// Fault is an injected failure or delay (see api.Fault): requests whose
// path starts with Path ("pki/issue/") and whose operation is one of
// Operations ("read", "list", "update", "delete", "patch"; none: all) wait
// Latency and then fail with Status; Count limits how many (0: all).
type Fault = api.Fault

// AddFault puts a fault in force under name until RemoveFault or, when
// f.Count is set, until it has affected that many requests. The server must
// have been started with Options{TestDouble: true}.
func (s *Server) AddFault(t testing.TB, name string, f Fault) {
	t.Helper()
	if err := s.API.SetFault(name, f); err != nil {
		t.Fatalf("pkidtest: fault %s: %v", name, err)
	}
}

// RemoveFault lifts the fault called name.
func (s *Server) RemoveFault(name string) { s.API.RemoveFault(name) }
