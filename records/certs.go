package records

import (
	"crypto/x509"
	"strings"

	"github.com/pkid-dev/pkid/storage"
)

// The certificate store of a mount: every issued, signed or generated
// certificate (unless no_store) kept as raw DER under its serial, as Vault
// keeps it (spec §6.1). ca writes it; revocation and tidy read it.

// CertKey is the storage key of a certificate given its canonical serial.
func CertKey(serial string) string { return CertPrefix + StorageSerial(serial) }

// PutCert records cert in the certificate store.
func PutCert(tx storage.Tx, cert *x509.Certificate) error {
	return tx.Put(CertKey(FormatSerial(cert.SerialNumber)), cert.Raw)
}

// GetCert returns the DER of the stored certificate with the given
// canonical serial, or nil.
func GetCert(tx storage.Tx, serial string) []byte { return tx.Get(CertKey(serial)) }

// DeleteCert removes the certificate with the given canonical serial.
func DeleteCert(tx storage.Tx, serial string) error { return tx.Delete(CertKey(serial)) }

// ListCerts returns stored serials in colon form, in storage order, after
// the serial after (either form) and at most limit of them when limit > 0.
func ListCerts(tx storage.Tx, after string, limit int) ([]string, error) {
	if after != "" {
		if n, err := NormalizeSerial(after); err == nil {
			after = StorageSerial(n)
		}
	}
	keys, err := tx.Keys(CertPrefix, after, limit)
	if err != nil {
		return nil, err
	}
	for i, k := range keys {
		keys[i] = strings.ReplaceAll(k, "-", ":")
	}
	return keys, nil
}

// ScanCerts calls fn for every stored certificate after the hyphen-form
// serial after, in storage order, with the serial in hyphen form and the
// DER; tidy pages through the store with it.
func ScanCerts(tx storage.Tx, after string, fn func(hyphen string, der []byte) error) error {
	return tx.Scan(CertPrefix, after, fn)
}
