package api

import (
	"fmt"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/field"
	"github.com/pkid-dev/pkid/roles"
)

// roleRequest is the body of a role write, typed as Vault's role schema
// types it. Start from defaultRoleRequest: field.Decode leaves omitted
// fields alone, so they keep Vault's defaults (POST replaces the whole role).
type roleRequest struct {
	// Name and Backend are in Vault's schema (hvac sends name); the path
	// capture decides the name.
	Name    string `json:"name"`
	Backend string `json:"backend"`

	roles.Settings

	// PolicyIdentifiers is a comma list of OIDs, or one string holding a
	// JSON array of {"oid","cps","notice"} objects (Vault accepts both).
	PolicyIdentifiers any `json:"policy_identifiers"`
}

func defaultRoleRequest() roleRequest {
	return roleRequest{Settings: roles.DefaultSettings()}
}

// role builds and validates the role the request writes under name.
func (q *roleRequest) role(name string) (*roles.Role, []string, error) {
	policies, err := policyIdentifiers(q.PolicyIdentifiers)
	if err != nil {
		return nil, nil, err
	}
	return roles.New(name, q.Settings, policies)
}

// policyIdentifiers reads policy_identifiers as Vault does: a string that is
// a JSON array of qualifier objects becomes one JSON object string per entry;
// anything else is a comma list.
func policyIdentifiers(raw any) ([]string, error) {
	if raw == nil {
		return []string{}, nil
	}
	if s, ok := raw.(string); ok {
		if list, err := roles.PolicyEntries(s); err == nil {
			return list, nil
		}
	}
	list, err := field.CommaList(raw)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, fmt.Sprintf(
			"Field validation failed: error converting input for field %q: %v", "policy_identifiers", err))
	}
	return list, nil
}
