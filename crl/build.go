package crl

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/randid"
	"github.com/pkid-dev/pkid/records"
	"github.com/pkid-dev/pkid/storage"
)

// crlState is the CRL bookkeeping of a mount (records.CRLState), with the
// numbering rules that builds apply to it. It is written with the CRLs it
// describes, in one transaction, so numbers survive restarts and never repeat.
type crlState struct {
	records.CRLState
}

// loadState reads the stored state with every map made, so builds can
// write to it whether or not a CRL was ever built.
func loadState(tx storage.Tx) (*crlState, error) {
	s := &crlState{}
	if err := records.GetCRLState(tx, &s.CRLState); err != nil {
		return nil, err
	}
	s.Version = records.CRLStateVersion
	if s.IssuerCRL == nil {
		s.IssuerCRL = map[string]string{}
	}
	if s.Number == nil {
		s.Number = map[string]int64{}
	}
	if s.LastComplete == nil {
		s.LastComplete = map[string]int64{}
	}
	if s.NextUpdate == nil {
		s.NextUpdate = map[string]time.Time{}
	}
	return s, nil
}

// next hands out the CRL number of id's next build. Complete and delta CRLs
// draw from one counter (spec §6.3, Appendix C), starting at 1.
func (s *crlState) next(id string) int64 {
	n := s.Number[id]
	if n < 1 {
		n = 1
	}
	s.Number[id] = n + 1
	return n
}

// class is one CRL: the keyed issuers that share a key and a subject (spec
// §6.3), signed by one representative.
type class struct {
	id      string
	fresh   bool // no CRL was ever built for it: id is new
	members []*Issuer
	// signer is the representative: the default issuer if it is a member
	// with CRL signing, else the first such member; nil when none can sign.
	signer *Issuer
	// holdsDefault: the default issuer is a member, so the CRL also lists
	// revocations whose issuer is unknown (spec §6.2).
	holdsDefault bool
	// revoked lists other issuers of the mount that are revoked and signed
	// by a member: they appear on this CRL, never on their own.
	revoked []revokedIssuer
	// key describes what the entries depend on, for classCache.
	key string
}

type revokedIssuer struct {
	hyphen string
	serial []byte
	at     time.Time
}

// classCache is the encoded revokedCertificates of one CRL as of index
// version, kept between builds so a revoke only appends to it.
type classCache struct {
	key     string
	version uint64
	blob    []byte
	count   int
}

// snapshot is the mount's issuers and CRL classes as one read saw them.
type snapshot struct {
	issuers   []*Issuer
	byID      map[string]*Issuer
	defaultID string
	state     *crlState
	stateRaw  []byte // the stored state this snapshot read, to detect a concurrent build
	classes   []*class
	memberOf  map[string]*class
	warnings  []string
}

// snapshot reads the issuers and groups them into CRL classes. New classes
// get a fresh id here; it is stored by the build that first uses it.
func (m *Manager) snapshot(tx storage.Tx) (*snapshot, error) {
	list, defaultID, err := m.issuers.Issuers(tx)
	if err != nil {
		return nil, fmt.Errorf("crl: list issuers: %w", err)
	}
	state, err := loadState(tx)
	if err != nil {
		return nil, err
	}
	s := &snapshot{byID: map[string]*Issuer{}, defaultID: defaultID, state: state, memberOf: map[string]*class{},
		stateRaw: records.RawCRLState(tx)}
	for i := range list {
		if list[i].Cert == nil {
			continue
		}
		s.issuers = append(s.issuers, &list[i])
		s.byID[list[i].ID] = &list[i]
	}
	sort.Slice(s.issuers, func(i, j int) bool { return s.issuers[i].ID < s.issuers[j].ID })
	if err := m.formClasses(s); err != nil {
		return nil, err
	}
	return s, nil
}

