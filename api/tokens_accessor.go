package api

import (
	"context"

	"github.com/pkid-dev/pkid/errs"
)

// moreTokenRoutes are the token store paths of issue 6: accessors, renewal
// by token, orphan revocation.
func (s *Server) moreTokenRoutes() []Route {
	write := func(h HandlerFunc) map[Operation]HandlerFunc { return map[Operation]HandlerFunc{OpUpdate: h} }
	return []Route{
		{Pattern: "lookup-accessor", Operations: write(s.handleTokenLookupAccessor)},
		{Pattern: "revoke-accessor", Operations: write(s.handleTokenRevokeAccessor)},
		{Pattern: "revoke-orphan", Operations: write(s.handleTokenRevokeOrphan)},
		{Pattern: "renew", Operations: write(s.handleTokenRenew)},
		{Pattern: "accessors", Operations: map[Operation]HandlerFunc{OpList: s.handleTokenAccessors}},
		// pkid has no token roles: the list is empty and a role reads as
		// nothing, both 404 {"errors":[]} as on a Vault without roles.
		{Pattern: "roles", Operations: map[Operation]HandlerFunc{OpList: noTokenRoles}},
		{Pattern: "roles/{role_name:" + NamePattern + "}", Operations: map[Operation]HandlerFunc{OpRead: noTokenRoles}},
		{Pattern: "create/{role_name:" + NamePattern + "}", Operations: write(createAgainstNoRole)},
	}
}

func noTokenRoles(context.Context, *Request) (*Response, error) { return nil, nil }

// createAgainstNoRole answers auth/token/create/:role as Vault does for a
// role that does not exist.
func createAgainstNoRole(_ context.Context, req *Request) (*Response, error) {
	return nil, errs.Invalidf("unknown role %s", req.Vars["role_name"])
}

type accessorParam struct {
	Accessor string `json:"accessor"`
}

func (s *Server) handleTokenLookupAccessor(_ context.Context, req *Request) (*Response, error) {
	var in accessorParam
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if in.Accessor == "" {
		return nil, errs.Invalidf("missing accessor")
	}
	e, err := s.tokens.LookupAccessor(in.Accessor)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, errs.Invalidf("invalid accessor")
	}
	data := s.lookupData(e)
	data["id"] = "" // an accessor never reveals its token
	return &Response{Data: data}, nil
}

func (s *Server) handleTokenRevokeAccessor(_ context.Context, req *Request) (*Response, error) {
	var in accessorParam
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if in.Accessor == "" {
		return nil, errs.Invalidf("missing accessor")
	}
	found, err := s.tokens.RevokeAccessor(in.Accessor)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errs.Invalidf("invalid accessor")
	}
	return nil, nil
}

func (s *Server) handleTokenRevokeOrphan(_ context.Context, req *Request) (*Response, error) {
	var in tokenParam
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if in.Token == "" {
		return nil, errs.Invalidf("missing token ID")
	}
	return nil, s.tokens.RevokeOrphan(in.Token)
}

func (s *Server) handleTokenRenew(_ context.Context, req *Request) (*Response, error) {
	var in renewRequest
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if in.Token == "" {
		return nil, errs.Invalidf("missing token ID")
	}
	e, err := s.tokens.Lookup(in.Token)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, errs.Invalidf("token not found")
	}
	return s.renewToken(e, in.Increment)
}

func (s *Server) handleTokenAccessors(context.Context, *Request) (*Response, error) {
	keys, err := s.tokens.Accessors()
	if err != nil {
		return nil, err
	}
	return &Response{Data: map[string]any{"keys": keys}}, nil
}
