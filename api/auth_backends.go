package api

import (
	"context"
	"fmt"
	"strings"

	"github.com/pkid-dev/pkid/api/authmethod/approle"
	"github.com/pkid-dev/pkid/api/authmethod/kubernetes"
	"github.com/pkid-dev/pkid/errs"
)

// newAuthBackend builds the backend of an auth method mount. Its records
// live in the mount's own space, dropped when the method is disabled.
func (s *Server) newAuthBackend(e MountEntry) (backend, error) {
	space := s.cfg.Store.Space(e.UUID)
	switch e.Type {
	case "approle":
		return &approleBackend{s: s, m: approle.New(space, s.clock, s.rand)}, nil
	case "kubernetes":
		return &kubernetesBackend{s: s, m: kubernetes.New(space, s.clock, kubernetes.Options{})}, nil
	}
	return nil, fmt.Errorf("unknown auth method type %q", e.Type)
}

// authLogin is the one unauthenticated path of both methods.
var authLogin = []string{"login"}

// approleBackend serves auth/<path>/ for an approle mount.
type approleBackend struct {
	s *Server
	m *approle.Backend
}

func (b *approleBackend) unauthenticatedPaths() []string { return authLogin }
func (b *approleBackend) sudoPaths() []string            { return nil }
func (b *approleBackend) periodic(context.Context)       {}
func (b *approleBackend) close()                         {}

const roleNamePattern = "{role_name:" + NamePattern + "}"

func (b *approleBackend) routes() []Route {
	role := "role/" + roleNamePattern
	exists := func(_ context.Context, req *Request) (bool, error) { return b.m.RoleExists(req.Vars["role_name"]) }
	ops := func(m map[Operation]HandlerFunc) map[Operation]HandlerFunc { return m }
	return []Route{
		{Pattern: "login", Unauthenticated: true, Operations: ops(map[Operation]HandlerFunc{OpUpdate: b.login})},
		{Pattern: "role", Operations: ops(map[Operation]HandlerFunc{OpList: b.listRoles})},
		{Pattern: role, Exists: exists, Operations: ops(map[Operation]HandlerFunc{
			OpRead: b.readRole, OpUpdate: b.writeRole, OpDelete: b.deleteRole})},
		{Pattern: role + "/role-id", Operations: ops(map[Operation]HandlerFunc{OpRead: b.readRoleID, OpUpdate: b.writeRoleID})},
		{Pattern: role + "/secret-id", Operations: ops(map[Operation]HandlerFunc{OpUpdate: b.generateSecretID, OpList: b.listSecretIDs})},
		{Pattern: role + "/custom-secret-id", Operations: ops(map[Operation]HandlerFunc{OpUpdate: b.generateSecretID})},
		{Pattern: role + "/secret-id/lookup", Operations: ops(map[Operation]HandlerFunc{OpUpdate: b.lookupSecretID})},
		{Pattern: role + "/secret-id/destroy", Operations: ops(map[Operation]HandlerFunc{OpUpdate: b.destroySecretID, OpDelete: b.destroySecretID})},
		{Pattern: role + "/secret-id-accessor/lookup", Operations: ops(map[Operation]HandlerFunc{OpUpdate: b.lookupAccessor})},
		{Pattern: role + "/secret-id-accessor/destroy", Operations: ops(map[Operation]HandlerFunc{OpUpdate: b.destroyAccessor, OpDelete: b.destroyAccessor})},
	}
}

func (b *approleBackend) login(_ context.Context, req *Request) (*Response, error) {
	var in approle.LoginRequest
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	host, _ := splitRemote(req.HTTP.RemoteAddr)
	auth, err := b.m.Login(in, host)
	if err != nil {
		return nil, err
	}
	return b.s.loginToken(req, auth)
}

func (b *approleBackend) listRoles(context.Context, *Request) (*Response, error) {
	names, err := b.m.ListRoles()
	if err != nil {
		return nil, err
	}
	return &Response{Data: map[string]any{"keys": names}}, nil
}

func (b *approleBackend) readRole(_ context.Context, req *Request) (*Response, error) {
	data, err := b.m.ReadRole(req.Vars["role_name"])
	if err != nil || data == nil {
		return nil, err
	}
	return &Response{Data: data}, nil
}

func (b *approleBackend) writeRole(_ context.Context, req *Request) (*Response, error) {
	var in approle.RoleRequest
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	warnings, err := b.m.WriteRole(req.Vars["role_name"], in, req.Mount.MaxTTL)
	return warningsOnly(warnings), err
}

// warningsOnly answers a write: 204, or 200 carrying only warnings.
func warningsOnly(warnings []string) *Response {
	if len(warnings) == 0 {
		return nil
	}
	return &Response{Warnings: warnings}
}

func (b *approleBackend) deleteRole(_ context.Context, req *Request) (*Response, error) {
	return nil, b.m.DeleteRole(req.Vars["role_name"])
}

func (b *approleBackend) readRoleID(_ context.Context, req *Request) (*Response, error) {
	id, ok, err := b.m.ReadRoleID(req.Vars["role_name"])
	if err != nil || !ok {
		return nil, err
	}
	return &Response{Data: map[string]any{"role_id": id}}, nil
}

type roleIDRequest struct {
	RoleID string `json:"role_id"`
}

