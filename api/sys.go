package api

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/field"
)

// sysBackend serves sys/ (spec §2).
type sysBackend struct{ s *Server }

// sysUnauthenticated and sysSudo are Vault's special sys paths (spec §2).
var (
	sysUnauthenticated = []string{"health", "seal-status", "leader", "init", "unseal",
		"internal/ui/mounts", "internal/ui/mounts/*"}
	sysSudo = []string{"audit", "audit/*", "auth/*", "remount", "rotate*", "config/cors",
		"config/auditing/*", "leases*", "revoke-prefix/*", "revoke-force/*"}
)

func (b *sysBackend) unauthenticatedPaths() []string { return sysUnauthenticated }
func (b *sysBackend) sudoPaths() []string            { return sysSudo }
func (b *sysBackend) periodic(context.Context)       {}
func (b *sysBackend) close()                         {}

func (b *sysBackend) routes() []Route { return b.s.sysRoutes() }

func (s *Server) sysRoutes() []Route {
	rs := append(s.testDoubleRoutes(), s.securityRoutes()...) // security.go
	rs = append(rs, s.leaseRoutes()...)
	return append(rs, []Route{
		{Pattern: "mounts", Operations: map[Operation]HandlerFunc{OpRead: s.handleListMounts}},
		{Pattern: "mounts/{path:.+}/tune", Operations: map[Operation]HandlerFunc{
			OpRead: s.handleReadTune, OpUpdate: s.handleWriteTune}},
		{Pattern: "mounts/{path:.+}", Operations: map[Operation]HandlerFunc{
			OpRead: s.handleReadMount, OpUpdate: s.handleEnableMount, OpDelete: s.handleDisableMount}},
		{Pattern: "health", Unauthenticated: true, Operations: map[Operation]HandlerFunc{
			OpRead: s.handleHealth, OpHeader: s.handleHealth}},
		{Pattern: "seal-status", Unauthenticated: true, Operations: map[Operation]HandlerFunc{OpRead: s.handleSealStatus}},
		{Pattern: "leader", Unauthenticated: true, Operations: map[Operation]HandlerFunc{OpRead: s.handleLeader}},
		{Pattern: "init", Unauthenticated: true, Operations: map[Operation]HandlerFunc{
			OpRead: s.handleInitStatus, OpUpdate: s.handleInit}},
		{Pattern: "internal/ui/mounts", Unauthenticated: true, Operations: map[Operation]HandlerFunc{OpRead: s.handleUIMounts}},
		{Pattern: "internal/ui/mounts/{path:.+}", Unauthenticated: true, Operations: map[Operation]HandlerFunc{OpRead: s.handleUIMount}},
	}...)
}

// mountData renders a mount as sys/mounts lists it: TTLs are the raw
// per-mount overrides, 0 meaning the system's (spec §2.1).
func (s *Server) mountData(e MountEntry) map[string]any { return s.mountDataWith(e, false) }

// mountDataWith renders a mount, with the TTLs in force when effective is
// set: sys/internal/ui/mounts shows them so since Vault 1.16
// (hashicorp/vault#23914).
func (s *Server) mountDataWith(e MountEntry, effective bool) map[string]any {
	def, max := e.Config.DefaultLeaseTTL, e.Config.MaxLeaseTTL
	if effective {
		def, max = s.effectiveTTLs(&e)
	}
	cfg := map[string]any{
		"default_lease_ttl": field.Seconds(def),
		"max_lease_ttl":     field.Seconds(max),
		"force_no_cache":    e.Config.ForceNoCache,
	}
	addTuneExtras(cfg, e.Config)
	if e.Kind == kindAuth {
		cfg["token_type"] = "default-service"
	}
	var options any
	if e.Options != nil {
		options = e.Options
	}
	data := map[string]any{
		"type": e.Type, "description": e.Description, "accessor": e.Accessor, "uuid": e.UUID,
		"local": e.Local, "seal_wrap": e.SealWrap, "external_entropy_access": e.ExternalEntropyAccess,
		"options": options, "config": cfg, "plugin_version": "",
		"running_plugin_version": "v" + s.cfg.Version + "+builtin.vault", "running_sha256": "",
	}
	if pluginTypes[e.Type] {
		// Vault reports a deprecation status for the engines of its plugin
		// catalog, not for its core mounts (sys, cubbyhole, identity, token).
		data["deprecation_status"] = "supported"
	}
	return data
}

