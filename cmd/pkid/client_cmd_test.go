package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKVData(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pem := write("req.pem", "PEM\n")
	doc := write("body.json", `{"key_bits": 4096, "names": ["a", "b"], "ttl": "1h"}`)
	tests := []struct {
		name    string
		args    []string
		stdin   string
		want    string // the body the API client sends: json.Marshal of the map
		wantErr string
	}{
		{name: "no args is null", args: nil, want: `null`},
		{name: "strings", args: []string{"a=1", "b=true", "c="}, want: `{"a":"1","b":"true","c":""}`},
		{name: "value with equals", args: []string{"q=a=b"}, want: `{"q":"a=b"}`},
		{name: "repeated key is an array", args: []string{"k=1", "k=2", "k=3"}, want: `{"k":["1","2","3"]}`},
		{name: "file contents", args: []string{"csr=@" + pem}, want: `{"csr":"PEM\n"}`},
		{name: "escaped at", args: []string{`v=\@home`}, want: `{"v":"@home"}`},
		{name: "value from stdin", args: []string{"token=-"}, stdin: "s3cret\n", want: `{"token":"s3cret\n"}`},
		// As in vault, a key given twice becomes an array, also when the first
		// value came from a merged document.
		{name: "JSON from stdin", args: []string{"-", "x=y"}, stdin: `{"n": 2, "x": "old"}`, want: `{"n":2,"x":["old","y"]}`},
		{name: "JSON file merged", args: []string{"@" + doc, "ttl=2h"}, want: `{"key_bits":4096,"names":["a","b"],"ttl":["1h","2h"]}`},
		{name: "empty arg ignored", args: []string{""}, want: `{}`},
		{name: "bare word", args: []string{"oops"}, wantErr: `invalid key/value pair "oops": format must be key=value`},
		{name: "stdin twice", args: []string{"a=-", "b=-"}, stdin: "x", wantErr: "stdin already consumed"},
		{name: "missing file", args: []string{"csr=@" + filepath.Join(dir, "none")}, wantErr: "error reading file"},
		{name: "bad JSON", args: []string{"-"}, stdin: "{", wantErr: "unexpected EOF"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data, err := kvData(strings.NewReader(tc.stdin), tc.args)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(data)
			if string(got) != tc.want {
				t.Fatalf("body %s, want %s", got, tc.want)
			}
		})
	}
}

