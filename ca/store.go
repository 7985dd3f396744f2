package ca

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"

	"github.com/pkid-dev/pkid/records"
)

// Usage is the set of things an issuer may be used for (spec §3.1 issuer
// usage). The issuer record stores it, so it is defined in records; ca and
// its callers keep using it under this name.
type Usage = records.Usage

// Issuer usages.
const (
	UsageIssuing     = records.UsageIssuing     // issuing-certificates
	UsageCRLSigning  = records.UsageCRLSigning  // crl-signing
	UsageOCSPSigning = records.UsageOCSPSigning // ocsp-signing

	UsageAll = records.UsageAll
)

// ParseUsage reads usage names (read-only, issuing-certificates,
// crl-signing, ocsp-signing).
func ParseUsage(names []string) (Usage, error) { return records.ParseUsage(names) }

// parseCertPEM parses a single PEM certificate.
func parseCertPEM(text string) (*x509.Certificate, error) {
	block, _ := pem.Decode([]byte(text))
	if block == nil {
		return nil, fmt.Errorf("ca: unable to parse certificate: invalid PEM")
	}
	return x509.ParseCertificate(block.Bytes)
}
