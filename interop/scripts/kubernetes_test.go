package scripts

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/pkid-dev/pkid/pkidtest"
)

// fakeKubernetes enables Kubernetes auth at mount, configured against a
// fake API server on loopback that confirms the one service account token
// it returns (default/node), bound to role "node".
func fakeKubernetes(t *testing.T, srv *pkidtest.Server, mount string) string {
	t.Helper()
	token := serviceAccountJWT(t, "default", "node")
	cluster := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var tr struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Spec       struct {
				Token string `json:"token"`
			} `json:"spec"`
			Status map[string]any `json:"status"`
		}
		if r.URL.Path != "/apis/authentication.k8s.io/v1/tokenreviews" || json.NewDecoder(r.Body).Decode(&tr) != nil {
			http.Error(w, "not a token review", http.StatusBadRequest)
			return
		}
		if tr.Spec.Token == token {
			tr.Status = map[string]any{"authenticated": true,
				"user": map[string]any{"username": "system:serviceaccount:default:node", "uid": "uid-node"}}
		}
		json.NewEncoder(w).Encode(tr)
	}))
	t.Cleanup(cluster.Close)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cluster.Certificate().Raw})
	srv.Write(t, "sys/auth/"+mount, map[string]any{"type": "kubernetes"})
	srv.Write(t, "auth/"+mount+"/config", map[string]any{"kubernetes_host": cluster.URL, "kubernetes_ca_cert": string(caPEM)})
	srv.Write(t, "auth/"+mount+"/role/node", map[string]any{
		"bound_service_account_names": "node", "bound_service_account_namespaces": "default", "ttl": "1h",
	})
	return token
}

// serviceAccountJWT is a legacy secret-based service account token.
func serviceAccountJWT(t *testing.T, namespace, name string) string {
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
		"sub":                                    "system:serviceaccount:" + namespace + ":" + name,
		"kubernetes.io/serviceaccount/namespace": namespace,
		"kubernetes.io/serviceaccount/service-account.name": name,
		"kubernetes.io/serviceaccount/service-account.uid":  "uid-" + name,
	}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
