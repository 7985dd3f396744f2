package vaultcli

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	kvbuilder "github.com/hashicorp/go-secure-stdlib/kv-builder"
	vault "github.com/hashicorp/vault/api"

	"github.com/pkid-dev/pkid/internal/tutorialsh"
	"github.com/pkid-dev/pkid/pkidtest"
)

const tutorialAddr = "https://vault.example.com:8200"

// replay is the state of one run through the tutorial.
type replay struct {
	t      *testing.T
	srv    *pkidtest.Server
	c      *vault.Client
	dir    string
	issued string // serial of the first certificate issued, which the revoke step revokes
	signed string // serial of the CSR signed, which "vault read pki_int/cert/<serial_number>" reads
	ran    map[string]int
}

func TestTutorialThroughKVBuilder(t *testing.T) {
	md, err := os.ReadFile(filepath.Join("..", "..", "cmd", "pkid", "testdata", "tutorial", "tutorial.md"))
	if err != nil {
		t.Fatal(err)
	}
	cmds, err := tutorialsh.Parse(string(md))
	if err != nil {
		t.Fatal(err)
	}
	srv := pkidtest.Start(t, pkidtest.Options{InMemory: true})
	r := &replay{t: t, srv: srv, c: srv.Client(t), dir: t.TempDir(), ran: map[string]int{}}
	t.Chdir(r.dir) // @file arguments are read from the working folder, as the CLI does
	os.MkdirAll(filepath.Join(r.dir, "log"), 0o700)
	writeKubernetesCA(t, filepath.Join(r.dir, "k8s-ca.crt"))
	for i, cmd := range cmds {
		cmd = r.rewrite(cmd)
		out, err := r.pipeline(cmd)
		if err != nil {
			t.Fatalf("command %d, %s: %v", i+1, cmd.Text, err)
		}
		if strings.Contains(cmd.Text, "openssl crl") && !strings.Contains(out, serialHex(r.issued)) {
			t.Errorf("command %d, %s: the CRL lacks %s:\n%s", i+1, cmd.Text, r.issued, out)
		}
		if cmd.OutFile != "" {
			if err := os.WriteFile(cmd.OutFile, []byte(out), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	r.checkOutcome()
	var kinds []string
	for k, n := range r.ran {
		kinds = append(kinds, fmt.Sprintf("%s×%d", k, n))
	}
	slices.Sort(kinds)
	t.Logf("replayed %d tutorial commands: %s", len(cmds), strings.Join(kinds, " "))
}

// rewrite changes only what exists on the author's machine and not here.
func (r *replay) rewrite(cmd tutorialsh.Command) tutorialsh.Command {
	repl := strings.NewReplacer(
		"/var/run/secrets/kubernetes.io/serviceaccount/ca.crt", filepath.Join(r.dir, "k8s-ca.crt"),
		"/var/log/vault/audit.log", filepath.Join(r.dir, "log", "audit.log"),
		"39:dd:2e:90:b7:23:1f:8d:d3:7d:31:c5:1b:da:84:d0:5b:65:31:58", r.issued,
		"<serial_number>", r.signed,
		tutorialAddr+"/v1/", r.srv.URL+"/v1/",
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

// pipeline runs each stage with the previous stage's output as its input.
func (r *replay) pipeline(cmd tutorialsh.Command) (string, error) {
	in := cmd.Heredoc
	for _, words := range cmd.Stages {
		var (
			out string
			err error
		)
		switch words[0] {
		case "vault":
			out, err = r.vault(words[1:], in)
		case "jq":
			out, err = jq(words[1:], in)
		case "openssl":
			out, err = openssl(words[1:], in)
		case "curl":
			out, err = r.curl(words[1:])
		default:
			err = fmt.Errorf("no stand-in for %q", words[0])
		}
		if err != nil {
			return "", err
		}
		in = out
	}
	return in, nil
}

// vault runs one vault CLI command: write, read and list by kv-builder
// and vault/api's Logical(), as the CLI does; the sys commands by the
// client's Sys() calls the CLI makes.
func (r *replay) vault(args []string, stdin string) (string, error) {
	if len(args) < 2 {
		return "", fmt.Errorf("vault %v: too few words", args)
	}
	sub := args[0]
	flags, rest := splitFlags(args[1:])
	if sub == "secrets" || sub == "auth" || sub == "policy" || sub == "audit" {
		sub += " " + args[1]
		flags, rest = splitFlags(args[2:])
	}
	r.ran[sub]++
	ctx := context.Background()
	switch sub {
	case "secrets enable":
		return "", r.c.Sys().MountWithContext(ctx, flags["path"], &vault.MountInput{Type: rest[0]})
	case "secrets tune":
		return "", r.c.Sys().TuneMountWithContext(ctx, rest[0], vault.MountConfigInput{MaxLeaseTTL: flags["max-lease-ttl"]})
	case "auth enable":
		return "", r.c.Sys().EnableAuthWithOptionsWithContext(ctx, rest[0], &vault.EnableAuthOptions{Type: rest[0]})
	case "policy write":
		body := rest[1]
		if body == "-" {
			body = stdin
		}
		return "", r.c.Sys().PutPolicyWithContext(ctx, rest[0], body)
	case "audit enable":
		opts, err := kv(rest[1:], stdin)
		if err != nil {
			return "", err
		}
		strOpts := map[string]string{}
		for k, v := range opts {
			strOpts[k] = fmt.Sprint(v)
		}
		return "", r.c.Sys().EnableAuditWithOptionsWithContext(ctx, rest[0], &vault.EnableAuditOptions{Type: rest[0], Options: strOpts})
	case "write":
		data, err := kv(rest[1:], stdin)
		if err != nil {
			return "", err
		}
		sec, err := r.c.Logical().WriteWithContext(ctx, rest[0], data)
		if err != nil {
			return "", err
		}
		r.remember(rest[0], sec)
		return render(sec, flags)
	case "read":
		sec, err := r.c.Logical().ReadWithContext(ctx, rest[0])
		if err != nil {
			return "", err
		}
		if sec == nil {
			return "", fmt.Errorf("no value found at %s", rest[0])
		}
		return render(sec, flags)
	case "list":
		sec, err := r.c.Logical().ListWithContext(ctx, rest[0])
		if err != nil {
			return "", err
		}
		if sec == nil {
			return "", fmt.Errorf("no value found at %s", rest[0])
		}
		return render(sec, flags)
	}
	return "", fmt.Errorf("vault %s: not a tutorial command", sub)
}

// kv parses key=value words exactly as the vault CLI does.
func kv(words []string, stdin string) (map[string]any, error) {
	b := &kvbuilder.Builder{Stdin: strings.NewReader(stdin)}
	if err := b.Add(words...); err != nil {
		return nil, fmt.Errorf("kv-builder: %w", err)
	}
	return b.Map(), nil
}

// splitFlags takes the leading -name=value words.
func splitFlags(args []string) (map[string]string, []string) {
	flags := map[string]string{}
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && args[0] != "-" {
		k, v, _ := strings.Cut(strings.TrimLeft(args[0], "-"), "=")
		flags[k] = v
		args = args[1:]
	}
	return flags, args
}

// render is the CLI's output for -field and -format=json; the default
// table is not needed by any later step, so it is JSON too.
func render(sec *vault.Secret, flags map[string]string) (string, error) {
	if f, ok := flags["field"]; ok {
		v, ok := sec.Data[f]
		if !ok {
			return "", fmt.Errorf("field %q not present in secret", f)
		}
		return fmt.Sprint(v) + "\n", nil
	}
	b, err := json.MarshalIndent(sec, "", "  ")
	return string(b) + "\n", err
}

// remember keeps the serials later steps refer to.
func (r *replay) remember(path string, sec *vault.Secret) {
	if sec == nil {
		return
	}
	serial, _ := sec.Data["serial_number"].(string)
	switch {
	case strings.HasPrefix(path, "pki_int/issue/") && r.issued == "":
		r.issued = serial
	case strings.HasPrefix(path, "pki_int/sign/") && r.signed == "":
		r.signed = serial
	}
}

// jq supports the one filter form the tutorial uses: -r '.a.b'.
func jq(args []string, in string) (string, error) {
	if len(args) != 2 || args[0] != "-r" {
		return "", fmt.Errorf("jq %v: only -r '.path' is supported", args)
	}
	var v any
	if err := json.Unmarshal([]byte(in), &v); err != nil {
		return "", fmt.Errorf("jq: %w", err)
	}
	for _, k := range strings.Split(strings.TrimPrefix(args[1], "."), ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return "", fmt.Errorf("jq: %s: not an object at %q", args[1], k)
		}
		v = m[k]
	}
	return fmt.Sprint(v) + "\n", nil
}

// openssl stands in for the three openssl commands of the tutorial.
func openssl(args []string, in string) (string, error) {
	opt := func(name string) string {
		if i := slices.Index(args, name); i >= 0 && i+1 < len(args) {
			return args[i+1]
		}
		return ""
	}
	switch args[0] {
	case "genrsa":
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return "", err
		}
		der, _ := x509.MarshalPKCS8PrivateKey(key)
		return "", os.WriteFile(opt("-out"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	case "req":
		keyPEM, err := os.ReadFile(opt("-key"))
		if err != nil {
			return "", err
		}
		block, _ := pem.Decode(keyPEM)
		key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return "", err
		}
		cn := strings.TrimPrefix(opt("-subj"), "/CN=")
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}}, key)
		if err != nil {
			return "", err
		}
		return "", os.WriteFile(opt("-out"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), 0o644)
	case "crl":
		crl, err := x509.ParseRevocationList([]byte(in))
		if err != nil {
			return "", fmt.Errorf("openssl crl: %w", err)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "Issuer: %s\n", crl.Issuer)
		for _, e := range crl.RevokedCertificateEntries {
			fmt.Fprintf(&b, "Serial Number: %X\n", e.SerialNumber)
		}
		return b.String(), nil
	}
	return "", fmt.Errorf("openssl %s: no stand-in", args[0])
}

// curl fetches an unauthenticated path, as curl -s does.
func (r *replay) curl(args []string) (string, error) {
	url := args[len(args)-1]
	resp, err := r.srv.HTTP.Client().Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("curl %s: %d %s", url, resp.StatusCode, b)
	}
	return string(b), err
}
