package api

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pkid-dev/pkid/clock"
	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/field"
)

// Test-double features Vault lacks (DESIGN.md): a movable clock and injected
// faults, under sys/pkid/ and only when the server runs with TestDouble.
// They let a client test expiry, renewal and retry logic against a real PKI.

// testDouble holds the movable clock and the fault rules.
type testDouble struct {
	clock *clock.Offset

	mu     sync.Mutex
	faults map[string]*fault
}

// fault makes requests that match it fail or slow down.
type fault struct {
	Name       string
	Path       string // logical path prefix; a trailing "*" is optional
	Operations []string
	Status     int           // 0: no error, only latency
	Message    string        // the error text
	Latency    time.Duration // added before answering
	Remaining  int           // answers left to affect; 0 = unlimited
}

func (f *fault) data() map[string]any {
	ops := f.Operations
	if ops == nil {
		ops = []string{}
	}
	return map[string]any{
		"name": f.Name, "path": f.Path, "operations": ops, "status": f.Status,
		"message": f.Message, "latency": f.Latency.String(), "remaining": f.Remaining,
	}
}

func (f *fault) matches(logical string, op Operation) bool {
	p := strings.TrimSuffix(f.Path, "*")
	if !strings.HasPrefix(logical, p) {
		return false
	}
	if len(f.Operations) == 0 {
		return true
	}
	for _, o := range f.Operations {
		if Operation(o) == op {
			return true
		}
	}
	return false
}

