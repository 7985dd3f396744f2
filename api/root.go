package api

import (
	"fmt"

	"github.com/pkid-dev/pkid/api/token"
	"github.com/pkid-dev/pkid/storage"
)

const initializedKey = "core/root-token-created"

// InitRootToken makes sure a root token exists. With devID set, that token
// is created if it does not exist yet (dev mode's -dev-root-token-id) and is
// returned. Without it, a random root token is created on the server's first
// start only and returned once; later starts return "" (the token is stored
// only as a hash and cannot be shown again).
func (s *Server) InitRootToken(devID string) (string, error) {
	if devID != "" {
		e, err := s.tokens.Lookup(devID)
		if err != nil {
			return "", err
		}
		if e == nil {
			if _, err := s.createRoot(devID); err != nil {
				return "", err
			}
		}
		return devID, s.markInitialized()
	}
	var done bool
	err := s.sys.View(func(tx storage.Tx) error {
		done = tx.Get(initializedKey) != nil
		return nil
	})
	if err != nil || done {
		return "", err
	}
	e, err := s.createRoot("")
	if err != nil {
		return "", err
	}
	return e.ID, s.markInitialized()
}

func (s *Server) createRoot(id string) (*token.Entry, error) {
	e, err := s.tokens.Create(nil, token.CreateRequest{
		ID: id, Policies: []string{"root"}, DisplayName: "root", VerbatimDisplayName: true, Path: "auth/token/root",
	})
	if err != nil {
		return nil, fmt.Errorf("api: create root token: %w", err)
	}
	return e, nil
}

func (s *Server) markInitialized() error {
	return s.sys.Update(func(tx storage.Tx) error { return tx.Put(initializedKey, []byte("1")) })
}
