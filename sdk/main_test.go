package sdk_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/mm-wallet/mm/sdk"
)

// testPlugin is the test plugin (sdk/internal/testplugin) and benchPlugin
// the benchmarks' tiny one (sdk/internal/benchplugin), built once for the
// whole package by TestMain: plugin tests launch real processes.
var testPlugin, benchPlugin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mm-sdk-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "sdk test:", err)
		os.Exit(1)
	}
	testPlugin = filepath.Join(dir, "mm-signer-test")
	benchPlugin = filepath.Join(dir, "mm-signer-bench")
	for out, pkg := range map[string]string{testPlugin: "./internal/testplugin", benchPlugin: "./internal/benchplugin"} {
		if b, err := exec.Command(goTool(), "build", "-o", out, pkg).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "sdk test: build %s: %v\n%s", pkg, err, b)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	// Plugin sockets, working folders and Prompter sockets go to
	// $XDG_RUNTIME_DIR: a private one for this run, so that everything left
	// in it at the end is a leak of these tests.
	rt := filepath.Join(dir, "run")
	if err := os.Mkdir(rt, 0o700); err != nil {
		fmt.Fprintln(os.Stderr, "sdk test:", err)
		os.Exit(1)
	}
	os.Setenv("XDG_RUNTIME_DIR", rt)
	code := m.Run()
	// This process's own (empty) host folder is expected: the next host
	// process sweeps it once this one is gone.
	own := filepath.Join(rt, fmt.Sprintf("mm-%d", os.Getuid()))
	_ = os.Remove(filepath.Join(own, fmt.Sprintf("host-%d", os.Getpid())))
	_ = os.Remove(own)
	if left, _ := os.ReadDir(rt); len(left) > 0 && code == 0 {
		var names []string
		for _, e := range left {
			names = append(names, e.Name())
		}
		fmt.Fprintf(os.Stderr, "sdk test: socket or working folders left behind: %v\n", names)
		code = 1
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// goTool finds the go command that runs these tests.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// launch starts the test plugin with args and closes it when the test ends.
func launch(t testing.TB, opts sdk.PluginOptions, args ...string) *sdk.PluginClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if opts.Name == "" {
		opts.Name = "test"
	}
	c, err := sdk.Launch(ctx, exec.Command(testPlugin, args...), opts)
	if err != nil {
		t.Fatalf("launch: %v (code %s)", err, sdk.CodeOf(err))
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// recorder is a host Prompter that answers from fixed values and records
// what it was asked (never the secret it gave).
type recorder struct {
	secret  []byte
	confirm bool

	mu     sync.Mutex
	events []string
}

func (r *recorder) log(s string) {
	r.mu.Lock()
	r.events = append(r.events, s)
	r.mu.Unlock()
}

func (r *recorder) Events() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

func (r *recorder) Notify(_ context.Context, req *sdk.NotifyRequest) (*sdk.NotifyResponse, error) {
	r.log("notify:" + string(req.Level) + ":" + req.Message)
	return &sdk.NotifyResponse{}, nil
}

func (r *recorder) RequestSecret(_ context.Context, req *sdk.SecretRequest) (*sdk.SecretResponse, error) {
	r.log("secret:" + string(req.Kind) + ":" + req.Prompt)
	return &sdk.SecretResponse{Secret: bytes.Clone(r.secret)}, nil
}

func (r *recorder) Confirm(_ context.Context, req *sdk.ConfirmRequest) (*sdk.ConfirmResponse, error) {
	r.log("confirm:" + req.Prompt)
	return &sdk.ConfirmResponse{Confirmed: r.confirm}, nil
}

func (r *recorder) WaitingForUser(_ context.Context, req *sdk.WaitingRequest) (*sdk.WaitingResponse, error) {
	r.log(fmt.Sprintf("waiting:%s:%s:%v", req.Device, req.Message, req.Done))
	return &sdk.WaitingResponse{}, nil
}

// syncBuffer is a bytes.Buffer safe for the relay's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls cond until it holds or the (generous) limit passes.
func waitFor(t testing.TB, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s after %s", what, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func wantCode(t testing.TB, err error, code sdk.Code) *sdk.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("want error %s, got none", code)
	}
	e := sdk.AsError(err)
	if e == nil || e.Code != code {
		t.Fatalf("want error %s, got %v (code %q)", code, err, sdk.CodeOf(err))
	}
	return e
}
