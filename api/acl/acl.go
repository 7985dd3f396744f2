package acl

import (
	"fmt"
	"strings"
)

// Operation is a logical operation as the ACL sees it. The HTTP layer
// chooses update or create for writes (spec §1.2: PKI writes are updates).
type Operation string

// The operations an ACL decides on.
const (
	OpCreate Operation = "create"
	OpRead   Operation = "read"
	OpUpdate Operation = "update"
	OpPatch  Operation = "patch"
	OpDelete Operation = "delete"
	OpList   Operation = "list"
)

var opCapability = map[Operation]Capability{
	OpCreate: Create, OpRead: Read, OpUpdate: Update,
	OpPatch: Patch, OpDelete: Delete, OpList: List,
}

// RootPolicyName is the policy of root tokens: everything, with sudo.
const RootPolicyName = "root"

// DefaultPolicyName is the policy every non-root token carries unless it
// was created with no_default_policy.
const DefaultPolicyName = "default"

// ACL is the merged rules of a token's policies.
type ACL struct {
	root     bool
	exact    map[string]*permissions
	prefix   map[string]*permissions
	segments map[string]*permissions
}

// permissions is the merged grant of every rule with the same pattern.
type permissions struct {
	caps     Capability
	granting map[Capability][]string // capability → policy names
	allowed  map[string][]any
	denied   map[string][]any
	required []string
}

// Result is an ACL decision.
type Result struct {
	// Allowed: the operation is permitted on the path.
	Allowed bool
	// Sudo: the matching rule grants sudo (needed on root-protected paths).
	Sudo bool
	// Root: the token holds the root policy.
	Root bool
	// Capabilities is the bitmap of the matching rule (zero when none).
	Capabilities Capability
	// GrantingPolicies names the policies that granted the operation.
	GrantingPolicies []string
}

// New merges policies into an ACL. A nil entry is skipped (a token may name
// a policy that has since been deleted). The root policy makes the ACL root.
func New(policies ...*Policy) *ACL {
	a := &ACL{
		exact:    map[string]*permissions{},
		prefix:   map[string]*permissions{},
		segments: map[string]*permissions{},
	}
	for _, p := range policies {
		if p == nil {
			continue
		}
		if p.Name == RootPolicyName {
			a.root = true
		}
		for _, r := range p.Rules {
			if r.Templated {
				continue
			}
			a.add(p.Name, r)
		}
	}
	return a
}

// NewRoot returns the ACL of a root token.
func NewRoot() *ACL { return New(RootPolicy()) }

// IsRoot reports whether the ACL holds the root policy.
func (a *ACL) IsRoot() bool { return a.root }

func (a *ACL) table(r *Rule) map[string]*permissions {
	switch {
	case r.HasSegmentWildcards:
		return a.segments
	case r.IsPrefix:
		return a.prefix
	default:
		return a.exact
	}
}

// add merges a rule the way vault/acl.go NewACL does: a deny already there
// wins; a new deny replaces everything; otherwise capabilities add up and
// parameter constraints merge.
func (a *ACL) add(policy string, r *Rule) {
	t := a.table(r)
	existing, ok := t[r.Path]
	if !ok {
		t[r.Path] = &permissions{
			caps:     r.Capabilities,
			granting: grantMap(nil, policy, r.Capabilities),
			allowed:  cloneParams(r.AllowedParameters),
			denied:   cloneParams(r.DeniedParameters),
			required: append([]string(nil), r.RequiredParameters...),
		}
		return
	}
	switch {
	case existing.caps&Deny != 0:
		return
	case r.Capabilities&Deny != 0:
		t[r.Path] = &permissions{caps: Deny, granting: grantMap(nil, policy, Deny)}
		return
	}
	existing.caps |= r.Capabilities
	existing.granting = grantMap(existing.granting, policy, r.Capabilities)
	existing.allowed = mergeParams(existing.allowed, r.AllowedParameters)
	existing.denied = mergeParams(existing.denied, r.DeniedParameters)
	for _, k := range r.RequiredParameters {
		if !contains(existing.required, k) {
			existing.required = append(existing.required, k)
		}
	}
}

func grantMap(m map[Capability][]string, policy string, caps Capability) map[Capability][]string {
	if m == nil {
		m = map[Capability][]string{}
	}
	for _, cn := range capNames {
		if caps&cn.c != 0 && !contains(m[cn.c], policy) {
			m[cn.c] = append(m[cn.c], policy)
		}
	}
	return m
}

func cloneParams(m map[string][]any) map[string][]any {
	if m == nil {
		return nil
	}
	out := make(map[string][]any, len(m))
	for k, v := range m {
		out[k] = append([]any(nil), v...)
	}
	return out
}

