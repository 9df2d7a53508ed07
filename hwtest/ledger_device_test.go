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
	"github.com/mm-wallet/mm/signers/ledger"
)

// TestLedgerScenariosDevice runs the Ledger rows against the device named by
// MM_HWTEST_LEDGER: a real Ledger (hid://ledger) or an external emulator
// such as Speculos (tcp://127.0.0.1:9999). An operator puts the device in
// each state when asked on stderr; the test polls the device until it is.
//
//	MM_HWTEST_LEDGER=hid://ledger go test -tags hwdevice -run TestLedgerScenariosDevice -v -timeout 30m ./hwtest/
//
// Set MM_HWTEST_LEDGER_SPECULOS_SEED=1 when the device holds the Speculos
// test seed: the rows then also check the exact addresses.
func TestLedgerScenariosDevice(t *testing.T) {
	uri := os.Getenv("MM_HWTEST_LEDGER")
	if uri == "" {
		t.Fatal("set MM_HWTEST_LEDGER to the device URI, e.g. hid://ledger or tcp://127.0.0.1:9999")
	}
	dev := &realLedger{uri: uri, knownSeed: os.Getenv("MM_HWTEST_LEDGER_SPECULOS_SEED") == "1"}
	rows := ledgerScenarios()
	for i := range rows {
		rows[i].Timeout = 5 * time.Minute
	}
	Run(t, dev, rows)
}

// realLedger asks an operator to act and checks the device state itself.
type realLedger struct {
	uri       string
	knownSeed bool
}

func say(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "\n>>> OPERATOR: "+format+"\n", args...)
}

func (d *realLedger) Signer(t *testing.T) sdk.Signer {
	s := ledger.New()
	if _, err := s.Configure(context.Background(), &sdk.ConfigureRequest{Settings: map[string]string{"device": d.uri}}); err != nil {
		t.Fatal(err)
	}
	return operatorPrompts{s}
}

// waitFor polls the device until ok holds, telling the operator what to do.
func (d *realLedger) waitFor(t *testing.T, what string, ok func(*ledger.Status) bool) {
	t.Helper()
	say("%s", what)
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		st, err := ledger.DeviceStatus(ctx, d.uri)
		cancel()
		if err == nil && ok(st) {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("the device did not reach the state: %s", what)
}

func (d *realLedger) Apply(t *testing.T, f Fault) string {
	switch f {
	case FaultRejectNext:
		say("press REJECT on the device at the next confirmation")
	case FaultLocked:
		d.waitFor(t, "lock the device (PIN screen up)", func(s *ledger.Status) bool { return s.Locked })
	case FaultAppClosed:
		d.waitFor(t, "quit the Ethereum app (back to the dashboard)", func(s *ledger.Status) bool { return !s.Locked && s.App == "BOLOS" })
	case FaultBlindSigningOff:
		d.waitFor(t, "turn Blind signing OFF in the Ethereum app settings", func(s *ledger.Status) bool { return s.App == "Ethereum" && !s.BlindSigning })
	case FaultOldFirmware:
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		st, err := ledger.DeviceStatus(ctx, d.uri)
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := ledger.ParseVersion(st.AppVersion); !ok || v.AtLeast(1, 9, 0) {
			return "the device runs Ethereum app " + st.AppVersion + "; the row needs one older than 1.9.0"
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

func (d *realLedger) Reset(t *testing.T) {
	d.waitFor(t, "connect and unlock the device, open the Ethereum app, turn Blind signing ON, approve confirmations",
		func(s *ledger.Status) bool { return !s.Locked && s.App == "Ethereum" && s.BlindSigning })
}

func (d *realLedger) KnownAddress(path string) (common.Address, bool) {
	if !d.knownSeed {
		return common.Address{}, false
	}
	a, ok := speculosAddresses[path]
	return a, ok
}

func (d *realLedger) Signatures() (int, bool) { return 0, false }

// operatorPrompts relays the signer's prompts to the operator.
type operatorPrompts struct{ sdk.Signer }

type stderrPrompter struct{}

func (stderrPrompter) Notify(_ context.Context, r *sdk.NotifyRequest) (*sdk.NotifyResponse, error) {
	say("[%s] %s", r.Level, r.Message)
	return &sdk.NotifyResponse{}, nil
}
func (stderrPrompter) RequestSecret(context.Context, *sdk.SecretRequest) (*sdk.SecretResponse, error) {
	return nil, sdk.NewError(sdk.CodeNonInteractive, "no secrets for a Ledger", "")
}
func (stderrPrompter) Confirm(context.Context, *sdk.ConfirmRequest) (*sdk.ConfirmResponse, error) {
	return &sdk.ConfirmResponse{Confirmed: true}, nil
}
func (stderrPrompter) WaitingForUser(_ context.Context, r *sdk.WaitingRequest) (*sdk.WaitingResponse, error) {
	if !r.Done {
		say("%s", r.Message)
	}
	return &sdk.WaitingResponse{}, nil
}

func (o operatorPrompts) Accounts(ctx context.Context, r *sdk.AccountsRequest) (*sdk.AccountsResponse, error) {
	return o.Signer.Accounts(sdk.WithPrompter(ctx, stderrPrompter{}), r)
}
func (o operatorPrompts) SignTransaction(ctx context.Context, r *sdk.SignTransactionRequest) (*sdk.SignTransactionResponse, error) {
	return o.Signer.SignTransaction(sdk.WithPrompter(ctx, stderrPrompter{}), r)
}
func (o operatorPrompts) SignTypedData(ctx context.Context, r *sdk.SignTypedDataRequest) (*sdk.SignTypedDataResponse, error) {
	return o.Signer.SignTypedData(sdk.WithPrompter(ctx, stderrPrompter{}), r)
}
func (o operatorPrompts) SignMessage(ctx context.Context, r *sdk.SignMessageRequest) (*sdk.SignMessageResponse, error) {
	return o.Signer.SignMessage(sdk.WithPrompter(ctx, stderrPrompter{}), r)
}