func (m *Manager) formClasses(s *snapshot) error {
	groups := map[string]*class{}
	var order []string
	for _, iss := range s.issuers {
		if iss.KeyID == "" {
			continue // keyless issuers have no CRL
		}
		g := iss.KeyID + "\x00" + string(iss.Cert.RawSubject)
		c, ok := groups[g]
		if !ok {
			c = &class{}
			groups[g] = c
			order = append(order, g)
		}
		c.members = append(c.members, iss)
		s.memberOf[iss.ID] = c
	}
	for _, g := range order {
		c := groups[g]
		if err := m.completeClass(s, c); err != nil {
			return err
		}
		s.classes = append(s.classes, c)
	}
	return nil
}

// completeClass picks the class's representative, id and revoked issuers.
func (m *Manager) completeClass(s *snapshot, c *class) error {
	var ids []string
	for _, iss := range c.members {
		ids = append(ids, iss.ID)
		if iss.ID == s.defaultID {
			c.holdsDefault = true
		}
		canSign := iss.CRLSigning && iss.Signer != nil
		if canSign && (c.signer == nil || iss.ID == s.defaultID) {
			c.signer = iss
		}
		if c.id == "" {
			c.id = s.state.IssuerCRL[iss.ID]
		}
	}
	if c.signer == nil {
		s.warnings = append(s.warnings, "Issuer equivalency set with associated keys lacked an issuer with CRL Signing KeyUsage; refusing to rebuild CRL for this group of issuers: "+strings.Join(ids, ","))
	}
	if c.id == "" {
		id, err := randid.UUID(m.rand)
		if err != nil {
			return err
		}
		c.id, c.fresh = id, true
	}
	for _, other := range s.issuers {
		// An issuer is never on its own CRL, which is also the CRL of any
		// reissue of it with the same key and subject (spec §6.3).
		if !other.Revoked || s.memberOf[other.ID] == c {
			continue
		}
		for _, mem := range c.members {
			if mem != other && other.Cert.CheckSignatureFrom(mem.Cert) == nil {
				colon := records.FormatSerial(other.Cert.SerialNumber)
				c.revoked = append(c.revoked, revokedIssuer{
					hyphen: records.StorageSerial(colon), serial: other.Cert.SerialNumber.Bytes(), at: other.RevokedAt,
				})
				break
			}
		}
	}
	var key strings.Builder
	fmt.Fprintf(&key, "%s|%v|%s", c.id, c.holdsDefault, strings.Join(ids, ","))
	for _, r := range c.revoked {
		fmt.Fprintf(&key, "|%s@%d", r.hyphen, r.at.Unix())
	}
	if c.holdsDefault {
		// The default's CRL also lists the entries of deleted issuers, so it
		// depends on which issuers exist.
		for _, iss := range s.issuers {
			key.WriteString("|" + iss.ID)
		}
	}
	c.key = key.String()
	return nil
}

// buildWarnings are the snapshot's warnings as Vault's complete CRL build
// returns them (crl_util.go buildAnyCRLs); callers number them.
func (s *snapshot) buildWarnings() []string {
	out := make([]string, 0, len(s.warnings))
	for _, w := range s.warnings {
		out = append(out, "warning from local CRL rebuild: "+w)
	}
	return out
}

// classOf returns the class whose CRL lists a revocation recorded under
// issuerID: the issuer's own, or the default issuer's for unknown issuers.
func (s *snapshot) classOf(issuerID string) *class {
	if c, ok := s.memberOf[issuerID]; ok {
		return c
	}
	if _, known := s.byID[issuerID]; known {
		return nil // a keyless issuer: its revocations are on no CRL
	}
	return s.memberOf[s.defaultID]
}