// mergeParams follows Vault: an empty value list (any value) absorbs a
// non-empty one; otherwise the lists are concatenated.
func mergeParams(dst, src map[string][]any) map[string][]any {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		return cloneParams(src)
	}
	for k, v := range src {
		cur, ok := dst[k]
		if len(v) == 0 || (ok && len(cur) == 0) {
			dst[k] = []any{}
			continue
		}
		dst[k] = append(append([]any(nil), v...), cur...)
	}
	return dst
}

// Check decides whether op on path is allowed, with data being the request
// parameters (checked against allowed/denied/required_parameters).
func (a *ACL) Check(op Operation, path string, data map[string]any) Result {
	if a.root {
		return Result{Allowed: true, Sudo: true, Root: true, Capabilities: allCapabilities, GrantingPolicies: []string{RootPolicyName}}
	}
	perm := a.match(op, strings.TrimLeft(path, "/"))
	if perm == nil {
		return Result{}
	}
	res := Result{Capabilities: perm.caps, Sudo: perm.caps&Sudo != 0}
	need, ok := opCapability[op]
	if !ok || perm.caps&need == 0 {
		return res
	}
	if !perm.paramsAllow(op, data) {
		return res
	}
	res.Allowed = true
	res.GrantingPolicies = perm.granting[need]
	return res
}

const allCapabilities = Create | Read | Update | Delete | List | Sudo | Patch | Scan

// Capabilities lists the capabilities on path, as sys/capabilities-self
// answers: ["root"] for a root token, ["deny"] when nothing is granted.
// Like Vault it evaluates the path as a list would, so "foo/" also sees a
// rule written for "foo".
func (a *ACL) Capabilities(path string) []string {
	if a.root {
		return []string{RootPolicyName}
	}
	perm := a.match(OpList, strings.TrimLeft(path, "/"))
	if perm == nil || perm.caps&Deny != 0 || perm.caps == 0 {
		return []string{"deny"}
	}
	return perm.caps.Names()
}

// match finds the governing rule: exact first (for lists also the path
// without its trailing slash), then the best non-exact rule.
func (a *ACL) match(op Operation, path string) *permissions {
	if p, ok := a.exact[path]; ok {
		return p
	}
	if op == OpList {
		trimmed := strings.TrimSuffix(path, "/")
		if p, ok := a.exact[trimmed]; ok {
			return p
		}
		if trimmed != path {
			if p := a.nonExact(trimmed); p != nil {
				return p
			}
		}
	}
	return a.nonExact(path)
}

// candidate is a matching non-exact rule, described for ranking.
type candidate struct {
	firstWildcard int // index of the first "+" or of the glob
	wildcards     int // number of "+" segments
	isPrefix      bool
	pattern       string
	perm          *permissions
}

// nonExact returns the highest-priority prefix or segment-wildcard rule
// matching path, ranked as vault/acl.go ranks them: the later the first
// wildcard or glob, the better; then a non-glob beats a glob; then fewer
// "+" segments; then the longer pattern; then the lexically greater one.
func (a *ACL) nonExact(path string) *permissions {
	var best *candidate
	if c := a.longestPrefix(path); c != nil {
		best = c
	}
	if len(a.segments) > 0 {
		parts := strings.Split(path, "/")
		for pattern, perm := range a.segments {
			c := matchSegments(pattern, parts)
			if c == nil {
				continue
			}
			c.perm = perm
			if best == nil || outranks(c, best) {
				best = c
			}
		}
	}
	if best == nil {
		return nil
	}
	return best.perm
}

func (a *ACL) longestPrefix(path string) *candidate {
	var best string
	var found *permissions
	for prefix, perm := range a.prefix {
		if strings.HasPrefix(path, prefix) && (found == nil || len(prefix) > len(best)) {
			best, found = prefix, perm
		}
	}
	if found == nil {
		return nil
	}
	return &candidate{firstWildcard: len(best), isPrefix: true, pattern: best, perm: found}
}

// matchSegments matches a segment-wildcard pattern ("a/+/b", "a/+/b*")
// against the split request path.
func matchSegments(pattern string, parts []string) *candidate {
	if pattern == "" {
		return nil
	}
	c := &candidate{firstWildcard: strings.Index(pattern, "+")}
	cur := pattern
	if strings.HasSuffix(cur, "*") {
		c.isPrefix = true
		cur = strings.TrimSuffix(cur, "*")
	}
	c.pattern = cur
	want := strings.Split(cur, "/")
	if len(parts) < len(want) || (!c.isPrefix && len(parts) != len(want)) {
		return nil
	}
	for i, seg := range want {
		switch {
		case seg == "+":
			c.wildcards++
		case seg == parts[i]:
		case c.isPrefix && i == len(want)-1 && strings.HasPrefix(parts[i], seg):
		default:
			return nil
		}
	}
	return c
}

