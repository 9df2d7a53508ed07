package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/mm-wallet/mm/cmd/mm/internal/config"
	"github.com/mm-wallet/mm/cmd/mm/internal/prompt"
	"github.com/mm-wallet/mm/cmd/mm/internal/render"
	"github.com/mm-wallet/mm/core/state"
	"github.com/mm-wallet/mm/plugins"
)

// app is the environment of one mm invocation — or of a whole REPL session,
// whose commands share it so signers stay warm between lines.
type app struct {
	stdin     io.Reader
	stdout    io.Writer
	stderr    io.Writer
	getenv    func(string) string
	lookupEnv func(string) (string, bool)

	inTTY, outTTY, errTTY bool
	// inFile is stdin when it is a terminal, for reading secrets with echo
	// off; nil otherwise.
	inFile *os.File

	// Per-command settings, resolved by the root's PersistentPreRunE.
	opts    globalOptions
	format  render.Format
	verbose bool

	store *state.Store
	// prompt is the sdk.Prompter handed to signers; replReadSecret and
	// replReadLine route it through the REPL's line editor.
	prompt         *prompt.Terminal
	replReadSecret func(string) ([]byte, error)
	replReadLine   func(string) (string, error)
	// hostImpl is the plugin host, created on first use.
	hostImpl *plugins.Host
	// signers keeps launched signers for the life of the app (the REPL), and
	// closes them at the end.
	signers *signerPool
	repl    bool
}

func newApp(stdin io.Reader, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) *app {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, lookupEnv: lookupEnv}
	a.getenv = func(k string) string { v, _ := lookupEnv(k); return v }
	a.inTTY = isTerminal(stdin)
	a.outTTY = isTerminal(stdout)
	a.errTTY = isTerminal(stderr)
	if f, ok := stdin.(*os.File); ok && a.inTTY {
		a.inFile = f
	}
	a.signers = newSignerPool(a)
	return a
}

// close releases what the app holds (warm signers).
func (a *app) close() {
	a.signers.closeAll()
	if a.hostImpl != nil {
		_ = a.hostImpl.Close()
	}
}

// color reports whether stderr may carry ANSI colors (https://no-color.org).
func (a *app) color() bool {
	return a.errTTY && a.getenv("NO_COLOR") == "" && a.getenv("TERM") != "dumb"
}

// logf writes a diagnostic line to stderr when --verbose is on. Never pass
// it a secret.
func (a *app) logf(format string, args ...any) {
	if a.verbose {
		fmt.Fprintf(a.stderr, "mm: "+format+"\n", args...)
	}
}

// print writes a command's result to stdout in the selected format.
func (a *app) print(v any) error { return render.Result(a.stdout, a.format, v) }

// homeDir is the state folder path, not created.
func (a *app) homeDir() (string, error) {
	if h := a.getenv(state.EnvHome); h != "" {
		return filepath.Abs(h)
	}
	return state.HomeDir()
}

// state opens (creating if needed) the state folder.
func (a *app) state() (*state.Store, error) {
	if a.store != nil {
		return a.store, nil
	}
	dir, err := a.homeDir()
	if err != nil {
		return nil, err
	}
	st, err := state.Open(dir)
	if err != nil {
		return nil, err
	}
	a.store = st
	return st, nil
}

// peekConfig reads config.json without creating the state folder. A missing
// file is empty; a damaged one is reported.
func (a *app) peekConfig() (config.Values, error) {
	dir, err := a.homeDir()
	if err != nil {
		return config.Values{}, nil
	}
	p := filepath.Join(dir, config.FileName)
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return config.Values{}, nil
	}
	if err != nil {
		return config.Values{}, nil
	}
	v := config.Values{}
	if err := json.Unmarshal(data, &v); err != nil {
		return config.Values{}, state.Corrupt(p, err)
	}
	if v == nil {
		v = config.Values{}
	}
	return v, nil
}

// ctxDone is a tiny helper for loops that honour cancellation.
func ctxDone(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return true
	default:
		return false
	}
}
