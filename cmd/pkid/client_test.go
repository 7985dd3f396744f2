package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fakeVault records every request and answers from a table keyed by
// "METHOD /path"; anything not in the table gets 204, as most Vault writes do.
type fakeVault struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	reqs    []recordedRequest
	answers map[string]fakeAnswer
}

type recordedRequest struct {
	Method, Path, Query string
	Header              http.Header
	Body                string
}

type fakeAnswer struct {
	status int
	body   string
	ctype  string // default application/json
}

func newFakeVault(t *testing.T, answers map[string]fakeAnswer) *fakeVault {
	t.Helper()
	fv := &fakeVault{t: t, answers: answers}
	fv.srv = httptest.NewServer(http.HandlerFunc(fv.serve))
	t.Cleanup(fv.srv.Close)
	return fv
}

func (fv *fakeVault) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	fv.mu.Lock()
	fv.reqs = append(fv.reqs, recordedRequest{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), string(body)})
	fv.mu.Unlock()
	a, ok := fv.answers[r.Method+" "+r.URL.Path]
	if !ok {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	ctype := a.ctype
	if ctype == "" {
		ctype = "application/json"
	}
	w.Header().Set("Content-Type", ctype)
	w.WriteHeader(a.status)
	io.WriteString(w, a.body)
}

func (fv *fakeVault) requests() []recordedRequest {
	fv.mu.Lock()
	defer fv.mu.Unlock()
	return append([]recordedRequest(nil), fv.reqs...)
}

type cliResult struct {
	code           int
	stdout, stderr string
}

// runCLI runs one client command against fv with a controlled environment:
// VAULT_ADDR pointing at the fake, the given token, HOME in a temp folder.
func runCLI(t *testing.T, fv *fakeVault, env map[string]string, stdin string, args ...string) cliResult {
	t.Helper()
	full := map[string]string{"VAULT_ADDR": fv.srv.URL, "VAULT_TOKEN": "root-token", "HOME": t.TempDir(), "VAULT_MAX_RETRIES": "0"}
	for k, v := range env {
		full[k] = v
	}
	var out, errOut bytes.Buffer
	c := &cli{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut, getenv: func(k string) string { return full[k] }}
	code := c.run(args)
	return cliResult{code, out.String(), errOut.String()}
}

func envelope(data string, warnings ...string) string {
	w := "null"
	if len(warnings) > 0 {
		b, _ := json.Marshal(warnings)
		w = string(b)
	}
	return `{"request_id":"8d0c4c1e","lease_id":"","renewable":false,"lease_duration":0,"data":` + data +
		`,"wrap_info":null,"warnings":` + w + `,"auth":null,"mount_type":"pki"}`
}

const (
	testCert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
	testCSR  = "-----BEGIN CERTIFICATE REQUEST-----\nMIIC\n-----END CERTIFICATE REQUEST-----\n"
)

