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
	"runtime"
	"syscall"

	"github.com/mm-wallet/mm/plugins"
)

func main() { os.Exit(run()) }

// run is main without os.Exit, also used by the tests' re-executed binary.
func run() int {
	if len(os.Args) == 4 && os.Args[1] == "plugin" && os.Args[2] == "serve" {
		// mm re-executed by its plugin host as a built-in signer: serve it
		// before building the app and the command tree, which a signer
		// process never uses (every signature waits for this start-up).
		return servePlugin(os.Args[3])
	}
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
		replProcs(os.LookupEnv)
		return a.replMain()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return a.execute(ctx, os.Args[1:])
}

// replProcs runs the REPL on one P unless GOMAXPROCS is set. The REPL
// keeps its signer warm, so each signature is a round trip to another
// process; a host's idle Ps spin on every wake-up and take the CPU the
// signer needs (sdk's BenchmarkWarmSignature: about 240 µs a round trip
// with two Ps, 160 µs with one, on two cores). One-shot commands gain
// nothing measurable from it and keep the default.
func replProcs(lookupEnv func(string) (string, bool)) {
	if _, set := lookupEnv("GOMAXPROCS"); !set {
		runtime.GOMAXPROCS(1)
	}
}

// servePlugin is the hidden `mm plugin serve <name>` (see newPluginCmd),
// reached without cobra. A failure is reported like any command's.
func servePlugin(name string) int {
	err := plugins.ServeBuiltin(name)
	if err == nil {
		return exitOK
	}
	a := newApp(os.Stdin, os.Stdout, os.Stderr, os.LookupEnv)
	a.format = a.preFormat(os.Args[1:])
	return a.fail(err)
}
