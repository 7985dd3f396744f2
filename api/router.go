package api

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gorilla/mux"
)

// routeTable matches paths inside one backend to its routes.
type routeTable struct {
	router *mux.Router
	routes []Route
	// unauth and sudo are Vault-style special-path patterns (spec §1.8):
	// "ca" exact, "cert/*" prefix, "issuer/+/pem" one segment per "+".
	unauth []string
	sudo   []string
}

func newRouteTable(routes []Route, unauth, sudo []string) *routeTable {
	r := mux.NewRouter().SkipClean(true)
	for i, rt := range routes {
		r.Path("/" + rt.Pattern).Name(strconv.Itoa(i))
	}
	return &routeTable{router: r, routes: routes, unauth: unauth, sudo: sudo}
}

// match returns the route for path (without a leading slash) and its
// captures, or nil.
func (t *routeTable) match(path string) (*Route, map[string]string) {
	req := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/" + path}}
	var m mux.RouteMatch
	if !t.router.Match(req, &m) || m.Route == nil {
		return nil, nil
	}
	i, err := strconv.Atoi(m.Route.GetName())
	if err != nil {
		return nil, nil
	}
	return &t.routes[i], m.Vars
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
	ps := strings.Split(pattern, "/")
	xs := strings.Split(path, "/")
	if len(xs) < len(ps) || (!prefix && len(xs) != len(ps)) {
		return false
	}
	for i, seg := range ps {
		last := i == len(ps)-1
		switch {
		case seg == "+":
			if xs[i] == "" {
				return false
			}
		case last && prefix:
			if !strings.HasPrefix(xs[i], seg) {
				return false
			}
		case seg != xs[i]:
			return false
		}
	}
	return true
}
