package ca

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/pkid-dev/pkid/records"
)

// URLs are the locations put into the certificates an issuer signs: the
// Authority Information Access caIssuers and OCSP entries, the CRL
// Distribution Points and the Freshest CRL (delta CRL) points.
type URLs struct {
	IssuingCertificates        []string
	CRLDistributionPoints      []string
	DeltaCRLDistributionPoints []string
	OCSPServers                []string
}

// Apply writes the URLs into a certificate template, including the Freshest
// CRL extension (RFC 5280 §4.2.1.15) when delta CRL locations are set.
func (u URLs) Apply(tmpl *x509.Certificate) error {
	tmpl.IssuingCertificateURL = u.IssuingCertificates
	tmpl.CRLDistributionPoints = u.CRLDistributionPoints
	tmpl.OCSPServer = u.OCSPServers
	if len(u.DeltaCRLDistributionPoints) == 0 {
		return nil
	}
	ext, err := freshestCRLExtension(u.DeltaCRLDistributionPoints)
	if err != nil {
		return err
	}
	tmpl.ExtraExtensions = append(dropExtension(tmpl.ExtraExtensions, oidFreshestCRL), ext)
	return nil
}

var oidFreshestCRL = asn1.ObjectIdentifier{2, 5, 29, 46}

// freshestCRLExtension encodes CRLDistributionPoints syntax: a SEQUENCE of
// DistributionPoint { distributionPoint [0] { fullName [0] { URI [6] } } },
// non-critical as RFC 5280 §4.2.1.15 requires.
func freshestCRLExtension(urls []string) (pkix.Extension, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, u := range urls {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.Tag(tagURI).ContextSpecific(), func(b *cryptobyte.Builder) {
							b.AddBytes([]byte(u))
						})
					})
				})
			})
		}
	})
	der, err := b.Bytes()
	if err != nil {
		return pkix.Extension{}, fmt.Errorf("ca: marshal freshest CRL: %w", err)
	}
	return pkix.Extension{Id: oidFreshestCRL, Value: der}, nil
}

// Template placeholders of templated AIA URLs (config/urls
// enable_templating).
const (
	tmplIssuerID       = "{{issuer_id}}"
	tmplClusterPath    = "{{cluster_path}}"
	tmplClusterAIAPath = "{{cluster_aia_path}}"
)

// resolveURLs turns a URL configuration into the URLs of an issuer,
// filling templates with the issuer's ID and the cluster paths. issuerID ""
// is root generation, where no ID exists yet.
func resolveURLs(c *records.URLs, issuerID string, cluster records.Cluster) (URLs, error) {
	if c.Empty() {
		return URLs{}, nil
	}
	u := URLs{
		IssuingCertificates:        clone(c.IssuingCertificates),
		CRLDistributionPoints:      clone(c.CRLDistributionPoints),
		DeltaCRLDistributionPoints: clone(c.DeltaCRLDistributionPoints),
		OCSPServers:                clone(c.OCSPServers),
	}
	if !c.EnableTemplating {
		return u, nil
	}
	for name, list := range map[string][]string{
		"issuing_certificates":          u.IssuingCertificates,
		"crl_distribution_points":       u.CRLDistributionPoints,
		"delta_crl_distribution_points": u.DeltaCRLDistributionPoints,
		"ocsp_servers":                  u.OCSPServers,
	} {
		for i, s := range list {
			t, err := fillTemplate(s, issuerID, cluster)
			if err != nil {
				return URLs{}, err
			}
			list[i] = t
		}
		if bad := firstBadURL(list, false); bad != "" {
			return URLs{}, fmt.Errorf("error validating templated %v; invalid URI: %v", name, bad)
		}
	}
	return u, nil
}

func fillTemplate(s, issuerID string, cluster records.Cluster) (string, error) {
	switch {
	case strings.Contains(s, tmplClusterPath) && cluster.Path == "":
		return "", fmt.Errorf("unable to template AIA URLs as we lack local cluster address information (path)")
	case strings.Contains(s, tmplClusterAIAPath) && cluster.AIAPath == "":
		return "", fmt.Errorf("unable to template AIA URLs as we lack local cluster address information (aia_path)")
	case strings.Contains(s, tmplIssuerID) && issuerID == "":
		return "", errNoIssuerIDForTemplate
	}
	s = strings.ReplaceAll(s, tmplClusterPath, cluster.Path)
	s = strings.ReplaceAll(s, tmplClusterAIAPath, cluster.AIAPath)
	return strings.ReplaceAll(s, tmplIssuerID, issuerID), nil
}

// templateSample fills every placeholder with a value of the shape it will
// have, so that a templated URL can be checked when it is written.
var templateSample = records.Cluster{Path: "https://pkid.invalid/v1/pki", AIAPath: "http://pkid.invalid/v1/pki"}

const sampleIssuerID = "00000000-0000-4000-8000-000000000000"

// firstBadTemplate returns the first templated URL that is not a valid URL
// once its placeholders are filled with sample values; "" when all are.
func firstBadTemplate(list []string) string {
	for _, s := range list {
		filled, err := fillTemplate(s, sampleIssuerID, templateSample)
		if err != nil || firstBadURL([]string{filled}, false) != "" {
			return s
		}
	}
	return ""
}

var errNoIssuerIDForTemplate = fmt.Errorf("unable to template AIA URLs as we lack an issuer_id for this operation")

// firstBadURL returns the first entry that is not an absolute URL with a
// host, or (unless templates are allowed) that holds a template
// placeholder; "" when all are good.
func firstBadURL(list []string, allowTemplates bool) string {
	for _, s := range list {
		if !allowTemplates && (strings.Contains(s, tmplIssuerID) || strings.Contains(s, tmplClusterPath) || strings.Contains(s, tmplClusterAIAPath)) {
			return s
		}
		u, err := url.Parse(s)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return s
		}
	}
	return ""
}

func clone(s []string) []string {
	if s == nil {
		return nil
	}
	return append([]string(nil), s...)
}
