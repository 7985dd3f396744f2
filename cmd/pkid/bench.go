package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/pkid-dev/pkid/loadtest"
)

const benchUsage = `Usage: pkid bench issue|sign [options]

Load-tests certificate issuance on any Vault-compatible server: -clients
concurrent clients call <mount>/issue/<role> (or, for sign, send P-256 CSRs
made before the run to <mount>/sign/<role>) for -duration after -warmup, and
the run prints certificates per second, latency percentiles, errors, the
host's load average, and with -pid the server's CPU time per certificate.

Example:
    pkid bench issue -role=internal-services -common-name='h{n}.internal.example.com' \
        -clients=16 -duration=30s -pid=$(pgrep -f 'pkid server')

Options:
`

func runBench(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "issue" && args[0] != "sign") {
		fmt.Fprint(stderr, benchUsage)
		return 2
	}
	cfg, asJSON, code, ok := parseBenchFlags(args[0], args[1:], stderr)
	if !ok {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if !asJSON {
		fmt.Fprintf(stdout, "pkid bench %s: %s, %d clients, %s after %s warm-up\n",
			modeName(cfg), cfg.Addr, cfg.Clients, cfg.Duration, cfg.Warmup)
	}
	res, err := loadtest.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(res)
	} else {
		printBench(stdout, res)
	}
	if res.Issued == 0 {
		return 1
	}
	return 0
}

func modeName(cfg loadtest.Config) string {
	if cfg.Sign {
		return "sign"
	}
	return "issue"
}

func parseBenchFlags(mode string, args []string, stderr io.Writer) (cfg loadtest.Config, asJSON bool, code int, ok bool) {
	env := &cli{getenv: os.Getenv}
	fs := flag.NewFlagSet("bench "+mode, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, benchUsage); fs.PrintDefaults() }
	fs.StringVar(&cfg.Addr, "addr", firstNonEmpty(os.Getenv("VAULT_ADDR"), "http://127.0.0.1:8200"), "server address (default $VAULT_ADDR)")
	fs.StringVar(&cfg.Token, "token", env.token(), "token (default $VAULT_TOKEN or ~/.vault-token)")
	fs.StringVar(&cfg.Mount, "mount", "pki_int", "PKI mount path")
	fs.StringVar(&cfg.Role, "role", "", "role to issue against (required)")
	fs.StringVar(&cfg.CommonName, "common-name", "bench.example.com", "common_name; {n} is the request number, {client} the client's")
	fs.StringVar(&cfg.TTL, "ttl", "", "ttl to ask for (default: the role's)")
	fs.StringVar(&cfg.KeyType, "key-type", "", "key_type to send, for roles with key_type any")
	fs.IntVar(&cfg.KeyBits, "key-bits", 0, "key_bits to send")
	fs.Var(mapFlag{&cfg.Params}, "param", "extra body field key=value (repeatable)")
	fs.BoolVar(&cfg.Sign, "csr", mode == "sign", "sign mode: send P-256 CSRs made up front (same as `pkid bench sign`)")
	fs.IntVar(&cfg.Clients, "clients", 16, "concurrent clients")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "measured window")
	fs.DurationVar(&cfg.Warmup, "warmup", time.Second, "unmeasured run before the window")
	fs.IntVar(&cfg.ServerPID, "pid", 0, "server process id on this machine: report its CPU per certificate")
	fs.StringVar(&cfg.CACertFile, "ca-cert", os.Getenv("VAULT_CACERT"), "PEM CA bundle that verifies the server")
	skip, _ := strconv.ParseBool(os.Getenv("VAULT_SKIP_VERIFY"))
	fs.BoolVar(&cfg.Insecure, "insecure", skip, "do not verify the server's TLS certificate")
	fs.BoolVar(&asJSON, "json", false, "print the result as JSON")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return cfg, false, 0, false
		}
		return cfg, false, 2, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "bench: unexpected argument %q (flags only)\n", fs.Arg(0))
		return cfg, false, 2, false
	}
	if cfg.Role == "" {
		fmt.Fprintln(stderr, "bench: -role is required")
		return cfg, false, 2, false
	}
	return cfg, asJSON, 0, true
}

func printBench(w io.Writer, r *loadtest.Result) {
	fmt.Fprintf(w, "path           %s\n", r.Path)
	fmt.Fprintf(w, "certificates   %d in %.2fs = %.1f/s\n", r.Issued, r.Window.Seconds(), r.Rate)
	l := r.Latency
	fmt.Fprintf(w, "latency        p50 %s  p90 %s  p99 %s  max %s\n", ms(l.P50, 1), ms(l.P90, 1), ms(l.P99, 1), ms(l.Max, 1))
	fmt.Fprintf(w, "errors         %d\n", r.Errors)
	for _, s := range r.Samples {
		fmt.Fprintf(w, "               %s\n", s)
	}
	if s := r.Server; s != nil {
		fmt.Fprintf(w, "server CPU     %s/certificate (pid %d: %.2fs in the window)\n", ms(s.PerCert, 3), s.PID, s.CPU.Seconds())
	}
	if c := r.Client; c != nil {
		fmt.Fprintf(w, "client CPU     %s/certificate (this process: %.2fs)\n", ms(c.PerCert, 3), c.CPU.Seconds())
	}
	fmt.Fprintf(w, "load average   %s at start, %s at end\n", r.LoadFrom, r.LoadTo)
}

func ms(d time.Duration, decimals int) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', decimals, 64) + "ms"
}