// pluginTypes are the mount types pkid serves that Vault ships as catalog
// plugins.
var pluginTypes = map[string]bool{"pki": true, "approle": true, "kubernetes": true}

func addTuneExtras(m map[string]any, c MountConfig) {
	if c.ListingVisibility != "" {
		m["listing_visibility"] = c.ListingVisibility
	}
	if len(c.PassthroughRequestHeaders) > 0 {
		m["passthrough_request_headers"] = c.PassthroughRequestHeaders
	}
	if len(c.AllowedResponseHeaders) > 0 {
		m["allowed_response_headers"] = c.AllowedResponseHeaders
	}
	if len(c.AuditNonHMACRequestKeys) > 0 {
		m["audit_non_hmac_request_keys"] = c.AuditNonHMACRequestKeys
	}
	if len(c.AuditNonHMACResponseKeys) > 0 {
		m["audit_non_hmac_response_keys"] = c.AuditNonHMACResponseKeys
	}
}

func (s *Server) handleListMounts(_ context.Context, req *Request) (*Response, error) {
	data := map[string]any{}
	for _, e := range s.mountEntries(kindSecret) {
		data[e.Path] = s.mountData(e)
	}
	return &Response{Data: data}, nil
}

// handleReadMount reads the mount serving a path, found by longest prefix
// as Vault does: "sys/mounts/pki/roles" reads pki/.
func (s *Server) handleReadMount(_ context.Context, req *Request) (*Response, error) {
	path, err := normalizeMountPath(req.Vars["path"])
	if err != nil {
		return nil, err
	}
	e, ok := s.matchingMountEntry(path)
	if !ok {
		return nil, errs.Invalidf("No secret engine mount at %s", path)
	}
	return &Response{Data: s.mountData(e)}, nil
}

type mountConfigInput struct {
	DefaultLeaseTTL           string            `json:"default_lease_ttl"`
	MaxLeaseTTL               string            `json:"max_lease_ttl"`
	ForceNoCache              bool              `json:"force_no_cache"`
	ListingVisibility         string            `json:"listing_visibility"`
	PassthroughRequestHeaders []string          `json:"passthrough_request_headers"`
	AllowedResponseHeaders    []string          `json:"allowed_response_headers"`
	AuditNonHMACRequestKeys   []string          `json:"audit_non_hmac_request_keys"`
	AuditNonHMACResponseKeys  []string          `json:"audit_non_hmac_response_keys"`
	Options                   map[string]string `json:"options"`
	PluginVersion             string            `json:"plugin_version"`
	TokenType                 string            `json:"token_type"`
}

type mountRequest struct {
	Type                  string            `json:"type"`
	Description           string            `json:"description"`
	Config                mountConfigInput  `json:"config"`
	Local                 bool              `json:"local"`
	SealWrap              bool              `json:"seal_wrap"`
	ExternalEntropyAccess bool              `json:"external_entropy_access"`
	Options               map[string]string `json:"options"`
	PluginName            string            `json:"plugin_name"`
	PluginVersion         string            `json:"plugin_version"`
}

// knownVaultEngines are secrets engines Vault ships that pkid does not
// implement: they get a clearer refusal than an unknown type.
var knownVaultEngines = map[string]bool{
	"kv": true, "kv-v2": true, "generic": true, "transit": true, "database": true, "ssh": true,
	"totp": true, "aws": true, "azure": true, "gcp": true, "consul": true, "nomad": true,
	"rabbitmq": true, "ldap": true, "kmip": true, "transform": true, "cubbyhole": true,
}