// outranks reports whether c has higher priority than d.
func outranks(c, d *candidate) bool {
	if c.firstWildcard != d.firstWildcard {
		return c.firstWildcard > d.firstWildcard
	}
	if c.isPrefix != d.isPrefix {
		return !c.isPrefix
	}
	if c.wildcards != d.wildcards {
		return c.wildcards < d.wildcards
	}
	if len(c.pattern) != len(d.pattern) {
		return len(c.pattern) > len(d.pattern)
	}
	return c.pattern > d.pattern
}

// paramsAllow applies required/denied/allowed_parameters, which Vault
// checks only for operations that carry parameters.
func (p *permissions) paramsAllow(op Operation, data map[string]any) bool {
	switch op {
	case OpRead, OpUpdate, OpCreate, OpPatch:
	default:
		return true
	}
	for _, k := range p.required {
		if _, ok := data[strings.ToLower(k)]; !ok {
			return false
		}
	}
	if len(data) == 0 {
		return true
	}
	if _, all := p.denied["*"]; all {
		return false
	}
	for k, v := range data {
		if list, ok := p.denied[strings.ToLower(k)]; ok && valueIn(v, list) {
			return false
		}
	}
	if len(p.allowed) == 0 {
		return true
	}
	_, allowAll := p.allowed["*"]
	if allowAll && len(p.allowed) == 1 {
		return true
	}
	for k, v := range data {
		list, ok := p.allowed[strings.ToLower(k)]
		if !ok && !allowAll {
			return false
		}
		if ok && !valueIn(v, list) {
			return false
		}
	}
	return true
}

// valueIn: an empty list admits any value; strings match with Vault's
// leading/trailing "*" globs; other values by their printed form (request
// numbers arrive as json.Number, policy numbers as int).
func valueIn(v any, list []any) bool {
	if len(list) == 0 {
		return true
	}
	for _, el := range list {
		es, eok := el.(string)
		vs, vok := v.(string)
		switch {
		case el == nil || v == nil:
			if el == nil && v == nil {
				return true
			}
		case eok && vok:
			if globMatch(es, vs) {
				return true
			}
		case fmt.Sprint(el) == fmt.Sprint(v):
			return true
		}
	}
	return false
}

// globMatch is Vault's strutil.GlobbedStringsMatch: "*" only at the ends.
func globMatch(pattern, s string) bool {
	if len(pattern) < 2 {
		return pattern == s
	}
	pre, suf := strings.HasPrefix(pattern, "*"), strings.HasSuffix(pattern, "*")
	switch {
	case pre && suf:
		return strings.Contains(s, pattern[1:len(pattern)-1])
	case pre:
		return strings.HasSuffix(s, pattern[1:])
	case suf:
		return strings.HasPrefix(s, pattern[:len(pattern)-1])
	}
	return pattern == s
}

// AnyAccessUnder reports whether some non-deny capability is granted on
// mount or below it: sys/internal/ui/mounts uses it so a token only learns
// of mounts it may use.
func (a *ACL) AnyAccessUnder(mount string) bool {
	if a.root {
		return true
	}
	mount = strings.TrimLeft(mount, "/")
	ok := func(p *permissions) bool { return p.caps&Deny == 0 && p.caps != 0 }
	for p, perm := range a.exact {
		if strings.HasPrefix(p, mount) && ok(perm) {
			return true
		}
	}
	for p, perm := range a.prefix {
		if (strings.HasPrefix(p, mount) || strings.HasPrefix(mount, p)) && ok(perm) {
			return true
		}
	}
	for p, perm := range a.segments {
		if segmentsReach(p, mount) && ok(perm) {
			return true
		}
	}
	return false
}

// segmentsReach: could pattern match something under mount?
func segmentsReach(pattern, mount string) bool {
	mparts := strings.Split(strings.TrimSuffix(mount, "/"), "/")
	pparts := strings.Split(strings.TrimSuffix(pattern, "*"), "/")
	for i, m := range mparts {
		if i >= len(pparts) {
			return strings.HasSuffix(pattern, "*")
		}
		if pparts[i] != "+" && pparts[i] != m && !(i == len(pparts)-1 && strings.HasSuffix(pattern, "*") && strings.HasPrefix(m, pparts[i])) {
			return false
		}
	}
	return true
}
