package api

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// envelope is Vault's JSON response, keys in Vault's order (spec §1.5).
type envelope struct {
	RequestID     string         `json:"request_id"`
	LeaseID       string         `json:"lease_id"`
	Renewable     bool           `json:"renewable"`
	LeaseDuration int64          `json:"lease_duration"`
	Data          map[string]any `json:"data"`
	WrapInfo      any            `json:"wrap_info"`
	Warnings      []string       `json:"warnings"`
	Auth          map[string]any `json:"auth"`
	MountType     string         `json:"mount_type"`
}

// writeResponse renders a handler's answer: 204 / 404 for nothing, a raw
// body, an unwrapped JSON body, or the envelope.
func (s *Server) writeResponse(w http.ResponseWriter, op Operation, e MountEntry, resp *Response, reqID string, injected bool) {
	if resp == nil {
		if op == OpRead || op == OpList || op == OpHeader {
			writeErrors(w, http.StatusNotFound, []string{})
			return
		}
		// Vault sets its JSON content type before deciding there is no body.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if resp.Raw != nil {
		writeRaw(w, resp.Raw)
		return
	}
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	if resp.Unwrapped != nil {
		writeJSON(w, status, resp.Unwrapped)
		return
	}
	if op == OpList {
		if st := listStatus(resp); st != 0 {
			writeErrors(w, st, []string{})
			return
		}
	}
	env := envelope{RequestID: reqID, Data: resp.Data, Auth: resp.Auth, MountType: e.Type}
	if resp.NoRequestID {
		env.RequestID = ""
	}
	if len(resp.Warnings) > 0 {
		env.Warnings = resp.Warnings
	}
	if resp.Lease != nil {
		env.LeaseID = resp.Lease.ID
		env.LeaseDuration = int64(resp.Lease.Duration.Seconds())
		env.Renewable = resp.Lease.Renewable
	}
	if !injected {
		writeJSON(w, status, env)
		return
	}
	writeJSON(w, status, env.withDataAtTop())
}

// withDataAtTop is the envelope of Vault's legacy sys routes, which also
// carry every data key at the top level unless an envelope key has the
// name (http/handler.go injectDataIntoTopRoutes).
func (e envelope) withDataAtTop() map[string]any {
	top := map[string]any{
		"request_id": e.RequestID, "lease_id": e.LeaseID, "renewable": e.Renewable,
		"lease_duration": e.LeaseDuration, "data": e.Data, "wrap_info": e.WrapInfo,
		"warnings": e.Warnings, "auth": e.Auth, "mount_type": e.MountType,
	}
	for k, v := range e.Data {
		if _, taken := top[k]; !taken {
			top[k] = v
		}
	}
	return top
}

// listStatus is Vault's verdict on a list answer (sdk/logical
// RespondErrorCommon): 404 for no data (unless there are warnings), for
// absent "keys" with nothing else to say, and for an empty "keys"; 500 when
// "keys" is not a list of strings; 0 to answer normally.
func listStatus(resp *Response) int {
	if len(resp.Data) == 0 {
		if len(resp.Warnings) > 0 {
			return 0
		}
		return http.StatusNotFound
	}
	raw, ok := resp.Data["keys"]
	if !ok || raw == nil {
		return 0 // other data (or warnings) is answered as is
	}
	n := 0
	switch keys := raw.(type) {
	case []string:
		n = len(keys)
	case []any:
		for _, k := range keys {
			if _, isString := k.(string); !isString {
				return http.StatusInternalServerError
			}
		}
		n = len(keys)
	default:
		return http.StatusInternalServerError
	}
	if n == 0 {
		return http.StatusNotFound
	}
	return 0
}

func writeRaw(w http.ResponseWriter, raw *Raw) {
	for k, vs := range raw.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if len(raw.Body) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if raw.ContentType != "" {
		w.Header().Set("Content-Type", raw.ContentType)
	}
	status := raw.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(raw.Body)
}

func (s *Server) writeError(w http.ResponseWriter, err error, authenticated bool) {
	writeErrors(w, statusOf(err), errorMessages(err, authenticated))
}

// writeErrors writes Vault's error body {"errors":[...]}.
func writeErrors(w http.ResponseWriter, status int, msgs []string) {
	if msgs == nil {
		msgs = []string{}
	}
	writeJSON(w, status, map[string][]string{"errors": msgs})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"errors":["internal error"]}` + "\n")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
