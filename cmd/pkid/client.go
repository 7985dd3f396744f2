package main

// The pkid client is a work-alike of the vault CLI's everyday commands, so
// that a walkthrough written for `vault` runs with `pkid` in its place. It
// talks to the server only through the HTTP API, using HashiCorp's own Go
// client (github.com/hashicorp/vault/api), which the vault CLI is built on:
// paths, verbs, headers and bodies on the wire are therefore the vault CLI's.
// What is matched here is the CLI's side: argument parsing, the key=value
// body builder, output formats, messages and exit codes (1 for usage
// mistakes, 2 for errors from the server and "No value found").

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/pkid-dev/pkid/field"
)

// defaultAddress is the vault CLI's default; `pkid server -dev` prints the
// VAULT_ADDR to use instead (http://127.0.0.1:8200).
const defaultAddress = "https://127.0.0.1:8200"

// cli carries what a client command touches outside the process, so tests
// can run commands with their own environment and streams.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// stdoutTTY: -field output ends with a newline only on a terminal, so
	// that `pkid read -field=certificate ... > ca.crt` writes the bare value
	// as vault does.
	stdoutTTY bool
	// format is the output format for the whole invocation: a -format flag
	// anywhere on the command line, else $VAULT_FORMAT, else "table".
	format string
}

func runClient(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv, stdoutTTY: isTerminal(stdout)}
	return c.run(args)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (c *cli) run(args []string) int {
	args = c.takeGlobalFlags(args)
	switch {
	case len(args) == 0:
		usage(c.stderr)
		return 1
	case !slices.Contains([]string{"table", "json", "raw"}, c.format):
		c.errorf("Invalid output format: %s", c.format)
		return 1
	}
	switch args[0] {
	case "read":
		return c.read(args[1:])
	case "write":
		return c.write(args[1:])
	case "list":
		return c.list(args[1:])
	case "delete":
		return c.delete(args[1:])
	case "patch":
		return c.patch(args[1:])
	case "status":
		return c.status(args[1:])
	case "secrets":
		return c.group("secrets", args[1:], map[string]func([]string) int{
			"enable": c.secretsEnable, "disable": c.secretsDisable, "list": c.secretsList, "tune": c.secretsTune,
		})
	case "policy":
		return c.group("policy", args[1:], map[string]func([]string) int{
			"write": c.policyWrite, "read": c.policyRead, "delete": c.policyDelete, "list": c.policyList,
		})
	case "audit":
		return c.group("audit", args[1:], map[string]func([]string) int{
			"enable": c.auditEnable, "disable": c.auditDisable, "list": c.auditList,
		})
	case "auth":
		return c.group("auth", args[1:], map[string]func([]string) int{
			"enable": c.authEnable, "disable": c.authDisable, "list": c.authList,
		})
	case "token":
		return c.group("token", args[1:], map[string]func([]string) int{
			"create": c.tokenCreate, "lookup": c.tokenLookup, "revoke": c.tokenRevoke,
		})
	}
	c.errorf("unknown command %q (see pkid help)", args[0])
	return 1
}

// takeGlobalFlags removes -format=X (also --format=X and "-format X")
// from anywhere before "--" and makes it the invocation's format: vault's
// "global flags", which work after positional arguments too, so that
// `vault list pki/certs -format=json` prints JSON.
func (c *cli) takeGlobalFlags(args []string) []string {
	var rest []string
	format := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		switch {
		case strings.HasPrefix(a, "-format=") || strings.HasPrefix(a, "--format="):
			_, format, _ = strings.Cut(a, "=")
		case (a == "-format" || a == "--format") && i+1 < len(args):
			i++
			format = args[i]
		default:
			rest = append(rest, a)
		}
	}
	c.format = strings.ToLower(firstNonEmpty(format, c.getenv("VAULT_FORMAT"), "table"))
	return rest
}

func (c *cli) group(name string, args []string, subs map[string]func([]string) int) int {
	if len(args) > 0 {
		if sub, ok := subs[args[0]]; ok {
			return sub(args[1:])
		}
		c.errorf("unknown command \"%s %s\"", name, args[0])
		return 1
	}
	names := make([]string, 0, len(subs))
	for n := range subs {
		names = append(names, n)
	}
	slices.Sort(names)
	c.errorf("Usage: pkid %s <subcommand> [options] [args]\n\nSubcommands: %s", name, strings.Join(names, ", "))
	return 1
}

