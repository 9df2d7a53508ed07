package hwtest

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	ledgeremu "github.com/mm-wallet/mm/hwtest/ledger"
	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/signers/ledger"
)

// speculosAddresses are the Speculos seed's addresses (computed with BIP-32
// and checked against recorded hw-app-eth transcripts).
var speculosAddresses = map[string]common.Address{
	"m/44'/60'/0'/0/0":  common.HexToAddress("0xDad77910DbDFdE764fC21FCD4E74D71bBACA6D8D"),
	"m/44'/60'/0'/0/1":  common.HexToAddress("0xd692Cb1346262F584D17B4B470954501f6715a82"),
	"m/44'/60'/1'/0/0":  common.HexToAddress("0x463e4e114AA57F54f2Fd2C3ec03572C6f75d84C2"),
	"m/44'/60'/0'/0'/0": common.HexToAddress("0xD07bf8314CC4491ca915A90202c67d40C4067def"),
}

// LedgerScenarios are the Ledger rows: the common ones, the app-specific
// states, and the hashed EIP-712 mode.
func ledgerScenarios() []Scenario {
	rows := CommonScenarios()
	return append(rows,
		LegacyRow("chain-18446744073709551615", new(big.Int).SetUint64(^uint64(0))),
		TypedDataRow("hashed (300-element array, beyond full mode)", LongListDoc()),
		Scenario{Name: "app-closed", Fault: FaultAppClosed, WantCode: sdk.CodeAppNotOpen,
			Call: func(ctx context.Context, t *testing.T, s sdk.Signer, dev Device) error {
				return signMessage(ctx, t, s, dev, []byte("no app"))
			}},
		Scenario{Name: "blind-signing-off/calldata", Fault: FaultBlindSigningOff, WantCode: sdk.CodeBlindSigningDisabled,
			Call: func(ctx context.Context, t *testing.T, s sdk.Signer, dev Device) error {
				return signTx(ctx, t, s, dev, big.NewInt(1), eip1559Tx(68))
			}},
		Scenario{Name: "blind-signing-off/no-calldata", Fault: FaultBlindSigningOff,
			Call: func(ctx context.Context, t *testing.T, s sdk.Signer, dev Device) error {
				return signTx(ctx, t, s, dev, big.NewInt(1), eip1559Tx(0))
			}},
	)
}

// emulatedLedger runs the rows against hwtest's emulator.
type emulatedLedger struct {
	emu *ledgeremu.Emulator
	uri string
	promptLog
}

func (d *emulatedLedger) Signer(t *testing.T) sdk.Signer {
	s := ledger.New()
	if _, err := s.Configure(context.Background(), &sdk.ConfigureRequest{Settings: map[string]string{"device": d.uri}}); err != nil {
		t.Fatal(err)
	}
	return prompted{s, d}
}

func (d *emulatedLedger) Apply(_ *testing.T, f Fault) string {
	switch f {
	case FaultRejectNext:
		d.emu.RejectNext()
	case FaultLocked:
		d.emu.SetLocked(true)
	case FaultAppClosed:
		d.emu.SetAppOpen(false)
	case FaultBlindSigningOff:
		d.emu.SetBlindSigning(false)
	case FaultOldFirmware:
		if err := d.emu.SetAppVersion("1.8.8"); err != nil {
			return err.Error()
		}
	case FaultDisconnectMidSign:
		d.emu.DisconnectNext()
	case FaultSlowUser:
		d.emu.SetConfirmDelay(10 * time.Second)
	default:
		return "unknown fault"
	}
	return ""
}

func (d *emulatedLedger) Reset(t *testing.T) {
	d.emu.ApproveAll()
	d.emu.SetLocked(false)
	d.emu.SetAppOpen(true)
	d.emu.SetBlindSigning(true)
	d.emu.SetConfirmDelay(0)
	if err := d.emu.SetAppVersion(ledgeremu.DefaultAppVersion); err != nil {
		t.Fatal(err)
	}
}

func (d *emulatedLedger) KnownAddress(path string) (common.Address, bool) {
	a, ok := speculosAddresses[path]
	return a, ok
}

func (d *emulatedLedger) Signatures() (int, bool) { return d.emu.Stats().Signatures, true }

func (d *emulatedLedger) RequestSecret(context.Context, *sdk.SecretRequest) (*sdk.SecretResponse, error) {
	return nil, sdk.NewError(sdk.CodeNonInteractive, "no secrets for a Ledger", "")
}

// TestLedgerScenarios runs the table against the emulator over both wire
// framings: Speculos TCP and the 64-byte HID framing.
func TestLedgerScenarios(t *testing.T) {
	for _, wire := range []string{"tcp", "hid"} {
		t.Run(wire, func(t *testing.T) {
			t.Parallel()
			e, err := ledgeremu.NewEmulator(ledgeremu.Options{Model: "nanox"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { e.Close() })
			uri := e.HIDURI()
			if wire == "tcp" {
				addr, err := e.Listen("127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				uri = "tcp://" + addr + "?model=nanox"
			}
			dev := &emulatedLedger{emu: e, uri: uri}
			Run(t, dev, ledgerScenarios())

			// Every confirmation was announced with the model, and closed.
			dev.checkPrompts(t, func(p sdk.WaitingRequest) bool {
				return p.Device == "Ledger Nano X" && p.Message != "" && contains(p.Message, "confirm on your Ledger Nano X")
			})
			dev.mu.Lock()
			defer dev.mu.Unlock()
			warned := false
			for _, n := range dev.notices {
				warned = warned || (n.Level == sdk.LevelWarning && contains(n.Message, "only show hashes"))
			}
			if !warned {
				t.Error("the hashed EIP-712 row gave no warning through the prompter")
			}
		})
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
