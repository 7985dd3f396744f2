package main

// TestTutorialEndToEnd is the product promise as a test: every shell
// command of the tutorial (testdata/tutorial/tutorial.md, a copy of
// shared/tutorial.md) runs word for word against a real `pkid server -dev`,
// with pkid's client in place of `vault`, and prints what a reader of the
// tutorial expects. Only what cannot exist on a test machine is rewritten:
// the server address, two file paths of the author's machine, and the
// placeholder serial numbers (see tutorialState.rewrite).

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"github.com/pkid-dev/pkid/internal/tutorialsh"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"
)

// tutorialAddr is the server address the tutorial's curl uses.
const tutorialAddr = "https://vault.example.com:8200"

// tutorialState carries what earlier steps made to later ones.
type tutorialState struct {
	dir    string
	addr   string
	token  string
	api    *vault.Client
	shell  *shellEnv
	root   *x509.Certificate
	int1   *x509.Certificate
	int2   *x509.Certificate
	int2ID string
	k8sCA  string // the Kubernetes CA certificate given to auth/kubernetes/config

	issuedSerial string // pki_int/issue/web-servers: the one the tutorial revokes
	signedSerial string // pki_int/sign/web-servers: the one it reads
	hvacSerial   string // issued and revoked the way hvac does it

	secrets map[string]string // what the run printed that no log may hold → its kind
}

// tutorialStep is what one command of the tutorial must do. command is the
// start of the command's text, so that the steps stay aligned with the
// tutorial; check gets the command's result after every stage was
// required to exit 0.
type tutorialStep struct {
	name    string
	command string
	check   func(t *testing.T, st *tutorialState, r *cmdResult)
	then    func(t *testing.T, st *tutorialState) // checks beyond the tutorial, run after the step
}

func TestTutorialEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("generates three RSA-4096 keys")
	}
	cmds := loadTutorial(t)
	steps := tutorialSteps()
	if len(cmds) != len(steps) {
		t.Fatalf("the tutorial has %d commands, the test knows %d:\n%s", len(cmds), len(steps), commandList(cmds))
	}

	// Registered first, so it runs after startPkid's cleanup has waited for
	// the server: only then is its log safe to read.
	var p *proc
	t.Cleanup(func() {
		if t.Failed() && p != nil {
			t.Logf("server log:\n%s", p.stderr)
		}
	})
	p = startPkid(t, "server", "-dev", "-dev-listen-address", freeAddr(t), "-dev-root-token-id", "root", "-log-level", "debug")
	addr, token := p.banner(t)
	st := &tutorialState{dir: t.TempDir(), addr: addr, token: token, api: client(t, addr, token), shell: &shellEnv{addr: addr}}
	// As the banner says: export VAULT_ADDR and VAULT_TOKEN, then follow the
	// tutorial in a fresh folder.
	setClientEnv(t, addr, token)
	t.Chdir(st.dir)
	if err := os.MkdirAll(filepath.Join(st.dir, "log"), 0o755); err != nil {
		t.Fatal(err)
	}
	st.k8sCA = writeKubernetesCA(t, filepath.Join(st.dir, "k8s-ca.crt"))

	for i, cmd := range cmds {
		step := steps[i]
		if !strings.HasPrefix(cmd.Text, step.command) {
			t.Fatalf("command %d is %q; the test expects %q", i+1, cmd.Text, step.command)
		}
		ok := t.Run(fmt.Sprintf("%02d_%s", i+1, step.name), func(t *testing.T) {
			cmd := st.rewrite(cmd)
			t.Logf("$ %s", strings.Replace(cmd.Text, "vault ", "pkid ", 1))
			r := st.shell.runPipeline(t, cmd)
			for _, s := range r.stages {
				st.noteSecrets(s.stdout)
			}
			defer func() {
				if t.Failed() {
					for _, s := range r.stages {
						t.Logf("%s exit %d\nstdout:\n%s\nstderr:\n%s", s.name, s.code, s.stdout, s.stderr)
					}
				}
			}()
			for _, s := range r.stages {
				if s.code != 0 {
					t.Fatalf("%s exited %d", s.name, s.code)
				}
			}
			if step.check != nil {
				step.check(t, st, r)
			}
			if step.then != nil {
				step.then(t, st)
			}
		})
		if !ok {
			t.Fatalf("stopping at command %d: the rest of the tutorial depends on it", i+1)
		}
	}
	t.Run("after_rotation", func(t *testing.T) { checkAfterRotation(t, st) })
	t.Run("policies_enforced", func(t *testing.T) { checkTutorialPolicies(t, st) })
	t.Run("secret_traffic", func(t *testing.T) { secretTraffic(t, st) })
	p.stop(t)
	t.Run("secrets_not_logged", func(t *testing.T) { checkSecretsNotLogged(t, st, p.stderr.String()) })
}

// loadTutorial parses the tutorial and, where the shared original is next
// to the repository (as on developer machines and in CI), requires the copy
// to be current: a changed tutorial needs its steps here updated.
func loadTutorial(t *testing.T) []tutorialsh.Command {
	t.Helper()
	md, err := os.ReadFile(filepath.Join("testdata", "tutorial", "tutorial.md"))
	if err != nil {
		t.Fatal(err)
	}
	if shared, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "tutorial.md")); err == nil && !bytes.Equal(shared, md) {
		t.Fatalf("shared/tutorial.md changed: copy it to cmd/pkid/testdata/tutorial/tutorial.md and update tutorialSteps")
	}
	cmds, err := tutorialsh.Parse(string(md))
	if err != nil {
		t.Fatalf("parsing the tutorial: %v", err)
	}
	return cmds
}

