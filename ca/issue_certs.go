package ca

import (
	"github.com/pkid-dev/pkid/records"
	"time"

	"github.com/pkid-dev/pkid/crl"
	"github.com/pkid-dev/pkid/storage"
)

// StoredCert is a certificate of the mount's store and its revocation
// state, what cert/:serial answers.
type StoredCert struct {
	DER []byte
	// RevokedAt is zero for a certificate that is not revoked.
	RevokedAt time.Time
	// RevocationIssuerID is the issuer recorded with the revocation, when
	// known.
	RevocationIssuerID string
}

// StoredCert returns the stored certificate with the given serial (colon
// or hyphen form, any case), or nil when there is none. A serial that is
// not hex pairs is simply not found.
func (a *Authority) StoredCert(serial string) (*StoredCert, error) {
	colon, err := records.NormalizeSerial(serial)
	if err != nil {
		return nil, nil
	}
	var out *StoredCert
	err = a.cfg.Space.View(func(tx storage.Tx) error {
		der := records.GetCert(tx, colon)
		if der == nil {
			return nil
		}
		out = &StoredCert{DER: der}
		rev, err := crl.GetRevocation(tx, colon)
		if err != nil || rev == nil {
			return err
		}
		out.RevokedAt, out.RevocationIssuerID = rev.Time, rev.IssuerID
		return nil
	})
	return out, err
}

// ListCerts lists stored serials in colon form, in storage order, after
// after (either serial form; it need not exist) and at most limit of them
// when limit > 0. no_store certificates are never in the store.
func (a *Authority) ListCerts(after string, limit int) ([]string, error) {
	var keys []string
	err := a.cfg.Space.View(func(tx storage.Tx) error {
		var err error
		keys, err = records.ListCerts(tx, after, limit)
		return err
	})
	return keys, err
}
