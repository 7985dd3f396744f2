package ca

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"github.com/pkid-dev/pkid/records"
	"strings"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/storage"
)

// SignIntermediateRequest is the input of root/sign-intermediate and
// issuer/:ref/sign-intermediate (spec §3.1, blocks CA, CAISSUE, KU).
type SignIntermediateRequest struct {
	CSR string
	// IssuerRef picks the signer on root/sign-intermediate ("" → default);
	// on issuer/:ref/sign-intermediate the URL's reference wins.
	IssuerRef string
	NameFields
	SubjectFields
	ValidityFields
	CAExtensionFields
	OutputFields
	// UseCSRValues copies the CSR's subject, SANs and extensions (except
	// Basic Constraints) instead of taking them from the request.
	UseCSRValues  bool
	SignatureBits int
	UsePSS        bool
	// SKID overrides the Subject Key Identifier (hex; ':', '-' and spaces
	// allowed), for cross-signing.
	SKID string
	// IssuerName is part of Vault's schema here but unused: no issuer is
	// created by signing.
	IssuerName *string
}

// SignedCA is a CA certificate signed by one of the mount's issuers.
type SignedCA struct {
	Cert *x509.Certificate
	// Signer is the issuer that signed it.
	Signer *SigningIssuer
	// Chain is the signer's ca_chain (the signer first); the answer's
	// ca_chain is Cert followed by Chain.
	Chain    []*x509.Certificate
	Warnings []string
}

const warnOutlivesCA = "The expiration time for the signed certificate is after the CA's expiration time. If the new certificate is not treated as a root, validation paths with the certificate past the issuing CA's expiration time will fail."

// SignIntermediate signs an intermediate CA's CSR with the issuer ref
// (spec §3.1 sign intermediate). Any names and key types are allowed (RSA
// at least 2048 bits); validity is the request's ttl or not_after (default:
// the mount's default TTL, capped at its max TTL with a warning) and may
// outlive the signer (a warning, never an error); the path length is
// max_path_length or the signer's minus one. The result is stored in the
// certificate store but not imported as an issuer.
func (a *Authority) SignIntermediate(ctx context.Context, ref string, req *SignIntermediateRequest, ttls MountTTLs) (*SignedCA, error) {
	if ref = NormalizeRef(ref); ref == "" {
		return nil, errMissingIssuerRef
	}
	if _, err := ParseFormat(req.Format); err != nil {
		// This path words the refusal its own way (sic).
		return nil, errs.Invalidf(`The "format" path parameter must be "pem", "der" or "pem_bundle"`)
	}
	si, err := a.SigningIssuer(ref)
	if err != nil {
		return nil, err
	}
	if err := checkMaxPathLength(req.MaxPathLength); err != nil {
		return nil, err
	}
	csr, err := ParseCSR(req.CSR)
	if err != nil {
		return nil, err
	}
	if _, _, err := CheckCSRKey(csr); err != nil {
		return nil, err
	}
	tmpl, warnings, err := a.intermediateTemplate(si, csr, req, ttls)
	if err != nil {
		return nil, err
	}
	if err := CheckCSRSignature(csr); err != nil {
		return nil, err
	}
	cert, err := si.Sign(a.cfg.Rand, tmpl, csr.PublicKey)
	if err != nil {
		return nil, err
	}
	if err := a.cfg.Space.Update(func(tx storage.Tx) error { return records.PutCert(tx, cert) }); err != nil {
		return nil, err
	}
	res := &SignedCA{Cert: cert, Signer: si, Chain: si.Chain}
	if si.Cert.NotAfter.Before(cert.NotAfter) {
		res.Warnings = append(res.Warnings, warnOutlivesCA)
	}
	res.Warnings = append(res.Warnings, rootWarnings(cert)...)
	if cert.MaxPathLen == 0 {
		res.Warnings = append(res.Warnings, "Max path length of the signed certificate is zero. This certificate cannot be used to issue intermediate CA certificates.")
	}
	res.Warnings = append(res.Warnings, warnings...)
	if p := req.keyUsageProblems(); p != "" {
		res.Warnings = append(res.Warnings, "Invalid key usage: "+p)
	}
	return res, nil
}

// intermediateTemplate builds the certificate for a CSR signed by si.
func (a *Authority) intermediateTemplate(si *SigningIssuer, csr *x509.CertificateRequest, req *SignIntermediateRequest, ttls MountTTLs) (*x509.Certificate, []string, error) {
	cn := req.CommonName
	if cn == "" {
		cn = csr.Subject.CommonName
	}
	n, err := parseNames(cn, req.NameFields)
	if err != nil {
		return nil, nil, err
	}
	notBefore, notAfter, warnings, err := caValidity(a.cfg.Clock.Now(), req.ValidityFields, ttls)
	if err != nil {
		return nil, nil, err
	}
	skid, err := parseSKID(req.SKID)
	if err != nil {
		return nil, nil, err
	}
	serial, err := NewSerial(a.cfg.Rand)
	if err != nil {
		return nil, nil, err
	}
	subj := req.SubjectFields
	if subj.SerialNumber == "" {
		subj.SerialNumber = csr.Subject.SerialNumber
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: subj.subject(cn),
		NotBefore: notBefore, NotAfter: notAfter, SubjectKeyId: skid,
		DNSNames: n.dns, EmailAddresses: n.emails, IPAddresses: n.ips, URIs: n.uris,
	}
	if req.UseCSRValues {
		copyCSRValues(tmpl, csr, len(n.others) > 0)
	}
	maxPath, err := intermediatePathLen(si.Cert, req.MaxPathLength)
	if err != nil {
		return nil, nil, err
	}
	if err := req.CAExtensionFields.apply(tmpl, maxPath); err != nil {
		return nil, nil, err
	}
	if err := SetOtherSANs(tmpl, n.others); err != nil {
		return nil, nil, err
	}
	if err := si.URLs.Apply(tmpl); err != nil {
		return nil, nil, err
	}
	sigBits := CSRSignatureBits(csr.PublicKey, req.SignatureBits)
	if _, err := ValidateSignatureBits(KeyTypeOf(csr.PublicKey), sigBits); err != nil {
		return nil, nil, err
	}
	tmpl.SignatureAlgorithm = si.CSRSignatureAlgorithm(sigBits, req.UsePSS)
	return tmpl, warnings, nil
}

