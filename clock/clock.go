// Package clock gives pkid its sense of time. Everything that reads the time
// takes a Clock, so tests (and the movable test clock of sys/) can move it.
package clock

import (
	"sync"
	"time"
)

// Clock tells the current time.
type Clock interface {
	Now() time.Time
}

// Real is the system clock.
type Real struct{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// Fake is a clock that only moves when told to. The zero value starts at the
// Unix epoch; use NewFake for a realistic time.
type Fake struct {
	mu sync.Mutex
	t  time.Time
}

// NewFake returns a fake clock set to t.
func NewFake(t time.Time) *Fake { return &Fake{t: t} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

// Set moves the clock to t.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	f.t = t
	f.mu.Unlock()
}

// Advance moves the clock forward by d.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

// Offset is a real clock shifted by an adjustable offset: the movable clock
// that pkid's test-double endpoints expose, so a client can jump forward in
// time to test expiry and renewal while time keeps flowing.
type Offset struct {
	mu   sync.Mutex
	base Clock
	off  time.Duration
}

// NewOffset returns a clock that follows base shifted by zero.
func NewOffset(base Clock) *Offset { return &Offset{base: base} }

// Now returns base.Now() plus the offset.
func (o *Offset) Now() time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.base.Now().Add(o.off)
}

// Shift adds d to the offset.
func (o *Offset) Shift(d time.Duration) {
	o.mu.Lock()
	o.off += d
	o.mu.Unlock()
}

// Set moves the clock to at, under one lock so no Shift slips between the
// reading of the time and the new offset.
func (o *Offset) Set(at time.Time) {
	o.mu.Lock()
	o.off = at.Sub(o.base.Now())
	o.mu.Unlock()
}

// SetOffset replaces the offset.
func (o *Offset) SetOffset(d time.Duration) {
	o.mu.Lock()
	o.off = d
	o.mu.Unlock()
}

// CurrentOffset returns the offset.
func (o *Offset) CurrentOffset() time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.off
}
