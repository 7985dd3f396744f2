package records

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/pkid-dev/pkid/errs"
)

// FormatSerial renders a certificate serial as Vault does everywhere in its
// API: the big-endian magnitude bytes as lower-case hex pairs joined by ':'.
func FormatSerial(n *big.Int) string {
	b := n.Bytes()
	if len(b) == 0 {
		b = []byte{0}
	}
	var sb strings.Builder
	for i, c := range b {
		if i > 0 {
			sb.WriteByte(':')
		}
		fmt.Fprintf(&sb, "%02x", c)
	}
	return sb.String()
}

// NormalizeSerial accepts a serial in colon or hyphen form (or bare hex) in
// any case and returns the canonical colon form. Anything that is not hex
// pairs is an errs.Invalid error.
func NormalizeSerial(s string) (string, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.ReplaceAll(t, "-", ":")
	var pairs []string
	if strings.Contains(t, ":") {
		pairs = strings.Split(t, ":")
	} else {
		if len(t)%2 == 1 {
			t = "0" + t
		}
		for i := 0; i+2 <= len(t); i += 2 {
			pairs = append(pairs, t[i:i+2])
		}
	}
	if len(pairs) == 0 {
		return "", errs.Invalidf("invalid serial number %q", s)
	}
	for i, p := range pairs {
		if len(p) == 1 {
			p = "0" + p
			pairs[i] = p
		}
		if len(p) != 2 || !isHex(p[0]) || !isHex(p[1]) {
			return "", errs.Invalidf("invalid serial number %q", s)
		}
	}
	return strings.Join(pairs, ":"), nil
}

func isHex(c byte) bool { return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') }

// StorageSerial is the hyphen form of a canonical serial used in keys.
func StorageSerial(colon string) string { return strings.ReplaceAll(colon, ":", "-") }
