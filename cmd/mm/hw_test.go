package main

import (
	"strings"
	"testing"
)

// TestProbeSet checks how mm hw list merges the routes to one device.
func TestProbeSet(t *testing.T) {
	var s probeSet
	s.add(&hwProbe{vendor: "Ledger", uri: "hid://ledger/nanox", source: sourceUSB})
	s.add(&hwProbe{vendor: "Ledger", uri: "hid://ledger/stax?path=a", source: sourceUSB})
	s.add(&hwProbe{vendor: "Ledger", uri: "tcp://127.0.0.1:9999", source: sourceEmulator, quiet: true})
	s.add(&hwProbe{vendor: "Ledger", uri: "tcp://127.0.0.1:9999?model=nanosp", source: sourceConfigured, wallets: []string{"ledger-0"}})
	s.add(&hwProbe{vendor: "Ledger", uri: "hid://ledger", source: sourceConfigured, wallets: []string{"ledger-1"}})
	s.add(&hwProbe{vendor: "Ledger", uri: "hid://ledger/stax", source: sourceConfigured, wallets: []string{"ledger-2"}})
	s.add(&hwProbe{vendor: "Ledger", uri: "hid://ledger/flex", source: sourceConfigured, wallets: []string{"ledger-3"}})
	s.add(&hwProbe{vendor: "Trezor", uri: "udp://127.0.0.1:21324", source: sourceEmulator})
	s.add(&hwProbe{vendor: "Trezor", uri: "UDP://127.0.0.1:21324/", source: sourceArgument})
	var got []string
	for _, p := range s.list {
		got = append(got, p.uri+" "+p.source+" "+strings.Join(p.wallets, ",")+map[bool]string{true: " quiet"}[p.quiet])
	}
	want := []string{
		"hid://ledger/nanox usb ledger-1",
		"hid://ledger/stax?path=a usb ledger-2",
		"tcp://127.0.0.1:9999?model=nanosp emulator ledger-0",
		"hid://ledger/flex configured ledger-3",
		"udp://127.0.0.1:21324 emulator ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
