package ca

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"github.com/pkid-dev/pkid/records"
	"strings"
	"time"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/storage"
)

// IssuerInfo is an issuer as issuer/:ref answers it.
type IssuerInfo struct {
	ID, Name, KeyID string
	// Certificate is the stored PEM (with its trailing newline).
	Certificate string
	Cert        *x509.Certificate
	// CAChain holds PEMs, the issuer first.
	CAChain []string
	// ManualChain holds issuer IDs (nil when the chain is automatic).
	ManualChain          []string
	LeafNotAfterBehavior string
	Usage                Usage
	// RevocationSignatureAlgorithm is "" (automatic) or e.g. "SHA256WithRSA".
	RevocationSignatureAlgorithm string
	Revoked                      bool
	RevocationTime               time.Time
	// AIA is the issuer's own URL override, nil when it uses config/urls.
	AIA          *URLConfig
	LastModified time.Time
}

// IssuerSummary is an issuer as LIST issuers describes it in key_info.
type IssuerSummary struct {
	ID, Name, SerialNumber, KeyID string
	IsDefault                     bool
}

func (a *Authority) issuerInfo(rec *records.Issuer) (*IssuerInfo, error) {
	cert, err := a.cert(rec.Certificate)
	if err != nil {
		return nil, err
	}
	info := &IssuerInfo{
		ID: rec.ID, Name: rec.Name, KeyID: rec.KeyID,
		Certificate: rec.Certificate, Cert: cert, CAChain: rec.CAChain,
		ManualChain:                  rec.ManualChain,
		LeafNotAfterBehavior:         rec.LeafNotAfterBehavior,
		Usage:                        rec.Usage,
		RevocationSignatureAlgorithm: rec.RevocationSigAlg,
		Revoked:                      rec.Revoked,
		LastModified:                 rec.LastModified,
	}
	if rec.Revoked {
		info.RevocationTime = rec.RevocationTimeUTC
	}
	if rec.AIA != nil {
		c := exportURLs(*rec.AIA)
		info.AIA = &c
	}
	return info, nil
}

// ListIssuers returns every issuer in ID order (LIST issuers).
func (a *Authority) ListIssuers() ([]IssuerSummary, error) {
	var out []IssuerSummary
	err := a.cfg.Space.View(func(tx storage.Tx) error {
		recs, err := records.AllIssuers(tx)
		if err != nil {
			return err
		}
		cfg, err := records.GetIssuersConfig(tx)
		if err != nil {
			return err
		}
		for _, r := range recs {
			out = append(out, IssuerSummary{ID: r.ID, Name: r.Name, SerialNumber: r.SerialNumber,
				KeyID: r.KeyID, IsDefault: r.ID == cfg.Default})
		}
		return nil
	})
	return out, err
}

// Issuer reads one issuer. An unknown reference is errs.InvalidVault500
// (Vault answers 500): "unable to find PKI issuer for reference: X", or
// "no default issuer currently configured".
func (a *Authority) Issuer(ref string) (*IssuerInfo, error) {
	var info *IssuerInfo
	err := a.cfg.Space.View(func(tx storage.Tx) error {
		rec, err := issuerKind.resolve(tx, ref)
		if err != nil {
			return refErr(err, errs.InvalidVault500, "")
		}
		info, err = a.issuerInfo(rec)
		return err
	})
	return info, err
}

// IssuerUpdate holds the writable fields of an issuer. On a replacing
// update (POST) an absent (nil) field takes its default; on a merging
// update (PATCH) it is left as it is.
type IssuerUpdate struct {
	IssuerName                   *string
	LeafNotAfterBehavior         *string
	Usage                        *[]string
	RevocationSignatureAlgorithm *string
	// ManualChain holds issuer references; the first must be the issuer
	// itself (or "self"). Empty means an automatic chain.
	ManualChain                *[]string
	IssuingCertificates        *[]string
	CRLDistributionPoints      *[]string
	DeltaCRLDistributionPoints *[]string
	OCSPServers                *[]string
	EnableAIAURLTemplating     *bool
}

