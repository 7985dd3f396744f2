package certmanager

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	vault "github.com/hashicorp/vault/api"
	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	coretesting "k8s.io/client-go/testing"

	apiutil "github.com/cert-manager/cert-manager/pkg/api/util"
	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	controllerpkg "github.com/cert-manager/cert-manager/pkg/controller"
	"github.com/cert-manager/cert-manager/pkg/controller/certificaterequests"
	cmvault "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/vault"
	testpkg "github.com/cert-manager/cert-manager/pkg/controller/test"

	"github.com/pkid-dev/pkid/pkidtest"
)

const ns = "cert-manager"

func TestCertManagerVaultSigner(t *testing.T) {
	srv := pkidtest.Start(t, pkidtest.Options{InMemory: true})
	h := srv.BuildHierarchy(t)
	srv.Write(t, "sys/policies/acl/cert-manager-policy", map[string]any{"policy": `
path "pki_int/sign/internal-services" { capabilities = ["create", "update"] }
path "pki_int/issue/internal-services" { capabilities = ["create"] }`})
	// A token limited to the tutorial's cert-manager policy, not the root.
	tok, err := srv.Client(t).Auth().Token().Create(&vault.TokenCreateRequest{Policies: []string{"cert-manager-policy"}, TTL: "1h"})
	if err != nil {
		t.Fatal(err)
	}
	roleID, secretID := setUpAppRole(t, srv)
	saJWT := setUpKubernetes(t, srv)

	cases := []struct {
		name    string
		auth    cmapi.VaultAuth
		secrets []runtime.Object
		reactor bool // the fake cluster's TokenRequest answers with saJWT
	}{
		{"token", cmapi.VaultAuth{TokenSecretRef: &cmmeta.SecretKeySelector{LocalObjectReference: cmmeta.LocalObjectReference{Name: "vault-token"}, Key: "token"}},
			[]runtime.Object{secret("vault-token", "token", tok.Auth.ClientToken)}, false},
		{"approle", cmapi.VaultAuth{AppRole: &cmapi.VaultAppRole{Path: "approle", RoleId: roleID,
			SecretRef: cmmeta.SecretKeySelector{LocalObjectReference: cmmeta.LocalObjectReference{Name: "approle"}, Key: "secretId"}}},
			[]runtime.Object{secret("approle", "secretId", secretID)}, false},
		{"kubernetes secret", cmapi.VaultAuth{Kubernetes: &cmapi.VaultKubernetesAuth{Role: "cert-manager",
			SecretRef: cmmeta.SecretKeySelector{LocalObjectReference: cmmeta.LocalObjectReference{Name: "sa-token"}, Key: "token"}}},
			[]runtime.Object{secret("sa-token", "token", saJWT)}, false},
		{"kubernetes service account", cmapi.VaultAuth{Kubernetes: &cmapi.VaultKubernetesAuth{Role: "cert-manager", Path: "/v1/auth/kubernetes",
			ServiceAccountRef: &cmapi.ServiceAccountRef{Name: "cert-manager"}}}, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			iss := &cmapi.Issuer{
				ObjectMeta: metav1.ObjectMeta{Name: "pkid", Namespace: ns},
				Spec: cmapi.IssuerSpec{IssuerConfig: cmapi.IssuerConfig{Vault: &cmapi.VaultIssuer{
					Server: srv.URL, Path: h.IntMount + "/sign/" + h.Role, Auth: tc.auth,
				}}},
				Status: cmapi.IssuerStatus{Conditions: []cmapi.IssuerCondition{{Type: cmapi.IssuerConditionReady, Status: cmmeta.ConditionTrue}}},
			}
			cr := certificateRequest(t, "api.internal.example.com", "db.internal.example.com")
			got := sign(t, iss, cr, tc.secrets, tc.reactor, saJWT)
			leaf := parseCert(t, got.Status.Certificate)
			if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "db.internal.example.com", Roots: h.Roots, Intermediates: h.Intermediates}); err != nil {
				t.Fatalf("signed certificate does not verify: %v", err)
			}
			if !strings.Contains(string(got.Status.CA), "BEGIN CERTIFICATE") {
				t.Fatalf("no CA in status: %q", got.Status.CA)
			}
			if d := leaf.NotAfter.Sub(leaf.NotBefore); d < 59*time.Minute || d > 91*time.Minute {
				t.Fatalf("duration 1h asked, certificate spans %v", d)
			}
			t.Logf("cert-manager %s auth: signed %s by %s", tc.name, leaf.Subject.CommonName, leaf.Issuer.CommonName)
		})
	}
}

