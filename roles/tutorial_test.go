package roles

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pkid-dev/pkid/errs"
)

// The five roles of the tutorial (shared/tutorial.md), written as the vault
// CLI sends them: every value a string.
func tutorialRoles() map[string]map[string]any {
	return map[string]map[string]any{
		"web-servers": {
			"allowed_domains": "example.com", "allow_subdomains": "true", "allow_bare_domains": "true",
			"max_ttl": "720h", "ttl": "24h", "key_type": "rsa", "key_bits": "2048",
			"key_usage": "DigitalSignature,KeyEncipherment", "ext_key_usage": "ServerAuth",
		},
		"internal-services": {
			"allowed_domains": "internal.example.com,svc.cluster.local", "allow_subdomains": "true",
			"max_ttl": "168h", "ttl": "1h", "key_type": "ec", "key_bits": "256",
			"key_usage": "DigitalSignature", "ext_key_usage": "ServerAuth,ClientAuth",
		},
		"client-auth": {
			"allowed_domains": "users.example.com", "allow_subdomains": "true",
			"max_ttl": "720h", "ttl": "8h", "key_type": "ec", "key_bits": "256",
			"key_usage": "DigitalSignature", "ext_key_usage": "ClientAuth",
			"organization": "My Organization", "no_store": "true",
		},
		"production-services": {
			"allowed_domains": "prod.example.com", "allow_subdomains": "true", "max_ttl": "4h", "ttl": "1h",
		},
		"payment-service": {
			"allowed_domains": "payments.prod.example.com", "allow_subdomains": "false",
			"allow_bare_domains": "true", "allow_glob_domains": "false", "allow_any_name": "false",
			"enforce_hostnames": "true", "max_ttl": "1h",
		},
	}
}

func TestTutorialRoles(t *testing.T) {
	t.Parallel()
	type issue struct {
		cn, alt string
		ttl     time.Duration
		err     string // "" allowed
	}
	cases := map[string][]issue{
		"web-servers": {
			{cn: "api.example.com", alt: "api-internal.example.com", ttl: 24 * time.Hour},
			{cn: "api.example.com", alt: "api-v2.example.com,api-internal.example.com", ttl: 24 * time.Hour},
			{cn: "example.com"},
			{cn: "*.example.com"},
			{cn: "api.example.org", err: "common name api.example.org not allowed by this role"},
			{cn: "api.example.com", alt: "evil.com", err: "subject alternate name evil.com not allowed by this role"},
			{cn: "api.example.comevil.org", err: "common name api.example.comevil.org not allowed by this role"},
		},
		"internal-services": {
			{cn: "api.internal.example.com", alt: "api.svc.cluster.local"},
			{cn: "db.svc.cluster.local"},
			{cn: "internal.example.com", err: "common name internal.example.com not allowed by this role"},
			{cn: "api.example.com", err: "common name api.example.com not allowed by this role"},
			{cn: "svc.cluster.local", err: "common name svc.cluster.local not allowed by this role"},
		},
		"client-auth": {
			{cn: "alice.users.example.com"},
			{cn: "alice@users.example.com", err: "common name alice@users.example.com not allowed by this role"},
			{cn: "bob@eng.users.example.com"},
			{cn: "users.example.com", err: "common name users.example.com not allowed by this role"},
			{cn: "alice.example.com", err: "common name alice.example.com not allowed by this role"},
		},
		"production-services": {
			{cn: "api.prod.example.com"},
			{cn: "a.b.prod.example.com", ttl: time.Hour},
			{cn: "prod.example.com", err: "common name prod.example.com not allowed by this role"},
			{cn: "api.staging.example.com", err: "common name api.staging.example.com not allowed by this role"},
		},
		"payment-service": {
			{cn: "payments.prod.example.com"},
			{cn: "PAYMENTS.prod.example.com"},
			{cn: "api.payments.prod.example.com", err: "common name api.payments.prod.example.com not allowed by this role"},
			{cn: "*.payments.prod.example.com", err: "common name *.payments.prod.example.com not allowed by this role"},
			{cn: "payments.prod.example.com", alt: "checkout.example.com", err: "subject alternate name checkout.example.com not allowed by this role"},
		},
	}
	for name, raw := range tutorialRoles() {
		role := mustRole(t, raw)
		for _, c := range cases[name] {
			t.Run(name+"/"+c.cn+"/"+c.alt, func(t *testing.T) {
				t.Parallel()
				_, err := planIssue(t, role, LeafRequest{CommonName: c.cn, AltNames: c.alt, TTL: c.ttl})
				switch {
				case c.err == "" && err != nil:
					t.Fatalf("refused: %v", err)
				case c.err != "" && (err == nil || errs.Message(err) != c.err):
					t.Fatalf("got %v, want %q", err, c.err)
				}
			})
		}
	}
}

