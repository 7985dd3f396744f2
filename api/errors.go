package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/storage"
)

// Routing errors, worded as Vault's router words them.
var (
	errRouting              = errors.New("routing error")
	errUnsupportedPath      = &errs.Error{Kind: errs.NotFound, Msg: "unsupported path", Err: errRouting}
	errUnsupportedOperation = &errs.Error{Kind: errs.Unsupported, Msg: "unsupported operation", Err: errRouting}
	errPermissionDenied     = errs.New(errs.Denied, "permission denied")
)

// errNoRoute is Vault's answer for a path under no mount.
func errNoRoute(path string) error {
	return &errs.Error{Kind: errs.NotFound, Err: errRouting,
		Msg: fmt.Sprintf("no handler for route %q. route entry not found.", path)}
}

// statusRule is how one error kind is answered.
type statusRule struct {
	status int
	// multi: on authenticated paths Vault wraps the text as a
	// go-multierror ("1 error occurred:..."), because its backends return
	// these as Go errors rather than as error responses (spec Appendix C).
	multi bool
}

// statusTable is the one place where an error kind becomes an HTTP status,
// Vault's quirks included: the 500s Vault gives for a caller's mistake
// (spec Appendix C), 413 for an oversized body, 415 for a PATCH of the
// wrong media type. A kind missing here is a bug: 500.
var statusTable = map[errs.Kind]statusRule{
	errs.Invalid:          {http.StatusBadRequest, false},
	errs.NotFound:         {http.StatusNotFound, false},
	errs.Denied:           {http.StatusForbidden, false},
	errs.Unsupported:      {http.StatusMethodNotAllowed, false},
	errs.Conflict:         {http.StatusConflict, false},
	errs.Unavailable:      {http.StatusServiceUnavailable, false},
	errs.InvalidVault500:  {http.StatusInternalServerError, true}, // Appendix C
	errs.TooLarge:         {http.StatusRequestEntityTooLarge, false},
	errs.UnsupportedMedia: {http.StatusUnsupportedMediaType, false},
	errs.Internal:         {http.StatusInternalServerError, true},
}

// storageKind gives an unreachable store (storage.ErrUnavailable, an etcd
// cluster without quorum) the Unavailable kind and its own text, "storage
// unavailable: <cause>": the domain code that met it wraps it as an
// internal error it cannot tell apart, but the client may retry and should
// be told so, as Vault answers 503 while its storage is down.
//
// A store that cannot take writes (full disk, quota, read-only file system,
// I/O error) is a 503 too, "storage: <cause>": nothing was written, and the
// same request succeeds once the operator has made room.
func storageKind(err error) error {
	var ue *storage.UnavailableError
	if errors.As(err, &ue) {
		return errs.Wrap(errs.Unavailable, err, ue.Error())
	}
	var we *storage.UnwritableError
	if errors.As(err, &we) {
		return errs.Wrap(errs.Unavailable, err, we.Error())
	}
	return err
}

// ruleOf looks err's kind up in statusTable.
func ruleOf(err error) statusRule {
	if r, ok := statusTable[errs.KindOf(storageKind(err))]; ok {
		return r
	}
	return statusRule{http.StatusInternalServerError, true}
}

// statusOf returns the HTTP status of err: an injected fault's own, else
// statusTable's.
func statusOf(err error) int {
	var injected *injectedError
	if errors.As(err, &injected) {
		return injected.status
	}
	return ruleOf(err).status
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
	err = storageKind(err)
	kind := errs.KindOf(err)
	var msg string
	switch kind {
	case errs.Internal:
		msg = "internal error"
	default:
		msg = errs.Message(err)
	}
	var bare *bareError
	if errors.As(err, &bare) {
		return []string{}
	}
	var multi *multiErrors
	if errors.As(err, &multi) {
		return []string{multiErrorText(multi.all)}
	}
	wrapped := ruleOf(err).multi || errors.Is(err, errRouting) ||
		errors.Is(err, errMultiError) // ACL denials (security.go)
	if wrapped && authenticated {
		return []string{multiErrorText([]string{msg})}
	}
	return []string{msg}
}

// multiErrorText is how go-multierror prints a list of errors, which is
// what Vault's "errors" entry then reads.
func multiErrorText(msgs []string) string {
	if len(msgs) == 1 {
		return fmt.Sprintf("1 error occurred:\n\t* %s\n\n", msgs[0])
	}
	return fmt.Sprintf("%d errors occurred:\n\t* %s\n\n", len(msgs), strings.Join(msgs, "\n\t* "))
}

// multiErrors is an error Vault reports as a go-multierror of several:
// one "errors" entry that lists them all. Its first error gives the kind.
type multiErrors struct {
	error
	all []string
}

func (e *multiErrors) Unwrap() error { return e.error }

// errInvalidToken is Vault's answer (since 1.17) to a token that does not
// exist, has expired or was revoked: permission denied and invalid token,
// together in one entry.
var errInvalidToken error = &multiErrors{error: errPermissionDenied, all: []string{"permission denied", "invalid token"}}

// bareError is an error Vault answers with an empty "errors" list: the
// status alone speaks (sys/health's bad query values, for one).
type bareError struct{ error }

func (e *bareError) Unwrap() error { return e.error }

var errBareBadRequest error = &bareError{errs.New(errs.Invalid, "bad request")}