// TestCommands covers the commands and paths the tutorial does not reach:
// each case is one invocation against a fresh fake server.
func TestCommands(t *testing.T) {
	t.Parallel()
	type req struct{ method, path, query, body string }
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		stdin   string
		answers map[string]fakeAnswer
		reqs    []req
		code    int
		stdout  string // exact when set
		stderr  string // substring when set
	}{
		{
			name: "write -f sends null",
			args: []string{"write", "-f", "pki/crl/rotate"},
			reqs: []req{{"PUT", "/v1/pki/crl/rotate", "", "null"}},
		},
		{
			name:   "write without data",
			args:   []string{"write", "pki/tidy"},
			code:   1,
			stderr: "Must supply data or use -force",
		},
		{
			name: "write error",
			args: []string{"write", "pki/roles/web", "allowed_domains=x"},
			answers: map[string]fakeAnswer{
				"PUT /v1/pki/roles/web": {status: 400, body: `{"errors":["invalid key_type \"foo\""]}`},
			},
			reqs:   []req{{"PUT", "/v1/pki/roles/web", "", `{"allowed_domains":"x"}`}},
			code:   2,
			stderr: "Error writing data to pki/roles/web: Error making API request.\n\nURL: PUT ",
		},
		{
			name:    "write error lists the errors",
			args:    []string{"write", "pki/issue/web", "common_name=evil.com"},
			answers: map[string]fakeAnswer{"PUT /v1/pki/issue/web": {status: 400, body: `{"errors":["common name evil.com not allowed by this role"]}`}},
			reqs:    []req{{"PUT", "/v1/pki/issue/web", "", `{"common_name":"evil.com"}`}},
			code:    2,
			stderr:  "/v1/pki/issue/web\nCode: 400. Errors:\n\n* common name evil.com not allowed by this role\n",
		},
		{
			name:    "read nothing",
			args:    []string{"read", "pki/roles/none"},
			answers: map[string]fakeAnswer{"GET /v1/pki/roles/none": {status: 404, body: `{"errors":[]}`}},
			reqs:    []req{{"GET", "/v1/pki/roles/none", "", ""}},
			code:    2,
			stderr:  "No value found at pki/roles/none\n",
		},
		{
			name:    "read with query",
			args:    []string{"read", "pki/cert/ca", "x=1"},
			answers: map[string]fakeAnswer{"GET /v1/pki/cert/ca": {status: 200, body: envelope(`{"certificate":"C"}`)}},
			reqs:    []req{{"GET", "/v1/pki/cert/ca", "x=1", ""}},
		},
		{
			name:    "read server error",
			args:    []string{"read", "pki/issuer/nope"},
			answers: map[string]fakeAnswer{"GET /v1/pki/issuer/nope": {status: 500, body: `{"errors":["1 error occurred:\n\t* unable to find PKI issuer for reference: nope\n\n"]}`}},
			reqs:    []req{{"GET", "/v1/pki/issuer/nope", "", ""}},
			code:    2,
			stderr:  "Error reading pki/issuer/nope: Error making API request.",
		},
		{
			name:    "read raw PEM",
			args:    []string{"read", "-format=raw", "pki/ca/pem"},
			answers: map[string]fakeAnswer{"GET /v1/pki/ca/pem": {status: 200, body: testCert, ctype: "application/pem-certificate-chain"}},
			reqs:    []req{{"GET", "/v1/pki/ca/pem", "", ""}},
			stdout:  testCert + "\n",
		},
		{
			name:   "raw only for read",
			args:   []string{"list", "-format=raw", "pki/roles"},
			code:   1,
			stderr: "does not support the -format=raw option",
		},
		{
			name:   "unknown format",
			args:   []string{"read", "-format=xml", "pki/roles/x"},
			code:   1,
			stderr: "Invalid output format: xml",
		},
		{
			name:    "field missing",
			args:    []string{"read", "-field=nope", "pki/cert/ca"},
			answers: map[string]fakeAnswer{"GET /v1/pki/cert/ca": {status: 200, body: envelope(`{"certificate":"C"}`)}},
			reqs:    []req{{"GET", "/v1/pki/cert/ca", "", ""}},
			code:    1,
			stderr:  `Field "nope" not present in secret`,
		},
		{
			name:    "field as JSON",
			args:    []string{"read", "-format=json", "-field=ca_chain", "pki/cert/ca_chain"},
			answers: map[string]fakeAnswer{"GET /v1/pki/cert/ca_chain": {status: 200, body: envelope(`{"ca_chain":["A","B"]}`)}},
			reqs:    []req{{"GET", "/v1/pki/cert/ca_chain", "", ""}},
			stdout:  "[\n  \"A\",\n  \"B\"\n]",
		},
		{
			name:    "warnings go to stderr",
			args:    []string{"write", "pki/root/generate/internal", "common_name=x"},
			answers: map[string]fakeAnswer{"PUT /v1/pki/root/generate/internal": {status: 200, body: envelope(`{"issuer_name":""}`, "This mount hasn't configured any authority information access (AIA) fields")}},
			reqs:    []req{{"PUT", "/v1/pki/root/generate/internal", "", `{"common_name":"x"}`}},
			stdout:  "Key            Value\n---            -----\nissuer_name    n/a\n",
			stderr:  "WARNING! The following warnings were returned from Vault:\n\n  * This mount hasn't configured any authority information access (AIA) fields\n\n",
		},
		{
			name:    "list nothing",
			args:    []string{"list", "pki/roles"},
			answers: map[string]fakeAnswer{"GET /v1/pki/roles": {status: 404, body: `{"errors":[]}`}},
			reqs:    []req{{"GET", "/v1/pki/roles", "list=true", ""}},
			code:    2,
			stderr:  "No value found at pki/roles\n",
		},
		{
			name:    "list as JSON",
			args:    []string{"list", "-format=json", "pki/roles"},
			answers: map[string]fakeAnswer{"GET /v1/pki/roles": {status: 200, body: envelope(`{"keys":["b","a"]}`)}},
			reqs:    []req{{"GET", "/v1/pki/roles", "list=true", ""}},
			stdout:  "[\n  \"b\",\n  \"a\"\n]\n",
		},
		{
			// -format is one of vault's global flags: it works anywhere.
			name:    "format after the path",
			args:    []string{"list", "pki/roles", "-format=json"},
			answers: map[string]fakeAnswer{"GET /v1/pki/roles": {status: 200, body: envelope(`{"keys":["a"]}`)}},
			reqs:    []req{{"GET", "/v1/pki/roles", "list=true", ""}},
			stdout:  "[\n  \"a\"\n]\n",
		},
		{
			name:    "format before the command",
			args:    []string{"-format", "JSON", "write", "pki/roles/web", "ttl=1h"},
			answers: map[string]fakeAnswer{"PUT /v1/pki/roles/web": {status: 200, body: envelope(`{"ttl":3600}`)}},
			reqs:    []req{{"PUT", "/v1/pki/roles/web", "", `{"ttl":"1h"}`}},
			stdout:  "{\n  \"request_id\": \"8d0c4c1e\",\n  \"lease_id\": \"\",\n  \"lease_duration\": 0,\n  \"renewable\": false,\n  \"data\": {\n    \"ttl\": 3600\n  },\n  \"warnings\": null,\n  \"mount_type\": \"pki\"\n}\n",
		},
		{
			name:   "format on a command without output",
			args:   []string{"secrets", "enable", "-format=json", "pki"},
			reqs:   []req{{"POST", "/v1/sys/mounts/pki", "", `{"type":"pki","description":"","config":{"options":null,"default_lease_ttl":"0s","max_lease_ttl":"0s","force_no_cache":false},"local":false,"seal_wrap":false,"external_entropy_access":false,"options":null}`}},
			stdout: "Success! Enabled the pki secrets engine at: pki/\n",
		},
		{
			name:   "unknown format anywhere",
			args:   []string{"secrets", "enable", "pki", "--format=xml"},
			code:   1,
			stderr: "Invalid output format: xml",
		},
		{
			// Other flags after a positional argument are arguments, as in
			// vault, which warns about them.
			name:   "flag after the path",
			args:   []string{"write", "pki/roles/web", "ttl=1h", "-f"},
			code:   1,
			stderr: "Command flags must be provided before positional arguments. The following arguments will not be parsed as flags: [-f]\nFailed to parse K=V data: invalid key/value pair \"-f\": format must be key=value\n",
		},
		{
			name:   "delete",
			args:   []string{"delete", "pki/roles/web"},
			reqs:   []req{{"DELETE", "/v1/pki/roles/web", "", ""}},
			stdout: "Success! Data deleted (if it existed) at: pki/roles/web\n",
		},
		{
			name:    "patch",
			args:    []string{"patch", "pki/roles/web", "ttl=2h"},
			answers: map[string]fakeAnswer{"PATCH /v1/pki/roles/web": {status: 200, body: envelope(`{"ttl":7200}`)}},
			reqs:    []req{{"PATCH", "/v1/pki/roles/web", "", `{"ttl":"2h"}`}},
			stdout:  "Key    Value\n---    -----\nttl    2h\n",
		},
		{
			name: "secrets enable with options",
			args: []string{"secrets", "enable", "-path=pki/prod/", "-description=Prod CA", "-default-lease-ttl=1h", "-max-lease-ttl=30d", "pki"},
			reqs: []req{{"POST", "/v1/sys/mounts/pki/prod", "",
				`{"type":"pki","description":"Prod CA","config":{"options":null,"default_lease_ttl":"1h0m0s","max_lease_ttl":"720h0m0s","force_no_cache":false},"local":false,"seal_wrap":false,"external_entropy_access":false,"options":null}`}},
			stdout: "Success! Enabled the pki secrets engine at: pki/prod/\n",
		},
		{
			name:    "secrets enable refused",
			args:    []string{"secrets", "enable", "kv"},
			answers: map[string]fakeAnswer{"POST /v1/sys/mounts/kv": {status: 400, body: `{"errors":["plugin not found in the catalog: kv"]}`}},
			reqs:    []req{{"POST", "/v1/sys/mounts/kv", "", `{"type":"kv","description":"","config":{"options":null,"default_lease_ttl":"0s","max_lease_ttl":"0s","force_no_cache":false},"local":false,"seal_wrap":false,"external_entropy_access":false,"options":null}`}},
			code:    2,
			stderr:  "Error enabling: Error making API request.",
		},
		{
			name: "secrets tune back to system, with description",
			args: []string{"secrets", "tune", "-default-lease-ttl=system", "-description=x", "pki"},
			reqs: []req{{"POST", "/v1/sys/mounts/pki/tune", "", `{"options":null,"default_lease_ttl":"system","description":"x","max_lease_ttl":"","force_no_cache":false}`}},
		},
		{
			name:   "secrets disable",
			args:   []string{"secrets", "disable", "pki_int"},
			reqs:   []req{{"DELETE", "/v1/sys/mounts/pki_int", "", ""}},
			stdout: "Success! Disabled the secrets engine (if it existed) at: pki_int/\n",
		},
		{
			name: "secrets list",
			args: []string{"secrets", "list"},
			answers: map[string]fakeAnswer{"GET /v1/sys/mounts": {status: 200, body: envelope(
				`{"pki/":{"type":"pki","description":"","accessor":"pki_1a2b"},"sys/":{"type":"system","description":"system endpoints","accessor":"system_9"}}`)}},
			reqs:   []req{{"GET", "/v1/sys/mounts", "", ""}},
			stdout: "Path    Type      Accessor    Description\n----    ----      --------    -----------\npki/    pki       pki_1a2b    n/a\nsys/    system    system_9    system endpoints\n",
		},
		{
			name:    "policy read",
			args:    []string{"policy", "read", "Ops"},
			answers: map[string]fakeAnswer{"GET /v1/sys/policies/acl/ops": {status: 200, body: envelope(`{"name":"ops","policy":"path \"x\" {}\n"}`)}},
			reqs:    []req{{"GET", "/v1/sys/policies/acl/ops", "", ""}},
			stdout:  "path \"x\" {}\n",
		},
		{
			name:    "policy read missing",
			args:    []string{"policy", "read", "ops"},
			answers: map[string]fakeAnswer{"GET /v1/sys/policies/acl/ops": {status: 404, body: `{"errors":[]}`}},
			reqs:    []req{{"GET", "/v1/sys/policies/acl/ops", "", ""}},
			code:    2,
			stderr:  "No policy named: ops",
		},
		{
			name:    "policy list",
			args:    []string{"policy", "list"},
			answers: map[string]fakeAnswer{"GET /v1/sys/policies/acl": {status: 200, body: envelope(`{"keys":["default","root"]}`)}},
			reqs:    []req{{"GET", "/v1/sys/policies/acl", "list=true", ""}},
			stdout:  "default\nroot\n",
		},
		{
			name:   "policy delete",
			args:   []string{"policy", "delete", "ops"},
			reqs:   []req{{"DELETE", "/v1/sys/policies/acl/ops", "", ""}},
			stdout: "Success! Deleted policy: ops\n",
		},
		{
			name:   "policy name lower-cased",
			args:   []string{"policy", "write", "Ops", "-"},
			stdin:  "path \"x\" {}",
			reqs:   []req{{"PUT", "/v1/sys/policies/acl/ops", "", `{"policy":"path \"x\" {}"}`}},
			stdout: "Success! Uploaded policy: ops\n",
			stderr: `Policy name was converted from "Ops" to "ops"`,
		},
		{
			name:    "audit list",
			args:    []string{"audit", "list"},
			answers: map[string]fakeAnswer{"GET /v1/sys/audit": {status: 200, body: envelope(`{"file/":{"path":"file/","type":"file","description":"","options":{"file_path":"/tmp/a"},"local":false}}`)}},
			reqs:    []req{{"GET", "/v1/sys/audit", "", ""}},
			stdout:  "Path     Type    Description\n----     ----    -----------\nfile/    file    n/a\n",
		},
		{
			name:    "audit list empty",
			args:    []string{"audit", "list"},
			answers: map[string]fakeAnswer{"GET /v1/sys/audit": {status: 200, body: envelope(`{}`)}},
			reqs:    []req{{"GET", "/v1/sys/audit", "", ""}},
			code:    2,
			stdout:  "No audit devices are enabled.\n",
		},
		{
			name:   "audit enable at a path",
			args:   []string{"audit", "enable", "-path=audit2", "-description=second", "file", "file_path=stdout", "log_raw=true"},
			reqs:   []req{{"PUT", "/v1/sys/audit/audit2", "", `{"type":"file","description":"second","options":{"file_path":"stdout","log_raw":"true"},"local":false}`}},
			stdout: "Success! Enabled the file audit device at: audit2/\n",
		},
		{
			name:   "audit disable",
			args:   []string{"audit", "disable", "file"},
			reqs:   []req{{"DELETE", "/v1/sys/audit/file", "", ""}},
			stdout: "Success! Disabled audit device (if it was enabled) at: file/\n",
		},
		{
			name: "auth list",
			args: []string{"auth", "list"},
			answers: map[string]fakeAnswer{"GET /v1/sys/auth": {status: 200, body: envelope(
				`{"token/":{"type":"token","description":"token based credentials","accessor":"auth_token_1"}}`)}},
			reqs:   []req{{"GET", "/v1/sys/auth", "", ""}},
			stdout: "Path      Type     Accessor        Description                Version\n----      ----     --------        -----------                -------\ntoken/    token    auth_token_1    token based credentials    n/a\n",
		},
		{
			name:   "auth disable",
			args:   []string{"auth", "disable", "kubernetes"},
			reqs:   []req{{"DELETE", "/v1/sys/auth/kubernetes", "", ""}},
			stdout: "Success! Disabled the auth method (if it existed) at: kubernetes/\n",
		},
		{
			name: "token create",
			args: []string{"token", "create", "-policy=cert-manager-policy", "-policy=default", "-ttl=1h"},
			answers: map[string]fakeAnswer{"POST /v1/auth/token/create": {status: 200, body: `{"request_id":"r","lease_id":"","renewable":false,"lease_duration":0,"data":null,"wrap_info":null,"warnings":null,` +
				`"auth":{"client_token":"hvs.new","accessor":"acc","policies":["cert-manager-policy","default"],"token_policies":["cert-manager-policy","default"],"metadata":null,"lease_duration":3600,"renewable":true,"entity_id":"","token_type":"service","orphan":false,"mfa_requirement":null,"num_uses":0}}`}},
			reqs: []req{{"POST", "/v1/auth/token/create", "",
				`{"policies":["cert-manager-policy","default"],"ttl":"1h0m0s","explicit_max_ttl":"0s","period":"0s","display_name":"","num_uses":0,"renewable":true,"type":"service","entity_alias":""}`}},
			stdout: "Key                  Value\n" +
				"---                  -----\n" +
				"token                hvs.new\n" +
				"token_accessor       acc\n" +
				"token_duration       1h\n" +
				"token_renewable      true\n" +
				"token_policies       [\"cert-manager-policy\" \"default\"]\n" +
				"identity_policies    []\n" +
				"policies             [\"cert-manager-policy\" \"default\"]\n",
		},
		{
			name: "token create -field=token",
			args: []string{"token", "create", "-field=token"},
			answers: map[string]fakeAnswer{"POST /v1/auth/token/create": {status: 200, body: `{"data":null,` +
				`"auth":{"client_token":"hvs.only","accessor":"a","policies":["root"],"token_policies":["root"],"lease_duration":0,"renewable":false}}`}},
			reqs:   []req{{"POST", "/v1/auth/token/create", "", `{"ttl":"0s","explicit_max_ttl":"0s","period":"0s","display_name":"","num_uses":0,"renewable":true,"type":"service","entity_alias":""}`}},
			stdout: "hvs.only",
		},
		{
			name:    "token lookup self",
			args:    []string{"token", "lookup"},
			answers: map[string]fakeAnswer{"GET /v1/auth/token/lookup-self": {status: 200, body: envelope(`{"id":"root-token","policies":["root"],"ttl":0,"creation_ttl":0}`)}},
			reqs:    []req{{"GET", "/v1/auth/token/lookup-self", "", ""}},
			stdout:  "Key             Value\n---             -----\ncreation_ttl    0s\nid              root-token\npolicies        [root]\nttl             0s\n",
		},
		{
			name:    "token lookup other",
			args:    []string{"token", "lookup", "hvs.other"},
			answers: map[string]fakeAnswer{"POST /v1/auth/token/lookup": {status: 200, body: envelope(`{"id":"hvs.other"}`)}},
			reqs:    []req{{"POST", "/v1/auth/token/lookup", "", `{"token":"hvs.other"}`}},
		},
		{
			name:   "token revoke",
			args:   []string{"token", "revoke", "hvs.other"},
			reqs:   []req{{"PUT", "/v1/auth/token/revoke", "", `{"token":"hvs.other"}`}},
			stdout: "Success! Revoked token (if it existed)\n",
		},
		{
			name: "token revoke self",
			args: []string{"token", "revoke", "-self"},
			reqs: []req{{"PUT", "/v1/auth/token/revoke-self", "", ""}},
		},
		{
			name:   "token revoke needs a token",
			args:   []string{"token", "revoke"},
			code:   1,
			stderr: "Expected one token (or -self), got 0 arguments",
		},
		{
			name: "status",
			args: []string{"status"},
			answers: map[string]fakeAnswer{
				"GET /v1/sys/seal-status": {status: 200, body: `{"type":"shamir","initialized":true,"sealed":false,"t":1,"n":1,"progress":0,"nonce":"","version":"1.19.0","build_date":"2025-01-01T00:00:00Z","migration":false,"recovery_seal":false,"storage_type":"bbolt"}`},
				"GET /v1/sys/leader":      {status: 200, body: `{"ha_enabled":false,"is_self":false,"leader_address":"","leader_cluster_address":""}`},
			},
			reqs: []req{{"GET", "/v1/sys/seal-status", "", ""}, {"GET", "/v1/sys/leader", "", ""}},
			stdout: "Key             Value\n" +
				"---             -----\n" +
				"Seal Type       shamir\n" +
				"Initialized     true\n" +
				"Sealed          false\n" +
				"Total Shares    1\n" +
				"Threshold       1\n" +
				"Version         1.19.0\n" +
				"Build Date      2025-01-01T00:00:00Z\n" +
				"Storage Type    bbolt\n" +
				"HA Enabled      false\n",
		},
		{
			name: "status sealed exits 2",
			args: []string{"status"},
			answers: map[string]fakeAnswer{
				"GET /v1/sys/seal-status": {status: 200, body: `{"type":"shamir","initialized":true,"sealed":true,"t":1,"n":1}`},
				"GET /v1/sys/leader":      {status: 200, body: `{"ha_enabled":false}`},
			},
			reqs: []req{{"GET", "/v1/sys/seal-status", "", ""}, {"GET", "/v1/sys/leader", "", ""}},
			code: 2,
		},
		{
			name:   "token from ~/.vault-token",
			args:   []string{"delete", "pki/roles/web"},
			env:    map[string]string{"VAULT_TOKEN": "", "HOME": "TOKENHOME"},
			reqs:   []req{{"DELETE", "/v1/pki/roles/web", "", ""}},
			stdout: "Success! Data deleted (if it existed) at: pki/roles/web\n",
		},
		{
			name: "secrets enable with -options and -version",
			args: []string{"secrets", "enable", "-options=a=b", "-version=2", "-local", "-force-no-cache", "pki"},
			reqs: []req{{"POST", "/v1/sys/mounts/pki", "",
				`{"type":"pki","description":"","config":{"options":null,"default_lease_ttl":"0s","max_lease_ttl":"0s","force_no_cache":true},"local":true,"seal_wrap":false,"external_entropy_access":false,"options":{"a":"b","version":"2"}}`}},
		},
		{
			name:   "bad -options",
			args:   []string{"secrets", "enable", "-options=novalue", "pki"},
			code:   1,
			stderr: `missing = in KV pair: "novalue"`,
		},
		{
			name:   "bad duration",
			args:   []string{"secrets", "tune", "-max-lease-ttl=forever", "pki"},
			code:   1,
			stderr: `invalid value "forever" for flag -max-lease-ttl`,
		},
		{
			name: "token create with metadata, orphan, role",
			args: []string{"token", "create", "-metadata=team=pki", "-orphan", "-role=ops", "-type=batch", "-display-name=ci"},
			answers: map[string]fakeAnswer{"POST /v1/auth/token/create/ops": {status: 200, body: `{"data":null,` +
				`"auth":{"client_token":"b.x","accessor":"","policies":["default"],"token_policies":["default"],"metadata":{"team":"pki"},"lease_duration":60,"renewable":false}}`}},
			reqs: []req{{"POST", "/v1/auth/token/create/ops", "",
				`{"meta":{"team":"pki"},"ttl":"0s","explicit_max_ttl":"0s","period":"0s","no_parent":true,"display_name":"ci","num_uses":0,"renewable":false,"type":"batch","entity_alias":""}`}},
			stdout: "Key                  Value\n---                  -----\ntoken                b.x\ntoken_accessor       n/a\ntoken_duration       1m\n" +
				"token_renewable      false\ntoken_policies       [\"default\"]\nidentity_policies    []\npolicies             [\"default\"]\ntoken_meta_team      pki\n",
		},
		{
			name:    "token lookup by accessor",
			args:    []string{"token", "lookup", "-accessor", "acc1"},
			answers: map[string]fakeAnswer{"POST /v1/auth/token/lookup-accessor": {status: 200, body: envelope(`{"accessor":"acc1"}`)}},
			reqs:    []req{{"POST", "/v1/auth/token/lookup-accessor", "", `{"accessor":"acc1"}`}},
		},
		{
			name: "token revoke by accessor",
			args: []string{"token", "revoke", "-accessor", "acc1"},
			reqs: []req{{"POST", "/v1/auth/token/revoke-accessor", "", `{"accessor":"acc1"}`}},
		},
		{
			name: "token revoke orphan",
			args: []string{"token", "revoke", "-mode=orphan", "hvs.x"},
			reqs: []req{{"PUT", "/v1/auth/token/revoke-orphan", "", `{"token":"hvs.x"}`}},
		},
		{
			name:   "token revoke bad mode",
			args:   []string{"token", "revoke", "-mode=path", "x"},
			code:   1,
			stderr: "Invalid mode: path",
		},
		{
			name:    "token lookup fails",
			args:    []string{"token", "lookup"},
			answers: map[string]fakeAnswer{"GET /v1/auth/token/lookup-self": {status: 403, body: `{"errors":["permission denied"]}`}},
			reqs:    []req{{"GET", "/v1/auth/token/lookup-self", "", ""}},
			code:    2,
			stderr:  "Error looking up token: Error making API request.",
		},
		{
			name:    "VAULT_FORMAT=json",
			args:    []string{"read", "pki/cert/ca"},
			env:     map[string]string{"VAULT_FORMAT": "json", "VAULT_TOKEN": "root-token"},
			answers: map[string]fakeAnswer{"GET /v1/pki/cert/ca": {status: 200, body: envelope(`{"certificate":"C"}`)}},
			reqs:    []req{{"GET", "/v1/pki/cert/ca", "", ""}},
			stdout:  "{\n  \"request_id\": \"8d0c4c1e\",\n  \"lease_id\": \"\",\n  \"lease_duration\": 0,\n  \"renewable\": false,\n  \"data\": {\n    \"certificate\": \"C\"\n  },\n  \"warnings\": null,\n  \"mount_type\": \"pki\"\n}\n",
		},
		{
			name: "generate_lease envelope",
			args: []string{"write", "pki/issue/web", "common_name=a.example.com"},
			answers: map[string]fakeAnswer{"PUT /v1/pki/issue/web": {status: 200, body: `{"request_id":"r","lease_id":"pki/issue/web/abc","renewable":false,"lease_duration":3600,` +
				`"data":{"serial_number":"01"},"warnings":null}`}},
			reqs:   []req{{"PUT", "/v1/pki/issue/web", "", `{"common_name":"a.example.com"}`}},
			stdout: "Key                Value\n---                -----\nlease_id           pki/issue/web/abc\nlease_duration     1h\nlease_renewable    false\nserial_number      01\n",
		},
		{
			name:    "delete with a response",
			args:    []string{"delete", "-field=x", "pki/issuer/old"},
			answers: map[string]fakeAnswer{"DELETE /v1/pki/issuer/old": {status: 200, body: envelope(`{"x":"gone"}`)}},
			reqs:    []req{{"DELETE", "/v1/pki/issuer/old", "", ""}},
			stdout:  "gone",
		},
		{
			name:   "policy file missing",
			args:   []string{"policy", "write", "ops", "/nonexistent/policy.hcl"},
			code:   2,
			stderr: "Error opening policy file",
		},
		{
			name:   "unknown command",
			args:   []string{"frobnicate"},
			code:   1,
			stderr: `unknown command "frobnicate"`,
		},
		{
			name:   "unknown subcommand",
			args:   []string{"secrets", "move"},
			code:   1,
			stderr: `unknown command "secrets move"`,
		},
		{
			name:   "too many arguments",
			args:   []string{"list", "a", "b"},
			code:   1,
			stderr: "Too many arguments (expected 1, got 2)",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fv := newFakeVault(t, tc.answers)
			env := tc.env
			if env["HOME"] == "TOKENHOME" {
				home := t.TempDir()
				if err := os.WriteFile(filepath.Join(home, ".vault-token"), []byte("file-token\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				env = map[string]string{"VAULT_TOKEN": "", "HOME": home}
			}
			res := runCLI(t, fv, env, tc.stdin, tc.args...)
			if res.code != tc.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", res.code, tc.code, res.stderr)
			}
			token := "root-token"
			if tc.env["HOME"] == "TOKENHOME" {
				token = "file-token"
			}
			got := fv.requests()
			if len(got) != len(tc.reqs) {
				t.Fatalf("%d requests, want %d: %+v", len(got), len(tc.reqs), got)
			}
			for i, want := range tc.reqs {
				assertRequest(t, got[i], want.method, want.path, want.query, want.body, token)
			}
			if tc.stdout != "" && res.stdout != tc.stdout {
				t.Errorf("stdout:\n%q\nwant:\n%q", res.stdout, tc.stdout)
			}
			if tc.stderr != "" && !strings.Contains(res.stderr, tc.stderr) {
				t.Errorf("stderr:\n%q\nwant it to contain:\n%q", res.stderr, tc.stderr)
			}
		})
	}
}

