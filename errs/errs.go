// Package errs holds the typed errors that domain packages return and that
// api/ maps to HTTP status codes in exactly one place.
//
// A Kind is itself an error, so callers test with errors.Is(err, errs.Invalid).
package errs

import (
	"errors"
	"fmt"
)

// Kind classifies an error by what it means, not by the status it gets:
// api/ (api/errors.go, statusTable) is the one place that turns a kind
// into an HTTP status, including Vault's quirks where the status does not
// follow from the meaning.
type Kind int

// The kinds by meaning. The zero value is Internal, so an error that
// carries no Kind is treated as a bug.
const (
	// Internal is a failure of pkid itself (a bug, a broken record): 500,
	// logged with the request id, its text not sent.
	Internal Kind = iota
	// Invalid is bad input, or a refusal by a role or policy: 400.
	Invalid
	// NotFound is a read of nothing: 404.
	NotFound
	// Denied is a missing or bad token or an ACL refusal: 403.
	Denied
	// Unsupported is an operation the path does not take: 405.
	Unsupported
	// InvalidVault500 is a caller's mistake that Vault itself answers with
	// 500 (spec Appendix C: an unknown issuer or key reference, a
	// revoke-with-key key that does not match, ...). It means Invalid; only
	// the status table gives it Vault's 500. The message reaches the client.
	InvalidVault500
	// Conflict is a clash with existing state: 409.
	Conflict
	// TooLarge is input over a size limit (a request body): 413.
	TooLarge
	// UnsupportedMedia is a body of a media type the path does not take
	// (PATCH without merge-patch JSON): 415.
	UnsupportedMedia
	// Unavailable is a dependency that cannot serve now (storage sealed or
	// unreachable) and may later: 503.
	Unavailable
)

var kindNames = map[Kind]string{
	Internal:         "internal error",
	Invalid:          "invalid request",
	NotFound:         "not found",
	Denied:           "permission denied",
	Unsupported:      "unsupported operation",
	InvalidVault500:  "internal error",
	Conflict:         "conflict",
	TooLarge:         "request too large",
	UnsupportedMedia: "unsupported media type",
	Unavailable:      "service unavailable",
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

// KindOf returns the kind of the first *Error in err's chain, or Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	var k Kind
	if errors.As(err, &k) {
		return k
	}
	return Internal
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
