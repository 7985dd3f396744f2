// Package audit is pkid's audit devices and the broker the HTTP layer calls
// around every request: LogRequest before the handler runs, LogResponse
// after. Entries have the shape of Vault's JSON audit log (audit/format.go in
// Vault): one JSON object per line, "type" "request" or "response", with
// secrets replaced by "hmac-sha256:<hex>" keyed by a per-device salt.
//
// Vault's rule holds: when devices are enabled and none of them records an
// entry, the broker returns an error and the request must fail rather than
// go unrecorded.
package audit

import "time"

// Input is what the HTTP layer knows of one request (and, for LogResponse,
// its answer). Values are the clear ones: the device hashes.
type Input struct {
	// Auth is the caller's token; nil is an unauthenticated request.
	Auth *Auth
	// Request is required.
	Request *Request
	// Response is the handler's answer (LogResponse only; nil for errors).
	Response *Response
	// Error is the error text answered to the client, if any.
	Error string
	// NonHMACRequestKeys and NonHMACResponseKeys name data keys whose
	// values are logged in clear (the mount's audit_non_hmac_*_keys tune).
	NonHMACRequestKeys  []string
	NonHMACResponseKeys []string
}

// Auth describes a token, the caller's or one a login created.
type Auth struct {
	ClientToken   string
	Accessor      string
	DisplayName   string
	Policies      []string
	TokenPolicies []string
	Metadata      map[string]string
	EntityID      string
	// TokenType is "service" or "batch"; empty logs as "default" as Vault
	// does for requests without a token.
	TokenType     string
	TTL           time.Duration
	IssueTime     time.Time
	NumUses       int
	RemainingUses int
	// PolicyResults is the ACL decision for the request (request Auth only).
	PolicyResults *PolicyResults
}

// PolicyResults is an ACL decision as the audit log shows it.
type PolicyResults struct {
	Allowed          bool
	GrantingPolicies []string
}

// Request is one logical request.
type Request struct {
	ID                  string
	Operation           string
	MountPoint          string // "pki_int/"
	MountType           string // "pki", "system", "token", "approle"...
	MountAccessor       string
	ClientToken         string
	ClientTokenAccessor string
	Path                string
	Data                map[string]any
	RemoteAddr          string
	RemotePort          int
	Headers             map[string][]string
}

// Response is a handler's answer.
type Response struct {
	// Auth is the token a login or token creation returned.
	Auth     *Auth
	Data     map[string]any
	Warnings []string
	LeaseID  string
	Redirect string
	Headers  map[string][]string
}

// The wire shapes, field for field as Vault writes them (omitempty
// everywhere, as Vault does).

type requestEntry struct {
	Time    string    `json:"time,omitempty"`
	Type    string    `json:"type,omitempty"`
	Auth    *wireAuth `json:"auth,omitempty"`
	Request *wireReq  `json:"request,omitempty"`
	Error   string    `json:"error,omitempty"`
}

type responseEntry struct {
	Time     string    `json:"time,omitempty"`
	Type     string    `json:"type,omitempty"`
	Auth     *wireAuth `json:"auth,omitempty"`
	Request  *wireReq  `json:"request,omitempty"`
	Response *wireResp `json:"response,omitempty"`
	Error    string    `json:"error,omitempty"`
}

type wireReq struct {
	ID                  string              `json:"id,omitempty"`
	Operation           string              `json:"operation,omitempty"`
	MountPoint          string              `json:"mount_point,omitempty"`
	MountType           string              `json:"mount_type,omitempty"`
	MountAccessor       string              `json:"mount_accessor,omitempty"`
	ClientToken         string              `json:"client_token,omitempty"`
	ClientTokenAccessor string              `json:"client_token_accessor,omitempty"`
	Namespace           *wireNamespace      `json:"namespace,omitempty"`
	Path                string              `json:"path,omitempty"`
	Data                map[string]any      `json:"data,omitempty"`
	RemoteAddr          string              `json:"remote_address,omitempty"`
	RemotePort          int                 `json:"remote_port,omitempty"`
	Headers             map[string][]string `json:"headers,omitempty"`
}

type wireNamespace struct {
	ID string `json:"id,omitempty"`
}

type wireResp struct {
	Auth          *wireAuth           `json:"auth,omitempty"`
	MountPoint    string              `json:"mount_point,omitempty"`
	MountType     string              `json:"mount_type,omitempty"`
	MountAccessor string              `json:"mount_accessor,omitempty"`
	Secret        *wireSecret         `json:"secret,omitempty"`
	Data          map[string]any      `json:"data,omitempty"`
	Warnings      []string            `json:"warnings,omitempty"`
	Redirect      string              `json:"redirect,omitempty"`
	Headers       map[string][]string `json:"headers,omitempty"`
}

type wireSecret struct {
	LeaseID string `json:"lease_id,omitempty"`
}

type wireAuth struct {
	ClientToken    string             `json:"client_token,omitempty"`
	Accessor       string             `json:"accessor,omitempty"`
	DisplayName    string             `json:"display_name,omitempty"`
	Policies       []string           `json:"policies,omitempty"`
	TokenPolicies  []string           `json:"token_policies,omitempty"`
	PolicyResults  *wirePolicyResults `json:"policy_results,omitempty"`
	Metadata       map[string]string  `json:"metadata,omitempty"`
	NumUses        int                `json:"num_uses,omitempty"`
	RemainingUses  int                `json:"remaining_uses,omitempty"`
	EntityID       string             `json:"entity_id,omitempty"`
	TokenType      string             `json:"token_type,omitempty"`
	TokenTTL       int64              `json:"token_ttl,omitempty"`
	TokenIssueTime string             `json:"token_issue_time,omitempty"`
}

type wirePolicyResults struct {
	Allowed          bool         `json:"allowed"`
	GrantingPolicies []wirePolicy `json:"granting_policies,omitempty"`
}

type wirePolicy struct {
	Name          string `json:"name,omitempty"`
	NamespaceID   string `json:"namespace_id,omitempty"`
	NamespacePath string `json:"namespace_path,omitempty"`
	Type          string `json:"type"`
}
