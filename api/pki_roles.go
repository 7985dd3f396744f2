package api

import (
	"context"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/roles"
)

// Role routes (spec §3.1 roles, §4): LIST roles and roles/:name with read,
// write (replace), patch (merge) and delete.
func (b *pkiBackend) roleRoutes() []Route {
	return []Route{
		{Pattern: "roles", Operations: map[Operation]HandlerFunc{OpList: b.listRoles}},
		{Pattern: "roles/{name:" + NamePattern + "}", Operations: map[Operation]HandlerFunc{
			OpRead:   b.readRole,
			OpUpdate: b.writeRole,
			OpPatch:  b.patchRole,
			OpDelete: b.deleteRole,
		}},
	}
}

func (b *pkiBackend) listRoles(_ context.Context, req *Request) (*Response, error) {
	var q listQuery
	if err := req.Decode(&q); err != nil {
		return nil, err
	}
	names, err := b.roles.List(q.After, q.Limit)
	if err != nil {
		return nil, err
	}
	return &Response{Data: map[string]any{"keys": names}}, nil
}

func (b *pkiBackend) readRole(_ context.Context, req *Request) (*Response, error) {
	role, err := b.roles.Get(req.Vars["name"])
	if err != nil || role == nil {
		return nil, err
	}
	return &Response{Data: roleData(role)}, nil
}

// writeRole replaces the role: fields the body omits return to defaults.
func (b *pkiBackend) writeRole(_ context.Context, req *Request) (*Response, error) {
	rq := defaultRoleRequest()
	if err := req.Decode(&rq); err != nil {
		return nil, err
	}
	role, warnings, err := rq.role(req.Vars["name"])
	if err != nil {
		return nil, err
	}
	return b.saveRole(role, warnings)
}

// patchRole merges the body into the stored role (RFC 7396).
func (b *pkiBackend) patchRole(_ context.Context, req *Request) (*Response, error) {
	// Decoding the patch alone types its fields and finds unknown ones.
	rq := defaultRoleRequest()
	if err := req.Decode(&rq); err != nil {
		return nil, err
	}
	patch := make(map[string]any, len(req.Data))
	for k, v := range req.Data {
		if k != "name" {
			patch[k] = v
		}
	}
	var warnings []string
	role, err := b.roles.Modify(req.Vars["name"], func(old *roles.Role) (*roles.Role, error) {
		if old == nil {
			return nil, errs.Invalidf("Unable to fetch role entry to patch")
		}
		role, w, err := patchedRole(old, patch)
		warnings = w
		return role, err
	})
	if err != nil {
		return nil, err
	}
	return b.roleAnswer(role, warnings)
}

func (b *pkiBackend) saveRole(role *roles.Role, warnings []string) (*Response, error) {
	if err := b.roles.Put(role); err != nil {
		return nil, err
	}
	return b.roleAnswer(role, warnings)
}

// roleAnswer is the answer to a role write: the role, with warnings about
// its issuer first.
func (b *pkiBackend) roleAnswer(role *roles.Role, warnings []string) (*Response, error) {
	issuerWarnings, err := b.ca.RoleIssuerWarnings(role.IssuerRef)
	if err != nil {
		return nil, err
	}
	b.ca.WarmLeafKeys(role)
	return &Response{Data: roleData(role), Warnings: append(issuerWarnings, warnings...)}, nil
}

func (b *pkiBackend) deleteRole(_ context.Context, req *Request) (*Response, error) {
	return nil, b.roles.Delete(req.Vars["name"])
}
