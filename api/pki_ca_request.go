package api

import (
	"time"

	"github.com/pkid-dev/pkid/ca"
)

// The bodies of the CA endpoints (root and intermediate generation,
// sign-intermediate, sign-self-issued, issuer updates, config/urls,
// config/cluster) as Vault's schemas name and type them (spec §3.0 blocks
// CA, KEYGEN, CAISSUE, KU). As in pki_issue_request.go, field order is
// decode order and so error precedence: keep it.

// caNamesWire are the names of a CA certificate or CSR.
type caNamesWire struct {
	CommonName string `json:"common_name"`
	// AltNames is one comma-separated string, not a list type (Vault's).
	AltNames          string   `json:"alt_names"`
	IPSANs            []string `json:"ip_sans"`
	URISANs           []string `json:"uri_sans"`
	OtherSANs         []string `json:"other_sans"`
	ExcludeCNFromSANs bool     `json:"exclude_cn_from_sans"`
}

func (w caNamesWire) names() ca.NameFields {
	return ca.NameFields{
		CommonName: w.CommonName, AltNames: w.AltNames,
		IPSANs: w.IPSANs, URISANs: w.URISANs, OtherSANs: w.OtherSANs,
		ExcludeCNFromSANs: w.ExcludeCNFromSANs,
	}
}

// caSubjectWire is the subject block plus the subject serialNumber.
type caSubjectWire struct {
	subjectWire
	SerialNumber string `json:"serial_number"`
}

func (w caSubjectWire) fields() ca.SubjectFields {
	return ca.SubjectFields{Subject: w.subject(), SerialNumber: w.SerialNumber}
}

type caValidityWire struct {
	TTL               time.Duration  `json:"ttl"`
	NotAfter          string         `json:"not_after"`
	NotBeforeDuration *time.Duration `json:"not_before_duration"`
}

func (w caValidityWire) validity() ca.ValidityFields {
	return ca.ValidityFields{TTL: w.TTL, NotAfter: w.NotAfter, NotBeforeDuration: w.NotBeforeDuration}
}

type caKeyWire struct {
	KeyType       *string `json:"key_type"`
	KeyBits       *int    `json:"key_bits"`
	SignatureBits int     `json:"signature_bits"`
	KeyName       string  `json:"key_name"`
	KeyRef        string  `json:"key_ref"`
}

func (w caKeyWire) key() ca.KeyFields {
	return ca.KeyFields{
		KeyType: w.KeyType, KeyBits: w.KeyBits, SignatureBits: w.SignatureBits,
		KeyName: w.KeyName, KeyRef: w.KeyRef,
	}
}

type caExtensionWire struct {
	MaxPathLength           *int      `json:"max_path_length"`
	PermittedDNSDomains     []string  `json:"permitted_dns_domains"`
	ExcludedDNSDomains      []string  `json:"excluded_dns_domains"`
	PermittedIPRanges       []string  `json:"permitted_ip_ranges"`
	ExcludedIPRanges        []string  `json:"excluded_ip_ranges"`
	PermittedEmailAddresses []string  `json:"permitted_email_addresses"`
	ExcludedEmailAddresses  []string  `json:"excluded_email_addresses"`
	PermittedURIDomains     []string  `json:"permitted_uri_domains"`
	ExcludedURIDomains      []string  `json:"excluded_uri_domains"`
	KeyUsage                *[]string `json:"key_usage"`
	ExtKeyUsage             *[]string `json:"ext_key_usage"`
	ExtKeyUsageOIDs         *[]string `json:"ext_key_usage_oids"`
}

func (w caExtensionWire) extensions() ca.CAExtensionFields {
	return ca.CAExtensionFields{
		MaxPathLength:       w.MaxPathLength,
		PermittedDNSDomains: w.PermittedDNSDomains, ExcludedDNSDomains: w.ExcludedDNSDomains,
		PermittedIPRanges: w.PermittedIPRanges, ExcludedIPRanges: w.ExcludedIPRanges,
		PermittedEmailAddresses: w.PermittedEmailAddresses, ExcludedEmailAddresses: w.ExcludedEmailAddresses,
		PermittedURIDomains: w.PermittedURIDomains, ExcludedURIDomains: w.ExcludedURIDomains,
		KeyUsage: w.KeyUsage, ExtKeyUsage: w.ExtKeyUsage, ExtKeyUsageOIDs: w.ExtKeyUsageOIDs,
	}
}

type caOutputWire struct {
	Format           string `json:"format"`
	PrivateKeyFormat string `json:"private_key_format"`
}

func (w caOutputWire) output() ca.OutputFields {
	return ca.OutputFields{Format: w.Format, PrivateKeyFormat: w.PrivateKeyFormat}
}

// rootWire is the body of root/generate/:exported and its aliases.
type rootWire struct {
	caNamesWire
	caSubjectWire
	caValidityWire
	caKeyWire
	caExtensionWire
	caOutputWire
	UsePSS     bool    `json:"use_pss"`
	IssuerName *string `json:"issuer_name"`
}

func (w rootWire) request() ca.RootRequest {
	return ca.RootRequest{
		NameFields: w.names(), SubjectFields: w.fields(), ValidityFields: w.validity(),
		KeyFields: w.key(), CAExtensionFields: w.extensions(), OutputFields: w.output(),
		UsePSS: w.UsePSS, IssuerName: w.IssuerName,
	}
}

// intermediateWire is the body of intermediate/generate/:exported, its
// alias and intermediate/cross-sign.
type intermediateWire struct {
	caNamesWire
	caSubjectWire
	caValidityWire
	caKeyWire
	caOutputWire
	AddBasicConstraints bool     `json:"add_basic_constraints"`
	KeyUsage            []string `json:"key_usage"`
	IssuerName          *string  `json:"issuer_name"`
}

