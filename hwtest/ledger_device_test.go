//go:build hwdevice

package hwtest

import (
	"context"
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
	uri := deviceURI(t, "MM_HWTEST_LEDGER", "hid://ledger or tcp://127.0.0.1:9999")
	dev := &realLedger{uri: uri, knownSeed: os.Getenv("MM_HWTEST_LEDGER_SPECULOS_SEED") == "1"}
	runOperated(t, dev, ledgerScenarios())
}

// realLedger asks an operator to act and checks the device state itself.
type realLedger struct {
	uri       string
	knownSeed bool
}

func (d *realLedger) Signer(t *testing.T) sdk.Signer {
	s := ledger.New()
	if _, err := s.Configure(context.Background(), &sdk.ConfigureRequest{Settings: map[string]string{"device": d.uri}}); err != nil {
		t.Fatal(err)
	}
	return prompted{s, operatorPrompter{}}
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
