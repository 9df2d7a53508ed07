// Command mm is a wallet command line for people and AI agents whose signing
// keys never live in the CLI: every signature is a call into a separate
// signer process (see the README and ARCHITECTURE.md).
//
// This package is the cobra tree — one file per command group — and the only
// place where errors become exit statuses, codes and hints.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() { os.Exit(run()) }

// run is main without os.Exit, also used by the tests' re-executed binary.
func run() int {
	a := newApp(os.Stdin, os.Stdout, os.Stderr, os.LookupEnv)
	defer a.close()
	if len(os.Args) == 2 && os.Args[1] == "--version" {
		// The commonest probe, answered without building the command tree
		// (start-up time is a product feature; see BenchmarkVersion).
		a.format = a.preFormat(os.Args[1:])
		if err := a.print(versionInfo()); err != nil {
			return exitError
		}
		return exitOK
	}
	if len(os.Args) == 1 && a.inTTY && a.outTTY {
		return a.replMain()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return a.execute(ctx, os.Args[1:])
}
