package api

import (
	"errors"
	"fmt"
	"net/http"

	"pkid/errs"
)

// Routing errors, worded as Vault's router words them.
var (
	errRouting              = errors.New("routing error")
	errUnsupportedPath      = &errs.Error{Kind: errs.NotFound, Msg: "unsupported path", Err: errRouting}
	errUnsupportedOperation = &errs.Error{Kind: errs.Unsupported, Msg: "unsupported operation", Err: errRouting}
	errPermissionDenied     = errs.New(errs.PermissionDenied, "permission denied")
)

// errNoRoute is Vault's answer for a path under no mount.
func errNoRoute(path string) error {
	return &errs.Error{Kind: errs.NotFound, Err: errRouting,
		Msg: fmt.Sprintf("no handler for route %q. route entry not found.", path)}
}

// statusOf is the one place where an error becomes an HTTP status.
func statusOf(err error) int {
	var injected *injectedError
	if errors.As(err, &injected) {
		return injected.status
	}
	switch errs.KindOf(err) {
	case errs.Invalid:
		return http.StatusBadRequest
	case errs.NotFound:
		return http.StatusNotFound
	case errs.PermissionDenied:
		return http.StatusForbidden
	case errs.Unsupported:
		return http.StatusMethodNotAllowed
	case errs.Conflict:
		return http.StatusConflict
	case errs.TooLarge:
		return http.StatusRequestEntityTooLarge
	case errs.Unsupported415:
		return http.StatusUnsupportedMediaType
	}
	return http.StatusInternalServerError
}

// errorMessages renders err as the "errors" list of Vault's error body.
//
// Vault answers errors its backends return as Go errors (rather than as
// error responses) through go-multierror, so on authenticated paths the 500s
// and the 404/405 routing errors read "1 error occurred:\n\t* <text>\n\n";
// on unauthenticated paths the text is plain (spec Appendix C). A bug's error
// text is not sent: it is logged with the request id instead.
func errorMessages(err error, authenticated bool) []string {
	var injected *injectedError
	if errors.As(err, &injected) {
		return []string{injected.msg}
	}
	kind := errs.KindOf(err)
	var msg string
	switch kind {
	case errs.Unknown:
		msg = "internal error"
	default:
		msg = errs.Message(err)
	}
	var extra *extraErrors
	if errors.As(err, &extra) {
		return append([]string{msg}, extra.more...)
	}
	wrapped := kind == errs.VaultInternal || kind == errs.Unknown || errors.Is(err, errRouting) ||
		errors.Is(err, errMultiError) // ACL denials (security.go)
	if wrapped && authenticated {
		return []string{fmt.Sprintf("1 error occurred:\n\t* %s\n\n", msg)}
	}
	return []string{msg}
}

// extraErrors adds entries to the "errors" list after the main message, as
// Vault does for an invalid token ("permission denied", "invalid token").
type extraErrors struct {
	error
	more []string
}

func (e *extraErrors) Unwrap() error { return e.error }

var errInvalidToken error = &extraErrors{error: errPermissionDenied, more: []string{"invalid token"}}