// loadEntries appends to dst the encoded entries of c's CRL as stored: its
// members' index entries, the unknown-issuer ones for the default's class,
// and the revoked issuers it lists.
func (m *Manager) loadEntries(tx storage.Tx, s *snapshot, c *class, dst []byte) ([]byte, int, error) {
	skip := map[string]bool{}
	for _, r := range c.revoked {
		skip[r.hyphen] = true
	}
	n := 0
	var scratch [32]byte
	add := func(hyphen string, v []byte) error {
		if len(skip) > 0 && skip[hyphen] {
			return nil
		}
		e, err := records.DecodeRevIndex(hyphen, v, scratch[:0])
		if err != nil {
			m.log.Warn("crl: skipping unreadable revocation index entry", "error", err)
			return nil
		}
		dst = appendEntry(dst, e.Serial, e.Revoked)
		n++
		return nil
	}
	prefixes := make([]string, 0, len(c.members)+1)
	for _, mem := range c.members {
		prefixes = append(prefixes, mem.ID)
	}
	if c.holdsDefault {
		ids, err := records.IndexedIssuers(tx)
		if err != nil {
			return nil, 0, err
		}
		for _, id := range ids {
			if _, known := s.byID[id]; !known {
				prefixes = append(prefixes, id) // "_" and deleted issuers
			}
		}
	}
	for _, p := range prefixes {
		if err := records.ScanRevocationIndex(tx, p, add); err != nil {
			return nil, 0, err
		}
	}
	for _, r := range c.revoked {
		dst = appendEntry(dst, r.serial, r.at)
		n++
	}
	return dst, n, nil
}

// signed is one CRL ready to store.
type signed struct {
	id    string // CRL id
	delta bool
	der   []byte
}

// crlParamsFor fills the parts of a CRL's parameters that come from its
// class and the clock. Vault puts no Freshest CRL extension on its complete
// CRLs, even with delta CRL URLs configured (crl_util.go buildCRL: only
// the delta CRL gets an extension of its own); OpenBao does, pkid follows
// Vault.
func (m *Manager) crlParamsFor(c *class, now time.Time, cfg CRLConfig) crlParams {
	return crlParams{
		issuer:     c.signer.Cert,
		signer:     c.signer.Signer,
		sigAlg:     c.signer.SignatureAlgorithm,
		thisUpdate: now,
		nextUpdate: now.Add(cfg.durations().expiry),
	}
}

// signPair signs a class's complete CRL around entries and then its delta
// CRL around deltaEntries, numbering both, and records them in state.
func (m *Manager) signPair(s *snapshot, c *class, cfg CRLConfig, entries, deltaEntries []byte) ([]signed, error) {
	now := m.clock.Now()
	p := m.crlParamsFor(c, now, cfg)
	p.number = s.state.next(c.id)
	full, err := signCRL(m.rand, p, entries)
	if err != nil {
		return nil, fmt.Errorf("crl: build CRL for issuer %s: %w", c.signer.ID, err)
	}
	s.state.LastComplete[c.id] = p.number
	s.state.NextUpdate[c.id] = p.nextUpdate
	s.state.LastModified = now
	d, err := m.signDelta(s, c, cfg, deltaEntries)
	if err != nil {
		return nil, err
	}
	return []signed{{c.id, false, full}, d}, nil
}

// signDelta signs a class's delta CRL: revocations since its last complete
// CRL, with the Delta CRL Indicator naming that CRL (spec §3.2).
func (m *Manager) signDelta(s *snapshot, c *class, cfg CRLConfig, entries []byte) (signed, error) {
	now := m.clock.Now()
	p := m.crlParamsFor(c, now, cfg)
	p.number = s.state.next(c.id)
	p.delta = true
	base, ok := s.state.LastComplete[c.id]
	if !ok {
		base = p.number - 1
		s.state.LastComplete[c.id] = base
	}
	p.deltaBase = base
	der, err := signCRL(m.rand, p, entries)
	if err != nil {
		return signed{}, fmt.Errorf("crl: build delta CRL for issuer %s: %w", c.signer.ID, err)
	}
	s.state.DeltaLastModified = now
	return signed{c.id, true, der}, nil
}

// Rebuild rebuilds every CRL of the mount, complete and delta; force builds
// even when CRLs are disabled (an empty CRL, as Vault signs one). The
// warnings are Vault's (a class with no CRL-signing issuer).
func (m *Manager) Rebuild(ctx context.Context, force bool) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.buildMu.Lock()
	defer m.buildMu.Unlock()
	return m.rebuildLocked(force)
}

// errStateMoved is a build that lost the race for the CRL numbers: another
// writer of the store (a replica sharing it) stored a build since it read.
var errStateMoved = errors.New("crl: CRL state changed during the build")

