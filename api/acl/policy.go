// Package acl is pkid's access control: Vault's ACL policy language (HCL or
// JSON, parsed with HashiCorp's own HCL v1 library as Vault does), the
// built-in "default" and "root" policies, the policy store, and the ACL that
// answers "may this token do operation X on path P, and with sudo?".
//
// The matching rules follow Vault's vault/acl.go: an exact rule wins; else
// the most specific of the prefix ("foo/*") and segment-wildcard ("foo/+/bar")
// rules that match; "deny" on a path overrides every other capability on
// that same path, whichever policy granted it.
package acl

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl"
	"github.com/hashicorp/hcl/hcl/ast"
	hclparser "github.com/hashicorp/hcl/hcl/parser"
)

// Capability is a set of capabilities as a bitmap.
type Capability uint32

// The capabilities of Vault's policy language. Deny is a capability of its
// own: a rule holding it holds nothing else.
const (
	Deny Capability = 1 << iota
	Create
	Read
	Update
	Delete
	List
	Sudo
	Patch
	Scan
)

// capNames orders capabilities the way they are listed back to clients.
var capNames = []struct {
	c    Capability
	name string
}{
	{Create, "create"}, {Delete, "delete"}, {Deny, "deny"}, {List, "list"},
	{Patch, "patch"}, {Read, "read"}, {Scan, "scan"}, {Sudo, "sudo"}, {Update, "update"},
}

// Names returns the capabilities of c, sorted.
func (c Capability) Names() []string {
	var out []string
	for _, cn := range capNames {
		if c&cn.c != 0 {
			out = append(out, cn.name)
		}
	}
	return out
}

func parseCapability(name string) (Capability, bool) {
	for _, cn := range capNames {
		if cn.name == name {
			return cn.c, true
		}
	}
	return 0, false
}

// Policy is a parsed ACL policy.
type Policy struct {
	Name string
	// Raw is the policy text as written, returned by sys/policies/acl reads.
	Raw   string
	Rules []*Rule
	// Warnings are non-fatal findings of the parser (duplicate attributes).
	Warnings []string
}

// Rule is one path stanza of a policy.
type Rule struct {
	// Path is the pattern without a leading "/" and, for prefix rules
	// without segment wildcards, without the trailing "*".
	Path string
	// IsPrefix is set for "foo/*" patterns with no "+" segment.
	IsPrefix bool
	// HasSegmentWildcards is set when a segment is "+"; such patterns keep
	// their trailing "*" in Path (Vault's vault/policy.go does the same).
	HasSegmentWildcards bool
	// Templated rules ("{{identity.entity.id}}") need an identity to expand;
	// pkid has no identity store, so they never match (as in Vault for a
	// token without an entity).
	Templated    bool
	Capabilities Capability
	// Parameter constraints, keys lower-cased. A nil map means no
	// constraint; an empty value list means any value.
	AllowedParameters  map[string][]any
	DeniedParameters   map[string][]any
	RequiredParameters []string
}

// pathStanza is the HCL shape of one path block.
type pathStanza struct {
	Policy             string           `hcl:"policy"`
	Capabilities       []string         `hcl:"capabilities"`
	AllowedParameters  map[string][]any `hcl:"allowed_parameters"`
	DeniedParameters   map[string][]any `hcl:"denied_parameters"`
	RequiredParameters []string         `hcl:"required_parameters"`
}

// Keys Vault accepts. Those pkid does not enforce (wrapping TTLs, MFA,
// control groups, pagination, expiration, event types) are accepted and
// ignored so that policies written for Vault load unchanged.
var (
	topKeys  = []string{"name", "path"}
	pathKeys = []string{
		"comment", "policy", "capabilities", "allowed_parameters",
		"denied_parameters", "required_parameters", "min_wrapping_ttl",
		"max_wrapping_ttl", "mfa_methods", "control_group", "pagination_limit",
		"expiration", "list_scan_response_keys_filter_path", "subscribe_event_types",
	}
)

// legacyPolicies maps the pre-0.5 "policy = ..." shorthand to capabilities
// (vault/policy.go).
var legacyPolicies = map[string]Capability{
	"deny":  Deny,
	"read":  Read | List,
	"write": Create | Read | Update | Delete | List,
	"sudo":  Create | Read | Update | Delete | List | Sudo,
}