func (b *approleBackend) writeRoleID(_ context.Context, req *Request) (*Response, error) {
	var in roleIDRequest
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	return nil, b.m.WriteRoleID(req.Vars["role_name"], in.RoleID)
}

func (b *approleBackend) generateSecretID(_ context.Context, req *Request) (*Response, error) {
	var in approle.SecretIDRequest
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if !strings.HasSuffix(req.Path, "/custom-secret-id") {
		in.SecretID = ""
	} else if in.SecretID == "" {
		return nil, errs.Invalidf("missing secret_id")
	}
	sid, err := b.m.GenerateSecretID(req.Vars["role_name"], in, req.Mount.MaxTTL)
	if err != nil {
		return nil, err
	}
	return &Response{Data: sid.Data()}, nil
}

func (b *approleBackend) listSecretIDs(_ context.Context, req *Request) (*Response, error) {
	accessors, ok, err := b.m.ListSecretIDAccessors(req.Vars["role_name"])
	if err != nil || !ok {
		return nil, err
	}
	return &Response{Data: map[string]any{"keys": accessors}}, nil
}

type secretIDParam struct {
	SecretID         string `json:"secret_id"`
	SecretIDAccessor string `json:"secret_id_accessor"`
}

func (b *approleBackend) lookupSecretID(_ context.Context, req *Request) (*Response, error) {
	var in secretIDParam
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	data, err := b.m.LookupSecretID(req.Vars["role_name"], in.SecretID)
	if err != nil || data == nil {
		return nil, err
	}
	return &Response{Data: data}, nil
}

func (b *approleBackend) destroySecretID(_ context.Context, req *Request) (*Response, error) {
	var in secretIDParam
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	return nil, b.m.DestroySecretID(req.Vars["role_name"], in.SecretID)
}

func (b *approleBackend) lookupAccessor(_ context.Context, req *Request) (*Response, error) {
	var in secretIDParam
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	data, err := b.m.LookupSecretIDAccessor(req.Vars["role_name"], in.SecretIDAccessor)
	if err != nil || data == nil {
		return nil, err
	}
	return &Response{Data: data}, nil
}

func (b *approleBackend) destroyAccessor(_ context.Context, req *Request) (*Response, error) {
	var in secretIDParam
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	return nil, b.m.DestroySecretIDAccessor(req.Vars["role_name"], in.SecretIDAccessor)
}

// kubernetesBackend serves auth/<path>/ for a kubernetes mount.
type kubernetesBackend struct {
	s *Server
	m *kubernetes.Backend
}

func (b *kubernetesBackend) unauthenticatedPaths() []string { return authLogin }
func (b *kubernetesBackend) sudoPaths() []string            { return nil }
func (b *kubernetesBackend) periodic(context.Context)       {}
func (b *kubernetesBackend) close()                         {}

func (b *kubernetesBackend) routes() []Route {
	exists := func(_ context.Context, req *Request) (bool, error) { return b.m.RoleExists(req.Vars["name"]) }
	return []Route{
		{Pattern: "login", Unauthenticated: true, Operations: map[Operation]HandlerFunc{OpUpdate: b.login}},
		{Pattern: "config", Operations: map[Operation]HandlerFunc{OpRead: b.readConfig, OpUpdate: b.writeConfig}},
		{Pattern: "role", Operations: map[Operation]HandlerFunc{OpList: b.listRoles}},
		{Pattern: "role/{name:" + NamePattern + "}", Exists: exists, Operations: map[Operation]HandlerFunc{
			OpRead: b.readRole, OpUpdate: b.writeRole, OpDelete: b.deleteRole}},
	}
}

func (b *kubernetesBackend) login(ctx context.Context, req *Request) (*Response, error) {
	var in kubernetes.LoginRequest
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	auth, err := b.m.Login(ctx, in)
	if err != nil {
		return nil, err
	}
	return b.s.loginToken(req, auth)
}

func (b *kubernetesBackend) readConfig(context.Context, *Request) (*Response, error) {
	data, err := b.m.ReadConfig()
	if err != nil || data == nil {
		return nil, err
	}
	return &Response{Data: data}, nil
}

func (b *kubernetesBackend) writeConfig(_ context.Context, req *Request) (*Response, error) {
	var in kubernetes.ConfigRequest
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	return nil, b.m.WriteConfig(in)
}

func (b *kubernetesBackend) listRoles(context.Context, *Request) (*Response, error) {
	names, err := b.m.ListRoles()
	if err != nil {
		return nil, err
	}
	return &Response{Data: map[string]any{"keys": names}}, nil
}

func (b *kubernetesBackend) readRole(_ context.Context, req *Request) (*Response, error) {
	data, err := b.m.ReadRole(req.Vars["name"])
	if err != nil || data == nil {
		return nil, err
	}
	return &Response{Data: data}, nil
}

func (b *kubernetesBackend) writeRole(_ context.Context, req *Request) (*Response, error) {
	var in kubernetes.RoleRequest
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	warnings, err := b.m.WriteRole(req.Vars["name"], in, req.Mount.MaxTTL)
	return warningsOnly(warnings), err
}

func (b *kubernetesBackend) deleteRole(_ context.Context, req *Request) (*Response, error) {
	return nil, b.m.DeleteRole(req.Vars["name"])
}
