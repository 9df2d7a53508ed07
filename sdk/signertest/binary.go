package signertest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mm-wallet/mm/sdk"
)

// RunBinary runs the conformance suite against the plugin executable at
// path. Every instance the suite asks for is a new plugin process started
// with sdk.Launch (checksum pinned, mutual TLS, protocol negotiation), so
// addresses are also checked to be stable across processes and every call
// crosses the plugin wire.
func RunBinary(t *testing.T, path string, opts Options) {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		t.Fatalf("signertest: read plugin: %v", err)
	}
	sum := sha256.Sum256(data)
	name := strings.TrimPrefix(filepath.Base(abs), "mm-signer-")
	runPlugin(t, func(t *testing.T) *exec.Cmd { return exec.Command(abs) }, opts, name, sum[:])
}

// RunPlugin runs the conformance suite against plugin processes made from
// the commands command returns, one per instance, for example mm
// re-executed as "mm plugin serve <name>" or a test binary that serves a
// signer. Each process is closed when the test ends; its stderr goes to the
// test log. The executable's checksum is not pinned (RunBinary pins it).
func RunPlugin(t *testing.T, command func(t *testing.T) *exec.Cmd, opts Options) {
	t.Helper()
	runPlugin(t, command, opts, "plugin", nil)
}

func runPlugin(t *testing.T, command func(t *testing.T) *exec.Cmd, opts Options, name string, checksum []byte) {
	t.Helper()
	factory := func(t *testing.T) sdk.Signer {
		t.Helper()
		cmd := command(t)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		logw := &testLog{t: t}
		c, err := sdk.Launch(ctx, cmd, sdk.PluginOptions{Name: name, Prompter: opts.Prompter, Stderr: logw, Checksum: checksum})
		if err != nil {
			t.Fatalf("signertest: launch %s: %v", name, err)
		}
		t.Cleanup(func() {
			_ = c.Close()
			logw.stop()
		})
		return c
	}
	Run(t, factory, opts)
}

// testLog relays a plugin's stderr lines to the test log until the test
// ends.
type testLog struct {
	mu   sync.Mutex
	t    *testing.T
	buf  bytes.Buffer
	done bool
}

var _ io.Writer = (*testLog)(nil)

func (w *testLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return len(p), nil
	}
	w.buf.Write(p)
	for {
		line, err := w.buf.ReadString('\n')
		if err != nil {
			w.buf.WriteString(line)
			break
		}
		w.t.Log(strings.TrimRight(line, "\n"))
	}
	return len(p), nil
}

func (w *testLog) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done = true
}
