package randid

import (
	"bytes"
	"crypto/rand"
	"regexp"
	"testing"
)

func TestUUID(t *testing.T) {
	id, err := UUID(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(id) {
		t.Fatalf("not a v4 UUID: %s", id)
	}
	if _, err := UUID(bytes.NewReader(nil)); err == nil {
		t.Fatal("an exhausted source must fail")
	}
}

func TestBase62(t *testing.T) {
	s, err := Base62(rand.Reader, 24)
	if err != nil || !regexp.MustCompile(`^[0-9A-Za-z]{24}$`).MatchString(s) {
		t.Fatalf("%q %v", s, err)
	}
	// A source of only biased bytes never yields, then runs dry: an error,
	// not a loop.
	if _, err := Base62(bytes.NewReader(bytes.Repeat([]byte{255}, 100)), 8); err == nil {
		t.Fatal("want an error")
	}
}
