//go:build cgo

package transport

import (
	"context"
	"errors"
	"testing"
)

// TestLedgerUSBAbsent exercises the real karalabe/hid path on a machine
// without a Ledger (CI): enumeration works and finds none, and dialing
// answers ErrDeviceNotFound rather than hanging or crashing.
func TestLedgerUSBAbsent(t *testing.T) {
	devs, err := EnumerateLedgers()
	if err != nil {
		t.Fatalf("EnumerateLedgers: %v", err)
	}
	if len(devs) > 0 {
		t.Logf("a Ledger is connected (%+v): checking its URI dials", devs[0])
		tr, err := Dial(context.Background(), devs[0].URI)
		if err != nil && !errors.Is(err, ErrDeviceBusy) {
			t.Fatalf("dial %s: %v", devs[0].URI, err)
		}
		if tr != nil {
			tr.Close()
		}
		return
	}
	for _, uri := range []string{"hid://ledger", "hid://ledger/nanox", "hid://ledger?path=nowhere"} {
		if _, err := Dial(context.Background(), uri); !errors.Is(err, ErrDeviceNotFound) {
			t.Errorf("%s: %v, want ErrDeviceNotFound", uri, err)
		}
	}
}