// unchanged is the compare of a build's compare-and-swap: the numbering the
// build started from is still the stored one.
func (s *snapshot) unchanged(tx storage.Tx) error {
	if !records.CRLStateIs(tx, s.stateRaw) {
		return errStateMoved
	}
	return nil
}

// maxBuildTries bounds the retries of a build that keeps losing the race.
const maxBuildTries = 16

func (m *Manager) rebuildLocked(force bool) ([]string, error) {
	for try := 1; ; try++ {
		ws, err := m.buildOnce(force)
		if !errors.Is(err, errStateMoved) || try == maxBuildTries {
			return ws, err
		}
	}
}

func (m *Manager) buildOnce(force bool) ([]string, error) {
	cfg := m.CRLConfig()
	if cfg.Disable && !force {
		return nil, nil
	}
	v0, w0 := m.version.Load(), m.walVersion.Load()
	in, err := m.readForBuild(cfg)
	if err != nil {
		return nil, err
	}
	var out []signed
	for _, c := range in.s.classes {
		if c.signer == nil {
			continue
		}
		var blob []byte
		if cc := in.entries[c]; cc != nil {
			if err := cfg.checkEntries(cc.count); err != nil {
				return nil, err
			}
			blob = cc.blob
		}
		pair, err := m.signPair(in.s, c, cfg, blob, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, pair...)
	}
	if err := m.storeBuild(in, out); err != nil {
		return nil, err
	}
	m.caches = map[string]*classCache{}
	for c, cc := range in.entries {
		cc.version = v0
		m.caches[c.id] = cc
	}
	m.deltaBuiltWAL = w0
	return in.s.buildWarnings(), nil
}

// buildInput is what a complete build reads in one transaction.
type buildInput struct {
	s       *snapshot
	entries map[*class]*classCache // nil entries while CRLs are disabled
	walKeys []string               // the delta WAL this build covers
}

func (m *Manager) readForBuild(cfg CRLConfig) (*buildInput, error) {
	in := &buildInput{entries: map[*class]*classCache{}}
	err := m.space.View(func(tx storage.Tx) error {
		var err error
		if in.s, err = m.snapshot(tx); err != nil {
			return err
		}
		for _, c := range in.s.classes {
			if c.signer == nil || cfg.Disable {
				continue
			}
			blob, n, err := m.loadEntries(tx, in.s, c, nil)
			if err != nil {
				return err
			}
			in.entries[c] = &classCache{key: c.key, blob: blob, count: n}
		}
		in.walKeys, err = records.DeltaWALKeys(tx)
		return err
	})
	return in, err
}

// storeBuild writes the signed CRLs and the numbering in one transaction,
// clearing the delta WAL the complete CRLs now cover and the CRLs of
// issuers that are gone.
func (m *Manager) storeBuild(in *buildInput, out []signed) error {
	stale := pruneState(in.s)
	err := m.space.Update(func(tx storage.Tx) error {
		if err := in.s.unchanged(tx); err != nil {
			return err
		}
		if err := putSigned(tx, out); err != nil {
			return err
		}
		for _, k := range in.walKeys {
			if err := records.DeleteDeltaWAL(tx, k); err != nil {
				return err
			}
		}
		for _, id := range stale {
			if err := records.DeleteCRLs(tx, id); err != nil {
				return err
			}
		}
		return records.PutCRLState(tx, &in.s.state.CRLState)
	})
	if err != nil {
		return fmt.Errorf("crl: store CRLs: %w", err)
	}
	return nil
}

// pruneState records each class's id for its members, forgets issuers that
// are gone, and returns the CRL ids no issuer uses any more.
func pruneState(s *snapshot) []string {
	for _, c := range s.classes {
		if c.signer == nil && c.fresh {
			continue
		}
		for _, mem := range c.members {
			s.state.IssuerCRL[mem.ID] = c.id
		}
	}
	used := map[string]bool{}
	for issuerID, id := range s.state.IssuerCRL {
		if c, ok := s.memberOf[issuerID]; !ok || c.id != id {
			delete(s.state.IssuerCRL, issuerID)
			continue
		}
		used[id] = true
	}
	var stale []string
	for id := range s.state.NextUpdate {
		if !used[id] {
			stale = append(stale, id)
			delete(s.state.NextUpdate, id)
		}
	}
	return stale
}

