package tutorialsh

import (
	"fmt"
	"testing"
)

func TestParse(t *testing.T) {
	t.Parallel()
	md := "intro\n```yaml\nkey: value\n```\n```bash\n" +
		"# a comment line\n" +
		"vault write pki/roles/x \\\n    allowed_domains=\"a.com,b.com\" \\\n    ttl=\"1h\"  # trailing comment\n" +
		"\n" +
		"vault write -format=json pki/issue/x \\\n    | jq -r '.data.csr' > out.csr\n" +
		"vault policy write p -<<EOF\n# kept: inside the here-document\npath \"a/*\" {\n}\nEOF\n" +
		"vault read pki/cert/<serial_number>\n" +
		"```\n```python\nprint(\"not shell\")\n```\n"
	cmds, err := Parse(md)
	if err != nil {
		t.Fatal(err)
	}
	want := []Command{
		{Text: `vault write pki/roles/x allowed_domains="a.com,b.com" ttl="1h"`,
			Stages: [][]string{{"vault", "write", "pki/roles/x", "allowed_domains=a.com,b.com", "ttl=1h"}}},
		{Text: `vault write -format=json pki/issue/x | jq -r '.data.csr' > out.csr`,
			Stages:  [][]string{{"vault", "write", "-format=json", "pki/issue/x"}, {"jq", "-r", ".data.csr"}},
			OutFile: "out.csr"},
		{Text: `vault policy write p - <<EOF`, Stages: [][]string{{"vault", "policy", "write", "p", "-"}},
			Heredoc: "# kept: inside the here-document\npath \"a/*\" {\n}\n"},
		{Text: `vault read pki/cert/<serial_number>`, Stages: [][]string{{"vault", "read", "pki/cert/<serial_number>"}}},
	}
	if len(cmds) != len(want) {
		t.Fatalf("%d commands, want %d:\n%s", len(cmds), len(want), fmt.Sprint(cmds))
	}
	for i := range want {
		got := cmds[i]
		if got.Text != want[i].Text || got.Heredoc != want[i].Heredoc || got.OutFile != want[i].OutFile ||
			fmt.Sprintf("%q", got.Stages) != fmt.Sprintf("%q", want[i].Stages) {
			t.Errorf("command %d:\n got %q %q heredoc %q > %q\nwant %q %q heredoc %q > %q", i+1,
				got.Text, got.Stages, got.Heredoc, got.OutFile, want[i].Text, want[i].Stages, want[i].Heredoc, want[i].OutFile)
		}
	}
}

func TestParseLineErrors(t *testing.T) {
	t.Parallel()
	for _, line := range []string{`vault write a="b`, `vault read x < file`, `vault read x |`, `vault read x >`} {
		if _, _, err := ParseLine(line); err == nil {
			t.Errorf("%q parsed", line)
		}
	}
	if _, err := Parse("```bash\nvault policy write p -<<EOF\nno end\n```\n"); err == nil {
		t.Error("an unterminated here-document parsed")
	}
}

// TestTutorialHasEveryStep keeps the step table and the tutorial aligned in
// short mode too, where the end-to-end run is skipped.
