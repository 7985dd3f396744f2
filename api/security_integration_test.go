package api_test

// Issue 6 end to end, through the real vault/api client: the tutorial's
// policies, the token store, AppRole and Kubernetes logins, audit devices.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	vault "github.com/hashicorp/vault/api"

	"github.com/pkid-dev/pkid/clock"
	"github.com/pkid-dev/pkid/pkidtest"
)

// The tutorial's policies, verbatim (shared/tutorial.md).
const (
	secCertManagerPolicy = `
# Allow cert-manager to issue certificates
path "pki_int/sign/internal-services" {
  capabilities = ["create", "update"]
}

path "pki_int/issue/internal-services" {
  capabilities = ["create"]
}
`
	secRootCAPolicy = `
# Only allow signing intermediate CSRs
path "pki_root/root/sign-intermediate" {
  capabilities = ["create", "update"]
}

# Deny direct certificate issuance
path "pki_root/issue/*" {
  capabilities = ["deny"]
}

path "pki_root/sign/*" {
  capabilities = ["deny"]
}
`
)

func secWrite(t *testing.T, c *vault.Client, path string, data map[string]any) *vault.Secret {
	t.Helper()
	s, err := c.Logical().WriteWithContext(context.Background(), path, data)
	if err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	return s
}

// secStatus returns the HTTP status of a vault/api error (0 for nil).
func secStatus(err error) int {
	var re *vault.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode
	}
	if err != nil {
		return -1
	}
	return 0
}

func secWantStatus(t *testing.T, what string, err error, status int, msg string) {
	t.Helper()
	if got := secStatus(err); got != status {
		t.Fatalf("%s: status %d (%v), want %d", what, got, err, status)
	}
	if msg != "" && !strings.Contains(err.Error(), msg) {
		t.Fatalf("%s: error %q does not contain %q", what, err, msg)
	}
}

func secCSR(t *testing.T, cn string, isCA bool) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

// secTutorialPKI sets up the tutorial's two-tier CA with EC keys and the
// internal-services role.
func secTutorialPKI(t *testing.T, srv *pkidtest.Server) {
	t.Helper()
	c := srv.Client(t)
	srv.EnablePKI(t, "pki_root", 87600*time.Hour)
	srv.EnablePKI(t, "pki_int", 26280*time.Hour)
	secWrite(t, c, "pki_root/root/generate/internal", map[string]any{
		"common_name": "My Organization Root CA", "issuer_name": "root-2024", "key_type": "ec", "ttl": "87600h"})
	csr := secWrite(t, c, "pki_int/intermediate/generate/internal", map[string]any{
		"common_name": "My Organization Intermediate CA", "key_type": "ec"}).Data["csr"].(string)
	signed := secWrite(t, c, "pki_root/root/sign-intermediate", map[string]any{
		"csr": csr, "format": "pem_bundle", "ttl": "26280h"}).Data["certificate"].(string)
	secWrite(t, c, "pki_int/intermediate/set-signed", map[string]any{"certificate": signed})
	secWrite(t, c, "pki_int/roles/internal-services", map[string]any{
		"allowed_domains": "internal.example.com,svc.cluster.local", "allow_subdomains": true,
		"max_ttl": "168h", "ttl": "1h", "key_type": "ec", "key_bits": 256,
		"key_usage": "DigitalSignature", "ext_key_usage": "ServerAuth,ClientAuth"})
	secWrite(t, c, "pki_int/roles/web-servers", map[string]any{
		"allowed_domains": "example.com", "allow_subdomains": true, "key_type": "ec", "key_bits": 256})
}

// secTokenWith creates a child of the root token with the given policies.
func secTokenWith(t *testing.T, srv *pkidtest.Server, policies ...string) *vault.Client {
	t.Helper()
	root := srv.Client(t)
	s, err := root.Auth().Token().Create(&vault.TokenCreateRequest{Policies: policies})
	if err != nil {
		t.Fatal(err)
	}
	c := srv.Client(t)
	c.SetToken(s.Auth.ClientToken)
	return c
}

