package ca

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"

	"github.com/pkid-dev/pkid/errs"
)

// Output formats of the format field (spec §5.9).
const (
	FormatPEM       = "pem"
	FormatDER       = "der"
	FormatPEMBundle = "pem_bundle"
)

// ParseFormat validates a format field: "" means pem; anything but pem, der
// and pem_bundle is errs.Invalid with Vault's text.
func ParseFormat(format string) (string, error) {
	switch format {
	case "":
		return FormatPEM, nil
	case FormatPEM, FormatDER, FormatPEMBundle:
		return format, nil
	}
	return "", errs.Invalidf(`the "format" path parameter must be "pem", "der", or "pem_bundle"`)
}

// CertPEM renders a certificate's DER as PEM without a trailing newline:
// the form of certificate, issuing_ca and ca_chain fields in issue, sign and
// generation answers.
func CertPEM(der []byte) string { return pemText("CERTIFICATE", der) }

// IssuerPEM renders a certificate's DER as PEM with its trailing newline:
// the stored form of an issuer, returned as is by issuer/:ref and
// issuer/:ref/pem.
func IssuerPEM(der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// EncodeCert renders a certificate for a response field in format: base64
// DER for "der", PEM without trailing newline otherwise.
func EncodeCert(format string, der []byte) string {
	if format == FormatDER {
		return base64.StdEncoding.EncodeToString(der)
	}
	return CertPEM(der)
}

// EncodeCerts is EncodeCert over a chain.
func EncodeCerts(format string, certs []*x509.Certificate) []string {
	out := make([]string, len(certs))
	for i, c := range certs {
		out[i] = EncodeCert(format, c.Raw)
	}
	return out
}

// PEMBundle joins PEM texts with "\n" as Vault builds pem_bundle values
// (each part without its trailing newline).
func PEMBundle(parts ...string) string {
	trimmed := make([]string, 0, len(parts))
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			trimmed = append(trimmed, p)
		}
	}
	return strings.Join(trimmed, "\n")
}

// CSRPEM renders a certificate request's DER as PEM without a trailing
// newline, the csr field of intermediate/generate.
func CSRPEM(der []byte) string { return pemText("CERTIFICATE REQUEST", der) }

// EncodeCSR renders a CSR for the csr field in format (base64 DER for
// "der").
func EncodeCSR(format string, der []byte) string {
	if format == FormatDER {
		return base64.StdEncoding.EncodeToString(der)
	}
	return CSRPEM(der)
}

// pemText renders one PEM block (RFC 7468: 64-character lines) without the
// trailing newline, as Vault returns PEM in JSON fields; every PEM field of
// a response goes through it. It is encoding/pem's output in a single
// allocation: pem.EncodeToMemory's streaming encoder made a third of the
// issue path's garbage.
func pemText(blockType string, der []byte) string {
	const lineLen, chunk = 64, 48 // 48 bytes encode to one 64-character line
	n := base64.StdEncoding.EncodedLen(len(der))
	var b strings.Builder
	b.Grow(len("-----BEGIN -----\n") + 2*len(blockType) + n + n/lineLen + 1 + len("-----END -----"))
	b.WriteString("-----BEGIN ")
	b.WriteString(blockType)
	b.WriteString("-----\n")
	var line [lineLen]byte
	for len(der) > 0 {
		m := min(chunk, len(der))
		base64.StdEncoding.Encode(line[:], der[:m])
		b.Write(line[:base64.StdEncoding.EncodedLen(m)])
		b.WriteByte('\n')
		der = der[m:]
	}
	b.WriteString("-----END ")
	b.WriteString(blockType)
	b.WriteString("-----")
	return b.String()
}