// handleEnableMount enables a secrets engine. Its checks run in Vault's
// order (logical_system.go handleMount, then core.mount): config TTLs, the
// type, listing visibility, then the path's overlaps, then whether the type
// exists.
func (s *Server) handleEnableMount(_ context.Context, req *Request) (*Response, error) {
	var in mountRequest
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	path, err := normalizeMountPath(req.Vars["path"])
	if err != nil {
		return nil, err
	}
	def, max, err := s.mountTTLs(in.Config)
	if err != nil {
		return nil, err
	}
	if in.Type, err = mountType(in.Type, in.PluginName); err != nil {
		return nil, err
	}
	options := in.Options
	if options == nil {
		options = in.Config.Options
	}
	if options["version"] != "" {
		return nil, errs.Invalidf("secrets engine %q does not allow setting a version", in.Type)
	}
	if err := checkListingVisibility(in.Config.ListingVisibility); err != nil {
		return nil, err
	}
	if strings.HasPrefix(path, "auth/") || strings.HasPrefix(path, "audit/") {
		return nil, errs.Invalidf("cannot mount %q", path)
	}
	e := MountEntry{
		Kind: kindSecret, Path: path, Type: in.Type, Description: in.Description,
		Options: options, Local: in.Local, SealWrap: in.SealWrap, ExternalEntropyAccess: in.ExternalEntropyAccess,
		Config: MountConfig{
			DefaultLeaseTTL: def, MaxLeaseTTL: max, ForceNoCache: in.Config.ForceNoCache,
			ListingVisibility:         in.Config.ListingVisibility,
			PassthroughRequestHeaders: in.Config.PassthroughRequestHeaders,
			AllowedResponseHeaders:    in.Config.AllowedResponseHeaders,
			AuditNonHMACRequestKeys:   in.Config.AuditNonHMACRequestKeys,
			AuditNonHMACResponseKeys:  in.Config.AuditNonHMACResponseKeys,
		},
	}
	return nil, s.enableMount(e)
}

// mountType is the type a mount request names: plugin_name counts only
// for the legacy type "plugin", as in Vault.
func mountType(t, pluginName string) (string, error) {
	switch t {
	case "":
		return "", errs.Invalidf("backend type must be specified as a string")
	case "plugin":
		if pluginName == "" {
			return "", errs.Invalidf("plugin_name must be provided for plugin backend")
		}
		return pluginName, nil
	}
	return t, nil
}

// mountTTLs reads the TTLs of a mount's config and checks them against each
// other and, when no max is given, against the system max.
func (s *Server) mountTTLs(c mountConfigInput) (def, max time.Duration, err error) {
	if def, err = parseMountTTL("default", c.DefaultLeaseTTL); err != nil {
		return 0, 0, err
	}
	if max, err = parseMountTTL("max", c.MaxLeaseTTL); err != nil {
		return 0, 0, err
	}
	if max != 0 && def > max {
		return 0, 0, errs.Invalidf("given default lease TTL greater than given max lease TTL")
	}
	if max == 0 && def > s.cfg.MaxLeaseTTL {
		return 0, 0, errs.Invalidf("given default lease TTL greater than system max lease TTL of %d",
			field.Seconds(s.cfg.MaxLeaseTTL))
	}
	return def, max, nil
}

func checkListingVisibility(v string) error {
	switch v {
	case "", "hidden", "unauth":
		return nil
	}
	return errs.Invalidf("invalid listing_visibility %s", v)
}

func checkEngineType(t string) error {
	switch {
	case t == "pki":
		return nil
	case knownVaultEngines[t]:
		return errs.Invalidf("pkid serves only the pki secrets engine; %q is not supported", t)
	}
	return errs.Invalidf("plugin not found in the catalog: %s", t)
}

// parseMountTTL reads a mount TTL string: "", "0", "0s" and "system" mean
// the system's value. The error reads as Vault's.
func parseMountTTL(which, v string) (time.Duration, error) {
	if v == "" || v == "system" {
		return 0, nil
	}
	d, err := field.ParseDuration(v)
	if err != nil {
		return 0, errs.Invalidf("unable to parse %s TTL of %s: %v", which, v, err)
	}
	if d < 0 {
		return 0, errs.Invalidf("%s lease TTL cannot be negative", which)
	}
	return d, nil
}

