package emulator

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// Main runs an emulator command until SIGINT or SIGTERM: run gets the
// arguments and writes its addresses on stdout, notices on stderr. A
// failure is printed as "name: error" and exits 1.
func Main(name string, run func(ctx context.Context, args []string, stdout, stderr io.Writer) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}

// ParseArgs parses an emulator command's flags; it takes no positional
// argument.
func ParseArgs(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return nil
}

// ReadMnemonicFile reads a BIP-39 mnemonic from a file, its words joined
// by single spaces however the file spaces them; "" when path is "". The
// mnemonic comes from a file, never argv or the environment, and is never
// printed.
func ReadMnemonicFile(path string) (string, error) {
	s, err := ReadSecretFile(path)
	return strings.Join(strings.Fields(s), " "), err
}

// ReadSecretFile reads a secret (a PIN, a passphrase) from a file without
// its surrounding white space; "" when path is "".
func ReadSecretFile(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// ServeControl serves h on addr (port 0 picks a free one) and returns the
// bound address once listening, and shutdown, which stops the server
// (waiting up to 2 s for requests in flight). Serving errors go to stderr.
func ServeControl(addr string, h http.Handler, stderr io.Writer) (bound net.Addr, shutdown func(), err error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("control endpoint: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(stderr, "control endpoint:", err)
		}
	}()
	return l.Addr(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}
