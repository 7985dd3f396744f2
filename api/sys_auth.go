package api

import (
	"context"
	"slices"
	"strings"

	"github.com/pkid-dev/pkid/api/authmethod"
	"github.com/pkid-dev/pkid/api/token"
	"github.com/pkid-dev/pkid/errs"
)

// authMountRoutes serve sys/auth: list, enable, read, disable and tune of
// auth methods (Vault's sys/auth, a legacy route whose data Vault copies to
// the top level too).
func (s *Server) authMountRoutes() []Route {
	return []Route{
		{Pattern: "auth", Operations: map[Operation]HandlerFunc{OpRead: s.handleListAuth}},
		{Pattern: "auth/{path:.+}/tune", Operations: map[Operation]HandlerFunc{
			OpRead: s.authTune(s.handleReadTune), OpUpdate: s.authTune(s.handleWriteTune)}},
		{Pattern: "auth/{path:.+}", Operations: map[Operation]HandlerFunc{
			OpRead: s.handleReadAuth, OpUpdate: s.handleEnableAuth, OpDelete: s.handleDisableAuth}},
	}
}

// authMethodTypes are the auth methods pkid implements; knownVaultAuth are
// others Vault ships, refused with a clearer message.
var (
	authMethodTypes = map[string]bool{"approle": true, "kubernetes": true}
	knownVaultAuth  = map[string]bool{
		"userpass": true, "ldap": true, "jwt": true, "oidc": true, "cert": true, "github": true,
		"aws": true, "azure": true, "gcp": true, "okta": true, "radius": true, "alicloud": true,
		"oci": true, "kerberos": true, "cf": true,
	}
)

func (s *Server) handleListAuth(context.Context, *Request) (*Response, error) {
	data := map[string]any{}
	for _, e := range s.mountEntries(kindAuth) {
		data[strings.TrimPrefix(e.Path, "auth/")] = s.authMountData(e)
	}
	return &Response{Data: data}, nil
}

// authMountData is a mount as sys/auth shows it: sys/mounts' shape, whose
// config carries the token type.
func (s *Server) authMountData(e MountEntry) map[string]any { return s.mountData(e) }

func authPath(raw string) (string, error) {
	p, err := normalizeMountPath(raw)
	if err != nil {
		return "", err
	}
	return "auth/" + p, nil
}

// handleReadAuth reads the auth method serving a path, by longest prefix
// as Vault's router finds it.
func (s *Server) handleReadAuth(_ context.Context, req *Request) (*Response, error) {
	path, err := authPath(req.Vars["path"])
	if err != nil {
		return nil, err
	}
	e, ok := s.matchingMountEntry(path)
	if !ok || e.Kind != kindAuth {
		return nil, errs.Invalidf("No auth engine at %s", strings.TrimPrefix(path, "auth/"))
	}
	return &Response{Data: s.authMountData(e)}, nil
}

// handleEnableAuth enables an auth method, with Vault's checks in Vault's
// order (handleEnableAuth, then core.enableCredential).
func (s *Server) handleEnableAuth(_ context.Context, req *Request) (*Response, error) {
	var in mountRequest
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	path, err := authPath(req.Vars["path"])
	if err != nil {
		return nil, err
	}
	def, max, err := s.mountTTLs(in.Config)
	if err != nil {
		return nil, err
	}
	switch in.Config.TokenType {
	case "", "default-service", "service":
	case "default-batch", "batch":
		return nil, errs.Invalidf("pkid issues service tokens only; token_type %q is not supported", in.Config.TokenType)
	default:
		return nil, errs.Invalidf("invalid value for 'token_type'")
	}
	if in.Type, err = mountType(in.Type, in.PluginName); err != nil {
		return nil, err
	}
	if in.Type == "token" {
		return nil, errs.Invalidf("token credential backend cannot be instantiated")
	}
	options := in.Options
	if options == nil {
		options = in.Config.Options
	}
	return nil, s.enableMount(MountEntry{
		Kind: kindAuth, Path: path, Type: in.Type, Description: in.Description,
		Options: options, Local: in.Local, SealWrap: in.SealWrap,
		Config: MountConfig{
			DefaultLeaseTTL: def, MaxLeaseTTL: max,
			AuditNonHMACRequestKeys:  in.Config.AuditNonHMACRequestKeys,
			AuditNonHMACResponseKeys: in.Config.AuditNonHMACResponseKeys,
		},
	})
}

// checkAuthType refuses the auth methods pkid does not implement, those
// Vault ships with a clearer message.
func checkAuthType(t string) error {
	switch {
	case authMethodTypes[t]:
		return nil
	case knownVaultAuth[t]:
		return errs.Invalidf("pkid serves only the approle, kubernetes and token auth methods; %q is not supported", t)
	}
	return errs.Invalidf("plugin not found in the catalog: %s", t)
}

// handleDisableAuth removes an auth method and, as Vault does, revokes the
// tokens its logins created.
func (s *Server) handleDisableAuth(_ context.Context, req *Request) (*Response, error) {
	path, err := authPath(req.Vars["path"])
	if err != nil {
		return nil, err
	}
	e, ok := s.mountEntry(path)
	if !ok {
		return nil, nil
	}
	if e.Builtin {
		return nil, errs.Invalidf("token credential backend cannot be disabled")
	}
	if err := s.disableMount(path); err != nil {
		return nil, err
	}
	return nil, s.tokens.RevokeByPathPrefix(path)
}

// authTune runs a sys/mounts tune handler on auth/<path>.
func (s *Server) authTune(h HandlerFunc) HandlerFunc {
	return func(ctx context.Context, req *Request) (*Response, error) {
		p, err := authPath(req.Vars["path"])
		if err != nil {
			return nil, err
		}
		req.Vars = map[string]string{"path": p}
		return h(ctx, req)
	}
}

// loginToken mints the token of a successful login, with Vault's rules: no
// root tokens from auth methods; TTL defaulting to the mount's and capped by
// the role's max and the mount's max, with Vault's warning when capped;
// "default" added unless the role says not to; the display name prefixed
// with the mount path.
func (s *Server) loginToken(req *Request, a *authmethod.Auth) (*Response, error) {
	if slices.Contains(token.SanitizePolicies(a.Policies, false), "root") {
		return nil, errs.Invalidf("auth methods cannot create root tokens")
	}
	maxTTL := req.Mount.MaxTTL
	if a.MaxTTL > 0 && a.MaxTTL < maxTTL {
		maxTTL = a.MaxTTL
	}
	e, err := s.tokens.Create(nil, token.CreateRequest{
		Policies: a.Policies, NoDefaultPolicy: a.NoDefaultPolicy, Meta: a.Metadata,
		TTL: a.TTL, DefaultTTL: req.Mount.DefaultTTL, MaxTTL: maxTTL, ExplicitMaxTTL: a.ExplicitMaxTTL,
		Period: a.Period, NumUses: a.NumUses, DisplayName: loginDisplayName(req.Mount.Path, a.DisplayName),
		VerbatimDisplayName: true, Path: "auth/" + req.Mount.Path + "login",
	})
	if err != nil {
		return nil, err
	}
	return &Response{Auth: s.authBlock(e), Warnings: e.Warnings}, nil
}

// loginDisplayName is Vault's: the mount path with "/" as "-", then the
// method's name ("approle", "kubernetes-cert-manager-cert-manager").
func loginDisplayName(mountPath, name string) string {
	source := strings.ReplaceAll(mountPath, "/", "-")
	return strings.TrimSuffix(source+name, "-")
}
