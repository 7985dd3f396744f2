package etcd

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/pkid-dev/pkid/api"
	"github.com/pkid-dev/pkid/storage/etcdstore"
)

// replica is one pkid server on the cluster, wired as `pkid server
// -storage etcd` wires it: the election gates periodic work, the watch
// invalidates caches.
type replica struct {
	name   string
	srv    *api.Server
	url    string
	client *vault.Client
	lead   *etcdstore.Leadership
}

func startReplica(t testing.TB, c *cluster, prefix, name string) *replica {
	t.Helper()
	st, eng := c.store(t, prefix)
	ctx, cancel := context.WithCancel(context.Background())
	lead := eng.Elect(ctx, name, 2)
	srv, err := api.New(api.Config{Store: st, PeriodicInterval: time.Second, Leader: lead.Leader})
	if err != nil {
		cancel()
		t.Fatalf("replica %s: %v", name, err)
	}
	go eng.Watch(ctx, func(space, key string) { _ = srv.Invalidate(space, key) })
	if _, err := srv.InitRootToken("root"); err != nil {
		t.Fatalf("replica %s: root token: %v", name, err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		cancel()
		srv.Close()
		<-lead.Done()
	})
	cfg := vault.DefaultConfig()
	cfg.Address, cfg.MaxRetries, cfg.Timeout = hs.URL, 0, 30*time.Second
	client, err := vault.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	client.SetToken("root")
	return &replica{name: name, srv: srv, url: hs.URL, client: client, lead: lead}
}

