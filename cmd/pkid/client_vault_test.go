package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestSameAsVaultCLI runs each tutorial command twice against the recording
// fake, once with the real vault CLI and once with pkid's, and requires the
// same requests on the wire, the same stdout and the same exit code. It
// needs a vault binary: PKID_VAULT_CLI=/path/to/vault go test -run SameAsVault.
func TestSameAsVaultCLI(t *testing.T) {
	bin := os.Getenv("PKID_VAULT_CLI")
	if bin == "" {
		t.Skip("set PKID_VAULT_CLI to a vault binary to compare with the real CLI")
	}
	t.Parallel()
	for _, tc := range tutorialCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			answers := map[string]fakeAnswer{}
			if tc.answer != nil {
				answers[tc.method+" "+tc.path] = *tc.answer
			}
			vaultFake := newFakeVault(t, answers)
			vault := runVaultCLI(t, bin, vaultFake, tc.stdin, tc.args)
			pkidFake := newFakeVault(t, answers)
			pkid := runCLI(t, pkidFake, nil, tc.stdin, tc.args...)

			if vault.code != pkid.code {
				t.Errorf("exit: vault %d, pkid %d\nvault stderr:\n%s\npkid stderr:\n%s", vault.code, pkid.code, vault.stderr, pkid.stderr)
			}
			if vault.stdout != pkid.stdout {
				t.Errorf("stdout differs\nvault:\n%q\npkid:\n%q", vault.stdout, pkid.stdout)
			}
			if vault.stderr != pkid.stderr {
				t.Logf("stderr differs (not compared)\nvault:\n%s\npkid:\n%s", vault.stderr, pkid.stderr)
			}
			compareRequests(t, vaultFake.requests(), pkidFake.requests())
		})
	}
}

func runVaultCLI(t *testing.T, bin string, fv *fakeVault, stdin string, args []string) cliResult {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"VAULT_ADDR=" + fv.srv.URL, "VAULT_TOKEN=root-token", "HOME=" + t.TempDir(), "VAULT_MAX_RETRIES=0", "PATH=/usr/bin:/bin"}
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
		t.Fatalf("running vault: %v", err)
	}
	return cliResult{code, out.String(), errOut.String()}
}

// compareRequests requires the same requests with the same method, path,
// query, body and the headers a server acts on.
func compareRequests(t *testing.T, vault, pkid []recordedRequest) {
	t.Helper()
	if len(vault) != len(pkid) {
		t.Fatalf("vault made %d requests, pkid %d\nvault: %+v\npkid: %+v", len(vault), len(pkid), vault, pkid)
	}
	for i := range vault {
		v, p := vault[i], pkid[i]
		if v.Method != p.Method || v.Path != p.Path || v.Query != p.Query || v.Body != p.Body {
			t.Errorf("request %d:\nvault %s %s?%s %s\npkid  %s %s?%s %s", i, v.Method, v.Path, v.Query, v.Body, p.Method, p.Path, p.Query, p.Body)
		}
		for _, h := range []string{"X-Vault-Token", "X-Vault-Request", "Content-Type", "X-Vault-Namespace"} {
			if !slices.Equal(v.Header.Values(h), p.Header.Values(h)) {
				t.Errorf("request %d header %s: vault %q, pkid %q", i, h, v.Header.Values(h), p.Header.Values(h))
			}
		}
	}
}
