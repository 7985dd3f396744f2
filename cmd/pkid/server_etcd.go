package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pkid-dev/pkid/api"
	"github.com/pkid-dev/pkid/storage"
	"github.com/pkid-dev/pkid/storage/etcdstore"
)

// etcdFlags are the -etcd-* flags of `pkid server -storage etcd`.
type etcdFlags struct {
	endpoints string
	prefix    string
	caCert    string
	cert      string
	key       string
}

func (e *etcdFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&e.endpoints, "etcd-endpoints", "", "with -storage etcd: the members' host:port, comma-separated")
	fs.StringVar(&e.prefix, "etcd-prefix", "/pkid", "with -storage etcd: key prefix; replicas of one CA share it")
	fs.StringVar(&e.caCert, "etcd-cacert", "", "with -storage etcd: CA certificate (PEM) that signed the members' certificates")
	fs.StringVar(&e.cert, "etcd-cert", "", "with -storage etcd: client certificate (PEM)")
	fs.StringVar(&e.key, "etcd-key", "", "with -storage etcd: client certificate's key (PEM)")
}

func (e *etcdFlags) list() []string {
	var out []string
	for _, ep := range strings.Split(e.endpoints, ",") {
		if ep = strings.TrimSpace(ep); ep != "" {
			out = append(out, ep)
		}
	}
	return out
}

func (e *etcdFlags) describe() string { return strings.Join(e.list(), ",") + " prefix " + e.prefix }

// checkStorage refuses flags of the engine not chosen, and an etcd engine
// without endpoints.
func (f *serverFlags) checkStorage() error {
	switch f.storage {
	case "bolt":
		if f.etcd.endpoints != "" {
			return errors.New("-etcd-endpoints needs -storage etcd")
		}
		return nil
	case "etcd":
		if len(f.etcd.list()) == 0 {
			return errors.New("-storage etcd needs -etcd-endpoints host:port,...")
		}
		if (f.etcd.cert == "") != (f.etcd.key == "") {
			return errors.New("-etcd-cert and -etcd-key go together")
		}
		if f.seed != 0 {
			return errors.New("-seed is for a single dev server, not for replicas on etcd")
		}
		return nil
	}
	return fmt.Errorf("bad -storage %q: want bolt or etcd", f.storage)
}

// replica is what a server on etcd runs beside the API: the election for
// single-runner work and the watch that keeps its caches current.
type replica struct {
	eng    *etcdstore.Engine
	leader *etcdstore.Leadership
	log    *slog.Logger
}

// openStore opens the store -storage names. On etcd it also starts the
// campaign for the periodic work; the caller starts the watch once the
// API exists.
func (f *serverFlags) openStore(ctx context.Context, dataDir string, log *slog.Logger) (*storage.Store, *replica, error) {
	if f.storage == "etcd" {
		if f.sealPass != "" || f.sealKey != "" || os.Getenv(sealEnv) != "" {
			// seal re-seals by visiting every space, which the etcd
			// engine does not list yet.
			return nil, nil, errors.New("sealing CA keys is not available with -storage etcd yet")
		}
		return f.openEtcd(ctx, log)
	}
	store, err := openStore(f, filepath.Join(dataDir, "pkid.db"), os.Getenv, log)
	if errors.Is(err, storage.ErrLocked) {
		return nil, nil, fmt.Errorf("data folder %s is in use by another pkid process (its lock was not released within %s)", dataDir, f.lockTimeout)
	}
	return store, nil, err
}

func (f *serverFlags) openEtcd(ctx context.Context, log *slog.Logger) (*storage.Store, *replica, error) {
	eng, err := etcdstore.Dial(etcdstore.DialConfig{
		Endpoints: f.etcd.list(), CACert: f.etcd.caCert, Cert: f.etcd.cert, Key: f.etcd.key,
		DialTimeout: 5 * time.Second, Options: etcdstore.Options{Prefix: f.etcd.prefix},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("cannot use etcd at %s: %w", f.etcd.endpoints, err)
	}
	host, _ := os.Hostname()
	id := fmt.Sprintf("%s:%d %s", host, os.Getpid(), f.listen)
	rep := &replica{eng: eng, leader: eng.Elect(ctx, id, 10), log: log}
	return storage.NewStore(eng, "etcd://"+f.etcd.describe()), rep, nil
}

// watch invalidates srv's caches on every change another replica makes,
// until ctx ends. A change seen before the watch started is caught by the
// first, unconditional invalidation.
func (r *replica) watch(ctx context.Context, srv *api.Server) {
	go r.eng.Watch(ctx, func(space, key string) {
		if err := srv.Invalidate(space, key); err != nil {
			r.log.Warn("replica: reload after a change by another replica failed", "space", space, "key", key, "error", err)
		}
	})
	if err := srv.Invalidate("", ""); err != nil {
		r.log.Warn("replica: initial reload failed", "error", err)
	}
}
