// Package openbao runs the tutorial's PKI flow through OpenBao's Go client
// (github.com/openbao/openbao/api/v2), the second Go client users bring.
// The test is the package; there is no library here.
package openbao