// setupCA makes an EC root and an EC role "web" on r's pki/ mount.
func setupCA(t testing.TB, r *replica) {
	t.Helper()
	c := r.client
	if err := c.Sys().Mount("pki", &vault.MountInput{Type: "pki", Config: vault.MountConfigInput{MaxLeaseTTL: "87600h"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Logical().Write("pki/root/generate/internal", map[string]any{
		"common_name": "example.com", "ttl": "8760h", "key_type": "ec",
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Logical().Write("pki/roles/web", map[string]any{
		"allowed_domains": "example.com", "allow_subdomains": true, "max_ttl": "72h", "key_type": "ec",
	}); err != nil {
		t.Fatal(err)
	}
}

// waitForCA waits until r serves the CA another replica made: the watch
// has brought the mount and its role over.
func waitForCA(t testing.TB, r *replica) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, err := r.client.Logical().Read("pki/roles/web")
		if err == nil && s != nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica %s never saw the CA: %v", r.name, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func issue(r *replica, cn string) (string, error) {
	s, err := r.client.Logical().Write("pki/issue/web", map[string]any{"common_name": cn, "ttl": "1h"})
	if err != nil {
		return "", err
	}
	return s.Data["serial_number"].(string), nil
}

func revoke(r *replica, serial string) error {
	_, err := r.client.Logical().Write("pki/revoke", map[string]any{"serial_number": serial})
	return err
}

// crl reads r's current complete CRL.
func crl(r *replica) (*x509.RevocationList, error) {
	resp, err := http.Get(r.url + "/v1/pki/crl/pem")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	b, _ := pem.Decode(body)
	if b == nil {
		return nil, fmt.Errorf("crl: %d %q", resp.StatusCode, body)
	}
	return x509.ParseRevocationList(b.Bytes)
}

func serialOf(colon string) *big.Int {
	n, _ := new(big.Int).SetString(strings.ReplaceAll(colon, ":", ""), 16)
	return n
}

// ledger is what the clients were told: acknowledged issues and revokes.
type ledger struct {
	mu      sync.Mutex
	issued  map[string]int // serial → index of the replica that issued it
	revoked map[string]bool
	failed  atomic.Int64
}

// TestReplicasShareOneCA: two replicas issue and revoke concurrently, each
// revoking certificates the other issued, while one etcd member is stopped
// mid-run. No acknowledged certificate is lost, each is readable and
// revocable from the other replica, CRL numbers only go up and the final CRL
// lists every acknowledged revocation.
func TestReplicasShareOneCA(t *testing.T) {
	t.Parallel() // each test has its own cluster on its own ports
	c := startCluster(t)
	rs := []*replica{startReplica(t, c, "/ca", "a"), startReplica(t, c, "/ca", "b")}
	setupCA(t, rs[0])
	waitForCA(t, rs[1])

	const workers, perWorker = 4, 12
	led := &ledger{issued: map[string]int{}, revoked: map[string]bool{}}
	var acked atomic.Int64
	stopOnce := sync.Once{}
	var wg sync.WaitGroup
	for w := range 2 * workers {
		mine, other := rs[w%2], rs[1-w%2]
		wg.Go(func() {
			var lastNumber *big.Int
			for i := range perWorker {
				serial, err := issue(mine, fmt.Sprintf("w%d-%d.example.com", w, i))
				if err != nil {
					led.failed.Add(1) // not acknowledged: nothing promised
					continue
				}
				led.mu.Lock()
				led.issued[serial] = w % 2
				led.mu.Unlock()
				if acked.Add(1) == int64(workers*perWorker/2) {
					stopOnce.Do(func() { c.stop(1) }) // mid-run, possibly the raft leader
				}
				if i%2 == 1 {
					continue
				}
				if err := revoke(other, serial); err != nil {
					led.failed.Add(1)
					continue
				}
				led.mu.Lock()
				led.revoked[serial] = true
				led.mu.Unlock()
				l, err := crl(other)
				if err != nil {
					continue
				}
				if lastNumber != nil && l.Number.Cmp(lastNumber) <= 0 {
					t.Errorf("CRL number went from %v to %v", lastNumber, l.Number)
				}
				lastNumber = l.Number
			}
		})
	}
	wg.Wait()
	t.Logf("acknowledged %d issues, %d revokes; %d requests failed while a member was down",
		len(led.issued), len(led.revoked), led.failed.Load())
	if len(led.issued) < workers*perWorker {
		t.Fatalf("only %d of %d issues acknowledged: the cluster should serve with one member down", len(led.issued), 2*workers*perWorker)
	}
	checkEveryCertificate(t, rs, led)
}

// checkEveryCertificate reads every acknowledged certificate from the
// replica that did not issue it, revokes the rest there, and checks that
// the final CRL, read from either replica, lists them all.
func checkEveryCertificate(t *testing.T, rs []*replica, led *ledger) {
	for serial, by := range led.issued {
		other := rs[1-by]
		s, err := other.client.Logical().Read("pki/cert/" + serial)
		if err != nil || s == nil || s.Data["certificate"] == "" {
			t.Fatalf("certificate %s issued by %s not readable from %s: %v", serial, rs[by].name, other.name, err)
		}
		if !led.revoked[serial] {
			if err := revoke(other, serial); err != nil {
				t.Fatalf("revoke %s on %s: %v", serial, other.name, err)
			}
			led.revoked[serial] = true
		}
	}
	for _, r := range rs {
		l, err := crl(r)
		if err != nil {
			t.Fatal(err)
		}
		on := map[string]bool{}
		for _, e := range l.RevokedCertificateEntries {
			on[e.SerialNumber.String()] = true
		}
		for serial := range led.revoked {
			if !on[serialOf(serial).String()] {
				t.Errorf("CRL %v from %s misses revoked %s", l.Number, r.name, serial)
			}
		}
		// Every revoke rebuilt the CRL once: numbers that never repeat
		// reach at least the count of revocations.
		if l.Number.Int64() < int64(len(led.revoked)) {
			t.Errorf("CRL number %v after %d rebuilding revokes: numbers were reused", l.Number, len(led.revoked))
		}
	}
}

// TestElection: of two replicas exactly one runs the periodic work, and
// when it goes the other takes over.
func TestElection(t *testing.T) {
	c := sharedCluster(t)
	a, b := c.engine(t, "/election"), c.engine(t, "/election")
	t.Cleanup(func() { a.Close(); b.Close() })
	ctxA, cancelA := context.WithCancel(context.Background())
	ctxB, cancelB := context.WithCancel(context.Background())
	defer cancelB()
	la, lb := a.Elect(ctxA, "a", 2), b.Elect(ctxB, "b", 2)
	waitFor(t, "a leader", func() bool { return la.Leader() != lb.Leader() })
	if la.Leader() && lb.Leader() {
		t.Fatal("two leaders")
	}
	first, second, cancelFirst := la, lb, cancelA
	if lb.Leader() {
		first, second, cancelFirst = lb, la, cancelB
	}
	cancelFirst()
	<-first.Done()
	waitFor(t, "the other to take over", second.Leader)
	cancelA()
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestStoppedClusterAnswers503: with every member down, a request that
// needs storage is a 503 with Vault's error body, not a 500 or a hang.
func TestStoppedClusterAnswers503(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	r := startReplica(t, c, "/down", "a")
	setupCA(t, r)
	c.stopAll()
	start := time.Now()
	resp, err := http.Get(r.url + "/v1/pki/cert/ca")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Errors []string `json:"errors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || len(body.Errors) != 1 ||
		!strings.HasPrefix(body.Errors[0], "storage unavailable: ") {
		t.Fatalf("got %d %q, want 503 storage unavailable", resp.StatusCode, body.Errors)
	}
	t.Logf("503 after %v: %s", time.Since(start).Round(time.Millisecond), body.Errors[0])
}
