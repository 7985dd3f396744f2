package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// jsonValueTypes are domain types whose json tags describe a JSON value the
// domain parses itself (not a request schema or a stored record): Vault's
// policy_identifiers string holds a JSON array of these.
var jsonValueTypes = map[string]bool{
	"roles.policyEntry": true,
}

// TestNoWireTagsInDomain: Vault's field names live in api (request types)
// and records (stored types), so renaming a wire field cannot change the
// disk format and a domain type never doubles as a schema.
func TestNoWireTagsInDomain(t *testing.T) {
	for _, pkg := range []string{"roles", "ca", "crl"} {
		for _, hit := range taggedStructs(t, pkg) {
			if !jsonValueTypes[hit.typ] {
				t.Errorf("%s: %s.%s carries a json tag: put the wire name in api or the stored name in records", hit.pos, hit.typ, hit.field)
			}
		}
	}
}

// TestTagScanSeesTags guards the scanner: records must show its tags.
func TestTagScanSeesTags(t *testing.T) {
	if len(taggedStructs(t, "records")) == 0 {
		t.Fatal("the tag scan found no json tag in records, which has stored types")
	}
}

type taggedField struct{ pos, typ, field string }

// taggedStructs lists the fields with a json tag in pkg's non-test files.
func taggedStructs(t *testing.T, pkg string) []taggedField {
	t.Helper()
	dir := filepath.Join("..", pkg)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []taggedField
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			spec, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			st, ok := spec.Type.(*ast.StructType)
			if !ok {
				return true
			}
			for _, fl := range st.Fields.List {
				if fl.Tag == nil {
					continue
				}
				tag, _ := strconv.Unquote(fl.Tag.Value)
				if _, has := reflect.StructTag(tag).Lookup("json"); !has {
					continue
				}
				field := "(embedded)"
				if len(fl.Names) > 0 {
					field = fl.Names[0].Name
				}
				out = append(out, taggedField{fset.Position(fl.Pos()).String(), pkg + "." + spec.Name.Name, field})
			}
			return true
		})
	}
	return out
}
