package ledger

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	emu "github.com/mm-wallet/mm/hwtest/ledger"
	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/sdk/signertest"
)

// pluginEnv makes this test binary serve the Ledger signer as a plugin
// process (the helper-process trick: no pre-built binary).
const pluginEnv = "MM_LEDGER_TEST_SERVE_PLUGIN"

func TestMain(m *testing.M) {
	if os.Getenv(pluginEnv) == "1" {
		sdk.Serve(New())
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// deviceLimits are the conformance cases no Ledger can pass, with the
// refusal the driver gives for each; the suite checks that refusal:
//   - typed data whose primary type is EIP712Domain: the app signs
//     keccak(0x1901‖domain‖message) only and refuses a missing message
//     hash (app-ethereum handle_eip712_sign), so the driver answers
//     UNSUPPORTED before anything reaches the device;
//   - an EIP-7702 authorization for a chain id above 2^64-1: the app reads
//     the chain id as a uint64 (auth_7702.c), so the driver answers
//     INVALID_REQUEST.
var deviceLimits = []signertest.Limit{
	{Case: signertest.CaseTypedDataDomainPrimary, Code: sdk.CodeUnsupported,
		Reason: "the Ledger Ethereum app refuses typed data without a message hash"},
	{Case: signertest.CaseAuthorizationWideChainID, Code: sdk.CodeInvalidRequest,
		Reason: "the Ledger Ethereum app reads EIP-7702 chain ids as 64 bits"},
}

func conformanceOptions(uri string) signertest.Options {
	return signertest.Options{
		Settings: map[string]string{SettingDevice: uri},
		Paths:    []string{"m/44'/60'/0'/0/0", "m/44'/60'/0'/0/1", "m/44'/60'/1'/0/0"},
		Expect: map[string]common.Address{
			"m/44'/60'/0'/0/0":  speculos0,
			"m/44'/60'/0'/0/1":  common.HexToAddress("0xd692Cb1346262F584D17B4B470954501f6715a82"),
			"m/44'/60'/0'/0'/0": common.HexToAddress("0xD07bf8314CC4491ca915A90202c67d40C4067def"),
		},
		Limits: deviceLimits,
	}
}

// TestConformance runs sdk/signertest in process against the emulator over
// TCP.
func TestConformance(t *testing.T) {
	t.Parallel()
	_, addr := newEmulator(t, emu.Options{})
	signertest.Run(t, func(t *testing.T) sdk.Signer { return New() }, conformanceOptions("tcp://"+addr))
}

// TestConformancePlugin runs the suite with the signer in real plugin
// processes (sdk.Launch of this test binary serving it) talking to the
// emulator over TCP.
func TestConformancePlugin(t *testing.T) {
	t.Parallel()
	_, addr := newEmulator(t, emu.Options{})
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	signertest.RunPlugin(t, func(t *testing.T) *exec.Cmd {
		cmd := exec.CommandContext(context.Background(), exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), pluginEnv+"=1")
		return cmd
	}, conformanceOptions("tcp://"+addr))
}