func (c *cli) errorf(format string, args ...any) {
	fmt.Fprintf(c.stderr, format+"\n", args...)
}

func (c *cli) outf(format string, args ...any) {
	fmt.Fprintf(c.stdout, format+"\n", args...)
}

// commandFlags are the flags every client command accepts: the server to
// talk to and, for commands that print secrets, the output format.
type commandFlags struct {
	*flag.FlagSet
	address       string
	caCert        string
	tlsSkipVerify bool
	format        string
	field         string
}

type outputKind int

const (
	noOutput    outputKind = iota // the command prints only messages
	formatOnly                    // -format
	formatField                   // -format and -field
)

func (c *cli) flags(name string, out outputKind) *commandFlags {
	f := &commandFlags{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError)}
	f.SetOutput(c.stderr)
	f.StringVar(&f.address, "address", "", "address of the server (default $VAULT_ADDR or "+defaultAddress+")")
	f.StringVar(&f.caCert, "ca-cert", "", "PEM file of CA certificates that verify the server (default $VAULT_CACERT)")
	f.BoolVar(&f.tlsSkipVerify, "tls-skip-verify", false, "do not verify the server's certificate (default $VAULT_SKIP_VERIFY)")
	f.format = firstNonEmpty(c.format, "table")
	if out >= formatOnly {
		// Never set from here: takeGlobalFlags took it off the command line;
		// registered for -help.
		f.StringVar(&f.format, "format", f.format, "output format: table, json or raw (raw: read only)")
	}
	if out >= formatField {
		f.StringVar(&f.field, "field", "", "print only this field, raw")
	}
	return f
}

// parse parses args; ok false means the caller returns code. Like vault,
// flags come before positional arguments.
func (f *commandFlags) parse(args []string, allowRaw bool) (code int, ok bool) {
	err := f.Parse(args)
	if w := trailingFlags(f.Args()); w != nil && f.format == "table" {
		fmt.Fprintf(f.Output(), "Command flags must be provided before positional arguments. "+
			"The following arguments will not be parsed as flags: [%s]\n", strings.Join(w, ","))
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 1, false
	}
	switch f.format {
	case "", "table", "json":
	case "raw":
		if !allowRaw {
			fmt.Fprintln(f.Output(), "This command does not support the -format=raw option; only `pkid read` does.")
			return 1, false
		}
	default:
		fmt.Fprintf(f.Output(), "Invalid output format: %s\n", f.format)
		return 1, false
	}
	return 0, true
}

// trailingFlags are the arguments after the first positional one that look
// like flags: Go's flag package (and so vault) takes them as arguments, and
// vault warns about them ("-" is stdin, not a flag).
func trailingFlags(args []string) []string {
	var flags []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") && a != "-" {
			flags = append(flags, a)
		}
	}
	return flags
}

// start begins a command that has nothing to check between its arguments
// and the server: it parses args, checks the positional argument count and
// builds the API client, reporting any failure; ok false means the caller
// returns code.
func (c *cli) start(f *commandFlags, args []string, min, max int) (client *api.Client, code int, ok bool) {
	if code, ok := f.parse(args, false); !ok {
		return nil, code, false
	}
	if !c.nargs(f.Args(), min, max) {
		return nil, 1, false
	}
	if client, ok = c.connect(f); !ok {
		return nil, 2, false
	}
	return client, 0, true
}

// connect is client for commands: it reports the failure itself.
func (c *cli) connect(f *commandFlags) (*api.Client, bool) {
	client, err := c.client(f)
	if err != nil {
		c.errorf("%s", err)
		return nil, false
	}
	return client, true
}

// nargs checks the positional argument count with vault's messages.
func (c *cli) nargs(args []string, min, max int) bool {
	switch {
	case len(args) < min:
		c.errorf("Not enough arguments (expected %s, got %d)", countRange(min, max), len(args))
		return false
	case max >= 0 && len(args) > max:
		c.errorf("Too many arguments (expected %s, got %d)", countRange(min, max), len(args))
		return false
	}
	return true
}

