// Command ledger-emulator runs hwtest's Ledger emulator (a Ledger device with
// the Ethereum app open) on the Speculos raw APDU TCP protocol, so mm, the
// demo, ledgerblue/ragger clients and other tools can use it:
//
//	go run ./hwtest/cmd/ledger-emulator -listen 127.0.0.1:9999 -control 127.0.0.1:9998
//	mm init --wallet ledger --device tcp://127.0.0.1:9999
//
// Flags:
//
//	-listen ADDR       APDU server address (default 127.0.0.1:9999; port 0 picks a free one)
//	-control ADDR      HTTP control endpoint (default off)
//	-model SLUG        nanos, nanox, nanosp, stax, flex, apex (default nanosp)
//	-app-version V     Ethereum app version (default 1.19.1; 1.8.8 refuses EIP-1559)
//	-blind=false       start with blind signing off (a fresh app's default)
//	-locked            start locked
//	-dashboard         start with the Ethereum app closed
//	-delay D           time the simulated user takes to confirm (e.g. 2s)
//	-seed-file PATH    read the BIP-39 mnemonic from PATH (default: the public Speculos seed)
//	-v                 log every APDU
//
// The mnemonic is read from a file, never from argv or the environment, and
// is never printed. The emulator is test equipment: its keys are public or
// test keys; never send real funds to its addresses.
//
// HTTP control endpoint (when -control is set; every action is a POST and
// answers the device state as JSON):
//
//	curl -s  127.0.0.1:9998/state
//	curl -sX POST 127.0.0.1:9998/reject          # reject the next confirmation
//	curl -sX POST 127.0.0.1:9998/approve         # back to auto-approve
//	curl -sX POST 127.0.0.1:9998/lock            # /unlock
//	curl -sX POST 127.0.0.1:9998/app/close       # /app/open
//	curl -sX POST 127.0.0.1:9998/blind/off       # /blind/on
//	curl -sX POST '127.0.0.1:9998/version?v=1.8.8'
//	curl -sX POST '127.0.0.1:9998/delay?ms=2000'
//	curl -sX POST 127.0.0.1:9998/disconnect      # unplug at the next confirmation
//
// The process prints "listening tcp://ADDR" (and "control http://ADDR") on
// stdout once ready, and stops on SIGINT/SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"

	"github.com/mm-wallet/mm/hwtest/emulator"
	"github.com/mm-wallet/mm/hwtest/ledger"
)

func main() { emulator.Main("ledger-emulator", run) }

// run serves until ctx ends. It prints the bound addresses on stdout.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ledger-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:9999", "APDU server address (Speculos protocol)")
	control := fs.String("control", "", "HTTP control endpoint address (off when empty)")
	model := fs.String("model", "nanosp", "device model: nanos, nanox, nanosp, stax, flex, apex")
	version := fs.String("app-version", ledger.DefaultAppVersion, "Ethereum app version")
	blind := fs.Bool("blind", true, "blind signing enabled")
	locked := fs.Bool("locked", false, "start locked")
	dashboard := fs.Bool("dashboard", false, "start with the Ethereum app closed")
	delay := fs.Duration("delay", 0, "time the simulated user takes to confirm")
	seedFile := fs.String("seed-file", "", "file holding the BIP-39 mnemonic (default: the public Speculos seed)")
	verbose := fs.Bool("v", false, "log every APDU")
	if err := emulator.ParseArgs(fs, args); err != nil {
		return err
	}
	opts := ledger.Options{
		Model: *model, AppVersion: *version, DisableBlindSigning: !*blind,
		Locked: *locked, AppClosed: *dashboard, ConfirmDelay: *delay,
	}
	mnemonic, err := emulator.ReadMnemonicFile(*seedFile)
	if err != nil {
		return fmt.Errorf("read seed file: %w", err)
	}
	opts.Mnemonic = mnemonic
	fmt.Fprintln(stderr, "ledger-emulator: WARNING: test equipment only; its keys are public or test keys, never send real funds to them")
	if *verbose {
		opts.Logf = log.New(stderr, "", log.Ltime|log.Lmicroseconds).Printf
	}
	emu, err := ledger.NewEmulator(opts)
	if err != nil {
		return err
	}
	defer emu.Close()
	addr, err := emu.Listen(*listen)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "listening tcp://%s\n", addr)
	if *control != "" {
		caddr, shutdown, err := emulator.ServeControl(*control, emu.ControlHandler(), stderr)
		if err != nil {
			return err
		}
		defer shutdown()
		fmt.Fprintf(stdout, "control http://%s\n", caddr)
	}
	<-ctx.Done()
	return nil
}
