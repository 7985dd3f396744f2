package main

import (
	"bytes"
	"strings"
	"testing"

	vault "github.com/hashicorp/vault/api"
)

func TestSeedRefusals(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"server", "-seed", "1", "-data", t.TempDir()}, "-seed makes every key predictable and is for dev servers only: add -dev"},
		{[]string{"server", "-dev", "-seed-time", "2026-01-01T00:00:00Z"}, "-seed-time needs -seed"},
		{[]string{"server", "-dev", "-seed", "1", "-seed-time", "yesterday", "-dev-listen-address", "127.0.0.1:0"}, "bad -seed-time"},
		{[]string{"server", "-dev", "-seed", "-1"}, "invalid value"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, strings.NewReader(""), &stdout, &stderr)
		if code == 0 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want non-zero and %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}

// TestSeedServerRepeats starts two dev servers with the same seed and makes
// the same root CA on each: same root token, same certificate bytes.
func TestSeedServerRepeats(t *testing.T) {
	var roots, tokens []string
	for range 2 {
		p := startPkid(t, "server", "-dev", "-dev-listen-address", freeAddr(t),
			"-seed", "7", "-seed-time", "2026-12-01T00:00:00Z")
		addr, tok := p.banner(t)
		c := client(t, addr, tok)
		if err := c.Sys().Mount("pki", &vault.MountInput{Type: "pki"}); err != nil {
			t.Fatal(err)
		}
		sec, err := c.Logical().Write("pki/root/generate/internal", map[string]any{
			"common_name": "seeded root", "key_type": "ec", "ttl": "87600h",
		})
		if err != nil {
			t.Fatal(err)
		}
		roots = append(roots, sec.Data["certificate"].(string))
		tokens = append(tokens, tok)
		p.stop(t)
	}
	if roots[0] != roots[1] || tokens[0] != tokens[1] {
		t.Fatalf("two runs of seed 7 differ:\ntokens %q\n%s\n%s", tokens, roots[0], roots[1])
	}
	if !strings.Contains(roots[0], "BEGIN CERTIFICATE") {
		t.Fatalf("no certificate: %q", roots[0])
	}
}
