package etcd

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"

	"github.com/pkid-dev/pkid/storage"
	"github.com/pkid-dev/pkid/storage/etcdstore"
)

// cluster is a three-member etcd cluster running in the test process.
type cluster struct {
	members   []*embed.Etcd
	endpoints []string // client host:port of each member
	stopped   []bool
	mu        sync.Mutex
}

// startCluster starts three members on free loopback ports and waits for
// the cluster to elect a leader. It stops when the test ends.
func startCluster(t testing.TB) *cluster {
	t.Helper()
	c, err := startClusterIn(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.stopAll)
	return c
}

// startClusterIn starts the cluster with its data under dir.
func startClusterIn(dir string) (*cluster, error) {
	const n = 3
	cfgs := make([]*embed.Config, n)
	var initial []string
	for i := range n {
		peer, err := freeURL()
		if err != nil {
			return nil, err
		}
		client, err := freeURL()
		if err != nil {
			return nil, err
		}
		cfg := embed.NewConfig()
		cfg.Name = fmt.Sprintf("m%d", i)
		cfg.Dir = filepath.Join(dir, cfg.Name)
		cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
		cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
		cfg.InitialClusterToken = "pkid-test"
		cfg.LogLevel = "error"
		cfg.LogOutputs = []string{cfg.Dir + ".log"}
		// Tests want consistency across members, not durability against
		// power loss; a tidy may delete many records in one transaction.
		cfg.UnsafeNoFsync = true
		cfg.MaxTxnOps = 4096
		cfg.TickMs, cfg.ElectionMs = 50, 500
		cfgs[i] = cfg
		initial = append(initial, cfg.Name+"="+peer.String())
	}
	c := &cluster{stopped: make([]bool, n), members: make([]*embed.Etcd, n)}
	for _, cfg := range cfgs {
		cfg.InitialCluster = strings.Join(initial, ",")
		c.endpoints = append(c.endpoints, cfg.ListenClientUrls[0].Host)
	}
	// All at once: a member waits for its peers before it is ready.
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, cfg := range cfgs {
		wg.Go(func() { c.members[i], errs[i] = embed.StartEtcd(cfg) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			c.stopAll()
			return nil, fmt.Errorf("start etcd member %d: %w", i, err)
		}
	}
	for i, m := range c.members {
		select {
		case <-m.Server.ReadyNotify():
		case <-time.After(20 * time.Second):
			c.stopAll()
			return nil, fmt.Errorf("etcd member %d not ready", i)
		}
	}
	return c, nil
}

// freeURL is a loopback URL on a port nobody listens on.
func freeURL() (url.URL, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return url.URL{}, err
	}
	defer ln.Close()
	return url.URL{Scheme: "http", Host: ln.Addr().String()}, nil
}

// stop stops member i (which may be the raft leader).
func (c *cluster) stop(i int) { c.stopMember(i) }

func (c *cluster) stopMember(i int) {
	c.mu.Lock()
	m := c.members[i]
	if m == nil || c.stopped[i] {
		c.mu.Unlock()
		return
	}
	c.stopped[i] = true
	c.mu.Unlock()
	m.Close()
}

// stopAll stops every member at once: one by one, the last ones wait out
// election timeouts for a quorum that is gone.
func (c *cluster) stopAll() {
	var wg sync.WaitGroup
	for i := range c.members {
		wg.Go(func() { c.stopMember(i) })
	}
	wg.Wait()
}

// engine dials the cluster under prefix with a short timeout, so a test
// of an unreachable cluster is quick.
func (c *cluster) engine(t testing.TB, prefix string) *etcdstore.Engine {
	t.Helper()
	e, err := etcdstore.Dial(etcdstore.DialConfig{
		Endpoints: c.endpoints, DialTimeout: 5 * time.Second,
		Options: etcdstore.Options{Prefix: prefix, Timeout: 3 * time.Second, MaxCompares: 4096},
	})
	if err != nil {
		t.Fatalf("dial etcd: %v", err)
	}
	return e
}

// store is a storage.Store over a fresh engine, closed when the test ends.
func (c *cluster) store(t testing.TB, prefix string) (*storage.Store, *etcdstore.Engine) {
	t.Helper()
	e := c.engine(t, prefix)
	st := storage.NewStore(e, "etcd://"+strings.Join(c.endpoints, ",")+prefix)
	t.Cleanup(func() { _ = st.Close() })
	return st, e
}
