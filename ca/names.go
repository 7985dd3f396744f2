package ca

import (
	"crypto/x509/pkix"
	"net"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/roles"
)

// SubjectFields are the subject attributes of the CA request blocks
// (spec §3.0 block CA): comma lists, duplicates removed keeping order.
type SubjectFields struct {
	roles.Subject
	// SerialNumber is the subject serialNumber attribute (OID 2.5.4.5), not
	// the certificate serial.
	SerialNumber string
}

// NameFields are the names of a CA certificate or CSR request.
type NameFields struct {
	CommonName string
	// AltNames is one comma-separated string (not a list field in Vault):
	// entries with '@' become e-mail SANs, hostname-shaped entries DNS
	// SANs, anything else is dropped.
	AltNames          string
	IPSANs            []string
	URISANs           []string
	OtherSANs         []string
	ExcludeCNFromSANs bool
}

// names are parsed SANs.
type names struct {
	dns    []string
	emails []string
	ips    []net.IP
	uris   []*url.URL
	others []OtherName
}

// parseNames builds the SANs of a CA request (no role restrictions apply):
// the CN unless excluded, alt_names, ip_sans, uri_sans, other_sans. As in
// Vault (strutil.ParseDedupAndSortStrings, RemoveDuplicates), alt_names
// entries are trimmed, empty ones dropped, and the DNS and e-mail SANs end
// up de-duplicated and sorted (OpenBao keeps their order; Vault does not).
func parseNames(cn string, f NameFields) (names, error) {
	var n names
	add := func(s string) error {
		if strings.Contains(s, "@") {
			n.emails = append(n.emails, s)
			return nil
		}
		ascii, ok, err := roles.SANHostname(s)
		if err != nil {
			return errs.Invalidf("%v", err)
		}
		if ok {
			n.dns = append(n.dns, ascii)
		}
		return nil
	}
	if cn != "" && !f.ExcludeCNFromSANs {
		if err := add(cn); err != nil {
			return names{}, err
		}
	}
	for _, s := range dedupSorted(splitAltNames(f.AltNames)) {
		if err := add(s); err != nil {
			return names{}, err
		}
	}
	n.dns = dedupSorted(n.dns)
	n.emails = dedupSorted(n.emails)
	for _, s := range f.IPSANs {
		ip := net.ParseIP(s)
		if ip == nil {
			return names{}, errs.Invalidf("the value %q is not a valid IP address", s)
		}
		n.ips = append(n.ips, ip)
	}
	for _, s := range f.URISANs {
		u, err := url.Parse(s)
		if err != nil {
			return names{}, errs.Invalidf("the provided URI Subject Alternative Name %q is not a valid URI", s)
		}
		n.uris = append(n.uris, u)
	}
	others, err := ParseOtherSANs(f.OtherSANs)
	if err != nil {
		return names{}, err
	}
	n.others = others
	return n, nil
}

func splitAltNames(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// dedupSorted trims the entries, drops empty and repeated ones and sorts
// the rest (go-secure-stdlib strutil.RemoveDuplicates, which Vault applies
// to alt_names and to the final DNS and e-mail SAN lists).
func dedupSorted(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// subject builds a CA subject: CN, serialNumber and the attribute lists.
func (s SubjectFields) subject(cn string) pkix.Name { return s.Subject.Name(cn, s.SerialNumber) }
