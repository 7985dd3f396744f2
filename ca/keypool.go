package ca

import (
	"crypto/rsa"
	"fmt"
	"io"
	"sync"
)

// keyPool holds RSA leaf keys generated ahead of need. RSA-2048 generation
// costs 60–110 ms of CPU here, far more than signing, so a burst of RSA
// issues would otherwise queue behind key generation (OpenBao: ≈740 ms p50
// at 16 clients). EC and Ed25519 keys are cheap and never pooled.
//
// The pool is bounded and demand-driven: each RSA size starts with a small
// target; a request that finds its size empty doubles the target (up to a
// cap), and one background goroutine per size refills up to the target and
// then exits. Every key is handed out once and never kept after. The zero
// value is ready to use; close stops the refilling when the mount goes.
type keyPool struct {
	mu     sync.Mutex
	sizes  map[int]*poolSize
	closed bool
}

type poolSize struct {
	ready   []*rsa.PrivateKey
	target  int
	filling bool
}

// poolStart is the first target of a size; poolCap its bound. Bigger keys
// take seconds each, so fewer are kept.
const poolStart = 2

func poolCap(bits int) int {
	switch {
	case bits <= 2048:
		return 32
	case bits <= 3072:
		return 8
	case bits <= 4096:
		return 4
	}
	return 1
}

// take returns an unused RSA key of bits, from the pool when it has one,
// else freshly generated; either way the pool then refills in the
// background.
func (p *keyPool) take(rnd io.Reader, bits int) (*rsa.PrivateKey, error) {
	p.mu.Lock()
	s := p.size(bits)
	var key *rsa.PrivateKey
	if n := len(s.ready); n > 0 {
		key, s.ready[n-1] = s.ready[n-1], nil
		s.ready = s.ready[:n-1]
	} else {
		s.target = min(2*s.target, poolCap(bits))
	}
	p.refill(rnd, bits, s)
	p.mu.Unlock()
	if key != nil {
		return key, nil
	}
	key, err := rsa.GenerateKey(rnd, bits)
	if err != nil {
		return nil, fmt.Errorf("ca: generate RSA key: %w", err)
	}
	return key, nil
}

// warm starts filling the pool of a size that is about to be used (a role
// that issues RSA keys of that size was written).
func (p *keyPool) warm(rnd io.Reader, bits int) {
	p.mu.Lock()
	p.refill(rnd, bits, p.size(bits))
	p.mu.Unlock()
}

// size returns the pool of bits, creating it; p.mu must be held.
func (p *keyPool) size(bits int) *poolSize {
	if p.sizes == nil {
		p.sizes = map[int]*poolSize{}
	}
	s := p.sizes[bits]
	if s == nil {
		s = &poolSize{target: min(poolStart, poolCap(bits))}
		p.sizes[bits] = s
	}
	return s
}

// refill starts the size's filler unless it runs, the pool is full or
// closed; p.mu must be held.
func (p *keyPool) refill(rnd io.Reader, bits int, s *poolSize) {
	if p.closed || s.filling || len(s.ready) >= s.target {
		return
	}
	s.filling = true
	go p.fill(rnd, bits, s)
}

// fill generates keys, one at a time, until the size reaches its target or
// the pool closes. Generation happens without the lock, so takers are never
// blocked by it.
func (p *keyPool) fill(rnd io.Reader, bits int, s *poolSize) {
	for {
		p.mu.Lock()
		if p.closed || len(s.ready) >= s.target {
			s.filling = false
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		key, err := rsa.GenerateKey(rnd, bits)
		p.mu.Lock()
		if err != nil {
			// The next take will try again; the request path generates
			// its own key meanwhile.
			s.filling = false
			p.mu.Unlock()
			return
		}
		if !p.closed {
			s.ready = append(s.ready, key)
		}
		p.mu.Unlock()
	}
}

// close stops the pool for good: pooled keys are dropped and each running
// filler exits after the key it is generating (RSA generation cannot be
// interrupted), so a disabled mount or a closed server leaves no goroutine
// spending seconds of CPU on keys nobody will take. take still works,
// generating every key on demand.
func (p *keyPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, s := range p.sizes {
		clear(s.ready)
		s.ready = nil
	}
}

// stats reports the ready keys and target of a size (tests, benchmarks).
func (p *keyPool) stats(bits int) (ready, target int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.sizes[bits]; s != nil {
		return len(s.ready), s.target
	}
	return 0, 0
}
