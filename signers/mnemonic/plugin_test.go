package mnemonic

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mm-wallet/mm/plugins"
	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/sdk/signertest"
)

// envServe makes the test binary serve New() as a plugin (see TestMain), so
// that the suite can run against the signer in a real plugin process, as mm
// runs it ("mm plugin serve byok" does the same from the mm binary).
const envServe = "MM_MNEMONIC_TEST_SERVE"

func pluginCommand(t *testing.T) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), envServe+"=1")
	return cmd
}

func TestConformancePluginProcess(t *testing.T) {
	t.Parallel()
	keyFile := plainKeyFile(t, fixtureMnemonic)
	signertest.RunPlugin(t, pluginCommand, signertest.Options{
		Settings: map[string]string{SettingKeyFile: keyFile},
		Expect:   expectFromFixtures(t),
	})
}

func TestConformancePluginProcessEncrypted(t *testing.T) {
	t.Parallel()
	keyFile := encryptedKeyFile(t, fixtureMnemonic, "correct horse battery staple")
	signertest.RunPlugin(t, pluginCommand, signertest.Options{
		Settings:        map[string]string{SettingKeyFile: keyFile},
		Expect:          expectFromFixtures(t),
		Prompter:        signertest.Secrets{sdk.SecretPassword: "correct horse battery staple"},
		PromptsOnUnlock: true,
	})
}

