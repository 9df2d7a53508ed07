package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/mm-wallet/mm/cmd/mm/internal/render"
	ledgeremu "github.com/mm-wallet/mm/hwtest/ledger"
	trezoremu "github.com/mm-wallet/mm/hwtest/trezor"
	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/signers/mnemonic"
)

// This file drives mm's hardware wallets end to end: the real mm binary
// (this test binary re-executed), its real ledger/trezor signer plugin
// processes, and the hwtest emulators over their real wire protocols
// (Speculos TCP, Trezor UDP), started in the test process on free ports.

func withScheme(addr, scheme string) string {
	if strings.Contains(addr, "://") {
		return addr
	}
	return scheme + "://" + addr
}

// startLedger runs a Ledger emulator on a free port and returns its URI.
func startLedger(t *testing.T, opts ledgeremu.Options) (*ledgeremu.Emulator, string) {
	t.Helper()
	emu, err := ledgeremu.NewEmulator(opts)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := emu.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	return emu, withScheme(addr, "tcp")
}

// startTrezor runs a Trezor emulator on a free UDP port and returns its URI.
func startTrezor(t *testing.T, opts trezoremu.Options) (*trezoremu.Emulator, string) {
	t.Helper()
	emu, err := trezoremu.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	addr, err := emu.ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return emu, trezoremu.URI(addr)
}