// tutorialFiles writes the files the tutorial's commands read with @file.
func tutorialFiles(t *testing.T) string {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"intermediate.csr": testCSR,
		"intermediate.crt": testCert + "\n",
		"server.csr":       testCSR,
		"ca.crt":           testCert + "\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// tutorialCase is one command of the tutorial with the request it must
// make and, where it matters, what it must print.
type tutorialCase struct {
	name   string
	args   []string
	stdin  string
	answer *fakeAnswer
	method string
	path   string
	query  string
	body   string // exact bytes
	stdout string // exact, when not empty
}

// tutorialCases lists every vault command of tutorial.md (with pkid's
// test answers), reading its @files from a fresh folder.
func tutorialCases(t *testing.T) []tutorialCase {
	dir := tutorialFiles(t)
	at := func(name string) string { return "@" + filepath.Join(dir, name) }
	const policy = `path "pki_int/sign/internal-services" {
  capabilities = ["create", "update"]
}
`
	return []tutorialCase{
		{
			name:   "enable root mount",
			args:   []string{"secrets", "enable", "-path=pki_root", "pki"},
			method: "POST", path: "/v1/sys/mounts/pki_root",
			body:   `{"type":"pki","description":"","config":{"options":null,"default_lease_ttl":"0s","max_lease_ttl":"0s","force_no_cache":false},"local":false,"seal_wrap":false,"external_entropy_access":false,"options":null}`,
			stdout: "Success! Enabled the pki secrets engine at: pki_root/\n",
		},
		{
			name:   "tune root mount",
			args:   []string{"secrets", "tune", "-max-lease-ttl=87600h", "pki_root"},
			method: "POST", path: "/v1/sys/mounts/pki_root/tune",
			body:   `{"options":null,"default_lease_ttl":"","max_lease_ttl":"87600h0m0s","force_no_cache":false}`,
			stdout: "Success! Tuned the secrets engine at: pki_root/\n",
		},
		{
			name: "generate root",
			args: []string{"write", "pki_root/root/generate/internal", "common_name=My Organization Root CA",
				"issuer_name=root-2024", "key_type=rsa", "key_bits=4096", "ttl=87600h"},
			answer: &fakeAnswer{status: 200, body: envelope(`{"certificate":"CERT","expiration":1700000000,"issuer_name":"root-2024","serial_number":"39:dd"}`)},
			method: "PUT", path: "/v1/pki_root/root/generate/internal",
			body: `{"common_name":"My Organization Root CA","issuer_name":"root-2024","key_bits":"4096","key_type":"rsa","ttl":"87600h"}`,
			stdout: "Key              Value\n" +
				"---              -----\n" +
				"certificate      CERT\n" +
				"expiration       1700000000\n" +
				"issuer_name      root-2024\n" +
				"serial_number    39:dd\n",
		},
		{
			name:   "save root certificate",
			args:   []string{"read", "-field=certificate", "pki_root/cert/ca"},
			answer: &fakeAnswer{status: 200, body: envelope(`{"certificate":"` + strings.ReplaceAll(testCert, "\n", `\n`) + `"}`)},
			method: "GET", path: "/v1/pki_root/cert/ca",
			stdout: testCert, // no newline: the file holds exactly the PEM
		},
		{
			name: "root urls",
			args: []string{"write", "pki_root/config/urls",
				"issuing_certificates=https://vault.example.com:8200/v1/pki_root/ca",
				"crl_distribution_points=https://vault.example.com:8200/v1/pki_root/crl"},
			method: "PUT", path: "/v1/pki_root/config/urls",
			body:   `{"crl_distribution_points":"https://vault.example.com:8200/v1/pki_root/crl","issuing_certificates":"https://vault.example.com:8200/v1/pki_root/ca"}`,
			stdout: "Success! Data written to: pki_root/config/urls\n",
		},
		{
			name:   "enable intermediate mount",
			args:   []string{"secrets", "enable", "-path=pki_int", "pki"},
			method: "POST", path: "/v1/sys/mounts/pki_int",
			body: `{"type":"pki","description":"","config":{"options":null,"default_lease_ttl":"0s","max_lease_ttl":"0s","force_no_cache":false},"local":false,"seal_wrap":false,"external_entropy_access":false,"options":null}`,
		},
		{
			name:   "tune intermediate mount",
			args:   []string{"secrets", "tune", "-max-lease-ttl=26280h", "pki_int"},
			method: "POST", path: "/v1/sys/mounts/pki_int/tune",
			body: `{"options":null,"default_lease_ttl":"","max_lease_ttl":"26280h0m0s","force_no_cache":false}`,
		},
		{
			name: "intermediate CSR as JSON",
			args: []string{"write", "-format=json", "pki_int/intermediate/generate/internal",
				"common_name=My Organization Intermediate CA", "issuer_name=intermediate-2024", "key_type=rsa", "key_bits=4096"},
			answer: &fakeAnswer{status: 200, body: envelope(`{"csr":"CSR","key_id":"k1"}`)},
			method: "PUT", path: "/v1/pki_int/intermediate/generate/internal",
			body: `{"common_name":"My Organization Intermediate CA","issuer_name":"intermediate-2024","key_bits":"4096","key_type":"rsa"}`,
			stdout: `{
  "request_id": "8d0c4c1e",
  "lease_id": "",
  "lease_duration": 0,
  "renewable": false,
  "data": {
    "csr": "CSR",
    "key_id": "k1"
  },
  "warnings": null,
  "mount_type": "pki"
}
`,
		},
		{
			name:   "sign intermediate",
			args:   []string{"write", "-format=json", "pki_root/root/sign-intermediate", "csr=" + at("intermediate.csr"), "format=pem_bundle", "ttl=26280h"},
			answer: &fakeAnswer{status: 200, body: envelope(`{"certificate":"C"}`)},
			method: "PUT", path: "/v1/pki_root/root/sign-intermediate",
			// @file sends the contents, trailing newline included.
			body: `{"csr":"-----BEGIN CERTIFICATE REQUEST-----\nMIIC\n-----END CERTIFICATE REQUEST-----\n","format":"pem_bundle","ttl":"26280h"}`,
		},
		{
			name:   "set signed",
			args:   []string{"write", "pki_int/intermediate/set-signed", "certificate=" + at("intermediate.crt")},
			answer: &fakeAnswer{status: 200, body: envelope(`{"imported_issuers":["i1"],"imported_keys":null,"mapping":{"i1":"k1"}}`)},
			method: "PUT", path: "/v1/pki_int/intermediate/set-signed",
			body: `{"certificate":"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"}`,
			stdout: "Key                 Value\n" +
				"---                 -----\n" +
				"imported_issuers    [i1]\n" +
				"imported_keys       <nil>\n" +
				"mapping             map[i1:k1]\n",
		},
		{
			name: "intermediate urls",
			args: []string{"write", "pki_int/config/urls",
				"issuing_certificates=https://vault.example.com:8200/v1/pki_int/ca",
				"crl_distribution_points=https://vault.example.com:8200/v1/pki_int/crl"},
			method: "PUT", path: "/v1/pki_int/config/urls",
			body: `{"crl_distribution_points":"https://vault.example.com:8200/v1/pki_int/crl","issuing_certificates":"https://vault.example.com:8200/v1/pki_int/ca"}`,
		},
		{
			name: "role web-servers",
			args: []string{"write", "pki_int/roles/web-servers", "allowed_domains=example.com", "allow_subdomains=true",
				"allow_bare_domains=true", "max_ttl=720h", "ttl=24h", "key_type=rsa", "key_bits=2048",
				"key_usage=DigitalSignature,KeyEncipherment", "ext_key_usage=ServerAuth"},
			answer: &fakeAnswer{status: 200, body: envelope(`{"allowed_domains":["example.com"],"max_ttl":2592000,"ttl":86400,"no_store":false}`)},
			method: "PUT", path: "/v1/pki_int/roles/web-servers",
			body: `{"allow_bare_domains":"true","allow_subdomains":"true","allowed_domains":"example.com","ext_key_usage":"ServerAuth","key_bits":"2048","key_type":"rsa","key_usage":"DigitalSignature,KeyEncipherment","max_ttl":"720h","ttl":"24h"}`,
			// Seconds print as durations, as vault prints them.
			stdout: "Key                Value\n" +
				"---                -----\n" +
				"allowed_domains    [example.com]\n" +
				"max_ttl            720h\n" +
				"no_store           false\n" +
				"ttl                24h\n",
		},
		{
			name: "role internal-services",
			args: []string{"write", "pki_int/roles/internal-services", "allowed_domains=internal.example.com,svc.cluster.local",
				"allow_subdomains=true", "max_ttl=168h", "ttl=1h", "key_type=ec", "key_bits=256",
				"key_usage=DigitalSignature", "ext_key_usage=ServerAuth,ClientAuth"},
			method: "PUT", path: "/v1/pki_int/roles/internal-services",
			body: `{"allow_subdomains":"true","allowed_domains":"internal.example.com,svc.cluster.local","ext_key_usage":"ServerAuth,ClientAuth","key_bits":"256","key_type":"ec","key_usage":"DigitalSignature","max_ttl":"168h","ttl":"1h"}`,
		},
		{
			name: "role client-auth",
			args: []string{"write", "pki_int/roles/client-auth", "allowed_domains=users.example.com", "allow_subdomains=true",
				"max_ttl=720h", "ttl=8h", "key_type=ec", "key_bits=256", "key_usage=DigitalSignature",
				"ext_key_usage=ClientAuth", "organization=My Organization", "no_store=true"},
			method: "PUT", path: "/v1/pki_int/roles/client-auth",
			body: `{"allow_subdomains":"true","allowed_domains":"users.example.com","ext_key_usage":"ClientAuth","key_bits":"256","key_type":"ec","key_usage":"DigitalSignature","max_ttl":"720h","no_store":"true","organization":"My Organization","ttl":"8h"}`,
		},
		{
			name:   "issue",
			args:   []string{"write", "pki_int/issue/web-servers", "common_name=api.example.com", "alt_names=api-internal.example.com", "ttl=24h"},
			answer: &fakeAnswer{status: 200, body: envelope(`{"serial_number":"39:dd"}`)},
			method: "PUT", path: "/v1/pki_int/issue/web-servers",
			body: `{"alt_names":"api-internal.example.com","common_name":"api.example.com","ttl":"24h"}`,
		},
		{
			name:   "sign CSR",
			args:   []string{"write", "pki_int/sign/web-servers", "csr=" + at("server.csr"), "ttl=24h"},
			answer: &fakeAnswer{status: 200, body: envelope(`{"serial_number":"39:dd"}`)},
			method: "PUT", path: "/v1/pki_int/sign/web-servers",
			body: `{"csr":"-----BEGIN CERTIFICATE REQUEST-----\nMIIC\n-----END CERTIFICATE REQUEST-----\n","ttl":"24h"}`,
		},
		{
			name:   "enable kubernetes auth",
			args:   []string{"auth", "enable", "kubernetes"},
			method: "POST", path: "/v1/sys/auth/kubernetes",
			body:   `{"type":"kubernetes","description":"","config":{"options":null,"default_lease_ttl":"0s","max_lease_ttl":"0s","force_no_cache":false},"local":false,"seal_wrap":false,"external_entropy_access":false,"options":null}`,
			stdout: "Success! Enabled kubernetes auth method at: kubernetes/\n",
		},
		{
			name:   "kubernetes auth config",
			args:   []string{"write", "auth/kubernetes/config", "kubernetes_host=https://kubernetes.default.svc:443", "kubernetes_ca_cert=" + at("ca.crt")},
			method: "PUT", path: "/v1/auth/kubernetes/config",
			body: `{"kubernetes_ca_cert":"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n","kubernetes_host":"https://kubernetes.default.svc:443"}`,
		},
		{
			name:   "policy from stdin",
			args:   []string{"policy", "write", "cert-manager-policy", "-"},
			stdin:  policy,
			method: "PUT", path: "/v1/sys/policies/acl/cert-manager-policy",
			body:   `{"policy":"path \"pki_int/sign/internal-services\" {\n  capabilities = [\"create\", \"update\"]\n}\n"}`,
			stdout: "Success! Uploaded policy: cert-manager-policy\n",
		},
		{
			name: "kubernetes role",
			args: []string{"write", "auth/kubernetes/role/cert-manager", "bound_service_account_names=cert-manager",
				"bound_service_account_namespaces=cert-manager", "policies=cert-manager-policy", "ttl=1h"},
			method: "PUT", path: "/v1/auth/kubernetes/role/cert-manager",
			body: `{"bound_service_account_names":"cert-manager","bound_service_account_namespaces":"cert-manager","policies":"cert-manager-policy","ttl":"1h"}`,
		},
		{
			name:   "revoke",
			args:   []string{"write", "pki_int/revoke", "serial_number=39:dd:2e:90:b7:23:1f:8d:d3:7d:31:c5:1b:da:84:d0:5b:65:31:58"},
			answer: &fakeAnswer{status: 200, body: envelope(`{"revocation_time":1700000000,"revocation_time_rfc3339":"2023-11-14T22:13:20Z","state":"revoked"}`)},
			method: "PUT", path: "/v1/pki_int/revoke",
			body: `{"serial_number":"39:dd:2e:90:b7:23:1f:8d:d3:7d:31:c5:1b:da:84:d0:5b:65:31:58"}`,
		},
		{
			name:   "list revoked",
			args:   []string{"list", "pki_int/certs/revoked"},
			answer: &fakeAnswer{status: 200, body: envelope(`{"keys":["39:dd:2e"]}`)},
			method: "GET", path: "/v1/pki_int/certs/revoked", query: "list=true",
			stdout: "Keys\n----\n39:dd:2e\n",
		},
		{
			name:   "list certs",
			args:   []string{"list", "pki_int/certs"},
			answer: &fakeAnswer{status: 200, body: envelope(`{"keys":["7a:01","39:dd:2e"]}`)},
			method: "GET", path: "/v1/pki_int/certs", query: "list=true",
			stdout: "Keys\n----\n39:dd:2e\n7a:01\n",
		},
		{
			name:   "read cert",
			args:   []string{"read", "pki_int/cert/39:dd:2e"},
			answer: &fakeAnswer{status: 200, body: envelope(`{"certificate":"C","revocation_time":0}`)},
			method: "GET", path: "/v1/pki_int/cert/39:dd:2e",
			stdout: "Key                Value\n---                -----\ncertificate        C\nrevocation_time    0\n",
		},
		{
			name: "tidy",
			args: []string{"write", "pki_int/tidy", "tidy_cert_store=true", "tidy_revoked_certs=true", "safety_buffer=72h"},
			// 202 with only a warning: vault prints the warning, no table.
			answer: &fakeAnswer{status: 202, body: envelope(`null`, "Tidy operation successfully started. Any information from the operation will be printed to Vault's server logs.")},
			method: "PUT", path: "/v1/pki_int/tidy",
			body: `{"safety_buffer":"72h","tidy_cert_store":"true","tidy_revoked_certs":"true"}`,
		},
		{
			name:   "default issuer",
			args:   []string{"write", "pki_int/config/issuers", "default=intermediate-2027"},
			answer: &fakeAnswer{status: 200, body: envelope(`{"default":"i2","default_follows_latest_issuer":false}`)},
			method: "PUT", path: "/v1/pki_int/config/issuers",
			body: `{"default":"intermediate-2027"}`,
		},
		{
			name:   "role production-services",
			args:   []string{"write", "pki_int/roles/production-services", "allowed_domains=prod.example.com", "allow_subdomains=true", "max_ttl=4h", "ttl=1h"},
			method: "PUT", path: "/v1/pki_int/roles/production-services",
			body: `{"allow_subdomains":"true","allowed_domains":"prod.example.com","max_ttl":"4h","ttl":"1h"}`,
		},
		{
			name: "role payment-service",
			args: []string{"write", "pki_int/roles/payment-service", "allowed_domains=payments.prod.example.com",
				"allow_subdomains=false", "allow_bare_domains=true", "allow_glob_domains=false", "allow_any_name=false",
				"enforce_hostnames=true", "max_ttl=1h"},
			method: "PUT", path: "/v1/pki_int/roles/payment-service",
			body: `{"allow_any_name":"false","allow_bare_domains":"true","allow_glob_domains":"false","allow_subdomains":"false","allowed_domains":"payments.prod.example.com","enforce_hostnames":"true","max_ttl":"1h"}`,
		},
		{
			name:   "audit file device",
			args:   []string{"audit", "enable", "file", "file_path=/var/log/vault/audit.log"},
			method: "PUT", path: "/v1/sys/audit/file",
			body:   `{"type":"file","description":"","options":{"file_path":"/var/log/vault/audit.log"},"local":false}`,
			stdout: "Success! Enabled the file audit device at: file/\n",
		},
		{
			name:   "root CA policy",
			args:   []string{"policy", "write", "root-ca-policy", "-"},
			stdin:  "path \"pki_root/issue/*\" {\n  capabilities = [\"deny\"]\n}\n",
			method: "PUT", path: "/v1/sys/policies/acl/root-ca-policy",
			body: `{"policy":"path \"pki_root/issue/*\" {\n  capabilities = [\"deny\"]\n}\n"}`,
		},
	}
}

// TestTutorialCommands runs every command of the tutorial (tutorial.md) with
// pkid in place of vault and checks the request on the wire byte for byte:
// method, path, query, body, token and request headers.
func TestTutorialCommands(t *testing.T) {
	t.Parallel()
	tests := tutorialCases(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			answers := map[string]fakeAnswer{}
			if tc.answer != nil {
				answers[tc.method+" "+tc.path] = *tc.answer
			}
			fv := newFakeVault(t, answers)
			res := runCLI(t, fv, nil, tc.stdin, tc.args...)
			if res.code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", res.code, res.stderr)
			}
			reqs := fv.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1: %+v", len(reqs), reqs)
			}
			assertRequest(t, reqs[0], tc.method, tc.path, tc.query, tc.body, "root-token")
			if tc.stdout != "" && res.stdout != tc.stdout {
				t.Errorf("stdout:\n%q\nwant:\n%q", res.stdout, tc.stdout)
			}
		})
	}
}

