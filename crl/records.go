package crl

import (
	"encoding/binary"
	"fmt"
	"github.com/pkid-dev/pkid/records"
	"strings"
	"time"

	"github.com/pkid-dev/pkid/storage"
)

// Storage layout of revocation (mount-relative keys):
//
//	revoked/<serial>              record JSON, as Vault keeps it (spec §6.1):
//	                              the certificate, the time, the issuer
//	revidx/<issuer id>/<serial>   16 bytes: revocation time, NotAfter (Unix s)
//	delta-wal/<serial>            revoked since the last complete CRL (delta)
//	crls/config                   CRL numbering and bookkeeping (crlState)
//	crls/<crl id>[-delta]         the built CRLs, DER, served as stored
//
// The revidx index is what CRL building and tidy read: per issuer, one small
// entry per revoked certificate, so neither parses certificates nor JSON and
// neither ever scans the certificate store. Serials are in the hyphen form of
// storage keys. Entries whose issuer is unknown sit under "_".
const (
	revokedPrefix  = records.RevokedPrefix
	indexPrefix    = records.RevIndexPrefix
	walPrefix      = records.DeltaWALPrefix
	crlStateKey    = records.CRLPrefix + "config"
	crlDERPrefix   = records.CRLPrefix
	deltaSuffix    = "-delta"
	unassignedID   = "_"
	recordVersion  = 1
	indexValueSize = 16
)

// record is a revocation record (spec §6.1, §6.2). It keeps the whole
// certificate so that CRLs and OCSP survive the tidying of certs/.
type record struct {
	Version           int       `json:"version"`
	CertificateBytes  []byte    `json:"certificate_bytes"`
	RevocationTime    int64     `json:"revocation_time"`
	RevocationTimeUTC time.Time `json:"revocation_time_utc"`
	IssuerID          string    `json:"issuer_id"`
}

// Revocation is what other packages need of a revocation record, for
// instance cert/:serial (revocation_time, revocation_time_rfc3339,
// issuer_id).
type Revocation struct {
	Serial   string    // colon form
	Time     time.Time // UTC
	IssuerID string    // "" when the issuer is unknown
	Cert     []byte    // DER
}

// GetRevocation returns the revocation of the certificate with the given
// serial (either form), or nil if it is not revoked.
func GetRevocation(tx storage.Tx, serial string) (*Revocation, error) {
	colon, err := records.NormalizeSerial(serial)
	if err != nil {
		return nil, err
	}
	rec, err := getRecord(tx, colon)
	if err != nil || rec == nil {
		return nil, err
	}
	return rec.revocation(colon), nil
}

func (r *record) revocation(colon string) *Revocation {
	t := r.RevocationTimeUTC
	if t.IsZero() {
		t = time.Unix(r.RevocationTime, 0)
	}
	id := r.IssuerID
	if id == unassignedID {
		id = ""
	}
	return &Revocation{Serial: colon, Time: t.UTC(), IssuerID: id, Cert: r.CertificateBytes}
}

func recordKey(colon string) string { return revokedPrefix + records.StorageSerial(colon) }

func getRecord(tx storage.Tx, colon string) (*record, error) {
	var rec record
	ok, err := storage.GetJSON(tx, recordKey(colon), &rec)
	if err != nil || !ok {
		return nil, err
	}
	return &rec, nil
}

// indexKey is the key of serial (colon form) in issuer's index.
func indexKey(issuerID, colon string) string {
	return indexPrefix + issuerID + "/" + records.StorageSerial(colon)
}

func indexValue(revoked, notAfter time.Time) []byte {
	var v [indexValueSize]byte
	binary.BigEndian.PutUint64(v[:8], uint64(revoked.Unix()))
	binary.BigEndian.PutUint64(v[8:], uint64(notAfter.Unix()))
	return v[:]
}

// indexEntry is one decoded index entry.
type indexEntry struct {
	serial   []byte // big-endian magnitude
	revoked  time.Time
	notAfter time.Time
}

// decodeIndex reads an index key's serial (hyphen hex) and value; buf is
// reused for the serial bytes.
func decodeIndex(hyphen string, v []byte, buf []byte) (indexEntry, error) {
	if len(v) != indexValueSize {
		return indexEntry{}, fmt.Errorf("crl: index entry %s: bad value length %d", hyphen, len(v))
	}
	serial, err := decodeSerial(hyphen, buf)
	if err != nil {
		return indexEntry{}, err
	}
	return indexEntry{
		serial:   serial,
		revoked:  time.Unix(int64(binary.BigEndian.Uint64(v[:8])), 0),
		notAfter: time.Unix(int64(binary.BigEndian.Uint64(v[8:])), 0),
	}, nil
}

// decodeSerial turns a storage-form serial ("0a-1b") into bytes, appended
// to buf[:0].
func decodeSerial(hyphen string, buf []byte) ([]byte, error) {
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

// putRevocation writes a record and its index entry.
func putRevocation(tx storage.Tx, colon string, rec *record, notAfter time.Time) error {
	if err := storage.PutJSON(tx, recordKey(colon), rec); err != nil {
		return err
	}
	return tx.Put(indexKey(rec.IssuerID, colon), indexValue(rec.RevocationTimeUTC, notAfter))
}

// deleteRevocation removes a record and its index entry.
func deleteRevocation(tx storage.Tx, colon, issuerID string) error {
	if err := tx.Delete(recordKey(colon)); err != nil {
		return err
	}
	return tx.Delete(indexKey(issuerID, colon))
}

// scanIndex calls fn for every index entry of one issuer, in storage order.
func scanIndex(tx storage.Tx, issuerID string, fn func(hyphen string, v []byte) error) error {
	return tx.Scan(indexPrefix+issuerID+"/", "", fn)
}

// indexedIssuers lists the issuer IDs that have index entries, jumping from
// one issuer's range to the next (one seek per issuer, not per entry).
func indexedIssuers(tx storage.Tx) ([]string, error) {
	var ids []string
	after := ""
	for {
		var next string
		err := tx.Scan(indexPrefix, after, func(k string, _ []byte) error {
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

// walValue is a delta WAL entry: revocation time and issuer ID.
func walValue(revoked time.Time, issuerID string) []byte {
	v := make([]byte, 8, 8+len(issuerID))
	binary.BigEndian.PutUint64(v, uint64(revoked.Unix()))
	return append(v, issuerID...)
}

func decodeWAL(v []byte) (time.Time, string, bool) {
	if len(v) < 8 {
		return time.Time{}, "", false
	}
	return time.Unix(int64(binary.BigEndian.Uint64(v[:8])), 0), string(v[8:]), true
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
