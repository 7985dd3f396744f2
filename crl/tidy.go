package crl

import (
	"context"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/pkid-dev/pkid/records"
	"io"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/pkid-dev/pkid/storage"
)

// Tidy runs in the background, one run at a time (spec §3.1, §6.4). It reads
// a page of entries in a read transaction, decides there what could go, and
// deletes in chunks of at most writeChunk keys, re-checking each entry in
// the write. The chunks go through the group commit, so issuance writes
// queue in order with them (and share their fsync) instead of racing them
// for bbolt's writer lock: measured with 100k expired certificates, issue
// latency stays within a few milliseconds of its idle value.
const writeChunk = 200

var errTidyCancelled = errors.New("tidy operation cancelled")

// Tidy states as tidy-status names them.
const (
	TidyInactive   = "Inactive"
	TidyRunning    = "Running"
	TidyFinished   = "Finished"
	TidyError      = "Error"
	TidyCancelling = "Cancelling"
	TidyCancelled  = "Cancelled"
)

// TidySettings are a tidy run's settings, as tidy-status reports them.
type TidySettings struct {
	TidyOps
	Safety, RevokedSafety, IssuerSafety, AcmeSafety, QueueSafety time.Duration
	Pause                                                        time.Duration
	PageSize                                                     int
}

// Settings returns the settings of the run the status describes.
func (s TidyStatus) Settings() TidySettings {
	r := s.Run
	return TidySettings{TidyOps: r.TidyOps, Safety: r.safety, RevokedSafety: r.revokedSafety,
		IssuerSafety: r.issuerSafety, AcmeSafety: r.acmeSafety, QueueSafety: r.queueSafety,
		Pause: r.pause, PageSize: r.pageSize}
}

// TidyStatus is the state of the last tidy run (in memory, as in Vault:
// a restart forgets it).
type TidyStatus struct {
	State              string
	Run                tidyRun
	Err                error
	Started            time.Time
	Finished           time.Time
	Message            string
	CertsDeleted       int
	RevokedDeleted     int
	MissingIssuerCerts int
	// LastTidy is last_auto_tidy_finished: when a tidy last started or
	// finished well, or auto-tidy was turned on (Vault's lastAutoTidy).
	LastTidy time.Time
	// Counts, filled only when config/auto-tidy maintains them.
	CertCount, RevokedCount *int
}

// tidyRunner holds the one tidy run of a mount.
type tidyRunner struct {
	mu       sync.Mutex
	running  bool
	closed   bool
	cancel   context.CancelFunc
	done     chan struct{}
	status   TidyStatus
	lastTidy time.Time
	// started is when the mount loaded, and backoffUntil the end of the
	// random delay before its first auto-tidy (zero: not drawn yet).
	started      time.Time
	backoffUntil time.Time
}

func newTidyRunner(now, last time.Time) *tidyRunner {
	if last.IsZero() {
		last = now
	}
	return &tidyRunner{status: TidyStatus{State: TidyInactive}, lastTidy: last, started: now}
}

// loadLastTidy reads the stored last auto-tidy time (zero if none). It is
// kept across restarts, as Vault keeps it, so a restart does not postpone
// auto-tidy.
func loadLastTidy(tx storage.Tx) (time.Time, error) {
	t, err := records.GetLastAutoTidy(tx)
	if err != nil {
		return time.Time{}, fmt.Errorf("crl: load last auto-tidy time: %w", err)
	}
	return t, nil
}

// setLastTidy records when a tidy last started or finished well (Vault's
// updateLastAutoTidyTime); a failed write is logged, as Vault logs it.
func (m *Manager) setLastTidy(at time.Time) {
	m.tidy.mu.Lock()
	m.tidy.lastTidy = at
	m.tidy.mu.Unlock()
	if err := m.space.Commit(func(tx storage.Tx) error { return records.PutLastAutoTidy(tx, at) }); err != nil {
		m.log.Warn("crl: failed persisting the last tidy time", "error", err)
	}
}

func (t *tidyRunner) update(fn func(s *TidyStatus)) {
	t.mu.Lock()
	fn(&t.status)
	t.mu.Unlock()
}