func assertRequest(t *testing.T, r recordedRequest, method, path, query, body, token string) {
	t.Helper()
	if r.Method != method || r.Path != path || r.Query != query {
		t.Errorf("request %s %s?%s, want %s %s?%s", r.Method, r.Path, r.Query, method, path, query)
	}
	if r.Body != body {
		t.Errorf("body:\n%s\nwant:\n%s", r.Body, body)
	}
	if got := r.Header.Get("X-Vault-Token"); got != token {
		t.Errorf("X-Vault-Token = %q, want %q", got, token)
	}
	if got := r.Header.Get("X-Vault-Request"); got != "true" {
		t.Errorf("X-Vault-Request = %q, want true", got)
	}
}

func TestSignIntermediateJSONPipesToJQ(t *testing.T) {
	t.Parallel()
	// `... | jq -r '.data.certificate'` must find the field.
	fv := newFakeVault(t, map[string]fakeAnswer{
		"PUT /v1/pki_root/root/sign-intermediate": {status: 200, body: envelope(`{"certificate":"INT\nROOT","expiration":1}`)},
	})
	res := runCLI(t, fv, nil, "", "write", "-format=json", "pki_root/root/sign-intermediate", "csr=x")
	var out struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, res.stdout)
	}
	if out.Data["certificate"] != "INT\nROOT" {
		t.Fatalf(".data.certificate = %q", out.Data["certificate"])
	}
}
