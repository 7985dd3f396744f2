package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"path"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/pkid-dev/pkid/api/acl"
	"github.com/pkid-dev/pkid/api/token"
	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/randid"
)

// maxPathLength bounds the logical path. Vault (OpenBao) spends time square
// in a segment's length on long paths (spec Appendix E); pkid refuses them.
const maxPathLength = 16 << 10

// ServeHTTP is the whole request pipeline: parse, authenticate, route,
// handle, render.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !printablePath(r.URL.Path) {
		// Vault's outermost handler (go-cleanhttp PrintablePathCheckHandler)
		// answers a bare 400 before anything else runs.
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	reqID, err := randid.UUID(s.reqIDs)
	if err != nil {
		reqID = "00000000-0000-4000-8000-000000000000"
	}
	if s.log.Enabled(r.Context(), slog.LevelDebug) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		w = rec
		defer s.logRequest(r, rec, reqID, time.Now())
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Request-Id", reqID)
	if ns := r.Header.Get("X-Vault-Namespace"); ns != "" {
		w.Header().Set("X-Vault-Namespace", ns) // Vault echoes it on every answer
	}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("panic in handler", "request_id", reqID, "method", r.Method,
				"path", r.URL.Path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			writeErrors(w, http.StatusInternalServerError, []string{"internal error"})
		}
	}()
	if redirectUnclean(w, r) {
		return
	}
	logical, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	if !ok {
		writeErrors(w, http.StatusNotFound, []string{})
		return
	}
	if len(logical) > maxPathLength {
		writeErrors(w, http.StatusRequestURITooLong, []string{"request path too long"})
		return
	}
	op, status := operationOf(r)
	if status != 0 {
		writeErrors(w, status, []string{})
		return
	}
	data, body, err := s.readData(w, r, op)
	if err != nil {
		writeErrors(w, statusOf(err), errorMessages(err, false))
		return
	}
	if op == OpList && !strings.HasSuffix(logical, "/") {
		logical += "/"
	}
	s.dispatch(w, r, &Request{Op: op, Data: data, Body: body, HTTP: r}, logical, reqID)
}

// redirectUnclean answers a path with "..", "//" or "./" segments with a
// 307 to its clean form, as Vault does (spec Appendix E).
func redirectUnclean(w http.ResponseWriter, r *http.Request) bool {
	p := r.URL.Path
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	if clean == p {
		return false
	}
	u := *r.URL
	u.Path = clean
	u.RawPath = ""
	http.Redirect(w, r, u.String(), http.StatusTemporaryRedirect)
	return true
}

// operationOf maps the HTTP method (and ?list=) to an operation, or to the
// status Vault answers with an empty error list.
func operationOf(r *http.Request) (Operation, int) {
	switch r.Method {
	case http.MethodGet:
		// Vault reads only the first value and treats an empty one as
		// absent: "?list=" is a plain read.
		if v := r.URL.Query().Get("list"); v != "" {
			list, err := strconv.ParseBool(v)
			if err != nil {
				return "", http.StatusBadRequest
			}
			if list {
				return OpList, 0
			}
		}
		return OpRead, 0
	case "LIST":
		return OpList, 0
	case http.MethodPost, http.MethodPut:
		return OpUpdate, 0
	case http.MethodDelete:
		return OpDelete, 0
	case http.MethodPatch:
		return OpPatch, 0
	case http.MethodHead:
		return OpHeader, 0
	}
	return "", http.StatusMethodNotAllowed
}

