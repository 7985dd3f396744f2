package records

import (
	"bytes"
	"time"

	"github.com/pkid-dev/pkid/storage"
)

// The CRL state of a mount: crls/config (numbering and bookkeeping) and
// each CRL's signed DER, crls/<crl id> and crls/<crl id>-delta, served as
// stored. The numbering is written with the CRLs it describes, in one
// transaction, so numbers survive restarts and never repeat.

const (
	// CRLStateKey is crls/config.
	CRLStateKey = CRLPrefix + "config"
	// CRLStateVersion is the version of the CRL state this build writes.
	CRLStateVersion = 1
	// deltaCRLSuffix marks the delta CRL of a CRL id.
	deltaCRLSuffix = "-delta"
)

// CRLState is crls/config as stored (spec §6.1): which CRL each issuer
// shares, and per CRL the next number, the number of the last complete CRL
// (the base of deltas) and the complete CRL's nextUpdate. Its tags are the
// disk format.
type CRLState struct {
	Version           int                  `json:"version"`
	IssuerCRL         map[string]string    `json:"issuer_crl"`
	Number            map[string]int64     `json:"crl_number"`
	LastComplete      map[string]int64     `json:"last_complete_number"`
	NextUpdate        map[string]time.Time `json:"next_update"`
	LastModified      time.Time            `json:"last_modified"`
	DeltaLastModified time.Time            `json:"delta_last_modified"`
}

// GetCRLState reads crls/config into s; s is left as given when there is
// none yet (a mount that never built a CRL).
func GetCRLState(tx storage.Tx, s *CRLState) error {
	_, err := storage.GetJSON(tx, CRLStateKey, s)
	return err
}

// PutCRLState writes crls/config.
func PutCRLState(tx storage.Tx, s *CRLState) error { return storage.PutJSON(tx, CRLStateKey, s) }

// RawCRLState returns a copy of the stored crls/config bytes (nil if none),
// the compare value of a build's compare-and-swap.
func RawCRLState(tx storage.Tx) []byte { return bytes.Clone(tx.Get(CRLStateKey)) }

// CRLStateIs reports whether crls/config is still exactly raw, as
// RawCRLState returned it: no other writer stored a build since.
func CRLStateIs(tx storage.Tx, raw []byte) bool { return storage.ValueIs(tx, CRLStateKey, raw) }

// CRLKey is the key of CRL id's signed DER, complete or delta.
func CRLKey(id string, delta bool) string {
	if delta {
		return CRLPrefix + id + deltaCRLSuffix
	}
	return CRLPrefix + id
}

// GetCRL returns CRL id's stored DER, or nil if it was never built.
func GetCRL(tx storage.Tx, id string, delta bool) []byte { return tx.Get(CRLKey(id, delta)) }

// PutCRL stores CRL id's signed DER.
func PutCRL(tx storage.Tx, id string, delta bool, der []byte) error {
	return tx.Put(CRLKey(id, delta), der)
}

// DeleteCRLs removes both CRLs of id, for a CRL no issuer uses any more.
func DeleteCRLs(tx storage.Tx, id string) error {
	if err := tx.Delete(CRLKey(id, false)); err != nil {
		return err
	}
	return tx.Delete(CRLKey(id, true))
}

// GetLastAutoTidy returns the stored time of the last automatic tidy, zero
// if none; it is kept so a restart does not postpone auto-tidy.
func GetLastAutoTidy(tx storage.Tx) (time.Time, error) {
	var t time.Time
	_, err := storage.GetJSON(tx, LastTidyKey, &t)
	return t, err
}

// PutLastAutoTidy records the time of the last automatic tidy.
func PutLastAutoTidy(tx storage.Tx, at time.Time) error { return storage.PutJSON(tx, LastTidyKey, at) }
