// Command pkid is a Vault-PKI-compatible certificate authority server and a
// client for it.
//
//	pkid server -dev                 run a dev server (in-memory-like, temp data)
//	pkid server -data DIR            run a persistent server
//	pkid read|write|list|delete ...  talk to a server, like the vault CLI
//	pkid bench issue ...             load-test any Vault-compatible server
//	pkid agent -role R -cert F ...   keep a certificate on disk issued and renewed
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "server":
		return runServer(args[1:], stdout, stderr)
	case "bench":
		return runBench(args[1:], stdout, stderr)
	case "agent":
		return runAgent(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return 0
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "pkid", version)
		return 0
	}
	return runClient(args, stdin, stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage: pkid <command> [args]

Server:
    server      Start a pkid server (-dev for a throwaway dev server)

Client (VAULT_ADDR, VAULT_TOKEN as for the vault CLI):
    read, write, list, delete, patch, secrets, policy, audit, auth, token, status

Tools:
    bench       Load-test a Vault-compatible PKI endpoint
    agent       Issue a certificate to files and keep it renewed
    version     Print the version
`)
}
