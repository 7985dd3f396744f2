package api

import (
	"context"
	"encoding/base64"
	"strings"
	"unicode/utf8"

	"github.com/pkid-dev/pkid/api/acl"
	"github.com/pkid-dev/pkid/errs"
)

// policyRoutes serve sys/policies/acl (spec §2.6) and the legacy
// sys/policy, whose answers Vault also copies to the top level.
func (s *Server) policyRoutes() []Route {
	return []Route{
		{Pattern: "policies/acl", Operations: map[Operation]HandlerFunc{OpList: s.handleListPolicies}},
		{Pattern: "policies/acl/{name:.+}", Operations: map[Operation]HandlerFunc{
			OpRead: s.handleReadPolicy, OpUpdate: s.handleWritePolicy, OpDelete: s.handleDeletePolicy}},
		{Pattern: "policy", Operations: map[Operation]HandlerFunc{
			OpRead: s.handleLegacyListPolicies, OpList: s.handleLegacyListPolicies}},
		{Pattern: "policy/{name:.+}", Operations: map[Operation]HandlerFunc{
			OpRead: s.handleLegacyReadPolicy, OpUpdate: s.handleWritePolicy, OpDelete: s.handleDeletePolicy}},
	}
}

func (s *Server) handleListPolicies(context.Context, *Request) (*Response, error) {
	names, err := s.sec.policies.List()
	if err != nil {
		return nil, err
	}
	return &Response{Data: map[string]any{"keys": names}}, nil
}

func (s *Server) handleLegacyListPolicies(context.Context, *Request) (*Response, error) {
	names, err := s.sec.policies.List()
	if err != nil {
		return nil, err
	}
	return &Response{Data: map[string]any{"keys": names, "policies": names}}, nil
}

func (s *Server) readPolicy(req *Request) (*acl.Policy, error) {
	return s.sec.policies.Get(req.Vars["name"])
}

func (s *Server) handleReadPolicy(_ context.Context, req *Request) (*Response, error) {
	p, err := s.readPolicy(req)
	if err != nil || p == nil {
		return nil, err
	}
	return &Response{Data: map[string]any{"name": p.Name, "policy": p.Raw}}, nil
}

func (s *Server) handleLegacyReadPolicy(_ context.Context, req *Request) (*Response, error) {
	p, err := s.readPolicy(req)
	if err != nil || p == nil {
		return nil, err
	}
	return &Response{Data: map[string]any{"name": p.Name, "rules": p.Raw}}, nil
}

type policyWriteRequest struct {
	Policy string `json:"policy"`
	Rules  string `json:"rules"` // the legacy name, still sent to sys/policy
}

// handleWritePolicy stores a policy. The legacy sys/policy/:name also
// takes the text as "rules", with Vault's deprecation warning; on
// sys/policies/acl only "policy" counts.
func (s *Server) handleWritePolicy(_ context.Context, req *Request) (*Response, error) {
	var in policyWriteRequest
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	var warnings []string
	text := in.Policy
	if text == "" && strings.HasPrefix(req.Path, "policy/") {
		text = in.Rules
		warnings = append(warnings, "'rules' is deprecated, please use 'policy' instead")
	}
	parsed, err := s.sec.policies.Put(req.Vars["name"], decodeMaybeBase64(text))
	if err != nil {
		return nil, err
	}
	warnings = append(warnings, parsed...)
	if len(warnings) > 0 {
		return &Response{Warnings: warnings}, nil
	}
	return nil, nil
}

// decodeMaybeBase64 accepts a base64-encoded policy, as Vault does: text
// that decodes to valid UTF-8 is taken decoded.
func decodeMaybeBase64(text string) string {
	t := strings.TrimSpace(text)
	if t == "" || strings.ContainsAny(t, " \n{\"") {
		return text
	}
	raw, err := base64.StdEncoding.DecodeString(t)
	if err != nil || !utf8.Valid(raw) {
		return text
	}
	return string(raw)
}

func (s *Server) handleDeletePolicy(_ context.Context, req *Request) (*Response, error) {
	return nil, s.sec.policies.Delete(req.Vars["name"])
}

// capabilityRoutes serve sys/capabilities-self, sys/capabilities (a token
// given in the body) and sys/capabilities-accessor.
func (s *Server) capabilityRoutes() []Route {
	return []Route{
		{Pattern: "capabilities-self", Operations: map[Operation]HandlerFunc{OpUpdate: s.handleCapabilitiesSelf}},
		{Pattern: "capabilities", Operations: map[Operation]HandlerFunc{OpUpdate: s.handleCapabilities}},
		{Pattern: "capabilities-accessor", Operations: map[Operation]HandlerFunc{OpUpdate: s.handleCapabilitiesAccessor}},
	}
}

type capabilitiesRequest struct {
	Token    string   `json:"token"`
	Accessor string   `json:"accessor"`
	Path     []string `json:"path"`
	Paths    []string `json:"paths"`
}

func (s *Server) handleCapabilitiesSelf(_ context.Context, req *Request) (*Response, error) {
	var in capabilitiesRequest
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	return s.capabilities(req.Token.Policies, in)
}

func (s *Server) handleCapabilities(_ context.Context, req *Request) (*Response, error) {
	var in capabilitiesRequest
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if in.Token == "" {
		in.Token = req.Token.ID
	}
	tok, err := s.tokens.Lookup(in.Token)
	if err != nil {
		return nil, err
	}
	if tok == nil {
		return nil, errs.Invalidf("invalid token")
	}
	return s.capabilities(tok.Policies, in)
}

func (s *Server) handleCapabilitiesAccessor(_ context.Context, req *Request) (*Response, error) {
	var in capabilitiesRequest
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if in.Accessor == "" {
		return nil, errs.Invalidf("missing accessor")
	}
	tok, err := s.tokens.LookupAccessor(in.Accessor)
	if err != nil {
		return nil, err
	}
	if tok == nil {
		return nil, errs.Invalidf("invalid accessor")
	}
	return s.capabilities(tok.Policies, in)
}

// capabilities answers one entry per path, plus "capabilities" when a
// single path was asked, as Vault does for older clients.
func (s *Server) capabilities(policies []string, in capabilitiesRequest) (*Response, error) {
	paths := in.Paths
	if len(paths) == 0 {
		paths = in.Path
	}
	if len(paths) == 0 {
		return nil, errs.Invalidf("paths must be supplied")
	}
	a, err := s.sec.policies.ACL(policies)
	if err != nil {
		return nil, err
	}
	data := map[string]any{}
	for _, p := range paths {
		data[p] = a.Capabilities(p)
	}
	if len(paths) == 1 {
		data["capabilities"] = data[paths[0]]
	}
	return &Response{Data: data}, nil
}