func TestTutorialPoliciesThroughTheAPI(t *testing.T) {
	t.Parallel()
	srv := pkidtest.Start(t)
	secTutorialPKI(t, srv)
	root := srv.Client(t)
	ctx := context.Background()
	if err := root.Sys().PutPolicyWithContext(ctx, "cert-manager-policy", secCertManagerPolicy); err != nil {
		t.Fatal(err)
	}
	if err := root.Sys().PutPolicyWithContext(ctx, "root-ca-policy", secRootCAPolicy); err != nil {
		t.Fatal(err)
	}

	t.Run("cert-manager-policy", func(t *testing.T) {
		cm := secTokenWith(t, srv, "cert-manager-policy")
		s := secWrite(t, cm, "pki_int/sign/internal-services", map[string]any{
			"csr": secCSR(t, "api.internal.example.com", false), "ttl": "1h"})
		if s.Data["certificate"] == nil {
			t.Fatalf("sign answered %v", s.Data)
		}
		// The tutorial grants only "create" on issue. PKI paths have no
		// existence check, so every PKI write is an update (spec §1.2): Vault
		// refuses this issue too.
		_, err := cm.Logical().Write("pki_int/issue/internal-services", map[string]any{"common_name": "a.internal.example.com"})
		secWantStatus(t, "issue with create only", err, 403, "permission denied")
		for _, tc := range []struct{ method, path string }{
			{"PUT", "pki_int/sign/web-servers"},
			{"PUT", "pki_int/issue/web-servers"},
			{"GET", "pki_int/roles/internal-services"},
			{"PUT", "pki_int/roles/internal-services"},
			{"PUT", "pki_root/root/sign-intermediate"},
			{"PUT", "pki_int/revoke"},
			{"GET", "sys/mounts"},
			{"PUT", "sys/policies/acl/x"},
			{"PUT", "auth/token/create"},
			{"GET", "nomount/anything"},
		} {
			req := cm.NewRequest(tc.method, "/v1/"+tc.path)
			resp, err := cm.RawRequestWithContext(ctx, req)
			if resp != nil {
				resp.Body.Close()
			}
			secWantStatus(t, tc.method+" "+tc.path, err, 403, "permission denied")
		}
		// Unauthenticated PKI paths (spec §1.8) still answer.
		if s, err := cm.Logical().Read("pki_int/cert/ca"); err != nil || s.Data["certificate"] == nil {
			t.Fatalf("cert/ca: %v", err)
		}
		// The default policy travels with the token.
		if _, err := cm.Auth().Token().LookupSelf(); err != nil {
			t.Fatalf("lookup-self: %v", err)
		}
		caps, err := cm.Sys().CapabilitiesSelf("pki_int/sign/internal-services")
		if err != nil || !reflect.DeepEqual(caps, []string{"create", "update"}) {
			t.Fatalf("capabilities-self = %v, %v", caps, err)
		}
	})

	t.Run("cert-manager-policy with update issues", func(t *testing.T) {
		issuing := strings.Replace(secCertManagerPolicy, `capabilities = ["create"]`, `capabilities = ["create", "update"]`, 1)
		if err := root.Sys().PutPolicy("cert-manager-issuing", issuing); err != nil {
			t.Fatal(err)
		}
		cm := secTokenWith(t, srv, "cert-manager-issuing")
		s := secWrite(t, cm, "pki_int/issue/internal-services", map[string]any{"common_name": "a.internal.example.com"})
		if s.Data["private_key"] == nil || s.Data["certificate"] == nil {
			t.Fatalf("issue answered %v", s.Data)
		}
		_, err := cm.Logical().Write("pki_int/issue/web-servers", map[string]any{"common_name": "www.example.com"})
		secWantStatus(t, "issue for another role", err, 403, "permission denied")
	})

	t.Run("root-ca-policy", func(t *testing.T) {
		rc := secTokenWith(t, srv, "root-ca-policy")
		secWrite(t, root, "pki_root/roles/anything", map[string]any{"allow_any_name": true, "key_type": "ec"})
		s := secWrite(t, rc, "pki_root/root/sign-intermediate", map[string]any{
			"csr": secCSR(t, "Second Intermediate", true), "common_name": "Second Intermediate", "ttl": "8760h"})
		if s.Data["certificate"] == nil {
			t.Fatalf("sign-intermediate answered %v", s.Data)
		}
		_, err := rc.Logical().Write("pki_root/issue/anything", map[string]any{"common_name": "x.example.com"})
		secWantStatus(t, "pki_root/issue", err, 403, "permission denied")
		_, err = rc.Logical().Write("pki_root/sign/anything", map[string]any{"csr": secCSR(t, "x.example.com", false)})
		secWantStatus(t, "pki_root/sign", err, 403, "permission denied")
		_, err = rc.Logical().Write("pki_root/root/generate/internal", map[string]any{"common_name": "evil"})
		secWantStatus(t, "root/generate", err, 403, "permission denied")
		caps, _ := rc.Sys().CapabilitiesSelf("pki_root/issue/anything")
		if !reflect.DeepEqual(caps, []string{"deny"}) {
			t.Fatalf("capabilities = %v", caps)
		}
	})

	t.Run("sudo on PKI root paths", func(t *testing.T) {
		srv.EnablePKI(t, "pki_scratch", 0)
		secWrite(t, root, "pki_scratch/root/generate/internal", map[string]any{"common_name": "scratch", "key_type": "ec"})
		if err := root.Sys().PutPolicy("no-sudo", `path "pki_scratch/root" { capabilities = ["delete"] }`); err != nil {
			t.Fatal(err)
		}
		if err := root.Sys().PutPolicy("with-sudo", `path "pki_scratch/root" { capabilities = ["delete", "sudo"] }`); err != nil {
			t.Fatal(err)
		}
		_, err := secTokenWith(t, srv, "no-sudo").Logical().Delete("pki_scratch/root")
		secWantStatus(t, "DELETE root without sudo", err, 403, "permission denied")
		if _, err := secTokenWith(t, srv, "with-sudo").Logical().Delete("pki_scratch/root"); err != nil {
			t.Fatalf("DELETE root with sudo: %v", err)
		}
	})
}

