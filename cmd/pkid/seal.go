package main

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/pkid-dev/pkid/seal"
	"github.com/pkid-dev/pkid/storage"
)

// sealEnv holds a sealing passphrase, for deployments that pass secrets in
// the environment rather than in files.
const sealEnv = "PKID_SEAL_PASSPHRASE"

// sealSecret is the secret that -seal-passphrase-file, -seal-key-file or
// PKID_SEAL_PASSPHRASE gives (at most one of them), or the zero Secret.
func (f *serverFlags) sealSecret(getenv func(string) string) (seal.Secret, error) {
	env := getenv(sealEnv)
	if env != "" && (f.sealPass != "" || f.sealKey != "") {
		return seal.Secret{}, fmt.Errorf("%s is set and a seal flag is given: use one", sealEnv)
	}
	switch {
	case env != "":
		return seal.Passphrase([]byte(env))
	case f.sealPass != "":
		b, err := os.ReadFile(f.sealPass)
		if err != nil {
			return seal.Secret{}, fmt.Errorf("seal: read passphrase file: %w", err)
		}
		// One line of text: the newline an editor or echo adds is not part
		// of the passphrase.
		b = bytes.TrimSuffix(b, []byte("\n"))
		b = bytes.TrimSuffix(b, []byte("\r"))
		s, err := seal.Passphrase(b)
		if err != nil {
			return seal.Secret{}, fmt.Errorf("%w in %s", err, f.sealPass)
		}
		return s, nil
	case f.sealKey != "":
		b, err := os.ReadFile(f.sealKey)
		if err != nil {
			return seal.Secret{}, fmt.Errorf("seal: read key file: %w", err)
		}
		// Every byte counts, newline or not: a key file is binary.
		s, err := seal.KeyFile(b)
		if err != nil {
			return seal.Secret{}, fmt.Errorf("%w (%s; make one with: head -c 32 /dev/urandom > FILE)", err, f.sealKey)
		}
		return s, nil
	}
	return seal.Secret{}, nil
}

// openStore opens the data file at path, sealed when a secret is given.
// Data that is sealed is refused without its secret, or with another one.
func openStore(f *serverFlags, path string, getenv func(string) string, log *slog.Logger) (*storage.Store, error) {
	secret, err := f.sealSecret(getenv)
	if err != nil {
		return nil, err
	}
	eng, err := storage.OpenEngine(path, storage.Options{LockTimeout: f.lockTimeout})
	if err != nil {
		return nil, err
	}
	if secret.IsZero() {
		sealed, err := seal.Sealed(eng)
		if err == nil && sealed {
			err = fmt.Errorf("%w; give -seal-passphrase-file, -seal-key-file or %s to open %s", seal.ErrSealed, sealEnv, path)
		}
		if err != nil {
			return nil, errors.Join(err, eng.Close())
		}
		return storage.NewStore(eng, path), nil
	}
	if getenv(sealEnv) != "" {
		// Nothing pkid starts later needs the passphrase.
		os.Unsetenv(sealEnv)
	}
	for _, file := range []string{f.sealPass, f.sealKey} {
		if st, err := os.Stat(file); err == nil && st.Mode().Perm()&0o077 != 0 {
			log.Warn("seal: the secret's file is readable by others than its owner", "file", file, "mode", st.Mode().Perm().String())
		}
	}
	se, err := seal.Open(eng, secret, seal.Options{Name: path})
	if err != nil {
		return nil, errors.Join(err, eng.Close())
	}
	if n := se.Resealed(); n > 0 {
		log.Warn("seal: sealed key records that were stored in the clear; their old bytes may remain in free pages of the data file until reused",
			"count", n, "data", path)
	}
	log.Info("seal: CA private keys are sealed at rest", "data", path)
	return storage.NewStore(se, path), nil
}
