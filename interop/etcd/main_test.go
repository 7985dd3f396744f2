package etcd

import (
	"fmt"
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

// run starts the shared cluster around the tests, in a folder of its own.
func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "pkid-etcd-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	c, err := startClusterIn(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer c.stopAll()
	shared = c
	return m.Run()
}
