// Package certmanager signs CertificateRequests through cert-manager's own
// Vault signer (pkg/controller/certificaterequests/vault, driven with the
// fakes of pkg/controller/test), against pkid, with token, AppRole and
// Kubernetes auth. The test is the package; there is no library here.
package certmanager
