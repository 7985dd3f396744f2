// Package authmethod holds what pkid's auth methods (approle, kubernetes)
// share: the token parameters every role carries (Vault's
// sdk/helper/tokenutil), where roles are stored, and the result of a login,
// which the token store turns into a token.
//
// The methods themselves live in the subpackages; they know storage and
// their own rules, not HTTP.
package authmethod

import (
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/field"
)

// TokenParams are the token settings of a role, as Vault's tokenutil keeps
// them. Zero values mean "use the mount's or the system's default".
type TokenParams struct {
	TokenPolicies        []string      `json:"token_policies"`
	TokenTTL             time.Duration `json:"token_ttl"`
	TokenMaxTTL          time.Duration `json:"token_max_ttl"`
	TokenExplicitMaxTTL  time.Duration `json:"token_explicit_max_ttl"`
	TokenPeriod          time.Duration `json:"token_period"`
	TokenNumUses         int           `json:"token_num_uses"`
	TokenNoDefaultPolicy bool          `json:"token_no_default_policy"`
	TokenBoundCIDRs      []string      `json:"token_bound_cidrs"`
	// TokenType is "default" or "service" (pkid issues service tokens only).
	TokenType string `json:"token_type"`

	// The deprecated names, kept as Vault keeps them so that a role written
	// with "policies" or "ttl" reads back with them.
	Policies   []string      `json:"policies,omitempty"`
	TTL        time.Duration `json:"ttl,omitempty"`
	MaxTTL     time.Duration `json:"max_ttl,omitempty"`
	Period     time.Duration `json:"period,omitempty"`
	NumUses    int           `json:"num_uses,omitempty"`
	BoundCIDRs []string      `json:"bound_cidrs,omitempty"`
}

// TokenFields is the request shape of the token parameters: pointers, so an
// update changes only what was sent.
type TokenFields struct {
	TokenPolicies        *[]string      `json:"token_policies"`
	Policies             *[]string      `json:"policies"`
	TokenTTL             *time.Duration `json:"token_ttl"`
	TTL                  *time.Duration `json:"ttl"`
	TokenMaxTTL          *time.Duration `json:"token_max_ttl"`
	MaxTTL               *time.Duration `json:"max_ttl"`
	TokenExplicitMaxTTL  *time.Duration `json:"token_explicit_max_ttl"`
	TokenPeriod          *time.Duration `json:"token_period"`
	Period               *time.Duration `json:"period"`
	TokenNumUses         *int           `json:"token_num_uses"`
	NumUses              *int           `json:"num_uses"`
	TokenNoDefaultPolicy *bool          `json:"token_no_default_policy"`
	TokenBoundCIDRs      *[]string      `json:"token_bound_cidrs"`
	BoundCIDRs           *[]string      `json:"bound_cidrs"`
	TokenType            *string        `json:"token_type"`
}

// Apply merges sent fields into p. Where both a field and its deprecated
// name are sent the new name wins; the deprecated value mirrors whichever
// was sent (tokenutil.UpgradeValue).
func (p *TokenParams) Apply(f TokenFields) error {
	if f.TokenPolicies != nil || f.Policies != nil {
		p.TokenPolicies, p.Policies = upgradeList(f.TokenPolicies, f.Policies, ParsePolicies)
	}
	upgradeDuration(&p.TokenTTL, &p.TTL, f.TokenTTL, f.TTL)
	upgradeDuration(&p.TokenMaxTTL, &p.MaxTTL, f.TokenMaxTTL, f.MaxTTL)
	upgradeDuration(&p.TokenPeriod, &p.Period, f.TokenPeriod, f.Period)
	if f.TokenExplicitMaxTTL != nil {
		p.TokenExplicitMaxTTL = *f.TokenExplicitMaxTTL
	}
	switch {
	case f.TokenNumUses != nil:
		p.TokenNumUses, p.NumUses = *f.TokenNumUses, 0
		if f.NumUses != nil {
			p.NumUses = p.TokenNumUses
		}
	case f.NumUses != nil:
		p.TokenNumUses, p.NumUses = *f.NumUses, *f.NumUses
	}
	if f.TokenNoDefaultPolicy != nil {
		p.TokenNoDefaultPolicy = *f.TokenNoDefaultPolicy
	}
	if f.TokenBoundCIDRs != nil || f.BoundCIDRs != nil {
		p.TokenBoundCIDRs, p.BoundCIDRs = upgradeList(f.TokenBoundCIDRs, f.BoundCIDRs, trimList)
		if err := ValidateCIDRs(p.TokenBoundCIDRs); err != nil {
			return err
		}
	}
	if f.TokenType != nil {
		if err := p.setTokenType(*f.TokenType); err != nil {
			return err
		}
	}
	if p.TokenType == "" {
		p.TokenType = "default"
	}
	if p.TokenNumUses < 0 {
		return errs.Invalidf("'token_num_uses' cannot be negative")
	}
	if p.TokenMaxTTL > 0 && p.TokenTTL > p.TokenMaxTTL {
		return errs.Invalidf("'token_ttl' cannot be greater than 'token_max_ttl'")
	}
	return nil
}

func (p *TokenParams) setTokenType(t string) error {
	switch t {
	case "", "default", "default-service":
		p.TokenType = "default"
	case "service":
		p.TokenType = "service"
	case "batch", "default-batch":
		return errs.Invalidf("token_type %q is not supported by pkid: it issues service tokens", t)
	default:
		return errs.Invalidf("invalid 'token_type' value %q", t)
	}
	return nil
}