// sign runs one CertificateRequest through cert-manager's Vault signer and
// returns the request as the controller left it.
func sign(t *testing.T, iss *cmapi.Issuer, cr *cmapi.CertificateRequest, kube []runtime.Object, reactor bool, saJWT string) *cmapi.CertificateRequest {
	t.Helper()
	b := &testpkg.Builder{T: t, KubeObjects: kube, CertManagerObjects: []runtime.Object{iss, cr}}
	b.Init()
	defer b.Stop()
	if reactor {
		b.FakeKubeClient().PrependReactor("create", "serviceaccounts", func(action coretesting.Action) (bool, runtime.Object, error) {
			if action.GetSubresource() != "token" {
				return false, nil, nil
			}
			return true, &authv1.TokenRequest{Status: authv1.TokenRequestStatus{Token: saJWT}}, nil
		})
	}
	signer := cmvault.NewVault(b.Context)
	c := certificaterequests.New(apiutil.IssuerVault, func(*controllerpkg.Context) certificaterequests.Issuer { return signer })
	if _, _, err := c.Register(b.Context); err != nil {
		t.Fatal(err)
	}
	b.Start()
	if err := c.Sync(context.Background(), cr); err != nil {
		t.Fatalf("sync: %v", err)
	}
	got, err := b.CMClient.CertmanagerV1().CertificateRequests(ns).Get(context.Background(), cr.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Status.Certificate) == 0 {
		t.Fatalf("not signed; conditions: %+v", got.Status.Conditions)
	}
	return got
}

func secret(name, key, value string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Data: map[string][]byte{key: []byte(value)}}
}

func certificateRequest(t *testing.T, cn string, sans ...string) *cmapi.CertificateRequest {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}, DNSNames: append([]string{cn}, sans...)}, key)
	if err != nil {
		t.Fatal(err)
	}
	return &cmapi.CertificateRequest{
		ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: ns},
		Spec: cmapi.CertificateRequestSpec{
			Request:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}),
			Duration:  &metav1.Duration{Duration: time.Hour},
			IssuerRef: cmmeta.IssuerReference{Name: "pkid", Kind: "Issuer"},
		},
		// cert-manager signs only approved requests (its approver controller
		// would set this in a cluster).
		Status: cmapi.CertificateRequestStatus{Conditions: []cmapi.CertificateRequestCondition{
			{Type: cmapi.CertificateRequestConditionApproved, Status: cmmeta.ConditionTrue, Reason: "test", Message: "approved by the test"},
		}},
	}
}

func parseCert(t *testing.T, text []byte) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(text)
	if block == nil {
		t.Fatalf("no PEM: %q", text)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func setUpAppRole(t *testing.T, srv *pkidtest.Server) (roleID, secretID string) {
	t.Helper()
	srv.Write(t, "sys/auth/approle", map[string]any{"type": "approle"})
	srv.Write(t, "auth/approle/role/cert-manager", map[string]any{"token_policies": "cert-manager-policy", "token_ttl": "1h"})
	c := srv.Client(t)
	rid, err := c.Logical().Read("auth/approle/role/cert-manager/role-id")
	if err != nil {
		t.Fatal(err)
	}
	sid := srv.Write(t, "auth/approle/role/cert-manager/secret-id", nil)
	return rid.Data["role_id"].(string), sid["secret_id"].(string)
}

// fakeCluster answers TokenReviews for the one service account it knows.
type fakeCluster struct {
	srv *httptest.Server
	mu  sync.Mutex
	jwt string
}

func setUpKubernetes(t *testing.T, srv *pkidtest.Server) string {
	t.Helper()
	fc := &fakeCluster{}
	fc.srv = httptest.NewTLSServer(http.HandlerFunc(fc.review))
	t.Cleanup(fc.srv.Close)
	fc.jwt = serviceAccountJWT(t)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: fc.srv.Certificate().Raw})
	srv.Write(t, "sys/auth/kubernetes", map[string]any{"type": "kubernetes"})
	srv.Write(t, "auth/kubernetes/config", map[string]any{"kubernetes_host": fc.srv.URL, "kubernetes_ca_cert": string(caPEM)})
	srv.Write(t, "auth/kubernetes/role/cert-manager", map[string]any{
		"bound_service_account_names": "cert-manager", "bound_service_account_namespaces": ns,
		"policies": "cert-manager-policy", "ttl": "1h",
	})
	return fc.jwt
}

func (fc *fakeCluster) review(w http.ResponseWriter, r *http.Request) {
	var tr authv1.TokenReview
	if r.URL.Path != "/apis/authentication.k8s.io/v1/tokenreviews" || json.NewDecoder(r.Body).Decode(&tr) != nil {
		http.Error(w, "not a token review", http.StatusBadRequest)
		return
	}
	fc.mu.Lock()
	ok := tr.Spec.Token == fc.jwt
	fc.mu.Unlock()
	if ok {
		tr.Status.Authenticated = true
		tr.Status.User = authv1.UserInfo{Username: "system:serviceaccount:" + ns + ":cert-manager", UID: "uid-1"}
	}
	json.NewEncoder(w).Encode(tr)
}

// serviceAccountJWT is a legacy secret-based service account token.
func serviceAccountJWT(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(s).Claims(map[string]any{
		"iss":                                    "kubernetes/serviceaccount",
		"sub":                                    "system:serviceaccount:" + ns + ":cert-manager",
		"kubernetes.io/serviceaccount/namespace": ns,
		"kubernetes.io/serviceaccount/service-account.name": "cert-manager",
		"kubernetes.io/serviceaccount/service-account.uid":  "uid-1",
	}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