func TestPolicyEndpoints(t *testing.T) {
	t.Parallel()
	srv := pkidtest.Start(t)
	c := srv.Client(t)
	sys := c.Sys()
	if err := sys.PutPolicy("Cert-Manager-Policy", secCertManagerPolicy); err != nil {
		t.Fatal(err)
	}
	got, err := sys.GetPolicy("cert-manager-policy")
	if err != nil || got != secCertManagerPolicy {
		t.Fatalf("GetPolicy = %q, %v", got, err)
	}
	list, err := sys.ListPolicies()
	if err != nil || !reflect.DeepEqual(list, []string{"cert-manager-policy", "default", "root"}) {
		t.Fatalf("ListPolicies = %v, %v", list, err)
	}
	// The legacy routes, with their top-level copies.
	legacy, err := c.Logical().Read("sys/policy")
	if err != nil || len(legacy.Data["policies"].([]any)) != 3 {
		t.Fatalf("sys/policy = %v, %v", legacy, err)
	}
	secWrite(t, c, "sys/policy/legacy", map[string]any{"rules": `path "a" { policy = "read" }`})
	rules, err := c.Logical().Read("sys/policy/legacy")
	if err != nil || rules.Data["rules"] != `path "a" { policy = "read" }` {
		t.Fatalf("legacy read = %v, %v", rules, err)
	}
	if def, _ := sys.GetPolicy("default"); !strings.Contains(def, `path "auth/token/lookup-self"`) {
		t.Fatalf("default policy = %q", def)
	}
	if rootText, err := sys.GetPolicy("root"); err != nil || rootText != "" {
		t.Fatalf("root policy = %q, %v", rootText, err)
	}
	if missing, err := sys.GetPolicy("nope"); err != nil || missing != "" {
		t.Fatalf("missing policy = %q, %v", missing, err)
	}
	for _, tc := range []struct {
		name string
		err  error
		msg  string
	}{
		{"empty", sys.PutPolicy("x", ""), "'policy' parameter not supplied or empty"},
		{"bad capability", sys.PutPolicy("x", `path "a" { capabilities = ["reed"] }`), `invalid capability "reed"`},
		{"update root", sys.PutPolicy("root", `path "a" { capabilities = ["read"] }`), `cannot update "root" policy`},
		{"delete root", sys.DeletePolicy("root"), `cannot delete "root" policy`},
		{"delete default", sys.DeletePolicy("default"), "cannot delete default policy"},
	} {
		secWantStatus(t, tc.name, tc.err, 400, tc.msg)
	}
	if err := sys.DeletePolicy("cert-manager-policy"); err != nil {
		t.Fatal(err)
	}
	if err := sys.DeletePolicy("never-existed"); err != nil {
		t.Fatal(err)
	}
	// The CLI's JSON form of a policy works as well.
	if err := sys.PutPolicy("json", `{"path": {"pki/*": {"capabilities": ["read"]}}}`); err != nil {
		t.Fatal(err)
	}
	caps, err := sys.Capabilities(secTokenWith(t, srv, "json").Token(), "pki/roles/x")
	if err != nil || !reflect.DeepEqual(caps, []string{"read"}) {
		t.Fatalf("capabilities = %v, %v", caps, err)
	}
}

