package audit

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/pkid-dev/pkid/errs"
)

// Config is a device as sys/audit/:path enables it.
type Config struct {
	Type        string            `json:"type"`
	Description string            `json:"description"`
	Options     map[string]string `json:"options"`
	Local       bool              `json:"local"`
}

// Info is a device as sys/audit lists it.
type Info struct {
	Path        string            `json:"path"`
	Type        string            `json:"type"`
	Description string            `json:"description"`
	Options     map[string]string `json:"options"`
	Local       bool              `json:"local"`
}

// sink is where a device's lines go.
type sink interface {
	// write writes one whole line.
	write(line []byte) error
	// reopen closes and reopens the destination (log rotation, SIGHUP).
	reopen() error
	close() error
}

// device is one enabled audit device.
type device struct {
	path   string // "file/", with the trailing slash
	config Config
	format formatConfig
	hash   hasher
	sink   sink
}

// The special file_path values of Vault's file device.
const (
	pathStdout  = "stdout"
	pathDiscard = "discard"
)

// newDevice builds a device from its config, opening its file. salt is the
// device's HMAC key; stdout is where file_path=stdout writes.
func newDevice(path string, cfg Config, salt []byte, stdout io.Writer) (*device, error) {
	if cfg.Type != "file" {
		return nil, errs.Invalidf("unknown backend type: %q", cfg.Type)
	}
	opts := cfg.Options
	filePath := opts["file_path"]
	if filePath == "" {
		filePath = opts["path"] // the pre-0.8 option name, still accepted by Vault
	}
	if filePath == "" {
		return nil, errs.Invalidf("file_path is required")
	}
	format, err := parseFormat(opts)
	if err != nil {
		return nil, err
	}
	mode, err := parseMode(opts["mode"])
	if err != nil {
		return nil, err
	}
	d := &device{path: path, config: cfg, format: format, hash: hasher{key: salt}}
	switch filePath {
	case pathStdout:
		d.sink = &writerSink{w: stdout}
	case pathDiscard:
		d.sink = &writerSink{w: io.Discard}
	default:
		fs := &fileSink{path: filePath, mode: mode}
		if err := fs.open(); err != nil {
			return nil, errs.Wrap(errs.Invalid, err, fmt.Sprintf("sanity check failed; unable to open %q for writing: %v", filePath, err))
		}
		d.sink = fs
	}
	return d, nil
}

func parseFormat(opts map[string]string) (formatConfig, error) {
	f := formatConfig{hmacAccessor: true, prefix: opts["prefix"]}
	switch opts["format"] {
	case "", "json":
	default:
		return f, errs.Invalidf("unsupported audit format %q: pkid writes format \"json\"", opts["format"])
	}
	for name, dst := range map[string]*bool{
		"log_raw":              &f.raw,
		"hmac_accessor":        &f.hmacAccessor,
		"elide_list_responses": &f.elideListResponses,
	} {
		v, ok := opts[name]
		if !ok {
			continue
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return f, errs.Invalidf("unable to parse '%s': %v", name, err)
		}
		*dst = b
	}
	return f, nil
}

// parseMode reads Vault's octal mode option; "0000" keeps the file's mode.
func parseMode(s string) (os.FileMode, error) {
	if s == "" {
		return 0o600, nil
	}
	m, err := strconv.ParseUint(s, 8, 32)
	if err != nil {
		return 0, errs.Invalidf("unable to parse 'mode': %v", err)
	}
	return os.FileMode(m), nil
}

// info is the device as sys/audit lists it.
func (d *device) info() Info {
	opts := map[string]string{}
	for k, v := range d.config.Options {
		opts[k] = v
	}
	return Info{Path: d.path, Type: d.config.Type, Description: d.config.Description, Options: opts, Local: d.config.Local}
}

// fileSink appends lines to a file, reopening it once when a write fails
// (Vault's file device does the same, so a rotated log heals itself).
type fileSink struct {
	path string
	mode os.FileMode // zero: leave the file's mode alone

	mu sync.Mutex
	f  *os.File
}

func (s *fileSink) open() error {
	if err := os.MkdirAll(filepath.Dir(s.path), 0o755); err != nil {
		return err
	}
	perm := s.mode
	if perm == 0 {
		perm = 0o600
	}
	f, err := os.OpenFile(s.path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, perm)
	if err != nil {
		return err
	}
	if s.mode != 0 {
		if err := f.Chmod(s.mode); err != nil {
			f.Close()
			return err
		}
	}
	s.f = f
	return nil
}

func (s *fileSink) write(line []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f != nil {
		if _, err := s.f.Write(line); err == nil {
			return nil
		}
		s.f.Close()
		s.f = nil
	}
	if err := s.open(); err != nil {
		return fmt.Errorf("audit: reopen %s: %w", s.path, err)
	}
	if _, err := s.f.Write(line); err != nil {
		return fmt.Errorf("audit: write %s: %w", s.path, err)
	}
	return nil
}

func (s *fileSink) reopen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
	return s.open()
}

func (s *fileSink) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

// writerSink writes to a shared writer (stdout, discard), a line at a time.
type writerSink struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *writerSink) write(line []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.w.Write(line)
	return err
}

func (s *writerSink) reopen() error { return nil }
func (s *writerSink) close() error  { return nil }