// readData turns the query (reads, lists, deletes) or the body (writes)
// into request data (spec §1.3–1.4).
func (s *Server) readData(w http.ResponseWriter, r *http.Request, op Operation) (map[string]any, []byte, error) {
	switch op {
	case OpRead, OpList, OpDelete, OpHeader:
		data := map[string]any{}
		// "list" is consumed only when it made the GET a list; a read with
		// ?list=false keeps it as data, as Vault does.
		listed := op == OpList && r.Method == http.MethodGet
		for k, vs := range r.URL.Query() {
			if k == "help" || (k == "list" && listed) {
				continue
			}
			if len(vs) == 1 {
				data[k] = vs[0]
			} else {
				list := make([]any, len(vs))
				for i, v := range vs {
					list[i] = v
				}
				data[k] = list
			}
		}
		return data, nil, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxRequestSize))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, nil, errs.Newf(errs.TooLarge, "http: request body too large")
		}
		return nil, nil, errs.Invalidf("failed to read request body: %v", err)
	}
	if op == OpPatch {
		ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || ct != "application/merge-patch+json" {
			return nil, nil, errs.Newf(errs.UnsupportedMedia,
				"PATCH requires Content-Type of application/merge-patch+json, provided %s", ct)
		}
	}
	data, err := parseBody(r.Header.Get("Content-Type"), body)
	return data, body, err
}

// parseBody decodes a write's body: a form when the content type says so
// and the body does not look like JSON, JSON (numbers kept exact) otherwise.
func parseBody(contentType string, body []byte) (map[string]any, error) {
	trimmed := bytes.TrimSpace(body)
	ct, _, _ := mime.ParseMediaType(contentType)
	switch {
	case ct == "application/ocsp-request":
		return map[string]any{}, nil
	case len(trimmed) == 0:
		return map[string]any{}, nil
	case ct == "application/x-www-form-urlencoded" && trimmed[0] != '{' && trimmed[0] != '[':
		vals, err := url.ParseQuery(string(trimmed))
		if err != nil {
			return nil, errs.Invalidf("error parsing form data") // Vault's words, no detail
		}
		data := make(map[string]any, len(vals))
		for k, vs := range vals {
			data[k] = strings.Join(vs, ",")
		}
		return data, nil
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	var data map[string]any
	if err := dec.Decode(&data); err != nil {
		return nil, errs.Invalidf("failed to decode JSON input: %v", err)
	}
	if dec.More() {
		return nil, errs.Invalidf("failed to decode JSON input: extra data after the JSON object")
	}
	if data == nil {
		data = map[string]any{} // a "null" body, as `vault write -f` sends
	}
	return data, nil
}

// dispatch authenticates, routes and runs a parsed request. Around the
// handler the audit broker records the request (after the ACL decision) and
// the response; when no audit device can record either, the request fails
// with Vault's "internal error" (sys_audit.go).
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request, req *Request, logical, reqID string) {
	m := s.lookupMount(logical)
	var rel, matchPath string
	var route *Route
	var vars map[string]string
	unauth := false
	if m != nil {
		rel = strings.TrimPrefix(logical, m.entry.Path)
		if logical+"/" == m.entry.Path {
			rel = ""
		}
		matchPath = rel
		if req.Op == OpList {
			matchPath = strings.TrimSuffix(rel, "/")
		}
		route, vars = m.table.match(matchPath)
		unauth = matchSpecial(m.table.unauth, rel) || (route != nil && route.Unauthenticated)
	}
	sent := cloneData(req.Data) // the data as sent, for the audit log
	req.Vars = vars
	tok, decision, err := s.authenticate(r, req, logical, m, rel, route, unauth)
	ai := s.auditInput(r, req, logical, reqID, m, tok, sent, decision)
	record := audited(logical)
	if err != nil {
		if record {
			ai.Error = errs.Message(err)
			if ai.Auth != nil && ai.Auth.PolicyResults != nil {
				ai.Auth.PolicyResults.Allowed = false
			}
			_ = s.sec.audit.LogRequest(r.Context(), ai) // Vault logs the refused request
		}
		writeErrors(w, statusOf(err), errorMessages(err, !unauth))
		return
	}
	if tok != nil {
		req.Token = tokenInfo(tok)
	}
	authenticated := !unauth
	if record {
		if err := s.sec.audit.LogRequest(r.Context(), ai); err != nil {
			s.log.Error("failed to audit request", "request_id", reqID, "path", logical, "error", err)
			s.writeError(w, errAuditFailed, authenticated)
			return
		}
	}
	resp, err := s.serve(r, req, m, route, rel, logical, reqID)
	if record {
		auditResponse(ai, resp, err)
		if aerr := s.sec.audit.LogResponse(r.Context(), ai); aerr != nil {
			s.log.Error("failed to audit response", "request_id", reqID, "path", logical, "error", aerr)
			s.writeError(w, errAuditFailed, authenticated)
			return
		}
	}
	if err != nil {
		s.writeError(w, err, authenticated)
		return
	}
	s.writeResponse(w, req.Op, m.entry, resp, reqID, sysInjected(strings.TrimPrefix(r.URL.Path, "/v1/")))
}