func commandList(cmds []tutorialsh.Command) string {
	var b strings.Builder
	for i, c := range cmds {
		fmt.Fprintf(&b, "%2d  %s\n", i+1, c.Text)
	}
	return b.String()
}

// setClientEnv gives the client the reader's environment and nothing of
// the machine's.
func setClientEnv(t *testing.T, addr, token string) {
	t.Setenv("VAULT_ADDR", addr)
	t.Setenv("VAULT_TOKEN", token)
	t.Setenv("HOME", t.TempDir())
	for _, k := range []string{"VAULT_FORMAT", "VAULT_NAMESPACE", "VAULT_CACERT", "VAULT_CAPATH",
		"VAULT_SKIP_VERIFY", "VAULT_CLIENT_TIMEOUT", "VAULT_MAX_RETRIES", "VAULT_CLIENT_CERT", "VAULT_CLIENT_KEY"} {
		t.Setenv(k, "")
	}
}

// rewrite makes the only changes to the tutorial's words: what exists on
// the author's machine and not on a test machine.
func (st *tutorialState) rewrite(cmd tutorialsh.Command) tutorialsh.Command {
	repl := strings.NewReplacer(
		"/var/run/secrets/kubernetes.io/serviceaccount/ca.crt", filepath.Join(st.dir, "k8s-ca.crt"),
		"/var/log/vault/audit.log", filepath.Join(st.dir, "log", "audit.log"),
		// The tutorial revokes an example serial: revoke the one issued above.
		"39:dd:2e:90:b7:23:1f:8d:d3:7d:31:c5:1b:da:84:d0:5b:65:31:58", st.issuedSerial,
		"<serial_number>", st.signedSerial,
	)
	out := cmd
	out.Text = repl.Replace(cmd.Text)
	out.Stages = make([][]string, len(cmd.Stages))
	for i, words := range cmd.Stages {
		for _, w := range words {
			out.Stages[i] = append(out.Stages[i], repl.Replace(w))
		}
	}
	return out
}

// writeKubernetesCA makes the file the tutorial reads from a pod's service
// account folder: a self-signed CA certificate, as a cluster's is.
func writeKubernetesCA(t *testing.T, path string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kubernetes"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	text := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return text
}

