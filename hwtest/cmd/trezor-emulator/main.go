// Command trezor-emulator runs hwtest's Trezor emulator on the UDP protocol
// of the official Trezor emulator (codec v1, one 64-byte datagram per
// packet, PINGPING/PONGPONG), so mm, trezorlib (`trezorctl -p udp:127.0.0.1:21324`)
// and Trezor Bridge (`trezord -e 21324`) can use it:
//
//	go run ./hwtest/cmd/trezor-emulator -listen 127.0.0.1:21324 -control 127.0.0.1:21330
//	mm hw list
//	mm init --wallet trezor --device udp://127.0.0.1:21324
//
// Flags:
//
//	-listen ADDR            UDP address (default 127.0.0.1:21324; port 0 picks a free one)
//	-control ADDR           HTTP control endpoint (default off)
//	-bridge ADDR            also serve the Trezor Bridge API in front of the emulator (default off;
//	                        a real Bridge listens on 127.0.0.1:21325)
//	-model M                one (Trezor Model One, legacy firmware), t (Model T), safe3, safe5 (default t)
//	-firmware V             firmware version, e.g. 1.10.3 (no EIP-1559) or 2.4.1 (default: recent)
//	-seed-file PATH         read the BIP-39 mnemonic from PATH (default: SLIP-14 "all all … all")
//	-pin-file PATH          turn PIN protection on with the PIN (digits 1-9) read from PATH
//	-passphrase             turn passphrase protection on
//	-device-passphrase-file PATH  what the user "types" on a Core model when the host asks for on-device entry
//	-matrix-seed N          seed of the scrambled PIN matrix and session ids (default 1)
//	-bitcoin-only           emulate bitcoin-only firmware (Ethereum calls fail: UnexpectedMessage)
//	-uninitialized          emulate a wiped device (NotInitialized)
//	-confirm MODE           auto (approve at once, default), manual (wait for the control endpoint), reject
//	-delay D                time the simulated user takes to confirm (e.g. 2s)
//	-v                      log every message
//
// Secrets are read from files, never from argv or the environment, and never
// printed. The emulator is test equipment: the default seed is public;
// never send real funds to its addresses.
//
// HTTP control endpoint (when -control is set; actions are POSTs and answer
// the device state as JSON):
//
//	curl -s  127.0.0.1:21330/state               # model, firmware, locked, PIN matrix on screen, counters
//	curl -sX POST 127.0.0.1:21330/approve        # approve the confirmation on screen (manual), else approve all
//	curl -sX POST 127.0.0.1:21330/reject         # reject the confirmation on screen (manual), else the next one
//	curl -sX POST 127.0.0.1:21330/reject-all     # reject until /approve
//	curl -sX POST 127.0.0.1:21330/manual         # /auto
//	curl -sX POST '127.0.0.1:21330/delay?ms=2000'
//	curl -sX POST 127.0.0.1:21330/lock           # ask the PIN again
//	curl -sX POST '127.0.0.1:21330/pin-entry?next=wrong'   # Core models: the next on-device PIN entry (correct, wrong, cancel)
//	curl -sX POST 127.0.0.1:21330/disconnect     # unplug at the next confirmation
//
// With a PIN on the Trezor One, the scrambled matrix the device would show
// is printed on stderr (and in /state): type the positions of your PIN's
// digits (keypad layout 7 8 9 / 4 5 6 / 1 2 3) at mm's prompt.
//
// The process prints "listening udp://ADDR" (then "control http://ADDR" and
// "bridge bridge://ADDR") on stdout once ready, and stops on SIGINT/SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"

	"github.com/mm-wallet/mm/hwtest/emulator"
	"github.com/mm-wallet/mm/hwtest/trezor"
	"github.com/mm-wallet/mm/signers/transport"
)

func main() { emulator.Main("trezor-emulator", run) }

