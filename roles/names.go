package roles

import (
	"regexp"
	"strings"

	"golang.org/x/net/idna"
)

// Identity is who asks: identity templates in allowed_domains and
// allowed_uri_sans are filled from it, and the legacy
// allow_token_displayname compares against DisplayName.
type Identity struct {
	DisplayName string
	EntityID    string
	EntityName  string
	// EntityMetadata backs {{identity.entity.metadata.<key>}}.
	EntityMetadata map[string]string
}

// The hostname grammar Vault checks names against (cert_util.go): labels of
// letters, digits and inner hyphens, an optional trailing dot, and an
// optional wildcard left label of the RFC 6125 §6.4.3 forms *, *x, x*, x*y.
const labelPattern = `([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\-]*[a-zA-Z0-9])`

var (
	hostnameRE = regexp.MustCompile(`^(` + labelPattern + `\.)*` + labelPattern + `\.?$`)
	wildLabel  = `(\*|\*` + labelPattern + `|` + labelPattern + `\*|` + labelPattern + `\*` + labelPattern + `)`
	// wildLabelRE checks the left label of a wildcard name.
	wildLabelRE = regexp.MustCompile(`^` + wildLabel + `$`)
	// sanHostRE decides whether a CN or alt_names entry is DNS-shaped and
	// so becomes a DNS SAN (anything else is silently left out). It is
	// Vault's hostnameRegex: the only wildcard it admits is a whole "*."
	// left label, so a partial wildcard such as b*z.example.com (a name the
	// policy may allow) stays in the CN but never becomes a DNS SAN.
	sanHostRE = regexp.MustCompile(`^(\*\.)?(` + labelPattern + `\.)*` + labelPattern + `\.?$`)
)

// hostProfile is Vault's IDNA conversion: strict (STD3) and length-checked.
// A Profile is immutable and safe for concurrent use.
var hostProfile = idna.New(idna.StrictDomainName(true), idna.VerifyDNSLength(true))

func toASCII(name string) (string, error) { return hostProfile.ToASCII(name) }

// NameAllowed applies the name policy of spec §4.2 to one name (a CN, DNS
// SAN or e-mail SAN).
func (r *Role) NameAllowed(name string, id Identity) bool {
	n, ok := r.reduce(name)
	if !ok {
		return false
	}
	if r.AllowAnyName {
		return true
	}
	if r.localhostAllowed(n) || r.displayNameAllowed(n, id) {
		return true
	}
	return r.domainAllowed(n, id)
}

// reducedName is a name split as §4.2 steps 1–3 split it.
type reducedName struct {
	full        string // the name as requested
	reduced     string // after removing the e-mail local part and wildcard label
	emailDomain string
	wildLabel   string
	isEmail     bool
	isWildcard  bool
}

// reduce splits off the e-mail local part and the wildcard label, and
// applies the checks that even allow_any_name does not lift: wildcard rules
// and enforce_hostnames (§4.2 steps 1–4).
func (r *Role) reduce(name string) (reducedName, bool) {
	n := reducedName{full: name, reduced: name, emailDomain: name}
	if strings.Contains(name, "@") {
		_, domain, _ := strings.Cut(name, "@")
		if strings.Contains(domain, "@") {
			return n, false
		}
		n.reduced, n.emailDomain, n.isEmail = domain, domain, true
	}
	if strings.Contains(n.reduced, "*") {
		// allow_wildcard_certificates=false wins even over allow_any_name.
		if !r.AllowWildcardCertificates || strings.Count(n.reduced, "*") > 1 {
			return n, false
		}
		n.isWildcard = true
		label, rest, found := strings.Cut(n.reduced, ".")
		if found && strings.Contains(rest, "*") {
			return n, false
		}
		n.wildLabel, n.reduced = label, rest
	}
	if n.isEmail && n.isWildcard {
		return n, false
	}
	if r.EnforceHostnames {
		if n.reduced != "" {
			conv, err := toASCII(n.reduced)
			if err != nil || !hostnameRE.MatchString(conv) {
				return n, false
			}
		}
		if n.isWildcard && !wildLabelRE.MatchString(n.wildLabel) {
			return n, false
		}
	}
	return n, true
}

