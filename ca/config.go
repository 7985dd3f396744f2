package ca

import (
	"fmt"
	"strings"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/records"
	"github.com/pkid-dev/pkid/storage"
)

// URLConfig is config/urls, or an issuer's own URL override.
type URLConfig struct {
	IssuingCertificates        []string
	CRLDistributionPoints      []string
	DeltaCRLDistributionPoints []string
	OCSPServers                []string
	EnableTemplating           bool
}

func exportURLs(c records.URLs) URLConfig {
	return URLConfig{
		IssuingCertificates:        nonNil(c.IssuingCertificates),
		CRLDistributionPoints:      nonNil(c.CRLDistributionPoints),
		DeltaCRLDistributionPoints: nonNil(c.DeltaCRLDistributionPoints),
		OCSPServers:                nonNil(c.OCSPServers),
		EnableTemplating:           c.EnableTemplating,
	}
}

// nonNil makes absent lists render as [] rather than null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// URLConfigUpdate holds the fields of a config/urls write; nil fields keep
// their stored value (Vault merges).
type URLConfigUpdate struct {
	IssuingCertificates        *[]string
	CRLDistributionPoints      *[]string
	DeltaCRLDistributionPoints *[]string
	OCSPServers                *[]string
	EnableTemplating           *bool
}

// URLs returns config/urls.
func (a *Authority) URLs() (URLConfig, error) {
	var c records.URLs
	err := a.cfg.Space.View(func(tx storage.Tx) error {
		var err error
		c, err = records.GetURLs(tx)
		return err
	})
	return exportURLs(c), err
}

// SetURLs merges u into config/urls. Without templating every URL must be
// absolute with a host (errs.Invalid "invalid URL found in Authority
// Information Access (AIA) parameter <field>: <url>"); with templating,
// problems are only warned about, as in Vault. Certificates signed from now
// on carry the new URLs.
func (a *Authority) SetURLs(u URLConfigUpdate) (URLConfig, []string, error) {
	var c records.URLs
	var warnings []string
	err := a.cfg.Space.Update(func(tx storage.Tx) error {
		var err error
		if c, err = records.GetURLs(tx); err != nil {
			return err
		}
		warnings = nil
		setList(&c.IssuingCertificates, u.IssuingCertificates)
		setList(&c.CRLDistributionPoints, u.CRLDistributionPoints)
		setList(&c.DeltaCRLDistributionPoints, u.DeltaCRLDistributionPoints)
		setList(&c.OCSPServers, u.OCSPServers)
		if u.EnableTemplating != nil {
			c.EnableTemplating = *u.EnableTemplating
		}
		if err := checkURLConfig(tx, &c, &warnings); err != nil {
			return err
		}
		return records.PutURLs(tx, c)
	})
	return exportURLs(c), warnings, err
}

func setList(dst *[]string, src *[]string) {
	if src != nil {
		*dst = clone(*src)
	}
}

func checkURLConfig(tx storage.Tx, c *records.URLs, warnings *[]string) error {
	for _, f := range []struct {
		name string
		list []string
	}{
		{"issuing_certificates", c.IssuingCertificates},
		{"crl_distribution_points", c.CRLDistributionPoints},
		{"delta_crl_distribution_points", c.DeltaCRLDistributionPoints},
		{"ocsp_servers", c.OCSPServers},
	} {
		if !c.EnableTemplating {
			if bad := firstBadURL(f.list, false); bad != "" {
				return errs.Invalidf("invalid URL found in Authority Information Access (AIA) parameter %s: %s", f.name, bad)
			}
			continue
		}
		// Vault accepts any templated value here and then fails every
		// issue of the mount with a 500 until the URLs are fixed; pkid
		// refuses a value that cannot become a URL whatever fills it.
		if bad := firstBadTemplate(f.list); bad != "" {
			return errs.Invalidf("error validating templated %s; invalid URI: %s", f.name, bad)
		}
	}
	if !c.EnableTemplating {
		return nil
	}
	recs, err := records.AllIssuers(tx)
	if err != nil || len(recs) == 0 {
		return err
	}
	cluster, err := records.GetCluster(tx)
	if err != nil {
		return err
	}
	if _, err := resolveURLs(c, recs[0].ID, cluster); err != nil {
		*warnings = append(*warnings, fmt.Sprintf("issuance may fail: %v\n\nConsider setting the cluster-local address if it is not already set.", err))
	}
	return nil
}

// ClusterConfig is config/cluster: this mount's public URLs for
// {{cluster_path}} and {{cluster_aia_path}} templates.
type ClusterConfig struct {
	Path    string
	AIAPath string
}

// Cluster returns config/cluster.
func (a *Authority) Cluster() (ClusterConfig, error) {
	var c records.Cluster
	err := a.cfg.Space.View(func(tx storage.Tx) error {
		var err error
		c, err = records.GetCluster(tx)
		return err
	})
	return ClusterConfig(c), err
}

// ClusterUpdate holds a config/cluster write; nil fields keep their value.
type ClusterUpdate struct {
	Path    *string
	AIAPath *string
}

