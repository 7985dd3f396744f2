package kubernetes

import (
	"strings"
	"time"

	"github.com/pkid-dev/pkid/api/authmethod"
	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/storage"
)

// RoleRequest is the body of POST role/:name. Absent fields keep their
// value on update.
type RoleRequest struct {
	authmethod.TokenFields
	BoundServiceAccountNames             *[]string `json:"bound_service_account_names"`
	BoundServiceAccountNamespaces        *[]string `json:"bound_service_account_namespaces"`
	BoundServiceAccountNamespaceSelector *string   `json:"bound_service_account_namespace_selector"`
	Audience                             *string   `json:"audience"`
	AliasNameSource                      *string   `json:"alias_name_source"`
}

// RoleExists tells create from update, for the ACL's existence check.
func (b *Backend) RoleExists(name string) (bool, error) {
	r, err := authmethod.ViewRole[role](b.space, name)
	return r != nil, err
}

// WriteRole creates or updates a role; maxTTL is the mount's max lease TTL.
// It returns Vault's warnings.
func (b *Backend) WriteRole(name string, req RoleRequest, maxTTL time.Duration) ([]string, error) {
	if name == "" {
		return nil, errs.Invalidf("missing role name")
	}
	var warnings []string
	err := b.space.Update(func(tx storage.Tx) error {
		r, err := authmethod.GetRole[role](tx, name)
		if err != nil {
			return err
		}
		if r == nil {
			r = &role{Version: 1, Name: strings.ToLower(name), AliasNameSource: aliasSourceUID}
		}
		if warnings, err = applyRole(r, req, maxTTL); err != nil {
			return err
		}
		return storage.PutJSON(tx, authmethod.RoleKey(r.Name), r)
	})
	return warnings, err
}

func applyRole(r *role, req RoleRequest, maxTTL time.Duration) ([]string, error) {
	if err := r.TokenParams.Apply(req.TokenFields); err != nil {
		return nil, err
	}
	if maxTTL > 0 && r.TokenPeriod > maxTTL {
		return nil, errs.Invalidf("token period of '%q' is greater than the backend's maximum lease TTL of '%q'", r.TokenPeriod.String(), maxTTL.String())
	}
	var warnings []string
	if maxTTL > 0 && r.TokenMaxTTL > maxTTL {
		warnings = append(warnings, "max_ttl is greater than the system or backend mount's maximum TTL value; issued tokens' max TTL value will be truncated")
	}
	if req.BoundServiceAccountNames != nil {
		r.ServiceAccountNames = trimmed(*req.BoundServiceAccountNames)
	}
	if len(r.ServiceAccountNames) == 0 {
		return nil, errs.Invalidf("%q can not be empty", "bound_service_account_names")
	}
	if len(r.ServiceAccountNames) > 1 && contains(r.ServiceAccountNames, "*") {
		return nil, errs.Invalidf("can not mix %q with values", "*")
	}
	if req.BoundServiceAccountNamespaces != nil {
		r.ServiceAccountNamespaces = trimmed(*req.BoundServiceAccountNamespaces)
	}
	if req.BoundServiceAccountNamespaceSelector != nil && *req.BoundServiceAccountNamespaceSelector != "" {
		// Selecting namespaces by label needs a Namespace API client.
		return nil, errs.Invalidf("bound_service_account_namespace_selector is not supported by pkid; use bound_service_account_namespaces")
	}
	if len(r.ServiceAccountNamespaces) == 0 {
		return nil, errs.Invalidf("%q can not be empty if %q is not set", "bound_service_account_namespaces", "bound_service_account_namespace_selector")
	}
	if len(r.ServiceAccountNamespaces) > 1 && contains(r.ServiceAccountNamespaces, "*") {
		return nil, errs.Invalidf("can not mix %q with values", "*")
	}
	if req.Audience != nil {
		r.Audience = *req.Audience
	}
	if strings.TrimSpace(r.Audience) == "" {
		warnings = append(warnings, "This role does not specify an audience. In a future version of Vault, specifying an audience will be required.")
	}
	if req.AliasNameSource != nil {
		r.AliasNameSource = *req.AliasNameSource
		if r.AliasNameSource == "" || r.AliasNameSource == "default" {
			r.AliasNameSource = aliasSourceUID
		}
	}
	if r.AliasNameSource != aliasSourceUID && r.AliasNameSource != aliasSourceName {
		return nil, errs.Invalidf("invalid alias_name_source %q, must be one of [%s %s]", r.AliasNameSource, aliasSourceUID, aliasSourceName)
	}
	return warnings, nil
}

// ReadRole returns a role as GET role/:name shows it, or nil.
func (b *Backend) ReadRole(name string) (map[string]any, error) {
	r, err := authmethod.ViewRole[role](b.space, name)
	if err != nil || r == nil {
		return nil, err
	}
	data := map[string]any{
		"bound_service_account_names":              r.ServiceAccountNames,
		"bound_service_account_namespaces":         r.ServiceAccountNamespaces,
		"bound_service_account_namespace_selector": "",
		"audience":          r.Audience,
		"alias_name_source": r.AliasNameSource,
	}
	r.TokenParams.Data(data)
	return data, nil
}

// ListRoles returns the role names, sorted.
func (b *Backend) ListRoles() ([]string, error) { return authmethod.ListRoles(b.space) }

// DeleteRole removes a role; a missing one is not an error.
func (b *Backend) DeleteRole(name string) error {
	return b.space.Update(func(tx storage.Tx) error { return tx.Delete(authmethod.RoleKey(name)) })
}

func trimmed(in []string) []string {
	var out []string
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// globMatch is Vault's strutil.GlobbedStringsMatch-style list check used for
// bound names (go-glob: "*" matches any run of characters, anywhere).
func globMatch(pattern, s string) bool {
	if !strings.Contains(pattern, "*") {
		return pattern == s
	}
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, last)
}

func containsGlob(list []string, s string) bool {
	for _, p := range list {
		if globMatch(p, s) {
			return true
		}
	}
	return false
}
