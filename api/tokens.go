package api

import (
	"context"
	"slices"
	"time"

	"pkid/api/token"
	"pkid/errs"
	"pkid/field"
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
		{Pattern: "lookup/{token:.+}", Operations: map[Operation]HandlerFunc{OpRead: s.handleTokenLookup}},
		{Pattern: "lookup-self", Operations: map[Operation]HandlerFunc{OpRead: s.handleTokenLookupSelf, OpUpdate: s.handleTokenLookupSelf}},
		{Pattern: "renew-self", Operations: write(s.handleTokenRenewSelf)},
		{Pattern: "revoke-self", Operations: write(s.handleTokenRevokeSelf)},
		{Pattern: "revoke", Operations: write(s.handleTokenRevoke)},
	}
	return append(rs, s.moreTokenRoutes()...) // tokens_accessor.go
}

type tokenCreateRequest struct {
	ID              string            `json:"id"`
	Policies        []string          `json:"policies"`
	Meta            map[string]string `json:"meta"`
	NoParent        bool              `json:"no_parent"`
	NoDefaultPolicy bool              `json:"no_default_policy"`
	Renewable       *bool             `json:"renewable"`
	TTL             time.Duration     `json:"ttl"`
	Lease           time.Duration     `json:"lease"`
	ExplicitMaxTTL  time.Duration     `json:"explicit_max_ttl"`
	Period          time.Duration     `json:"period"`
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

func (s *Server) createToken(req *Request, orphan bool) (*Response, error) {
	var in tokenCreateRequest
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	parent, err := s.tokens.Lookup(req.Token.ID)
	if err != nil || parent == nil {
		return nil, errInvalidToken
	}
	if in.Type != "" && in.Type != "service" && in.Type != "default" {
		return nil, errs.Invalidf("pkid supports only service tokens, not %q", in.Type)
	}
	if !parent.IsRoot() {
		if in.ID != "" {
			return nil, errs.Invalidf("root or sudo privileges required to specify token id")
		}
		if in.NoParent && !orphan {
			return nil, errs.Invalidf("root or sudo privileges required to create orphan token")
		}
		for _, p := range in.Policies {
			if p != "default" && !slices.Contains(parent.Policies, p) {
				return nil, errs.Invalidf("child policies must be subset of parent")
			}
		}
	}
	ttl := in.TTL
	if ttl == 0 {
		ttl = in.Lease
	}
	e, err := s.tokens.Create(parent, token.CreateRequest{
		ID: in.ID, Policies: in.Policies, Meta: in.Meta, NoParent: in.NoParent || orphan,
		NoDefaultPolicy: in.NoDefaultPolicy, Renewable: in.Renewable, TTL: ttl,
		ExplicitMaxTTL: in.ExplicitMaxTTL, Period: in.Period, DisplayName: in.DisplayName,
		NumUses: in.NumUses,
	})
	if err != nil {
		return nil, err
	}
	return &Response{Auth: s.authBlock(e)}, nil
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

// lookupData is a token as lookup and lookup-self describe it.
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
		"issue_time": e.CreationTime.UTC().Format(time.RFC3339Nano), "meta": meta,
		"num_uses": e.NumUses, "orphan": e.Orphan, "path": e.Path, "policies": e.Policies,
		"renewable": e.Renewable && e.TTL > 0, "ttl": field.Seconds(s.tokens.RemainingTTL(e)), "type": e.Type,
	}
	if e.Period > 0 {
		data["period"] = field.Seconds(e.Period)
	}
	return data
}

func (s *Server) handleTokenLookupSelf(_ context.Context, req *Request) (*Response, error) {
	e, err := s.tokens.Lookup(req.Token.ID)
	if err != nil || e == nil {
		return nil, errInvalidToken
	}
	return &Response{Data: s.lookupData(e)}, nil
}

type tokenParam struct {
	Token string `json:"token"`
}

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
		return nil, errs.Invalidf("bad token")
	}
	return &Response{Data: s.lookupData(e)}, nil
}

type renewRequest struct {
	Increment time.Duration `json:"increment"`
}

func (s *Server) handleTokenRenewSelf(_ context.Context, req *Request) (*Response, error) {
	var in renewRequest
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	e, err := s.tokens.Lookup(req.Token.ID)
	if err != nil || e == nil {
		return nil, errInvalidToken
	}
	renewed, err := s.tokens.Renew(e, in.Increment)
	if err != nil {
		return nil, err
	}
	return &Response{Auth: s.authBlock(renewed)}, nil
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
		return nil, errs.Invalidf("token must be specified")
	}
	return nil, s.tokens.Revoke(in.Token)
}