func TestTokenStoreGrowsUp(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Now())
	srv := pkidtest.Start(t, pkidtest.Options{Clock: clk})
	root := srv.Client(t)
	for _, p := range []string{"a", "b"} {
		if err := root.Sys().PutPolicy(p, `path "x/`+p+`" { capabilities = ["read"] }`); err != nil {
			t.Fatal(err)
		}
	}
	if err := root.Sys().PutPolicy("creator", `path "auth/token/create" { capabilities = ["update"] }`); err != nil {
		t.Fatal(err)
	}
	renewable := false
	parentSecret, err := root.Auth().Token().Create(&vault.TokenCreateRequest{
		Policies: []string{"a", "creator"}, TTL: "1h", ExplicitMaxTTL: "2h", DisplayName: "ci",
		Metadata: map[string]string{"team": "pki"}, NumUses: 0, Renewable: &renewable,
	})
	if err != nil {
		t.Fatal(err)
	}
	pa := parentSecret.Auth
	if !reflect.DeepEqual(pa.Policies, []string{"a", "creator", "default"}) || pa.LeaseDuration != 3600 || pa.Renewable || pa.Orphan {
		t.Fatalf("auth = %+v", pa)
	}
	parent := srv.Client(t)
	parent.SetToken(pa.ClientToken)

	// A non-root token grants only a subset of its policies.
	_, err = parent.Auth().Token().Create(&vault.TokenCreateRequest{Policies: []string{"b"}})
	secWantStatus(t, "policy outside the parent's", err, 400, "child policies must be subset of parent")
	child, err := parent.Auth().Token().Create(&vault.TokenCreateRequest{Policies: []string{"a"}, NumUses: 2})
	if err != nil {
		t.Fatal(err)
	}
	// Lookup and revoke by accessor.
	look, err := root.Auth().Token().LookupAccessor(child.Auth.Accessor)
	if err != nil || look.Data["id"] != "" || look.Data["display_name"] != "token" {
		t.Fatalf("lookup-accessor = %v, %v", look, err)
	}
	meta, _ := root.Auth().Token().Lookup(pa.ClientToken)
	if meta.Data["display_name"] != "token-ci" || meta.Data["meta"].(map[string]any)["team"] != "pki" {
		t.Fatalf("lookup = %v", meta.Data)
	}
	// Children die with their parent.
	grandchild, err := parent.Auth().Token().Create(&vault.TokenCreateRequest{Policies: []string{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := root.Auth().Token().RevokeAccessor(pa.Accessor); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{pa.ClientToken, child.Auth.ClientToken, grandchild.Auth.ClientToken} {
		c := srv.Client(t)
		c.SetToken(tok)
		_, err := c.Auth().Token().LookupSelf()
		secWantStatus(t, "revoked token", err, 403, "permission denied")
	}
	// Expiry follows the injected clock.
	short, err := root.Auth().Token().Create(&vault.TokenCreateRequest{Policies: []string{"a"}, TTL: "10m"})
	if err != nil {
		t.Fatal(err)
	}
	c := srv.Client(t)
	c.SetToken(short.Auth.ClientToken)
	if _, err := c.Auth().Token().LookupSelf(); err != nil {
		t.Fatal(err)
	}
	clk.Advance(11 * time.Minute)
	_, err = c.Auth().Token().LookupSelf()
	secWantStatus(t, "expired token", err, 403, "permission denied")
}

func TestAppRoleLoginEndToEnd(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Now())
	srv := pkidtest.Start(t, pkidtest.Options{Clock: clk})
	secTutorialPKI(t, srv)
	root := srv.Client(t)
	if err := root.Sys().PutPolicy("cert-manager-policy", secCertManagerPolicy); err != nil {
		t.Fatal(err)
	}
	if err := root.Sys().EnableAuthWithOptions("approle", &vault.EnableAuthOptions{Type: "approle"}); err != nil {
		t.Fatal(err)
	}
	auths, err := root.Sys().ListAuth()
	if err != nil || auths["approle/"] == nil || auths["approle/"].Type != "approle" || auths["token/"] == nil {
		t.Fatalf("ListAuth = %v, %v", auths, err)
	}
	secWrite(t, root, "auth/approle/role/cert-manager", map[string]any{
		"token_policies": "cert-manager-policy", "token_ttl": "1h", "secret_id_ttl": "10m", "secret_id_num_uses": 3})
	role, err := root.Logical().Read("auth/approle/role/cert-manager")
	if err != nil || role.Data["secret_id_ttl"].(json.Number).String() != "600" {
		t.Fatalf("role = %v, %v", role, err)
	}
	roleID := secRead(t, root, "auth/approle/role/cert-manager/role-id").Data["role_id"].(string)
	sid := secWrite(t, root, "auth/approle/role/cert-manager/secret-id", nil)
	if sid.Data["secret_id_ttl"].(json.Number).String() != "600" || sid.Data["secret_id_accessor"] == "" {
		t.Fatalf("secret-id = %v", sid.Data)
	}
	secretID := sid.Data["secret_id"].(string)

	anon := srv.Client(t)
	anon.ClearToken()
	login := secWrite(t, anon, "auth/approle/login", map[string]any{"role_id": roleID, "secret_id": secretID})
	a := login.Auth
	if a == nil || !reflect.DeepEqual(a.Policies, []string{"cert-manager-policy", "default"}) ||
		a.LeaseDuration != 3600 || !a.Renewable || !a.Orphan || a.Metadata["role_name"] != "cert-manager" {
		t.Fatalf("login auth = %+v", a)
	}
	cm := srv.Client(t)
	cm.SetToken(a.ClientToken)
	self, err := cm.Auth().Token().LookupSelf()
	if err != nil || self.Data["display_name"] != "approle" || self.Data["path"] != "auth/approle/login" {
		t.Fatalf("lookup-self = %v, %v", self, err)
	}
	secWrite(t, cm, "pki_int/sign/internal-services", map[string]any{"csr": secCSR(t, "svc.internal.example.com", false)})

	_, err = anon.Logical().Write("auth/approle/login", map[string]any{"role_id": roleID, "secret_id": "wrong"})
	secWantStatus(t, "wrong secret_id", err, 400, "invalid role or secret ID")
	_, err = anon.Logical().Write("auth/approle/login", map[string]any{"role_id": "wrong", "secret_id": secretID})
	secWantStatus(t, "wrong role_id", err, 400, "invalid role or secret ID")
	_, err = anon.Logical().Write("auth/approle/login", map[string]any{"role_id": roleID})
	secWantStatus(t, "no secret_id", err, 400, "missing secret_id")

	// The secret id expires on the injected clock; so does the token.
	clk.Advance(11 * time.Minute)
	_, err = anon.Logical().Write("auth/approle/login", map[string]any{"role_id": roleID, "secret_id": secretID})
	secWantStatus(t, "expired secret_id", err, 400, "invalid role or secret ID")
	clk.Advance(time.Hour)
	_, err = cm.Auth().Token().LookupSelf()
	secWantStatus(t, "expired login token", err, 403, "permission denied")

	// Disabling the method revokes its tokens.
	fresh := secWrite(t, root, "auth/approle/role/cert-manager/secret-id", nil).Data["secret_id"].(string)
	tok := secWrite(t, anon, "auth/approle/login", map[string]any{"role_id": roleID, "secret_id": fresh}).Auth.ClientToken
	if err := root.Sys().DisableAuth("approle"); err != nil {
		t.Fatal(err)
	}
	cm.SetToken(tok)
	_, err = cm.Auth().Token().LookupSelf()
	secWantStatus(t, "token of a disabled method", err, 403, "permission denied")
}

func secRead(t *testing.T, c *vault.Client, path string) *vault.Secret {
	t.Helper()
	s, err := c.Logical().Read(path)
	if err != nil || s == nil {
		t.Fatalf("read %s: %v %v", path, s, err)
	}
	return s
}

// secCluster is a Kubernetes API server on loopback with TLS that reviews
// the tokens it knows.
type secCluster struct {
	srv *httptest.Server
	mu  sync.Mutex
	sa  map[string][3]string // jwt → namespace, name, uid
}

func newSecCluster(t *testing.T) *secCluster {
	t.Helper()
	k := &secCluster{sa: map[string][3]string{}}
	k.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var tr struct {
			APIVersion string         `json:"apiVersion"`
			Kind       string         `json:"kind"`
			Spec       map[string]any `json:"spec"`
			Status     map[string]any `json:"status"`
		}
		if r.URL.Path != "/apis/authentication.k8s.io/v1/tokenreviews" || json.NewDecoder(r.Body).Decode(&tr) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		k.mu.Lock()
		acc, ok := k.sa[tr.Spec["token"].(string)]
		k.mu.Unlock()
		tr.Status = map[string]any{"authenticated": ok}
		if ok {
			tr.Status["user"] = map[string]any{"username": "system:serviceaccount:" + acc[0] + ":" + acc[1], "uid": acc[2]}
		}
		json.NewEncoder(w).Encode(tr)
	}))
	k.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	k.srv.StartTLS()
	t.Cleanup(k.srv.Close)
	return k
}