func TestTutorialRoleDetails(t *testing.T) {
	t.Parallel()
	roles := map[string]*Role{}
	for name, raw := range tutorialRoles() {
		roles[name] = mustRole(t, raw)
	}
	k := keysOnce()

	web, err := planIssue(t, roles["web-servers"], LeafRequest{CommonName: "api.example.com", AltNames: "api-internal.example.com", TTL: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if web.Key != (KeySpec{Type: "rsa", Bits: 2048, SignatureBits: 256}) ||
		web.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment ||
		!slices.Equal(web.DNSNames, []string{"api-internal.example.com", "api.example.com"}) /* Vault sorts DNS SANs */ ||
		!web.NotAfter.Equal(testNow.Add(24*time.Hour)) {
		t.Errorf("web-servers leaf: %v key %+v ku %v", web, web.Key, web.KeyUsage)
	}
	// A 1000h request is cut to the role's 720h with a warning.
	long, err := planIssue(t, roles["web-servers"], LeafRequest{CommonName: "api.example.com", TTL: 1000 * time.Hour})
	if err != nil || !long.NotAfter.Equal(testNow.Add(720*time.Hour)) || len(long.Warnings) != 1 {
		t.Errorf("web-servers 1000h: %v %v", long, err)
	}

	// The tutorial's openssl CSR (RSA 2048, CN only) signs; an EC one does not.
	rsaCSR := makeCSR(t, k.rsa2048, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "api.example.com"}})
	if p, err := roles["web-servers"].PlanSign(leaf(LeafRequest{TTL: 24 * time.Hour}), rsaCSR, testEnv()); err != nil ||
		!slices.Equal(p.DNSNames, []string{"api.example.com"}) {
		t.Errorf("web-servers sign: %v %v", p, err)
	}
	ecCSR := makeCSR(t, k.p256, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "api.example.com"}})
	if _, err := roles["web-servers"].PlanSign(leaf(LeafRequest{}), ecCSR, testEnv()); err == nil || errs.Message(err) != "role requires keys of type rsa" {
		t.Errorf("web-servers EC CSR: %v", err)
	}

	// cert-manager's request to internal-services: an ECDSA P-256 CSR with
	// the names also in the body, exclude_cn_from_sans, a Go duration ttl.
	cmCSR := makeCSR(t, k.p256, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "api.internal.example.com"},
		DNSNames: []string{"api.internal.example.com", "api.svc.cluster.local"}})
	req := leaf(LeafRequest{CommonName: "api.internal.example.com", AltNames: "api.internal.example.com,api.svc.cluster.local", TTL: time.Hour, ExcludeCNFromSANs: true})
	p, err := roles["internal-services"].PlanSign(req, cmCSR, testEnv())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.DNSNames, []string{"api.internal.example.com", "api.svc.cluster.local"}) ||
		!slices.Equal(p.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}) ||
		p.KeyUsage != x509.KeyUsageDigitalSignature || !p.NotAfter.Equal(testNow.Add(time.Hour)) {
		t.Errorf("internal-services sign: %v eku %v", p, p.ExtKeyUsage)
	}
	rsaToEC := makeCSR(t, k.rsa2048, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "api.internal.example.com"}})
	if _, err := roles["internal-services"].PlanSign(req, rsaToEC, testEnv()); err == nil || errs.Message(err) != "role requires keys of type ec" {
		t.Errorf("internal-services RSA CSR: %v", err)
	}

	client, err := planIssue(t, roles["client-auth"], LeafRequest{CommonName: "alice.users.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if !roles["client-auth"].NoStore || !slices.Equal(client.Subject.Organization, []string{"My Organization"}) ||
		!client.NotAfter.Equal(testNow.Add(8*time.Hour)) || client.Key.Type != "ec" {
		t.Errorf("client-auth: %v %+v", client, client.Subject)
	}

	prod, err := planIssue(t, roles["production-services"], LeafRequest{CommonName: "api.prod.example.com", TTL: 8 * time.Hour})
	if err != nil || !prod.NotAfter.Equal(testNow.Add(4*time.Hour)) ||
		len(prod.Warnings) != 1 || !strings.Contains(prod.Warnings[0], `maxTTL "4h0m0s"`) {
		t.Errorf("production-services 8h: %v %v", prod, err)
	}

	// payment-service has no ttl: the mount default (768h) is cut to 1h.
	pay, err := planIssue(t, roles["payment-service"], LeafRequest{CommonName: "payments.prod.example.com"})
	if err != nil || !pay.NotAfter.Equal(testNow.Add(time.Hour)) ||
		len(pay.Warnings) != 1 || pay.Warnings[0] != `TTL "768h0m0s" is longer than permitted maxTTL "1h0m0s", so maxTTL is being used` {
		t.Errorf("payment-service: %v %v", pay, err)
	}
}
