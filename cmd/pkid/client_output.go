package main

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/vault/api"
)

// printSecret prints a response the way the vault CLI does: -format=json is
// the whole envelope, indented; the table has lease and token rows first,
// then data keys sorted, durations made human ("24h").
func (c *cli) printSecret(secret *api.Secret, format string) int {
	if format == "json" {
		return c.printJSON(secret)
	}
	c.printWarnings(secret)
	rows := secretRows(secret)
	if len(rows) == 0 {
		return 0
	}
	c.outf("%s", table(append([][]string{{"Key", "Value"}}, rows...)))
	return 0
}

func secretRows(s *api.Secret) [][]string {
	var rows [][]string
	add := func(k string, v any) { rows = append(rows, []string{k, fmt.Sprintf("%v", v)}) }
	if s.LeaseDuration > 0 {
		if s.LeaseID != "" {
			add("lease_id", s.LeaseID)
			add("lease_duration", humanDurationInt(s.LeaseDuration))
			add("lease_renewable", s.Renewable)
		} else {
			add("refresh_interval", humanDurationInt(s.LeaseDuration))
		}
	}
	if a := s.Auth; a != nil {
		add("token", a.ClientToken)
		add("token_accessor", a.Accessor)
		if a.LeaseDuration == 0 {
			add("token_duration", "∞") // a root token: vault prints infinity
		} else {
			add("token_duration", humanDurationInt(a.LeaseDuration))
		}
		add("token_renewable", a.Renewable)
		add("token_policies", fmt.Sprintf("%q", a.TokenPolicies))
		add("identity_policies", fmt.Sprintf("%q", a.IdentityPolicies))
		add("policies", fmt.Sprintf("%q", a.Policies))
		for _, k := range sortedKeys(a.Metadata) {
			add("token_meta_"+k, a.Metadata[k])
		}
	}
	for _, k := range sortedKeys(s.Data) {
		v := s.Data[k]
		if looksLikeDuration(k) {
			v = humanDurationInt(v)
		}
		add(k, v)
	}
	return rows
}

// printResult prints a command's answer: the -field asked for, else the
// whole secret.
func (c *cli) printResult(f *commandFlags, secret *api.Secret) int {
	if f.field != "" {
		return c.printField(secret, f.field, f.format)
	}
	return c.printSecret(secret, f.format)
}

// printWarnings writes the server's warnings to stderr, as vault does, so
// that they never mix into piped output.
func (c *cli) printWarnings(secret *api.Secret) {
	if secret == nil || len(secret.Warnings) == 0 {
		return
	}
	c.errorf("WARNING! The following warnings were returned from Vault:\n")
	for _, w := range secret.Warnings {
		c.errorf("%s\n", wrapPadded("* "+w, 2))
	}
}

// printField prints one field raw, for shell use: with no trailing newline
// unless stdout is a terminal, so `-field=certificate > ca.crt` holds
// exactly the value.
func (c *cli) printField(secret *api.Secret, name, format string) int {
	val := rawField(secret, name)
	if val == nil {
		c.errorf("Field %q not present in secret", name)
		return 1
	}
	var out string
	if format == "json" {
		b, err := json.MarshalIndent(val, "", "  ")
		if err != nil {
			c.errorf("Error formatting output: %s", err)
			return 1
		}
		out = string(b)
	} else {
		out = fmt.Sprintf("%v", val)
	}
	if c.stdoutTTY {
		out += "\n"
	}
	fmt.Fprint(c.stdout, out)
	return 0
}

// rawField finds a field in the envelope, the token block or data, with
// the names the table output uses.
func rawField(s *api.Secret, name string) any {
	if a := s.Auth; a != nil {
		switch name {
		case "token":
			return a.ClientToken
		case "token_accessor":
			return a.Accessor
		case "token_duration":
			return a.LeaseDuration
		case "token_renewable":
			return a.Renewable
		case "token_policies":
			return a.TokenPolicies
		case "identity_policies":
			return a.IdentityPolicies
		case "policies":
			return a.Policies
		}
		return s.Data[name]
	}
	switch name {
	case "lease_duration", "refresh_interval":
		return s.LeaseDuration
	case "lease_id":
		return s.LeaseID
	case "request_id":
		return s.RequestID
	case "renewable":
		return s.Renewable
	case "data":
		if v, ok := s.Data["data"]; ok {
			return v
		}
		return s.Data
	}
	return s.Data[name]
}

