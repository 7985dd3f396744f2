package audit

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pkid-dev/pkid/clock"
	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/storage"
)

// keyPrefix is where enabled devices are remembered in the broker's space.
const keyPrefix = "audit/"

// record is a persisted device: its config and its salt, so hashes stay
// comparable across restarts (Vault keeps the salt in the device's view).
type record struct {
	Version int    `json:"version"`
	Path    string `json:"path"`
	Config  Config `json:"config"`
	Salt    string `json:"salt"` // hex
}

// Options configure a Broker.
type Options struct {
	// Space persists the device table; nil keeps it in memory only.
	Space *storage.Space
	// Clock stamps entries. Nil means the real clock.
	Clock clock.Clock
	// Rand makes device salts (crypto/rand in production). Required.
	Rand io.Reader
	// Logger receives device failures. Nil discards.
	Logger *slog.Logger
	// Stdout is where file_path=stdout writes. Nil means os.Stdout.
	Stdout io.Writer
}

// Broker fans entries out to the enabled devices.
type Broker struct {
	opts Options

	mu      sync.RWMutex
	devices map[string]*device // by path, "file/"
}

// NewBroker returns a broker with no devices. Call Restore to re-enable the
// devices a previous run persisted.
func NewBroker(opts Options) *Broker {
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	return &Broker{opts: opts, devices: map[string]*device{}}
}

// NormalizePath gives a device path its canonical form, "name/".
func NormalizePath(path string) string {
	return strings.Trim(path, "/") + "/"
}

