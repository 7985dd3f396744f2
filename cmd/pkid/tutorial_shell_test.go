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
	"io"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// shellCommand is one command of a bash block of the tutorial.
type shellCommand struct {
	text    string     // as written, continuation lines joined, comment removed
	stages  [][]string // the pipeline's commands, words unquoted
	heredoc string     // the here-document fed to the first command's stdin
	outFile string     // the target of "> file", if any
}

// tutorialCommands extracts every command of the ```bash blocks of md in
// order.
func tutorialCommands(md string) ([]shellCommand, error) {
	lines := strings.Split(md, "\n")
	var cmds []shellCommand
	inFence, isBash := false, false
	for i := 0; i < len(lines); i++ {
		trimmed := strings.TrimSpace(lines[i])
		if strings.HasPrefix(trimmed, "```") {
			inFence, isBash = !inFence, !inFence && trimmed == "```bash"
			continue
		}
		if !isBash || trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		logical := strings.TrimSpace(lines[i])
		for strings.HasSuffix(logical, `\`) && i+1 < len(lines) {
			i++
			logical = strings.TrimSuffix(logical, `\`) + " " + strings.TrimSpace(lines[i])
		}
		cmd, delim, err := parseShellLine(logical)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		if delim != "" {
			var body strings.Builder
			for i++; i < len(lines) && lines[i] != delim; i++ {
				body.WriteString(lines[i] + "\n")
			}
			if i == len(lines) {
				return nil, fmt.Errorf("here-document %q never ends", delim)
			}
			cmd.heredoc = body.String()
		}
		cmds = append(cmds, cmd)
	}
	return cmds, nil
}

// parseShellLine splits one logical line into a pipeline; it returns the
// here-document delimiter when the line has "<<WORD".
func parseShellLine(line string) (shellCommand, string, error) {
	toks, err := shellTokens(line)
	if err != nil {
		return shellCommand{}, "", err
	}
	cmd := shellCommand{stages: [][]string{nil}}
	var delim string
	var words []string
	for i := 0; i < len(toks); i++ {
		tok := toks[i]
		words = append(words, tok.raw)
		switch {
		case tok.op == "|":
			cmd.stages = append(cmd.stages, nil)
			continue
		case tok.op == ">" || tok.op == "<<":
			if i+1 >= len(toks) || toks[i+1].op != "" {
				return cmd, "", fmt.Errorf("%s without a word after it", tok.op)
			}
			i++
			if tok.op == ">" {
				words = append(words, toks[i].raw)
				cmd.outFile = toks[i].word
			} else {
				words[len(words)-1] += toks[i].raw
				delim = toks[i].word
			}
			continue
		}
		last := len(cmd.stages) - 1
		cmd.stages[last] = append(cmd.stages[last], tok.word)
	}
	cmd.text = strings.Join(words, " ")
	for _, st := range cmd.stages {
		if len(st) == 0 {
			return cmd, "", errors.New("empty command in pipeline")
		}
	}
	return cmd, delim, nil
}

type shellToken struct {
	word string // unquoted
	raw  string // as written
	op   string // "|", ">" or "<<" for an operator
}

// shellTokens splits a line into words and operators as bash does for the
// tutorial's lines. A "<name>" placeholder (cert/<serial_number>) is kept
// as part of its word: the reader is meant to replace it, not redirect.
func shellTokens(line string) ([]shellToken, error) {
	var toks []shellToken
	var word, raw strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			toks = append(toks, shellToken{word: word.String(), raw: raw.String()})
		}
		word.Reset()
		raw.Reset()
		inWord = false
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			flush()
		case c == '#' && !inWord:
			flush()
			return toks, nil
		case c == '|' || c == '>':
			flush()
			toks = append(toks, shellToken{op: string(c), raw: string(c)})
		case c == '<' && strings.HasPrefix(line[i:], "<<"):
			flush()
			toks = append(toks, shellToken{op: "<<", raw: "<<"})
			i++
		case c == '<':
			end := strings.IndexByte(line[i:], '>')
			if end < 0 {
				return nil, fmt.Errorf("input redirection is not supported: %q", line[i:])
			}
			word.WriteString(line[i : i+end+1])
			raw.WriteString(line[i : i+end+1])
			inWord = true
			i += end
		case c == '\'' || c == '"':
			end := strings.IndexByte(line[i+1:], c)
			if end < 0 {
				return nil, fmt.Errorf("unterminated %c quote", c)
			}
			word.WriteString(line[i+1 : i+1+end])
			raw.WriteString(line[i : i+end+2])
			inWord = true
			i += end + 1
		default:
			word.WriteByte(c)
			raw.WriteByte(c)
			inWord = true
		}
	}
	flush()
	return toks, nil
}

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
	cmd    shellCommand
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

func (e *shellEnv) runPipeline(t *testing.T, cmd shellCommand) *cmdResult {
	t.Helper()
	res := &cmdResult{cmd: cmd}
	stdin := cmd.heredoc
	for _, words := range cmd.stages {
		st := e.runStage(t, words, stdin)
		res.stages = append(res.stages, st)
		stdin = st.stdout
	}
	if cmd.outFile != "" {
		if err := os.WriteFile(cmd.outFile, []byte(res.stdout()), 0o644); err != nil {
			t.Fatalf("> %s: %v", cmd.outFile, err)
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

func TestTutorialShellParsing(t *testing.T) {
	t.Parallel()
	md := "intro\n```yaml\nkey: value\n```\n```bash\n" +
		"# a comment line\n" +
		"vault write pki/roles/x \\\n    allowed_domains=\"a.com,b.com\" \\\n    ttl=\"1h\"  # trailing comment\n" +
		"\n" +
		"vault write -format=json pki/issue/x \\\n    | jq -r '.data.csr' > out.csr\n" +
		"vault policy write p -<<EOF\n# kept: inside the here-document\npath \"a/*\" {\n}\nEOF\n" +
		"vault read pki/cert/<serial_number>\n" +
		"```\n```python\nprint(\"not shell\")\n```\n"
	cmds, err := tutorialCommands(md)
	if err != nil {
		t.Fatal(err)
	}
	want := []shellCommand{
		{text: `vault write pki/roles/x allowed_domains="a.com,b.com" ttl="1h"`,
			stages: [][]string{{"vault", "write", "pki/roles/x", "allowed_domains=a.com,b.com", "ttl=1h"}}},
		{text: `vault write -format=json pki/issue/x | jq -r '.data.csr' > out.csr`,
			stages:  [][]string{{"vault", "write", "-format=json", "pki/issue/x"}, {"jq", "-r", ".data.csr"}},
			outFile: "out.csr"},
		{text: `vault policy write p - <<EOF`, stages: [][]string{{"vault", "policy", "write", "p", "-"}},
			heredoc: "# kept: inside the here-document\npath \"a/*\" {\n}\n"},
		{text: `vault read pki/cert/<serial_number>`, stages: [][]string{{"vault", "read", "pki/cert/<serial_number>"}}},
	}
	if len(cmds) != len(want) {
		t.Fatalf("%d commands, want %d:\n%s", len(cmds), len(want), commandList(cmds))
	}
	for i := range want {
		got := cmds[i]
		if got.text != want[i].text || got.heredoc != want[i].heredoc || got.outFile != want[i].outFile ||
			fmt.Sprintf("%q", got.stages) != fmt.Sprintf("%q", want[i].stages) {
			t.Errorf("command %d:\n got %q %q heredoc %q > %q\nwant %q %q heredoc %q > %q", i+1,
				got.text, got.stages, got.heredoc, got.outFile, want[i].text, want[i].stages, want[i].heredoc, want[i].outFile)
		}
	}
}

func TestTutorialShellErrors(t *testing.T) {
	t.Parallel()
	for _, line := range []string{`vault write a="b`, `vault read x < file`, `vault read x |`, `vault read x >`} {
		if _, _, err := parseShellLine(line); err == nil {
			t.Errorf("%q parsed", line)
		}
	}
	if _, err := tutorialCommands("```bash\nvault policy write p -<<EOF\nno end\n```\n"); err == nil {
		t.Error("an unterminated here-document parsed")
	}
}

// TestTutorialHasEveryStep keeps the step table and the tutorial aligned in
// short mode too, where the end-to-end run is skipped.
func TestTutorialHasEveryStep(t *testing.T) {
	t.Parallel()
	md, err := os.ReadFile("testdata/tutorial/tutorial.md")
	if err != nil {
		t.Fatal(err)
	}
	cmds, err := tutorialCommands(string(md))
	if err != nil {
		t.Fatal(err)
	}
	steps := tutorialSteps()
	if len(cmds) != len(steps) {
		t.Fatalf("%d commands, %d steps:\n%s", len(cmds), len(steps), commandList(cmds))
	}
	for i, s := range steps {
		if !strings.HasPrefix(cmds[i].text, s.command) {
			t.Errorf("command %d is %q, step %q expects %q", i+1, cmds[i].text, s.name, s.command)
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