// copyCSRValues applies use_csr_values: the CSR's raw subject, its SANs and
// every extension but Basic Constraints (and but the SAN when other_sans
// were given, which rebuild it).
func copyCSRValues(tmpl *x509.Certificate, csr *x509.CertificateRequest, haveOthers bool) {
	tmpl.RawSubject = csr.RawSubject
	tmpl.DNSNames, tmpl.EmailAddresses = csr.DNSNames, csr.EmailAddresses
	tmpl.IPAddresses, tmpl.URIs = csr.IPAddresses, csr.URIs
	for _, ext := range csr.Extensions {
		if ext.Id.Equal(oidBasicConstraints) || (haveOthers && ext.Id.Equal(oidSubjectAltName)) {
			continue
		}
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, ext)
	}
}

// intermediatePathLen is max_path_length when sent, else the signer's path
// length minus one (unlimited under an unlimited signer). A signer with
// pathlen:0 cannot sign CA certificates at all.
func intermediatePathLen(signer *x509.Certificate, requested *int) (int, error) {
	if signer.MaxPathLen == 0 && signer.MaxPathLenZero {
		return 0, errs.Invalidf("signing certificate has a max path length of zero, and cannot issue further CA certificates")
	}
	switch {
	case requested != nil:
		return *requested, nil
	case signer.MaxPathLen < 0:
		return -1, nil
	}
	return signer.MaxPathLen - 1, nil
}

// parseSKID reads a hex key identifier, dropping the separators that
// OpenSSL (':'), old Vault ('-') and Chromium (' ') print.
func parseSKID(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	for _, sep := range []string{":", "-", " "} {
		s = strings.ReplaceAll(s, sep, "")
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, errs.Invalidf("cannot parse requested SKID value as hex: %v", err)
	}
	return b, nil
}

// SelfIssuedRequest is the input of root/sign-self-issued and
// issuer/:ref/sign-self-issued.
type SelfIssuedRequest struct {
	Certificate string
	IssuerRef   string
	// RequireMatchingCertificateAlgorithms refuses to re-sign a
	// certificate whose key type differs from the signer's.
	RequireMatchingCertificateAlgorithms bool
}

// SignSelfIssued re-signs a self-issued CA certificate with the issuer ref,
// keeping its fields but taking the signer's AIA, CRL and OCSP URLs (and
// the signer's default algorithm when the key types differ). The result is
// not stored (spec §3.2).
func (a *Authority) SignSelfIssued(ref string, req *SelfIssuedRequest) (*SignedCA, error) {
	if ref = NormalizeRef(ref); ref == "" {
		return nil, errMissingIssuerRef
	}
	block, _ := pem.Decode([]byte(req.Certificate))
	if block == nil || len(block.Bytes) == 0 {
		return nil, errs.Invalidf("certificate could not be PEM-decoded")
	}
	certs, err := x509.ParseCertificates(block.Bytes)
	if err != nil {
		return nil, errs.Invalidf("error parsing certificate: %s", err)
	}
	if len(certs) != 1 {
		return nil, errs.Invalidf("%d certificates found in PEM file, expected 1", len(certs))
	}
	cert := certs[0]
	if !cert.IsCA {
		return nil, errs.Invalidf("given certificate is not a CA certificate")
	}
	if !bytes.Equal(cert.RawIssuer, cert.RawSubject) {
		return nil, errs.Invalidf("given certificate is not self-issued")
	}
	si, err := a.SigningIssuer(ref)
	if err != nil {
		return nil, err
	}
	tmpl := *cert
	tmpl.IssuingCertificateURL = si.URLs.IssuingCertificates
	tmpl.CRLDistributionPoints = si.URLs.CRLDistributionPoints
	tmpl.OCSPServer = si.URLs.OCSPServers
	if si.Cert.PublicKeyAlgorithm != cert.PublicKeyAlgorithm {
		if req.RequireMatchingCertificateAlgorithms {
			return nil, errs.Newf(errs.InvalidVault500,
				"signing certificate's public key algorithm (%s) does not match submitted certificate's (%s), and require_matching_certificate_algorithms is true",
				si.Cert.PublicKeyAlgorithm, cert.PublicKeyAlgorithm)
		}
		tmpl.SignatureAlgorithm = SignatureAlgorithm(si.Signer.Public(), 0, false)
	}
	der, err := x509.CreateCertificate(a.cfg.Rand, &tmpl, si.Cert, cert.PublicKey, si.Signer)
	if err != nil {
		return nil, errs.Wrap(errs.InvalidVault500, err, fmt.Sprintf("error signing self-issued certificate: %v", err))
	}
	signed, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("ca: parse re-signed certificate: %w", err)
	}
	return &SignedCA{Cert: signed, Signer: si, Chain: si.Chain}, nil
}