// closedAddr is a loopback address nothing listens on (TCP or UDP).
func closedAddr(t *testing.T, network string) string {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().String()
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// hermeticHW points mm hw list's probes of home away from the machine's
// default ports and USB, so other programs there cannot change a result.
func hermeticHW(t *testing.T, home string, ledgerEmu, trezorEmu string) {
	t.Helper()
	if ledgerEmu == "" {
		ledgerEmu = "off"
	}
	if trezorEmu == "" {
		trezorEmu = "off"
	}
	for _, kv := range [][2]string{{"hw.usb", "false"}, {"hw.trezorBridge", "off"}, {"hw.ledgerEmulator", ledgerEmu}, {"hw.trezorEmulator", trezorEmu}} {
		if r := runMM(t, home, nil, nil, "config", "set", kv[0], kv[1]); r.code != 0 {
			t.Fatalf("config set %s: %s %s", kv[0], r.stdout, r.stderr)
		}
	}
}

// softAddress derives the address at path from mnemonic with the software
// signer, an implementation independent of the device and its emulator.
func softAddress(t *testing.T, mn, passphrase, path string) string {
	t.Helper()
	s, err := mnemonic.NewFromMnemonic(mn, passphrase)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	resp, err := s.Accounts(context.Background(), &sdk.AccountsRequest{Paths: []string{path}})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Accounts[0].Address.Hex()
}

// recovers checks a 65-byte r‖s‖v (v 27/28) signature over hash against addr.
func recovers(hash []byte, sigHex, addr string) bool {
	raw, err := hexutil.Decode(sigHex)
	if err != nil || len(raw) != 65 || raw[64] < 27 {
		return false
	}
	raw[64] -= 27
	pub, err := crypto.SigToPub(hash, raw)
	return err == nil && crypto.PubkeyToAddress(*pub).Hex() == addr
}

// hardwareFlow runs init, create, sign-message and sign-typed-data against
// a device and checks that the signatures recover to the device's accounts.
func hardwareFlow(t *testing.T, wallet, device string) string {
	t.Helper()
	home := filepath.Join(t.TempDir(), "mm")
	r := runMM(t, home, nil, nil, "init", "--wallet", wallet, "--mode", "guard", "--device", device)
	if r.code != 0 {
		t.Fatalf("init: %s %s", r.stdout, r.stderr)
	}
	var ir initResult
	_ = json.Unmarshal(r.stdout, &ir)
	if !common.IsHexAddress(ir.Address) || ir.ActiveWallet != wallet+"-0" {
		t.Fatalf("init: %s", r.stdout)
	}
	r = runMM(t, home, nil, nil, "wallet", "create")
	var w walletView
	_ = json.Unmarshal(r.stdout, &w)
	if r.code != 0 || w.Index != 1 || w.Address == ir.Address || w.Path != "m/44'/60'/0'/0/1" || w.Device != device ||
		w.KeyRef != wallet+":path=m/44'/60'/0'/0/1" {
		t.Fatalf("create: %s %s", r.stdout, r.stderr)
	}
	r = runMM(t, home, nil, nil, "wallet", "sign-message", "--message", "hello", "--chain-id", "1")
	var sig signatureResult
	_ = json.Unmarshal(r.stdout, &sig)
	if r.code != 0 || !recovers(accounts.TextHash([]byte("hello")), sig.Signature, ir.Address) {
		t.Fatalf("sign-message: the device's signature does not recover to its account: %s %s", r.stdout, r.stderr)
	}
	if !bytes.Contains(r.stderr, []byte("confirm on your ")) {
		t.Errorf("no device prompt on stderr: %s", r.stderr)
	}
	r = runMM(t, home, nil, nil, "wallet", "sign-typed-data", "--chain-id", "1", "--payload-file", "testdata/mail.json")
	if r.code != 0 {
		t.Fatalf("sign-typed-data: %s %s", r.stdout, r.stderr)
	}
	r = runMM(t, home, nil, nil, "doctor")
	var d doctorReport
	_ = json.Unmarshal(r.stdout, &d)
	if !d.OK || d.Signer == nil || d.Signer.Kind != "hardware" {
		t.Errorf("doctor: %s", r.stdout)
	}
	return home
}

// TestLedger drives the built-in ledger signer against the wire-exact
// emulator over the Speculos TCP protocol, and switches wallet modes.
func TestLedger(t *testing.T) {
	t.Parallel()
	_, uri := startLedger(t, ledgeremu.Options{})
	home := hardwareFlow(t, "ledger", uri)

	// Switching between wallet modes: ledger → byok (import) → ledger (its
	// wallets kept) → byok again without a mnemonic (the stored one).
	active := func(r result) string {
		t.Helper()
		var ir initResult
		if r.code != 0 || json.Unmarshal(r.stdout, &ir) != nil {
			t.Fatalf("init: %s %s", r.stdout, r.stderr)
		}
		return ir.ActiveWallet + " " + ir.Address
	}
	ledger0 := active(runMM(t, home, nil, nil, "init", "show"))
	if got := active(runMM(t, home, []string{"MM_MNEMONIC=" + testMnemonic}, nil, "init", "--wallet", "byok", "--mode", "guard")); got != "byok-0 "+testAddr0 {
		t.Errorf("to byok: %s", got)
	}
	if got := active(runMM(t, home, nil, nil, "init", "--wallet", "ledger", "--mode", "guard", "--device", uri)); got != ledger0 {
		t.Errorf("back to ledger: %s, want %s", got, ledger0)
	}
	if got := active(runMM(t, home, nil, nil, "init", "--wallet", "byok", "--mode", "guard")); got != "byok-0 "+testAddr0 {
		t.Errorf("back to byok: %s", got)
	}
	r := runMM(t, home, []string{"MM_MNEMONIC=" + testMnemonic}, nil, "init", "--wallet", "byok", "--mode", "guard")
	if errCode(r) != "ALREADY_INITIALIZED" {
		t.Errorf("second import: %s", r.stdout)
	}
	r = runMM(t, home, nil, nil, "wallet", "list")
	var l walletList
	_ = json.Unmarshal(r.stdout, &l)
	if len(l.Wallets) != 3 {
		t.Errorf("wallets after switching: %s", r.stdout)
	}
	// A byok wallet has no device screen to verify on.
	r = runMM(t, home, nil, nil, "wallet", "address", "--verify")
	if errCode(r) != "UNSUPPORTED" || r.code != exitError {
		t.Errorf("byok --verify: exit %d %s", r.code, r.stdout)
	}
}

// TestTrezor drives the built-in trezor signer against the emulator over
// UDP; a Model One whose PIN must be typed on the host cannot be unlocked
// without a terminal (exit 5).
func TestTrezor(t *testing.T) {
	t.Parallel()
	_, uri := startTrezor(t, trezoremu.Options{})
	hardwareFlow(t, "trezor", uri)

	pinned, puri := startTrezor(t, trezoremu.Options{Model: trezoremu.ModelOne, PIN: "1234"}) // PIN typed on the host
	phome := filepath.Join(t.TempDir(), "mm")
	r := runMM(t, phome, nil, nil, "init", "--wallet", "trezor", "--mode", "guard", "--device", puri)
	if c := errCode(r); c != "DEVICE_LOCKED" || r.code != exitNeedUser {
		t.Errorf("PIN without a terminal: exit %d %s", r.code, r.stdout)
	}
	documented(t, r)
	if pinned.Stats().Signatures != 0 {
		t.Error("the device signed")
	}
}

// --- failure checks ----------------------------------------------------------

// documented checks that the README's table of device errors carries the
// code and the hint of the JSON error r printed, word for word.
func documented(t *testing.T, r result) {
	t.Helper()
	var doc render.ErrorDoc
	if err := json.Unmarshal(r.stdout, &doc); err != nil || doc.Error.Hint == "" {
		t.Errorf("no error with a hint: %s", r.stdout)
		return
	}
	readme := hardwareReadme(t)
	if !strings.Contains(readme, "| `"+string(doc.Error.Code)+"` |") || !strings.Contains(readme, doc.Error.Hint) {
		t.Errorf("README.md (Hardware wallets) does not document %s with the hint %q", doc.Error.Code, doc.Error.Hint)
	}
}

// failCase is a command that must fail with code and exit status.
type failCase struct {
	name  string
	fault func()   // provokes the device state; run before each attempt
	reset func()   // undoes it
	args  []string // the mm command
	code  string
	exit  int
	// stderr must contain this (the device prompt or a warning), in both
	// output formats.
	stderr string
	// device marks a device error, whose hint the README's table of
	// device errors must carry.
	device bool
	// env adds environment entries ("K=V") to mm's.
	env []string
}

// mustFail runs c in JSON and in text mode and checks the code, its hint,
// the exit status, that no signature was printed, that the state folder did
// not change (ignoring the files under the ignore prefixes) and that the
// device delivered no signature.
func mustFail(t *testing.T, home string, signatures func() int, c failCase, ignore ...string) result {
	t.Helper()
	digest := func() string {
		d, err := treeDigest(home)
		if err != nil {
			t.Fatal(err)
		}
		for k := range d {
			for _, p := range ignore {
				if strings.HasPrefix(k, p) {
					delete(d, k)
				}
			}
		}
		return fmt.Sprint(d)
	}
	before, sigs := digest(), signatures()
	run := func(extra ...string) result {
		if c.fault != nil {
			c.fault()
		}
		if c.reset != nil {
			defer c.reset()
		}
		return runMM(t, home, c.env, nil, append(append([]string{}, c.args...), extra...)...)
	}
	r := run()
	var doc render.ErrorDoc
	if err := json.Unmarshal(r.stdout, &doc); err != nil || string(doc.Error.Code) != c.code || r.code != c.exit {
		t.Fatalf("%s: got %s exit %d, want %s exit %d\nstdout: %s\nstderr: %s", c.name, doc.Error.Code, r.code, c.code, c.exit, r.stdout, r.stderr)
	}
	if doc.Error.Hint == "" || doc.Error.Message == "" {
		t.Errorf("%s: no message or hint: %s", c.name, r.stdout)
	}
	if bytes.Contains(r.stdout, []byte(`"signature"`)) || bytes.Contains(r.stdout, []byte(`"txHash"`)) {
		t.Errorf("%s: a signature was printed: %s", c.name, r.stdout)
	}
	if c.stderr != "" && !bytes.Contains(r.stderr, []byte(c.stderr)) {
		t.Errorf("%s: stderr lacks %q: %s", c.name, c.stderr, r.stderr)
	}
	if c.device {
		documented(t, r)
	}

	rt := run("--format", "text")
	want := fmt.Sprintf("(%s)\nhint: %s\n", c.code, doc.Error.Hint)
	if rt.code != c.exit || len(rt.stdout) != 0 || !bytes.Contains(rt.stderr, []byte("error: ")) || !bytes.Contains(rt.stderr, []byte(want)) {
		t.Errorf("%s, text: exit %d\nstdout: %s\nstderr: %s\nwant on stderr: %q", c.name, rt.code, rt.stdout, rt.stderr, want)
	}
	if c.stderr != "" && !bytes.Contains(rt.stderr, []byte(c.stderr)) {
		t.Errorf("%s, text: stderr lacks %q: %s", c.name, c.stderr, rt.stderr)
	}
	if after := digest(); after != before {
		t.Errorf("%s: the state folder changed:\nbefore %s\nafter  %s", c.name, before, after)
	}
	if n := signatures(); n != sigs {
		t.Errorf("%s: the device delivered %d signature(s)", c.name, n-sigs)
	}
	return result{stdout: append(r.stdout, rt.stdout...), stderr: append(r.stderr, rt.stderr...), code: r.code}
}

// initHW runs mm init for a hardware wallet and returns the home.
func initHW(t *testing.T, wallet, uri string, extra ...string) (string, initResult) {
	t.Helper()
	home := filepath.Join(t.TempDir(), "mm")
	r := runMM(t, home, nil, nil, append([]string{"init", "--wallet", wallet, "--mode", "guard", "--device", uri}, extra...)...)
	var ir initResult
	if r.code != 0 || json.Unmarshal(r.stdout, &ir) != nil {
		t.Fatalf("init %s on %s: %s %s", wallet, uri, r.stdout, r.stderr)
	}
	return home, ir
}

var (
	signHello = []string{"wallet", "sign-message", "--message", "hello", "--chain-id", "1"}
	signMail  = []string{"wallet", "sign-typed-data", "--chain-id", "1", "--payload-file", "testdata/mail.json"}
)

// TestLedgerFaults provokes every device state on the emulator and checks
// what mm makes of it: the code and hint (JSON and text), the exit status,
// and that nothing was signed, printed or recorded.
func TestLedgerFaults(t *testing.T) {
	t.Parallel()
	emu, uri := startLedger(t, ledgeremu.Options{Model: "nanox"})
	uri += "?model=nanox" // the Speculos protocol cannot tell the model; the URI does
	home, _ := initHW(t, "ledger", uri)
	sigs := func() int { return emu.Stats().Signatures }
	reset := func() {
		emu.ApproveAll()
		emu.SetLocked(false)
		emu.SetAppOpen(true)
		emu.SetBlindSigning(true)
		_ = emu.SetAppVersion(ledgeremu.DefaultAppVersion)
	}
	for _, c := range []failCase{
		{name: "rejected message", fault: emu.RejectNext, args: signHello, code: "USER_REJECTED", exit: exitDenied,
			stderr: "review the message: confirm on your Ledger Nano X…"},
		{name: "rejected typed data", fault: emu.RejectNext, args: signMail, code: "USER_REJECTED", exit: exitDenied,
			stderr: "review the typed data: confirm on your Ledger Nano X…"},
		{name: "rejected address", fault: emu.RejectNext, args: []string{"wallet", "address", "--verify"}, code: "USER_REJECTED", exit: exitDenied,
			stderr: "verify the address m/44'/60'/0'/0/0: confirm on your Ledger Nano X…"},
		{name: "locked", fault: func() { emu.SetLocked(true) }, args: signHello, code: "DEVICE_LOCKED", exit: exitNeedUser},
		{name: "app closed", fault: func() { emu.SetAppOpen(false) }, args: signHello, code: "APP_NOT_OPEN", exit: exitNeedUser},
		// An app without EIP-712 full mode signs typed data as hashes,
		// which is blind signing: refused while the setting is off.
		{name: "blind signing off, hashed typed data", fault: func() { _ = emu.SetAppVersion("1.9.18"); emu.SetBlindSigning(false) },
			args: signMail, code: "BLIND_SIGNING_DISABLED", exit: exitError, stderr: "will only show hashes"},
		{name: "disconnect mid-sign", fault: emu.DisconnectNext, args: signHello, code: "DEVICE_DISCONNECTED", exit: exitError,
			stderr: "confirm on your Ledger Nano X"},
	} {
		c.reset, c.device = reset, true
		mustFail(t, home, sigs, c)
	}
	// The device works again afterwards.
	if r := runMM(t, home, nil, nil, signHello...); r.code != 0 {
		t.Fatalf("after the faults: %s %s", r.stdout, r.stderr)
	}

	// No device: init refuses and writes nothing; a wallet whose device is
	// gone cannot sign.
	gone := "tcp://" + closedAddr(t, "tcp")
	empty := filepath.Join(t.TempDir(), "mm")
	mustFail(t, empty, func() int { return 0 }, failCase{name: "init without a device",
		args: []string{"init", "--wallet", "ledger", "--mode", "guard", "--device", gone}, code: "DEVICE_NOT_FOUND", exit: exitNeedUser, device: true})
	for _, f := range []string{sessionFile, walletsFile} {
		if _, err := os.Stat(filepath.Join(empty, f)); err == nil {
			t.Errorf("%s written by a failed init", f)
		}
	}
	other, ouri := startLedger(t, ledgeremu.Options{})
	ohome, _ := initHW(t, "ledger", ouri)
	other.Close()
	mustFail(t, ohome, func() int { return 0 }, failCase{name: "device gone", args: signHello, code: "DEVICE_NOT_FOUND", exit: exitNeedUser, device: true})
}

// TestTrezorFaults is TestLedgerFaults for both Trezor profiles: rejected,
// firmware too old, bitcoin-only firmware, PIN wrong and cancelled on a
// Core model's screen, unplugged, no device.
func TestTrezorFaults(t *testing.T) {
	t.Parallel()
	for _, model := range []trezoremu.Model{trezoremu.ModelOne, trezoremu.ModelT} {
		t.Run(string(model), func(t *testing.T) {
			t.Parallel()
			emu, uri := startTrezor(t, trezoremu.Options{Model: model})
			home, _ := initHW(t, "trezor", uri)
			sigs := func() int { return emu.Stats().Signatures }
			name := emu.Name()
			mustFail(t, home, sigs, failCase{name: "rejected message", fault: emu.RejectNext, reset: emu.ApproveAll,
				args: signHello, code: "USER_REJECTED", exit: exitDenied, stderr: "confirm on your " + name + "…", device: true})
			mustFail(t, home, sigs, failCase{name: "rejected typed data", fault: emu.RejectNext, reset: emu.ApproveAll,
				args: signMail, code: "USER_REJECTED", exit: exitDenied, stderr: "confirm on your " + name, device: true})
			mustFail(t, home, sigs, failCase{name: "rejected address", fault: emu.RejectNext, reset: emu.ApproveAll,
				args: []string{"wallet", "address", "--verify"}, code: "USER_REJECTED", exit: exitDenied, stderr: "confirm on your " + name, device: true})

			// Typed data needs One 1.10.5 (hashes) or Core 2.4.3 (full).
			old := map[trezoremu.Model]string{trezoremu.ModelOne: "1.10.4", trezoremu.ModelT: "2.4.2"}[model]
			oemu, ouri := startTrezor(t, trezoremu.Options{Model: model, Firmware: old})
			ohome, _ := initHW(t, "trezor", ouri)
			mustFail(t, ohome, func() int { return oemu.Stats().Signatures }, failCase{name: "firmware too old for typed data",
				args: signMail, code: "FIRMWARE_TOO_OLD", exit: exitError, device: true})

			// Bitcoin-only firmware: nothing Ethereum, from init on.
			bemu, buri := startTrezor(t, trezoremu.Options{Model: model, BitcoinOnly: true})
			bhome := filepath.Join(t.TempDir(), "mm")
			mustFail(t, bhome, func() int { return bemu.Stats().Signatures }, failCase{name: "bitcoin-only",
				args: []string{"init", "--wallet", "trezor", "--mode", "guard", "--device", buri}, code: "UNSUPPORTED", exit: exitError, device: true})

			if model == trezoremu.ModelT {
				// The PIN is typed on a Core model's own screen.
				pemu, puri := startTrezor(t, trezoremu.Options{Model: model, PIN: "2468"})
				phome, _ := initHW(t, "trezor", puri)
				psigs := func() int { return pemu.Stats().Signatures }
				mustFail(t, phome, psigs, failCase{name: "PIN wrong on the device", fault: func() { pemu.Lock(); pemu.SetPINEntry(trezoremu.PINWrong) },
					args: signHello, code: "PIN_INVALID", exit: exitDenied, stderr: "enter your PIN on your Trezor Model T", device: true})
				mustFail(t, phome, psigs, failCase{name: "PIN cancelled on the device", fault: func() { pemu.Lock(); pemu.SetPINEntry(trezoremu.PINCancel) },
					args: signHello, code: "USER_REJECTED", exit: exitDenied, stderr: "enter your PIN on your Trezor Model T", device: true})
				pemu.Lock()
				if r := runMM(t, phome, nil, nil, signHello...); r.code != 0 {
					t.Errorf("PIN right on the device: %s %s", r.stdout, r.stderr)
				}
			}

			// Unplugged while the confirmation is on screen (the emulator
			// is gone for good: a dedicated one).
			demu, duri := startTrezor(t, trezoremu.Options{Model: model})
			dhome, _ := initHW(t, "trezor", duri)
			r := runMM(t, dhome, nil, nil, func() []string { demu.DisconnectNext(); return signHello }()...)
			if errCode(r) != "DEVICE_DISCONNECTED" || r.code != exitError || bytes.Contains(r.stdout, []byte(`"signature"`)) {
				t.Errorf("disconnect mid-sign: exit %d %s %s", r.code, r.stdout, r.stderr)
			}
			documented(t, r)
			mustFail(t, dhome, func() int { return 0 }, failCase{name: "device gone", args: signHello, code: "DEVICE_NOT_FOUND", exit: exitNeedUser, device: true})
		})
	}
}

// TestHardwareDerivation checks the derivation schemes, explicit paths and
// wallet names against addresses derived by the software signer from the
// devices' seeds.
func TestHardwareDerivation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		wallet, mnemonic string
		start            func(t *testing.T) string
	}{
		{"ledger", ledgeremu.SpeculosMnemonic, func(t *testing.T) string { _, u := startLedger(t, ledgeremu.Options{}); return u }},
		{"trezor", trezoremu.DefaultMnemonic, func(t *testing.T) string { _, u := startTrezor(t, trezoremu.Options{}); return u }},
	} {
		t.Run(tc.wallet, func(t *testing.T) {
			t.Parallel()
			uri := tc.start(t)
			w := tc.wallet
			home, ir := initHW(t, w, uri, "--derivation", "live")
			if want := softAddress(t, tc.mnemonic, "", "m/44'/60'/0'/0/0"); ir.Address != want || ir.ActiveWallet != w+"-0" {
				t.Fatalf("live index 0: %+v, want %s", ir, want)
			}
			create := func(args ...string) walletView {
				t.Helper()
				r := runMM(t, home, nil, nil, append([]string{"wallet", "create"}, args...)...)
				var v walletView
				if r.code != 0 || json.Unmarshal(r.stdout, &v) != nil {
					t.Fatalf("create %v: %s %s", args, r.stdout, r.stderr)
				}
				if want := softAddress(t, tc.mnemonic, "", v.Path); v.Address != want {
					t.Fatalf("%s at %s: %s, the seed gives %s", v.Name, v.Path, v.Address, want)
				}
				return v
			}
			check := func(v walletView, name, path string, index uint32) {
				t.Helper()
				if v.Name != name || v.Path != path || v.Index != index || v.KeyRef != w+":path="+path || v.Device != uri {
					t.Errorf("got %+v, want %s at %s (index %d)", v, name, path, index)
				}
			}
			check(create(), w+"-1", "m/44'/60'/1'/0/0", 1)
			check(create(), w+"-2", "m/44'/60'/2'/0/0", 2)

			// Legacy: index 0 is a new path; ledger-0 is taken by the
			// bip44/live account, so the scheme names it.
			r := runMM(t, home, nil, nil, "init", "--wallet", w, "--mode", "guard", "--derivation", "legacy")
			var lr initResult
			if r.code != 0 || json.Unmarshal(r.stdout, &lr) != nil || lr.ActiveWallet != w+"-legacy-0" ||
				lr.Address != softAddress(t, tc.mnemonic, "", "m/44'/60'/0'/0") {
				t.Fatalf("init --derivation legacy: %s %s", r.stdout, r.stderr)
			}
			check(create(), w+"-legacy-1", "m/44'/60'/0'/1", 1)

			// bip44: index 0 is the live account's path (kept, not
			// duplicated); index 1 is new.
			if r := runMM(t, home, nil, nil, "init", "--wallet", w, "--mode", "guard", "--derivation", "bip44"); r.code != 0 {
				t.Fatalf("init --derivation bip44: %s %s", r.stdout, r.stderr)
			}
			check(create(), w+"-bip44-1", "m/44'/60'/0'/0/1", 1)
			// Explicit paths: one of the scheme, one of none.
			check(create("--path", "m/44'/60'/0'/0/7"), w+"-7", "m/44'/60'/0'/0/7", 7)
			check(create("--path", "m/44h/60h/5h/1/2", "--name", "cold"), "cold", "m/44'/60'/5'/1/2", 0)
			v := create("--path", "m/44'/60'/9'/9")
			check(v, w+"-44h-60h-9h-9", "m/44'/60'/9'/9", 0)
			r = runMM(t, home, nil, nil, "wallet", "create", "--path", "m/44'/60'/0'/0/7")
			if errCode(r) != "INVALID_INPUT" || r.code != exitUsage {
				t.Errorf("a second wallet at one path: exit %d %s", r.code, r.stdout)
			}
			// Every wallet signs at its own path.
			r = runMM(t, home, nil, nil, "wallet", "sign-message", "--message", "hi", "--chain-id", "1", "--wallet", "cold")
			var sig signatureResult
			if r.code != 0 || json.Unmarshal(r.stdout, &sig) != nil || !recovers(accounts.TextHash([]byte("hi")), sig.Signature, softAddress(t, tc.mnemonic, "", "m/44'/60'/5'/1/2")) {
				t.Errorf("sign with cold: %s %s", r.stdout, r.stderr)
			}
			r = runMM(t, home, nil, nil, "wallet", "list")
			var l walletList
			if json.Unmarshal(r.stdout, &l) != nil || len(l.Wallets) != 9 {
				t.Errorf("wallets: %s", r.stdout)
			}
		})
	}
}

