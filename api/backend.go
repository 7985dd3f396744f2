package api

import (
	"context"
	"net/http"
	"time"

	"github.com/pkid-dev/pkid/field"
)

// Operation is the logical operation a request asks for (spec §1.3).
type Operation string

// The operations, named as Vault names them.
const (
	OpRead   Operation = "read"   // GET
	OpList   Operation = "list"   // LIST, or GET ?list=true
	OpUpdate Operation = "update" // POST, PUT
	OpDelete Operation = "delete" // DELETE
	OpPatch  Operation = "patch"  // PATCH (merge-patch body)
	OpHeader Operation = "header" // HEAD
)

// Request is one logical request, routed to a mount's backend.
type Request struct {
	Op Operation
	// Path is the path inside the mount, without a leading slash
	// ("issue/web"). For lists it ends with "/" as in Vault.
	Path string
	// Vars holds the path captures of the matched route ("role" → "web").
	Vars map[string]string
	// Data holds the decoded body (update, patch) or query (read, list,
	// delete), with path captures written over body keys of the same name.
	Data map[string]any
	// Mount is the mount that serves the request (nil for sys routes).
	Mount *MountInfo
	// Token is the caller's token entry; nil on unauthenticated paths when
	// no valid token was sent.
	Token *TokenInfo
	// HTTP is the underlying request, for headers; its body has been read.
	HTTP *http.Request
	// Body is the raw request body (OCSP requests are raw DER).
	Body []byte

	unknown []string // keys no Decode call knew, for the warning
	decoded bool
}

// Decode fills dst (a pointer to a request struct, see package field) from
// the request data. Keys that dst does not know (and that are not path
// captures) produce Vault's "ignored unrecognized parameters" warning.
// Decoding into several structs is allowed; a key is unknown only if none
// of them knew it.
func (r *Request) Decode(dst any) error {
	unknown, err := field.Decode(r.Data, dst)
	if err != nil {
		return err
	}
	var still []string
	for _, k := range unknown {
		if _, isVar := r.Vars[k]; isVar {
			continue
		}
		if r.decoded && !contains(r.unknown, k) {
			continue // an earlier Decode knew it
		}
		still = append(still, k)
	}
	r.unknown, r.decoded = still, true
	return nil
}

// Has reports whether the request data carries key (with a non-null value).
func (r *Request) Has(key string) bool {
	v, ok := r.Data[key]
	return ok && v != nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// MountInfo is what a backend may know of its mount.
type MountInfo struct {
	Path        string // "pki_int/", with the trailing slash
	UUID        string
	Type        string
	Accessor    string
	DefaultTTL  time.Duration // effective: the mount's, else the system's
	MaxTTL      time.Duration // effective
	Description string
}

// TokenInfo is the caller, as handlers may need it (display name for
// templates, policies for audit).
type TokenInfo struct {
	ID          string // the token itself (secret)
	Accessor    string
	Policies    []string
	DisplayName string
	EntityID    string
	Meta        map[string]string
}

// Response is a handler's answer. A nil *Response answers 204 to writes and
// 404 {"errors":[]} to reads and lists, as Vault does.
type Response struct {
	// Data becomes the envelope's "data".
	Data map[string]any
	// Warnings becomes "warnings" (null when empty).
	Warnings []string
	// Status overrides 200 (tidy answers 202).
	Status int
	// Lease, when set, fills lease_id, lease_duration, renewable.
	Lease *Lease
	// Auth fills the envelope's "auth" (logins, token creation).
	Auth map[string]any
	// Raw, when set, is written as is instead of an envelope; an empty body
	// answers 204 (spec §1.7).
	Raw *Raw
	// Unwrapped, when set, is written as the JSON body with no envelope
	// (sys/health, sys/seal-status).
	Unwrapped any
	// NoRequestID leaves request_id empty, as Vault's tidy answer does.
	NoRequestID bool
}

// Lease is a lease attached to a response (roles with generate_lease).
type Lease struct {
	ID        string
	Duration  time.Duration
	Renewable bool
}

// Raw is a non-JSON answer: CA certificates, CRLs, OCSP responses.
type Raw struct {
	Status      int // 0 means 200
	ContentType string
	Body        []byte
	Header      http.Header
}

// HandlerFunc handles one operation on one route. Errors are typed with
// package errs; the mapping to a status lives in errors.go.
type HandlerFunc func(ctx context.Context, req *Request) (*Response, error)

// Route is one path pattern of a backend and the operations it takes.
// Patterns use gorilla/mux syntax relative to the mount:
// "issue/{role:" + NamePattern + "}". A path that matches a route but not an
// operation answers 405; a path that matches no route answers 404.
type Route struct {
	Pattern    string
	Operations map[Operation]HandlerFunc
	// Unauthenticated routes need no token (spec §1.8); a token that is
	// sent is looked up best-effort.
	Unauthenticated bool
	// Exists, when set, is the existence check: a write to a target that
	// does not exist yet needs the "create" capability instead of "update"
	// (Vault's RouteExistenceCheck; approle and kubernetes roles use it).
	// PKI defines none, so every PKI write needs "update" (spec §1.2).
	Exists func(ctx context.Context, req *Request) (bool, error)
}

// NamePattern is Vault's name regex for role names, issuer and key refs
// (sdk/framework/path.go GenericNameRegex).
const NamePattern = `\w(?:[\w\-.]*\w)?`