// serve routes an authorized request to its handler.
func (s *Server) serve(r *http.Request, req *Request, m *mount, route *Route, rel, logical, reqID string) (*Response, error) {
	if m == nil || !m.enter() {
		return nil, errNoRoute(logical)
	}
	defer m.leave()
	if route == nil {
		return nil, errUnsupportedPath
	}
	h, ok := route.Operations[req.Op]
	switch {
	case !ok && req.Op == OpList:
		// Vault lists the path with a trailing slash, which a route
		// without a list operation does not match (spec Appendix C:
		// LIST config/urls is a 404).
		return nil, errUnsupportedPath
	case !ok:
		return nil, errUnsupportedOperation
	}
	req.Path = rel
	req.Mount = s.mountInfo(&m.entry)
	replaced := applyVars(req.Data, req.Vars)
	if err := s.td.inject(r.Context(), logical, req.Op); err != nil {
		return nil, err
	}
	resp, err := s.call(r, h, req, reqID)
	if err != nil {
		if errs.KindOf(err) == errs.Internal {
			s.log.Error("request failed", "request_id", reqID, "path", logical, "op", req.Op, "error", err)
		}
		return nil, err
	}
	if resp != nil {
		resp.Warnings = append(resp.Warnings, paramWarnings(req, replaced)...)
	}
	return resp, nil
}

func cloneData(d map[string]any) map[string]any {
	out := make(map[string]any, len(d))
	for k, v := range d {
		out[k] = v
	}
	return out
}

// call runs a handler, turning a panic into a logged internal error so one
// bad request never takes the server down.
func (s *Server) call(r *http.Request, h HandlerFunc, req *Request, reqID string) (resp *Response, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic in handler", "request_id", reqID, "path", r.URL.Path,
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			resp, err = nil, fmt.Errorf("panic: %v", p)
		}
	}()
	return h(r.Context(), req)
}

// applyVars writes path captures over body keys and returns the names of
// the keys the body sent (non-null). Vault's framework warns about every
// such key, even when the body held the same value: hvac's role writes, which
// repeat the role name as "name", always carry the warning (spec §1.4).
func applyVars(data map[string]any, vars map[string]string) []string {
	var replaced []string
	for k, v := range vars {
		if old, ok := data[k]; ok && old != nil {
			replaced = append(replaced, k)
		}
		data[k] = v
	}
	sort.Strings(replaced)
	return replaced
}

// paramWarnings are the framework's two warnings, in Vault's order (sdk
// framework.Backend.HandleRequest): keys no handler knew, on every operation
// (a read with an unknown query key warns too), then path captures that
// replaced a sent value.
func paramWarnings(req *Request, replaced []string) []string {
	var ws []string
	unknown := req.unknown // sorted by field.Decode
	if !req.decoded {
		// A handler that decoded nothing knows no keys but its captures.
		unknown = nil
		for k := range req.Data {
			if _, isVar := req.Vars[k]; !isVar {
				unknown = append(unknown, k)
			}
		}
		sort.Strings(unknown)
	}
	if len(unknown) > 0 {
		ws = append(ws, fmt.Sprintf("Endpoint ignored these unrecognized parameters: %v", unknown))
	}
	if len(replaced) > 0 {
		ws = append(ws, fmt.Sprintf("Endpoint replaced the value of these parameters with the values captured from the endpoint's path: %v", replaced))
	}
	return ws
}

