package records

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/pkid-dev/pkid/storage"
)

// The revocations of a mount (spec §6.1, §6.2), in three parts:
//
//	revoked/<serial>              RevocationRecord JSON, as Vault keeps it
//	revidx/<issuer id>/<serial>   16 bytes: revocation time, NotAfter (Unix s)
//	delta-wal/<serial>            revoked since the last complete CRL (delta)
//
// The revidx index is what CRL building and tidy read: per issuer, one small
// entry per revoked certificate, so neither parses certificates nor JSON and
// neither ever scans the certificate store. Serials are in the hyphen form of
// storage keys. Entries whose issuer is unknown sit under UnassignedIssuer.

const (
	// RevocationVersion is the version of the revocation record this build
	// writes.
	RevocationVersion = 1
	// UnassignedIssuer is the issuer ID stored for a revocation whose
	// issuer is not in the mount, so its index entries still have a range.
	UnassignedIssuer = "_"
	// revIndexValueSize is the length of an index value: two Unix times.
	revIndexValueSize = 16
)

// RevocationRecord is a revocation as stored under revoked/<serial>. It
// keeps the whole certificate so that CRLs and OCSP survive the tidying of
// certs/. Its tags are the disk format.
type RevocationRecord struct {
	Version           int       `json:"version"`
	CertificateBytes  []byte    `json:"certificate_bytes"`
	RevocationTime    int64     `json:"revocation_time"`
	RevocationTimeUTC time.Time `json:"revocation_time_utc"`
	IssuerID          string    `json:"issuer_id"`
}

// Revocation is what other packages need of a revocation record, for
// instance cert/:serial (revocation_time, revocation_time_rfc3339,
// issuer_id), without the storage details of the record.
type Revocation struct {
	Serial   string    // colon form
	Time     time.Time // UTC
	IssuerID string    // "" when the issuer is unknown
	Cert     []byte    // DER
}

// GetRevocation returns the revocation of the certificate with the given
// serial (either form), or nil if it is not revoked.
func GetRevocation(tx storage.Tx, serial string) (*Revocation, error) {
	colon, err := NormalizeSerial(serial)
	if err != nil {
		return nil, err
	}
	rec, err := GetRevocationRecord(tx, colon)
	if err != nil || rec == nil {
		return nil, err
	}
	return rec.Revocation(colon), nil
}

// Revocation is r as other packages see it. Records written before
// revocation_time_utc existed carry only the Unix time, hence the fallback.
func (r *RevocationRecord) Revocation(colon string) *Revocation {
	t := r.RevocationTimeUTC
	if t.IsZero() {
		t = time.Unix(r.RevocationTime, 0)
	}
	id := r.IssuerID
	if id == UnassignedIssuer {
		id = ""
	}
	return &Revocation{Serial: colon, Time: t.UTC(), IssuerID: id, Cert: r.CertificateBytes}
}

// RevocationKey is the storage key of the record of a canonical serial.
func RevocationKey(colon string) string { return RevokedPrefix + StorageSerial(colon) }

// GetRevocationRecord returns the stored record of a canonical serial, or
// nil if it is not revoked.
func GetRevocationRecord(tx storage.Tx, colon string) (*RevocationRecord, error) {
	var rec RevocationRecord
	ok, err := storage.GetJSON(tx, RevocationKey(colon), &rec)
	if err != nil || !ok {
		return nil, err
	}
	return &rec, nil
}

// PutRevocationRecord writes only the record, leaving the index alone: for
// callers that index it themselves, or not at all (a self-signed issuer is
// on no CRL).
func PutRevocationRecord(tx storage.Tx, colon string, rec *RevocationRecord) error {
	return storage.PutJSON(tx, RevocationKey(colon), rec)
}

// PutRevocation writes a record and its index entry together, so the index
// never names a revocation that has no record.
func PutRevocation(tx storage.Tx, colon string, rec *RevocationRecord, notAfter time.Time) error {
	if err := PutRevocationRecord(tx, colon, rec); err != nil {
		return err
	}
	return PutRevIndex(tx, rec.IssuerID, colon, RevIndexValue(rec.RevocationTimeUTC, notAfter))
}

