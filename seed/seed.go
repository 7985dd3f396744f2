// Package seed makes a pkid server repeatable: its random streams, the
// private keys it generates and the ECDSA signatures it makes all derive
// from one number, so that the same sequence of requests gives the same
// bytes. It exists for test doubles (pkid server -dev -seed N, and pkidtest)
// and must never back a real CA: every key it makes can be recomputed by
// anyone who knows the seed.
package seed

import (
	"crypto/sha256"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"sync"
	"time"
)

// Source is a family of deterministic random streams derived from a seed.
type Source struct {
	seed uint64
}

// New returns the source of seed n.
func New(n uint64) *Source { return &Source{seed: n} }

// Stream returns the random stream called name. Streams of different names
// are independent, so work that draws a varying amount of randomness (one
// request id per health check a client polls with, say) does not shift the
// draws of another stream. Each call starts the stream afresh.
func (s *Source) Stream(name string) io.Reader {
	return &stream{r: rand.NewChaCha8(s.key(name))}
}

// key is SHA-256 over the seed and a stream name: a ChaCha8 seed of its own
// for each name.
func (s *Source) key(name string) [32]byte {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], s.seed)
	h := sha256.New()
	h.Write([]byte("pkid seed\x00"))
	h.Write(n[:])
	h.Write([]byte(name))
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// stream is a ChaCha8 generator made safe for concurrent readers; the
// order of concurrent draws is of course not repeatable, only that of
// sequential ones.
type stream struct {
	mu sync.Mutex
	r  *rand.ChaCha8
}

func (s *stream) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.r.Read(p)
}

// StartTime is where the stopped clock of seed mode starts when no time is
// given: the start of now's UTC day, so that runs on the same day agree and
// certificates are valid today. Pass a fixed time for bytes that agree
// across days.
func StartTime(now time.Time) time.Time {
	return now.UTC().Truncate(24 * time.Hour)
}
