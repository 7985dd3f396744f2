package crl

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"github.com/pkid-dev/pkid/records"

	"golang.org/x/crypto/ocsp"

	"github.com/pkid-dev/pkid/storage"
)

// OCSPOutcome classifies an OCSP answer. The body is always an OCSP
// response; Vault sends the error kinds with HTTP 401, 400 and 500
// (path_ocsp.go), which the api layer maps.
type OCSPOutcome int

const (
	OCSPAnswered     OCSPOutcome = iota // a signed good, revoked or unknown
	OCSPUnauthorized                    // responder off, or no issuer may sign
	OCSPMalformed                       // the request does not parse
	OCSPInternal                        // something failed on our side
)

// OCSPAnswer is the responder's answer: an outcome and the DER body.
type OCSPAnswer struct {
	Outcome OCSPOutcome
	Body    []byte
}

// maxOCSPRequest bounds a request as Vault does: a simple request is under
// 100 bytes (path_ocsp.go maximumRequestSize).
const maxOCSPRequest = 2048

// OCSPBase64 answers a GET request: the DER request in base64 (RFC 6960
// Appendix A.1), already URL-decoded from the path. Vault decodes it with
// the standard, padded alphabet only (path_ocsp.go), so a URL-safe or
// unpadded request is malformed there, and here.
func (m *Manager) OCSPBase64(ctx context.Context, s string) OCSPAnswer {
	if m.CRLConfig().OCSPDisable {
		return OCSPAnswer{OCSPUnauthorized, ocsp.UnauthorizedErrorResponse}
	}
	if s == "" || len(s) >= maxOCSPRequest {
		return OCSPAnswer{OCSPMalformed, ocsp.MalformedRequestErrorResponse}
	}
	der, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return OCSPAnswer{OCSPMalformed, ocsp.MalformedRequestErrorResponse}
	}
	return m.OCSP(ctx, der)
}

// OCSP answers a DER OCSP request (RFC 6960). One serial per request, as
// Vault: good when not revoked, revoked with its time (reason unspecified),
// and unknown when the request names no issuer of this mount, in which case
// the default issuer signs. ocsp_disable, or no issuer able to sign, answers
// "unauthorized" (RFC 5019 §2.2.3).
func (m *Manager) OCSP(ctx context.Context, der []byte) OCSPAnswer {
	cfg := m.CRLConfig()
	if cfg.OCSPDisable {
		return OCSPAnswer{OCSPUnauthorized, ocsp.UnauthorizedErrorResponse}
	}
	if len(der) == 0 || len(der) >= maxOCSPRequest {
		return OCSPAnswer{OCSPMalformed, ocsp.MalformedRequestErrorResponse}
	}
	req, err := ocsp.ParseRequest(der)
	if err != nil || req.SerialNumber == nil || !req.HashAlgorithm.Available() {
		return OCSPAnswer{OCSPMalformed, ocsp.MalformedRequestErrorResponse}
	}
	var signer *Issuer
	var rec *records.RevocationRecord
	var outcome OCSPOutcome
	err = m.space.View(func(tx storage.Tx) error {
		issuers, defaultID, err := m.issuers.Issuers(tx)
		if err != nil {
			return err
		}
		if req.SerialNumber.Sign() >= 0 {
			if rec, err = records.GetRevocationRecord(tx, records.FormatSerial(req.SerialNumber)); err != nil {
				return err
			}
		}
		signer, outcome = pickResponder(req, issuers, defaultID, rec)
		return nil
	})
	if err != nil {
		m.log.Debug("crl: OCSP internal error", "error", err)
		return OCSPAnswer{OCSPInternal, ocsp.InternalErrorErrorResponse}
	}
	switch {
	case outcome == OCSPUnauthorized || signer == nil:
		return OCSPAnswer{OCSPUnauthorized, ocsp.UnauthorizedErrorResponse}
	case !bytes.Equal(req.IssuerKeyHash, keyHash(req, signer.Cert)) || !bytes.Equal(req.IssuerNameHash, nameHash(req, signer.Cert)):
		return m.ocspSign(req, signer, ocsp.Unknown, nil, cfg)
	case rec != nil:
		return m.ocspSign(req, signer, ocsp.Revoked, rec, cfg)
	}
	return m.ocspSign(req, signer, ocsp.Good, nil, cfg)
}

