package plugins_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/mm-wallet/mm/core/state"
	"github.com/mm-wallet/mm/plugins"
	"github.com/mm-wallet/mm/sdk"
)

// The test binary plays mm: re-executed with `plugin serve <name>` it serves
// a built-in signer, as cmd/mm's hidden command does; with helperEnv set it
// is a host that tests kill.

const helperEnv = "MM_PLUGINS_TEST_HELPER"

// extraPlugin is a third-party plugin binary (sdk/internal/testplugin)
// built by TestMain, named mm-signer-extra.
var extraPlugin string

func TestMain(m *testing.M) {
	plugins.RegisterBuiltin("testsigner", func() sdk.Signer { return newTestSigner() })
	if len(os.Args) >= 4 && os.Args[1] == "plugin" && os.Args[2] == "serve" {
		if err := plugins.ServeBuiltin(os.Args[3]); err != nil {
			fmt.Fprintln(os.Stderr, "error:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if os.Getenv(helperEnv) == "host" {
		os.Exit(helperHost())
	}
	dir, err := os.MkdirTemp("", "mm-plugins-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Plugin socket folders go to a private $XDG_RUNTIME_DIR, removed at
	// the end: the hosts these tests kill with SIGKILL cannot remove theirs.
	rt := filepath.Join(dir, "run")
	if err := os.Mkdir(rt, 0o700); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("XDG_RUNTIME_DIR", rt)
	extraPlugin = filepath.Join(dir, "mm-signer-extra")
	if out, err := exec.Command(goTool(), "build", "-o", extraPlugin, "github.com/mm-wallet/mm/sdk/internal/testplugin").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "plugins test: build test plugin: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// helperHost opens the built-in test signer and the installed "extra"
// plugin from $MM_HOME, prints their pids, and waits in a call until SIGINT
// cancels it; then it closes the host like mm does and exits 0.
func helperHost() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	store, err := state.OpenHome()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	h := plugins.New(plugins.Options{Store: store, PluginPath: []string{}})
	defer h.Close()
	a, err := h.Open(ctx, "testsigner")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	b, err := h.Open(ctx, "extra")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("pids %d %d\n", a.Pid(), b.Pid())
	_, err = a.SignMessage(ctx, &sdk.SignMessageRequest{Message: []byte("sleep")})
	fmt.Printf("call ended: %s\n", sdk.CodeOf(err))
	return 0
}

// newHost returns a host over a fresh MM_HOME, searching only pluginPath.
func newHost(t *testing.T, opts plugins.Options, pluginPath ...string) *plugins.Host {
	t.Helper()
	if opts.Store == nil {
		s, err := state.Open(filepath.Join(t.TempDir(), "home"))
		if err != nil {
			t.Fatal(err)
		}
		opts.Store = s
	}
	opts.PluginPath = append([]string{}, pluginPath...)
	h := plugins.New(opts)
	t.Cleanup(func() { h.Close() })
	return h
}

func wantCode(t *testing.T, err error, code sdk.Code) *sdk.Error {
	t.Helper()
	e := sdk.AsError(err)
	if e == nil || e.Code != code {
		t.Fatalf("want %s, got %v (code %q)", code, err, sdk.CodeOf(err))
	}
	return e
}

// alive reports whether pid is a live, non-zombie process (Linux).
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || (b[i+2] != 'Z' && b[i+2] != 'X')
}

func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s after %s", what, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

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

// testSigner is the built-in signer of these tests: one fixed, public key
// (go-ethereum's test key), personal messages only, and a few magic
// messages: "sleep" waits for cancellation, "crash" panics, "stderr" writes
// a line to stderr.
type testSigner struct {
	key  *ecdsa.PrivateKey
	addr common.Address
}

var (
	_ sdk.Signer  = (*testSigner)(nil)
	_ sdk.Manager = (*testSigner)(nil)
)

func newTestSigner() *testSigner {
	k, err := crypto.HexToECDSA("b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291")
	if err != nil {
		panic(err)
	}
	return &testSigner{key: k, addr: crypto.PubkeyToAddress(k.PublicKey)}
}

func (s *testSigner) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{Name: "testsigner", Version: "0.0.1", Kind: sdk.KindSoftware,
		Capabilities: sdk.Capabilities{TypedData: sdk.TypedDataNone, PersonalMessage: true}}, nil
}

// Manage answers op "gomaxprocs" with the plugin process's GOMAXPROCS
// environment variable.
func (s *testSigner) Manage(_ context.Context, req *sdk.ManageRequest) (*sdk.ManageResponse, error) {
	if req.Op != "gomaxprocs" {
		return nil, sdk.ErrUnsupported
	}
	v, set := os.LookupEnv("GOMAXPROCS")
	return &sdk.ManageResponse{Result: map[string]string{"value": v, "set": strconv.FormatBool(set)}}, nil
}

func (s *testSigner) Accounts(_ context.Context, req *sdk.AccountsRequest) (*sdk.AccountsResponse, error) {
	return &sdk.AccountsResponse{Accounts: []sdk.Account{{Address: s.addr}}}, nil
}

func (s *testSigner) SignTransaction(context.Context, *sdk.SignTransactionRequest) (*sdk.SignTransactionResponse, error) {
	return nil, sdk.ErrUnsupported
}

func (s *testSigner) SignTypedData(context.Context, *sdk.SignTypedDataRequest) (*sdk.SignTypedDataResponse, error) {
	return nil, sdk.ErrUnsupported
}

func (s *testSigner) SignMessage(ctx context.Context, req *sdk.SignMessageRequest) (*sdk.SignMessageResponse, error) {
	switch string(req.Message) {
	case "sleep":
		<-ctx.Done()
		return nil, ctx.Err()
	case "crash":
		panic("testsigner: crashing as asked")
	case "stderr":
		fmt.Fprintln(os.Stderr, "testsigner: hello from stderr")
	}
	sig, err := crypto.Sign(accounts.TextHash(req.Message), s.key)
	if err != nil {
		return nil, err
	}
	sig[64] += 27
	return &sdk.SignMessageResponse{Signature: sig}, nil
}