func (k *secCluster) issue(t *testing.T, signer jose.Signer, ns, name, uid string, exp time.Time) string {
	t.Helper()
	tok, err := jwt.Signed(signer).Claims(jwt.Claims{
		Issuer: "https://kubernetes.default.svc", Expiry: jwt.NewNumericDate(exp),
		Subject: "system:serviceaccount:" + ns + ":" + name,
	}).Claims(map[string]any{"kubernetes.io": map[string]any{
		"namespace": ns, "serviceaccount": map[string]any{"name": name, "uid": uid}}}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	k.mu.Lock()
	k.sa[tok] = [3]string{ns, name, uid}
	k.mu.Unlock()
	return tok
}

func TestKubernetesLoginEndToEnd(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Now())
	srv := pkidtest.Start(t, pkidtest.Options{Clock: clk})
	secTutorialPKI(t, srv)
	root := srv.Client(t)
	if err := root.Sys().PutPolicy("cert-manager-policy", secCertManagerPolicy); err != nil {
		t.Fatal(err)
	}
	k8s := newSecCluster(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The tutorial's commands.
	if err := root.Sys().EnableAuthWithOptions("kubernetes", &vault.EnableAuthOptions{Type: "kubernetes"}); err != nil {
		t.Fatal(err)
	}
	ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k8s.srv.Certificate().Raw}))
	secWrite(t, root, "auth/kubernetes/config", map[string]any{"kubernetes_host": k8s.srv.URL, "kubernetes_ca_cert": ca})
	secWrite(t, root, "auth/kubernetes/role/cert-manager", map[string]any{
		"bound_service_account_names": "cert-manager", "bound_service_account_namespaces": "cert-manager",
		"policies": "cert-manager-policy", "ttl": "1h"})

	jwtCM := k8s.issue(t, signer, "cert-manager", "cert-manager", "uid-1", clk.Now().Add(24*time.Hour))
	anon := srv.Client(t)
	anon.ClearToken()
	// cert-manager logs in the way its Vault issuer does.
	login := secWrite(t, anon, "auth/kubernetes/login", map[string]any{"role": "cert-manager", "jwt": jwtCM})
	a := login.Auth
	if a == nil || !reflect.DeepEqual(a.Policies, []string{"cert-manager-policy", "default"}) || a.LeaseDuration != 3600 ||
		a.Metadata["service_account_name"] != "cert-manager" || a.Metadata["role"] != "cert-manager" {
		t.Fatalf("login auth = %+v", a)
	}
	cm := srv.Client(t)
	cm.SetToken(a.ClientToken)
	self := secRead(t, cm, "auth/token/lookup-self")
	if self.Data["display_name"] != "kubernetes-cert-manager-cert-manager" {
		t.Fatalf("display name = %v", self.Data["display_name"])
	}
	secWrite(t, cm, "pki_int/sign/internal-services", map[string]any{"csr": secCSR(t, "api.internal.example.com", false)})
	_, err = cm.Logical().Write("pki_int/sign/web-servers", map[string]any{"csr": secCSR(t, "www.example.com", false)})
	secWantStatus(t, "sign for another role", err, 403, "permission denied")

	wrongSA := k8s.issue(t, signer, "cert-manager", "webhook", "uid-2", clk.Now().Add(time.Hour))
	_, err = anon.Logical().Write("auth/kubernetes/login", map[string]any{"role": "cert-manager", "jwt": wrongSA})
	secWantStatus(t, "unbound service account", err, 403, "service account name not authorized")
	wrongNS := k8s.issue(t, signer, "default", "cert-manager", "uid-3", clk.Now().Add(time.Hour))
	_, err = anon.Logical().Write("auth/kubernetes/login", map[string]any{"role": "cert-manager", "jwt": wrongNS})
	secWantStatus(t, "unbound namespace", err, 403, "namespace not authorized")
	_, err = anon.Logical().Write("auth/kubernetes/login", map[string]any{"role": "nope", "jwt": jwtCM})
	secWantStatus(t, "unknown role", err, 400, `invalid role name "nope"`)

	// The login token expires after the role's ttl; the JWT after its exp.
	clk.Advance(61 * time.Minute)
	_, err = cm.Auth().Token().LookupSelf()
	secWantStatus(t, "expired login token", err, 403, "permission denied")
	clk.Advance(24 * time.Hour)
	_, err = anon.Logical().Write("auth/kubernetes/login", map[string]any{"role": "cert-manager", "jwt": jwtCM})
	secWantStatus(t, "expired service account JWT", err, 403, "token is expired")
}

