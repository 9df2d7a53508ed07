package keystore

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	ethkeystore "github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/google/uuid"

	"github.com/mm-wallet/mm/core/state"
	"github.com/mm-wallet/mm/plugins"
	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/sdk/signertest"
)

const testPassword = "keystore test password"

// newKeystoreFile writes a keystore v3 file for a new key, with go-ethereum's
// light scrypt parameters so that tests stay fast.
func newKeystoreFile(t *testing.T) (string, common.Address) {
	t.Helper()
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	key := &ethkeystore.Key{Id: uuid.New(), Address: crypto.PubkeyToAddress(k.PublicKey), PrivateKey: k}
	data, err := ethkeystore.EncryptKey(key, testPassword, ethkeystore.LightScryptN, ethkeystore.LightScryptP)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "UTC--test--"+key.Address.Hex()[2:]+".json")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p, key.Address
}

func options(t *testing.T) signertest.Options {
	path, addr := newKeystoreFile(t)
	return signertest.Options{
		Settings:        map[string]string{"keyFile": path},
		NoPaths:         true,
		Expect:          map[string]common.Address{"": addr},
		Prompter:        signertest.Secrets{sdk.SecretPassword: testPassword},
		PromptsOnUnlock: true,
	}
}

func TestConformanceInProcess(t *testing.T) {
	t.Parallel()
	signertest.Run(t, func(t *testing.T) sdk.Signer { return New() }, options(t))
}

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// buildBinary builds mm-signer-keystore on its own with go build, as a
// plugin author would, once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "mm-signer-keystore-"); buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "mm-signer-keystore")
		gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, err := os.Stat(gobin); err != nil {
			gobin = "go"
		}
		out, err := exec.Command(gobin, "build", "-o", binPath, "./cmd/mm-signer-keystore").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// TestConformanceBinary runs the suite against the separately built binary.
func TestConformanceBinary(t *testing.T) {
	t.Parallel()
	signertest.RunBinary(t, buildBinary(t), options(t))
}

// TestConformanceInstalled installs the binary into a fresh MM_HOME with
// the plugin host (as mm signer install does: copied, launched once,
// SHA-256 pinned) and runs the suite against the plugin the host opens.
func TestConformanceInstalled(t *testing.T) {
	t.Parallel()
	st, err := state.Open(filepath.Join(t.TempDir(), "mm-home"))
	if err != nil {
		t.Fatal(err)
	}
	opts := options(t)
	host := plugins.New(plugins.Options{Store: st, Prompter: opts.Prompter, PluginPath: []string{}})
	t.Cleanup(func() { host.Close() })
	p, err := host.Install(context.Background(), buildBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "keystore" {
		t.Fatalf("installed as %q", p.Name)
	}
	signertest.Run(t, func(t *testing.T) sdk.Signer {
		c, err := host.Open(context.Background(), "keystore")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}, opts)
}

func TestWrongPassword(t *testing.T) {
	t.Parallel()
	path, addr := newKeystoreFile(t)
	s := New()
	ctx := sdk.WithPrompter(context.Background(), signertest.Secrets{sdk.SecretPassword: "not the password"})
	if _, err := s.Configure(ctx, &sdk.ConfigureRequest{Settings: map[string]string{"keyFile": path}}); err != nil {
		t.Fatal(err)
	}
	resp, err := s.SignMessage(ctx, &sdk.SignMessageRequest{Account: sdk.Account{Address: addr}, Message: []byte("x")})
	if sdk.CodeOf(err) != sdk.CodeWrongPassword || resp != nil {
		t.Fatalf("got %v, %v; want WRONG_PASSWORD", resp, err)
	}
	_, err = s.SignMessage(context.Background(), &sdk.SignMessageRequest{Account: sdk.Account{Address: addr}, Message: []byte("x")})
	if sdk.CodeOf(err) != sdk.CodeNonInteractive {
		t.Fatalf("without a prompter: %v, want NON_INTERACTIVE", err)
	}
}

func TestConfigureRefusals(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notKeystore := filepath.Join(dir, "x.json")
	os.WriteFile(notKeystore, []byte(`{"version": 1}`), 0o600)
	for name, settings := range map[string]map[string]string{
		"no keyFile":      {},
		"unknown setting": {"keyFile": notKeystore, "password": "x"},
		"missing file":    {"keyFile": filepath.Join(dir, "absent.json")},
		"not a keystore":  {"keyFile": notKeystore},
	} {
		_, err := New().Configure(context.Background(), &sdk.ConfigureRequest{Settings: settings})
		if c := sdk.CodeOf(err); c != sdk.CodeInvalidRequest && c != sdk.CodeNotConfigured {
			t.Errorf("%s: %v, want INVALID_REQUEST or NOT_CONFIGURED", name, err)
		}
	}
	_, err := New().Accounts(context.Background(), &sdk.AccountsRequest{Indices: []uint32{0}})
	if sdk.CodeOf(err) != sdk.CodeNotConfigured {
		t.Fatalf("Accounts before Configure: %v", err)
	}
}
