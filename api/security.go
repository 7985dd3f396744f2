package api

// This file wires issue 6's access control into the request pipeline: ACL
// policies decide every authenticated request (spec §1.2), with sudo on the
// backends' root paths, and an audit broker records every request and
// response. The policy language and matcher live in api/acl, the devices in
// api/audit.

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pkid-dev/pkid/api/acl"
	"github.com/pkid-dev/pkid/api/audit"
	"github.com/pkid-dev/pkid/api/token"
	"github.com/pkid-dev/pkid/errs"
)

// security is the Server's policy store and audit broker.
type security struct {
	policies *acl.Store
	audit    *audit.Broker
}

// initSecurity opens the policy store (installing the default policy) and
// re-enables the audit devices of a previous run. A device that cannot be
// reopened stops the start, as Vault will not unseal without it.
func (s *Server) initSecurity() error {
	sec := &security{
		policies: acl.NewStore(s.sys),
		audit: audit.NewBroker(audit.Options{
			Space: s.sys, Clock: s.clock, Rand: s.rand, Logger: s.log.With("component", "audit"),
		}),
	}
	if err := sec.policies.Init(); err != nil {
		return fmt.Errorf("api: policies: %w", err)
	}
	if err := sec.audit.Restore(); err != nil {
		return fmt.Errorf("api: %w", err)
	}
	s.sec = sec
	return nil
}

// ReopenAudit reopens the audit devices' files, as Vault does on SIGHUP
// (log rotation). It returns the first failure.
func (s *Server) ReopenAudit() error { return s.sec.audit.Reopen() }

// errACLDenied is an ACL refusal. Vault reports it through go-multierror,
// so its body reads "1 error occurred:\n\t* permission denied\n\n".
var (
	errMultiError = errors.New("multierror")
	errACLDenied  = &errs.Error{Kind: errs.Denied, Msg: "permission denied", Err: errMultiError}
)

// aclOperation maps a request to the operation the ACL checks. A write is
// an update unless the route has an existence check and the target does not
// exist yet, when it is a create (Vault's RouteExistenceCheck). PKI routes
// have none, so PKI writes need "update" (spec §1.2).
func (s *Server) aclOperation(ctx context.Context, req *Request, route *Route) (acl.Operation, error) {
	switch req.Op {
	case OpRead, OpHeader:
		return acl.OpRead, nil
	case OpList:
		return acl.OpList, nil
	case OpDelete:
		return acl.OpDelete, nil
	case OpPatch:
		return acl.OpPatch, nil
	}
	if route == nil || route.Exists == nil {
		return acl.OpUpdate, nil
	}
	exists, err := route.Exists(ctx, req)
	if err != nil {
		return "", err
	}
	if exists {
		return acl.OpUpdate, nil
	}
	return acl.OpCreate, nil
}

// checkACL decides whether tok may run the request on the logical path.
// sudo says whether the path is one of its backend's root paths.
func (s *Server) checkACL(ctx context.Context, tok *token.Entry, req *Request, route *Route, logical string, sudo bool) (acl.Result, error) {
	a, err := s.sec.policies.ACL(tok.Policies)
	if err != nil {
		return acl.Result{}, fmt.Errorf("api: build ACL: %w", err)
	}
	if a.IsRoot() {
		return a.Check(acl.OpRead, logical, nil), nil // root: no existence check needed
	}
	op, err := s.aclOperation(ctx, req, route)
	if err != nil {
		return acl.Result{}, err
	}
	res := a.Check(op, logical, req.Data)
	if !res.Allowed || (sudo && !res.Sudo) {
		return res, errACLDenied
	}
	return res, nil
}

// mayTouchPath reports whether the token has any capability under a mount:
// sys/internal/ui/mounts shows a token only the mounts it may use.
func (s *Server) mayTouchPath(tok *TokenInfo, mountPath string) bool {
	a, err := s.sec.policies.ACL(tok.Policies)
	if err != nil {
		s.log.Error("build ACL", "error", err)
		return false
	}
	return a.AnyAccessUnder(mountPath)
}

// securityRoutes are the sys routes of issue 6: policies, capabilities,
// auth methods and audit devices.
func (s *Server) securityRoutes() []Route {
	var rs []Route
	rs = append(rs, s.policyRoutes()...)
	rs = append(rs, s.capabilityRoutes()...)
	rs = append(rs, s.authMountRoutes()...)
	rs = append(rs, s.auditRoutes()...)
	return rs
}

// unauditedSysPaths are answered outside Vault's core, so Vault's audit log
// never sees them.
var unauditedSysPaths = map[string]bool{
	"sys/health": true, "sys/seal-status": true, "sys/leader": true, "sys/init": true,
}

func audited(logical string) bool {
	return !unauditedSysPaths[strings.TrimSuffix(logical, "/")]
}