// pickResponder finds the issuer the request is about, as Vault's
// lookupOcspIssuer does: only the revoked certificate's issuer when the
// revocation names one, else any issuer whose name and key hash match. A
// match without the ocsp-signing usage answers unauthorized; no match falls
// back to the default issuer, which signs an "unknown".
func pickResponder(req *ocsp.Request, issuers []Issuer, defaultID string, rec *records.RevocationRecord) (*Issuer, OCSPOutcome) {
	matchedNoUsage := false
	try := func(iss *Issuer) *Issuer {
		if iss.Cert == nil || iss.Signer == nil || !requestMatches(req, iss.Cert) {
			return nil
		}
		if !iss.OCSPSigning {
			matchedNoUsage = true
			return nil
		}
		return iss
	}
	onlyID := ""
	if rec != nil && rec.IssuerID != records.UnassignedIssuer {
		onlyID = rec.IssuerID
	}
	for i := range issuers {
		if onlyID != "" && issuers[i].ID != onlyID {
			continue
		}
		if found := try(&issuers[i]); found != nil {
			return found, OCSPAnswered
		}
	}
	if matchedNoUsage {
		return nil, OCSPUnauthorized
	}
	for i := range issuers {
		iss := &issuers[i]
		if iss.ID == defaultID && iss.Signer != nil && iss.OCSPSigning {
			return iss, OCSPAnswered
		}
	}
	return nil, OCSPUnauthorized
}

func requestMatches(req *ocsp.Request, cert *x509.Certificate) bool {
	return bytes.Equal(req.IssuerKeyHash, keyHash(req, cert)) && bytes.Equal(req.IssuerNameHash, nameHash(req, cert))
}

// keyHash and nameHash are the CertID hashes of RFC 6960 §4.1.1: over the
// issuer's public key bits and its DER subject.
func keyHash(req *ocsp.Request, cert *x509.Certificate) []byte {
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(cert.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil
	}
	h := req.HashAlgorithm.New()
	h.Write(spki.PublicKey.RightAlign())
	return h.Sum(nil)
}

func nameHash(req *ocsp.Request, cert *x509.Certificate) []byte {
	h := req.HashAlgorithm.New()
	h.Write(cert.RawSubject)
	return h.Sum(nil)
}

// ocspSign signs the answer with the issuer itself as the responder.
// x/crypto/ocsp cannot sign RSA-PSS, so a PSS issuer signs with PKCS#1 v1.5
// of the same hash, as Vault does.
func (m *Manager) ocspSign(req *ocsp.Request, iss *Issuer, status int, rec *records.RevocationRecord, cfg CRLConfig) OCSPAnswer {
	now := m.clock.Now()
	tmpl := ocsp.Response{
		Status:             status,
		SerialNumber:       req.SerialNumber,
		ThisUpdate:         now,
		IssuerHash:         req.HashAlgorithm,
		SignatureAlgorithm: downgradePSS(iss.SignatureAlgorithm),
	}
	if d := cfg.durations().ocspExpiry; d > 0 {
		tmpl.NextUpdate = now.Add(d)
	}
	if rec != nil {
		tmpl.RevokedAt = rec.Revocation("").Time
		tmpl.RevocationReason = ocsp.Unspecified
	}
	body, err := ocsp.CreateResponse(iss.Cert, iss.Cert, tmpl, iss.Signer)
	if err != nil {
		m.log.Debug("crl: OCSP signing failed", "issuer", iss.ID, "error", err)
		return OCSPAnswer{OCSPInternal, ocsp.InternalErrorErrorResponse}
	}
	return OCSPAnswer{OCSPAnswered, body}
}

func downgradePSS(alg x509.SignatureAlgorithm) x509.SignatureAlgorithm {
	switch alg {
	case x509.SHA256WithRSAPSS:
		return x509.SHA256WithRSA
	case x509.SHA384WithRSAPSS:
		return x509.SHA384WithRSA
	case x509.SHA512WithRSAPSS:
		return x509.SHA512WithRSA
	}
	return alg
}
