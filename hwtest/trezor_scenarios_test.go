package hwtest

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	trezoremu "github.com/mm-wallet/mm/hwtest/trezor"
	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/signers/transport"
	"github.com/mm-wallet/mm/signers/trezor"
)

// Trezor faults, beyond the shared ones. Each is a device setting a real
// Trezor can be put in by its owner (a PIN, a passphrase, older or
// bitcoin-only firmware, a wiped device); the emulator is restarted in it.
const (
	FaultTrezorPIN          Fault = "trezor-pin"           // PIN set; the user types the right one
	FaultTrezorWrongPIN     Fault = "trezor-wrong-pin"     // PIN set; the user types a wrong one
	FaultTrezorPINCancelled Fault = "trezor-pin-cancelled" // PIN set; the user cancels the PIN entry
	FaultTrezorPassphrase   Fault = "trezor-passphrase"    // passphrase protection, typed on the host
	FaultTrezorPassOnDevice Fault = "trezor-passphrase-on-device"
	FaultTrezorBitcoinOnly  Fault = "trezor-bitcoin-only" // bitcoin-only firmware
	FaultTrezorWiped        Fault = "trezor-wiped"        // no wallet on the device
)

// trezorAllAll are addresses of the SLIP-14 "all all …" seed (Trezor's
// fixtures) that the emulator uses by default.
var trezorAllAll = map[string]common.Address{
	"m/44'/60'/0'/0/0":   common.HexToAddress("0x73d0385F4d8E00C5e6504C6030F47BF6212736A8"),
	"m/44'/60'/0'/0/100": common.HexToAddress("0x1e6E3708a059aEa1241a81c7aAe84b6CDbC54d59"),
	"m/44'/60'/0'":       common.HexToAddress("0xdA0b608bdb1a4A154325C854607c68950b4F1a34"),
}

const trezorTestPIN = "1234"

// trezorScenarios are the Trezor rows for one model profile: the shared
// rows that apply, then the Trezor states.
func trezorScenarios(one bool) []Scenario {
	msg := func(text string) func(context.Context, *testing.T, sdk.Signer, Device) error {
		return func(ctx context.Context, t *testing.T, s sdk.Signer, dev Device) error {
			return signMessage(ctx, t, s, dev, []byte(text))
		}
	}
	rows := []Scenario{
		AddressRow("m/44'/60'/0'/0/0"),
		AddressRow("m/44'/60'/0'/0/1"),
		AddressRow("m/44'/60'/1'/0/0"),
		AddressRow("m/44'/60'/0'/0'/0"),
		AddressRow("m/44'/60'/0'/0/100"),
		VerifyAddressRow("m/44'/60'/0'/0/0"),
		LegacyRow("chain-1", big.NewInt(1)),
		LegacyRow("chain-137", big.NewInt(137)),
		LegacyRow("chain-11155111", big.NewInt(11155111)),
		LegacyRow("chain-2147483629", big.NewInt(2147483629)), // the largest chain id with a full v from the device
		LegacyRow("chain-4294967311", big.NewInt(4294967311)), // above 2^32: parity only
		LegacyRow("chain-18446744073709551615", new(big.Int).SetUint64(^uint64(0))),
		EIP1559Row("4KiB-calldata", 4096),
		{Name: "eip2930/access-list", WantCode: sdk.CodeUnsupported,
			Call: func(ctx context.Context, t *testing.T, s sdk.Signer, dev Device) error {
				return signTx(ctx, t, s, dev, big.NewInt(137), types.NewTx(&types.AccessListTx{
					ChainID: big.NewInt(137), Nonce: 1, GasPrice: big.NewInt(30_000_000_000), Gas: 50_000, To: &scenarioTo,
				}))
			}},
		PersonalRow("ascii", []byte("hello from mm")),
		PersonalRow("binary-1KiB", []byte(strings.Repeat("\x00\xff\x10\x80", 256))),
		TypedDataRow("full", MailDoc), // the One signs its hashes
		{Name: "rejected", Fault: FaultRejectNext, WantCode: sdk.CodeUserRejected, Call: msg("rejected on the device")},
		{Name: "pin/right", Fault: FaultTrezorPIN, Call: msg("unlocked with the PIN")},
		{Name: "pin/wrong", Fault: FaultTrezorWrongPIN, WantCode: sdk.CodePinInvalid, Call: msg("wrong PIN")},
		{Name: "pin/cancelled", Fault: FaultTrezorPINCancelled, WantCode: sdk.CodeUserRejected, Call: msg("PIN cancelled")},
		{Name: "passphrase/host", Fault: FaultTrezorPassphrase, Call: passphraseCall},
		{Name: "old-firmware/eip1559", Fault: FaultOldFirmware, WantCode: sdk.CodeFirmwareTooOld,
			Call: func(ctx context.Context, t *testing.T, s sdk.Signer, dev Device) error {
				return signTx(ctx, t, s, dev, big.NewInt(1), eip1559Tx(0))
			}},
		{Name: "old-firmware/typed-data", Fault: FaultOldFirmware, WantCode: sdk.CodeFirmwareTooOld,
			Call: func(ctx context.Context, t *testing.T, s sdk.Signer, dev Device) error {
				return signTyped(ctx, t, s, dev, MailDoc)
			}},
		{Name: "bitcoin-only-firmware", Fault: FaultTrezorBitcoinOnly, WantCode: sdk.CodeUnsupported, Call: msg("no ethereum")},
		{Name: "not-initialized", Fault: FaultTrezorWiped, WantCode: sdk.CodeDeviceNotInitialized, Call: msg("no wallet")},
		{Name: "disconnect-mid-sign", Fault: FaultDisconnectMidSign, WantCode: sdk.CodeDeviceDisconnected,
			Call: func(ctx context.Context, t *testing.T, s sdk.Signer, dev Device) error {
				return signTx(ctx, t, s, dev, big.NewInt(1), eip1559Tx(0))
			}},
		CancelRow(),
	}
	if one {
		// The One asks the host for the PIN: without a terminal mm cannot.
		rows = append(rows, Scenario{Name: "locked", Fault: FaultLocked, WantCode: sdk.CodeDeviceLocked, Call: msg("locked")})
	} else {
		// Core models take the PIN and, if asked, the passphrase on
		// their own screen.
		rows = append(rows,
			Scenario{Name: "locked", Fault: FaultLocked, Call: msg("PIN typed on the device")},
			Scenario{Name: "passphrase/on-device", Fault: FaultTrezorPassOnDevice, Call: passphraseCall},
		)
	}
	return rows
}

