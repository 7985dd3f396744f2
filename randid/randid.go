// Package randid makes the random identifiers Vault's API shows: UUIDs for
// issuers, keys, mounts and requests, and base62 strings for tokens,
// accessors and lease suffixes. Every function reads the random source it is
// given, so tests can make them repeatable.
package randid

import (
	"fmt"
	"io"
)

// UUID returns a random version-4 UUID in its 36-character text form.
func UUID(r io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("randid: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Base62 returns n characters drawn uniformly from [0-9A-Za-z].
func Base62(r io.Reader, n int) (string, error) {
	out := make([]byte, n)
	buf := make([]byte, n+n/4+4)
	for i := 0; i < n; {
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", fmt.Errorf("randid: %w", err)
		}
		for _, c := range buf {
			// Bytes at or above 248 (4*62) would bias the draw: skip them.
			if c < 248 && i < n {
				out[i] = base62[c%62]
				i++
			}
		}
	}
	return string(out), nil
}