func (t *tidyRunner) stop() {
	t.mu.Lock()
	t.closed = true
	cancel, done := t.cancel, t.done
	t.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// StartTidy starts a tidy run (POST tidy). It answers Vault's warnings: the
// run started (or started with nothing to do), or one is already running,
// in which case started is false and nothing changes.
func (m *Manager) StartTidy(r TidyRequest) (started bool, warnings []string, err error) {
	run, err := r.run()
	if err != nil {
		return false, nil, err
	}
	if !m.startTidy(run) {
		return false, []string{"Tidy operation already in progress."}, nil
	}
	// A manual run resets the auto-tidy interval, as in Vault.
	m.setLastTidy(m.clock.Now())
	if !run.TidyOps.any() {
		return true, []string{"Manual tidy requested but no tidy operations were set. Enable at least one tidy operation to be run (" + anyTidyOps + ")."}, nil
	}
	return true, []string{"Tidy operation successfully started. Any information from the operation will be printed to Vault's server logs."}, nil
}

func (m *Manager) startTidy(run tidyRun) bool {
	t := m.tidy
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.running || t.closed {
		return false
	}
	now := m.clock.Now()
	ctx, cancel := context.WithCancel(context.Background())
	t.running, t.cancel, t.done = true, cancel, make(chan struct{})
	t.status = TidyStatus{State: TidyRunning, Run: run, Started: now}
	go m.tidyMain(ctx, run, t.done)
	return true
}

func (m *Manager) tidyMain(ctx context.Context, run tidyRun, done chan struct{}) {
	defer close(done)
	err := m.runTidy(ctx, run)
	if err != nil && ctx.Err() != nil {
		err = errTidyCancelled
	}
	now := m.clock.Now()
	if err == nil {
		m.setLastTidy(now)
	}
	t := m.tidy
	t.mu.Lock()
	defer t.mu.Unlock()
	t.status.Finished = now
	switch {
	case err == nil:
		t.status.State = TidyFinished
	case errors.Is(err, errTidyCancelled):
		t.status.State = TidyCancelled
	default:
		t.status.State, t.status.Err = TidyError, err
		m.log.Error("crl: tidy failed", "error", err)
	}
	t.running, t.cancel = false, nil
}

// CancelTidy asks the running tidy to stop (tidy-cancel). It reports false
// when none is running.
func (m *Manager) CancelTidy() bool {
	t := m.tidy
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.running {
		return false
	}
	t.status.State = TidyCancelling
	t.cancel()
	return true
}

// WaitTidy waits for the running tidy, if any, to end.
func (m *Manager) WaitTidy(ctx context.Context) error {
	m.tidy.mu.Lock()
	done, running := m.tidy.done, m.tidy.running
	m.tidy.mu.Unlock()
	if !running {
		return nil
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TidyStatus returns the state of the last run (tidy-status).
func (m *Manager) TidyStatus(ctx context.Context) (TidyStatus, error) {
	m.tidy.mu.Lock()
	s := m.tidy.status
	s.LastTidy = m.tidy.lastTidy
	m.tidy.mu.Unlock()
	if m.AutoTidyConfig().MaintainCount {
		var certs, revoked int
		err := m.space.View(func(tx storage.Tx) error {
			count := func(_ string, _ []byte) error { certs++; return nil }
			if err := records.ScanCerts(tx, "", count); err != nil {
				return err
			}
			var err error
			revoked, err = records.CountRevocations(tx)
			return err
		})
		if err != nil {
			return s, err
		}
		s.CertCount, s.RevokedCount = &certs, &revoked
	}
	return s, nil
}

// periodicTidy starts auto-tidy once interval_duration has passed since the
// last run ended (or a manual run started), and not before the random
// startup backoff Vault draws once after the mount starts (path_tidy.go,
// backend.go periodicFunc). An interval of zero never runs.
func (m *Manager) periodicTidy(ctx context.Context) {
	cfg := m.AutoTidyConfig()
	if !cfg.Enabled || cfg.Interval <= 0 || !cfg.TidyOps.any() {
		return
	}
	now := m.clock.Now()
	t := m.tidy
	t.mu.Lock()
	due := !t.running && !now.Before(t.lastTidy.Add(cfg.Interval))
	if due && t.backoffUntil.IsZero() {
		t.backoffUntil = t.started.Add(m.startupBackoff(cfg))
	}
	due = due && !t.backoffUntil.After(now)
	t.mu.Unlock()
	if due && m.startTidy(cfg.run()) {
		m.setLastTidy(now)
	}
}

// startupBackoff draws a delay in [min, max) whole seconds, as Vault's
// CalculateStartupBackoff does, from the injected random source.
func (m *Manager) startupBackoff(cfg AutoTidyConfig) time.Duration {
	span := int64((cfg.MaxBackoff - cfg.MinBackoff) / time.Second)
	if span <= 0 {
		return cfg.MinBackoff
	}
	var b [8]byte
	if _, err := io.ReadFull(m.rand, b[:]); err != nil {
		return cfg.MinBackoff
	}
	return cfg.MinBackoff + time.Duration(binary.BigEndian.Uint64(b[:])%uint64(span))*time.Second
}

// runTidy is one run, in Vault's order: certificate store, revocations, CRL
// rebuild when revocations went, expired issuers (path_tidy.go).
func (m *Manager) runTidy(ctx context.Context, run tidyRun) error {
	rebuild := false
	if run.CertStore || run.InvalidCerts {
		removed, err := m.tidyCertStore(ctx, run)
		if err != nil {
			return err
		}
		rebuild = removed > 0
	}
	if run.RevokedCerts || run.IssuerAssocs {
		removed, err := m.tidyRevocations(ctx, run)
		if err != nil {
			return err
		}
		rebuild = rebuild || removed > 0
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// Vault defers this rebuild to the periodic one under auto_rebuild.
	if rebuild && !m.CRLConfig().AutoRebuild {
		if ws, err := m.Rebuild(ctx, false); err != nil {
			return err
		} else if len(ws) > 0 {
			m.log.Warn("crl: CRL rebuild during tidy", "warnings", ws)
		}
	}
	if run.ExpiredIssuers {
		return m.tidyExpiredIssuers(ctx, run)
	}
	return nil
}

// pause sleeps pause_duration between entries; it is real time (meant to
// spare the machine), not the injected clock.
func pause(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// certVerdict is the cert store pass's decision on one entry.
type certVerdict struct {
	colon    string
	notAfter time.Time
	invalid  bool
}

// tidyCertStore deletes expired certificates (spec §6.4): unrevoked ones
// past safety_buffer, revoked ones past revoked_safety_buffer, and then
// also their revocation when tidy_revoked_certs. It returns how many
// revocations it deleted.
func (m *Manager) tidyCertStore(ctx context.Context, run tidyRun) (int, error) {
	page := run.pageSize
	if run.pause > 0 {
		page = 1
	}
	after, checked, revokedRemoved := "", 0, 0
	for {
		if err := pause(ctx, run.pause); err != nil {
			return revokedRemoved, err
		}
		var cands []certVerdict
		var seen int
		now := m.clock.Now()
		err := m.space.View(func(tx storage.Tx) error {
			return records.ScanCerts(tx, after, func(k string, v []byte) error {
				after = k
				seen++
				if verdict, ok := judgeCert(k, v, now, run); ok {
					cands = append(cands, verdict)
				}
				if seen >= page {
					return storage.ErrStop
				}
				return nil
			})
		})
		if err != nil {
			return revokedRemoved, fmt.Errorf("crl: tidy: read certificates: %w", err)
		}
		checked += seen
		m.tidy.update(func(s *TidyStatus) {
			s.Message = fmt.Sprintf("Tidying certificate store: checking entry %d of %d on current page; total certs checked: %d", seen, seen, checked)
		})
		n, err := m.deleteCerts(ctx, cands, run)
		revokedRemoved += n
		if err != nil {
			return revokedRemoved, err
		}
		if seen < page {
			return revokedRemoved, nil
		}
	}
}

// judgeCert is the read-side check: could this entry go? Revoked status is
// checked again when deleting.
func judgeCert(hyphen string, der []byte, now time.Time, run tidyRun) (certVerdict, bool) {
	colon := strings.ReplaceAll(hyphen, "-", ":")
	notAfter, ok := certNotAfter(der)
	if !ok {
		return certVerdict{colon: colon, invalid: true}, run.InvalidCerts
	}
	if !run.CertStore {
		return certVerdict{}, false
	}
	shortest := min(run.safety, run.revokedSafety)
	return certVerdict{colon: colon, notAfter: notAfter}, notAfter.Add(shortest).Before(now)
}

// deleteCerts deletes the candidates in chunks, deciding each inside the
// write with its revocation record in view.
func (m *Manager) deleteCerts(ctx context.Context, cands []certVerdict, run tidyRun) (int, error) {
	revokedRemoved := 0
	for len(cands) > 0 {
		if err := ctx.Err(); err != nil {
			return revokedRemoved, err
		}
		chunk := cands[:min(writeChunk, len(cands))]
		cands = cands[len(chunk):]
		now := m.clock.Now()
		var certs, revs, wal int
		err := m.space.Commit(func(tx storage.Tx) error {
			certs, revs, wal = 0, 0, 0
			for _, c := range chunk {
				dc, dr, dw, err := deleteIfExpired(tx, c, now, run)
				if err != nil {
					return err
				}
				certs, revs, wal = certs+dc, revs+dr, wal+dw
			}
			return nil
		})
		if err != nil {
			return revokedRemoved, fmt.Errorf("crl: tidy: delete certificates: %w", err)
		}
		revokedRemoved += revs
		m.afterIndexChange(revs, wal)
		m.tidy.update(func(s *TidyStatus) { s.CertsDeleted += certs; s.RevokedDeleted += revs })
	}
	return revokedRemoved, nil
}

func deleteIfExpired(tx storage.Tx, c certVerdict, now time.Time, run tidyRun) (certs, revs, wal int, err error) {
	if c.invalid {
		return 1, 0, 0, records.DeleteCert(tx, c.colon)
	}
	rec, err := records.GetRevocationRecord(tx, c.colon)
	if err != nil {
		return 0, 0, 0, err
	}
	buffer := run.safety
	if rec != nil {
		buffer = run.revokedSafety
	}
	if !c.notAfter.Add(buffer).Before(now) {
		return 0, 0, 0, nil
	}
	if err := records.DeleteCert(tx, c.colon); err != nil {
		return 0, 0, 0, err
	}
	if rec == nil || !run.RevokedCerts {
		return 1, 0, 0, nil
	}
	w, err := removeRevocation(tx, c.colon, rec.IssuerID)
	return 1, 1, w, err
}

// removeRevocation deletes a revocation: record, index entry, and a delta
// WAL entry if one is pending. It reports whether a WAL entry went.
func removeRevocation(tx storage.Tx, colon, issuerID string) (int, error) {
	if err := records.DeleteRevocation(tx, colon, issuerID); err != nil {
		return 0, err
	}
	had, err := records.DeleteDeltaWALIfAny(tx, colon)
	if had {
		return 1, err
	}
	return 0, err
}

// afterIndexChange tells builds that the revocation index changed.
func (m *Manager) afterIndexChange(indexChanges, walChanges int) {
	if indexChanges > 0 {
		m.version.Add(1)
	}
	if walChanges > 0 {
		m.walVersion.Add(1)
	}
}

// certNotAfter reads a certificate's NotAfter without parsing the rest
// (RFC 5280 §4.1: the validity is the fifth field of the TBSCertificate),
// falling back to x509 for anything unusual.
func certNotAfter(der []byte) (time.Time, bool) {
	in := cryptobyte.String(der)
	var cert, tbs, validity cryptobyte.String
	ok := in.ReadASN1(&cert, cbasn1.SEQUENCE) && cert.ReadASN1(&tbs, cbasn1.SEQUENCE) &&
		tbs.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) &&
		tbs.SkipASN1(cbasn1.INTEGER) && tbs.SkipASN1(cbasn1.SEQUENCE) && tbs.SkipASN1(cbasn1.SEQUENCE) &&
		tbs.ReadASN1(&validity, cbasn1.SEQUENCE)
	if ok {
		var notBefore cryptobyte.String
		var tag cbasn1.Tag
		var t time.Time
		ok = validity.ReadAnyASN1Element(&notBefore, &tag) && validity.PeekASN1Tag(cbasn1.UTCTime) && validity.ReadASN1UTCTime(&t)
		if !ok {
			ok = validity.PeekASN1Tag(cbasn1.GeneralizedTime) && validity.ReadASN1GeneralizedTime(&t)
		}
		if ok {
			return t, true
		}
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return time.Time{}, false
	}
	return c.NotAfter, true
}