func countRange(min, max int) string {
	switch {
	case min == max:
		return strconv.Itoa(min)
	case max < 0:
		return "at least " + strconv.Itoa(min)
	}
	return fmt.Sprintf("%d-%d", min, max)
}

// client builds the API client the way the vault CLI does: VAULT_ADDR,
// VAULT_TOKEN or else the token helper's file ~/.vault-token, VAULT_CACERT,
// VAULT_SKIP_VERIFY, VAULT_MAX_RETRIES, VAULT_CLIENT_TIMEOUT, VAULT_NAMESPACE.
func (c *cli) client(f *commandFlags) (*api.Client, error) {
	cfg := api.DefaultConfig()
	cfg.Address = firstNonEmpty(f.address, c.getenv("VAULT_ADDR"), defaultAddress)
	tls := &api.TLSConfig{CACert: firstNonEmpty(f.caCert, c.getenv("VAULT_CACERT")), Insecure: f.tlsSkipVerify}
	if v := c.getenv("VAULT_SKIP_VERIFY"); v != "" && !tls.Insecure {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("could not parse VAULT_SKIP_VERIFY: %w", err)
		}
		tls.Insecure = b
	}
	if err := cfg.ConfigureTLS(tls); err != nil {
		return nil, err
	}
	if v := c.getenv("VAULT_MAX_RETRIES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("could not parse VAULT_MAX_RETRIES: %w", err)
		}
		cfg.MaxRetries = n
	}
	if v := c.getenv("VAULT_CLIENT_TIMEOUT"); v != "" {
		d, err := field.ParseDuration(v)
		if err != nil {
			return nil, fmt.Errorf("could not parse VAULT_CLIENT_TIMEOUT: %w", err)
		}
		cfg.Timeout = d
	}
	client, err := api.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	// NewClient also reads the process environment; what this command was
	// given wins, including an empty token.
	client.SetToken(c.token())
	if ns := c.getenv("VAULT_NAMESPACE"); ns != "" {
		client.SetNamespace(ns)
	} else {
		client.ClearNamespace()
	}
	return client, nil
}

func (c *cli) token() string {
	if t := c.getenv("VAULT_TOKEN"); t != "" {
		return t
	}
	home := c.getenv("HOME")
	if home == "" {
		return ""
	}
	raw, err := os.ReadFile(filepath.Join(home, ".vault-token"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(raw))
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// sanitizePath trims spaces and leading and trailing slashes, as vault does
// before every request.
func sanitizePath(p string) string {
	return strings.Trim(strings.TrimSpace(p), "/")
}

// mountPath is how vault names a mount in requests and messages: "pki/".
func mountPath(p string) string {
	p = sanitizePath(p)
	if p == "" {
		return ""
	}
	return p + "/"
}

// durationFlag is a vault duration flag: Go durations, bare seconds, "Nd",
// and "system" for "back to the system default" (sent as "system").
type durationFlag struct{ d *time.Duration }

func (f durationFlag) String() string {
	if f.d == nil {
		return ""
	}
	return f.d.String()
}

func (f durationFlag) Set(s string) error {
	if strings.TrimSpace(s) == "system" {
		*f.d = -1
		return nil
	}
	d, err := field.ParseDuration(s)
	if err != nil {
		return err
	}
	*f.d = d
	return nil
}

// ttlToAPI is how vault's tune command sends a TTL flag: unset as "",
// "system" as "system", otherwise Go's duration string.
func ttlToAPI(d time.Duration) string {
	switch {
	case d == 0:
		return ""
	case d < 0:
		return "system"
	}
	return d.String()
}

// listFlag collects a repeatable flag (-policy=a -policy=b).
type listFlag struct{ list *[]string }

func (f listFlag) String() string {
	if f.list == nil {
		return ""
	}
	return strings.Join(*f.list, ",")
}

func (f listFlag) Set(s string) error {
	*f.list = append(*f.list, strings.TrimSpace(s))
	return nil
}

// mapFlag collects a repeatable key=value flag (-options=version=2).
type mapFlag struct{ m *map[string]string }

func (f mapFlag) String() string { return "" }

func (f mapFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("missing = in KV pair: %q", s)
	}
	if *f.m == nil {
		*f.m = map[string]string{}
	}
	(*f.m)[k] = v
	return nil
}