// Parse parses a policy in Vault's HCL (or JSON) policy language. Errors
// read as Vault's do: "failed to parse policy: ...".
func Parse(name, raw string) (p *Policy, err error) {
	defer func() {
		// The HCL library is third-party code on untrusted input: a panic
		// in it must not take the server down.
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("failed to parse policy: %v", r)
		}
	}()
	root, warnings, err := parseHCL(raw)
	if err != nil {
		return nil, fmt.Errorf("failed to parse policy: %w", err)
	}
	list, ok := root.Node.(*ast.ObjectList)
	if !ok {
		return nil, errors.New("failed to parse policy: does not contain a root object")
	}
	if err := checkKeys(list, topKeys); err != nil {
		return nil, fmt.Errorf("failed to parse policy: %w", err)
	}
	p = &Policy{Name: name, Raw: raw, Warnings: warnings}
	for _, item := range list.Filter("path").Items {
		rule, err := parseRule(item)
		if err != nil {
			return nil, fmt.Errorf("failed to parse policy: %w", err)
		}
		p.Rules = append(p.Rules, rule)
	}
	return p, nil
}

// parseHCL parses strictly first; Vault accepts duplicate attributes in a
// policy with a warning, so a second lenient pass is tried for HCL input.
func parseHCL(raw string) (*ast.File, []string, error) {
	root, err := hcl.ParseString(raw)
	if err == nil {
		return root, nil, nil
	}
	if isJSON(raw) {
		return nil, nil, err
	}
	lenient, lerr := hclparser.ParseDontErrorOnDuplicateKeys([]byte(raw))
	if lerr != nil {
		return nil, nil, err
	}
	return lenient, []string{"policy contains duplicate attributes, which will no longer be supported in a future version"}, nil
}

func isJSON(raw string) bool {
	s := strings.TrimLeft(raw, " \t\r\n")
	return strings.HasPrefix(s, "{")
}

func checkKeys(node ast.Node, valid []string) error {
	var list *ast.ObjectList
	switch n := node.(type) {
	case *ast.ObjectList:
		list = n
	case *ast.ObjectType:
		list = n.List
	default:
		return fmt.Errorf("cannot check HCL keys of type %T", n)
	}
	var problems []string
	for _, item := range list.Items {
		if len(item.Keys) == 0 {
			continue
		}
		key, _ := item.Keys[0].Token.Value().(string)
		if !contains(valid, key) {
			problems = append(problems, fmt.Sprintf("invalid key %q on line %d", key, item.Assign.Line))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

func parseRule(item *ast.ObjectItem) (*Rule, error) {
	key := "path"
	if len(item.Keys) > 0 {
		if s, ok := item.Keys[0].Token.Value().(string); ok {
			key = s
		}
	}
	if err := checkKeys(item.Val, pathKeys); err != nil {
		return nil, fmt.Errorf("path %q: %w", key, err)
	}
	var st pathStanza
	if err := hcl.DecodeObject(&st, item.Val); err != nil {
		return nil, fmt.Errorf("path %q: %w", key, err)
	}
	r := &Rule{Path: strings.TrimPrefix(key, "/")}
	if err := r.setPattern(); err != nil {
		return nil, err
	}
	if err := r.setCapabilities(key, st); err != nil {
		return nil, err
	}
	r.AllowedParameters = lowerKeys(st.AllowedParameters)
	r.DeniedParameters = lowerKeys(st.DeniedParameters)
	r.RequiredParameters = st.RequiredParameters
	return r, nil
}

// setPattern classifies the path the way vault/policy.go does: "+" as a
// whole segment makes a segment-wildcard rule (which keeps its "*"), else a
// trailing "*" makes a prefix rule.
func (r *Rule) setPattern() error {
	p := r.Path
	if strings.Contains(p, "+*") {
		return fmt.Errorf("path %q: invalid use of wildcards ('+*' is forbidden)", p)
	}
	r.Templated = strings.Contains(p, "{{")
	if p == "+" || strings.Contains(p, "/+") || strings.HasPrefix(p, "+/") {
		r.HasSegmentWildcards = true
	}
	if strings.HasSuffix(p, "*") && !r.HasSegmentWildcards {
		r.Path = strings.TrimSuffix(p, "*")
		r.IsPrefix = true
	}
	return nil
}

func (r *Rule) setCapabilities(key string, st pathStanza) error {
	if st.Policy != "" {
		c, ok := legacyPolicies[st.Policy]
		if !ok {
			return fmt.Errorf("path %q: invalid policy %q", key, st.Policy)
		}
		r.Capabilities = c
	}
	for _, name := range st.Capabilities {
		c, ok := parseCapability(name)
		if !ok {
			return fmt.Errorf("path %q: invalid capability %q", key, name)
		}
		r.Capabilities |= c
	}
	if r.Capabilities&Deny != 0 {
		// A deny stanza grants nothing else (vault/policy.go).
		r.Capabilities = Deny
	}
	return nil
}

func lowerKeys(m map[string][]any) map[string][]any {
	if m == nil {
		return nil
	}
	out := make(map[string][]any, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// NormalizeName is how Vault stores policy names: trimmed and lower-cased.
func NormalizeName(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// SortedNames returns names deduplicated and sorted.
func SortedNames(names []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
