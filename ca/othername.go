package ca

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"net"
	"net/url"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/roles"
)

// OtherName is one otherName SAN (RFC 5280 §4.2.1.6) as Vault supports it:
// an OID and a UTF8String value.
type OtherName struct {
	OID   asn1.ObjectIdentifier
	Value string
}

// String renders the name in Vault's request syntax.
func (o OtherName) String() string { return o.OID.String() + ";UTF-8:" + o.Value }

// ParseOtherSANs parses other_sans entries of the form
// "<oid>;UTF8:<value>" (the type is utf8 or utf-8, any case), keeping their
// order: roles.ParseOtherSANs' syntax, with the OID parsed for encoding.
// Errors are errs.Invalid with Vault's wording, e.g.
// `could not parse requested other SAN: expected a semicolon in other SAN "x"`.
func ParseOtherSANs(list []string) ([]OtherName, error) {
	var out []OtherName
	for _, s := range list {
		// One entry at a time, so that the first bad entry is the one
		// reported, whatever is wrong with it (Vault's order).
		parsed, err := roles.ParseOtherSANs([]string{s})
		if err != nil {
			return nil, errs.Invalidf("could not parse requested other SAN: %v", err)
		}
		oid, err := roles.ParseOID(parsed[0].OID)
		if err != nil {
			return nil, errs.Invalidf("could not parse requested other SAN: invalid OID %q in other SAN %q", parsed[0].OID, s)
		}
		out = append(out, OtherName{OID: oid, Value: parsed[0].Value})
	}
	return out, nil
}

// GeneralName tags (RFC 5280 §4.2.1.6).
const (
	tagOtherName = 0
	tagEmail     = 1
	tagDNS       = 2
	tagURI       = 6
	tagIP        = 7
)

// SANExtension builds a whole subjectAltName extension holding the other
// names first and then the DNS names, e-mail addresses, IP addresses and
// URIs. Go cannot encode otherName, so when other_sans are present Vault
// builds the extension itself, encoding each value as an IMPLICIT [0]
// wrapper around a UTF8String to match OpenSSL; this does the same.
// critical must be true when the certificate's subject is empty
// (RFC 5280 §4.2.1.6).
func SANExtension(dns, emails []string, ips []net.IP, uris []*url.URL, others []OtherName, critical bool) (pkix.Extension, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, o := range others {
			b.AddASN1(cbasn1.Tag(tagOtherName).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(o.OID)
				b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.UTF8String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(o.Value)) })
				})
			})
		}
		addName := func(tag int, v []byte) {
			b.AddASN1(cbasn1.Tag(tag).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(v) })
		}
		for _, n := range dns {
			addName(tagDNS, []byte(n))
		}
		for _, e := range emails {
			addName(tagEmail, []byte(e))
		}
		for _, ip := range ips {
			if v4 := ip.To4(); v4 != nil {
				ip = v4
			}
			addName(tagIP, ip)
		}
		for _, u := range uris {
			addName(tagURI, []byte(u.String()))
		}
	})
	der, err := b.Bytes()
	if err != nil {
		return pkix.Extension{}, fmt.Errorf("ca: marshal subjectAltName: %w", err)
	}
	return pkix.Extension{Id: oidSubjectAltName, Critical: critical, Value: der}, nil
}

var oidSubjectAltName = asn1.ObjectIdentifier{2, 5, 29, 17}

// SetOtherSANs puts the complete SAN extension into tmpl.ExtraExtensions
// when others is not empty (see SANExtension); crypto/x509 then leaves its
// own SAN encoding out. The other SAN fields of tmpl are kept as they are
// (Go ignores them in favour of the extension).
func SetOtherSANs(tmpl *x509.Certificate, others []OtherName) error {
	if len(others) == 0 {
		return nil
	}
	ext, err := SANExtension(tmpl.DNSNames, tmpl.EmailAddresses, tmpl.IPAddresses, tmpl.URIs, others,
		subjectEmpty(tmpl))
	if err != nil {
		return err
	}
	tmpl.ExtraExtensions = append(dropExtension(tmpl.ExtraExtensions, oidSubjectAltName), ext)
	return nil
}

// setCSROtherSANs is SetOtherSANs for a certificate request.
func setCSROtherSANs(tmpl *x509.CertificateRequest, others []OtherName) error {
	if len(others) == 0 {
		return nil
	}
	ext, err := SANExtension(tmpl.DNSNames, tmpl.EmailAddresses, tmpl.IPAddresses, tmpl.URIs, others, false)
	if err != nil {
		return err
	}
	tmpl.ExtraExtensions = append(dropExtension(tmpl.ExtraExtensions, oidSubjectAltName), ext)
	return nil
}

// subjectEmpty reports whether the certificate made from tmpl will have an
// empty subject: a raw subject of at most the two bytes of an empty
// SEQUENCE, or no attributes at all.
func subjectEmpty(tmpl *x509.Certificate) bool {
	if len(tmpl.RawSubject) > 0 {
		return len(tmpl.RawSubject) <= 2
	}
	return len(tmpl.Subject.ToRDNSequence()) == 0
}

func dropExtension(exts []pkix.Extension, oid asn1.ObjectIdentifier) []pkix.Extension {
	var out []pkix.Extension
	for _, e := range exts {
		if !e.Id.Equal(oid) {
			out = append(out, e)
		}
	}
	return out
}

// OtherSANsOf returns the otherName SANs with UTF8String values found in a
// list of extensions (a CSR's or a certificate's), in order. Other otherName
// value types make it fail, as in Vault.
func OtherSANsOf(exts []pkix.Extension) ([]OtherName, error) {
	var out []OtherName
	for _, ext := range exts {
		if !ext.Id.Equal(oidSubjectAltName) {
			continue
		}
		names, err := otherNamesIn(ext.Value)
		if err != nil {
			return nil, err
		}
		out = append(out, names...)
	}
	return out, nil
}

func otherNamesIn(der []byte) ([]OtherName, error) {
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return nil, fmt.Errorf("ca: malformed subjectAltName")
	}
	var out []OtherName
	for !seq.Empty() {
		var name cryptobyte.String
		var tag cbasn1.Tag
		if !seq.ReadAnyASN1(&name, &tag) {
			return nil, fmt.Errorf("ca: malformed subjectAltName entry")
		}
		if tag != cbasn1.Tag(tagOtherName).ContextSpecific().Constructed() {
			continue
		}
		var oid asn1.ObjectIdentifier
		var wrapped, value cryptobyte.String
		if !name.ReadASN1ObjectIdentifier(&oid) ||
			!name.ReadASN1(&wrapped, cbasn1.Tag(0).ContextSpecific().Constructed()) ||
			!wrapped.ReadASN1(&value, cbasn1.UTF8String) {
			return nil, fmt.Errorf("no UTF-8 string found in OtherName")
		}
		out = append(out, OtherName{OID: oid, Value: string(value)})
	}
	return out, nil
}
