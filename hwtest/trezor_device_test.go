//go:build hwdevice

package hwtest

import (
	"context"
	"fmt"
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
	uri := os.Getenv("MM_HWTEST_TREZOR")
	if uri == "" {
		t.Fatal("set MM_HWTEST_TREZOR to the device URI, e.g. bridge://127.0.0.1:21325, hid://trezor or udp://127.0.0.1:21324")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	st, err := trezor.DeviceStatus(ctx, uri)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	trezorSay("testing %s, firmware %s at %s", st.Model, st.Firmware, uri)
	dev := &realTrezor{uri: uri, status: st, knownSeed: os.Getenv("MM_HWTEST_TREZOR_TEST_SEED") == "1"}
	rows := trezorScenarios(st.Model == "Trezor Model One")
	for i := range rows {
		rows[i].Timeout = 5 * time.Minute
	}
	Run(t, dev, rows)
}

func trezorSay(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "\n>>> OPERATOR: "+format+"\n", args...)
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
	return trezorOperator{s}
}

func (d *realTrezor) Apply(t *testing.T, f Fault) string {
	st := d.status
	one := st.Model == "Trezor Model One"
	switch f {
	case FaultRejectNext:
		trezorSay("press REJECT (or ✕) on the device at the next confirmation")
	case FaultLocked:
		if !st.PINProtection {
			return "the device has no PIN"
		}
		d.lock(t)
		if !one {
			trezorSay("enter your PIN on the device when it asks")
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
		trezorSay("type any non-empty passphrase on the device when it asks")
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
		trezorSay("UNPLUG the device when it asks you to confirm the next transaction")
	case FaultSlowUser:
		trezorSay("do NOT confirm the next message; the test cancels it")
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
	trezorSay("keep the device connected and unlocked, and approve confirmations")
}

func (d *realTrezor) KnownAddress(path string) (common.Address, bool) {
	if !d.knownSeed {
		return common.Address{}, false
	}
	a, ok := trezorAllAll[path]
	return a, ok
}

func (d *realTrezor) Signatures() (int, bool) { return 0, false }

// trezorOperator relays the signer's prompts to the operator; it types the
// test passphrase and never a PIN.
type trezorOperator struct{ sdk.Signer }

func (w trezorOperator) ctx(ctx context.Context) context.Context {
	return sdk.WithPrompter(ctx, operatorTrezorPrompter{})
}
func (w trezorOperator) Accounts(ctx context.Context, r *sdk.AccountsRequest) (*sdk.AccountsResponse, error) {
	return w.Signer.Accounts(w.ctx(ctx), r)
}
func (w trezorOperator) SignTransaction(ctx context.Context, r *sdk.SignTransactionRequest) (*sdk.SignTransactionResponse, error) {
	return w.Signer.SignTransaction(w.ctx(ctx), r)
}
func (w trezorOperator) SignTypedData(ctx context.Context, r *sdk.SignTypedDataRequest) (*sdk.SignTypedDataResponse, error) {
	return w.Signer.SignTypedData(w.ctx(ctx), r)
}
func (w trezorOperator) SignMessage(ctx context.Context, r *sdk.SignMessageRequest) (*sdk.SignMessageResponse, error) {
	return w.Signer.SignMessage(w.ctx(ctx), r)
}

type operatorTrezorPrompter struct{}

func (operatorTrezorPrompter) Notify(_ context.Context, r *sdk.NotifyRequest) (*sdk.NotifyResponse, error) {
	trezorSay("[%s] %s", r.Level, r.Message)
	return &sdk.NotifyResponse{}, nil
}
func (operatorTrezorPrompter) RequestSecret(_ context.Context, r *sdk.SecretRequest) (*sdk.SecretResponse, error) {
	if r.Kind == sdk.SecretPassphrase {
		return &sdk.SecretResponse{Secret: []byte("correct horse")}, nil
	}
	return nil, sdk.NewError(sdk.CodeNonInteractive, "the device test never takes a PIN", "")
}
func (operatorTrezorPrompter) Confirm(context.Context, *sdk.ConfirmRequest) (*sdk.ConfirmResponse, error) {
	return &sdk.ConfirmResponse{Confirmed: true}, nil
}
func (operatorTrezorPrompter) WaitingForUser(_ context.Context, r *sdk.WaitingRequest) (*sdk.WaitingResponse, error) {
	if !r.Done {
		trezorSay("%s", r.Message)
	}
	return &sdk.WaitingResponse{}, nil
}