func (r *Role) localhostAllowed(n reducedName) bool {
	if !r.AllowLocalhost {
		return false
	}
	for _, base := range []string{"localhost", "localdomain"} {
		if n.reduced == base || (n.isEmail && n.emailDomain == base) {
			return true
		}
		if r.AllowSubdomains && (strings.HasSuffix(n.reduced, "."+base) || (n.isWildcard && n.reduced == base)) {
			return true
		}
	}
	return false
}

// displayNameAllowed is the legacy allow_token_displayname rule: the token's
// display name (or its subdomains) is an allowed name.
func (r *Role) displayNameAllowed(n reducedName, id Identity) bool {
	if !r.AllowTokenDisplayName || id.DisplayName == "" {
		return false
	}
	if n.full == id.DisplayName {
		return true
	}
	if !r.AllowSubdomains {
		return false
	}
	if n.isEmail {
		if _, domain, ok := strings.Cut(id.DisplayName, "@"); ok && !strings.Contains(domain, "@") &&
			strings.HasSuffix(n.reduced, "."+domain) {
			return true
		}
	}
	return strings.HasSuffix(n.reduced, "."+id.DisplayName) || (n.isWildcard && n.reduced == id.DisplayName)
}

// domainAllowed matches against allowed_domains (§4.2 step 7). Bare matches
// compare the full name, case-insensitively; subdomain suffixes are
// case-sensitive; globs match the full name with * crossing dots,
// case-insensitively since Vault 1.15 (hashicorp/vault#22126; OpenBao forked
// before it and still compares case-sensitively).
func (r *Role) domainAllowed(n reducedName, id Identity) bool {
	for _, d := range r.AllowedDomains {
		if d == "" {
			continue
		}
		if r.AllowedDomainsTemplate && isTemplate(d) {
			var ok bool
			if d, ok = expandTemplate(d, id); !ok {
				continue // an identity the template cannot be filled from never matches
			}
		}
		if r.AllowBareDomains && (strings.EqualFold(n.full, d) || (n.isEmail && strings.EqualFold(n.emailDomain, d))) {
			return true
		}
		if r.AllowSubdomains && (strings.HasSuffix(n.reduced, "."+d) || (n.isWildcard && strings.EqualFold(n.reduced, d))) {
			return true
		}
		if r.AllowGlobDomains && strings.Contains(d, "*") && glob(strings.ToLower(d), strings.ToLower(n.full)) {
			return true
		}
	}
	return false
}

// CommonNameAllowed is the CN rule of spec §4.3: no check at all under
// cn_validations=disabled; otherwise the name policy, then an e-mail CN
// needs "email" and any other CN needs "hostname" in cn_validations.
func (r *Role) CommonNameAllowed(cn string, id Identity) bool {
	if len(r.CNValidations) == 1 && r.CNValidations[0] == "disabled" {
		return true
	}
	if !r.NameAllowed(cn, id) {
		return false
	}
	if len(r.CNValidations) == 0 {
		return true
	}
	want := "hostname"
	if strings.Contains(cn, "@") {
		want = "email"
	}
	for _, v := range r.CNValidations {
		if v == want {
			return true
		}
	}
	return false
}

// firstRefused returns the first name the policy refuses, or "".
func (r *Role) firstRefused(names []string, id Identity) string {
	for _, n := range names {
		if !r.NameAllowed(n, id) {
			return n
		}
	}
	return ""
}

// SANHostname converts a CN or alt_names entry to its DNS SAN form
// (punycode). ok is false for names that are not DNS-shaped, which are left
// out silently; err is the IDNA error Vault answers with 400. Leaf plans and
// CA requests (package ca) share it, as Vault's one hostnameRegex serves
// both.
func SANHostname(name string) (ascii string, ok bool, err error) {
	conv, err := toASCII(name)
	if err != nil {
		return "", false, err
	}
	return conv, sanHostRE.MatchString(conv), nil
}
