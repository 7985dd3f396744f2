package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/pkid-dev/pkid/api"
	"github.com/pkid-dev/pkid/clock"
	"github.com/pkid-dev/pkid/seed"
)

type serverFlags struct {
	dev         bool
	devListen   string
	devRootID   string
	data        string
	listen      string
	tlsCert     string
	tlsKey      string
	logFormat   string
	logLevel    string
	version     string
	defaultTTL  time.Duration
	maxTTL      time.Duration
	maxRequest  int64
	lockTimeout time.Duration
	testDouble  bool
	seed        uint64
	seedTime    string
	sealPass    string
	sealKey     string
	storage     string // bolt or etcd
	etcd        etcdFlags
}

func parseServerFlags(args []string, stderr io.Writer) (*serverFlags, error) {
	f := &serverFlags{}
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&f.dev, "dev", false, "run a dev server: data in a fresh temporary folder (or -data), root token printed")
	fs.StringVar(&f.devListen, "dev-listen-address", "127.0.0.1:8200", "address a dev server listens on")
	fs.StringVar(&f.devRootID, "dev-root-token-id", "", "root token of a dev server (default: random)")
	fs.StringVar(&f.data, "data", "", "data folder (required without -dev)")
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8200", "address to listen on")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "TLS certificate file (PEM)")
	fs.StringVar(&f.tlsKey, "tls-key", "", "TLS private key file (PEM)")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&f.version, "vault-version", api.DefaultVaultVersion, "Vault version reported to clients")
	fs.DurationVar(&f.defaultTTL, "default-lease-ttl", 0, "system default lease TTL (default 768h)")
	fs.DurationVar(&f.maxTTL, "max-lease-ttl", 0, "system max lease TTL (default 768h)")
	fs.Int64Var(&f.maxRequest, "max-request-size", 0, "request body limit in bytes (default 32 MiB)")
	fs.DurationVar(&f.lockTimeout, "lock-timeout", time.Second, "how long to wait for the data folder's lock")
	fs.BoolVar(&f.testDouble, "test-double", false, "enable sys/pkid/clock (movable clock) and sys/pkid/faults (injected faults)")
	fs.Uint64Var(&f.seed, "seed", 0, "dev only: derive keys, serials and ids from this seed (not 0), with the clock stopped, so the same requests give the same bytes")
	fs.StringVar(&f.seedTime, "seed-time", "", "with -seed: the stopped clock's time, RFC 3339 (default: the start of today, UTC)")
	fs.StringVar(&f.sealPass, "seal-passphrase-file", "", "seal CA private keys at rest with the passphrase in this file (argon2id); or set "+sealEnv)
	fs.StringVar(&f.sealKey, "seal-key-file", "", "seal CA private keys at rest with this file of 32 or more random bytes (HKDF-SHA256)")
	fs.StringVar(&f.storage, "storage", "bolt", "storage engine: bolt (one file under -data) or etcd (replicas sharing one CA)")
	f.etcd.register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if err := f.checkStorage(); err != nil {
		return nil, err
	}
	if !f.dev && f.data == "" && f.storage == "bolt" {
		return nil, errors.New("-data DIR is required (or use -dev for a throwaway dev server)")
	}
	if f.seed != 0 && !f.dev {
		return nil, errors.New("-seed makes every key predictable and is for dev servers only: add -dev")
	}
	if f.seedTime != "" && f.seed == 0 {
		return nil, errors.New("-seed-time needs -seed")
	}
	if f.sealPass != "" && f.sealKey != "" {
		return nil, errors.New("-seal-passphrase-file and -seal-key-file exclude each other: give one")
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return nil, errors.New("-tls-cert and -tls-key go together")
	}
	return f, nil
}

func newLogger(f *serverFlags, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return nil, fmt.Errorf("bad -log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch f.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("bad -log-format %q: want text or json", f.logFormat)
}

func runServer(args []string, stdout, stderr io.Writer) int {
	f, err := parseServerFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "pkid server:", err)
		return 2
	}
	log, err := newLogger(f, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "pkid server:", err)
		return 2
	}
	tuneGC(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, f, log, stdout); err != nil {
		fmt.Fprintln(stderr, "pkid server:", err)
		return 1
	}
	return 0
}

