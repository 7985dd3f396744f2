package main

import (
	"fmt"
	"io"
)

func runServer(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "server: not implemented yet")
	return 1
}