// SetCluster merges u into config/cluster.
func (a *Authority) SetCluster(u ClusterUpdate) (ClusterConfig, error) {
	var c records.Cluster
	err := a.cfg.Space.Update(func(tx storage.Tx) error {
		var err error
		if c, err = records.GetCluster(tx); err != nil {
			return err
		}
		if u.Path != nil {
			c.Path = strings.TrimSpace(*u.Path)
		}
		if u.AIAPath != nil {
			c.AIAPath = strings.TrimSpace(*u.AIAPath)
		}
		for _, p := range []string{c.Path, c.AIAPath} {
			if p != "" && firstBadURL([]string{p}, false) != "" {
				return errs.Invalidf("failed to parse cluster path URL %q: must be an absolute URL with a host", p)
			}
		}
		return records.PutCluster(tx, c)
	})
	return ClusterConfig(c), err
}

// IssuersConfig is config/issuers.
type IssuersConfig struct {
	// Default is the default issuer's ID ("" for none).
	Default string
	// DefaultFollowsLatestIssuer makes every new root, and every import
	// with exactly one new keyed issuer, the default.
	DefaultFollowsLatestIssuer bool
}

// IssuersConfig returns config/issuers.
func (a *Authority) IssuersConfig() (IssuersConfig, error) {
	var c records.IssuersConfig
	err := a.cfg.Space.View(func(tx storage.Tx) error {
		var err error
		c, err = records.GetIssuersConfig(tx)
		return err
	})
	return IssuersConfig{c.Default, c.FollowsLatest}, err
}

// SetIssuersConfig sets the default issuer (config/issuers, root/replace):
// ref is an issuer ID or name (not "default"); an unknown one is
// errs.Invalid "Error resolving issuer reference: ...". followsLatest, when
// not nil, sets default_follows_latest_issuer. A keyless default gets
// Vault's warning.
func (a *Authority) SetIssuersConfig(ref string, followsLatest *bool) (IssuersConfig, []string, error) {
	ref = NormalizeRef(ref)
	if ref == "" || ref == DefaultRef {
		return IssuersConfig{}, nil, errs.Invalidf("Invalid issuer specification; must be non-empty and can't be 'default'.")
	}
	var c records.IssuersConfig
	var warnings []string
	err := a.cfg.Space.Update(func(tx storage.Tx) error {
		rec, err := issuerKind.resolve(tx, ref)
		if err != nil {
			return refErr(err, errs.Invalid, "Error resolving issuer reference: ")
		}
		if c, err = records.GetIssuersConfig(tx); err != nil {
			return err
		}
		c.Default = rec.ID
		if followsLatest != nil {
			c.FollowsLatest = *followsLatest
		}
		warnings = nil
		if rec.KeyID == "" {
			warnings = append(warnings, "This selected default issuer has no key associated with it. Some operations like issuing certificates and signing CRLs will be unavailable with the requested default issuer until a key is imported or the default issuer is changed.")
		}
		return records.PutIssuersConfig(tx, c)
	})
	return IssuersConfig{c.Default, c.FollowsLatest}, warnings, err
}

// DefaultKey returns config/keys' default key ID ("" for none).
func (a *Authority) DefaultKey() (string, error) {
	var c records.KeysConfig
	err := a.cfg.Space.View(func(tx storage.Tx) error {
		var err error
		c, err = records.GetKeysConfig(tx)
		return err
	})
	return c.Default, err
}

// SetDefaultKey sets config/keys: ref is a key ID or name (not "default").
func (a *Authority) SetDefaultKey(ref string) (string, error) {
	ref = NormalizeRef(ref)
	if ref == "" || ref == DefaultRef {
		return "", errs.Invalidf("Invalid key specification; must be non-empty and can't be 'default'.")
	}
	var id string
	err := a.cfg.Space.Update(func(tx storage.Tx) error {
		rec, err := keyKind.resolve(tx, ref)
		if err != nil {
			return refErr(err, errs.Invalid, "Error resolving issuer reference: ")
		}
		id = rec.ID
		return records.PutKeysConfig(tx, records.KeysConfig{Default: rec.ID})
	})
	return id, err
}

// DeleteAll removes every issuer and key of the mount (DELETE root) and
// unsets both defaults; certificates, roles, revocations and configuration
// stay. It does not rebuild CRLs, as Vault does not.
func (a *Authority) DeleteAll() ([]string, error) {
	err := a.cfg.Space.Update(func(tx storage.Tx) error {
		if err := records.DeleteAllIssuersAndKeys(tx); err != nil {
			return err
		}
		ic, err := records.GetIssuersConfig(tx)
		if err != nil {
			return err
		}
		ic.Default = ""
		if err := records.PutIssuersConfig(tx, ic); err != nil {
			return err
		}
		return records.PutKeysConfig(tx, records.KeysConfig{})
	})
	if err != nil {
		return nil, err
	}
	return []string{"DELETE /root deletes all keys and issuers; prefer the new DELETE /key/:key_ref and DELETE /issuer/:issuer_ref for finer granularity, unless removal of all keys and issuers is desired."}, nil
}