// TestAddressVerify shows addresses on the device: confirmed, and on a
// device that holds another key at the wallet's path.
func TestAddressVerify(t *testing.T) {
	t.Parallel()
	emu, uri := startLedger(t, ledgeremu.Options{})
	home, ir := initHW(t, "ledger", uri)
	if r := runMM(t, home, nil, nil, "wallet", "create"); r.code != 0 {
		t.Fatal(string(r.stderr))
	}
	before := emu.Stats().Confirmations
	r := runMM(t, home, nil, nil, "wallet", "address", "--verify")
	var ar addressResult
	if r.code != 0 || json.Unmarshal(r.stdout, &ar) != nil || !ar.Verified || ar.Address != ir.Address {
		t.Fatalf("verify: %s %s", r.stdout, r.stderr)
	}
	if !bytes.Contains(r.stderr, []byte("Check that your device shows "+ir.Address)) || emu.Stats().Confirmations != before+1 {
		t.Errorf("the address was not shown for confirmation: %s", r.stderr)
	}
	// The same URI now reaches a device with another seed: ledger-0 is
	// re-read at init (with a note), ledger-1 no longer matches.
	emu.Close()
	const other = "test test test test test test test test test test test junk"
	emu2, err := ledgeremu.NewEmulator(ledgeremu.Options{Mnemonic: other})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu2.Close() })
	if _, err := emu2.Listen(strings.TrimPrefix(uri, "tcp://")); err != nil {
		t.Fatal(err)
	}
	r = runMM(t, home, nil, nil, "init", "--wallet", "ledger", "--mode", "guard", "--device", uri)
	if r.code != 0 || !bytes.Contains(r.stderr, []byte("wallet ledger-0 (m/44'/60'/0'/0/0) now holds "+testAddr0)) {
		t.Errorf("re-init on another device: %s %s", r.stdout, r.stderr)
	}
	mustFail(t, home, func() int { return emu2.Stats().Signatures }, failCase{name: "another key at the path",
		args: []string{"wallet", "address", "ledger-1", "--verify"}, code: "ADDRESS_MISMATCH", exit: exitError, device: true})
}