// withDefaults fills absent fields with their defaults (POST semantics).
func (u IssuerUpdate) withDefaults() IssuerUpdate {
	str := func(p *string, d string) *string {
		if p == nil {
			return &d
		}
		return p
	}
	list := func(p *[]string, d []string) *[]string {
		if p == nil {
			return &d
		}
		return p
	}
	u.IssuerName = str(u.IssuerName, "")
	u.LeafNotAfterBehavior = str(u.LeafNotAfterBehavior, NotAfterErr)
	u.Usage = list(u.Usage, []string{"read-only", "issuing-certificates", "crl-signing", "ocsp-signing"})
	u.RevocationSignatureAlgorithm = str(u.RevocationSignatureAlgorithm, "")
	u.ManualChain = list(u.ManualChain, nil)
	u.IssuingCertificates = list(u.IssuingCertificates, nil)
	u.CRLDistributionPoints = list(u.CRLDistributionPoints, nil)
	u.DeltaCRLDistributionPoints = list(u.DeltaCRLDistributionPoints, nil)
	u.OCSPServers = list(u.OCSPServers, nil)
	if u.EnableAIAURLTemplating == nil {
		f := false
		u.EnableAIAURLTemplating = &f
	}
	return u
}

// UpdateIssuer changes an issuer (issuer/:ref POST when replace, PATCH
// otherwise; spec §3.1 issuer). It returns the updated issuer and Vault's
// warnings (roles that used a replaced name, unusable AIA templates).
func (a *Authority) UpdateIssuer(ctx context.Context, ref string, u IssuerUpdate, replace bool) (*IssuerInfo, []string, error) {
	if replace {
		u = u.withDefaults()
	}
	if err := u.validate(); err != nil {
		return nil, nil, err
	}
	var info *IssuerInfo
	var warnings []string
	err := a.cfg.Space.Update(func(tx storage.Tx) error {
		rec, err := issuerKind.resolve(tx, ref)
		if err != nil {
			return refErr(err, errs.InvalidVault500, "")
		}
		oldName := rec.Name
		if err := a.applyIssuerUpdate(tx, rec, u); err != nil {
			return err
		}
		if info, err = a.issuerInfo(rec); err != nil {
			return err
		}
		warnings = nil
		if rec.Name != oldName && oldName != "" {
			warnings = append(warnings, roleReferenceWarnings(tx, oldName)...)
		}
		if rec.AIA != nil && rec.AIA.EnableTemplating {
			cluster, err := records.GetCluster(tx)
			if err != nil {
				return err
			}
			if _, err := resolveURLs(rec.AIA, rec.ID, cluster); err != nil {
				warnings = append(warnings, fmt.Sprintf("issuance may fail: %v\n\nConsider setting the cluster-local address if it is not already set.", err))
			}
		}
		return nil
	})
	return info, warnings, err
}

// validate checks the fields that need no storage, in Vault's order.
func (u IssuerUpdate) validate() error {
	if u.IssuerName != nil {
		if n := strings.TrimSpace(*u.IssuerName); n != "" {
			if err := issuerKind.validateName(n); err != nil {
				return err
			}
		}
	}
	if u.LeafNotAfterBehavior != nil {
		switch *u.LeafNotAfterBehavior {
		case NotAfterErr, NotAfterTruncate, NotAfterPermit:
		default:
			return errs.Invalidf("Unknown value for field `leaf_not_after_behavior`. Possible values are `err`, `truncate`, and `permit`.")
		}
	}
	if u.Usage != nil {
		if _, err := ParseUsage(*u.Usage); err != nil {
			return errs.Invalidf("Unable to parse specified usages: %v - valid values are %v", *u.Usage, UsageAll)
		}
	}
	if u.RevocationSignatureAlgorithm != nil && *u.RevocationSignatureAlgorithm != "" {
		if _, ok := signatureAlgorithmNames[strings.ToLower(*u.RevocationSignatureAlgorithm)]; !ok {
			return errs.Invalidf("Unknown signature algorithm value: %v - valid values are %v", *u.RevocationSignatureAlgorithm,
				"sha256withrsa, sha384withrsa, sha512withrsa, ecdsawithsha256, ecdsawithsha384, ecdsawithsha512, sha256withrsapss, sha384withrsapss, sha512withrsapss, pureed25519, ed25519")
		}
	}
	templating := u.EnableAIAURLTemplating != nil && *u.EnableAIAURLTemplating
	for _, f := range []struct {
		name string
		list *[]string
	}{
		{"issuing_certificates", u.IssuingCertificates},
		{"crl_distribution_points", u.CRLDistributionPoints},
		{"delta_crl_distribution_points", u.DeltaCRLDistributionPoints},
		{"ocsp_servers", u.OCSPServers},
	} {
		if f.list == nil {
			continue
		}
		if templating {
			// As for config/urls: refuse now what would fail every issue.
			if bad := firstBadTemplate(*f.list); bad != "" {
				return errs.Invalidf("error validating templated %s; invalid URI: %s", f.name, bad)
			}
			continue
		}
		if bad := firstBadURL(*f.list, false); bad != "" {
			return errs.Invalidf("invalid URL found in Authority Information Access (AIA) parameter %s: %s", f.name, bad)
		}
	}
	return nil
}

