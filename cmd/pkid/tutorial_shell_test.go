package main

// A small stand-in for bash, enough to run the shell blocks of
// testdata/tutorial/tutorial.md word for word: quoting, backslash
// continuations, comments, pipes, "> file" and here-documents. Each
// command of a pipeline is run by a Go function: `vault` by pkid's own
// client (run in main.go), `openssl` by the openssl binary when there is
// one, `curl` and `jq` by their few features the tutorial uses.

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"github.com/pkid-dev/pkid/internal/tutorialsh"
	"io"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// stageResult is what one command of a pipeline did.
type stageResult struct {
	name           string
	code           int
	stdout, stderr string
}

// cmdResult is what a pipeline did: the last command's stdout is what the
// reader sees (or what "> file" got), and bash's exit status is the last
// command's; every stage is kept so that a test can check them all.
type cmdResult struct {
	cmd    tutorialsh.Command
	stages []stageResult
}

func (r *cmdResult) last() stageResult { return r.stages[len(r.stages)-1] }

func (r *cmdResult) stdout() string { return r.last().stdout }

// stderr is every stage's stderr, as a terminal would show it.
func (r *cmdResult) stderr() string {
	var b strings.Builder
	for _, s := range r.stages {
		b.WriteString(s.stderr)
	}
	return b.String()
}

// shellEnv runs commands of a parsed pipeline.
type shellEnv struct {
	addr string // the server's address, in place of https://vault.example.com:8200
	// noOpenSSL makes openssl steps run in Go even where openssl exists.
	noOpenSSL bool
}

func (e *shellEnv) runPipeline(t *testing.T, cmd tutorialsh.Command) *cmdResult {
	t.Helper()
	res := &cmdResult{cmd: cmd}
	stdin := cmd.Heredoc
	for _, words := range cmd.Stages {
		st := e.runStage(t, words, stdin)
		res.stages = append(res.stages, st)
		stdin = st.stdout
	}
	if cmd.OutFile != "" {
		if err := os.WriteFile(cmd.OutFile, []byte(res.stdout()), 0o644); err != nil {
			t.Fatalf("> %s: %v", cmd.OutFile, err)
		}
	}
	return res
}

func (e *shellEnv) runStage(t *testing.T, words []string, stdin string) stageResult {
	t.Helper()
	switch words[0] {
	case "vault":
		var out, errOut bytes.Buffer
		code := run(words[1:], strings.NewReader(stdin), &out, &errOut)
		return stageResult{"pkid", code, out.String(), errOut.String()}
	case "openssl":
		return e.openssl(t, words[1:], stdin)
	case "curl":
		return e.curl(words[1:])
	case "jq":
		return jq(words[1:], stdin)
	}
	t.Fatalf("the tutorial runs %q, which this test does not know", words[0])
	return stageResult{}
}

func (e *shellEnv) openssl(t *testing.T, args []string, stdin string) stageResult {
	t.Helper()
	if path, err := exec.LookPath("openssl"); err == nil && !e.noOpenSSL {
		cmd := exec.Command(path, args...)
		cmd.Stdin = strings.NewReader(stdin)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		code := 0
		var exitErr *exec.ExitError
		switch {
		case errors.As(err, &exitErr):
			code = exitErr.ExitCode()
		case err != nil:
			t.Fatalf("openssl: %v", err)
		}
		return stageResult{"openssl", code, out.String(), errOut.String()}
	}
	why := "openssl is not installed"
	if e.noOpenSSL {
		why = "asked not to use openssl"
	}
	t.Logf("%s: doing `openssl %s` in Go", why, strings.Join(args, " "))
	out, err := opensslInGo(args, stdin)
	if err != nil {
		return stageResult{"openssl (Go)", 1, "", err.Error() + "\n"}
	}
	return stageResult{"openssl (Go)", 0, out, ""}
}

// opensslInGo does the three openssl commands of the tutorial: genrsa,
// req -new with -subj /CN=..., and crl -inform DER -text (a short text with
// the lines a reader looks for).
func opensslInGo(args []string, stdin string) (string, error) {
	flags := map[string]string{}
	for i := 1; i < len(args); i++ {
		if strings.HasPrefix(args[i], "-") && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			flags[args[i]] = args[i+1]
			i++
		}
	}
	switch args[0] {
	case "genrsa":
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return "", err
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return "", err
		}
		return "", os.WriteFile(flags["-out"], pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	case "req":
		return "", goCSR(flags["-key"], flags["-out"], strings.TrimPrefix(flags["-subj"], "/CN="))
	case "crl":
		crl, err := x509.ParseRevocationList([]byte(stdin))
		if err != nil {
			return "", fmt.Errorf("unable to load CRL: %w", err)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "Certificate Revocation List (CRL):\n        Issuer: %s\n", crl.Issuer)
		for _, e := range crl.RevokedCertificateEntries {
			fmt.Fprintf(&b, "    Serial Number: %X\n", e.SerialNumber.Bytes())
		}
		return b.String(), nil
	}
	return "", fmt.Errorf("openssl %s: not done in Go", args[0])
}

