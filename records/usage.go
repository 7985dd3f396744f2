package records

import (
	"fmt"
	"sort"
	"strings"
)

// Usage is the set of things an issuer may be used for (spec §3.1 issuer
// usage). read-only is implicit and always present. It lives here rather
// than in ca because the issuer record stores it by name; ca re-exports it.
type Usage uint8

// Issuer usages.
const (
	UsageIssuing     Usage = 1 << iota // issuing-certificates
	UsageCRLSigning                    // crl-signing
	UsageOCSPSigning                   // ocsp-signing

	UsageAll = UsageIssuing | UsageCRLSigning | UsageOCSPSigning
)

// usageNames maps each usage name to its bit; read-only has none. It is a
// constant table, never written.
var usageNames = map[string]Usage{
	"read-only":            0,
	"issuing-certificates": UsageIssuing,
	"crl-signing":          UsageCRLSigning,
	"ocsp-signing":         UsageOCSPSigning,
}

// Has reports whether every usage of want is in u.
func (u Usage) Has(want Usage) bool { return u&want == want }

// String renders the usages as Vault does: names sorted and comma-joined,
// always including read-only.
func (u Usage) String() string {
	var names []string
	for name, bit := range usageNames {
		if u.Has(bit) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

// MarshalText stores usages by name, so the disk format does not depend on
// the bit values.
func (u Usage) MarshalText() ([]byte, error) { return []byte(u.String()), nil }

// UnmarshalText reads stored usages.
func (u *Usage) UnmarshalText(b []byte) error {
	var names []string
	if len(b) > 0 {
		names = strings.Split(string(b), ",")
	}
	v, err := ParseUsage(names)
	*u = v
	return err
}

// ParseUsage reads usage names (read-only, issuing-certificates,
// crl-signing, ocsp-signing).
func ParseUsage(names []string) (Usage, error) {
	var u Usage
	for i, n := range names {
		bit, ok := usageNames[n]
		if !ok {
			return 0, fmt.Errorf("unknown name for usage at index %v: %v", i, n)
		}
		u |= bit
	}
	return u, nil
}