func (a *Authority) applyIssuerUpdate(tx storage.Tx, rec *records.Issuer, u IssuerUpdate) error {
	cert, err := a.cert(rec.Certificate)
	if err != nil {
		return err
	}
	if u.IssuerName != nil {
		name := strings.TrimSpace(*u.IssuerName)
		if taken, err := issuerKind.nameTaken(tx, name, rec.ID); err != nil || taken {
			return orErr(err, errIssuerNameInUse)
		}
		if name != rec.Name {
			rec.Name, rec.LastModified = name, a.cfg.Clock.Now().UTC()
		}
	}
	if u.LeafNotAfterBehavior != nil {
		rec.LeafNotAfterBehavior = *u.LeafNotAfterBehavior
	}
	if u.Usage != nil {
		usage, _ := ParseUsage(*u.Usage)
		if usage != rec.Usage {
			if rec.Revoked && usage.Has(UsageIssuing) {
				return errs.Invalidf("This issuer was revoked; unable to modify its usage to include certificate signing again. Reissue this certificate (preferably with a new key) and modify that entry instead.")
			}
			if cert.KeyUsage&x509.KeyUsageCRLSign == 0 && usage.Has(UsageCRLSigning) {
				return errs.Invalidf("This issuer's underlying certificate lacks the CRLSign KeyUsage value; unable to set CRLSigningUsage on this issuer as a result.")
			}
			rec.Usage = usage
		}
	}
	if u.RevocationSignatureAlgorithm != nil {
		alg := signatureAlgorithmNames[strings.ToLower(*u.RevocationSignatureAlgorithm)]
		if !algorithmSuitsKey(cert.PublicKeyAlgorithm, alg) {
			return errs.Newf(errs.InvalidVault500, "unable to use issuer of type %v to sign with %v key type", cert.PublicKeyAlgorithm, alg)
		}
		rec.RevocationSigAlg = signatureAlgorithmName(alg)
	}
	applyAIAUpdate(rec, u)
	if u.ManualChain != nil {
		if err := a.setManualChain(tx, rec, *u.ManualChain); err != nil {
			return err
		}
	}
	if err := records.PutIssuer(tx, rec); err != nil {
		return err
	}
	if u.ManualChain == nil {
		return nil
	}
	if err := a.rebuildChains(tx); err != nil {
		return err
	}
	fresh, err := records.GetIssuer(tx, rec.ID)
	if err != nil {
		return err
	}
	*rec = *fresh
	return nil
}

// applyAIAUpdate sets the issuer's URL override. It exists only while one
// of the issuing, CRL or OCSP lists is non-empty, as in Vault.
func applyAIAUpdate(rec *records.Issuer, u IssuerUpdate) {
	aia := rec.AIA
	if aia == nil {
		aia = &records.URLs{}
	}
	set := func(dst *[]string, src *[]string) {
		if src != nil {
			*dst = clone(*src)
		}
	}
	set(&aia.IssuingCertificates, u.IssuingCertificates)
	set(&aia.CRLDistributionPoints, u.CRLDistributionPoints)
	set(&aia.DeltaCRLDistributionPoints, u.DeltaCRLDistributionPoints)
	set(&aia.OCSPServers, u.OCSPServers)
	if u.EnableAIAURLTemplating != nil {
		aia.EnableTemplating = *u.EnableAIAURLTemplating
	}
	if aia.Empty() {
		aia = nil
	}
	rec.AIA = aia
}

