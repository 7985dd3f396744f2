package audit

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// hmacPrefix marks a hashed value, as in Vault's salt.GetIdentifiedHMAC.
const hmacPrefix = "hmac-sha256:"

// formatConfig is how one device renders entries.
type formatConfig struct {
	raw                bool // log_raw: nothing is hashed
	hmacAccessor       bool // hmac_accessor: token accessors are hashed
	elideListResponses bool // elide_list_responses: list keys become counts
	prefix             string
}

// hasher computes a device's HMACs. The key is the device's salt.
type hasher struct{ key []byte }

// Hash returns "hmac-sha256:<hex>" of s under the device's salt.
func (h hasher) Hash(s string) string {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte(s))
	return hmacPrefix + hex.EncodeToString(m.Sum(nil))
}

// formatRequest renders the request entry of in as one JSON line.
func formatRequest(cfg formatConfig, h hasher, in *Input, now time.Time) ([]byte, error) {
	req, err := wireRequest(cfg, h, in)
	if err != nil {
		return nil, err
	}
	e := requestEntry{
		Time:    now.UTC().Format(time.RFC3339Nano),
		Type:    "request",
		Auth:    wireAuthOf(cfg, h, in.Auth),
		Request: req,
		Error:   in.Error,
	}
	return encodeLine(cfg.prefix, e)
}

// formatResponse renders the response entry of in as one JSON line.
func formatResponse(cfg formatConfig, h hasher, in *Input, now time.Time) ([]byte, error) {
	req, err := wireRequest(cfg, h, in)
	if err != nil {
		return nil, err
	}
	e := responseEntry{
		Time:    now.UTC().Format(time.RFC3339Nano),
		Type:    "response",
		Auth:    wireAuthOf(cfg, h, in.Auth),
		Request: req,
		Error:   in.Error,
	}
	resp := in.Response
	if resp == nil {
		resp = &Response{}
	}
	e.Response = &wireResp{
		MountPoint:    in.Request.MountPoint,
		MountType:     in.Request.MountType,
		MountAccessor: in.Request.MountAccessor,
		Warnings:      resp.Warnings,
		Redirect:      resp.Redirect,
		Headers:       resp.Headers,
	}
	if resp.Auth != nil {
		e.Response.Auth = wireAuthOf(cfg, h, resp.Auth)
	}
	if resp.LeaseID != "" {
		e.Response.Secret = &wireSecret{LeaseID: resp.LeaseID}
	}
	isList := in.Request.Operation == "list"
	e.Response.Data, err = hashData(cfg, h, resp.Data, in.NonHMACResponseKeys, cfg.elideListResponses && isList)
	if err != nil {
		return nil, err
	}
	return encodeLine(cfg.prefix, e)
}

func wireRequest(cfg formatConfig, h hasher, in *Input) (*wireReq, error) {
	r := in.Request
	data, err := hashData(cfg, h, r.Data, in.NonHMACRequestKeys, false)
	if err != nil {
		return nil, err
	}
	return &wireReq{
		ID:                  r.ID,
		Operation:           r.Operation,
		MountPoint:          r.MountPoint,
		MountType:           r.MountType,
		MountAccessor:       r.MountAccessor,
		ClientToken:         hashToken(cfg, h, r.ClientToken),
		ClientTokenAccessor: hashAccessor(cfg, h, r.ClientTokenAccessor),
		Namespace:           &wireNamespace{ID: "root"},
		Path:                r.Path,
		Data:                data,
		RemoteAddr:          r.RemoteAddr,
		RemotePort:          r.RemotePort,
		Headers:             r.Headers,
	}, nil
}

func hashToken(cfg formatConfig, h hasher, s string) string {
	if s == "" || cfg.raw {
		return s
	}
	return h.Hash(s)
}

func hashAccessor(cfg formatConfig, h hasher, s string) string {
	if s == "" || cfg.raw || !cfg.hmacAccessor {
		return s
	}
	return h.Hash(s)
}

// wireAuthOf renders an Auth. Vault always writes the caller's auth object,
// even for an anonymous request, where it holds only the token type.
func wireAuthOf(cfg formatConfig, h hasher, a *Auth) *wireAuth {
	if a == nil {
		return &wireAuth{TokenType: "default"}
	}
	w := &wireAuth{
		ClientToken:   hashToken(cfg, h, a.ClientToken),
		Accessor:      hashAccessor(cfg, h, a.Accessor),
		DisplayName:   a.DisplayName,
		Policies:      a.Policies,
		TokenPolicies: a.TokenPolicies,
		Metadata:      a.Metadata,
		NumUses:       a.NumUses,
		RemainingUses: a.RemainingUses,
		EntityID:      a.EntityID,
		TokenType:     a.TokenType,
		TokenTTL:      int64(a.TTL / time.Second),
	}
	if w.TokenType == "" {
		w.TokenType = "default"
	}
	if !a.IssueTime.IsZero() {
		w.TokenIssueTime = a.IssueTime.Format(time.RFC3339)
	}
	if pr := a.PolicyResults; pr != nil {
		w.PolicyResults = &wirePolicyResults{Allowed: pr.Allowed}
		for _, name := range pr.GrantingPolicies {
			w.PolicyResults.GrantingPolicies = append(w.PolicyResults.GrantingPolicies,
				wirePolicy{Name: name, NamespaceID: "root", Type: "acl"})
		}
	}
	return w
}

func encodeLine(prefix string, v any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(prefix)
	enc := json.NewEncoder(&buf) // Encode appends the newline
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("audit: encode entry: %w", err)
	}
	return buf.Bytes(), nil
}

// hashData returns a deep copy of data with every string value replaced by
// its HMAC, as Vault's audit/hashstructure.go does: map keys are kept,
// numbers and booleans are kept, and a string is left clear when its
// innermost enclosing key is in nonHMAC. Values are first put through JSON,
// so handler types (time.Time, []string, structs) log as clients see them.
func hashData(cfg formatConfig, h hasher, data map[string]any, nonHMAC []string, elide bool) (map[string]any, error) {
	if data == nil {
		return nil, nil
	}
	cp, err := jsonCopy(data)
	if err != nil {
		return nil, err
	}
	if elide {
		elideList(cp)
	}
	if cfg.raw {
		return cp, nil
	}
	skip := make(map[string]bool, len(nonHMAC))
	for _, k := range nonHMAC {
		skip[k] = true
	}
	for k, v := range cp {
		cp[k] = hashValue(h, v, k, skip)
	}
	return cp, nil
}

func hashValue(h hasher, v any, key string, skip map[string]bool) any {
	switch t := v.(type) {
	case string:
		if skip[key] {
			return t
		}
		return h.Hash(t)
	case map[string]any:
		for k, e := range t {
			t[k] = hashValue(h, e, k, skip)
		}
		return t
	case []any:
		for i, e := range t {
			t[i] = hashValue(h, e, key, skip)
		}
		return t
	default:
		return v
	}
}

// jsonCopy deep-copies data through JSON, keeping numbers exact.
func jsonCopy(data map[string]any) (map[string]any, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("audit: copy data: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var out map[string]any
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("audit: copy data: %w", err)
	}
	return out, nil
}

// elideList replaces a list answer's keys and key_info with their counts
// (Vault's elide_list_responses).
func elideList(data map[string]any) {
	if keys, ok := data["keys"].([]any); ok {
		data["keys"] = len(keys)
	}
	if info, ok := data["key_info"].(map[string]any); ok {
		data["key_info"] = len(info)
	}
}
