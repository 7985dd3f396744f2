package ca

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkid-dev/pkid/clock"
	"github.com/pkid-dev/pkid/storage"
)

// testNow is the fake time every test authority starts at.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type testCA struct {
	*Authority
	clock *clock.Fake
	store *storage.Store
}

// crlNumber is the number of the complete CRL of the issuer ref (0 when
// it has none): each build numbers a new one, so tests count builds by it.
func (c *testCA) crlNumber(t testing.TB, ref string) int64 {
	t.Helper()
	der, err := c.CRL().FetchCRL(context.Background(), ref, false)
	if err != nil || der == nil {
		return 0
	}
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	return rl.Number.Int64()
}

// newTestCA opens an authority over a fresh store in t.TempDir().
func newTestCA(t testing.TB) *testCA {
	t.Helper()
	st, err := storage.Open(filepath.Join(t.TempDir(), "pkid.db"), storage.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newTestCAOn(t, st, "mount")
}

func newTestCAOn(t testing.TB, st *storage.Store, space string) *testCA {
	t.Helper()
	clk := clock.NewFake(testNow)
	a, err := New(Config{Space: st.Space(space), Clock: clk, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return &testCA{Authority: a, clock: clk, store: st}
}

var bigTTLs = MountTTLs{Default: 768 * time.Hour, Max: 87600 * time.Hour}

func str(s string) *string { return &s }
func intp(n int) *int      { return &n }

// ecRoot makes an EC P-256 root named name.
func (c *testCA) ecRoot(t testing.TB, name string) *GeneratedRoot {
	t.Helper()
	res, err := c.GenerateRoot(context.Background(), ModeInternal, false, &RootRequest{
		NameFields:     NameFields{CommonName: name + " Root"},
		KeyFields:      KeyFields{KeyType: str("ec")},
		IssuerName:     str(name),
		ValidityFields: ValidityFields{TTL: 8760 * time.Hour},
	}, bigTTLs)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func csrPEM(csr *x509.CertificateRequest) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr.Raw}))
}

func certsPEM(certs ...*x509.Certificate) string {
	var parts []string
	for _, c := range certs {
		parts = append(parts, CertPEM(c.Raw))
	}
	return strings.Join(parts, "\n")
}

// verify checks leaf against the root as the only trust anchor, with the
// intermediates given, at the test time.
func verify(t testing.TB, leaf, root *x509.Certificate, inter ...*x509.Certificate) {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AddCert(root)
	ip := x509.NewCertPool()
	for _, c := range inter {
		ip.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: ip, CurrentTime: testNow.Add(time.Hour),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Fatalf("verify %s: %v", leaf.Subject, err)
	}
}