// Enable creates, tests and registers a device at path (sys/audit/:path).
// Unless the option skip_test is "true" a probe entry is written first, and
// a device that cannot write it is refused, as Vault refuses it.
func (b *Broker) Enable(path string, cfg Config) error {
	path = NormalizePath(path)
	if path == "/" {
		return errs.Invalidf("missing path")
	}
	if cfg.Options == nil {
		cfg.Options = map[string]string{}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for existing := range b.devices {
		if strings.HasPrefix(existing, path) || strings.HasPrefix(path, existing) {
			return errs.Invalidf("path already in use")
		}
	}
	salt, err := b.newSalt()
	if err != nil {
		return err
	}
	d, err := newDevice(path, cfg, salt, b.opts.Stdout)
	if err != nil {
		return err
	}
	if cfg.Options["skip_test"] != "true" {
		if err := b.probe(d); err != nil {
			d.sink.close()
			return errs.Wrap(errs.Invalid, err, fmt.Sprintf("audit backend failed test message: %v", err))
		}
	}
	if err := b.persist(path, cfg, salt); err != nil {
		d.sink.close()
		return err
	}
	b.devices[path] = d
	b.opts.Logger.Info("enabled audit backend", "path", path, "type", cfg.Type)
	return nil
}

// probe writes Vault's test entry: an update of sys/audit/test.
func (b *Broker) probe(d *device) error {
	in := &Input{Request: &Request{ID: "audit-test-probe", Operation: "update", Path: "sys/audit/test"}}
	line, err := formatRequest(d.format, d.hash, in, b.opts.Clock.Now())
	if err != nil {
		return err
	}
	return d.sink.write(line)
}

// newSalt makes a device salt in the form Vault uses, a UUID string.
func (b *Broker) newSalt() ([]byte, error) {
	if b.opts.Rand == nil {
		return nil, errors.New("audit: broker has no random source")
	}
	var u [16]byte
	if _, err := io.ReadFull(b.opts.Rand, u[:]); err != nil {
		return nil, fmt.Errorf("audit: salt: %w", err)
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	h := hex.EncodeToString(u[:])
	return []byte(h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]), nil
}

func (b *Broker) persist(path string, cfg Config, salt []byte) error {
	if b.opts.Space == nil {
		return nil
	}
	rec := record{Version: 1, Path: path, Config: cfg, Salt: hex.EncodeToString(salt)}
	err := b.opts.Space.Update(func(tx storage.Tx) error {
		return storage.PutJSON(tx, keyPrefix+path, rec)
	})
	if err != nil {
		return fmt.Errorf("audit: failed to update audit table: %w", err)
	}
	return nil
}

// Restore re-enables the persisted devices, with their salts. A device that
// cannot be opened is an error, as Vault refuses to unseal without its
// audit devices rather than run unaudited.
func (b *Broker) Restore() error {
	if b.opts.Space == nil {
		return nil
	}
	var recs []record
	err := b.opts.Space.View(func(tx storage.Tx) error {
		return tx.Scan(keyPrefix, "", func(_ string, v []byte) error {
			var rec record
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			recs = append(recs, rec)
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("audit: load audit table: %w", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, rec := range recs {
		salt, err := hex.DecodeString(rec.Salt)
		if err != nil {
			return fmt.Errorf("audit: device %s: bad salt: %w", rec.Path, err)
		}
		d, err := newDevice(rec.Path, rec.Config, salt, b.opts.Stdout)
		if err != nil {
			return fmt.Errorf("audit: restore device %s: %w", rec.Path, err)
		}
		b.devices[rec.Path] = d
	}
	return nil
}

// Disable removes the device at path. Disabling nothing is not an error.
func (b *Broker) Disable(path string) error {
	path = NormalizePath(path)
	b.mu.Lock()
	defer b.mu.Unlock()
	d, ok := b.devices[path]
	if !ok {
		return nil
	}
	if b.opts.Space != nil {
		err := b.opts.Space.Update(func(tx storage.Tx) error { return tx.Delete(keyPrefix + path) })
		if err != nil {
			return fmt.Errorf("audit: failed to update audit table: %w", err)
		}
	}
	delete(b.devices, path)
	if err := d.sink.close(); err != nil {
		b.opts.Logger.Warn("closing audit device", "path", path, "error", err)
	}
	return nil
}

// List returns the enabled devices by path.
func (b *Broker) List() map[string]Info {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make(map[string]Info, len(b.devices))
	for p, d := range b.devices {
		out[p] = d.info()
	}
	return out
}

// Enabled reports whether any device is enabled.
func (b *Broker) Enabled() bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.devices) > 0
}

// Hash returns what the device at path logs for input
// (sys/audit-hash/:path).
func (b *Broker) Hash(path, input string) (string, error) {
	path = NormalizePath(path)
	b.mu.RLock()
	d, ok := b.devices[path]
	b.mu.RUnlock()
	if !ok {
		return "", errs.Invalidf("unknown audit backend %q", path)
	}
	return d.hash.Hash(input), nil
}

// Reopen reopens every device's file (log rotation; Vault does it on
// SIGHUP). It returns the first failure; the other devices are reopened.
func (b *Broker) Reopen() error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	var first error
	for _, p := range b.sortedPaths() {
		if err := b.devices[p].sink.reopen(); err != nil && first == nil {
			first = fmt.Errorf("audit: reopen %s: %w", p, err)
		}
	}
	return first
}

// Close closes every device.
func (b *Broker) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	var first error
	for p, d := range b.devices {
		if err := d.sink.close(); err != nil && first == nil {
			first = err
		}
		delete(b.devices, p)
	}
	return first
}

func (b *Broker) sortedPaths() []string {
	paths := make([]string, 0, len(b.devices))
	for p := range b.devices {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths
}

// ErrNotRecorded is returned when devices are enabled but none recorded an
// entry; the HTTP layer then fails the request with 500 "internal error",
// as Vault does.
var ErrNotRecorded = errors.New("no audit backend succeeded in logging the entry")

// LogRequest records in's request entry on every device. It fails only when
// every enabled device failed.
func (b *Broker) LogRequest(ctx context.Context, in *Input) error {
	return b.log(ctx, in, "request", formatRequest)
}

// LogResponse records in's response entry on every device. It fails only
// when every enabled device failed.
func (b *Broker) LogResponse(ctx context.Context, in *Input) error {
	return b.log(ctx, in, "response", formatResponse)
}

type formatFunc func(formatConfig, hasher, *Input, time.Time) ([]byte, error)

// log writes to every device even when ctx is done: a request that reached
// the handler is recorded whether or not its client is still there.
func (b *Broker) log(_ context.Context, in *Input, kind string, format formatFunc) error {
	if in == nil || in.Request == nil {
		return fmt.Errorf("audit: %s entry without a request", kind)
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if len(b.devices) == 0 {
		return nil
	}
	now := b.opts.Clock.Now()
	ok := 0
	for _, p := range b.sortedPaths() {
		d := b.devices[p]
		line, err := format(d.format, d.hash, in, now)
		if err == nil {
			err = d.sink.write(line)
		}
		if err != nil {
			b.opts.Logger.Error("audit device failed", "path", p, "entry", kind, "request_path", in.Request.Path, "error", err)
			continue
		}
		ok++
	}
	if ok == 0 {
		return fmt.Errorf("%w (%s of %s)", ErrNotRecorded, kind, in.Request.Path)
	}
	return nil
}