func TestPatchContentType(t *testing.T) {
	t.Parallel()
	fv := newFakeVault(t, nil)
	if res := runCLI(t, fv, nil, "", "patch", "pki/roles/web", "ttl=2h"); res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if ct := fv.requests()[0].Header.Get("Content-Type"); ct != "application/merge-patch+json" {
		t.Fatalf("Content-Type = %q", ct)
	}
}

func TestNoTokenSendsNoHeader(t *testing.T) {
	t.Parallel()
	fv := newFakeVault(t, nil)
	runCLI(t, fv, map[string]string{"VAULT_TOKEN": ""}, "", "delete", "pki/roles/x")
	r := fv.requests()[0]
	if _, ok := r.Header["X-Vault-Token"]; ok {
		t.Fatalf("X-Vault-Token sent without a token: %q", r.Header.Get("X-Vault-Token"))
	}
}

func TestClientAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"vault's default", nil, nil, "https://127.0.0.1:8200"},
		{"VAULT_ADDR", map[string]string{"VAULT_ADDR": "http://127.0.0.1:8200"}, nil, "http://127.0.0.1:8200"},
		{"-address wins", map[string]string{"VAULT_ADDR": "http://a:1"}, []string{"-address=http://b:2"}, "http://b:2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &cli{stderr: &strings.Builder{}, getenv: func(k string) string { return tc.env[k] }}
			f := c.flags("x", noOutput)
			if err := f.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			client, err := c.client(f)
			if err != nil {
				t.Fatal(err)
			}
			if client.Address() != tc.want {
				t.Fatalf("address %q, want %q", client.Address(), tc.want)
			}
		})
	}
}