// passphraseCall checks that a passphrase opens another wallet, then signs
// with it.
func passphraseCall(ctx context.Context, t *testing.T, s sdk.Signer, dev Device) error {
	resp, err := s.Accounts(ctx, &sdk.AccountsRequest{Paths: []string{DefaultPath}})
	if err != nil {
		return err
	}
	a := resp.Accounts[0]
	if a.Address == trezorAllAll[DefaultPath] {
		t.Fatal("the passphrase did not change the address")
	}
	m, err := s.SignMessage(ctx, &sdk.SignMessageRequest{Account: a, Message: []byte("hidden wallet")})
	if err != nil {
		return err
	}
	checkSig(t, accounts.TextHash([]byte("hidden wallet")), m.Signature, a.Address)
	return nil
}

// emulatedTrezor runs the rows against hwtest's Trezor emulator, reached
// over UDP or through the test Bridge.
type emulatedTrezor struct {
	model  trezoremu.Model
	bridge bool

	opts    trezoremu.Options
	emu     *trezoremu.Emulator
	br      *trezoremu.Bridge
	uri     string
	signerS map[string]string // extra signer settings for the row
	pinMode Fault             // how the user answers the PIN prompt
	// modified: opts differ from the defaults (Reset restarts)
	modified bool

	promptLog
}

