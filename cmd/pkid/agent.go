package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/pkid-dev/pkid/agent"
)

const agentUsage = `Usage: pkid agent [options]

Issues a certificate from <mount>/issue/<role> on any Vault-compatible
server, writes the certificate, key (0600) and chain atomically, and renews
it after -renew-at of its lifetime, running -exec after each write. With
-once it issues one certificate and exits. Options may come from a JSON
file (-config); flags given on the command line override it.

Example:
    pkid agent -role=web -common-name=www.example.com -ttl=24h \
        -cert=/etc/tls/cert.pem -key=/etc/tls/key.pem -chain=/etc/tls/chain.pem \
        -exec='systemctl reload nginx'

Options:
`

func runAgent(args []string, stdout, stderr io.Writer) int {
	cfg, code, ok := parseAgentFlags(args, stderr)
	if !ok {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return agentMain(ctx, cfg, slog.New(slog.NewTextHandler(stderr, nil)), stderr)
}

// agentMain runs a parsed configuration; tests call it with their own ctx.
func agentMain(ctx context.Context, cfg agent.Config, log *slog.Logger, stderr io.Writer) int {
	a, err := agent.New(cfg, agent.Deps{Logger: log})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if err := a.Run(ctx); err != nil {
		return 1
	}
	return 0
}

func defineAgentFlags(fs *flag.FlagSet, cfg *agent.Config, configFile *string) {
	fs.StringVar(configFile, "config", "", "JSON config file; command-line flags override it")
	fs.StringVar(&cfg.Address, "address", cfg.Address, "server address (default $VAULT_ADDR)")
	fs.StringVar(&cfg.Token, "token", cfg.Token, "token (default $VAULT_TOKEN or ~/.vault-token unless AppRole files are given)")
	fs.StringVar(&cfg.RoleIDFile, "role-id-file", cfg.RoleIDFile, "file holding the AppRole role_id (log in at auth/approle/login)")
	fs.StringVar(&cfg.SecretIDFile, "secret-id-file", cfg.SecretIDFile, "file holding the AppRole secret_id")
	fs.StringVar(&cfg.Mount, "mount", cfg.Mount, "PKI mount path")
	fs.StringVar(&cfg.Role, "role", cfg.Role, "role to issue against (required)")
	fs.StringVar(&cfg.CommonName, "common-name", cfg.CommonName, "common_name")
	fs.StringVar(&cfg.AltNames, "alt-names", cfg.AltNames, "comma-separated alt_names")
	fs.StringVar(&cfg.TTL, "ttl", cfg.TTL, "ttl to ask for (default: the role's)")
	fs.StringVar(&cfg.CertFile, "cert", cfg.CertFile, "certificate output path (required)")
	fs.StringVar(&cfg.KeyFile, "key", cfg.KeyFile, "private key output path, written 0600 (required)")
	fs.StringVar(&cfg.ChainFile, "chain", cfg.ChainFile, "CA chain output path (default: none)")
	fs.Float64Var(&cfg.RenewAt, "renew-at", cfg.RenewAt, "renew after this fraction of the lifetime")
	fs.StringVar(&cfg.Exec, "exec", cfg.Exec, "command run with sh -c after each write")
	fs.BoolVar(&cfg.Once, "once", cfg.Once, "issue once and exit")
	fs.DurationVar(&cfg.MinBackoff, "min-backoff", cfg.MinBackoff, "first retry delay after a failure")
	fs.DurationVar(&cfg.MaxBackoff, "max-backoff", cfg.MaxBackoff, "longest retry delay")
	fs.IntVar(&cfg.Attempts, "attempts", cfg.Attempts, "tries before -once gives up")
}

// parseAgentFlags parses twice: once to find -config, then again over the
// file's values so that flags on the command line win.
func parseAgentFlags(args []string, stderr io.Writer) (agent.Config, int, bool) {
	defaults := agent.Config{
		Address: os.Getenv("VAULT_ADDR"), Mount: "pki", RenewAt: 0.7,
		MinBackoff: time.Second, MaxBackoff: 5 * time.Minute, Attempts: 5,
	}
	var configFile string
	probe := defaults
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	defineAgentFlags(fs, &probe, &configFile)
	if err := fs.Parse(args); err == nil && configFile != "" {
		if err := agent.LoadConfigFile(configFile, &defaults); err != nil {
			fmt.Fprintln(stderr, err)
			return defaults, 2, false
		}
	}
	cfg := defaults
	fs = flag.NewFlagSet("agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, agentUsage); fs.PrintDefaults() }
	defineAgentFlags(fs, &cfg, &configFile)
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return cfg, 0, false
		}
		return cfg, 2, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "agent: unexpected argument %q (flags only)\n", fs.Arg(0))
		return cfg, 2, false
	}
	if cfg.Token == "" && cfg.RoleIDFile == "" {
		cfg.Token = (&cli{getenv: os.Getenv}).token()
	}
	return cfg, 0, true
}