// TestHWList lists devices with both emulators running, with none, and with
// configured devices that do not answer.
func TestHWList(t *testing.T) {
	t.Parallel()
	list := func(t *testing.T, home string, args ...string) hwList {
		t.Helper()
		r := runMM(t, home, nil, nil, append([]string{"hw", "list"}, args...)...)
		var l hwList
		if r.code != 0 || json.Unmarshal(r.stdout, &l) != nil {
			t.Fatalf("hw list: exit %d %s %s", r.code, r.stdout, r.stderr)
		}
		return l
	}
	t.Run("none", func(t *testing.T) {
		t.Parallel()
		home := filepath.Join(t.TempDir(), "mm")
		hermeticHW(t, home, closedAddr(t, "tcp"), closedAddr(t, "udp"))
		if l := list(t, home); len(l.Devices) != 0 {
			t.Errorf("devices with none running: %+v", l.Devices)
		}
		r := runMM(t, home, nil, nil, "hw", "list", "-f", "text")
		if r.code != 0 || !bytes.HasPrefix(r.stdout, []byte("no hardware wallet found")) {
			t.Errorf("text: %s %s", r.stdout, r.stderr)
		}
	})
	t.Run("both", func(t *testing.T) {
		t.Parallel()
		lemu, luri := startLedger(t, ledgeremu.Options{})
		temu, turi := startTrezor(t, trezoremu.Options{Model: trezoremu.ModelOne, PIN: "1111"})
		home := filepath.Join(t.TempDir(), "mm")
		hermeticHW(t, home, strings.TrimPrefix(luri, "tcp://"), strings.TrimPrefix(turi, "udp://"))
		l := list(t, home)
		if len(l.Devices) != 2 {
			t.Fatalf("devices: %+v", l.Devices)
		}
		ld, td := l.Devices[0], l.Devices[1]
		if ld.Vendor != "Ledger" || ld.URI != luri || ld.Transport != "tcp" || ld.App != "Ethereum" || ld.AppVersion != ledgeremu.DefaultAppVersion ||
			ld.Locked || ld.BlindSigning == nil || !*ld.BlindSigning || ld.Source != sourceEmulator || ld.Error != nil {
			t.Errorf("ledger: %+v", ld)
		}
		// The One waits for its PIN: listed as locked, nothing asked.
		if td.Vendor != "Trezor" || td.Model != "Model One" || td.URI != turi || td.Transport != "udp" || td.Firmware != "1.12.1" ||
			td.Unlocked == nil || *td.Unlocked || !td.Locked || td.Source != sourceEmulator || td.Error != nil {
			t.Errorf("trezor: %+v", td)
		}
		// State changes show: a locked Ledger, blind signing off; the app
		// closed (dashboard).
		lemu.SetLocked(true)
		if d := list(t, home).Devices[0]; !d.Locked || d.BlindSigning != nil {
			t.Errorf("locked ledger: %+v", d)
		}
		lemu.SetLocked(false)
		lemu.SetAppOpen(false)
		if d := list(t, home).Devices[0]; d.App != "BOLOS" || d.Locked {
			t.Errorf("ledger on the dashboard: %+v", d)
		}
		lemu.SetAppOpen(true)
		if temu.Stats().Messages == 0 {
			t.Error("the Trezor was never asked")
		}
		r := runMM(t, home, nil, nil, "hw", "list", "--format", "text")
		if r.code != 0 || !bytes.Contains(r.stdout, []byte("Ledger")) || !bytes.Contains(r.stdout, []byte("Trezor Model One")) ||
			!bytes.Contains(r.stdout, []byte("firmware 1.12.1, locked")) || !bytes.Contains(r.stdout, []byte("Ethereum "+ledgeremu.DefaultAppVersion+", unlocked, blind signing on")) {
			t.Errorf("text: %s", r.stdout)
		}
	})
	t.Run("bridge", func(t *testing.T) {
		// Trezor Bridge (hwtest's implementation of its HTTP API, in
		// front of an emulator): listed, then used to set up and sign.
		t.Parallel()
		_, turi := startTrezor(t, trezoremu.Options{Model: trezoremu.ModelSafe3})
		b := trezoremu.NewBridge(strings.TrimPrefix(turi, "udp://"))
		baddr, err := b.Listen("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		home := filepath.Join(t.TempDir(), "mm")
		hermeticHW(t, home, "", "")
		if r := runMM(t, home, nil, nil, "config", "set", "hw.trezorBridge", baddr); r.code != 0 {
			t.Fatal(string(r.stdout))
		}
		l := list(t, home)
		if len(l.Devices) != 1 {
			t.Fatalf("devices: %+v", l.Devices)
		}
		d := l.Devices[0]
		if d.Vendor != "Trezor" || d.Model != "Safe 3" || d.Source != sourceBridge || d.Transport != "bridge" || !strings.HasPrefix(d.URI, "bridge://"+baddr) || d.Error != nil {
			t.Fatalf("bridge device: %+v", d)
		}
		r := runMM(t, home, nil, nil, "init", "--wallet", "trezor", "--mode", "guard", "--device", d.URI)
		var ir initResult
		if r.code != 0 || json.Unmarshal(r.stdout, &ir) != nil || ir.Address != softAddress(t, trezoremu.DefaultMnemonic, "", "m/44'/60'/0'/0/0") {
			t.Fatalf("init through the Bridge: %s %s", r.stdout, r.stderr)
		}
		r = runMM(t, home, nil, nil, signHello...)
		var sig signatureResult
		if r.code != 0 || json.Unmarshal(r.stdout, &sig) != nil || !recovers(accounts.TextHash([]byte("hello")), sig.Signature, ir.Address) {
			t.Errorf("sign through the Bridge: %s %s", r.stdout, r.stderr)
		}
		// Listed once, as found through the Bridge and as configured.
		if l := list(t, home); len(l.Devices) != 1 || strings.Join(l.Devices[0].Wallets, ",") != "trezor-0" {
			t.Errorf("after init: %+v", l.Devices)
		}
	})
	t.Run("usb", func(t *testing.T) {
		// USB enumeration on (the default): whatever is plugged in here,
		// the command succeeds, the emulator is listed, and a cgo build
		// has nothing to warn about.
		t.Parallel()
		_, luri := startLedger(t, ledgeremu.Options{})
		home := filepath.Join(t.TempDir(), "mm")
		hermeticHW(t, home, strings.TrimPrefix(luri, "tcp://"), "")
		if r := runMM(t, home, nil, nil, "config", "unset", "hw.usb"); r.code != 0 {
			t.Fatal(string(r.stdout))
		}
		l := list(t, home)
		found := false
		for _, d := range l.Devices {
			found = found || d.URI == luri
			if d.Source == sourceUSB && (d.Vendor != "Ledger" && d.Vendor != "Trezor" || !strings.HasPrefix(d.URI, "hid://")) {
				t.Errorf("USB device: %+v", d)
			}
		}
		if !found || len(l.Warnings) != 0 {
			t.Errorf("with USB: %+v", l)
		}
	})
	t.Run("configured", func(t *testing.T) {
		t.Parallel()
		lemu, luri := startLedger(t, ledgeremu.Options{Model: "stax"})
		luri += "?model=stax"
		home, _ := initHW(t, "ledger", luri)
		hermeticHW(t, home, "", "")
		if r := runMM(t, home, nil, nil, "wallet", "create"); r.code != 0 {
			t.Fatal(string(r.stderr))
		}
		gone := "udp://" + closedAddr(t, "udp")
		l := list(t, home, "--device", gone)
		if len(l.Devices) != 2 {
			t.Fatalf("devices: %+v", l.Devices)
		}
		if d := l.Devices[0]; d.URI != luri || d.Model != "Stax" || d.Source != sourceConfigured || strings.Join(d.Wallets, ",") != "ledger-0,ledger-1" {
			t.Errorf("configured ledger: %+v", d)
		}
		if d := l.Devices[1]; d.Vendor != "Trezor" || d.URI != gone || d.Source != sourceArgument || d.Error == nil || d.Error.Code != "DEVICE_NOT_FOUND" || d.Error.Hint == "" {
			t.Errorf("a device that does not answer: %+v", d)
		}
		// The configured device stops answering: still listed, with its
		// code; the command succeeds.
		lemu.Close()
		l = list(t, home)
		if len(l.Devices) != 1 || l.Devices[0].Error == nil || l.Devices[0].Error.Code != "DEVICE_NOT_FOUND" {
			t.Errorf("configured device gone: %+v", l.Devices)
		}
	})
}

// TestHardwareBadInput runs the rejected hardware command lines of
// testdata/bad/hardware.txt: each must exit with its status and code and
// change nothing.
func TestHardwareBadInput(t *testing.T) {
	t.Parallel()
	_, luri := startLedger(t, ledgeremu.Options{})
	lhome, _ := initHW(t, "ledger", luri)
	_, turi := startTrezor(t, trezoremu.Options{})
	thome, _ := initHW(t, "trezor", turi)
	f, err := os.Open(filepath.Join("testdata", "bad", "hardware.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		words, err := splitWords(line)
		if err != nil || len(words) < 4 {
			t.Fatalf("bad line %q", line)
		}
		exit, err := strconv.Atoi(words[1])
		if err != nil {
			t.Fatalf("bad line %q", line)
		}
		var home string
		switch words[0] {
		case "ledger":
			home = lhome
		case "trezor":
			home = thome
		case "byok":
			home = template(t, "plain")
		case "empty":
			home = filepath.Join(t.TempDir(), "mm")
		default:
			t.Fatalf("bad state %q in %q", words[0], line)
		}
		n++
		r := mustFail(t, home, func() int { return 0 }, failCase{name: line, args: words[3:], code: words[2], exit: exit})
		if bytes.Contains(r.stdout, []byte("hunter2")) || bytes.Contains(r.stderr, []byte("hunter2")) {
			t.Errorf("%s: the output repeats a secret", line)
		}
	}
	if n < 10 {
		t.Fatalf("only %d cases", n)
	}
}

var readmeOnce = sync.OnceValues(func() ([]byte, error) { return os.ReadFile(filepath.Join("..", "..", "README.md")) })

// hardwareReadme is the README's "Hardware wallets" section.
func hardwareReadme(t *testing.T) string {
	t.Helper()
	b, err := readmeOnce()
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "\n## Hardware wallets\n")
	if i < 0 {
		t.Fatal("README.md has no Hardware wallets section")
	}
	s = s[i+1:]
	if j := strings.Index(s[3:], "\n## "); j >= 0 {
		s = s[:j+3]
	}
	return s
}

// TestReadmeWalkthroughs runs the README's emulator walkthroughs as written:
// the emulator commands start the emulators in this process (on free ports,
// which replace the README's), every mm line runs the real mm from the
// repository root, curl lines drive the control endpoint, and a line that
// ends in "# CODE, exit N" must fail that way.
func TestReadmeWalkthroughs(t *testing.T) {
	t.Parallel()
	doc := hardwareReadme(t)
	for _, name := range []string{"ledger", "trezor"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			marker := "<!-- walkthrough: " + name + " -->\n```sh\n"
			i := strings.Index(doc, marker)
			if i < 0 {
				t.Fatalf("no %q walkthrough in the README", name)
			}
			block := doc[i+len(marker):]
			block = block[:strings.Index(block, "```")]
			runWalkthrough(t, block)
		})
	}
}

