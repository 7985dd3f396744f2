package main

import (
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// tokenRE finds the tokens a run printed.
var tokenRE = regexp.MustCompile(`hv[sbr]\.[A-Za-z0-9_-]{20,}`)

// noteSecrets records the secrets in a command's output: every token and
// private key (each key as a line of its base64 body, which any copy of the
// key in PEM, JSON-escaped or not, contains).
func (st *tutorialState) noteSecrets(output string) {
	if st.secrets == nil {
		st.secrets = map[string]string{}
	}
	for _, tok := range tokenRE.FindAllString(output, -1) {
		st.secrets[tok] = "token"
	}
	// PEM inside JSON strings, or after a table's key column.
	text := strings.NewReplacer(`\n`, "\n", `"`, "\n", "-----BEGIN", "\n-----BEGIN").Replace(output)
	for rest := []byte(text); ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if strings.Contains(b.Type, "PRIVATE KEY") {
			st.secrets[strings.Split(string(pem.EncodeToMemory(b)), "\n")[1]] = b.Type
		}
	}
}

// secretTraffic sends, with the audit device on, the requests that carry
// secrets the tutorial's own commands do not: an AppRole secret id and
// login, a child token looked up by value, and a certificate with its key.
func secretTraffic(t *testing.T, st *tutorialState) {
	run := func(args ...string) string {
		t.Helper()
		r := pkidCmd(t, args...)
		if r.code != 0 {
			t.Fatalf("pkid %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
		}
		st.noteSecrets(r.stdout)
		return strings.TrimSpace(r.stdout)
	}
	run("auth", "enable", "approle")
	run("write", "auth/approle/role/agent", "token_policies=cert-manager-policy")
	roleID := run("read", "-field=role_id", "auth/approle/role/agent/role-id")
	secretID := run("write", "-f", "-field=secret_id", "auth/approle/role/agent/secret-id")
	st.secrets[secretID] = "secret_id"
	login := run("write", "-field=token", "auth/approle/login", "role_id="+roleID, "secret_id="+secretID)
	st.secrets[login] = "token"
	child := run("token", "create", "-policy=cert-manager-policy", "-field=token")
	st.secrets[child] = "token"
	run("token", "lookup", child)
	run("write", "-format=json", "pki_int/issue/internal-services", "common_name=logs.internal.example.com")
}

// checkSecretsNotLogged fails for every secret the run printed that is in
// the server's debug log or in the tutorial's audit log.
func checkSecretsNotLogged(t *testing.T, st *tutorialState, serverLog string) {
	t.Helper()
	kinds := map[string]int{}
	for _, kind := range st.secrets {
		kinds[kind]++
	}
	if kinds["token"] < 2 || kinds["secret_id"] == 0 || kinds["EC PRIVATE KEY"] == 0 || kinds["RSA PRIVATE KEY"] == 0 {
		t.Fatalf("the run printed too few secrets to check (%v)", kinds)
	}
	audit, err := os.ReadFile(filepath.Join(st.dir, "log", "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(serverLog, "level=DEBUG msg=request") {
		t.Errorf("the server log has no debug request lines: was -log-level debug given?")
	}
	logs := map[string]string{"server log (debug)": serverLog, "audit log": string(audit)}
	for name, text := range logs {
		if len(text) == 0 {
			t.Errorf("%s is empty: nothing was checked", name)
		}
		for s, kind := range st.secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s holds a %s: %.24s...", name, kind, s)
			}
		}
	}
	t.Logf("checked %d secrets %v against %d bytes of server log and %d of audit log",
		len(st.secrets), kinds, len(serverLog), len(audit))
}
