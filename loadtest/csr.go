package loadtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
)

// makeCSRs makes n P-256 CSRs before the run, so that sign mode measures
// the server's signing, not the client's key generation. Each CSR's CN is
// the pattern expanded for its client index.
func makeCSRs(pattern string, n int) ([]string, error) {
	csrs := make([]string, n)
	for i := range csrs {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("loadtest: CSR key: %w", err)
		}
		cn := expandName(pattern, i, i)
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
			Subject:  pkix.Name{CommonName: cn},
			DNSNames: []string{cn},
		}, key)
		if err != nil {
			return nil, fmt.Errorf("loadtest: CSR: %w", err)
		}
		csrs[i] = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
	}
	return csrs, nil
}
