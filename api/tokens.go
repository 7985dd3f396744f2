package api

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/pkid-dev/pkid/api/token"
	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/field"
)

// tokenBackend serves auth/token/ (spec §2.8).
type tokenBackend struct{ s *Server }

// tokenSudo are the token store's root paths in Vault.
var tokenSudo = []string{"revoke-orphan", "revoke-orphan/*", "accessors", "accessors/*"}

func (b *tokenBackend) unauthenticatedPaths() []string { return nil }
func (b *tokenBackend) sudoPaths() []string            { return tokenSudo }
func (b *tokenBackend) periodic(context.Context)       {}
func (b *tokenBackend) close()                         {}

func (b *tokenBackend) routes() []Route {
	s := b.s
	write := func(h HandlerFunc) map[Operation]HandlerFunc { return map[Operation]HandlerFunc{OpUpdate: h} }
	rs := []Route{
		{Pattern: "create", Operations: write(s.handleTokenCreate)},
		{Pattern: "create-orphan", Operations: write(s.handleTokenCreateOrphan)},
		{Pattern: "lookup", Operations: map[Operation]HandlerFunc{OpRead: s.handleTokenLookup, OpUpdate: s.handleTokenLookup}},
		{Pattern: "lookup-self", Operations: map[Operation]HandlerFunc{OpRead: s.handleTokenLookupSelf, OpUpdate: s.handleTokenLookupSelf}},
		{Pattern: "renew-self", Operations: write(s.handleTokenRenewSelf)},
		{Pattern: "revoke-self", Operations: write(s.handleTokenRevokeSelf)},
		{Pattern: "revoke", Operations: write(s.handleTokenRevoke)},
	}
	return append(rs, s.moreTokenRoutes()...) // tokens_accessor.go
}

// tokenCreateRequest is auth/token/create's body. Durations are strings
// so that their errors read as Vault's (parseutil's own text).
type tokenCreateRequest struct {
	ID              string            `json:"id"`
	Policies        []string          `json:"policies"`
	Meta            map[string]string `json:"meta"`
	NoParent        bool              `json:"no_parent"`
	NoDefaultPolicy bool              `json:"no_default_policy"`
	Renewable       *bool             `json:"renewable"`
	TTL             string            `json:"ttl"`
	Lease           string            `json:"lease"`
	ExplicitMaxTTL  string            `json:"explicit_max_ttl"`
	Period          string            `json:"period"`
	DisplayName     string            `json:"display_name"`
	NumUses         int               `json:"num_uses"`
	Type            string            `json:"type"`
	EntityAlias     string            `json:"entity_alias"`
}

func (s *Server) handleTokenCreate(ctx context.Context, req *Request) (*Response, error) {
	return s.createToken(req, false)
}

func (s *Server) handleTokenCreateOrphan(ctx context.Context, req *Request) (*Response, error) {
	return s.createToken(req, true)
}

// createToken is Vault's token store handleCreateCommon, check by check in
// its order; a caller without sudo on the path may only narrow its own
// policies and may not pick the id, orphan the token or make it periodic.
func (s *Server) createToken(req *Request, orphan bool) (*Response, error) {
	var in tokenCreateRequest
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	parent, err := s.tokens.Lookup(req.Token.ID)
	if err != nil {
		return nil, err
	}
	if parent == nil {
		return nil, errs.Invalidf("parent token lookup failed: no parent found")
	}
	if parent.NumUses > 0 {
		return nil, errs.Invalidf("restricted use token cannot generate child tokens")
	}
	sudo := s.hasSudo(parent.Policies, "auth/token/"+req.Path)
	switch in.Type {
	case "", "service":
	case "batch":
		return nil, errs.Invalidf("pkid supports only service tokens, not %q", in.Type)
	default:
		return nil, errs.Invalidf("invalid 'token_type' value")
	}
	if in.NumUses < 0 {
		return nil, errs.Invalidf("number of uses cannot be negative")
	}
	if in.ID != "" && !sudo {
		return nil, errs.Invalidf("root or sudo privileges required to specify token id")
	}
	policies, err := childPolicies(in, parent, sudo)
	if err != nil {
		return nil, err
	}
	if in.NoParent && !orphan && !sudo {
		return nil, errs.Invalidf("root or sudo privileges required to create orphan token")
	}
	ttls, err := parseTokenTTLs(in, sudo)
	if err != nil {
		return nil, err
	}
	if slices.Contains(policies, "root") && ttls.ttl == 0 && ttls.period == 0 && ttls.explicit == 0 && parent.TTL != 0 {
		return nil, errs.Invalidf("expiring root tokens cannot create non-expiring root tokens")
	}
	path := "auth/token/" + req.Path
	e, err := s.tokens.Create(parent, token.CreateRequest{
		ID: in.ID, Policies: policies, Meta: in.Meta, NoParent: in.NoParent || orphan,
		NoDefaultPolicy: true, Renewable: in.Renewable, TTL: ttls.ttl,
		ExplicitMaxTTL: ttls.explicit, Period: ttls.period, DisplayName: in.DisplayName,
		NumUses: in.NumUses, Path: path, DefaultTTL: req.Mount.DefaultTTL, MaxTTL: req.Mount.MaxTTL,
	})
	if err != nil {
		return nil, err
	}
	warnings := e.Warnings
	if in.ID != "" {
		warnings = append(warnings, "Supplying a custom ID for the token uses the weaker SHA1 hashing instead of the more secure SHA2-256 HMAC for token obfuscation. SHA1 hashed tokens on the wire leads to less secure lookups.")
	}
	warnings = append(warnings, s.missingPolicyWarnings(e.Policies)...)
	return &Response{Auth: s.authBlock(e), Warnings: warnings}, nil
}