func upgradeList(newV, oldV *[]string, clean func([]string) []string) (token, legacy []string) {
	if newV != nil {
		token = clean(*newV)
		if oldV != nil {
			legacy = token
		}
		return token, legacy
	}
	token = clean(*oldV)
	return token, token
}

func upgradeDuration(token, legacy *time.Duration, newV, oldV *time.Duration) {
	switch {
	case newV != nil:
		*token, *legacy = *newV, 0
		if oldV != nil {
			*legacy = *newV
		}
	case oldV != nil:
		*token, *legacy = *oldV, *oldV
	}
}

// ParsePolicies normalizes a policy list the way Vault's policyutil does:
// trimmed, lower-cased, without empties or duplicates, sorted.
func ParsePolicies(in []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, p := range in {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "" || seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func trimList(in []string) []string {
	out := []string{}
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// ValidateCIDRs checks a list of CIDR blocks or bare addresses.
func ValidateCIDRs(list []string) error {
	for _, c := range list {
		if _, err := parseBlock(c); err != nil {
			return errs.Invalidf("invalid CIDR block %q", c)
		}
	}
	return nil
}

func parseBlock(c string) (netip.Prefix, error) {
	if strings.Contains(c, "/") {
		return netip.ParsePrefix(c)
	}
	a, err := netip.ParseAddr(c)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// CIDRWithin reports whether block (a CIDR or an address) lies inside one of
// blocks.
func CIDRWithin(block string, blocks []string) bool {
	inner, err := parseBlock(block)
	if err != nil {
		return false
	}
	for _, c := range blocks {
		outer, err := parseBlock(c)
		if err == nil && outer.Bits() <= inner.Bits() && outer.Contains(inner.Addr()) {
			return true
		}
	}
	return false
}

// AddrInCIDRs reports whether remote ("1.2.3.4" or "1.2.3.4:5678") is in one
// of the blocks.
func AddrInCIDRs(remote string, blocks []string) bool {
	host := remote
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		host = ap.Addr().String()
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, c := range blocks {
		if p, err := parseBlock(c); err == nil && p.Contains(addr) {
			return true
		}
	}
	return false
}

// Data adds the token parameters to a role read the way Vault's
// PopulateTokenData does: durations in seconds, empty lists as [].
func (p TokenParams) Data(m map[string]any) {
	m["token_policies"] = orEmpty(p.TokenPolicies)
	m["token_ttl"] = field.Seconds(p.TokenTTL)
	m["token_max_ttl"] = field.Seconds(p.TokenMaxTTL)
	m["token_explicit_max_ttl"] = field.Seconds(p.TokenExplicitMaxTTL)
	m["token_period"] = field.Seconds(p.TokenPeriod)
	m["token_num_uses"] = p.TokenNumUses
	m["token_no_default_policy"] = p.TokenNoDefaultPolicy
	m["token_bound_cidrs"] = orEmpty(p.TokenBoundCIDRs)
	tt := p.TokenType
	if tt == "" {
		tt = "default"
	}
	m["token_type"] = tt
	// Deprecated names appear only when the role was written with them.
	if len(p.Policies) > 0 {
		m["policies"] = p.Policies
	}
	if p.TTL > 0 {
		m["ttl"] = field.Seconds(p.TTL)
	}
	if p.MaxTTL > 0 {
		m["max_ttl"] = field.Seconds(p.MaxTTL)
	}
	if p.Period > 0 {
		m["period"] = field.Seconds(p.Period)
	}
	if p.NumUses > 0 {
		m["num_uses"] = p.NumUses
	}
	if len(p.BoundCIDRs) > 0 {
		m["bound_cidrs"] = p.BoundCIDRs
	}
}

func orEmpty(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// Auth is the result of a successful login: what the token store needs to
// mint the token, in the terms of Vault's logical.Auth.
type Auth struct {
	// Policies are the role's token policies; the token store adds
	// "default" unless NoDefaultPolicy.
	Policies        []string
	NoDefaultPolicy bool
	// TTL zero means the mount's default TTL; MaxTTL zero the mount's max.
	TTL            time.Duration
	MaxTTL         time.Duration
	ExplicitMaxTTL time.Duration
	Period         time.Duration
	NumUses        int
	// DisplayName is the method's part; Vault prefixes it with the mount
	// ("approle", "kubernetes-<ns>-<sa>").
	DisplayName string
	Metadata    map[string]string
	BoundCIDRs  []string
	// Alias is the identity alias name (role_id, service account UID).
	Alias string
	// InternalData carries what a renewal needs (the role name).
	InternalData map[string]string
}

// Auth builds a login result from the role's token parameters
// (tokenutil.PopulateTokenAuth).
func (p TokenParams) Auth() *Auth {
	return &Auth{
		Policies:        append([]string(nil), p.TokenPolicies...),
		NoDefaultPolicy: p.TokenNoDefaultPolicy,
		TTL:             p.TokenTTL,
		MaxTTL:          p.TokenMaxTTL,
		ExplicitMaxTTL:  p.TokenExplicitMaxTTL,
		Period:          p.TokenPeriod,
		NumUses:         p.TokenNumUses,
		BoundCIDRs:      append([]string(nil), p.TokenBoundCIDRs...),
	}
}