// inject applies the first matching fault: it waits its latency (or until
// the client goes away) and returns its error, if it has one.
func (td *testDouble) inject(ctx context.Context, logical string, op Operation) error {
	if td == nil || strings.HasPrefix(logical, "sys/pkid/") {
		return nil
	}
	td.mu.Lock()
	var hit *fault
	names := make([]string, 0, len(td.faults))
	for n := range td.faults {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if f := td.faults[n]; f.matches(logical, op) {
			hit = f
			break
		}
	}
	var copyHit fault
	if hit != nil {
		copyHit = *hit
		if hit.Remaining > 0 {
			hit.Remaining--
			if hit.Remaining == 0 {
				delete(td.faults, hit.Name)
			}
		}
	}
	td.mu.Unlock()
	if hit == nil {
		return nil
	}
	if copyHit.Latency > 0 {
		t := time.NewTimer(copyHit.Latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if copyHit.Status == 0 {
		return nil
	}
	return &injectedError{status: copyHit.Status, msg: copyHit.Message}
}

// injectedError carries an injected fault's status to the error mapping.
type injectedError struct {
	status int
	msg    string
}

func (e *injectedError) Error() string { return e.msg }

func (s *Server) testDoubleRoutes() []Route {
	if s.td == nil {
		return nil
	}
	return []Route{
		{Pattern: "pkid/clock", Operations: map[Operation]HandlerFunc{
			OpRead: s.handleReadClock, OpUpdate: s.handleMoveClock}},
		{Pattern: "pkid/faults", Operations: map[Operation]HandlerFunc{OpList: s.handleListFaults}},
		{Pattern: "pkid/faults/{name:" + NamePattern + "}", Operations: map[Operation]HandlerFunc{
			OpRead: s.handleReadFault, OpUpdate: s.handleWriteFault, OpDelete: s.handleDeleteFault}},
	}
}

func (s *Server) clockData() map[string]any {
	now := s.clock.Now().UTC()
	return map[string]any{
		"now": now.Format(time.RFC3339Nano), "now_unix": now.Unix(),
		"offset_seconds": field.Seconds(s.td.clock.CurrentOffset()),
	}
}

func (s *Server) handleReadClock(context.Context, *Request) (*Response, error) {
	return &Response{Data: s.clockData()}, nil
}

type clockRequest struct {
	Advance time.Duration `json:"advance" field:"signed"`
	Set     string        `json:"set"`
	Reset   bool          `json:"reset"`
}

// handleMoveClock moves the server's clock: advance by a duration, set to an
// RFC 3339 instant, or reset to real time.
func (s *Server) handleMoveClock(_ context.Context, req *Request) (*Response, error) {
	var in clockRequest
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	switch {
	case in.Reset:
		s.td.clock.SetOffset(0)
	case in.Set != "":
		at, err := time.Parse(time.RFC3339, in.Set)
		if err != nil {
			return nil, errs.Invalidf("set must be an RFC 3339 time: %v", err)
		}
		s.td.clock.Set(at)
	default:
		s.td.clock.Shift(in.Advance)
	}
	return &Response{Data: s.clockData()}, nil
}

// Fault is a rule of injected failure or delay, as sys/pkid/faults/:name
// takes it: requests whose logical path starts with Path (and whose
// operation is one of Operations, when given) wait Latency and then fail
// with Status and Message; Count limits how many answers it affects (0:
// until removed).
type Fault struct {
	Path       string        `json:"path"`
	Operations []string      `json:"operations"`
	Status     int           `json:"status"`
	Message    string        `json:"message"`
	Latency    time.Duration `json:"latency"`
	Count      int           `json:"count"`
}

func (s *Server) handleWriteFault(_ context.Context, req *Request) (*Response, error) {
	var in Fault
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	f, err := s.td.setFault(req.Vars["name"], in)
	if err != nil {
		return nil, err
	}
	return &Response{Data: f.data()}, nil
}

// setFault checks a fault rule and puts it in force under name, replacing
// any rule of that name.
func (td *testDouble) setFault(name string, in Fault) (*fault, error) {
	if in.Path == "" {
		return nil, errs.Invalidf("path is required")
	}
	if in.Status != 0 && (in.Status < 400 || in.Status > 599) {
		return nil, errs.Invalidf("status must be between 400 and 599, or 0 for latency only")
	}
	if in.Count < 0 {
		return nil, errs.Invalidf("count cannot be negative")
	}
	for _, o := range in.Operations {
		switch Operation(o) {
		case OpRead, OpList, OpUpdate, OpDelete, OpPatch:
		default:
			return nil, errs.Invalidf("unknown operation %q: want read, list, update, delete or patch", o)
		}
	}
	if in.Message == "" && in.Status != 0 {
		in.Message = http.StatusText(in.Status)
	}
	f := &fault{Name: name, Path: strings.TrimPrefix(in.Path, "/v1/"), Operations: in.Operations,
		Status: in.Status, Message: in.Message, Latency: in.Latency, Remaining: in.Count}
	td.mu.Lock()
	td.faults[f.Name] = f
	td.mu.Unlock()
	return f, nil
}

func (s *Server) handleReadFault(_ context.Context, req *Request) (*Response, error) {
	s.td.mu.Lock()
	defer s.td.mu.Unlock()
	f, ok := s.td.faults[req.Vars["name"]]
	if !ok {
		return nil, nil
	}
	return &Response{Data: f.data()}, nil
}

func (s *Server) handleDeleteFault(_ context.Context, req *Request) (*Response, error) {
	s.td.removeFault(req.Vars["name"])
	return nil, nil
}

func (td *testDouble) removeFault(name string) {
	td.mu.Lock()
	delete(td.faults, name)
	td.mu.Unlock()
}

// errNoTestDouble answers the Go test-double calls on a server started
// without Config.TestDouble.
var errNoTestDouble = errors.New("api: the server runs without TestDouble")

// TestClock is the server's movable clock (sys/pkid/clock from Go), or nil
// when the server runs without TestDouble.
func (s *Server) TestClock() *clock.Offset {
	if s.td == nil {
		return nil
	}
	return s.td.clock
}

// SetFault puts a fault rule in force under name, as a write of
// sys/pkid/faults/:name does.
func (s *Server) SetFault(name string, f Fault) error {
	if s.td == nil {
		return errNoTestDouble
	}
	_, err := s.td.setFault(name, f)
	return err
}

// RemoveFault removes the fault rule called name, if there is one.
func (s *Server) RemoveFault(name string) {
	if s.td != nil {
		s.td.removeFault(name)
	}
}

func (s *Server) handleListFaults(context.Context, *Request) (*Response, error) {
	s.td.mu.Lock()
	defer s.td.mu.Unlock()
	keys := make([]string, 0, len(s.td.faults))
	for n := range s.td.faults {
		keys = append(keys, n)
	}
	sort.Strings(keys)
	return &Response{Data: map[string]any{"keys": keys}}, nil
}
