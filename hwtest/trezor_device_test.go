//go:build hwdevice

package hwtest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/signers/transport"
	"github.com/mm-wallet/mm/signers/trezor"
	"github.com/mm-wallet/mm/signers/trezor/trezorpb"
)

// TestTrezorScenariosDevice runs the Trezor rows against the device named by
// MM_HWTEST_TREZOR: a real Trezor through Trezor Bridge
// (bridge://127.0.0.1:21325), a Trezor One on USB HID (hid://trezor), or
// an external emulator such as Trezor's own (udp://127.0.0.1:21324). An
// operator acts on the device when asked on stderr.
//
//	MM_HWTEST_TREZOR=bridge://127.0.0.1:21325 go test -tags hwdevice -run TestTrezorScenariosDevice -v -timeout 30m ./hwtest/
//
// Set MM_HWTEST_TREZOR_TEST_SEED=1 when the device holds the SLIP-14 test
// seed ("all all … all"): the rows then also check exact addresses. Rows
// that need a device state the owner cannot produce on the spot (another
// firmware, a wiped device) or a PIN typed by the test are skipped with the
// reason; the test never takes a real PIN.
func TestTrezorScenariosDevice(t *testing.T) {
	uri := deviceURI(t, "MM_HWTEST_TREZOR", "bridge://127.0.0.1:21325, hid://trezor or udp://127.0.0.1:21324")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	st, err := trezor.DeviceStatus(ctx, uri)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	say("testing %s, firmware %s at %s", st.Model, st.Firmware, uri)
	dev := &realTrezor{uri: uri, status: st, knownSeed: os.Getenv("MM_HWTEST_TREZOR_TEST_SEED") == "1"}
	runOperated(t, dev, trezorScenarios(st.Model == "Trezor Model One"))
}

type realTrezor struct {
	uri       string
	status    *trezor.Status
	knownSeed bool
	settings  map[string]string
}

func (d *realTrezor) Signer(t *testing.T) sdk.Signer {
	s := trezor.New()
	settings := map[string]string{trezor.SettingDevice: d.uri}
	for k, v := range d.settings {
		settings[k] = v
	}
	if _, err := s.Configure(context.Background(), &sdk.ConfigureRequest{Settings: settings}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return prompted{s, operatorPrompter{passphrase: []byte("correct horse")}}
}

func (d *realTrezor) Apply(t *testing.T, f Fault) string {
	st := d.status
	one := st.Model == "Trezor Model One"
	switch f {
	case FaultRejectNext:
		say("press REJECT (or ✕) on the device at the next confirmation")
	case FaultLocked:
		if !st.PINProtection {
			return "the device has no PIN"
		}
		d.lock(t)
		if !one {
			say("enter your PIN on the device when it asks")
		}
	case FaultTrezorPIN, FaultTrezorWrongPIN, FaultTrezorPINCancelled:
		return "PIN rows need the emulator: the test never takes a real PIN"
	case FaultTrezorPassphrase:
		if !st.PassphraseProtection {
			return "passphrase protection is off on the device"
		}
	case FaultTrezorPassOnDevice:
		if !st.PassphraseProtection || one {
			return "needs a Core model with passphrase protection on"
		}
		d.settings = map[string]string{trezor.SettingPassphrase: trezor.PassphraseDevice}
		say("type any non-empty passphrase on the device when it asks")
	case FaultOldFirmware:
		if st.Capabilities.SupportsTx(sdk.TxEIP1559) {
			return "the device runs firmware " + st.Firmware + ", which signs EIP-1559"
		}
	case FaultTrezorBitcoinOnly:
		if !st.BitcoinOnly {
			return "the device runs universal firmware"
		}
	case FaultTrezorWiped:
		if st.Initialized {
			return "the device holds a wallet"
		}
	case FaultDisconnectMidSign:
		say("UNPLUG the device when it asks you to confirm the next transaction")
	case FaultSlowUser:
		say("do NOT confirm the next message; the test cancels it")
	default:
		return "unknown fault"
	}
	return ""
}

// lock sends LockDevice, so the next protected call asks for the PIN.
func (d *realTrezor) lock(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tr, err := transport.Dial(ctx, d.uri)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	typ, payload, _ := trezorpb.Marshal(&trezorpb.LockDevice{})
	if _, err := tr.Exchange(ctx, transport.TrezorFrame(uint16(typ), payload)); err != nil {
		t.Fatal(err)
	}
}

func (d *realTrezor) Reset(t *testing.T) {
	d.settings = nil
	say("keep the device connected and unlocked, and approve confirmations")
}

func (d *realTrezor) KnownAddress(path string) (common.Address, bool) {
	if !d.knownSeed {
		return common.Address{}, false
	}
	a, ok := trezorAllAll[path]
	return a, ok
}

func (d *realTrezor) Signatures() (int, bool) { return 0, false }
