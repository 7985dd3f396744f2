package crl

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"github.com/pkid-dev/pkid/records"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/pkid-dev/pkid/clock"
	"github.com/pkid-dev/pkid/storage"
	"github.com/pkid-dev/pkid/storage/storagetest"
)

// t0 is the fake clock's start in every test.
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// fakeSource is an IssuerSource (and IssuerRemover) over a list.
type fakeSource struct {
	mu        sync.Mutex
	issuers   []Issuer
	defaultID string
	deleted   []string
}

func (f *fakeSource) Issuers(storage.Tx) ([]Issuer, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Issuer(nil), f.issuers...), f.defaultID, nil
}

func (f *fakeSource) DeleteIssuer(_ context.Context, id string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, iss := range f.issuers {
		if iss.ID == id {
			f.issuers = append(f.issuers[:i], f.issuers[i+1:]...)
			f.deleted = append(f.deleted, id)
			wasDefault := f.defaultID == id
			if wasDefault {
				f.defaultID = ""
			}
			return wasDefault, nil
		}
	}
	return false, nil
}

func (f *fakeSource) add(iss Issuer, makeDefault bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.issuers = append(f.issuers, iss)
	if makeDefault || f.defaultID == "" {
		f.defaultID = iss.ID
	}
}

func (f *fakeSource) edit(id string, fn func(*Issuer)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.issuers {
		if f.issuers[i].ID == id {
			fn(&f.issuers[i])
		}
	}
}

// testCA is a CA made with crypto/x509: its certificate and key.
type testCA struct {
	cert *x509.Certificate
	key  crypto.Signer
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var serialCounter struct {
	sync.Mutex
	n int64
}

// nextSerial returns distinct serials with a high first byte now and then,
// so that the INTEGER padding path is exercised.
func nextSerial() *big.Int {
	serialCounter.Lock()
	defer serialCounter.Unlock()
	serialCounter.n++
	n := new(big.Int).Lsh(big.NewInt(serialCounter.n%7+1), 120)
	if serialCounter.n%3 == 0 {
		n.Lsh(n, 5)
	}
	return n.Add(n, big.NewInt(serialCounter.n))
}

// newRoot makes a self-signed CA valid from t0-1h for the given time.
func newRoot(t testing.TB, cn string, key crypto.Signer, lifetime time.Duration) *testCA {
	t.Helper()
	if key == nil {
		key = newKey(t)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          nextSerial(),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             t0.Add(-time.Hour),
		NotAfter:              t0.Add(lifetime),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key}
}

// sub makes a CA signed by ca.
func (ca *testCA) sub(t testing.TB, cn string) *testCA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          nextSerial(),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             t0.Add(-time.Hour),
		NotAfter:              t0.Add(24 * 365 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key}
}

// leaf issues a leaf certificate valid until notAfter.
func (ca *testCA) leaf(t testing.TB, key crypto.Signer, notAfter time.Time) *x509.Certificate {
	t.Helper()
	if key == nil {
		key = leafKey
	}
	tmpl := &x509.Certificate{
		SerialNumber: nextSerial(),
		Subject:      pkix.Name{CommonName: "leaf.example.com"},
		DNSNames:     []string{"leaf.example.com"},
		NotBefore:    t0.Add(-time.Hour),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert
}

// leafKey is shared by leaves whose key does not matter (key generation
// dominates otherwise).
var leafKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)

func (ca *testCA) issuer(id, name string) Issuer {
	return Issuer{ID: id, Name: name, Cert: ca.cert, KeyID: "key-" + id, Signer: ca.key, CRLSigning: true, OCSPSigning: true}
}

// env is a Manager over a fresh store, a fake clock and a fake source.
type env struct {
	t     testing.TB
	store *storage.Store
	space *storage.Space
	clock *clock.Fake
	src   *fakeSource
	m     *Manager
	ca    *testCA // the default issuer, id "root"
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{t: t, store: storagetest.Open(t), clock: clock.NewFake(t0), src: &fakeSource{}}
	e.space = e.store.Space("mount")
	e.ca = newRoot(t, "Test Root", nil, 10*365*24*time.Hour)
	e.src.add(e.ca.issuer("root", "root-2030"), true)
	e.m = e.newManager()
	return e
}

func (e *env) newManager() *Manager {
	e.t.Helper()
	m, err := New(Config{Space: e.space, Clock: e.clock, Rand: rand.Reader, Issuers: e.src})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(m.Close)
	return m
}

// stored issues a leaf of ca and puts it in the certificate store.
func (e *env) stored(ca *testCA, notAfter time.Time) *x509.Certificate {
	e.t.Helper()
	cert := ca.leaf(e.t, nil, notAfter)
	if err := e.space.Update(func(tx storage.Tx) error { return records.PutCert(tx, cert) }); err != nil {
		e.t.Fatal(err)
	}
	return cert
}

func (e *env) revoke(cert *x509.Certificate) *RevokeResult {
	e.t.Helper()
	s := records.FormatSerial(cert.SerialNumber)
	res, err := e.m.Revoke(context.Background(), RevokeRequest{SerialNumber: &s})
	if err != nil {
		e.t.Fatalf("revoke %s: %v", s, err)
	}
	return res
}

// crl fetches and parses a CRL and checks its signature against signer.
func (e *env) crl(ref string, delta bool, signer *x509.Certificate) *x509.RevocationList {
	e.t.Helper()
	der, err := e.m.FetchCRL(context.Background(), ref, delta)
	if err != nil {
		e.t.Fatalf("fetch CRL %q: %v", ref, err)
	}
	if der == nil {
		e.t.Fatalf("no CRL for %q", ref)
	}
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		e.t.Fatalf("parse CRL: %v", err)
	}
	if err := rl.CheckSignatureFrom(signer); err != nil {
		e.t.Fatalf("CRL signature: %v", err)
	}
	return rl
}

// revokedSet maps colon serials on a CRL to their revocation times.
func revokedSet(rl *x509.RevocationList) map[string]time.Time {
	out := map[string]time.Time{}
	for _, e := range rl.RevokedCertificateEntries {
		out[records.FormatSerial(e.SerialNumber)] = e.RevocationTime
	}
	return out
}

func certPEM(c *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
}

func ptr[T any](v T) *T { return &v }

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func pemCRL(der []byte) string { return string(pemBlock("X509 CRL", der)) }