func runWalkthrough(t *testing.T, block string) {
	home := filepath.Join(t.TempDir(), "mm")
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	addrs := map[string]string{} // README address → this test's
	rewrite := func(s string) string {
		for from, to := range addrs {
			s = strings.ReplaceAll(s, from, to)
		}
		return s
	}
	var account string
	for _, line := range strings.Split(block, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		wantCode, wantExit := "", 0
		if cmd, comment, ok := strings.Cut(line, "  # "); ok {
			line = strings.TrimSpace(cmd)
			code, exit, ok := strings.Cut(comment, ", exit ")
			if !ok {
				t.Fatalf("comment %q: want \"# CODE, exit N\"", comment)
			}
			wantCode = code
			if wantExit, err = strconv.Atoi(exit); err != nil {
				t.Fatalf("comment %q: want \"# CODE, exit N\"", comment)
			}
		}
		words, err := splitWords(line)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		switch {
		case len(words) > 2 && words[0] == "go" && words[1] == "run":
			startReadmeEmulator(t, words[2], words[3:], addrs, home)
		case words[0] == "curl":
			u := words[len(words)-1]
			if !strings.HasPrefix(u, "http") {
				u = "http://" + u
			}
			resp, err := httpPost(rewrite(u))
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			if resp != 200 {
				t.Fatalf("%s: HTTP %d", line, resp)
			}
		case words[0] == "mm":
			args := make([]string, 0, len(words)-1)
			for _, w := range words[1:] {
				args = append(args, rewrite(w))
			}
			r := runMMIn(t, root, home, args...)
			if wantCode != "" {
				if errCode(r) != wantCode || r.code != wantExit {
					t.Fatalf("%s: exit %d %s, want %s exit %d", line, r.code, r.stdout, wantCode, wantExit)
				}
				continue
			}
			if r.code != 0 {
				t.Fatalf("%s: exit %d\n%s%s", line, r.code, r.stdout, r.stderr)
			}
			checkWalkthroughStep(t, words[1:], r, addrs, &account)
		default:
			t.Fatalf("the walkthrough line %q is neither go run, curl nor mm", line)
		}
	}
	if account == "" {
		t.Fatal("the walkthrough never initialized a wallet")
	}
}