func (a *Authority) setManualChain(tx storage.Tx, rec *records.Issuer, refs []string) error {
	var chain []string
	for i, r := range refs {
		if i == 0 && r == "self" {
			r = rec.ID
		}
		target, err := issuerKind.resolve(tx, r)
		if err != nil {
			return refErr(err, errs.InvalidVault500, "")
		}
		if i == 0 && target.ID != rec.ID {
			return errs.Invalidf("expected first cert in chain to be a self-reference, but was: %v/%v", r, target.ID)
		}
		chain = append(chain, target.ID)
	}
	rec.ManualChain = chain
	return nil
}

// RemoveIssuer removes an issuer (not its key) for DELETE issuer/:ref. An
// unknown reference is not an error: deleted is false and Vault answers as
// if it was deleted. Deleting the default issuer leaves none. Chains are
// rebuilt and a CRL rebuild forced.
func (a *Authority) RemoveIssuer(ctx context.Context, ref string) (deleted bool, warnings []string, err error) {
	err = a.cfg.Space.Update(func(tx storage.Tx) error {
		deleted, warnings = false, nil
		rec, err := issuerKind.resolve(tx, ref)
		if isRefError(err) {
			return nil
		} else if err != nil {
			return err
		}
		if rec.Name != "" {
			warnings = append(warnings, roleReferenceWarnings(tx, rec.Name)...)
		}
		warnings = append(warnings, roleReferenceWarnings(tx, rec.ID)...)
		cfg, err := records.GetIssuersConfig(tx)
		if err != nil {
			return err
		}
		if cfg.Default == rec.ID {
			cfg.Default = ""
			if err := records.PutIssuersConfig(tx, cfg); err != nil {
				return err
			}
			warnings = append(warnings, fmt.Sprintf("Deleted issuer %v (via issuer_ref %v); this was configured as the default issuer. Operations without an explicit issuer will not work until a new default is configured.", rec.ID, NormalizeRef(ref)))
			warnings = append(warnings, roleReferenceWarnings(tx, DefaultRef)...)
		}
		if err := records.DeleteIssuer(tx, rec.ID); err != nil {
			return err
		}
		deleted = true
		return a.rebuildChains(tx)
	})
	if err != nil || !deleted {
		return deleted, warnings, err
	}
	w, err := a.rebuildCRL(ctx, true)
	return true, append(warnings, w...), err
}

// DeleteIssuer implements crl.IssuerRemover for tidy's
// tidy_expired_issuers pass: it removes the issuer with this ID (never its
// key), rebuilds chains and forces a CRL rebuild, and reports whether it
// was the default (which is then unset). An unknown ID is not an error.
func (a *Authority) DeleteIssuer(ctx context.Context, id string) (wasDefault bool, err error) {
	var deleted bool
	err = a.cfg.Space.Update(func(tx storage.Tx) error {
		wasDefault, deleted = false, false
		rec, err := records.GetIssuer(tx, id)
		if err != nil || rec == nil {
			return err
		}
		cfg, err := records.GetIssuersConfig(tx)
		if err != nil {
			return err
		}
		if cfg.Default == id {
			wasDefault, cfg.Default = true, ""
			if err := records.PutIssuersConfig(tx, cfg); err != nil {
				return err
			}
		}
		if err := records.DeleteIssuer(tx, id); err != nil {
			return err
		}
		deleted = true
		return a.rebuildChains(tx)
	})
	if err != nil || !deleted {
		return wasDefault, err
	}
	_, err = a.rebuildCRL(ctx, true)
	return wasDefault, err
}

