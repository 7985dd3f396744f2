package scripts

import (
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkid-dev/pkid/pkidtest"
)

// hierarchy starts pkid with the tutorial's two tiers and returns the
// environment a script gets.
func hierarchy(t *testing.T) (*pkidtest.Server, []string) {
	t.Helper()
	srv := pkidtest.Start(t, pkidtest.Options{InMemory: true})
	h := srv.BuildHierarchy(t)
	root := filepath.Join(t.TempDir(), "root_ca.crt")
	if err := os.WriteFile(root, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: h.Root.Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	return srv, append(os.Environ(), "VAULT_ADDR="+srv.URL, "VAULT_TOKEN="+srv.Token,
		"PKI_MOUNT="+h.IntMount, "ROLE="+h.Role, "ROOT_CA="+root)
}

// run runs a script and fails with its output; a missing interpreter is a
// failure too, never a skip.
func run(t *testing.T, env []string, dir string, name string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s is not installed (.ci/run installs it): %v", name, err)
	}
	cmd := exec.Command(name, args...)
	cmd.Env, cmd.Dir = env, dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	t.Logf("%s", out)
	return string(out)
}

func TestPythonHvac(t *testing.T) {
	_, env := hierarchy(t)
	run(t, env, filepath.Join("..", "python"), "/usr/bin/python3", "cert_manager.py")
}

func TestNodeVault(t *testing.T) {
	srv, env := hierarchy(t)
	node := filepath.Join("..", "node")
	if _, err := os.Stat(filepath.Join(node, "node_modules", "node-vault")); err != nil {
		t.Fatalf("node-vault is not installed: run npm ci in interop/node (.ci/run does): %v", err)
	}
	srv.Write(t, "sys/auth/approle", map[string]any{"type": "approle"})
	srv.Write(t, "auth/approle/role/node", map[string]any{"token_ttl": "1h"})
	rid, err := srv.Client(t).Logical().Read("auth/approle/role/node/role-id")
	if err != nil {
		t.Fatal(err)
	}
	sid := srv.Write(t, "auth/approle/role/node/secret-id", nil)
	jwt := fakeKubernetes(t, srv, "k8s-node")
	env = append(env, "ROLE_ID="+rid.Data["role_id"].(string), "SECRET_ID="+sid["secret_id"].(string),
		"K8S_JWT="+jwt, "K8S_MOUNT=k8s-node")
	run(t, env, node, "node", "node_vault.js")
}
