package api

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// Legacy sys routes copy data keys to the top level; the values must come
// out as the handler gave them (no float64 round trip) and never replace an
// envelope key.
func TestWithDataAtTop(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	resp := &Response{Data: map[string]any{"big": int64(1) << 60, "request_id": "spoof", "pki/": map[string]any{"type": "pki"}}}
	(&Server{}).writeResponse(w, OpRead, MountEntry{Type: "system"}, resp, "rid", true)
	body := w.Body.String()
	for _, want := range []string{`"big":1152921504606846976`, `"request_id":"rid"`, `"pki/":{"type":"pki"}`,
		`"data":{"big":1152921504606846976,"pki/":{"type":"pki"},"request_id":"spoof"}`, `"warnings":null`, `"auth":null`} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %s:\n%s", want, body)
		}
	}
}