// RevokeIssuer revokes an issuer (spec §3.2): irreversibly marked revoked,
// without the issuing-certificates usage, recorded as revoked if its
// certificate is in the mount's certificate store, and the CRLs rebuilt.
// An issuer already revoked is returned as it is, without warnings.
func (a *Authority) RevokeIssuer(ctx context.Context, ref string) (*IssuerInfo, []string, error) {
	var rec *records.Issuer
	var already bool
	now := a.cfg.Clock.Now()
	err := a.cfg.Space.Update(func(tx storage.Tx) error {
		var err error
		if rec, err = issuerKind.resolve(tx, ref); err != nil {
			return refErr(err, errs.InvalidVault500, "")
		}
		if already = rec.Revoked; already {
			return nil
		}
		rec.Revoked = true
		rec.Usage &^= UsageIssuing
		rec.RevocationTime, rec.RevocationTimeUTC = now.Unix(), now.UTC()
		if err := records.PutIssuer(tx, rec); err != nil {
			return err
		}
		return a.recordIssuerRevocation(tx, rec, now)
	})
	if err != nil {
		return nil, nil, err
	}
	info, err := a.issuerInfo(rec)
	if err != nil || already {
		return info, nil, err
	}
	warnings, err := a.rebuildCRL(ctx, false)
	if err != nil {
		return nil, nil, errs.Wrap(errs.KindOf(err), err, "Error during CRL building: "+errs.Message(err))
	}
	w, err := a.revocationWarnings(rec, info.Cert)
	return info, append(warnings, w...), err
}

func (a *Authority) recordIssuerRevocation(tx storage.Tx, rec *records.Issuer, at time.Time) error {
	cert, err := a.cert(rec.Certificate)
	if err != nil {
		return err
	}
	stored := records.GetCert(tx, rec.SerialNumber)
	if stored == nil || !bytes.Equal(stored, cert.Raw) {
		return nil
	}
	return a.crl.RecordIssuerRevocation(tx, cert, at)
}

// revocationWarnings are Vault's notes on a freshly revoked issuer.
func (a *Authority) revocationWarnings(rec *records.Issuer, cert *x509.Certificate) ([]string, error) {
	var w []string
	err := a.cfg.Space.View(func(tx storage.Tx) error {
		recs, err := records.AllIssuers(tx)
		if err != nil {
			return err
		}
		selfSigned, otherParent := false, false
		for _, cand := range recs {
			c, err := a.cert(cand.Certificate)
			if err != nil {
				return err
			}
			if cert.CheckSignatureFrom(c) != nil {
				continue
			}
			if cand.ID == rec.ID {
				selfSigned = true
			} else {
				otherParent = true
			}
		}
		if selfSigned {
			w = append(w, "This issuer is a self-signed (potentially root) certificate. This means it may not be considered revoked if there is not an external, cross-signed variant of this certificate. This issuer's serial number will not appear on its own CRL.")
		}
		if !otherParent {
			w = append(w, "This issuer lacks another parent issuer within the mount. This means it will not appear on any other CRLs and may not be considered revoked by clients. Consider adding this issuer to its issuer's CRL as well if it is not self-signed.")
		}
		cfg, err := records.GetIssuersConfig(tx)
		if err == nil && cfg.Default == rec.ID {
			w = append(w, "This issuer is currently configured as the default issuer for this mount; operations such as certificate issuance may not work until a new default issuer is selected.")
		}
		return err
	})
	return w, err
}

// roleReferenceWarnings counts the mount's roles whose issuer_ref is ref
// (Vault's "N roles reference X" note when an issuer name goes away),
// stopping after 100 roles as Vault does.
func roleReferenceWarnings(tx storage.Tx, ref string) []string {
	const maxScan, maxFind = 100, 10
	found, complete := records.RolesReferencing(tx, ref, maxScan, maxFind)
	timeout := !complete
	switch {
	case timeout && found == 0:
		return []string{fmt.Sprint("Unable to check if any roles referenced this issuer by ", ref)}
	case timeout:
		return []string{fmt.Sprint("The name ", ref, " was in use by at least ", found, " roles")}
	case found > 0:
		return []string{fmt.Sprint(found, " roles reference ", ref)}
	}
	return nil
}
