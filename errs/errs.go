// Package errs holds the typed errors that domain packages return and that
// api/ maps to HTTP status codes in exactly one place.
//
// A Kind is itself an error, so callers test with errors.Is(err, errs.Invalid).
package errs

import (
	"errors"
	"fmt"
)

// Kind classifies an error by what the client did wrong (or what went wrong).
type Kind int

const (
	// Unknown is the kind of an error that carries no Kind: a bug, answered 500.
	Unknown Kind = iota
	// Invalid is bad input, a refusal by a role or policy: Vault answers 400.
	Invalid
	// NotFound is a read of nothing: Vault answers 404 with an empty error list.
	NotFound
	// PermissionDenied is a missing or bad token or an ACL refusal: 403.
	PermissionDenied
	// Unsupported is a verb the path does not take: 405.
	Unsupported
	// VaultInternal is a caller's mistake that Vault itself answers with 500
	// (spec Appendix C), such as an unknown issuer reference. It is a handled
	// error, not a crash; the message reaches the client.
	VaultInternal
	// Conflict is a clash with existing state that Vault answers 409.
	Conflict
	// TooLarge is a request body over the limit: 413.
	TooLarge
	// Unsupported415 is a body of a media type the path does not take
	// (PATCH without merge-patch JSON): 415.
	Unsupported415
)

var kindNames = map[Kind]string{
	Unknown:          "internal error",
	Invalid:          "invalid request",
	NotFound:         "not found",
	PermissionDenied: "permission denied",
	Unsupported:      "unsupported operation",
	VaultInternal:    "internal error",
	Conflict:         "conflict",
	TooLarge:         "request too large",
	Unsupported415:   "unsupported media type",
}

func (k Kind) Error() string { return kindNames[k] }

// Error is an error with a Kind and a message meant for the client.
type Error struct {
	Kind Kind
	Msg  string
	Err  error // the cause, if any; not shown to the client
}

func (e *Error) Error() string {
	if e.Msg == "" && e.Err != nil {
		return e.Err.Error()
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, errs.Invalid) true for an *Error of that kind.
func (e *Error) Is(target error) bool {
	k, ok := target.(Kind)
	return ok && k == e.Kind
}

// New returns an error of kind k with a fixed message.
func New(k Kind, msg string) error { return &Error{Kind: k, Msg: msg} }

// Newf returns an error of kind k with a formatted message.
func Newf(k Kind, format string, args ...any) error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...)}
}

// Wrap gives err the kind k and the client-facing message msg.
func Wrap(k Kind, err error, msg string) error { return &Error{Kind: k, Msg: msg, Err: err} }

// Invalidf is the common case: a 400 with a formatted message.
func Invalidf(format string, args ...any) error { return Newf(Invalid, format, args...) }

// KindOf returns the kind of the first *Error in err's chain, or Unknown.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	var k Kind
	if errors.As(err, &k) {
		return k
	}
	return Unknown
}

// Message returns the client-facing message of err: the message of its first
// *Error, which deliberately hides wrapping context added by callers.
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Error()
	}
	return err.Error()
}
