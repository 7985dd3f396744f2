package api

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/mux"
)

// routeTable matches paths inside one backend to its routes.
type routeTable struct {
	routes []Route
	// mux holds each route's compiled gorilla/mux matcher, and literal the
	// text its pattern starts with (up to the first variable): a path
	// without that prefix cannot match, so most of a backend's routes are
	// ruled out by a string comparison instead of a regular expression.
	mux     []*mux.Route
	literal []string
	// unauth and sudo are Vault-style special-path patterns (spec §1.8):
	// "ca" exact, "cert/*" prefix, "issuer/+/pem" one segment per "+".
	unauth []string
	sudo   []string
}

func newRouteTable(routes []Route, unauth, sudo []string) *routeTable {
	r := mux.NewRouter().SkipClean(true)
	t := &routeTable{routes: routes, unauth: unauth, sudo: sudo}
	for _, rt := range routes {
		tpl := "/" + rt.Pattern
		lit, _, _ := strings.Cut(rt.Pattern, "{")
		t.mux = append(t.mux, r.Path(tpl))
		t.literal = append(t.literal, lit)
	}
	return t
}

// match returns the route for path (without a leading slash) and its
// captures, or nil. Like mux.Router.Match, the first route in table order
// that matches wins.
func (t *routeTable) match(path string) (*Route, map[string]string) {
	var req *http.Request
	for i, mr := range t.mux {
		if !strings.HasPrefix(path, t.literal[i]) {
			continue
		}
		if req == nil {
			req = &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/" + path}}
		}
		var m mux.RouteMatch
		if mr.Match(req, &m) {
			return &t.routes[i], m.Vars
		}
	}
	return nil, nil
}

// matchSpecial reports whether path matches one of Vault's special-path
// patterns: a trailing "*" is a prefix match, a "+" segment matches exactly
// one segment, anything else is exact.
func matchSpecial(patterns []string, path string) bool {
	for _, p := range patterns {
		if specialMatches(p, path) {
			return true
		}
	}
	return false
}

func specialMatches(pattern, path string) bool {
	prefix := strings.HasSuffix(pattern, "*")
	pattern = strings.TrimSuffix(pattern, "*")
	if !strings.Contains(pattern, "+") {
		if prefix {
			return strings.HasPrefix(path, pattern)
		}
		return path == pattern
	}
	// Segment by segment, without splitting (this runs on every request):
	// the path needs at least the pattern's segments, exactly as many
	// unless the pattern is a prefix.
	for {
		seg, moreP, hasMoreP := strings.Cut(pattern, "/")
		x, moreX, hasMoreX := strings.Cut(path, "/")
		last := !hasMoreP
		switch {
		case seg == "+":
			if x == "" {
				return false
			}
		case last && prefix:
			if !strings.HasPrefix(x, seg) {
				return false
			}
		case seg != x:
			return false
		}
		if last {
			return prefix || !hasMoreX
		}
		if !hasMoreX {
			return false
		}
		pattern, path = moreP, moreX
	}
}