// DeleteRevocation removes a record and its index entry under issuerID.
func DeleteRevocation(tx storage.Tx, colon, issuerID string) error {
	if err := tx.Delete(RevocationKey(colon)); err != nil {
		return err
	}
	return DeleteRevIndex(tx, issuerID, colon)
}

// ListRevocations returns revoked serials in colon form, in storage order,
// after the serial after (either form) and at most limit when limit > 0.
func ListRevocations(tx storage.Tx, after string, limit int) ([]string, error) {
	if after != "" {
		if n, err := NormalizeSerial(after); err == nil {
			after = StorageSerial(n)
		}
	}
	keys, err := tx.Keys(RevokedPrefix, after, limit)
	for i, k := range keys {
		keys[i] = strings.ReplaceAll(k, "-", ":")
	}
	return keys, err
}

// CountRevocations counts the revocation records (tidy-status counts).
func CountRevocations(tx storage.Tx) (int, error) {
	n := 0
	err := tx.Scan(RevokedPrefix, "", func(string, []byte) error { n++; return nil })
	return n, err
}

// RevIndexKey is the key of serial (colon form) in issuer's index.
func RevIndexKey(issuerID, colon string) string {
	return RevIndexPrefix + issuerID + "/" + StorageSerial(colon)
}

// RevIndexValue encodes an index entry: the revocation time and the
// certificate's NotAfter, all that CRL building and tidy need.
func RevIndexValue(revoked, notAfter time.Time) []byte {
	var v [revIndexValueSize]byte
	binary.BigEndian.PutUint64(v[:8], uint64(revoked.Unix()))
	binary.BigEndian.PutUint64(v[8:], uint64(notAfter.Unix()))
	return v[:]
}

// GetRevIndex returns the raw index entry of serial under issuerID, or nil.
func GetRevIndex(tx storage.Tx, issuerID, colon string) []byte {
	return tx.Get(RevIndexKey(issuerID, colon))
}

// PutRevIndex writes an encoded index entry (see RevIndexValue).
func PutRevIndex(tx storage.Tx, issuerID, colon string, v []byte) error {
	return tx.Put(RevIndexKey(issuerID, colon), v)
}

// DeleteRevIndex removes the index entry of serial under issuerID.
func DeleteRevIndex(tx storage.Tx, issuerID, colon string) error {
	return tx.Delete(RevIndexKey(issuerID, colon))
}

// RevIndexEntry is one decoded index entry.
type RevIndexEntry struct {
	Serial   []byte // big-endian magnitude
	Revoked  time.Time
	NotAfter time.Time
}

// DecodeRevIndex reads an index key's serial (hyphen hex) and value. buf is
// reused for the serial bytes so that a CRL build over many entries does
// not allocate per entry.
func DecodeRevIndex(hyphen string, v []byte, buf []byte) (RevIndexEntry, error) {
	if len(v) != revIndexValueSize {
		return RevIndexEntry{}, fmt.Errorf("crl: index entry %s: bad value length %d", hyphen, len(v))
	}
	serial, err := DecodeStorageSerial(hyphen, buf)
	if err != nil {
		return RevIndexEntry{}, err
	}
	return RevIndexEntry{
		Serial:   serial,
		Revoked:  time.Unix(int64(binary.BigEndian.Uint64(v[:8])), 0),
		NotAfter: time.Unix(int64(binary.BigEndian.Uint64(v[8:])), 0),
	}, nil
}

