package ca

import (
	"encoding/json"
	"fmt"
	"io"
)

// newID returns a random UUID (version 4 layout), the form of Vault's issuer
// and key IDs. It reads the injected random source.
func newID(rnd io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return "", fmt.Errorf("ca: generate id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// uuidLength is the length of an ID; references of that length are tried as
// IDs before names, as Vault does.
const uuidLength = 36

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