func tutorialSteps() []tutorialStep {
	return []tutorialStep{
		{name: "enable_root_mount", command: "vault secrets enable -path=pki_root pki",
			check: wantStdout("Success! Enabled the pki secrets engine at: pki_root/\n")},
		{name: "tune_root_mount", command: "vault secrets tune -max-lease-ttl=87600h pki_root",
			check: wantStdout("Success! Tuned the secrets engine at: pki_root/\n")},
		{name: "generate_root", command: "vault write pki_root/root/generate/internal", check: checkRoot},
		{name: "save_root_cert", command: "vault read -field=certificate pki_root/cert/ca", check: checkRootFile},
		{name: "root_urls", command: "vault write pki_root/config/urls", check: checkURLs("pki_root")},
		{name: "enable_int_mount", command: "vault secrets enable -path=pki_int pki",
			check: wantStdout("Success! Enabled the pki secrets engine at: pki_int/\n")},
		{name: "tune_int_mount", command: "vault secrets tune -max-lease-ttl=26280h pki_int",
			check: wantStdout("Success! Tuned the secrets engine at: pki_int/\n")},
		{name: "intermediate_csr", command: "vault write -format=json pki_int/intermediate/generate/internal",
			check: checkCSR("intermediate.csr", "My Organization Intermediate CA")},
		{name: "sign_intermediate", command: "vault write -format=json pki_root/root/sign-intermediate csr=@intermediate.csr",
			check: checkSignedIntermediate("intermediate.crt", "My Organization Intermediate CA", false)},
		{name: "set_signed", command: "vault write pki_int/intermediate/set-signed certificate=@intermediate.crt",
			check: checkSetSigned(2)},
		{name: "int_urls", command: "vault write pki_int/config/urls", check: checkURLs("pki_int")},
		{name: "role_web_servers", command: "vault write pki_int/roles/web-servers", check: wantRows(map[string]string{
			"allowed_domains": "[example.com]", "allow_subdomains": "true", "allow_bare_domains": "true",
			"max_ttl": "720h", "ttl": "24h", "key_type": "rsa", "key_bits": "2048",
			"key_usage": "[DigitalSignature KeyEncipherment]", "ext_key_usage": "[ServerAuth]",
		})},
		{name: "role_internal_services", command: "vault write pki_int/roles/internal-services", check: wantRows(map[string]string{
			"allowed_domains": "[internal.example.com svc.cluster.local]", "allow_subdomains": "true",
			"max_ttl": "168h", "ttl": "1h", "key_type": "ec", "key_bits": "256",
			"key_usage": "[DigitalSignature]", "ext_key_usage": "[ServerAuth ClientAuth]",
		})},
		{name: "role_client_auth", command: "vault write pki_int/roles/client-auth", check: wantRows(map[string]string{
			"allowed_domains": "[users.example.com]", "max_ttl": "720h", "ttl": "8h", "key_type": "ec",
			"ext_key_usage": "[ClientAuth]", "organization": "[My Organization]", "no_store": "true",
		})},
		{name: "issue", command: "vault write pki_int/issue/web-servers", check: checkIssue},
		{name: "openssl_genrsa", command: "openssl genrsa -out server.key 2048", check: wantFile("server.key", "PRIVATE KEY")},
		{name: "openssl_req", command: "openssl req -new -key server.key", check: wantFile("server.csr", "CERTIFICATE REQUEST")},
		{name: "sign_csr", command: "vault write pki_int/sign/web-servers csr=@server.csr", check: checkSign,
			then: hvacExample},
		{name: "enable_kubernetes_auth", command: "vault auth enable kubernetes",
			check: wantStdout("Success! Enabled kubernetes auth method at: kubernetes/\n")},
		{name: "kubernetes_config", command: "vault write auth/kubernetes/config", check: checkKubernetesConfig},
		{name: "cert_manager_policy", command: "vault policy write cert-manager-policy -",
			check: checkPolicy("cert-manager-policy", `path "pki_int/sign/internal-services"`)},
		{name: "kubernetes_role", command: "vault write auth/kubernetes/role/cert-manager", check: checkKubernetesRole},
		{name: "revoke", command: "vault write pki_int/revoke serial_number=", check: checkRevoke},
		{name: "list_revoked", command: "vault list pki_int/certs/revoked", check: checkListRevoked},
		{name: "crl", command: "curl -s https://vault.example.com:8200/v1/pki_int/crl | openssl crl -inform DER -text", check: checkCRL},
		{name: "list_certs", command: "vault list pki_int/certs", check: checkListCerts},
		{name: "read_cert", command: "vault read pki_int/cert/<serial_number>", check: checkReadCert},
		{name: "tidy", command: "vault write pki_int/tidy", check: checkTidy},
		{name: "intermediate_v2_csr", command: "vault write -format=json pki_int/intermediate/generate/internal",
			check: checkCSR("intermediate_v2.csr", "My Organization Intermediate CA v2")},
		{name: "sign_intermediate_v2", command: "vault write -format=json pki_root/root/sign-intermediate csr=@intermediate_v2.csr",
			check: checkSignedIntermediate("intermediate_v2.crt", "My Organization Intermediate CA v2", true)},
		{name: "set_signed_v2", command: "vault write pki_int/intermediate/set-signed certificate=@intermediate_v2.crt",
			check: checkSetSigned(1)},
		{name: "default_issuer", command: `vault write pki_int/config/issuers default="intermediate-2027"`, check: checkDefaultIssuer},
		{name: "role_production_services", command: "vault write pki_int/roles/production-services", check: wantRows(map[string]string{
			"allowed_domains": "[prod.example.com]", "allow_subdomains": "true", "max_ttl": "4h", "ttl": "1h",
		})},
		{name: "role_payment_service", command: "vault write pki_int/roles/payment-service", check: wantRows(map[string]string{
			"allowed_domains": "[payments.prod.example.com]", "allow_subdomains": "false", "allow_bare_domains": "true",
			"allow_glob_domains": "false", "allow_any_name": "false", "enforce_hostnames": "true", "max_ttl": "1h",
		})},
		{name: "audit_file", command: "vault audit enable file file_path=", check: checkAudit},
		{name: "root_ca_policy", command: "vault policy write root-ca-policy -",
			check: checkPolicy("root-ca-policy", `path "pki_root/issue/*"`)},
	}
}

// --- what a reader sees -----------------------------------------------------

func wantStdout(want string) func(*testing.T, *tutorialState, *cmdResult) {
	return func(t *testing.T, _ *tutorialState, r *cmdResult) {
		t.Helper()
		if got := r.stdout(); got != want {
			t.Fatalf("stdout:\n%q\nwant:\n%q\nstderr:\n%s", got, want, r.stderr())
		}
	}
}

// tableRowStart is a key cell of vault's Key/Value table: the key padded to
// the value column, at least four spaces.
var tableRowStart = regexp.MustCompile(`^[a-z0-9_]+ {4,}$`)

// parseTable reads vault's Key/Value table back into a map; values that
// span lines (PEM blocks) are joined with newlines.
func parseTable(t *testing.T, out string) map[string]string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) < 3 || !regexp.MustCompile(`^Key +Value$`).MatchString(lines[0]) ||
		!regexp.MustCompile(`^--- +-----$`).MatchString(lines[1]) {
		t.Fatalf("not a Key/Value table:\n%s", out)
	}
	col := strings.Index(lines[0], "Value")
	if strings.Index(lines[1], "-----") != col {
		t.Fatalf("header and underline are not aligned:\n%s", out)
	}
	rows := map[string]string{}
	key := ""
	for _, line := range lines[2:] {
		if len(line) > col && tableRowStart.MatchString(line[:col]) {
			key = strings.TrimSpace(line[:col])
			rows[key] = line[col:]
			continue
		}
		if key == "" {
			t.Fatalf("table starts with a continuation line %q:\n%s", line, out)
		}
		rows[key] += "\n" + line
	}
	return rows
}

func wantRows(want map[string]string) func(*testing.T, *tutorialState, *cmdResult) {
	return func(t *testing.T, _ *tutorialState, r *cmdResult) {
		t.Helper()
		rows := parseTable(t, r.stdout())
		for k, v := range want {
			if rows[k] != v {
				t.Errorf("%s = %q, want %q", k, rows[k], v)
			}
		}
	}
}