func (d *emulatedTrezor) start(t *testing.T) {
	t.Helper()
	d.stop()
	e, err := trezoremu.New(d.opts)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := e.ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d.emu, d.uri = e, trezoremu.URI(addr)
	if d.bridge {
		d.br = trezoremu.NewBridge(addr)
		baddr, err := d.br.Listen("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		d.uri = transport.TrezorBridgeURI(baddr, "1")
	}
}

func (d *emulatedTrezor) stop() {
	if d.br != nil {
		d.br.Close()
		d.br = nil
	}
	if d.emu != nil {
		d.emu.Close()
		d.emu = nil
	}
}

func (d *emulatedTrezor) defaults() trezoremu.Options {
	return trezoremu.Options{Model: d.model, Seed: 7}
}

func (d *emulatedTrezor) Signer(t *testing.T) sdk.Signer {
	s := trezor.New()
	settings := map[string]string{trezor.SettingDevice: d.uri}
	for k, v := range d.signerS {
		settings[k] = v
	}
	if _, err := s.Configure(context.Background(), &sdk.ConfigureRequest{Settings: settings}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return prompted{s, d}
}

func (d *emulatedTrezor) Apply(t *testing.T, f Fault) string {
	restart := func(mod func(o *trezoremu.Options)) {
		mod(&d.opts)
		d.modified = true
		d.start(t)
	}
	switch f {
	case FaultRejectNext:
		d.emu.RejectNext()
	case FaultLocked:
		restart(func(o *trezoremu.Options) { o.PIN = trezorTestPIN })
		d.pinMode = FaultLocked
	case FaultTrezorPIN, FaultTrezorWrongPIN, FaultTrezorPINCancelled:
		restart(func(o *trezoremu.Options) { o.PIN = trezorTestPIN })
		d.pinMode = f
		if d.model != trezoremu.ModelOne {
			// Core models take the PIN on their own screen.
			switch f {
			case FaultTrezorWrongPIN:
				d.emu.SetPINEntry(trezoremu.PINWrong)
			case FaultTrezorPINCancelled:
				d.emu.SetPINEntry(trezoremu.PINCancel)
			}
		}
	case FaultTrezorPassphrase:
		restart(func(o *trezoremu.Options) { o.PassphraseProtection = true })
	case FaultTrezorPassOnDevice:
		restart(func(o *trezoremu.Options) { o.PassphraseProtection, o.DevicePassphrase = true, "typed on the device" })
		d.signerS = map[string]string{trezor.SettingPassphrase: trezor.PassphraseDevice}
	case FaultOldFirmware:
		restart(func(o *trezoremu.Options) {
			o.Firmware = "2.4.1"
			if d.model == trezoremu.ModelOne {
				o.Firmware = "1.10.3"
			}
		})
	case FaultTrezorBitcoinOnly:
		restart(func(o *trezoremu.Options) { o.BitcoinOnly = true })
	case FaultTrezorWiped:
		restart(func(o *trezoremu.Options) { o.Uninitialized = true })
	case FaultDisconnectMidSign:
		d.emu.DisconnectNext()
	case FaultSlowUser:
		d.emu.SetConfirmDelay(10 * time.Second)
	default:
		return "unknown fault"
	}
	return ""
}

func (d *emulatedTrezor) Reset(t *testing.T) {
	d.pinMode, d.signerS = FaultNone, nil
	if d.emu == nil || d.emu.Closed() || d.modified {
		d.opts, d.modified = d.defaults(), false
		d.start(t)
	}
	d.emu.ApproveAll()
}

func (d *emulatedTrezor) KnownAddress(path string) (common.Address, bool) {
	if d.opts.PassphraseProtection {
		return common.Address{}, false
	}
	a, ok := trezorAllAll[path]
	return a, ok
}

func (d *emulatedTrezor) Signatures() (int, bool) { return d.emu.Stats().Signatures, true }

// RequestSecret plays the user at the keyboard: it reads the scrambled
// matrix off the emulator's screen and types the PIN's positions (or a
// wrong PIN, or cancels), and types the passphrase.
func (d *emulatedTrezor) RequestSecret(_ context.Context, r *sdk.SecretRequest) (*sdk.SecretResponse, error) {
	d.mu.Lock()
	d.asked = append(d.asked, r.Kind)
	d.mu.Unlock()
	switch r.Kind {
	case sdk.SecretPIN:
		if !strings.Contains(r.Hint, "7 8 9") || !strings.Contains(r.Hint, "positions") && !strings.Contains(r.Hint, "POSITIONS") {
			return nil, errors.New("the PIN prompt does not explain the scrambled matrix")
		}
		pin := trezorTestPIN
		switch d.pinMode {
		case FaultLocked:
			return nil, sdk.NewError(sdk.CodeNonInteractive, "no terminal", "")
		case FaultTrezorPINCancelled:
			return nil, sdk.NewError(sdk.CodeUserRejected, "cancelled at the prompt", "")
		case FaultTrezorWrongPIN:
			pin = "9999"
		}
		pos, err := trezoremu.PinPositions(d.emu.PinMatrix(), pin)
		if err != nil {
			return nil, err
		}
		return &sdk.SecretResponse{Secret: []byte(pos)}, nil
	case sdk.SecretPassphrase:
		return &sdk.SecretResponse{Secret: []byte("correct horse")}, nil
	}
	return nil, sdk.NewError(sdk.CodeNonInteractive, "no such secret", "")
}

// TestTrezorScenarios runs the Trezor rows against the emulator, for both
// firmware families, over the emulator's UDP port and through a Trezor
// Bridge.
func TestTrezorScenarios(t *testing.T) {
	for _, model := range []trezoremu.Model{trezoremu.ModelOne, trezoremu.ModelT} {
		for _, wire := range []string{"udp", "bridge"} {
			t.Run(string(model)+"/"+wire, func(t *testing.T) {
				t.Parallel()
				dev := &emulatedTrezor{model: model, bridge: wire == "bridge"}
				t.Cleanup(dev.stop)
				Run(t, dev, trezorScenarios(model == trezoremu.ModelOne))

				// Every confirmation named the model and was closed.
				name := "Trezor Model T"
				if model == trezoremu.ModelOne {
					name = "Trezor Model One"
				}
				dev.checkPrompts(t, func(p sdk.WaitingRequest) bool {
					return p.Device == name && (p.Done || strings.HasSuffix(p.Message, "on your "+name))
				})
				dev.mu.Lock()
				defer dev.mu.Unlock()
				pins := 0
				for _, k := range dev.asked {
					if k == sdk.SecretPIN {
						pins++
					}
				}
				if model == trezoremu.ModelOne && pins < 3 || model != trezoremu.ModelOne && pins != 0 {
					t.Errorf("the PIN was asked on the host %d times", pins)
				}
			})
		}
	}
}