func (s *Server) handleDisableMount(_ context.Context, req *Request) (*Response, error) {
	path, err := normalizeMountPath(req.Vars["path"])
	if err != nil {
		return nil, err
	}
	return nil, s.disableMount(path)
}

// untunableMounts cannot be tuned in Vault.
var untunableMounts = []string{"cubbyhole/", "sys/", "audit/", "identity/"}

// tunedMount finds the mount a tune request names, by longest prefix as
// Vault's router does. write selects tune-write's wording of the errors.
func (s *Server) tunedMount(req *Request, write bool) (MountEntry, error) {
	path, err := normalizeMountPath(req.Vars["path"])
	if err != nil {
		return MountEntry{}, err
	}
	if write {
		for _, p := range untunableMounts {
			if strings.HasPrefix(path, p) {
				return MountEntry{}, errs.Invalidf("cannot tune %q", path)
			}
		}
	}
	e, ok := s.matchingMountEntry(path)
	switch {
	case !ok && write:
		return MountEntry{}, errs.Invalidf("tune of path %q failed: no mount entry found", path)
	case !ok:
		return MountEntry{}, errs.Invalidf("cannot fetch sysview for path %q", path)
	}
	return e, nil
}

// handleReadTune answers the effective TTLs in seconds (spec §2.3), with
// the optional keys only when set, as Vault's handleTuneReadCommon.
func (s *Server) handleReadTune(_ context.Context, req *Request) (*Response, error) {
	e, err := s.tunedMount(req, false)
	if err != nil {
		return nil, err
	}
	def, max := s.effectiveTTLs(&e)
	data := map[string]any{
		"description": e.Description, "default_lease_ttl": field.Seconds(def),
		"max_lease_ttl": field.Seconds(max), "force_no_cache": e.Config.ForceNoCache,
	}
	if e.ExternalEntropyAccess {
		data["external_entropy_access"] = true
	}
	if e.Kind == kindAuth {
		data["token_type"] = "default-service"
	}
	if len(e.Options) > 0 {
		data["options"] = e.Options
	}
	addTuneExtras(data, e.Config)
	return &Response{Data: data}, nil
}

type tuneRequest struct {
	DefaultLeaseTTL           string            `json:"default_lease_ttl"`
	MaxLeaseTTL               string            `json:"max_lease_ttl"`
	Description               *string           `json:"description"`
	ForceNoCache              bool              `json:"force_no_cache"`
	Options                   map[string]string `json:"options"`
	ListingVisibility         *string           `json:"listing_visibility"`
	PassthroughRequestHeaders []string          `json:"passthrough_request_headers"`
	AllowedResponseHeaders    []string          `json:"allowed_response_headers"`
	AuditNonHMACRequestKeys   []string          `json:"audit_non_hmac_request_keys"`
	AuditNonHMACResponseKeys  []string          `json:"audit_non_hmac_response_keys"`
	PluginVersion             string            `json:"plugin_version"`
	TokenType                 string            `json:"token_type"`
}

func (s *Server) handleWriteTune(_ context.Context, req *Request) (*Response, error) {
	e, err := s.tunedMount(req, true)
	if err != nil {
		return nil, err
	}
	var in tuneRequest
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	return nil, s.modifyMountEntry(e, func(e *MountEntry) error { return s.applyTune(e, in, req) })
}

