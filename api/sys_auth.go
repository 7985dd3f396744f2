package api

import (
	"context"
	"slices"
	"strings"

	"pkid/api/authmethod"
	"pkid/api/token"
	"pkid/errs"
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

// authMountData is a mount as sys/auth shows it: sys/mounts' shape, with
// the token type in its config.
func (s *Server) authMountData(e MountEntry) map[string]any {
	d := s.mountData(e)
	if cfg, ok := d["config"].(map[string]any); ok {
		cfg["token_type"] = "default-service"
	}
	return d
}

func authPath(raw string) (string, error) {
	p, err := normalizeMountPath(raw)
	if err != nil {
		return "", err
	}
	return "auth/" + p, nil
}

func (s *Server) handleReadAuth(_ context.Context, req *Request) (*Response, error) {
	path, err := authPath(req.Vars["path"])
	if err != nil {
		return nil, err
	}
	e, ok := s.mountEntry(path)
	if !ok || e.Kind != kindAuth {
		return nil, errs.Invalidf("No auth engine at %s", strings.TrimPrefix(path, "auth/"))
	}
	return &Response{Data: s.authMountData(e)}, nil
}

func (s *Server) handleEnableAuth(_ context.Context, req *Request) (*Response, error) {
	var in mountRequest
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	path, err := authPath(req.Vars["path"])
	if err != nil {
		return nil, err
	}
	if in.Type == "" {
		in.Type = in.PluginName
	}
	switch {
	case in.Type == "":
		return nil, errs.Invalidf("backend type must be specified as a string")
	case in.Type == "token":
		return nil, errs.Invalidf("token credential backend cannot be instantiated")
	case knownVaultAuth[in.Type]:
		return nil, errs.Invalidf("pkid serves only the approle, kubernetes and token auth methods; %q is not supported", in.Type)
	case !authMethodTypes[in.Type]:
		return nil, errs.Invalidf("plugin not found in the catalog: %s", in.Type)
	}
	def, err := parseMountTTL("default", in.Config.DefaultLeaseTTL)
	if err != nil {
		return nil, err
	}
	max, err := parseMountTTL("max", in.Config.MaxLeaseTTL)
	if err != nil {
		return nil, err
	}
	if def > 0 && max > 0 && def > max {
		return nil, errs.Invalidf("given default lease TTL greater than given max lease TTL")
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
// the role's max and the mount's max; "default" added unless the role says
// not to; the display name prefixed with the mount path.
func (s *Server) loginToken(req *Request, a *authmethod.Auth) (*Response, error) {
	if slices.Contains(a.Policies, "root") {
		return nil, errs.Invalidf("auth methods cannot create root tokens")
	}
	def, mountMax := req.Mount.DefaultTTL, req.Mount.MaxTTL
	maxTTL := mountMax
	if a.MaxTTL > 0 && a.MaxTTL < maxTTL {
		maxTTL = a.MaxTTL
	}
	ttl := a.TTL
	if ttl == 0 {
		ttl = def
	}
	if ttl > maxTTL {
		ttl = maxTTL
	}
	e, err := s.tokens.Create(nil, token.CreateRequest{
		Policies: a.Policies, NoDefaultPolicy: a.NoDefaultPolicy, Meta: a.Metadata,
		TTL: ttl, MaxTTL: maxTTL, ExplicitMaxTTL: a.ExplicitMaxTTL, Period: a.Period,
		NumUses: a.NumUses, DisplayName: loginDisplayName(req.Mount.Path, a.DisplayName),
		VerbatimDisplayName: true, Path: "auth/" + req.Mount.Path + "login",
	})
	if err != nil {
		return nil, err
	}
	return &Response{Auth: s.authBlock(e)}, nil
}

// loginDisplayName is Vault's: the mount path with "/" as "-", then the
// method's name ("approle", "kubernetes-cert-manager-cert-manager").
func loginDisplayName(mountPath, name string) string {
	source := strings.ReplaceAll(mountPath, "/", "-")
	return strings.TrimSuffix(source+name, "-")
}
