package kubernetes

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/pkid-dev/pkid/api/authmethod"
	"github.com/pkid-dev/pkid/clock"
	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/storage/storagetest"
)

var now = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// fakeCluster is a Kubernetes API server on loopback with TLS that answers
// TokenReviews for the service accounts it knows.
type fakeCluster struct {
	srv *httptest.Server

	mu       sync.Mutex
	accounts map[string]account // by JWT
	bearers  []string           // Authorization headers seen
	status   int                // forced HTTP status, when set
}

type account struct{ namespace, name, uid string }

func newFakeCluster(t *testing.T) *fakeCluster {
	t.Helper()
	fc := &fakeCluster{accounts: map[string]account{}}
	fc.srv = httptest.NewUnstartedServer(http.HandlerFunc(fc.serve))
	fc.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	fc.srv.StartTLS()
	t.Cleanup(fc.srv.Close)
	return fc
}

func (fc *fakeCluster) serve(w http.ResponseWriter, r *http.Request) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	fc.bearers = append(fc.bearers, r.Header.Get("Authorization"))
	if r.Method != http.MethodPost || r.URL.Path != "/apis/authentication.k8s.io/v1/tokenreviews" {
		http.NotFound(w, r)
		return
	}
	if fc.status != 0 {
		w.WriteHeader(fc.status)
		w.Write([]byte(`{"kind":"Status","status":"Failure"}`))
		return
	}
	var tr tokenReview
	if err := json.NewDecoder(r.Body).Decode(&tr); err != nil || tr.Kind != "TokenReview" {
		http.Error(w, "bad review", http.StatusBadRequest)
		return
	}
	if acc, ok := fc.accounts[tr.Spec.Token]; ok {
		tr.Status.Authenticated = true
		tr.Status.User.Username = "system:serviceaccount:" + acc.namespace + ":" + acc.name
		tr.Status.User.UID = acc.uid
	}
	json.NewEncoder(w).Encode(tr)
}

func (fc *fakeCluster) caPEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: fc.srv.Certificate().Raw}))
}

// signer makes service account JWTs.
type signer struct {
	key *ecdsa.PrivateKey
	s   jose.Signer
}

func newSigner(t *testing.T) *signer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &signer{key: key, s: s}
}

