package ca

import (
	"crypto/rand"
	"testing"
	"time"
)

func TestKeyPoolClose(t *testing.T) {
	t.Parallel()
	var p keyPool
	p.warm(rand.Reader, 2048) // a filler starts
	p.close()
	filling := func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.sizes[2048].filling
	}
	deadline := time.Now().Add(time.Minute)
	for filling() {
		if time.Now().After(deadline) {
			t.Fatal("the filler did not stop after close")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if ready, _ := p.stats(2048); ready != 0 {
		t.Fatalf("%d keys pooled after close", ready)
	}
	// A closed pool still hands out keys, generated on demand, and starts
	// no filler.
	if _, err := p.take(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	p.warm(rand.Reader, 2048)
	if filling() {
		t.Fatal("a closed pool started a filler")
	}
}