func (c *cli) printJSON(v any) int {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		c.errorf("Could not parse output: %s", err)
		return 1
	}
	c.outf("%s", b)
	return 0
}

// table aligns rows into columns as vault's tableOutput does: the first row
// is the header, underlined with dashes; columns are separated by four
// spaces; empty cells read "n/a".
func table(rows [][]string) string {
	if len(rows) == 0 {
		return ""
	}
	underline := make([]string, len(rows[0]))
	for i, h := range rows[0] {
		underline[i] = strings.Repeat("-", len(strings.TrimSpace(h)))
	}
	rows = slices.Insert(slices.Clone(rows), 1, underline)
	var widths []int
	for _, row := range rows {
		for i, cell := range row {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(tableCell(cell)))
		}
	}
	var b strings.Builder
	for r, row := range rows {
		if r > 0 {
			b.WriteByte('\n')
		}
		for i, cell := range row {
			cell = tableCell(cell)
			b.WriteString(cell)
			if i < len(row)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell)) + "    ")
			}
		}
	}
	return b.String()
}

func tableCell(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "n/a"
	}
	return s
}

// looksLikeDuration is vault's rule for data keys printed as durations.
func looksLikeDuration(k string) bool {
	return k == "period" || strings.HasSuffix(k, "_period") ||
		k == "ttl" || strings.HasSuffix(k, "_ttl") ||
		k == "duration" || strings.HasSuffix(k, "_duration") ||
		k == "lease_max" || k == "ttl_max"
}

// humanDurationInt prints integer seconds as a short duration ("768h",
// "1h30m"); other values are returned unchanged.
func humanDurationInt(v any) any {
	var secs int64
	switch n := v.(type) {
	case int:
		secs = int64(n)
	case int64:
		secs = n
	case json.Number:
		i, err := n.Int64()
		if err != nil {
			return v
		}
		secs = i
	default:
		return v
	}
	return humanDuration(time.Duration(secs) * time.Second)
}

func humanDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if i := strings.Index(s, "h0m"); i > 0 {
		s = s[:i+1] + s[i+3:]
	}
	return s
}

// wrapPadded wraps text to vault's 78 columns less pad, indenting every
// line by pad. Like vault (kr/text), it breaks lines for the least
// raggedness: the sum of squared shortfalls of every line but the last.
func wrapPadded(text string, pad int) string {
	const width = 78
	words := strings.Fields(text)
	if len(words) == 0 {
		return strings.Repeat(" ", pad)
	}
	lim := width - pad
	n := len(words)
	// lineLen(i, j) is the length of words[i..j] joined by single spaces.
	prefix := make([]int, n+1)
	for i, w := range words {
		prefix[i+1] = prefix[i] + utf8.RuneCountInString(w)
	}
	lineLen := func(i, j int) int { return prefix[j+1] - prefix[i] + j - i }
	const overlong = 100000 // penalty for a line that cannot be made to fit
	cost, next := make([]int, n+1), make([]int, n)
	for i := n - 1; i >= 0; i-- {
		if lineLen(i, n-1) <= lim || i == n-1 {
			next[i] = n
			continue
		}
		cost[i] = math.MaxInt
		for j := i + 1; j < n; j++ {
			short := lim - lineLen(i, j-1)
			c := short*short + cost[j]
			if short < 0 {
				c += overlong
			}
			if c < cost[i] {
				cost[i], next[i] = c, j
			}
		}
	}
	var lines []string
	indent := strings.Repeat(" ", pad)
	for i := 0; i < n; i = next[i] {
		lines = append(lines, indent+strings.Join(words[i:next[i]], " "))
	}
	return strings.Join(lines, "\n")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
