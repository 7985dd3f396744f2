package api

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/pkid-dev/pkid/api/acl"
	"github.com/pkid-dev/pkid/api/audit"
	"github.com/pkid-dev/pkid/api/token"
	"github.com/pkid-dev/pkid/errs"
)

func (s *Server) auditRoutes() []Route {
	return []Route{
		{Pattern: "audit", Operations: map[Operation]HandlerFunc{OpRead: s.handleListAudit}},
		{Pattern: "audit/{path:.+}", Operations: map[Operation]HandlerFunc{
			OpUpdate: s.handleEnableAudit, OpDelete: s.handleDisableAudit}},
		{Pattern: "audit-hash/{path:.+}", Operations: map[Operation]HandlerFunc{OpUpdate: s.handleAuditHash}},
	}
}

func (s *Server) handleListAudit(context.Context, *Request) (*Response, error) {
	data := map[string]any{}
	for p, info := range s.sec.audit.List() {
		data[p] = map[string]any{
			"path": info.Path, "type": info.Type, "description": info.Description,
			"options": info.Options, "local": info.Local,
		}
	}
	return &Response{Data: data}, nil
}

type auditEnableRequest struct {
	Type        string            `json:"type"`
	Description string            `json:"description"`
	Options     map[string]string `json:"options"`
	Local       bool              `json:"local"`
}

func (s *Server) handleEnableAudit(_ context.Context, req *Request) (*Response, error) {
	var in auditEnableRequest
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	cfg := audit.Config{Type: in.Type, Description: in.Description, Options: in.Options, Local: in.Local}
	return nil, s.sec.audit.Enable(req.Vars["path"], cfg)
}

func (s *Server) handleDisableAudit(_ context.Context, req *Request) (*Response, error) {
	return nil, s.sec.audit.Disable(req.Vars["path"])
}

type auditHashRequest struct {
	Input string `json:"input"`
}

func (s *Server) handleAuditHash(_ context.Context, req *Request) (*Response, error) {
	var in auditHashRequest
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if in.Input == "" {
		return nil, errs.Invalidf("the \"input\" parameter is empty")
	}
	h, err := s.sec.audit.Hash(req.Vars["path"], in.Input)
	if err != nil {
		return nil, err
	}
	return &Response{Data: map[string]any{"hash": h}}, nil
}

// errAuditFailed is what a client sees when no device recorded its request:
// Vault's ErrInternalError.
var errAuditFailed = errs.New(errs.Internal, "internal error")

// auditInput describes a request for the audit devices: the caller, the
// request as it arrived (before path captures were merged), and the mount.
func (s *Server) auditInput(r *http.Request, req *Request, logical, reqID string, m *mount, tok *token.Entry, data map[string]any, res acl.Result) *audit.Input {
	in := &audit.Input{Request: &audit.Request{
		ID: reqID, Operation: string(req.Op), Path: logical, Data: data,
		ClientToken: requestToken(r),
	}}
	in.Request.RemoteAddr, in.Request.RemotePort = splitRemote(r.RemoteAddr)
	if m != nil {
		in.Request.MountPoint = m.entry.Path
		in.Request.MountType = m.entry.Type
		in.Request.MountAccessor = m.entry.Accessor
		in.NonHMACRequestKeys = m.entry.Config.AuditNonHMACRequestKeys
		in.NonHMACResponseKeys = m.entry.Config.AuditNonHMACResponseKeys
	}
	if tok != nil {
		in.Request.ClientTokenAccessor = tok.Accessor
		in.Auth = &audit.Auth{
			ClientToken: tok.ID, Accessor: tok.Accessor, DisplayName: tok.DisplayName,
			Policies: tok.Policies, TokenPolicies: tok.Policies, Metadata: tok.Meta,
			EntityID: tok.EntityID, TokenType: tok.Type, TTL: tok.TTL, IssueTime: tok.CreationTime,
			RemainingUses: tok.NumUses,
			PolicyResults: &audit.PolicyResults{Allowed: true, GrantingPolicies: res.GrantingPolicies},
		}
	}
	return in
}

func splitRemote(addr string) (string, int) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, 0
	}
	p, _ := strconv.Atoi(port)
	return host, p
}

// auditResponse adds a handler's answer (or error) to an audit input.
func auditResponse(in *audit.Input, resp *Response, err error) {
	if err != nil {
		in.Error = errs.Message(err)
		if errs.KindOf(err) == errs.Internal {
			in.Error = "internal error"
		}
		return
	}
	if resp == nil {
		return
	}
	out := &audit.Response{Warnings: resp.Warnings, Data: resp.Data}
	switch {
	case resp.Raw != nil:
		// Vault logs a raw answer as its HTTP pseudo-fields.
		out.Data = map[string]any{
			"http_content_type": resp.Raw.ContentType,
			"http_raw_body":     string(resp.Raw.Body),
			"http_status_code":  rawStatus(resp.Raw),
		}
	case resp.Unwrapped != nil:
		out.Data = nil
	}
	if resp.Lease != nil {
		out.LeaseID = resp.Lease.ID
	}
	if resp.Auth != nil {
		out.Auth = auditAuthOf(resp.Auth)
	}
	in.Response = out
}

func rawStatus(r *Raw) int {
	if r.Status != 0 {
		return r.Status
	}
	if len(r.Body) == 0 {
		return http.StatusNoContent
	}
	return http.StatusOK
}

// auditAuthOf reads back the auth block a login or token creation answers.
func auditAuthOf(a map[string]any) *audit.Auth {
	str := func(k string) string { v, _ := a[k].(string); return v }
	list := func(k string) []string { v, _ := a[k].([]string); return v }
	out := &audit.Auth{
		ClientToken: str("client_token"), Accessor: str("accessor"),
		Policies: list("policies"), TokenPolicies: list("token_policies"),
		EntityID: str("entity_id"), TokenType: str("token_type"),
	}
	if meta, ok := a["metadata"].(map[string]string); ok {
		out.Metadata = meta
	}
	if n, ok := a["num_uses"].(int); ok {
		out.NumUses = n
	}
	if d, ok := a["lease_duration"].(int64); ok {
		out.TTL = time.Duration(d) * time.Second
	}
	return out
}
