package roles

import "strings"

// glob reports whether subject matches pattern, where * matches any run of
// characters (dots included) and nothing else is special: the semantics of
// the ryanuber/go-glob matcher Vault uses for domains, URI SANs, other SANs,
// serial numbers and user IDs. Matching is case-sensitive.
func glob(pattern, subject string) bool {
	if pattern == "*" {
		return true
	}
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return subject == pattern
	}
	// The first part anchors at the start, the last at the end; the ones in
	// between are found leftmost-first, which is optimal for * alone.
	first, last := parts[0], parts[len(parts)-1]
	if !strings.HasPrefix(subject, first) {
		return false
	}
	rest := subject[len(first):]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(rest, mid)
		if i < 0 {
			return false
		}
		rest = rest[i+len(mid):]
	}
	return len(rest) >= len(last) && strings.HasSuffix(rest, last)
}

// isTemplate reports whether an allowed_domains / allowed_uri_sans entry is
// an identity template (Vault's ValidateIdentityTemplate: it holds "{{").
func isTemplate(s string) bool { return strings.Contains(s, "{{") }

// expandTemplate fills the identity templates in s: {{identity.entity.id}},
// {{identity.entity.name}} and {{identity.entity.metadata.<key>}}. ok is
// false when any template cannot be filled (no entity, unknown key, or a
// template pkid does not know, such as group and alias lookups that need an
// identity store); such an entry then matches nothing.
func expandTemplate(s string, id Identity) (string, bool) {
	var b strings.Builder
	for {
		start := strings.Index(s, "{{")
		if start < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		end := strings.Index(s[start:], "}}")
		if end < 0 {
			return "", false
		}
		value, ok := identityValue(strings.TrimSpace(s[start+2:start+end]), id)
		if !ok {
			return "", false
		}
		b.WriteString(s[:start])
		b.WriteString(value)
		s = s[start+end+2:]
	}
}

func identityValue(key string, id Identity) (string, bool) {
	if id.EntityID == "" {
		return "", false
	}
	switch {
	case key == "identity.entity.id":
		return id.EntityID, true
	case key == "identity.entity.name":
		return id.EntityName, id.EntityName != ""
	case strings.HasPrefix(key, "identity.entity.metadata."):
		v, ok := id.EntityMetadata[strings.TrimPrefix(key, "identity.entity.metadata.")]
		return v, ok && v != ""
	}
	return "", false
}
