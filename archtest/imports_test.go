package archtest

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/pkid-dev/pkid/"

// graph maps each package of the module (path relative to the module root)
// to the module packages its non-test files import. It parses import
// blocks only, so it needs neither the go command nor go/packages.
func graph(t *testing.T) map[string][]string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	g := map[string][]string{}
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			// Folders with a go.mod (examples/, interop/) are modules of
			// their own; testdata is not code.
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil && path != root {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		pkg := filepath.ToSlash(rel)
		if _, ok := g[pkg]; !ok {
			g[pkg] = nil
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if dep, ok := strings.CutPrefix(p, module); ok && !slices.Contains(g[pkg], dep) {
				g[pkg] = append(g[pkg], dep)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// deps is pkg's transitive module imports.
func deps(g map[string][]string, pkg string) []string {
	seen := map[string]bool{}
	var walk func(string)
	walk = func(p string) {
		for _, d := range g[p] {
			if !seen[d] {
				seen[d] = true
				walk(d)
			}
		}
	}
	walk(pkg)
	var out []string
	for d := range seen {
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}

// under reports whether pkg is prefix or a package below it.
func under(pkg, prefix string) bool { return pkg == prefix || strings.HasPrefix(pkg, prefix+"/") }

// TestLayers: dependencies point down (README, Layout). roles is pure
// policy; crl knows issuers only through its own interface; records owns
// the disk layout and no domain logic; nothing below api speaks HTTP.
func TestLayers(t *testing.T) {
	g := graph(t)
	rules := []struct {
		pkg        string
		transitive bool     // forbid through any path, not just direct imports
		forbidden  []string // package prefixes
	}{
		{"roles", true, []string{"storage", "records", "ca", "crl", "api"}},
		{"crl", true, []string{"ca", "api", "storage/storagetest"}},
		{"records", true, []string{"ca", "crl", "api"}},
		{"ca", true, []string{"api", "storage/storagetest"}},
		{"storage", true, []string{"records", "ca", "crl", "roles", "api", "field"}},
		// seal wraps storage and knows only where records live.
		{"seal", true, []string{"ca", "crl", "roles", "api", "field"}},
		// Wire packages: field (Vault's field decoding) and api.
		{"ca", false, []string{"field"}},
		{"records", false, []string{"field"}},
	}
	for _, r := range rules {
		if _, ok := g[r.pkg]; !ok {
			t.Errorf("package %s not found", r.pkg)
			continue
		}
		list := g[r.pkg]
		if r.transitive {
			list = deps(g, r.pkg)
		}
		for _, d := range list {
			for _, f := range r.forbidden {
				if under(d, f) {
					t.Errorf("%s imports %s (transitively: %v)", r.pkg, d, r.transitive)
				}
			}
		}
	}
}

// wireDebt lists the domain packages that still import the wire package
// field, to be moved to the api edge. The test fails on a new entry, and on
// an entry that is gone (delete it here), so the list only shrinks.
var wireDebt = map[string]bool{}

func TestWireAtTheEdge(t *testing.T) {
	g := graph(t)
	for _, pkg := range []string{"ca", "roles", "crl", "records", "storage"} {
		has := slices.Contains(g[pkg], "field") || slices.Contains(g[pkg], "api")
		switch {
		case has && !wireDebt[pkg]:
			t.Errorf("%s imports a wire package (field or api): decode at the api edge instead", pkg)
		case !has && wireDebt[pkg]:
			t.Errorf("%s no longer imports field: remove it from wireDebt", pkg)
		}
	}
}

// TestGraphSeesImports guards the parser itself: a test that reads no
// imports would pass every rule.
func TestGraphSeesImports(t *testing.T) {
	g := graph(t)
	if !slices.Contains(g["ca"], "roles") || !slices.Contains(g["api"], "ca") {
		t.Fatalf("graph misses known imports: ca %v, api %v", g["ca"], g["api"])
	}
}