// authenticate finds the caller's token. On authenticated paths a missing
// or bad token is refused and the token's policies must allow the request
// (with sudo on the backend's root paths, security.go); on unauthenticated
// paths a token is looked up best-effort.
func (s *Server) authenticate(r *http.Request, req *Request, logical string, m *mount, rel string, route *Route, unauth bool) (*token.Entry, acl.Result, error) {
	id := requestToken(r)
	tok, err := s.tokens.Lookup(id)
	if err != nil {
		return nil, acl.Result{}, fmt.Errorf("api: token lookup: %w", err)
	}
	if unauth {
		return tok, acl.Result{Allowed: true}, nil
	}
	if id == "" {
		return nil, acl.Result{}, errPermissionDenied
	}
	if tok == nil {
		return nil, acl.Result{}, errInvalidToken
	}
	sudo := m != nil && matchSpecial(m.table.sudo, rel)
	res, err := s.checkACL(r.Context(), tok, req, route, logical, sudo)
	if err != nil {
		return tok, res, err
	}
	if err := s.tokens.UseOnce(tok); err != nil {
		return nil, res, fmt.Errorf("api: token use: %w", err)
	}
	return tok, res, nil
}

// requestToken reads X-Vault-Token, else the first "Authorization: Bearer"
// value (other schemes are left to plugins, as in Vault).
func requestToken(r *http.Request) string {
	if t := r.Header.Get("X-Vault-Token"); t != "" {
		return t
	}
	for _, v := range r.Header.Values("Authorization") {
		if t, ok := strings.CutPrefix(v, "Bearer "); ok {
			return strings.TrimSpace(t)
		}
	}
	return ""
}

// printablePath reports whether p has only printable characters.
func printablePath(p string) bool {
	return strings.IndexFunc(p, func(c rune) bool { return !unicode.IsPrint(c) }) < 0
}

func tokenInfo(e *token.Entry) *TokenInfo {
	return &TokenInfo{ID: e.ID, Accessor: e.Accessor, Policies: e.Policies,
		DisplayName: e.DisplayName, EntityID: e.EntityID, Meta: e.Meta}
}

// injectedRoutes are Vault's "inject data into top level" routes
// (http/handler.go injectDataIntoTopRoutes), as logical paths: an entry
// ending in "/" is a prefix, any other is exact.
var injectedRoutes = []string{
	"sys/audit", "sys/audit/", "sys/audit-hash/", "sys/auth", "sys/auth/",
	"sys/config/cors", "sys/config/auditing/request-headers", "sys/config/auditing/request-headers/",
	"sys/capabilities", "sys/capabilities-accessor", "sys/capabilities-self",
	"sys/ha-status", "sys/key-status", "sys/mounts", "sys/mounts/", "sys/policy", "sys/policy/",
	"sys/rekey/backup", "sys/rekey/recovery-key-backup", "sys/remount", "sys/rotate", "sys/wrapping/wrap",
}

// sysInjected reports the legacy sys routes whose data keys Vault also
// copies to the top level of the response (spec §1.5). Vault matches them
// on the URL path, so a list's added trailing slash does not count.
func sysInjected(urlPath string) bool {
	for _, route := range injectedRoutes {
		if urlPath == route || (strings.HasSuffix(route, "/") && strings.HasPrefix(urlPath, route)) {
			return true
		}
	}
	return false
}

// statusRecorder remembers the status written, for the debug request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

// logRequest is the debug request log. It names the request and never its
// contents: no header, query or body, as those carry tokens, secret ids and
// private keys.
func (s *Server) logRequest(r *http.Request, rec *statusRecorder, reqID string, start time.Time) {
	s.log.Debug("request", "request_id", reqID, "method", r.Method, "path", r.URL.Path,
		"status", rec.status, "duration", time.Since(start), "remote", r.RemoteAddr)
}