// startReadmeEmulator stands in for `go run ./hwtest/cmd/<x>-emulator
// -listen A -control C`: the emulator runs in this process on free ports,
// which replace A and C in the walkthrough's later lines, and mm hw list
// is told to look there instead of the default port.
func startReadmeEmulator(t *testing.T, pkg string, flags []string, addrs map[string]string, home string) {
	t.Helper()
	var listen, control string
	for i := 0; i+1 < len(flags); i += 2 {
		switch flags[i] {
		case "-listen":
			listen = flags[i+1]
		case "-control":
			control = flags[i+1]
		default:
			t.Fatalf("walkthrough: flag %s of %s is not handled by this test", flags[i], pkg)
		}
	}
	if listen == "" || len(flags)%2 != 0 {
		t.Fatalf("walkthrough: %s %v: want -listen ADDR [-control ADDR]", pkg, flags)
	}
	var handler http.Handler
	switch pkg {
	case "./hwtest/cmd/ledger-emulator":
		emu, uri := startLedger(t, ledgeremu.Options{})
		addrs[listen] = strings.TrimPrefix(uri, "tcp://")
		handler = emu.ControlHandler()
		hermeticHW(t, home, addrs[listen], "")
	case "./hwtest/cmd/trezor-emulator":
		emu, uri := startTrezor(t, trezoremu.Options{})
		addrs[listen] = strings.TrimPrefix(uri, "udp://")
		handler = emu.ControlHandler()
		hermeticHW(t, home, "", addrs[listen])
	default:
		t.Fatalf("walkthrough: unknown program %s", pkg)
	}
	if control != "" {
		srv := httptest.NewServer(handler)
		t.Cleanup(srv.Close)
		addrs[control] = strings.TrimPrefix(srv.URL, "http://")
	}
}

