package api

import (
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/gorilla/mux"
)

// The route table skips routes by their literal prefix and the special-path
// matcher walks segments without splitting; both must answer exactly as the
// plain gorilla/mux router and the split-based matcher they replace. These
// references are those implementations.

func referenceMatch(routes []Route, path string) (int, map[string]string) {
	r := mux.NewRouter().SkipClean(true)
	for i, rt := range routes {
		r.Path("/" + rt.Pattern).Name(strconv.Itoa(i))
	}
	req := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/" + path}}
	var m mux.RouteMatch
	if !r.Match(req, &m) || m.Route == nil {
		return -1, nil
	}
	i, _ := strconv.Atoi(m.Route.GetName())
	return i, m.Vars
}

func referenceSpecial(pattern, path string) bool {
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

// fastPathPaths are request paths that exercise literal routes, captures,
// alternations, catch-alls, near misses and trailing slashes.
var fastPathPaths = []string{
	"", "/", "issue", "issue/", "issue/web", "issue/web/", "issue/web/x", "issuer/default/issue/web",
	"issuer/abc/pem", "issuer/abc/der", "issuer/abc/json", "issuer/abc/xml", "issuer/abc", "issuer//pem",
	"issuers", "issuers/", "issuers/generate/root/internal", "issuers/import/bundle", "issuers/import/x",
	"roles", "roles/", "roles/a.b-c", "roles/-bad", "cert/ca", "cert/ca/raw/pem", "cert/39-dd-2e",
	"cert/39:dd:2e/raw", "certs", "ca", "ca/pem", "ca_chain", "crl", "crl/delta/pem", "ocsp", "ocsp/",
	"ocsp/MEUwQzBBMD8wPTAJBgUrDgMCGgUABBS", "sign-verbatim", "sign-verbatim/web", "sign/web",
	"config/urls", "config/urlsx", "tidy", "tidy-status", "keys/generate/exported", "key/default",
	"root", "root/sign-self-issued", "root/generate/internal", "issuer/x/crl/delta/der", "unknown/path",
}

func TestRouteTableMatchesLikeMux(t *testing.T) {
	t.Parallel()
	routes := (&pkiBackend{}).routes()
	table := newRouteTable(routes, nil, nil)
	for _, path := range fastPathPaths {
		want, wantVars := referenceMatch(routes, path)
		got, gotVars := table.match(path)
		gotIndex := -1
		if got != nil {
			gotIndex = 0
			for i := range routes {
				if &table.routes[i] == got {
					gotIndex = i
				}
			}
		}
		if gotIndex != want || !maps.Equal(gotVars, wantVars) {
			t.Errorf("%q: route %d %v, mux picks %d %v", path, gotIndex, gotVars, want, wantVars)
		}
	}
}

func TestSpecialMatchesLikeSplit(t *testing.T) {
	t.Parallel()
	patterns := append(append([]string{"+", "+/*", "a/+", "a/+/*", "a/+/b*", "*", "", "a/+/+/c"},
		pkiUnauthenticated...), pkiSudo...)
	paths := append([]string{"a", "a/", "a/b", "a/b/", "a/b/c", "a/b/bc", "a//c", "a/b/x/c", "+", "a/+/b"},
		fastPathPaths...)
	for _, p := range patterns {
		for _, x := range paths {
			if got, want := specialMatches(p, x), referenceSpecial(p, x); got != want {
				t.Errorf("specialMatches(%q, %q) = %v, want %v", p, x, got, want)
			}
		}
	}
}

func FuzzSpecialMatches(f *testing.F) {
	for _, p := range pkiUnauthenticated {
		f.Add(p, "issuer/x/crl")
	}
	f.Add("a/+/b*", "a/x/bc/d")
	f.Fuzz(func(t *testing.T, pattern, path string) {
		if got, want := specialMatches(pattern, path), referenceSpecial(pattern, path); got != want {
			t.Errorf("specialMatches(%q, %q) = %v, want %v", pattern, path, got, want)
		}
	})
}
