package main

import (
	"log/slog"
	"net/http"
	"testing"
	"time"
)

func TestHTTPServerTimeouts(t *testing.T) {
	t.Parallel()
	hs := newHTTPServer(http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	for name, c := range map[string]struct{ got, want time.Duration }{
		"read header": {hs.ReadHeaderTimeout, 10 * time.Second},
		"read":        {hs.ReadTimeout, 30 * time.Second},
		"idle":        {hs.IdleTimeout, 5 * time.Minute},
		"write":       {hs.WriteTimeout, 0},
	} {
		if c.got != c.want {
			t.Errorf("%s timeout %v, want %v", name, c.got, c.want)
		}
	}
}