// httpPost posts an empty body and returns the status code.
func httpPost(u string) (int, error) {
	resp, err := http.Post(u, "", nil)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// checkWalkthroughStep checks what a walkthrough command printed.
func checkWalkthroughStep(t *testing.T, args []string, r result, addrs map[string]string, account *string) {
	t.Helper()
	switch strings.Join(args[:min(2, len(args))], " ") {
	case "hw list":
		var l hwList
		if json.Unmarshal(r.stdout, &l) != nil || len(l.Devices) != 1 || l.Devices[0].Error != nil {
			t.Fatalf("mm hw list: %s", r.stdout)
		}
		found := false
		for _, to := range addrs {
			found = found || strings.Contains(l.Devices[0].URI, to)
		}
		if !found {
			t.Errorf("mm hw list did not list the emulator: %s", r.stdout)
		}
	case "init --wallet":
		var ir initResult
		if json.Unmarshal(r.stdout, &ir) != nil || !common.IsHexAddress(ir.Address) {
			t.Fatalf("mm init: %s", r.stdout)
		}
		*account = ir.Address
	case "wallet sign-message":
		var sig signatureResult
		if json.Unmarshal(r.stdout, &sig) != nil || !recovers(accounts.TextHash([]byte("hello")), sig.Signature, *account) {
			t.Fatalf("sign-message: %s", r.stdout)
		}
	case "wallet sign-typed-data":
		var sig signatureResult
		if json.Unmarshal(r.stdout, &sig) != nil || sig.Address != *account || sig.MessageHash == "" {
			t.Fatalf("sign-typed-data: %s", r.stdout)
		}
		digest := crypto.Keccak256([]byte{0x19, 0x01}, common.FromHex(sig.DomainSeparator), common.FromHex(sig.MessageHash))
		if !recovers(digest, sig.Signature, *account) {
			t.Fatalf("sign-typed-data does not recover: %s", r.stdout)
		}
	case "wallet address":
		var ar addressResult
		if json.Unmarshal(r.stdout, &ar) != nil || ar.Address != *account || !ar.Verified {
			t.Fatalf("address --verify: %s", r.stdout)
		}
	}
}

// runMMIn is runMM with a working directory.
func runMMIn(t *testing.T, dir, home string, args ...string) result {
	t.Helper()
	exe, err := exec.LookPath("mm")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Dir = dir
	cmd.Env = append(filterEnv(os.Environ(), "MM_PASSWORD", "MM_MNEMONIC", "MM_HOME"), "MM_HOME="+home)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.Bytes(), errb.Bytes(), code}
}