func requireKeys(t *testing.T, rows map[string]string, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := rows[k]; !ok {
			t.Errorf("the table has no %s row; rows: %q", k, sortedKeys(rows))
		}
	}
}

// tableList reads a list cell: "[a b c]".
func tableList(cell string) []string {
	return strings.Fields(strings.TrimSuffix(strings.TrimPrefix(cell, "["), "]"))
}

func parseCerts(t *testing.T, text string) []*x509.Certificate {
	t.Helper()
	var certs []*x509.Certificate
	// A list cell is "[PEM PEM]": Go's %v of a list of strings.
	text = strings.TrimSuffix(strings.TrimPrefix(text, "["), "]")
	rest := []byte(strings.ReplaceAll(text, "----- -----", "-----\n-----"))
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			t.Fatalf("PEM block %q, want CERTIFICATE", block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatalf("certificate does not parse: %v", err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		t.Fatalf("no certificate in %q", text)
	}
	if strings.TrimSpace(string(rest)) != "" {
		t.Fatalf("data after the certificates: %q", rest)
	}
	return certs
}

func parseCert(t *testing.T, text string) *x509.Certificate {
	t.Helper()
	certs := parseCerts(t, text)
	if len(certs) != 1 {
		t.Fatalf("%d certificates, want 1", len(certs))
	}
	return certs[0]
}

// serialOf is how Vault names a certificate: colon-separated hex bytes.
func serialOf(c *x509.Certificate) string {
	b := c.SerialNumber.Bytes()
	parts := make([]string, len(b))
	for i := range b {
		parts[i] = hex.EncodeToString(b[i : i+1])
	}
	return strings.Join(parts, ":")
}

func verifyToRoot(t *testing.T, st *tutorialState, leaf *x509.Certificate, chain []*x509.Certificate) {
	t.Helper()
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(st.root)
	for _, c := range chain {
		inter.AddCert(c)
	}
	opts := x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	if _, err := leaf.Verify(opts); err != nil {
		t.Fatalf("%s does not verify to the root: %v", leaf.Subject, err)
	}
}

func within(t *testing.T, what string, got, want, slack time.Duration) {
	t.Helper()
	if got < want-slack || got > want+slack {
		t.Errorf("%s = %v, want %v (±%v)", what, got, want, slack)
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func wantFile(name, pemType string) func(*testing.T, *tutorialState, *cmdResult) {
	return func(t *testing.T, _ *tutorialState, _ *cmdResult) {
		t.Helper()
		block, _ := pem.Decode([]byte(readFile(t, name)))
		if block == nil || !strings.HasSuffix(block.Type, pemType) {
			t.Fatalf("%s holds no %s PEM block", name, pemType)
		}
	}
}

// --- the steps ----------------------------------------------------------------

func checkRoot(t *testing.T, st *tutorialState, r *cmdResult) {
	rows := parseTable(t, r.stdout())
	requireKeys(t, rows, "certificate", "expiration", "issuer_id", "issuer_name", "issuing_ca", "key_id", "key_name", "serial_number")
	root := parseCert(t, rows["certificate"])
	if root.Subject.CommonName != "My Organization Root CA" || !root.IsCA || root.CheckSignatureFrom(root) != nil {
		t.Fatalf("not a self-signed CA for the tutorial: %s CA=%v", root.Subject, root.IsCA)
	}
	if k, ok := root.PublicKey.(*rsa.PublicKey); !ok || k.N.BitLen() != 4096 {
		t.Errorf("root key is %T, want RSA 4096", root.PublicKey)
	}
	within(t, "root validity", root.NotAfter.Sub(root.NotBefore), 87600*time.Hour, time.Minute)
	if rows["issuer_name"] != "root-2024" || rows["serial_number"] != serialOf(root) ||
		rows["expiration"] != fmt.Sprint(root.NotAfter.Unix()) || rows["issuing_ca"] != rows["certificate"] {
		t.Errorf("rows do not describe the certificate: %q", rows)
	}
	// Vault warns, on stderr, that no AIA URLs are configured yet.
	if !strings.Contains(r.stderr(), "WARNING! The following warnings were returned from Vault:") {
		t.Errorf("no AIA warning on stderr: %q", r.stderr())
	}
	st.root = root
}

func checkRootFile(t *testing.T, st *tutorialState, r *cmdResult) {
	if r.stderr() != "" {
		t.Errorf("stderr: %q", r.stderr())
	}
	text := readFile(t, "root_ca.crt")
	// Not a terminal: the file holds the value exactly, as with vault.
	if !strings.HasPrefix(text, "-----BEGIN CERTIFICATE-----\n") || !strings.HasSuffix(text, "-----END CERTIFICATE-----") {
		t.Fatalf("root_ca.crt is not exactly one PEM certificate: %q", text)
	}
	if c := parseCert(t, text); !c.Equal(st.root) {
		t.Fatalf("root_ca.crt is %s, not the root just generated", c.Subject)
	}
}

func checkURLs(mount string) func(*testing.T, *tutorialState, *cmdResult) {
	base := tutorialAddr + "/v1/" + mount
	return wantRows(map[string]string{
		"issuing_certificates":    "[" + base + "/ca]",
		"crl_distribution_points": "[" + base + "/crl]",
		"ocsp_servers":            "[]",
		"enable_templating":       "false",
	})
}

// jsonEnvelope reads `vault write -format=json` output as jq would.
func jsonEnvelope(t *testing.T, out string) map[string]any {
	t.Helper()
	var env map[string]any
	if err := json.Unmarshal([]byte(out), &env); err != nil {
		t.Fatalf("-format=json output is not JSON: %v\n%s", err, out)
	}
	data, ok := env["data"].(map[string]any)
	if !ok {
		t.Fatalf("no data object: %s", out)
	}
	return data
}

func checkCSR(file, cn string) func(*testing.T, *tutorialState, *cmdResult) {
	return func(t *testing.T, _ *tutorialState, r *cmdResult) {
		data := jsonEnvelope(t, r.stages[0].stdout)
		if _, ok := data["key_id"].(string); !ok {
			t.Errorf("no key_id: %v", data)
		}
		text := readFile(t, file)
		if text != data["csr"].(string)+"\n" {
			t.Fatalf("%s is not jq -r's output of .data.csr", file)
		}
		block, _ := pem.Decode([]byte(text))
		if block == nil || block.Type != "CERTIFICATE REQUEST" {
			t.Fatalf("%s is not a PEM CSR: %q", file, text)
		}
		csr, err := x509.ParseCertificateRequest(block.Bytes)
		if err != nil || csr.CheckSignature() != nil {
			t.Fatalf("CSR: %v", err)
		}
		if k, ok := csr.PublicKey.(*rsa.PublicKey); !ok || k.N.BitLen() != 4096 || csr.Subject.CommonName != cn {
			t.Fatalf("CSR for %s with a %T key, want %q, RSA 4096", csr.Subject, csr.PublicKey, cn)
		}
	}
}

func checkSignedIntermediate(file, cn string, second bool) func(*testing.T, *tutorialState, *cmdResult) {
	return func(t *testing.T, st *tutorialState, r *cmdResult) {
		data := jsonEnvelope(t, r.stages[0].stdout)
		for _, k := range []string{"certificate", "issuing_ca", "ca_chain", "serial_number", "expiration"} {
			if _, ok := data[k]; !ok {
				t.Errorf("no %s in the answer", k)
			}
		}
		// format=pem_bundle: the new certificate, then the root.
		certs := parseCerts(t, readFile(t, file))
		if len(certs) != 2 || !certs[1].Equal(st.root) {
			t.Fatalf("%s holds %d certificates, want the intermediate and the root", file, len(certs))
		}
		c := certs[0]
		if c.Subject.CommonName != cn || !c.IsCA || c.CheckSignatureFrom(st.root) != nil {
			t.Fatalf("%s: %s CA=%v, not a CA signed by the root", file, c.Subject, c.IsCA)
		}
		within(t, "intermediate validity", c.NotAfter.Sub(c.NotBefore), 26280*time.Hour, time.Minute)
		if second {
			st.int2 = c
		} else {
			st.int1 = c
		}
	}
}

func checkSetSigned(imported int) func(*testing.T, *tutorialState, *cmdResult) {
	return func(t *testing.T, _ *tutorialState, r *cmdResult) {
		rows := parseTable(t, r.stdout())
		requireKeys(t, rows, "imported_issuers", "imported_keys", "mapping", "existing_issuers", "existing_keys")
		if got := tableList(rows["imported_issuers"]); len(got) != imported {
			t.Errorf("imported_issuers = %q, want %d issuers", got, imported)
		}
		if !strings.HasPrefix(rows["mapping"], "map[") {
			t.Errorf("mapping = %q", rows["mapping"])
		}
	}
}

func checkIssue(t *testing.T, st *tutorialState, r *cmdResult) {
	rows := parseTable(t, r.stdout())
	requireKeys(t, rows, "ca_chain", "certificate", "expiration", "issuing_ca", "private_key", "private_key_type", "serial_number")
	leaf := parseCert(t, rows["certificate"])
	if leaf.Subject.CommonName != "api.example.com" ||
		!slices.Equal(sortedCopy(leaf.DNSNames), []string{"api-internal.example.com", "api.example.com"}) {
		t.Errorf("certificate for %s %q", leaf.Subject, leaf.DNSNames)
	}
	within(t, "time left", time.Until(leaf.NotAfter), 24*time.Hour, time.Minute)
	chain := parseCerts(t, rows["ca_chain"])
	if len(chain) != 2 || !chain[0].Equal(st.int1) || !chain[1].Equal(st.root) {
		t.Errorf("ca_chain has %d certificates, want the intermediate and the root", len(chain))
	}
	verifyToRoot(t, st, leaf, chain)
	if rows["private_key_type"] != "rsa" || rows["serial_number"] != serialOf(leaf) {
		t.Errorf("private_key_type %q, serial_number %q (certificate %s)", rows["private_key_type"], rows["serial_number"], serialOf(leaf))
	}
	if err := tlsPair(rows["certificate"], rows["private_key"]); err != nil {
		t.Errorf("certificate and private_key do not make a key pair: %v", err)
	}
	st.issuedSerial = rows["serial_number"]
}

func checkSign(t *testing.T, st *tutorialState, r *cmdResult) {
	rows := parseTable(t, r.stdout())
	requireKeys(t, rows, "ca_chain", "certificate", "expiration", "issuing_ca", "serial_number")
	if _, ok := rows["private_key"]; ok {
		t.Errorf("sign answered with a private key")
	}
	leaf := parseCert(t, rows["certificate"])
	verifyToRoot(t, st, leaf, parseCerts(t, rows["ca_chain"]))
	if leaf.Subject.CommonName != "api.example.com" {
		t.Errorf("certificate for %s", leaf.Subject)
	}
	if err := tlsPair(rows["certificate"], readFile(t, "server.key")); err != nil {
		t.Errorf("the certificate is not for server.key: %v", err)
	}
	st.signedSerial = rows["serial_number"]
}

func checkKubernetesConfig(t *testing.T, st *tutorialState, r *cmdResult) {
	wantStdout("Success! Data written to: auth/kubernetes/config\n")(t, st, r)
	sec, err := st.api.Logical().Read("auth/kubernetes/config")
	if err != nil || sec == nil {
		t.Fatalf("reading it back: %v", err)
	}
	if sec.Data["kubernetes_host"] != "https://kubernetes.default.svc:443" || sec.Data["kubernetes_ca_cert"] != st.k8sCA {
		t.Errorf("stored config: %v", sec.Data)
	}
}

func checkPolicy(name, snippet string) func(*testing.T, *tutorialState, *cmdResult) {
	return func(t *testing.T, st *tutorialState, r *cmdResult) {
		wantStdout("Success! Uploaded policy: "+name+"\n")(t, st, r)
		got, err := st.api.Sys().GetPolicy(name)
		if err != nil {
			t.Fatal(err)
		}
		if got != r.cmd.Heredoc || !strings.Contains(got, snippet) {
			t.Errorf("stored policy:\n%s\nwant the here-document:\n%s", got, r.cmd.Heredoc)
		}
	}
}

func checkKubernetesRole(t *testing.T, st *tutorialState, r *cmdResult) {
	// Vault answers with a warning about the audience (then there is no
	// "Success!" line) or with nothing.
	if out := r.stdout(); out != "" && out != "Success! Data written to: auth/kubernetes/role/cert-manager\n" {
		t.Errorf("stdout: %q", out)
	}
	sec, err := st.api.Logical().Read("auth/kubernetes/role/cert-manager")
	if err != nil || sec == nil {
		t.Fatalf("reading it back: %v", err)
	}
	for k, want := range map[string]string{
		"bound_service_account_names": "[cert-manager]", "bound_service_account_namespaces": "[cert-manager]",
		"token_policies": "[cert-manager-policy]", "token_ttl": "3600",
	} {
		if got := fmt.Sprint(sec.Data[k]); got != want {
			t.Errorf("%s = %s, want %s", k, got, want)
		}
	}
}

func checkRevoke(t *testing.T, _ *tutorialState, r *cmdResult) {
	rows := parseTable(t, r.stdout())
	if rows["state"] != "revoked" {
		t.Errorf("state = %q", rows["state"])
	}
	when, err := time.Parse(time.RFC3339Nano, rows["revocation_time_rfc3339"])
	if err != nil || fmt.Sprint(when.Unix()) != rows["revocation_time"] || time.Since(when) > time.Minute {
		t.Errorf("revocation_time %q, revocation_time_rfc3339 %q", rows["revocation_time"], rows["revocation_time_rfc3339"])
	}
}

// listed reads vault's list output: "Keys", dashes, one key a line, sorted.
func listed(t *testing.T, out string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) < 3 || lines[0] != "Keys" || lines[1] != "----" {
		t.Fatalf("not a list:\n%s", out)
	}
	if !slices.IsSorted(lines[2:]) {
		t.Errorf("keys are not sorted: %q", lines[2:])
	}
	return lines[2:]
}

func checkListRevoked(t *testing.T, st *tutorialState, r *cmdResult) {
	keys := listed(t, r.stdout())
	if !slices.Equal(keys, sortedCopy([]string{st.issuedSerial, st.hvacSerial})) {
		t.Errorf("revoked %q, want the tutorial's and hvac's certificates", keys)
	}
}

func checkCRL(t *testing.T, st *tutorialState, r *cmdResult) {
	crl, err := x509.ParseRevocationList([]byte(r.stages[0].stdout))
	if err != nil {
		t.Fatalf("/v1/pki_int/crl is not a DER CRL: %v", err)
	}
	if err := crl.CheckSignatureFrom(st.int1); err != nil {
		t.Errorf("CRL not signed by the intermediate: %v", err)
	}
	var serials []string
	for _, e := range crl.RevokedCertificateEntries {
		serials = append(serials, strings.ToUpper(strings.ReplaceAll(serialOf(&x509.Certificate{SerialNumber: e.SerialNumber}), ":", "")))
	}
	text := r.stdout()
	for _, s := range []string{st.issuedSerial, st.hvacSerial} {
		hexSerial := strings.ToUpper(strings.ReplaceAll(s, ":", ""))
		if !slices.Contains(serials, hexSerial) {
			t.Errorf("%s is not on the CRL %q", s, serials)
		}
		if !strings.Contains(text, "Serial Number: "+hexSerial) {
			t.Errorf("openssl's text does not show %s:\n%s", hexSerial, text)
		}
	}
	if !strings.Contains(text, "Certificate Revocation List (CRL):") {
		t.Errorf("openssl output:\n%s", text)
	}
}

func checkListCerts(t *testing.T, st *tutorialState, r *cmdResult) {
	keys := listed(t, r.stdout())
	for _, s := range []string{st.issuedSerial, st.signedSerial, st.hvacSerial} {
		if !slices.Contains(keys, s) {
			t.Errorf("%s is not listed: %q", s, keys)
		}
	}
}

func checkReadCert(t *testing.T, st *tutorialState, r *cmdResult) {
	rows := parseTable(t, r.stdout())
	requireKeys(t, rows, "certificate", "revocation_time")
	if c := parseCert(t, rows["certificate"]); serialOf(c) != st.signedSerial {
		t.Errorf("read %s, want %s", serialOf(c), st.signedSerial)
	}
	if rows["revocation_time"] != "0" {
		t.Errorf("revocation_time = %q for a certificate that is not revoked", rows["revocation_time"])
	}
}

func checkTidy(t *testing.T, _ *tutorialState, r *cmdResult) {
	// 202 with only a warning: vault prints the warning and no table.
	if r.stdout() != "" || !strings.Contains(r.stderr(), "* Tidy operation successfully started.") {
		t.Errorf("stdout %q, stderr %q", r.stdout(), r.stderr())
	}
}

func checkDefaultIssuer(t *testing.T, st *tutorialState, r *cmdResult) {
	rows := parseTable(t, r.stdout())
	if rows["default_follows_latest_issuer"] != "false" {
		t.Errorf("default_follows_latest_issuer = %q", rows["default_follows_latest_issuer"])
	}
	sec, err := st.api.Logical().Read("pki_int/issuer/intermediate-2027")
	if err != nil || sec == nil {
		t.Fatalf("issuer intermediate-2027: %v", err)
	}
	if sec.Data["issuer_id"] != rows["default"] {
		t.Errorf("default = %q, intermediate-2027 is %v", rows["default"], sec.Data["issuer_id"])
	}
	if c := parseCert(t, sec.Data["certificate"].(string)); !c.Equal(st.int2) {
		t.Errorf("intermediate-2027 is %s, not the v2 intermediate", c.Subject)
	}
	st.int2ID = rows["default"]
}

func checkAudit(t *testing.T, st *tutorialState, r *cmdResult) {
	wantStdout("Success! Enabled the file audit device at: file/\n")(t, st, r)
	if _, err := os.Stat(filepath.Join(st.dir, "log", "audit.log")); err != nil {
		t.Errorf("no audit log: %v", err)
	}
}

func tlsPair(certPEM, keyPEM string) error {
	_, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
	return err
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// pkidCmd runs one client command outside the tutorial's text.
func pkidCmd(t *testing.T, args ...string) stageResult {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(""), &out, &errOut)
	return stageResult{"pkid", code, out.String(), errOut.String()}
}

// --- the Python example, as hvac sends it -------------------------------------

// hvacExample makes the calls of the tutorial's Python example the way hvac
// puts them on the wire (spec Appendix D): POST with a JSON body and
// Content-Type application/json, the LIST verb for lists, X-Vault-Request
// on every request. (As written, the example passes ttl and alt_names to
// generate_certificate as keyword arguments, which hvac's signature does
// not take; hvac sends them in extra_params, merged into the body.)
func hvacExample(t *testing.T, st *tutorialState) {
	t.Run("hvac", func(t *testing.T) {
		// manager.issue_certificate(role="web-servers", common_name="api.example.com",
		//     alt_names="api-v2.example.com,api-internal.example.com", ttl="24h")
		hvacIssue(t, st, `{"ttl": "24h", "alt_names": "api-v2.example.com,api-internal.example.com", "common_name": "api.example.com"}`)
		// The renewal loop: start_auto_renewal(..., alt_names="api-v2.example.com", ttl="24h").
		serial := hvacIssue(t, st, `{"ttl": "24h", "alt_names": "api-v2.example.com", "common_name": "api.example.com"}`)

		// client.secrets.pki.list_certificates(mount_point="pki_int")
		keys, _ := hvacCall(t, st, "LIST", "pki_int/certs", "")["keys"].([]any)
		if !slices.Contains(keys, any(serial)) {
			t.Errorf("LIST pki_int/certs: %v lacks %s", keys, serial)
		}
		// client.secrets.pki.read_certificate(serial, mount_point="pki_int")
		cert := hvacCall(t, st, "GET", "pki_int/cert/"+serial, "")
		if c := parseCert(t, cert["certificate"].(string)); serialOf(c) != serial {
			t.Errorf("cert/%s is %s", serial, serialOf(c))
		}
		// manager.revoke_certificate()
		rev := hvacCall(t, st, "POST", "pki_int/revoke", `{"serial_number": "`+serial+`"}`)
		if rev["state"] != "revoked" {
			t.Errorf("revoke: %v", rev)
		}
		st.hvacSerial = serial
	})
}

// hvacIssue is generate_certificate followed by what the example does with
// the answer: datetime.fromtimestamp(data["expiration"]), save_to_files and
// create_ssl_context (the certificate, a newline and the chain, with the key).
func hvacIssue(t *testing.T, st *tutorialState, body string) string {
	t.Helper()
	data := hvacCall(t, st, "POST", "pki_int/issue/web-servers", body)
	certPEM, _ := data["certificate"].(string)
	keyPEM, _ := data["private_key"].(string)
	serial, _ := data["serial_number"].(string)
	rawChain, _ := data["ca_chain"].([]any)
	var chain []string
	for _, c := range rawChain {
		s, ok := c.(string)
		if !ok {
			t.Fatalf("ca_chain element %T, want a string", c)
		}
		chain = append(chain, s)
	}
	exp, ok := data["expiration"].(json.Number)
	if _, err := exp.Int64(); !ok || err != nil {
		t.Fatalf("expiration %v (%T) is not a Unix timestamp", data["expiration"], data["expiration"])
	}
	if err := tlsPair(certPEM+"\n"+strings.Join(chain, "\n"), keyPEM); err != nil {
		t.Fatalf("load_cert_chain would fail: %v", err)
	}
	leaf := parseCert(t, certPEM)
	verifyToRoot(t, st, leaf, parseCerts(t, strings.Join(chain, "\n")))
	if serialOf(leaf) != serial || exp.String() != fmt.Sprint(leaf.NotAfter.Unix()) {
		t.Errorf("serial_number %s, expiration %s for %s, %d", serial, exp, serialOf(leaf), leaf.NotAfter.Unix())
	}
	return serial
}

// hvacCall sends a request as hvac's JSONAdapter does and returns data; hvac
// raises on any status of 400 or more.
func hvacCall(t *testing.T, st *tutorialState, method, path, body string) map[string]any {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, st.addr+"/v1/"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Vault-Token", st.token)
	req.Header.Set("X-Vault-Request", "true")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	var env struct {
		Data map[string]any `json:"data"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&env); err != nil || env.Data == nil {
		t.Fatalf("%s %s: no data in %s (%v)", method, path, raw, err)
	}
	return env.Data
}

// --- beyond the tutorial's text: did it do what it says? ---------------------

// checkAfterRotation issues a certificate after the rotation: it must come
// from intermediate-2027 and verify to the root the reader saved.
func checkAfterRotation(t *testing.T, st *tutorialState) {
	res := pkidCmd(t, "write", "-format=json", "pki_int/issue/production-services", "common_name=api.prod.example.com")
	if res.code != 0 {
		t.Fatalf("issue after rotation: exit %d\n%s", res.code, res.stderr)
	}
	data := jsonEnvelope(t, res.stdout)
	leaf := parseCert(t, data["certificate"].(string))
	var chain []*x509.Certificate
	for _, c := range data["ca_chain"].([]any) {
		chain = append(chain, parseCert(t, c.(string)))
	}
	if err := leaf.CheckSignatureFrom(st.int2); err != nil || !bytes.Equal(leaf.AuthorityKeyId, st.int2.SubjectKeyId) {
		t.Fatalf("not issued by intermediate-2027 (%s): %v", leaf.Issuer, err)
	}
	if len(chain) != 2 || !chain[0].Equal(st.int2) || !chain[1].Equal(st.root) ||
		!parseCert(t, data["issuing_ca"].(string)).Equal(st.int2) {
		t.Errorf("issuing_ca / ca_chain are not intermediate-2027 and the root")
	}
	verifyToRoot(t, st, leaf, chain)
	within(t, "time left", time.Until(leaf.NotAfter), time.Hour, time.Minute)

	ca := pkidCmd(t, "read", "-field=certificate", "pki_int/cert/ca")
	if ca.code != 0 || !parseCert(t, ca.stdout).Equal(st.int2) {
		t.Errorf("pki_int/cert/ca is not intermediate-2027 (exit %d)", ca.code)
	}
	if log := readFile(t, filepath.Join(st.dir, "log", "audit.log")); !strings.Contains(log, `"path":"pki_int/issue/production-services"`) {
		t.Errorf("the audit log has no entry for the issue")
	}
}

// checkTutorialPolicies uses tokens with the tutorial's two policies: they
// must allow what the policies' comments promise and nothing else.
func checkTutorialPolicies(t *testing.T, st *tutorialState) {
	rootOnly := pkidCmd(t, "token", "create", "-policy=root-ca-policy", "-field=token")
	certManager := pkidCmd(t, "token", "create", "-policy=cert-manager-policy", "-field=token")
	if rootOnly.code != 0 || certManager.code != 0 {
		t.Fatalf("token create: %s%s", rootOnly.stderr, certManager.stderr)
	}
	writeECCSR(t, "cm.csr", "api.internal.example.com")
	tests := []struct {
		name   string
		token  string
		args   []string
		code   int
		stderr string
	}{
		{"root_policy_denies_issue", rootOnly.stdout, []string{"write", "pki_root/issue/any", "common_name=x.example.com"}, 2, "permission denied"},
		{"root_policy_denies_sign", rootOnly.stdout, []string{"write", "pki_root/sign/any", "csr=@cm.csr"}, 2, "permission denied"},
		{"root_policy_allows_sign_intermediate", rootOnly.stdout, []string{"write", "pki_root/root/sign-intermediate", "csr=@intermediate_v2.csr", "ttl=1h"}, 0, ""},
		{"cert_manager_signs", certManager.stdout, []string{"write", "pki_int/sign/internal-services", "csr=@cm.csr"}, 0, ""},
		{"cert_manager_no_other_role", certManager.stdout, []string{"write", "pki_int/issue/web-servers", "common_name=api.example.com"}, 2, "permission denied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("VAULT_TOKEN", tc.token)
			res := pkidCmd(t, tc.args...)
			if res.code != tc.code || !strings.Contains(res.stderr, tc.stderr) {
				t.Errorf("exit %d, want %d; stderr:\n%s", res.code, tc.code, res.stderr)
			}
		})
	}
}

func writeECCSR(t *testing.T, file, cn string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}}, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
}
