package roles

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/pkid-dev/pkid/errs"
)

// OtherName is an otherName SAN with a UTF8String value (RFC 5280
// §4.2.1.6), the only kind Vault issues.
type OtherName struct {
	OID   string
	Value string
}

// String is the form Vault reads and writes: "<oid>;UTF-8:<value>".
func (o OtherName) String() string { return o.OID + ";UTF-8:" + o.Value }

// ParseOtherSANs reads other_sans entries, "<oid>;<type>:<value>" with type
// utf8 or utf-8 (any case), worded as Vault's parseOtherSANs.
func ParseOtherSANs(entries []string) ([]OtherName, error) {
	out := make([]OtherName, 0, len(entries))
	for _, e := range entries {
		oid, rest, ok := strings.Cut(e, ";")
		if !ok {
			return nil, fmt.Errorf("expected a semicolon in other SAN %q", e)
		}
		typ, value, ok := strings.Cut(rest, ":")
		if !ok {
			return nil, fmt.Errorf("expected a colon in other SAN %q", e)
		}
		if !strings.EqualFold(typ, "utf8") && !strings.EqualFold(typ, "utf-8") {
			return nil, fmt.Errorf("only utf8 other SANs are supported; found non-supported type in other SAN %q", e)
		}
		out = append(out, OtherName{OID: oid, Value: value})
	}
	return out, nil
}

// checkAllowedOtherSANs validates allowed_other_sans at role write: empty,
// the single "*", or well-formed entries.
func checkAllowedOtherSANs(allowed []string) error {
	if len(allowed) == 0 || (len(allowed) == 1 && allowed[0] == "*") {
		return nil
	}
	if _, err := ParseOtherSANs(allowed); err != nil {
		return errs.Invalidf("error parsing allowed_other_sans: %v", err)
	}
	return nil
}

// otherSANsRefused returns the first requested other SAN the role refuses:
// its OID alone when the OID is not allowed at all, or the OID and value
// when no allowed glob for that OID matches.
func (r *Role) otherSANsRefused(requested []OtherName) (badOID, badValue string, err error) {
	if len(r.AllowedOtherSANs) == 1 && r.AllowedOtherSANs[0] == "*" {
		return "", "", nil
	}
	allowed, err := ParseOtherSANs(r.AllowedOtherSANs)
	if err != nil {
		return "", "", fmt.Errorf("error parsing role's allowed SANs: %w", err)
	}
	for _, q := range requested {
		known, matched := false, false
		for _, a := range allowed {
			if a.OID != q.OID {
				continue
			}
			known = true
			if glob(a.Value, q.Value) {
				matched = true
				break
			}
		}
		switch {
		case !known:
			return q.OID, "", nil
		case !matched:
			return q.OID, q.Value, nil
		}
	}
	return "", "", nil
}

// uriAllowed matches a URI SAN against allowed_uri_sans globs (templates
// filled when allowed_uri_sans_template is set).
func (r *Role) uriAllowed(uri string, id Identity) bool {
	for _, pattern := range r.AllowedURISANs {
		if r.AllowedURISANsTemplate && isTemplate(pattern) {
			var ok bool
			if pattern, ok = expandTemplate(pattern, id); !ok {
				continue
			}
		}
		if glob(pattern, uri) {
			return true
		}
	}
	return false
}

// serialNumberAllowed matches a subject serialNumber against
// allowed_serial_numbers: exact or glob, case-sensitive; empty allows none.
func (r *Role) serialNumberAllowed(s string) bool {
	for _, p := range r.AllowedSerialNumbers {
		if p == "" {
			continue
		}
		if p == s || (strings.Contains(p, "*") && glob(p, s)) {
			return true
		}
	}
	return false
}

// userIDAllowed matches a UID against allowed_user_ids: exact
// (case-insensitive) or glob; empty allows none.
func (r *Role) userIDAllowed(uid string) bool {
	for _, p := range r.AllowedUserIDs {
		if strings.EqualFold(p, uid) {
			return true
		}
	}
	for _, p := range r.AllowedUserIDs {
		if p != "" && strings.Contains(p, "*") && glob(p, uid) {
			return true
		}
	}
	return false
}

var oidSubjectAltName = asn1.ObjectIdentifier{2, 5, 29, 17}

// CSROtherNames reads the otherName entries of a CSR's SAN extension. Only
// UTF8String values are understood, as in Vault; any other value is an
// error ("could not parse requested other SAN: ...").
func CSROtherNames(exts []pkix.Extension) ([]OtherName, error) {
	var out []OtherName
	for _, ext := range exts {
		if !ext.Id.Equal(oidSubjectAltName) {
			continue
		}
		names, err := otherNamesOf(ext.Value)
		if err != nil {
			return nil, err
		}
		out = append(out, names...)
	}
	return out, nil
}

// otherNamesOf walks a GeneralNames SEQUENCE and decodes each [0] otherName:
// SEQUENCE { type-id OID, value [0] EXPLICIT UTF8String }. Vault encodes the
// [0] wrapper of the otherName itself IMPLICIT, as OpenSSL does.
func otherNamesOf(der []byte) ([]OtherName, error) {
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, errors.New("x509: malformed subject alternative name extension")
	}
	var out []OtherName
	for !seq.Empty() {
		var gn cryptobyte.String
		var tag cbasn1.Tag
		if !seq.ReadAnyASN1(&gn, &tag) {
			return nil, errors.New("x509: malformed general name")
		}
		if tag != cbasn1.Tag(0).ContextSpecific().Constructed() {
			continue
		}
		var oid asn1.ObjectIdentifier
		var explicit, value cryptobyte.String
		var valueTag cbasn1.Tag
		if !gn.ReadASN1ObjectIdentifier(&oid) ||
			!gn.ReadASN1(&explicit, cbasn1.Tag(0).ContextSpecific().Constructed()) ||
			!explicit.ReadAnyASN1(&value, &valueTag) {
			return nil, errors.New("could not parse requested other SAN: malformed otherName")
		}
		if valueTag != cbasn1.UTF8String {
			return nil, errors.New("no UTF-8 string found in OtherName")
		}
		out = append(out, OtherName{OID: oid.String(), Value: string(value)})
	}
	return out, nil
}
