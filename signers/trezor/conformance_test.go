package trezor_test

import (
	"os"
	"os/exec"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	emu "github.com/mm-wallet/mm/hwtest/trezor"
	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/sdk/signertest"
	"github.com/mm-wallet/mm/signers/trezor"
)

// envServe makes the test binary serve trezor.New() as a plugin (see
// TestMain), so the suite can run against the signer in a real plugin
// process, as mm runs it ("mm plugin serve trezor").
const envServe = "MM_TREZOR_TEST_SERVE"

func TestMain(m *testing.M) {
	if os.Getenv(envServe) != "" {
		sdk.Serve(trezor.New())
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func pluginCommand(t *testing.T) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), envServe+"=1")
	return cmd
}

// expectAddresses returns the fixtures' paths and addresses (all-all seed).
func expectAddresses(t *testing.T) map[string]common.Address {
	f := loadFixtures(t)
	out := map[string]common.Address{}
	for _, c := range f.GetAddress.Cases {
		out[c.Path] = common.HexToAddress(c.Address)
	}
	return out
}

// TestConformance runs sdk/signertest in process against the emulator over
// UDP, once per model profile: the Trezor One signs typed data as hashes,
// the Model T in full.
func TestConformance(t *testing.T) {
	for _, m := range profiles {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			_, uri := startEmulator(t, emu.Options{Model: m})
			signertest.Run(t, func(t *testing.T) sdk.Signer { return trezor.New() }, signertest.Options{
				Settings: map[string]string{trezor.SettingDevice: uri},
				Expect:   expectAddresses(t),
			})
		})
	}
}

// TestConformancePassphrase runs the suite on a passphrase-protected
// device: every fresh signer asks the Prompter once.
func TestConformancePassphrase(t *testing.T) {
	t.Parallel()
	_, uri := startEmulator(t, emu.Options{Model: emu.ModelT, PassphraseProtection: true})
	signertest.Run(t, func(t *testing.T) sdk.Signer { return trezor.New() }, signertest.Options{
		Settings:        map[string]string{trezor.SettingDevice: uri},
		Prompter:        signertest.Secrets{sdk.SecretPassphrase: "TREZOR"},
		PromptsOnUnlock: true,
	})
}

// TestConformancePluginProcess runs the suite against the signer in real
// plugin processes (sdk.Launch), once per model profile.
func TestConformancePluginProcess(t *testing.T) {
	for _, m := range profiles {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			_, uri := startEmulator(t, emu.Options{Model: m})
			signertest.RunPlugin(t, pluginCommand, signertest.Options{
				Settings: map[string]string{trezor.SettingDevice: uri},
				Expect:   expectAddresses(t),
			})
		})
	}
}