// DecodeStorageSerial turns a storage-form serial ("0a-1b") into bytes,
// appended to buf[:0]; hand-rolled so the hot path allocates nothing.
func DecodeStorageSerial(hyphen string, buf []byte) ([]byte, error) {
	buf = buf[:0]
	for i := 0; i < len(hyphen); i += 3 {
		if i+2 > len(hyphen) || (i+2 < len(hyphen) && hyphen[i+2] != '-') {
			return nil, fmt.Errorf("crl: bad stored serial %q", hyphen)
		}
		hi, ok1 := unhex(hyphen[i])
		lo, ok2 := unhex(hyphen[i+1])
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("crl: bad stored serial %q", hyphen)
		}
		buf = append(buf, hi<<4|lo)
	}
	return buf, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// ScanRevocationIndex calls fn for every index entry of one issuer, in
// storage order, with the serial in hyphen form and the raw value (decode
// it with DecodeRevIndex).
func ScanRevocationIndex(tx storage.Tx, issuerID string, fn func(hyphen string, v []byte) error) error {
	return tx.Scan(RevIndexPrefix+issuerID+"/", "", fn)
}

// ScanAllRevocationIndex calls fn for every index entry of every issuer
// after the key after (relative, "<issuer id>/<serial>"), in storage order;
// tidy pages through it by passing the last key back.
func ScanAllRevocationIndex(tx storage.Tx, after string, fn func(key string, v []byte) error) error {
	return tx.Scan(RevIndexPrefix, after, fn)
}

// IndexedIssuers lists the issuer IDs that have index entries, jumping from
// one issuer's range to the next (one seek per issuer, not per entry).
func IndexedIssuers(tx storage.Tx) ([]string, error) {
	var ids []string
	after := ""
	for {
		var next string
		err := tx.Scan(RevIndexPrefix, after, func(k string, _ []byte) error {
			next, _, _ = strings.Cut(k, "/")
			return storage.ErrStop
		})
		if err != nil {
			return nil, err
		}
		if next == "" {
			return ids, nil
		}
		ids = append(ids, next)
		after = next + "/\xff"
	}
}

// WALValue encodes a delta WAL entry: revocation time and issuer ID, what a
// delta build needs without reading the record.
func WALValue(revoked time.Time, issuerID string) []byte {
	v := make([]byte, 8, 8+len(issuerID))
	binary.BigEndian.PutUint64(v, uint64(revoked.Unix()))
	return append(v, issuerID...)
}

// DecodeWAL reads a delta WAL entry; ok is false for a malformed one.
func DecodeWAL(v []byte) (revoked time.Time, issuerID string, ok bool) {
	if len(v) < 8 {
		return time.Time{}, "", false
	}
	return time.Unix(int64(binary.BigEndian.Uint64(v[:8])), 0), string(v[8:]), true
}

// PutDeltaWAL records that serial was revoked since the last complete CRL.
func PutDeltaWAL(tx storage.Tx, colon string, revoked time.Time, issuerID string) error {
	return tx.Put(DeltaWALPrefix+StorageSerial(colon), WALValue(revoked, issuerID))
}

// DeltaWALKeys lists the pending WAL entries (serials in hyphen form), for
// a complete build to clear the ones it covers.
func DeltaWALKeys(tx storage.Tx) ([]string, error) { return tx.Keys(DeltaWALPrefix, "", 0) }

// ScanDeltaWAL calls fn for every pending WAL entry (serial in hyphen form;
// decode the value with DecodeWAL).
func ScanDeltaWAL(tx storage.Tx, fn func(hyphen string, v []byte) error) error {
	return tx.Scan(DeltaWALPrefix, "", fn)
}

// DeleteDeltaWAL removes the WAL entry of a serial in hyphen form, as
// DeltaWALKeys lists them.
func DeleteDeltaWAL(tx storage.Tx, hyphen string) error { return tx.Delete(DeltaWALPrefix + hyphen) }

// DeleteDeltaWALIfAny removes the WAL entry of a canonical serial and
// reports whether there was one, so tidy can tell delta builds.
func DeleteDeltaWALIfAny(tx storage.Tx, colon string) (bool, error) {
	key := DeltaWALPrefix + StorageSerial(colon)
	if tx.Get(key) == nil {
		return false, nil
	}
	return true, tx.Delete(key)
}
