package api

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"syscall"
	"testing"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/storage"
)

// TestStatusTable pins the kind → status table, quirks included, and the
// go-multierror wrapping of the 500s on authenticated paths.
func TestStatusTable(t *testing.T) {
	cases := []struct {
		kind   errs.Kind
		status int
		msg    string // on an authenticated path
	}{
		{errs.Invalid, http.StatusBadRequest, "bad"},
		{errs.NotFound, http.StatusNotFound, "bad"},
		{errs.Denied, http.StatusForbidden, "bad"},
		{errs.Unsupported, http.StatusMethodNotAllowed, "bad"},
		{errs.Conflict, http.StatusConflict, "bad"},
		{errs.Unavailable, http.StatusServiceUnavailable, "bad"},
		{errs.InvalidVault500, http.StatusInternalServerError, "1 error occurred:\n\t* bad\n\n"},
		{errs.TooLarge, http.StatusRequestEntityTooLarge, "bad"},
		{errs.UnsupportedMedia, http.StatusUnsupportedMediaType, "bad"},
		{errs.Internal, http.StatusInternalServerError, "1 error occurred:\n\t* internal error\n\n"},
	}
	for _, c := range cases {
		t.Run(c.kind.Error(), func(t *testing.T) {
			err := fmt.Errorf("context: %w", errs.New(c.kind, "bad"))
			if got := statusOf(err); got != c.status {
				t.Errorf("status = %d, want %d", got, c.status)
			}
			if got := errorMessages(err, true); len(got) != 1 || got[0] != c.msg {
				t.Errorf("messages = %q, want %q", got, c.msg)
			}
		})
	}
	if got := statusOf(fmt.Errorf("plain")); got != http.StatusInternalServerError {
		t.Errorf("an error without a kind = %d, want 500", got)
	}
}

// TestStorageUnavailable: a store that cannot be reached (an etcd cluster
// without quorum) is a 503 with Vault's body, whatever wrapping the domain
// code added, on authenticated paths as on the others.
func TestStorageUnavailable(t *testing.T) {
	cause := storage.Unavailable(errors.New("etcd read sys: context deadline exceeded"))
	cases := []struct {
		name string
		err  error
	}{
		{"bare", cause},
		{"wrapped", fmt.Errorf("api: load mounts: %w", cause)},
		{"inside an internal error", errs.Wrap(errs.Internal, fmt.Errorf("ca: issue: %w", cause), "internal")},
	}
	const want = "storage unavailable: etcd read sys: context deadline exceeded"
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !errors.Is(c.err, storage.ErrUnavailable) {
				t.Fatal("not storage.ErrUnavailable")
			}
			if got := statusOf(c.err); got != http.StatusServiceUnavailable {
				t.Errorf("status = %d, want 503", got)
			}
			for _, authed := range []bool{true, false} {
				if got := errorMessages(c.err, authed); len(got) != 1 || got[0] != want {
					t.Errorf("messages (authenticated %v) = %q, want %q", authed, got, want)
				}
			}
		})
	}
}

// A store that cannot take writes answers 503 naming the cause, however the
// error was wrapped on its way up; an errno that did not come from the
// store (an audit device on a full disk) is not the store's.
func TestUnwritableStorage(t *testing.T) {
	fail := func(errno error) error {
		st := storage.NewStore(storage.WithFaults(storage.OpenMemoryEngine(), func(string, string) error { return errno }), "")
		return st.Space("m").Update(func(storage.Tx) error { return nil })
	}
	cases := []struct {
		name   string
		err    error
		status int
		msg    string
	}{
		{"disk full", fail(&os.PathError{Op: "write", Path: "/data/pkid.db", Err: syscall.ENOSPC}), 503, "storage: no space left on device"},
		{"quota", fmt.Errorf("records: write role r: %w", fail(syscall.EDQUOT)), 503, "storage: disk quota exceeded"},
		{"read-only", errs.Wrap(errs.Internal, fmt.Errorf("ca: issue: %w", fail(syscall.EROFS)), "internal"), 503, "storage: read-only file system"},
		{"I/O error", fail(fmt.Errorf("fdatasync: %w", syscall.EIO)), 503, "storage: input/output error"},
		{"other errno", fail(syscall.EPERM), 500, "1 error occurred:\n\t* internal error\n\n"}, // Vault's multierror text
		{"not from the store", fmt.Errorf("audit: %w", syscall.ENOSPC), 500, "1 error occurred:\n\t* internal error\n\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := statusOf(c.err); got != c.status {
				t.Errorf("status = %d, want %d", got, c.status)
			}
			if got := errorMessages(c.err, true); len(got) != 1 || got[0] != c.msg {
				t.Errorf("messages = %q, want %q", got, c.msg)
			}
		})
	}
}