// run serves until ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("trezor-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", transport.TrezorUDPDefaultAddr, "UDP address")
	control := fs.String("control", "", "HTTP control endpoint address (default off)")
	bridge := fs.String("bridge", "", "also serve the Trezor Bridge API on this address (default off)")
	model := fs.String("model", string(trezor.ModelT), "one, t, safe3 or safe5")
	firmware := fs.String("firmware", "", "firmware version major.minor.patch")
	seedFile := fs.String("seed-file", "", "file holding the BIP-39 mnemonic")
	pinFile := fs.String("pin-file", "", "file holding the PIN (digits 1-9)")
	passphrase := fs.Bool("passphrase", false, "passphrase protection")
	devPassFile := fs.String("device-passphrase-file", "", "file holding the passphrase typed on the device")
	matrixSeed := fs.Uint64("matrix-seed", 1, "seed of the PIN matrix scrambling")
	btcOnly := fs.Bool("bitcoin-only", false, "bitcoin-only firmware")
	uninit := fs.Bool("uninitialized", false, "no wallet on the device")
	confirm := fs.String("confirm", "auto", "auto, manual or reject")
	delay := fs.Duration("delay", 0, "time the simulated user takes to confirm")
	verbose := fs.Bool("v", false, "log every message")
	if err := emulator.ParseArgs(fs, args); err != nil {
		return err
	}
	mnemonic, err := emulator.ReadMnemonicFile(*seedFile)
	if err != nil {
		return fmt.Errorf("seed file: %w", err)
	}
	pin, err := emulator.ReadSecretFile(*pinFile)
	if err != nil {
		return fmt.Errorf("PIN file: %w", err)
	}
	devPass, err := emulator.ReadSecretFile(*devPassFile)
	if err != nil {
		return fmt.Errorf("device passphrase file: %w", err)
	}
	logger := log.New(stderr, "", log.LstdFlags)
	opts := trezor.Options{
		Model: trezor.Model(*model), Firmware: *firmware, Mnemonic: mnemonic, PIN: pin,
		PassphraseProtection: *passphrase, DevicePassphrase: devPass, Seed: *matrixSeed,
		BitcoinOnly: *btcOnly, Uninitialized: *uninit,
		Events: func(ev string) { logger.Print("trezor emulator: ", ev) },
	}
	if *verbose {
		opts.Logf = logger.Printf
	}
	e, err := trezor.New(opts)
	if err != nil {
		return err
	}
	defer e.Close()
	switch *confirm {
	case "auto":
	case "manual":
		e.SetManual(true)
	case "reject":
		e.RejectAll()
	default:
		return fmt.Errorf("-confirm must be auto, manual or reject")
	}
	e.SetConfirmDelay(*delay)
	addr, err := e.ListenUDP(*listen)
	if err != nil {
		return err
	}
	if mnemonic == "" {
		fmt.Fprintln(stderr, "trezor-emulator: TEST DEVICE with the public SLIP-14 seed (all all … all): never send real funds to its addresses")
	} else {
		fmt.Fprintln(stderr, "trezor-emulator: TEST DEVICE: its seed came from a file on this machine; do not use it for real funds")
	}
	st := e.State()
	fmt.Fprintf(stderr, "trezor-emulator: %s, firmware %s\n", st.Name, st.Firmware)
	fmt.Fprintf(stdout, "listening %s\n", trezor.URI(addr))

	if *control != "" {
		caddr, shutdown, err := emulator.ServeControl(*control, e.ControlHandler(), stderr)
		if err != nil {
			return err
		}
		defer shutdown()
		fmt.Fprintf(stdout, "control http://%s\n", caddr)
	}
	if *bridge != "" {
		b := trezor.NewBridge(addr)
		baddr, err := b.Listen(*bridge)
		if err != nil {
			return fmt.Errorf("bridge: %w", err)
		}
		defer b.Close()
		fmt.Fprintf(stdout, "bridge %s\n", transport.TrezorBridgeURI(baddr, ""))
	}

	<-ctx.Done()
	return nil
}
