package crl

import (
	"crypto/x509"
	"fmt"
	"math/big"
	"strings"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/storage"
)

// The certificate store of a mount: every issued, signed or generated
// certificate (unless no_store) kept as raw DER under its serial, as Vault
// keeps it (spec §6.1). Issuance writes it, revocation and tidy read it, so
// it lives here with the rest of a certificate's lifecycle.
const certPrefix = "certs/"

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

// storageSerial is the hyphen form used in storage keys.
func storageSerial(colon string) string { return strings.ReplaceAll(colon, ":", "-") }

// CertKey is the storage key of a certificate given its canonical serial.
func CertKey(serial string) string { return certPrefix + storageSerial(serial) }

// PutCert records cert in the certificate store.
func PutCert(tx storage.Tx, cert *x509.Certificate) error {
	return tx.Put(CertKey(FormatSerial(cert.SerialNumber)), cert.Raw)
}

// GetCert returns the DER of the stored certificate with the given
// canonical serial, or nil.
func GetCert(tx storage.Tx, serial string) []byte { return tx.Get(CertKey(serial)) }

// ListCerts returns stored serials in colon form, in storage order, after
// the serial after (either form) and at most limit of them when limit > 0.
func ListCerts(tx storage.Tx, after string, limit int) ([]string, error) {
	if after != "" {
		if n, err := NormalizeSerial(after); err == nil {
			after = storageSerial(n)
		}
	}
	keys, err := tx.Keys(certPrefix, after, limit)
	if err != nil {
		return nil, err
	}
	for i, k := range keys {
		keys[i] = strings.ReplaceAll(k, "-", ":")
	}
	return keys, nil
}