func (sg *signer) publicPEM(t *testing.T) string {
	der, err := x509.MarshalPKIXPublicKey(&sg.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// legacyJWT is a secret-based service account token (flat claims, no exp).
func (sg *signer) legacyJWT(t *testing.T, acc account) string {
	t.Helper()
	tok, err := jwt.Signed(sg.s).Claims(map[string]any{
		"iss":                                    "kubernetes/serviceaccount",
		"sub":                                    "system:serviceaccount:" + acc.namespace + ":" + acc.name,
		"kubernetes.io/serviceaccount/namespace": acc.namespace,
		"kubernetes.io/serviceaccount/service-account.name": acc.name,
		"kubernetes.io/serviceaccount/service-account.uid":  acc.uid,
		"kubernetes.io/serviceaccount/secret.name":          acc.name + "-token-abcde",
	}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// projectedJWT is a bound token with an expiry and an audience.
func (sg *signer) projectedJWT(t *testing.T, acc account, exp time.Time, aud string) string {
	t.Helper()
	tok, err := jwt.Signed(sg.s).Claims(jwt.Claims{
		Issuer: "https://kubernetes.default.svc", Subject: "system:serviceaccount:" + acc.namespace + ":" + acc.name,
		Audience: jwt.Audience{aud}, Expiry: jwt.NewNumericDate(exp), IssuedAt: jwt.NewNumericDate(exp.Add(-time.Hour)),
	}).Claims(map[string]any{
		"kubernetes.io": map[string]any{
			"namespace":      acc.namespace,
			"serviceaccount": map[string]any{"name": acc.name, "uid": acc.uid},
		},
	}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type fixture struct {
	b       *Backend
	clk     *clock.Fake
	cluster *fakeCluster
	sg      *signer
}

var certManager = account{namespace: "cert-manager", name: "cert-manager", uid: "0c4f2a1e-uid"}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	clk := clock.NewFake(now)
	f := &fixture{
		b: New(storagetest.Open(t).Space("auth-k8s"), clk, Options{
			LocalCACertPath: "/nonexistent/ca.crt", LocalJWTPath: "/nonexistent/token",
		}),
		clk: clk, cluster: newFakeCluster(t), sg: newSigner(t),
	}
	if err := f.b.WriteConfig(ConfigRequest{KubernetesHost: f.cluster.srv.URL, KubernetesCACert: f.cluster.caPEM()}); err != nil {
		t.Fatal(err)
	}
	// The tutorial's role.
	if _, err := f.b.WriteRole("cert-manager", RoleRequest{
		BoundServiceAccountNames:      ptr([]string{"cert-manager"}),
		BoundServiceAccountNamespaces: ptr([]string{"cert-manager"}),
		TokenFields:                   authmethod.TokenFields{Policies: ptr([]string{"cert-manager-policy"}), TTL: ptr(time.Hour)},
	}, 768*time.Hour); err != nil {
		t.Fatal(err)
	}
	return f
}

func ptr[T any](v T) *T { return &v }

func (f *fixture) known(t *testing.T, acc account) string {
	tok := f.sg.legacyJWT(t, acc)
	f.cluster.mu.Lock()
	f.cluster.accounts[tok] = acc
	f.cluster.mu.Unlock()
	return tok
}

func TestLoginTutorialRole(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok := f.known(t, certManager)
	auth, err := f.b.Login(context.Background(), LoginRequest{Role: "cert-manager", JWT: tok})
	if err != nil {
		t.Fatal(err)
	}
	want := &authmethod.Auth{
		Policies: []string{"cert-manager-policy"}, TTL: time.Hour,
		DisplayName: "cert-manager-cert-manager",
		Metadata: map[string]string{
			"service_account_uid": certManager.uid, "service_account_name": "cert-manager",
			"service_account_namespace": "cert-manager", "service_account_secret_name": "cert-manager-token-abcde",
			"role": "cert-manager",
		},
		Alias:        certManager.uid,
		InternalData: map[string]string{"role": "cert-manager"},
		BoundCIDRs:   []string{},
	}
	auth.BoundCIDRs = []string{}
	if !reflect.DeepEqual(auth, want) {
		t.Fatalf("auth = %+v\nwant   %+v", auth, want)
	}
	// No reviewer JWT configured: the client's JWT is the bearer.
	if got := f.cluster.bearers[len(f.cluster.bearers)-1]; got != "Bearer "+tok {
		t.Fatalf("bearer = %q", got)
	}
}

func TestLoginRefusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	other := account{namespace: "default", name: "cert-manager", uid: "u2"}
	wrongName := account{namespace: "cert-manager", name: "webhook", uid: "u3"}
	unknownToCluster := f.sg.legacyJWT(t, certManager) // valid claims, but the cluster never issued it
	wrongUID := f.sg.legacyJWT(t, certManager)
	f.cluster.accounts[wrongUID] = account{namespace: "cert-manager", name: "cert-manager", uid: "other-uid"}

	tests := []struct {
		name string
		req  LoginRequest
		kind errs.Kind
		msg  string
	}{
		{"missing role", LoginRequest{JWT: "x"}, errs.Invalid, "missing role"},
		{"missing jwt", LoginRequest{Role: "cert-manager"}, errs.Invalid, "missing jwt"},
		{"unknown role", LoginRequest{Role: "nope", JWT: "x"}, errs.Invalid, `invalid role name "nope"`},
		{"not a jwt", LoginRequest{Role: "cert-manager", JWT: "not-a-jwt"}, errs.Denied, "go-jose/go-jose: compact JWS format must have three parts"},
		{"unbound namespace", LoginRequest{Role: "cert-manager", JWT: f.known(t, other)}, errs.Denied, "namespace not authorized"},
		{"unbound service account", LoginRequest{Role: "cert-manager", JWT: f.known(t, wrongName)}, errs.Denied, "service account name not authorized"},
		{"cluster does not know the token", LoginRequest{Role: "cert-manager", JWT: unknownToCluster}, errs.Denied, "permission denied"},
		{"cluster names another uid", LoginRequest{Role: "cert-manager", JWT: wrongUID}, errs.Denied, "permission denied"},
		{"expired projected token", LoginRequest{Role: "cert-manager", JWT: f.sg.projectedJWT(t, certManager, now.Add(-time.Hour), "vault")}, errs.Denied, "go-jose/go-jose/jwt: validation failed, token is expired (exp)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.b.Login(context.Background(), tt.req)
			if !errors.Is(err, tt.kind) || errs.Message(err) != tt.msg {
				t.Fatalf("err = %v (kind %v), want %v %q", err, errs.KindOf(err), tt.kind, tt.msg)
			}
		})
	}
}

func TestLoginProjectedTokenAudienceAndExpiry(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if _, err := f.b.WriteRole("aud", RoleRequest{
		BoundServiceAccountNames: ptr([]string{"cert-*"}), BoundServiceAccountNamespaces: ptr([]string{"*"}),
		Audience: ptr("vault"), AliasNameSource: ptr("serviceaccount_name"),
	}, 0); err != nil {
		t.Fatal(err)
	}
	tok := f.sg.projectedJWT(t, certManager, now.Add(time.Hour), "vault")
	f.cluster.accounts[tok] = certManager
	auth, err := f.b.Login(context.Background(), LoginRequest{Role: "aud", JWT: tok})
	if err != nil {
		t.Fatal(err)
	}
	if auth.Alias != "cert-manager/cert-manager" || auth.Metadata["service_account_secret_name"] != "" {
		t.Fatalf("auth = %+v", auth)
	}
	// The wrong audience is refused before the cluster is asked.
	other := f.sg.projectedJWT(t, certManager, now.Add(time.Hour), "other")
	if _, err := f.b.Login(context.Background(), LoginRequest{Role: "aud", JWT: other}); !errors.Is(err, errs.Denied) ||
		!strings.Contains(errs.Message(err), "invalid audience claim (aud)") {
		t.Fatalf("wrong audience: %v", err)
	}
	// Expiry follows the injected clock.
	f.clk.Advance(2 * time.Hour)
	if _, err := f.b.Login(context.Background(), LoginRequest{Role: "aud", JWT: tok}); !errors.Is(err, errs.Denied) {
		t.Fatalf("expired: %v", err)
	}
}

func TestReviewerJWTAndCA(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	reviewer := f.sg.legacyJWT(t, account{namespace: "kube-system", name: "vault-reviewer", uid: "r"})
	if err := f.b.WriteConfig(ConfigRequest{
		KubernetesHost: f.cluster.srv.URL, KubernetesCACert: f.cluster.caPEM(), TokenReviewerJWT: reviewer,
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.b.Login(context.Background(), LoginRequest{Role: "cert-manager", JWT: f.known(t, certManager)}); err != nil {
		t.Fatal(err)
	}
	if got := f.cluster.bearers[len(f.cluster.bearers)-1]; got != "Bearer "+reviewer {
		t.Fatalf("bearer = %q, want the reviewer JWT", got)
	}
	cfg, _ := f.b.ReadConfig()
	if cfg["token_reviewer_jwt_set"] != true || cfg["token_reviewer_jwt"] != nil || cfg["disable_iss_validation"] != true {
		t.Fatalf("config = %v", cfg)
	}

	// Without the cluster's CA the TLS handshake fails: permission denied.
	if err := f.b.WriteConfig(ConfigRequest{KubernetesHost: f.cluster.srv.URL, DisableLocalCAJWT: true}); err != nil {
		t.Fatal(err)
	}
	_, err := f.b.Login(context.Background(), LoginRequest{Role: "cert-manager", JWT: f.known(t, certManager)})
	if !errors.Is(err, errs.Denied) || errs.Message(err) != "permission denied" {
		t.Fatalf("untrusted cluster: %v", err)
	}
	if !strings.Contains(errors.Unwrap(err).Error(), "certificate") {
		t.Fatalf("cause = %v", errors.Unwrap(err))
	}
}

func TestClusterRefusesReview(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok := f.known(t, certManager)
	f.cluster.status = http.StatusUnauthorized
	_, err := f.b.Login(context.Background(), LoginRequest{Role: "cert-manager", JWT: tok})
	if !errors.Is(err, errs.Denied) || !strings.Contains(errors.Unwrap(err).Error(), "service account unauthorized") {
		t.Fatalf("err = %v / %v", err, errors.Unwrap(err))
	}
}

func TestSignatureVerification(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if err := f.b.WriteConfig(ConfigRequest{
		KubernetesHost: f.cluster.srv.URL, KubernetesCACert: f.cluster.caPEM(), PEMKeys: []string{f.sg.publicPEM(t)},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.b.Login(context.Background(), LoginRequest{Role: "cert-manager", JWT: f.known(t, certManager)}); err != nil {
		t.Fatalf("signed by the configured key: %v", err)
	}
	forger := newSigner(t)
	forged := forger.legacyJWT(t, certManager)
	f.cluster.accounts[forged] = certManager
	_, err := f.b.Login(context.Background(), LoginRequest{Role: "cert-manager", JWT: forged})
	if !errors.Is(err, errs.Denied) || errs.Message(err) != "permission denied" {
		t.Fatalf("forged: %v", err)
	}
}

func TestConfigAndRoleValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		name string
		err  error
		msg  string
	}{
		{"no host", f.b.WriteConfig(ConfigRequest{}), "no host provided"},
		{"bad CA", f.b.WriteConfig(ConfigRequest{KubernetesHost: "k8s", KubernetesCACert: "junk"}), "kubernetes_ca_cert does not contain a PEM certificate"},
		{"bad pem key", f.b.WriteConfig(ConfigRequest{KubernetesHost: "k8s", PEMKeys: []string{"junk"}}), "data does not contain any valid RSA or ECDSA public keys"},
		{"no names", roleErr(f, RoleRequest{BoundServiceAccountNamespaces: ptr([]string{"a"})}), `"bound_service_account_names" can not be empty`},
		{"no namespaces", roleErr(f, RoleRequest{BoundServiceAccountNames: ptr([]string{"a"})}), `"bound_service_account_namespaces" can not be empty if "bound_service_account_namespace_selector" is not set`},
		{"star mixed", roleErr(f, RoleRequest{BoundServiceAccountNames: ptr([]string{"*", "a"}), BoundServiceAccountNamespaces: ptr([]string{"a"})}), `can not mix "*" with values`},
		{"bad alias source", roleErr(f, RoleRequest{BoundServiceAccountNames: ptr([]string{"a"}), BoundServiceAccountNamespaces: ptr([]string{"a"}), AliasNameSource: ptr("x")}), `invalid alias_name_source "x", must be one of [serviceaccount_uid serviceaccount_name]`},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, errs.Invalid) || errs.Message(tt.err) != tt.msg {
			t.Errorf("%s: err = %v, want %q", tt.name, tt.err, tt.msg)
		}
	}
	got, err := f.b.ReadRole("cert-manager")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got["bound_service_account_names"], []string{"cert-manager"}) ||
		!reflect.DeepEqual(got["policies"], []string{"cert-manager-policy"}) ||
		!reflect.DeepEqual(got["token_policies"], []string{"cert-manager-policy"}) ||
		got["ttl"] != int64(3600) || got["token_ttl"] != int64(3600) {
		t.Fatalf("role = %v", got)
	}
	// An update keeps the bindings it does not send.
	if _, err := f.b.WriteRole("cert-manager", RoleRequest{Audience: ptr("vault")}, 0); err != nil {
		t.Fatal(err)
	}
	names, _ := f.b.ListRoles()
	if !reflect.DeepEqual(names, []string{"cert-manager"}) {
		t.Fatalf("roles = %v", names)
	}
	if err := f.b.DeleteRole("cert-manager"); err != nil {
		t.Fatal(err)
	}
	if r, _ := f.b.ReadRole("cert-manager"); r != nil {
		t.Fatal("role survived delete")
	}
}

func roleErr(f *fixture, req RoleRequest) error {
	_, err := f.b.WriteRole("new", req, 0)
	return err
}

func TestLoginWithoutConfig(t *testing.T) {
	t.Parallel()
	b := New(storagetest.Open(t).Space("k"), clock.NewFake(now), Options{})
	if _, err := b.WriteRole("r", RoleRequest{BoundServiceAccountNames: ptr([]string{"*"}), BoundServiceAccountNamespaces: ptr([]string{"*"})}, 0); err != nil {
		t.Fatal(err)
	}
	_, err := b.Login(context.Background(), LoginRequest{Role: "r", JWT: "a.b.c"})
	if !errors.Is(err, errs.InvalidVault500) || errs.Message(err) != "could not load backend configuration" {
		t.Fatalf("err = %v", err)
	}
}

func TestGlobMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"cert-manager", "cert-manager", true},
		{"cert-*", "cert-manager", true},
		{"*-manager", "cert-manager", true},
		{"c*t-m*r", "cert-manager", true},
		{"c*x", "cert-manager", false},
		{"cert", "cert-manager", false},
		{"*", "", true},
	}
	for _, tt := range tests {
		if got := globMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v", tt.pattern, tt.s, got)
		}
	}
}