func goCSR(keyFile, outFile, cn string) error {
	raw, err := os.ReadFile(keyFile)
	if err != nil {
		return err
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		return fmt.Errorf("%s: no PEM", keyFile)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return err
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}}, key)
	if err != nil {
		return err
	}
	return os.WriteFile(outFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), 0o644)
}

// curl does `curl -s URL` against the test server in place of the
// tutorial's https://vault.example.com:8200.
func (e *shellEnv) curl(args []string) stageResult {
	var url string
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			url = strings.Replace(a, tutorialAddr, e.addr, 1)
		}
	}
	resp, err := http.Get(url)
	if err != nil {
		return stageResult{"curl", 7, "", err.Error() + "\n"}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return stageResult{"curl", 56, "", err.Error() + "\n"}
	}
	return stageResult{"curl", 0, string(body), ""}
}

// jq does `jq -r '.data.<field>'`: the raw string and a newline.
func jq(args []string, stdin string) stageResult {
	if len(args) != 2 || args[0] != "-r" || !strings.HasPrefix(args[1], ".") {
		return stageResult{"jq", 2, "", fmt.Sprintf("jq %q: not done in Go\n", args)}
	}
	var v any
	if err := json.Unmarshal([]byte(stdin), &v); err != nil {
		return stageResult{"jq", 5, "", fmt.Sprintf("jq: error (at <stdin>): %v\n", err)}
	}
	for _, key := range strings.Split(strings.TrimPrefix(args[1], "."), ".") {
		m, _ := v.(map[string]any)
		v = m[key]
	}
	switch v := v.(type) {
	case nil:
		return stageResult{"jq", 0, "null\n", ""}
	case string:
		return stageResult{"jq", 0, v + "\n", ""}
	}
	b, _ := json.Marshal(v)
	return stageResult{"jq", 0, string(b) + "\n", ""}
}

func TestTutorialHasEveryStep(t *testing.T) {
	t.Parallel()
	md, err := os.ReadFile("testdata/tutorial/tutorial.md")
	if err != nil {
		t.Fatal(err)
	}
	cmds, err := tutorialsh.Parse(string(md))
	if err != nil {
		t.Fatal(err)
	}
	steps := tutorialSteps()
	if len(cmds) != len(steps) {
		t.Fatalf("%d commands, %d steps:\n%s", len(cmds), len(steps), commandList(cmds))
	}
	for i, s := range steps {
		if !strings.HasPrefix(cmds[i].Text, s.command) {
			t.Errorf("command %d is %q, step %q expects %q", i+1, cmds[i].Text, s.name, s.command)
		}
	}
}

func TestJQ(t *testing.T) {
	t.Parallel()
	in := `{"data":{"csr":"-----BEGIN X-----\nA\n-----END X-----","n":3,"nil":null}}`
	tests := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"-r", ".data.csr"}, 0, "-----BEGIN X-----\nA\n-----END X-----\n"},
		{[]string{"-r", ".data.n"}, 0, "3\n"},
		{[]string{"-r", ".data.missing"}, 0, "null\n"},
		{[]string{".data"}, 2, ""},
	}
	for _, tc := range tests {
		if got := jq(tc.args, in); got.code != tc.code || got.stdout != tc.out {
			t.Errorf("jq %q = %d %q, want %d %q", tc.args, got.code, got.stdout, tc.code, tc.out)
		}
	}
	if got := jq([]string{"-r", ".data"}, "not json"); got.code == 0 {
		t.Error("jq accepted non-JSON")
	}
}

// TestOpenSSLInGo runs the tutorial's three openssl commands through the Go
// stand-in used where openssl is not installed.
func TestOpenSSLInGo(t *testing.T) {
	t.Chdir(t.TempDir())
	e := &shellEnv{noOpenSSL: true}
	for _, args := range [][]string{
		{"genrsa", "-out", "server.key", "2048"},
		{"req", "-new", "-key", "server.key", "-out", "server.csr", "-subj", "/CN=api.example.com"},
	} {
		if r := e.openssl(t, args, ""); r.code != 0 {
			t.Fatalf("openssl %q: %s", args, r.stderr)
		}
	}
	block, _ := pem.Decode([]byte(readFile(t, "server.csr")))
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil || csr.Subject.CommonName != "api.example.com" || csr.CheckSignature() != nil {
		t.Fatalf("CSR %v: %v", csr.Subject, err)
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "CA"}, SubjectKeyId: []byte{1},
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCRLSign, NotAfter: time.Now().Add(time.Hour)}
	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(1), NextUpdate: time.Now().Add(time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: big.NewInt(0x39dd2e), RevocationTime: time.Now()}},
	}, ca, key)
	if err != nil {
		t.Fatal(err)
	}
	r := e.openssl(t, []string{"crl", "-inform", "DER", "-text"}, string(crl))
	if r.code != 0 || !strings.Contains(r.stdout, "Serial Number: 39DD2E\n") {
		t.Fatalf("crl -text: %d %q %s", r.code, r.stdout, r.stderr)
	}
	if r := e.openssl(t, []string{"crl", "-inform", "DER", "-text"}, "junk"); r.code == 0 {
		t.Error("a junk CRL parsed")
	}
}