func putSigned(tx storage.Tx, out []signed) error {
	for _, sg := range out {
		if err := records.PutCRL(tx, sg.id, sg.delta, sg.der); err != nil {
			return err
		}
	}
	return nil
}

// RebuildDelta rebuilds the delta CRLs now (crl/rotate-delta). Warnings as
// Vault's: asking while delta CRLs are off is a no-op.
func (m *Manager) RebuildDelta(ctx context.Context) ([]string, error) {
	if !m.CRLConfig().EnableDelta {
		return []string{"requested rebuild of delta CRL when delta CRL is not enabled; this is a no-op"}, nil
	}
	ws, err := m.rebuildDeltas(ctx, true)
	if err != nil {
		switch errs.KindOf(err) {
		case errs.Invalid:
			return nil, errs.Invalidf("Error during delta CRL building: %s", errs.Message(err))
		case errs.InvalidVault500:
			return nil, errs.Newf(errs.InvalidVault500, "error encountered during delta CRL building: %s", errs.Message(err))
		}
		return nil, fmt.Errorf("error encountered during delta CRL building: %w", err)
	}
	return NumberWarnings(ws), nil
}

// rebuildDeltas signs every class's delta CRL from the delta WAL. A class
// that never had a complete CRL gets a full build instead.
func (m *Manager) rebuildDeltas(ctx context.Context, force bool) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.buildMu.Lock()
	defer m.buildMu.Unlock()
	cfg := m.CRLConfig()
	if cfg.Disable && !force {
		return nil, nil
	}
	w0 := m.walVersion.Load()
	var s *snapshot
	entries := map[*class][]byte{}
	counts := map[*class]int{}
	needFull := false
	err := m.space.View(func(tx storage.Tx) error {
		var err error
		if s, err = m.snapshot(tx); err != nil {
			return err
		}
		for _, c := range s.classes {
			needFull = needFull || (c.signer != nil && c.fresh)
		}
		if needFull || cfg.Disable {
			return nil
		}
		return records.ScanDeltaWAL(tx, func(hyphen string, v []byte) error {
			at, issuerID, ok := records.DecodeWAL(v)
			c := s.classOf(issuerID)
			if !ok || c == nil {
				return nil
			}
			if serial, err := records.DecodeStorageSerial(hyphen, nil); err == nil {
				entries[c] = appendEntry(entries[c], serial, at)
				counts[c]++
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	if needFull {
		return m.rebuildLocked(force)
	}
	var out []signed
	for _, c := range s.classes {
		if c.signer == nil {
			continue
		}
		if err := cfg.checkEntries(counts[c]); err != nil {
			return nil, err
		}
		d, err := m.signDelta(s, c, cfg, entries[c])
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	err = m.space.Update(func(tx storage.Tx) error {
		if err := s.unchanged(tx); err != nil {
			return err
		}
		if err := putSigned(tx, out); err != nil {
			return err
		}
		return records.PutCRLState(tx, &s.state.CRLState)
	})
	if errors.Is(err, errStateMoved) {
		return m.rebuildLocked(force) // numbers moved on: renumber everything
	}
	if err != nil {
		return nil, fmt.Errorf("crl: store delta CRLs: %w", err)
	}
	m.deltaBuiltWAL = w0
	// Vault reports a class without a CRL-signing issuer on complete
	// builds only ("We only need this warning once").
	return nil, nil
}

// Rotate is crl/rotate: every CRL rebuilt now (a no-op while disabled),
// with warnings and errors worded as Vault's handler words them.
func (m *Manager) Rotate(ctx context.Context) ([]string, error) {
	ws, err := m.Rebuild(ctx, false)
	if err != nil {
		return nil, rebuildError(err)
	}
	return NumberWarnings(ws), nil
}
