package mnemonic

import (
	"os"
	"os/exec"
	"testing"

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