// secAuditEntries reads an audit log's JSON lines.
func secAuditEntries(t *testing.T, file string) []map[string]any {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		out = append(out, e)
	}
	return out
}

func TestAuditDeviceRecordsIssue(t *testing.T) {
	t.Parallel()
	srv := pkidtest.Start(t)
	secTutorialPKI(t, srv)
	root := srv.Client(t)
	file := filepath.Join(t.TempDir(), "log", "vault", "audit.log")
	// As the tutorial: vault audit enable file file_path=...
	if err := root.Sys().EnableAuditWithOptions("file", &vault.EnableAuditOptions{
		Type: "file", Options: map[string]string{"file_path": file}}); err != nil {
		t.Fatal(err)
	}
	devices, err := root.Sys().ListAudit()
	if err != nil || devices["file/"] == nil || devices["file/"].Options["file_path"] != file {
		t.Fatalf("ListAudit = %v, %v", devices, err)
	}
	if err := root.Sys().PutPolicy("issuer", `path "pki_int/issue/internal-services" { capabilities = ["update"] }`); err != nil {
		t.Fatal(err)
	}
	c := secTokenWith(t, srv, "issuer")
	issued := secWrite(t, c, "pki_int/issue/internal-services", map[string]any{"common_name": "db.internal.example.com"})
	key := issued.Data["private_key"].(string)

	raw, _ := os.ReadFile(file)
	for _, secret := range []string{key, c.Token(), "MHcCAQEE", strings.Split(key, "\n")[1]} {
		if strings.Contains(string(raw), secret) {
			t.Fatalf("audit log holds a secret in clear: %.40q", secret)
		}
	}
	hash := func(s string) string {
		out, err := root.Sys().AuditHash("file", s)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	var req, resp map[string]any
	for _, e := range secAuditEntries(t, file) {
		r, _ := e["request"].(map[string]any)
		if r["path"] != "pki_int/issue/internal-services" {
			continue
		}
		switch e["type"] {
		case "request":
			req = e
		case "response":
			resp = e
		}
	}
	if req == nil || resp == nil {
		t.Fatal("issue request or response missing from the audit log")
	}
	respData := resp["response"].(map[string]any)["data"].(map[string]any)
	checks := []struct {
		name      string
		got, want any
	}{
		{"private key", respData["private_key"], hash(key)},
		{"certificate", respData["certificate"], hash(issued.Data["certificate"].(string))},
		{"request token", req["request"].(map[string]any)["client_token"], hash(c.Token())},
		{"auth token", req["auth"].(map[string]any)["client_token"], hash(c.Token())},
		{"common name", req["request"].(map[string]any)["data"].(map[string]any)["common_name"], hash("db.internal.example.com")},
		{"operation", req["request"].(map[string]any)["operation"], "update"},
		{"mount type", req["request"].(map[string]any)["mount_type"], "pki"},
		{"policy results", req["auth"].(map[string]any)["policy_results"].(map[string]any)["allowed"], true},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}

	// A refused request is recorded too, with its error.
	_, err = c.Logical().Write("pki_int/issue/web-servers", map[string]any{"common_name": "x.example.com"})
	secWantStatus(t, "refused issue", err, 403, "permission denied")
	entries := secAuditEntries(t, file)
	last := entries[len(entries)-1]
	if last["error"] != "permission denied" || last["request"].(map[string]any)["path"] != "pki_int/issue/web-servers" {
		t.Fatalf("last entry = %v", last)
	}
}

func TestAuditDeviceThatCannotWriteBlocksRequests(t *testing.T) {
	t.Parallel()
	srv := pkidtest.Start(t)
	root := srv.Client(t)
	sys := root.Sys()
	good := filepath.Join(t.TempDir(), "audit.log")
	if err := sys.EnableAuditWithOptions("good", &vault.EnableAuditOptions{Type: "file", Options: map[string]string{"file_path": good}}); err != nil {
		t.Fatal(err)
	}
	// Vault tests a new device with a probe entry and refuses one that
	// cannot write it...
	err := sys.EnableAuditWithOptions("full", &vault.EnableAuditOptions{Type: "file", Options: map[string]string{"file_path": "/dev/full"}})
	secWantStatus(t, "device that fails its probe", err, 400, "audit backend failed test message")
	// ...unless told to skip the probe. With a working device beside it,
	// requests go through.
	if err := sys.EnableAuditWithOptions("full", &vault.EnableAuditOptions{Type: "file",
		Options: map[string]string{"file_path": "/dev/full", "skip_test": "true"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := sys.ListMounts(); err != nil {
		t.Fatalf("one device working: %v", err)
	}
	// When the failing device is the only one, nothing goes unrecorded:
	// every request fails with Vault's internal error.
	err = sys.DisableAudit("good")
	secWantStatus(t, "disabling the last working device", err, 500, "internal error")
	_, err = sys.ListMounts()
	secWantStatus(t, "request with no working device", err, 500, "internal error")
	anon := srv.Client(t)
	anon.ClearToken()
	_, err = anon.Logical().Read("sys/policies/acl/default")
	if secStatus(err) != 403 {
		// Refusals are logged best-effort, so an unauthenticated caller
		// still gets its 403 rather than a 500.
		t.Fatalf("anonymous read: %v", err)
	}
}

// TestUnauthenticatedPKIPaths checks spec §1.8 through HTTP: the listed
// paths answer without a token (whatever their status), every other PKI
// path is refused with 403 before routing.
func TestUnauthenticatedPKIPaths(t *testing.T) {
	t.Parallel()
	srv := pkidtest.Start(t)
	srv.EnablePKI(t, "pki", 0)
	secWrite(t, srv.Client(t), "pki/root/generate/internal", map[string]any{"common_name": "unauth test", "key_type": "ec"})
	tests := []struct {
		method, path string
		open         bool
	}{
		{"GET", "pki/ca", true},
		{"GET", "pki/ca/pem", true},
		{"GET", "pki/ca_chain", true},
		{"GET", "pki/crl", true},
		{"GET", "pki/crl/pem", true},
		{"GET", "pki/crl/delta", true},
		{"GET", "pki/crl/delta/pem", true},
		{"GET", "pki/cert/ca", true},
		{"GET", "pki/cert/ca_chain", true},
		{"GET", "pki/cert/crl", true},
		{"GET", "pki/cert/39-dd-2e", true},
		{"GET", "pki/cert/39-dd-2e/raw/pem", true},
		{"GET", "pki/issuer/default/pem", true},
		{"GET", "pki/issuer/default/der", true},
		{"GET", "pki/issuer/default/json", true},
		{"GET", "pki/issuer/default/crl/pem", true},
		{"GET", "pki/issuer/default/crl/delta/der", true},
		{"LIST", "pki/issuers", true},
		{"GET", "pki/ocsp/MAoGCCsGAQUFBzABAQ", true},
		{"GET", "pki/issuer/default", false},
		{"LIST", "pki/roles", false},
		{"LIST", "pki/certs", false},
		{"LIST", "pki/keys", false},
		{"PUT", "pki/issue/web", false},
		{"PUT", "pki/sign/web", false},
		{"PUT", "pki/revoke", false},
		{"GET", "pki/config/urls", false},
		{"GET", "pki/crl/rotate", false},
		{"PUT", "pki/tidy", false},
		{"GET", "pki/issuer/default/crl/x", false},
		{"GET", "sys/mounts", false},
		{"GET", "sys/policies/acl/default", false},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(tt.method, srv.URL+"/v1/"+tt.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if refused := resp.StatusCode == http.StatusForbidden; refused == tt.open {
			t.Errorf("%s %s without a token: status %d, open=%v", tt.method, tt.path, resp.StatusCode, tt.open)
		}
	}
}

// TestExistenceCheckPicksCreateOrUpdate: approle roles have Vault's
// existence check, so writing a new role needs "create" and rewriting an
// existing one needs "update".
func TestExistenceCheckPicksCreateOrUpdate(t *testing.T) {
	t.Parallel()
	srv := pkidtest.Start(t)
	root := srv.Client(t)
	if err := root.Sys().EnableAuthWithOptions("approle", &vault.EnableAuthOptions{Type: "approle"}); err != nil {
		t.Fatal(err)
	}
	for name, caps := range map[string]string{"creator": `["create"]`, "updater": `["update"]`} {
		if err := root.Sys().PutPolicy(name, `path "auth/approle/role/*" { capabilities = `+caps+` }`); err != nil {
			t.Fatal(err)
		}
	}
	creator, updater := secTokenWith(t, srv, "creator"), secTokenWith(t, srv, "updater")
	_, err := updater.Logical().Write("auth/approle/role/new", map[string]any{"token_ttl": "1h"})
	secWantStatus(t, "update-only token creating", err, 403, "permission denied")
	secWrite(t, creator, "auth/approle/role/new", map[string]any{"token_ttl": "1h"})
	_, err = creator.Logical().Write("auth/approle/role/new", map[string]any{"token_ttl": "2h"})
	secWantStatus(t, "create-only token updating", err, 403, "permission denied")
	secWrite(t, updater, "auth/approle/role/new", map[string]any{"token_ttl": "2h"})
}

// TestSecurityStateSurvivesRestart: policies, tokens, auth methods and
// audit devices (with their salts) are in the data file.
func TestSecurityStateSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	auditFile := filepath.Join(dir, "audit.log")
	var token, roleID, hashBefore string
	t.Run("first run", func(t *testing.T) {
		srv := pkidtest.Start(t, pkidtest.Options{DataDir: dir})
		root := srv.Client(t)
		if err := root.Sys().PutPolicy("reader", `path "sys/mounts" { capabilities = ["read"] }`); err != nil {
			t.Fatal(err)
		}
		if err := root.Sys().EnableAuditWithOptions("file", &vault.EnableAuditOptions{Type: "file", Options: map[string]string{"file_path": auditFile}}); err != nil {
			t.Fatal(err)
		}
		if err := root.Sys().EnableAuthWithOptions("approle", &vault.EnableAuthOptions{Type: "approle"}); err != nil {
			t.Fatal(err)
		}
		secWrite(t, root, "auth/approle/role/r", map[string]any{"token_policies": "reader"})
		roleID = secRead(t, root, "auth/approle/role/r/role-id").Data["role_id"].(string)
		token = secTokenWith(t, srv, "reader").Token()
		var err error
		if hashBefore, err = root.Sys().AuditHash("file", "x"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("second run", func(t *testing.T) {
		srv := pkidtest.Start(t, pkidtest.Options{DataDir: dir})
		root := srv.Client(t)
		if after, err := root.Sys().AuditHash("file", "x"); err != nil || after != hashBefore {
			t.Fatalf("audit salt changed: %s vs %s (%v)", hashBefore, after, err)
		}
		c := srv.Client(t)
		c.SetToken(token)
		if _, err := c.Sys().ListMounts(); err != nil {
			t.Fatalf("token with a stored policy: %v", err)
		}
		_, err := c.Sys().ListPolicies()
		secWantStatus(t, "outside the policy", err, 403, "permission denied")
		sid := secWrite(t, root, "auth/approle/role/r/secret-id", nil).Data["secret_id"].(string)
		anon := srv.Client(t)
		anon.ClearToken()
		secWrite(t, anon, "auth/approle/login", map[string]any{"role_id": roleID, "secret_id": sid})
	})
}