// applyTune changes the tunables the request sent.
func (s *Server) applyTune(e *MountEntry, in tuneRequest, req *Request) error {
	if err := s.applyTuneTTLs(e, in); err != nil {
		return err
	}
	if in.Description != nil {
		e.Description = *in.Description
	}
	if in.Options != nil {
		e.Options = in.Options
	}
	if in.ListingVisibility != nil {
		if err := checkListingVisibility(*in.ListingVisibility); err != nil {
			return err
		}
		e.Config.ListingVisibility = *in.ListingVisibility
	}
	for _, kv := range []struct {
		key string
		dst *[]string
		v   []string
	}{
		{"passthrough_request_headers", &e.Config.PassthroughRequestHeaders, in.PassthroughRequestHeaders},
		{"allowed_response_headers", &e.Config.AllowedResponseHeaders, in.AllowedResponseHeaders},
		{"audit_non_hmac_request_keys", &e.Config.AuditNonHMACRequestKeys, in.AuditNonHMACRequestKeys},
		{"audit_non_hmac_response_keys", &e.Config.AuditNonHMACResponseKeys, in.AuditNonHMACResponseKeys},
	} {
		if req.Has(kv.key) {
			*kv.dst = kv.v
		}
	}
	return nil
}

// applyTuneTTLs changes the TTLs that were sent ("" leaves one unchanged,
// "system" resets it) and checks the pair as Vault's tuneMountTTLs does: a
// default with no max of its own against the system max, else against the
// mount's max.
func (s *Server) applyTuneTTLs(e *MountEntry, in tuneRequest) error {
	def, max := e.Config.DefaultLeaseTTL, e.Config.MaxLeaseTTL
	for _, t := range []struct {
		which string
		v     string
		dst   *time.Duration
	}{
		{"default", in.DefaultLeaseTTL, &def},
		{"max", in.MaxLeaseTTL, &max},
	} {
		if t.v == "" {
			continue
		}
		d, err := parseMountTTL(t.which, t.v)
		if err != nil {
			return err
		}
		*t.dst = d
	}
	if def == e.Config.DefaultLeaseTTL && max == e.Config.MaxLeaseTTL {
		return nil // unchanged: Vault checks nothing
	}
	switch {
	case def != 0 && max == 0 && def > s.cfg.MaxLeaseTTL:
		return errs.Invalidf("new backend default lease TTL of %d greater than system max lease TTL of %d",
			field.Seconds(def), field.Seconds(s.cfg.MaxLeaseTTL))
	case def != 0 && max != 0 && max < def:
		return errs.Invalidf("backend max lease TTL of %d would be less than backend default lease TTL of %d",
			field.Seconds(max), field.Seconds(def))
	}
	e.Config.DefaultLeaseTTL, e.Config.MaxLeaseTTL = def, max
	return nil
}

// healthCodes are sys/health's status overrides and their defaults.
var healthCodes = map[string]int{
	"activecode": 200, "standbycode": 429, "drsecondarycode": 472, "performancestandbycode": 473,
	"sealedcode": 503, "uninitcode": 501, "removedcode": 530, "haunhealthycode": 474,
}

// handleHealth answers sys/health. A query value that does not parse gets
// a bare 400 {"errors":[]}: Vault's health handler logs the error and sends
// none (http/sys_health.go).
func (s *Server) handleHealth(_ context.Context, req *Request) (*Response, error) {
	status := healthCodes["activecode"]
	for name := range healthCodes {
		v, ok := req.Data[name]
		if !ok {
			continue
		}
		code, err := strconv.Atoi(firstQueryValue(v))
		if err != nil || code < 100 || code > 999 {
			return nil, errBareBadRequest
		}
		if name == "activecode" {
			status = code
		}
	}
	for _, flag := range []string{"standbyok", "perfstandbyok"} {
		if v, ok := req.Data[flag]; ok {
			if _, err := strconv.ParseBool(firstQueryValue(v)); err != nil {
				return nil, errBareBadRequest
			}
		}
	}
	// removed_from_cluster and ha_connection_healthy come only with raft
	// storage and HA in Vault; pkid has neither.
	return &Response{Status: status, Unwrapped: map[string]any{
		"initialized": true, "sealed": false, "standby": false, "performance_standby": false,
		"replication_performance_mode": "disabled", "replication_dr_mode": "disabled",
		"server_time_utc": s.clock.Now().Unix(), "version": s.cfg.Version, "enterprise": false,
		"cluster_name": s.clusterName, "cluster_id": s.clusterID, "echo_duration_ms": 0,
		"clock_skew_ms": 0, "replication_primary_canary_age_ms": 0,
	}}, nil
}