func (w intermediateWire) request() ca.IntermediateRequest {
	return ca.IntermediateRequest{
		NameFields: w.names(), SubjectFields: w.fields(), ValidityFields: w.validity(),
		KeyFields: w.key(), OutputFields: w.output(),
		AddBasicConstraints: w.AddBasicConstraints, KeyUsage: w.KeyUsage, IssuerName: w.IssuerName,
	}
}

// signIntermediateWire is the body of root/sign-intermediate and
// issuer/:ref/sign-intermediate.
type signIntermediateWire struct {
	CSR       string `json:"csr"`
	IssuerRef string `json:"issuer_ref"`
	caNamesWire
	caSubjectWire
	caValidityWire
	caExtensionWire
	caOutputWire
	UseCSRValues  bool    `json:"use_csr_values"`
	SignatureBits int     `json:"signature_bits"`
	UsePSS        bool    `json:"use_pss"`
	SKID          string  `json:"skid"`
	IssuerName    *string `json:"issuer_name"`
}

// defaultSignIntermediateWire signs with the default issuer unless the
// body or the URL names another.
func defaultSignIntermediateWire() signIntermediateWire {
	return signIntermediateWire{IssuerRef: ca.DefaultRef}
}

func (w signIntermediateWire) request() ca.SignIntermediateRequest {
	return ca.SignIntermediateRequest{
		CSR: w.CSR, IssuerRef: w.IssuerRef,
		NameFields: w.names(), SubjectFields: w.fields(), ValidityFields: w.validity(),
		CAExtensionFields: w.extensions(), OutputFields: w.output(),
		UseCSRValues: w.UseCSRValues, SignatureBits: w.SignatureBits, UsePSS: w.UsePSS,
		SKID: w.SKID, IssuerName: w.IssuerName,
	}
}

// selfIssuedWire is the body of root/sign-self-issued and
// issuer/:ref/sign-self-issued.
type selfIssuedWire struct {
	Certificate                          string `json:"certificate"`
	IssuerRef                            string `json:"issuer_ref"`
	RequireMatchingCertificateAlgorithms bool   `json:"require_matching_certificate_algorithms"`
}

func defaultSelfIssuedWire() selfIssuedWire {
	return selfIssuedWire{IssuerRef: ca.DefaultRef}
}

func (w selfIssuedWire) request() ca.SelfIssuedRequest {
	return ca.SelfIssuedRequest{
		Certificate: w.Certificate, IssuerRef: w.IssuerRef,
		RequireMatchingCertificateAlgorithms: w.RequireMatchingCertificateAlgorithms,
	}
}

// issuerUpdateWire is the body of a write to issuer/:ref; pointers tell an
// absent field from an empty one (POST defaults it, PATCH keeps it).
type issuerUpdateWire struct {
	IssuerName                   *string   `json:"issuer_name"`
	LeafNotAfterBehavior         *string   `json:"leaf_not_after_behavior"`
	Usage                        *[]string `json:"usage"`
	RevocationSignatureAlgorithm *string   `json:"revocation_signature_algorithm"`
	ManualChain                  *[]string `json:"manual_chain"`
	IssuingCertificates          *[]string `json:"issuing_certificates"`
	CRLDistributionPoints        *[]string `json:"crl_distribution_points"`
	DeltaCRLDistributionPoints   *[]string `json:"delta_crl_distribution_points"`
	OCSPServers                  *[]string `json:"ocsp_servers"`
	EnableAIAURLTemplating       *bool     `json:"enable_aia_url_templating"`
}

func (w issuerUpdateWire) update() ca.IssuerUpdate {
	return ca.IssuerUpdate{
		IssuerName: w.IssuerName, LeafNotAfterBehavior: w.LeafNotAfterBehavior,
		Usage: w.Usage, RevocationSignatureAlgorithm: w.RevocationSignatureAlgorithm,
		ManualChain: w.ManualChain, IssuingCertificates: w.IssuingCertificates,
		CRLDistributionPoints: w.CRLDistributionPoints, DeltaCRLDistributionPoints: w.DeltaCRLDistributionPoints,
		OCSPServers: w.OCSPServers, EnableAIAURLTemplating: w.EnableAIAURLTemplating,
	}
}

// urlConfigWire is the body of a config/urls write; absent fields keep
// their stored value.
type urlConfigWire struct {
	IssuingCertificates        *[]string `json:"issuing_certificates"`
	CRLDistributionPoints      *[]string `json:"crl_distribution_points"`
	DeltaCRLDistributionPoints *[]string `json:"delta_crl_distribution_points"`
	OCSPServers                *[]string `json:"ocsp_servers"`
	EnableTemplating           *bool     `json:"enable_templating"`
}

func (w urlConfigWire) update() ca.URLConfigUpdate {
	return ca.URLConfigUpdate{
		IssuingCertificates: w.IssuingCertificates, CRLDistributionPoints: w.CRLDistributionPoints,
		DeltaCRLDistributionPoints: w.DeltaCRLDistributionPoints, OCSPServers: w.OCSPServers,
		EnableTemplating: w.EnableTemplating,
	}
}

// clusterWire is the body of a config/cluster write; absent fields keep
// their value.
type clusterWire struct {
	Path    *string `json:"path"`
	AIAPath *string `json:"aia_path"`
}

func (w clusterWire) update() ca.ClusterUpdate {
	return ca.ClusterUpdate{Path: w.Path, AIAPath: w.AIAPath}
}