func TestWrapPadded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		want string
	}{
		{"fits", "* short warning", "  * short warning"},
		{"exactly 76", "* " + strings.Repeat("x", 74), "  * " + strings.Repeat("x", 74)},
		{
			// The last line's shortfall is free, so the first line is
			// filled as far as it goes.
			"last line free",
			strings.Repeat("a", 36) + " " + strings.Repeat("b", 36) + " c d",
			"  " + strings.Repeat("a", 36) + " " + strings.Repeat("b", 36) + " c\n  d",
		},
		{
			// Greedy filling would leave one long line and a short one in
			// the middle; least raggedness evens out the first two.
			"balanced",
			strings.Repeat("a", 40) + " " + strings.Repeat("b", 30) + " " + strings.Repeat("c", 40) + " " + strings.Repeat("d", 70),
			"  " + strings.Repeat("a", 40) + "\n  " + strings.Repeat("b", 30) + " " + strings.Repeat("c", 40) + "\n  " + strings.Repeat("d", 70),
		},
		{"word longer than a line", strings.Repeat("z", 90), "  " + strings.Repeat("z", 90)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := wrapPadded(tc.text, 2); got != tc.want {
				t.Fatalf("wrapPadded:\n%q\nwant:\n%q", got, tc.want)
			}
		})
	}
}