// serve runs the server until ctx ends, then drains in-flight requests and
// closes the store cleanly.
func serve(ctx context.Context, f *serverFlags, log *slog.Logger, stdout io.Writer) error {
	dataDir, cleanup, err := dataFolder(f)
	if err != nil {
		return err
	}
	defer cleanup()
	store, rep, err := f.openStore(ctx, dataDir, log)
	if err != nil {
		return err
	}
	defer store.Close()
	cfg := api.Config{
		Store: store, Logger: log, Version: f.version, DefaultLeaseTTL: f.defaultTTL,
		MaxLeaseTTL: f.maxTTL, MaxRequestSize: f.maxRequest, TestDouble: f.testDouble,
	}
	if rep != nil {
		cfg.Leader = rep.leader.Leader
	}
	if err := f.applySeed(&cfg, time.Now()); err != nil {
		return err
	}
	srv, err := api.New(cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	if rep != nil {
		rep.watch(ctx, srv)
	}
	rootToken, err := srv.InitRootToken(f.devRootID)
	if err != nil {
		return err
	}
	addr := f.listen
	if f.dev {
		addr = f.devListen
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	scheme := "http"
	if f.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(f.tlsCert, f.tlsKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("load TLS key pair: %w", err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		scheme = "https"
	}
	hs := newHTTPServer(srv, log)
	if f.storage == "etcd" {
		dataDir = "etcd " + f.etcd.describe()
	}
	printBanner(stdout, f, scheme+"://"+ln.Addr().String(), dataDir, rootToken)
	log.Info("pkid listening", "addr", ln.Addr().String(), "data", dataDir, "dev", f.dev)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: draining in-flight requests")
	shutCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutCtx); err != nil {
		log.Warn("shutdown", "error", err)
	}
	return nil
}

// applySeed puts a server in seed mode: repeatable randomness and a clock
// stopped at -seed-time, which only sys/pkid/clock moves.
func (f *serverFlags) applySeed(cfg *api.Config, now time.Time) error {
	if f.seed == 0 {
		return nil
	}
	at := seed.StartTime(now)
	if f.seedTime != "" {
		t, err := time.Parse(time.RFC3339, f.seedTime)
		if err != nil {
			return fmt.Errorf("bad -seed-time: %w", err)
		}
		at = t
	}
	cfg.Seed = seed.New(f.seed)
	cfg.Clock = clock.NewFake(at)
	return nil
}

// newHTTPServer serves h with the timeouts of Vault's TCP listener
// defaults (http_read_header_timeout 10s, http_read_timeout 30s,
// http_idle_timeout 5m): a client that trickles its request or leaves its
// keep-alive connection idle cannot hold a connection forever. Handlers
// themselves are not timed (no write timeout), as in Vault.
func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       5 * time.Minute,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// dataFolder returns the folder to keep data in: -data, or for a dev server
// without it a fresh temporary folder removed at exit.
func dataFolder(f *serverFlags) (string, func(), error) {
	if f.data != "" {
		if err := os.MkdirAll(f.data, 0o700); err != nil {
			return "", nil, fmt.Errorf("create data folder: %w", err)
		}
		return f.data, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "pkid-dev-")
	if err != nil {
		return "", nil, fmt.Errorf("create dev data folder: %w", err)
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

func printBanner(w io.Writer, f *serverFlags, addr, dataDir, rootToken string) {
	mode := "persistent"
	if f.dev {
		mode = "dev"
	}
	fmt.Fprintf(w, "==> pkid %s server (Vault API %s) at %s\n", mode, f.version, addr)
	fmt.Fprintf(w, "    data: %s\n\n", dataDir)
	if f.dev {
		fmt.Fprintln(w, "WARNING! dev mode is enabled! The data folder is temporary unless -data was given.")
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "You may need to set the following environment variables:")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "    $ export VAULT_ADDR='%s'\n", addr)
	if rootToken != "" {
		fmt.Fprintf(w, "    $ export VAULT_TOKEN='%s'\n\n", rootToken)
		fmt.Fprintf(w, "Root Token: %s\n", rootToken)
		if !f.dev {
			fmt.Fprintln(w, "\nThis root token is shown once: pkid stores only its hash.")
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, bannerEnd)
}

// bannerEnd closes the start-up banner, as Vault's dev server closes its.
const bannerEnd = "==> pkid server started! Log data will stream in below:"
