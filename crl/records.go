package crl

import (
	"github.com/pkid-dev/pkid/records"
	"github.com/pkid-dev/pkid/storage"
)

// The revocation records, their per-issuer index and the delta WAL are
// package records' (records/revocations.go); crl keeps only the rules.

// Revocation is records.Revocation, kept under this name for callers that
// reach revocations through crl (ca's cert/:serial).
type Revocation = records.Revocation

// GetRevocation returns the revocation of the certificate with the given
// serial (either form), or nil if it is not revoked; see
// records.GetRevocation, which callers outside crl may use directly.
func GetRevocation(tx storage.Tx, serial string) (*Revocation, error) {
	return records.GetRevocation(tx, serial)
}