// firstQueryValue is the first value of a query key, which is all Vault's
// sys handlers read.
func firstQueryValue(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case []any:
		if len(t) > 0 {
			s, _ := t[0].(string)
			return s
		}
	}
	return ""
}

func (s *Server) handleSealStatus(context.Context, *Request) (*Response, error) {
	return &Response{Unwrapped: map[string]any{
		"type": "shamir", "initialized": true, "sealed": false, "t": 1, "n": 1, "progress": 0,
		"nonce": "", "version": s.cfg.Version, "build_date": "2024-10-01T00:00:00Z", "migration": false,
		"cluster_name": s.clusterName, "cluster_id": s.clusterID, "recovery_seal": false,
		"storage_type": "bbolt",
	}}, nil
}

func (s *Server) handleLeader(context.Context, *Request) (*Response, error) {
	return &Response{Unwrapped: map[string]any{
		"ha_enabled": false, "is_self": false, "active_time": "0001-01-01T00:00:00Z",
		"leader_address": "", "leader_cluster_address": "", "performance_standby": false,
		"performance_standby_last_remote_wal": 0,
	}}, nil
}

func (s *Server) handleInitStatus(context.Context, *Request) (*Response, error) {
	return &Response{Unwrapped: map[string]any{"initialized": true}}, nil
}

func (s *Server) handleInit(context.Context, *Request) (*Response, error) {
	return nil, errs.Invalidf("Vault is already initialized")
}

// handleUIMount answers the preflight check `vault pki health-check` and
// `vault kv` make: the mount, if the caller may touch it (spec §2.9). In
// Vault's order: an unknown mount is the preflight 403 (so the path cannot
// enumerate mounts), then a missing or bad token is a plain permission
// denied, then a token without access is the preflight 403 again.
func (s *Server) handleUIMount(_ context.Context, req *Request) (*Response, error) {
	path, err := normalizeMountPath(req.Vars["path"])
	if err != nil {
		return nil, err
	}
	preflight := errs.Newf(errs.Denied,
		"preflight capability check returned 403, please ensure client's policies grant access to path %q", path)
	e, ok := s.matchingMountEntry(path)
	if !ok {
		return nil, preflight
	}
	if req.Token == nil {
		return nil, errPermissionDenied
	}
	if !s.mayTouchPath(req.Token, e.Path) {
		return nil, preflight
	}
	data := s.mountDataWith(e, true)
	data["path"] = strings.TrimPrefix(e.Path, "auth/")
	return &Response{Data: data}, nil
}

// handleUIMounts lists the mounts the caller may see: with a token, those
// it has any capability on, in full; without one, only the mounts tuned
// listing_visibility=unauth, as type, description and options. A token
// that is sent but invalid is refused.
func (s *Server) handleUIMounts(_ context.Context, req *Request) (*Response, error) {
	authed := requestToken(req.HTTP) != ""
	if authed && req.Token == nil {
		return nil, errPermissionDenied
	}
	secret, auth := map[string]any{}, map[string]any{}
	for _, kind := range []string{kindSecret, kindAuth} {
		for _, e := range s.mountEntries(kind) {
			key, into := e.Path, secret
			if kind == kindAuth {
				key, into = strings.TrimPrefix(e.Path, "auth/"), auth
			}
			switch {
			case authed && (e.Config.ListingVisibility == "unauth" || s.mayTouchPath(req.Token, e.Path)):
				into[key] = s.mountDataWith(e, true)
			case !authed && e.Config.ListingVisibility == "unauth":
				var options any
				if e.Options != nil {
					options = e.Options
				}
				into[key] = map[string]any{"type": e.Type, "description": e.Description, "options": options}
			}
		}
	}
	return &Response{Data: map[string]any{"secret": secret, "auth": auth}}, nil
}
