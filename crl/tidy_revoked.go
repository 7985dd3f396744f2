package crl

import (
	"context"
	"crypto/x509"
	"fmt"
	"github.com/pkid-dev/pkid/records"
	"strings"

	"github.com/pkid-dev/pkid/storage"
)

// revVerdict is the revocation pass's decision on one index entry.
type revVerdict struct {
	issuerID string // the index prefix the entry sits under
	colon    string
	expired  bool   // delete record, index entry and certificate
	reassoc  bool   // the issuer is unknown: missing_issuer_cert_count
	newID    string // where the entry belongs now (reassoc only)
}

// tidyRevocations is the revocation pass (spec §6.4): with
// tidy_revoked_certs it deletes revocations of certificates expired past
// revoked_safety_buffer (they leave the CRL at the rebuild that follows);
// with tidy_revoked_cert_issuer_associations it re-associates revocations
// whose issuer is unknown. It walks the per-issuer index, not the records.
func (m *Manager) tidyRevocations(ctx context.Context, run tidyRun) (int, error) {
	var issuers []Issuer
	err := m.space.View(func(tx storage.Tx) error {
		var err error
		issuers, _, err = m.issuers.Issuers(tx)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("crl: tidy: list issuers: %w", err)
	}
	known := map[string]bool{}
	for _, iss := range issuers {
		known[iss.ID] = true
	}
	page := run.pageSize
	if run.pause > 0 {
		page = 1
	}
	after, checked, removed := "", 0, 0
	for {
		if err := pause(ctx, run.pause); err != nil {
			return removed, err
		}
		cands, seen, err := m.judgeRevocations(&after, page, run, known, issuers)
		if err != nil {
			return removed, err
		}
		checked += seen
		m.tidy.update(func(s *TidyStatus) {
			s.Message = fmt.Sprintf("Tidying revoked certificates: checking certificate %d of %d on current page; total revoked certs checked: %d", seen, seen, checked)
		})
		n, err := m.applyRevocationVerdicts(ctx, cands, run)
		removed += n
		if err != nil || seen < page {
			return removed, err
		}
	}
}

// judgeRevocations reads one page of the index after *after.
func (m *Manager) judgeRevocations(after *string, page int, run tidyRun, known map[string]bool, issuers []Issuer) ([]revVerdict, int, error) {
	var cands []revVerdict
	seen := 0
	now := m.clock.Now()
	err := m.space.View(func(tx storage.Tx) error {
		return records.ScanAllRevocationIndex(tx, *after, func(k string, v []byte) error {
			*after = k
			seen++
			issuerID, hyphen, _ := strings.Cut(k, "/")
			e, err := records.DecodeRevIndex(hyphen, v, nil)
			if err != nil {
				m.log.Warn("crl: tidy: unreadable revocation index entry", "key", k, "error", err)
				return nil
			}
			verdict := revVerdict{issuerID: issuerID, colon: strings.ReplaceAll(hyphen, "-", ":")}
			verdict.expired = run.RevokedCerts && e.NotAfter.Add(run.revokedSafety).Before(now)
			verdict.reassoc = run.IssuerAssocs && !known[issuerID]
			if verdict.reassoc && !verdict.expired {
				verdict.newID = reassociate(tx, verdict.colon, issuers)
			}
			if verdict.expired || verdict.reassoc {
				cands = append(cands, verdict)
			}
			if seen >= page {
				return storage.ErrStop
			}
			return nil
		})
	})
	if err != nil {
		return nil, 0, fmt.Errorf("crl: tidy: read revocations: %w", err)
	}
	return cands, seen, nil
}

// reassociate finds the current issuer of a revoked certificate, or
// records.UnassignedIssuer ("" when the record is gone).
func reassociate(tx storage.Tx, colon string, issuers []Issuer) string {
	rec, err := records.GetRevocationRecord(tx, colon)
	if err != nil || rec == nil {
		return ""
	}
	cert, err := x509.ParseCertificate(rec.CertificateBytes)
	if err != nil {
		return records.UnassignedIssuer
	}
	c := &candidate{cert: cert, colon: colon}
	c.associate(issuers)
	return c.issuerID
}

// applyRevocationVerdicts writes the revocation pass's decisions in chunks,
// skipping entries that changed since they were read.
func (m *Manager) applyRevocationVerdicts(ctx context.Context, cands []revVerdict, run tidyRun) (int, error) {
	removed := 0
	for len(cands) > 0 {
		if err := ctx.Err(); err != nil {
			return removed, err
		}
		chunk := cands[:min(writeChunk, len(cands))]
		cands = cands[len(chunk):]
		var revs, wal, moved, missing int
		err := m.space.Commit(func(tx storage.Tx) error {
			revs, wal, moved, missing = 0, 0, 0, 0
			for _, v := range chunk {
				value := records.GetRevIndex(tx, v.issuerID, v.colon)
				if value == nil {
					continue // revoked again elsewhere, or already gone
				}
				if v.reassoc {
					missing++
				}
				switch {
				case v.expired:
					// Vault deletes the certificate too but counts only
					// the revocation (path_tidy.go doTidyRevocationStore).
					if err := records.DeleteCert(tx, v.colon); err != nil {
						return err
					}
					w, err := removeRevocation(tx, v.colon, v.issuerID)
					if err != nil {
						return err
					}
					revs, wal = revs+1, wal+w
				case v.newID != "" && v.newID != v.issuerID:
					if err := moveRevocation(tx, v, value); err != nil {
						return err
					}
					moved++
				}
			}
			return nil
		})
		if err != nil {
			return removed, fmt.Errorf("crl: tidy: update revocations: %w", err)
		}
		removed += revs
		m.afterIndexChange(revs+moved, wal)
		m.tidy.update(func(s *TidyStatus) {
			s.RevokedDeleted += revs
			s.MissingIssuerCerts += missing
		})
	}
	return removed, nil
}

// moveRevocation files a revocation under its newly found issuer.
func moveRevocation(tx storage.Tx, v revVerdict, indexValue []byte) error {
	rec, err := records.GetRevocationRecord(tx, v.colon)
	if err != nil || rec == nil {
		return err
	}
	rec.IssuerID = v.newID
	if err := records.PutRevocationRecord(tx, v.colon, rec); err != nil {
		return err
	}
	if err := records.DeleteRevIndex(tx, v.issuerID, v.colon); err != nil {
		return err
	}
	return records.PutRevIndex(tx, v.newID, v.colon, indexValue)
}

// tidyExpiredIssuers deletes issuers expired past issuer_safety_buffer,
// never the default one, keeping their keys (spec §6.4), through the
// issuer source; CRLs are rebuilt after.
func (m *Manager) tidyExpiredIssuers(ctx context.Context, run tidyRun) error {
	var issuers []Issuer
	var defaultID string
	err := m.space.View(func(tx storage.Tx) error {
		var err error
		issuers, defaultID, err = m.issuers.Issuers(tx)
		return err
	})
	if err != nil {
		return fmt.Errorf("crl: tidy: list issuers: %w", err)
	}
	now := m.clock.Now()
	deleted := false
	for _, iss := range issuers {
		if iss.Cert == nil || !iss.Cert.NotAfter.Add(run.issuerSafety).Before(now) {
			continue
		}
		if iss.ID == defaultID {
			m.log.Warn("crl: tidy: expired issuer is the default issuer and is kept", "issuer_id", iss.ID, "issuer_name", iss.Name)
			continue
		}
		m.log.Info("crl: tidy: removing expired issuer", "issuer_id", iss.ID, "issuer_name", iss.Name,
			"key_id", iss.KeyID, "serial_number", records.FormatSerial(iss.Cert.SerialNumber))
		if _, err := m.issuers.DeleteIssuer(ctx, iss.ID); err != nil {
			return fmt.Errorf("crl: tidy: delete issuer %s: %w", iss.ID, err)
		}
		deleted = true
	}
	if !deleted {
		return nil
	}
	// Removing issuers is reason enough to rebuild, even under auto_rebuild.
	_, err = m.Rebuild(ctx, false)
	return err
}
