package mnemonic

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

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