func launchPlugin(b *testing.B, keyFile string) (*sdk.PluginClient, time.Duration) {
	b.Helper()
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), envServe+"=1")
	ctx := context.Background()
	start := time.Now()
	c, err := sdk.Launch(ctx, cmd, sdk.PluginOptions{Name: "byok"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.Configure(ctx, &sdk.ConfigureRequest{Settings: map[string]string{SettingKeyFile: keyFile}}); err != nil {
		b.Fatal(err)
	}
	if _, err := c.SignMessage(ctx, &sdk.SignMessageRequest{Account: sdk.Account{Path: "m/44'/60'/0'/0/0"}, Message: []byte("first")}); err != nil {
		b.Fatal(err)
	}
	return c, time.Since(start)
}

// BenchmarkPluginLaunchToFirstSignature starts the signer as a plugin
// process (spawn, handshake, mutual TLS), configures it and signs once,
// per iteration; it reports the median beside the in-process cold path
// (New, Configure, first signature) measured in the same run.
func BenchmarkPluginLaunchToFirstSignature(b *testing.B) {
	keyFile := filepath.Join(b.TempDir(), "mnemonic")
	if err := os.WriteFile(keyFile, []byte(fixtureMnemonic+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	var inproc, plugin []time.Duration
	for i := 0; i < b.N; i++ {
		start := time.Now()
		s := New()
		ctx := context.Background()
		if _, err := s.Configure(ctx, &sdk.ConfigureRequest{Settings: map[string]string{SettingKeyFile: keyFile}}); err != nil {
			b.Fatal(err)
		}
		if _, err := s.SignMessage(ctx, &sdk.SignMessageRequest{Account: sdk.Account{Path: "m/44'/60'/0'/0/0"}, Message: []byte("first")}); err != nil {
			b.Fatal(err)
		}
		inproc = append(inproc, time.Since(start))
		c, d := launchPlugin(b, keyFile)
		plugin = append(plugin, d)
		c.Close()
	}
	b.ReportMetric(float64(median(plugin).Microseconds())/1000, "plugin-launch-to-first-sig-ms")
	b.ReportMetric(float64(median(inproc).Microseconds())/1000, "baseline-in-process-first-sig-ms")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkPluginSignMessage is a warm plugin's signature round trip beside
// the in-process signature of the same signer in the same run.
func BenchmarkPluginSignMessage(b *testing.B) {
	keyFile := filepath.Join(b.TempDir(), "mnemonic")
	if err := os.WriteFile(keyFile, []byte(fixtureMnemonic+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	c, _ := launchPlugin(b, keyFile)
	defer c.Close()
	s, err := NewFromMnemonic(fixtureMnemonic, "")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	req := &sdk.SignMessageRequest{Account: sdk.Account{Path: "m/44'/60'/0'/0/0"}, Message: []byte("benchmark message")}
	rounds := b.N
	var inproc, plugin []time.Duration
	b.ResetTimer()
	for i := 0; i < rounds; i++ {
		start := time.Now()
		if _, err := s.SignMessage(ctx, req); err != nil {
			b.Fatal(err)
		}
		inproc = append(inproc, time.Since(start))
		start = time.Now()
		if _, err := c.SignMessage(ctx, req); err != nil {
			b.Fatal(err)
		}
		plugin = append(plugin, time.Since(start))
	}
	b.StopTimer()
	p, in := median(plugin), median(inproc)
	b.ReportMetric(float64(p.Nanoseconds())/1000, "plugin-µs/sig")
	b.ReportMetric(float64(in.Nanoseconds())/1000, "baseline-in-process-µs/sig")
	b.ReportMetric(float64(p-in)/1000, "wire-overhead-µs")
	b.ReportMetric(0, "ns/op")
}

// TestManageThroughPlugin imports an encrypted mnemonic and changes its
// password through a plugin process, the way mm init and mm wallet
// password do: the secrets travel only through the prompter callback, and
// none of them appears in anything the plugin writes.
func TestManageThroughPlugin(t *testing.T) {
	t.Parallel()
	keyFile := filepath.Join(t.TempDir(), "mnemonic")
	var stderr lockedBuffer
	launch := func(p sdk.Prompter) *sdk.PluginClient {
		c, err := sdk.Launch(context.Background(), pluginCommand(t), sdk.PluginOptions{Name: "byok", Prompter: p, Stderr: &stderr})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := c.Configure(context.Background(), &sdk.ConfigureRequest{Settings: map[string]string{SettingKeyFile: keyFile, SettingScryptWorkFactor: testWorkFactor}}); err != nil {
			t.Fatal(err)
		}
		return c
	}
	var texts []string
	record := func(res *sdk.ManageResponse, err error) *sdk.ManageResponse {
		if err != nil {
			texts = append(texts, err.Error())
		}
		if res != nil {
			for k, v := range res.Result {
				texts = append(texts, k+"="+v)
			}
		}
		return res
	}
	c := launch(signertest.Secrets{sdk.SecretMnemonic: fixtureMnemonic, sdk.SecretNewPassword: testPassword})
	res := record(c.Manage(context.Background(), &sdk.ManageRequest{Op: OpImport, Params: map[string]string{"encrypt": "true"}}))
	if res == nil || res.Result["address"] != fixtureAddress0(t).Hex() || res.Result["encrypted"] != "true" {
		t.Fatalf("import through the plugin: %+v", res)
	}
	_, err := c.Manage(context.Background(), &sdk.ManageRequest{Op: OpImport})
	record(nil, err)
	if !errors.Is(err, &sdk.Error{Code: CodeMnemonicExists}) {
		t.Fatalf("second import: %v, want MNEMONIC_EXISTS across the wire", err)
	}
	// A new process: wrong password, then change it with the right one.
	d := launch(signertest.Secrets{sdk.SecretPassword: otherPassword})
	_, err = d.Accounts(context.Background(), &sdk.AccountsRequest{Indices: []uint32{0}})
	record(nil, err)
	if !errors.Is(err, sdk.ErrWrongPassword) {
		t.Fatalf("wrong password through the plugin: %v", err)
	}
	e := launch(signertest.Secrets{sdk.SecretPassword: testPassword, sdk.SecretNewPassword: otherPassword})
	record(e.Manage(context.Background(), &sdk.ManageRequest{Op: OpChangePassword}))
	f := launch(signertest.Secrets{sdk.SecretPassword: otherPassword})
	acc, err := f.Accounts(context.Background(), &sdk.AccountsRequest{Indices: []uint32{0}})
	if err != nil || acc.Accounts[0].Address != fixtureAddress0(t) {
		t.Fatalf("after change-password: %v %v", acc, err)
	}
	texts = append(texts, stderr.String())
	for _, secret := range []string{fixtureMnemonic, testPassword, otherPassword} {
		for _, s := range texts {
			if strings.Contains(s, secret) {
				t.Fatalf("a secret appears in %q", s)
			}
		}
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// builtinName is the name mm registers this signer under.
const builtinName = "byok"

// TestConformanceBuiltin opens the signer through the plugin host as a
// built-in: the host re-executes its own executable (here the test binary,
// in mm the mm binary) as "plugin serve byok".
func TestConformanceBuiltin(t *testing.T) {
	t.Parallel()
	keyFile := encryptedKeyFile(t, fixtureMnemonic, testPassword)
	opts := signertest.Options{
		Settings:        map[string]string{SettingKeyFile: keyFile},
		Expect:          expectFromFixtures(t),
		Prompter:        signertest.Secrets{sdk.SecretPassword: testPassword},
		PromptsOnUnlock: true,
	}
	host := plugins.New(plugins.Options{Prompter: opts.Prompter, PluginPath: []string{}})
	t.Cleanup(func() { host.Close() })
	signertest.Run(t, func(t *testing.T) sdk.Signer {
		c, err := host.Open(context.Background(), builtinName)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}, opts)
}