// childPolicies are a child token's policies as Vault picks them: the
// parent's when none are asked; else the asked ones, which must be a subset
// of the parent's for a caller without sudo, with "default" added unless
// no_default_policy (and, without sudo, only if the parent has it);
// no_default_policy then strips "default" whatever its source. Only a root
// parent may make a root token.
func childPolicies(in tokenCreateRequest, parent *token.Entry, sudo bool) ([]string, error) {
	asked := token.SanitizePolicies(in.Policies, false)
	var out []string
	switch {
	case len(asked) == 0:
		out = token.SanitizePolicies(parent.Policies, false)
	case !sudo:
		mine := token.SanitizePolicies(parent.Policies, false)
		for _, p := range asked {
			if !slices.Contains(mine, p) {
				return nil, errs.Invalidf("child policies must be subset of parent")
			}
		}
		out = token.SanitizePolicies(asked, !in.NoDefaultPolicy && slices.Contains(parent.Policies, "default"))
	default:
		out = token.SanitizePolicies(asked, !in.NoDefaultPolicy)
	}
	if in.NoDefaultPolicy {
		out = slices.DeleteFunc(out, func(p string) bool { return p == "default" })
	}
	if slices.Contains(out, "root") && !parent.IsRoot() {
		return nil, errs.Invalidf("root tokens may not be created without parent token being root")
	}
	return out, nil
}

type tokenTTLs struct{ ttl, explicit, period time.Duration }

// parseTokenTTLs reads a create request's durations with Vault's checks and
// words: negative values are refused, a period needs sudo, "lease" is the
// legacy name of "ttl".
func parseTokenTTLs(in tokenCreateRequest, sudo bool) (tokenTTLs, error) {
	var out tokenTTLs
	for _, f := range []struct {
		name, raw string
		dst       *time.Duration
	}{
		{"explicit_max_ttl", in.ExplicitMaxTTL, &out.explicit},
		{"period", in.Period, &out.period},
		{"ttl", in.TTL, &out.ttl},
	} {
		if f.raw == "" {
			continue
		}
		d, err := field.ParseDuration(f.raw)
		if err != nil {
			return out, errs.Invalidf("%v", err)
		}
		if d < 0 {
			return out, errs.Invalidf("%s must be positive", f.name)
		}
		*f.dst = d
	}
	if out.period > 0 && !sudo {
		return out, errs.Invalidf("root or sudo privileges required to create periodic token")
	}
	if in.TTL == "" && in.Lease != "" {
		d, err := time.ParseDuration(in.Lease)
		if err != nil {
			return out, errs.Invalidf("%v", err)
		}
		if d < 0 {
			return out, errs.Invalidf("lease must be positive")
		}
		out.ttl = d
	}
	return out, nil
}

// hasSudo reports whether policies grant sudo on a logical path (root
// does), as Vault's SudoPrivilege.
func (s *Server) hasSudo(policies []string, path string) bool {
	a, err := s.sec.policies.ACL(policies)
	if err != nil {
		s.log.Error("build ACL", "error", err)
		return false
	}
	caps := a.Capabilities(path)
	return slices.Contains(caps, "root") || slices.Contains(caps, "sudo")
}

// missingPolicyWarnings is Vault's warning for each policy of a new token
// that does not exist (yet).
func (s *Server) missingPolicyWarnings(policies []string) []string {
	var ws []string
	for _, p := range policies {
		if ok, err := s.sec.policies.Exists(p); err == nil && !ok {
			ws = append(ws, fmt.Sprintf("Policy %q does not exist", p))
		}
	}
	return ws
}

