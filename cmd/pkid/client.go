package main

import (
	"fmt"
	"io"
)

func runClient(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fmt.Fprintf(stderr, "unknown command %q\n", args[0])
	return 1
}