// authBlock is the "auth" object Vault answers token creation and logins
// with.
func (s *Server) authBlock(e *token.Entry) map[string]any {
	var meta any
	if e.Meta != nil {
		meta = e.Meta
	}
	return map[string]any{
		"client_token": e.ID, "accessor": e.Accessor, "policies": e.Policies,
		"token_policies": e.Policies, "metadata": meta,
		"lease_duration": field.Seconds(s.tokens.RemainingTTL(e)), "renewable": e.Renewable && e.TTL > 0,
		"entity_id": e.EntityID, "token_type": e.Type, "orphan": e.Orphan,
		"mfa_requirement": nil, "num_uses": e.NumUses,
	}
}

// lookupData is a token as lookup and lookup-self describe it. The lease
// fields (renewable, issue_time, last renewal) come only with a lease,
// which every token has but the initial root token (auth/token/root), as in
// Vault.
func (s *Server) lookupData(e *token.Entry) map[string]any {
	var expire, meta any
	if !e.ExpireTime.IsZero() {
		expire = e.ExpireTime.UTC().Format(time.RFC3339Nano)
	}
	if e.Meta != nil {
		meta = e.Meta
	}
	data := map[string]any{
		"accessor": e.Accessor, "creation_time": e.CreationTime.Unix(),
		"creation_ttl": field.Seconds(e.TTL), "display_name": e.DisplayName, "entity_id": e.EntityID,
		"expire_time": expire, "explicit_max_ttl": field.Seconds(e.ExplicitMaxTTL), "id": e.ID,
		"meta": meta, "num_uses": e.NumUses, "orphan": e.Orphan, "path": e.Path, "policies": e.Policies,
		"ttl": field.Seconds(s.tokens.RemainingTTL(e)), "type": e.Type,
	}
	if e.Period > 0 {
		data["period"] = field.Seconds(e.Period)
	}
	if hasLease(e) {
		data["renewable"] = e.Renewable && !e.ExpireTime.IsZero() && s.tokens.RemainingTTL(e) > 0
		data["issue_time"] = e.CreationTime.UTC().Format(time.RFC3339Nano)
		if !e.LastRenewal.IsZero() {
			data["last_renewal_time"] = e.LastRenewal.Unix()
			data["last_renewal"] = e.LastRenewal.UTC().Format(time.RFC3339Nano)
		}
	}
	return data
}

// hasLease reports whether Vault would hold a lease for the token: all
// tokens but the root token made at initialization.
func hasLease(e *token.Entry) bool { return e.Path != "auth/token/root" }

func (s *Server) handleTokenLookupSelf(_ context.Context, req *Request) (*Response, error) {
	var in tokenParam // Vault's schema has "token", unused: it raises no warning
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	e, err := s.tokens.Lookup(req.Token.ID)
	if err != nil || e == nil {
		return nil, errInvalidToken
	}
	return &Response{Data: s.lookupData(e)}, nil
}

type tokenParam struct {
	Token string `json:"token"`
}

// errBadToken is Vault's answer to a lookup of a token that does not exist:
// an error response with a permission-denied status.
var errBadToken = errs.New(errs.Denied, "bad token")

func (s *Server) handleTokenLookup(_ context.Context, req *Request) (*Response, error) {
	var in tokenParam
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if in.Token == "" {
		in.Token = req.Token.ID
	}
	e, err := s.tokens.Lookup(in.Token)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, errBadToken
	}
	return &Response{Data: s.lookupData(e)}, nil
}

// renewRequest is the body of renew and renew-self (where "token" is in
// the schema but unused).
type renewRequest struct {
	Token     string        `json:"token"`
	Increment time.Duration `json:"increment"`
}

func (s *Server) handleTokenRenewSelf(_ context.Context, req *Request) (*Response, error) {
	var in renewRequest
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	e, err := s.tokens.Lookup(req.Token.ID)
	if err != nil || e == nil {
		return nil, errs.Invalidf("token not found")
	}
	return s.renewToken(e, in.Increment)
}

// renewToken renews a token's lease: the initial root token has none
// ("invalid lease ID" in Vault), a token that never expires has one that is
// not renewable.
func (s *Server) renewToken(e *token.Entry, increment time.Duration) (*Response, error) {
	if !hasLease(e) {
		return nil, errs.Invalidf("invalid lease ID")
	}
	renewed, err := s.tokens.Renew(e, increment)
	if err != nil {
		return nil, err
	}
	return &Response{Auth: s.authBlock(renewed), Warnings: renewed.Warnings}, nil
}

func (s *Server) handleTokenRevokeSelf(_ context.Context, req *Request) (*Response, error) {
	return nil, s.tokens.Revoke(req.Token.ID)
}

func (s *Server) handleTokenRevoke(_ context.Context, req *Request) (*Response, error) {
	var in tokenParam
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if in.Token == "" {
		return nil, errs.Invalidf("missing token ID")
	}
	return nil, s.tokens.Revoke(in.Token)
}
