package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"

	ledgeremu "github.com/mm-wallet/mm/hwtest/ledger"
	trezoremu "github.com/mm-wallet/mm/hwtest/trezor"
)

func withScheme(addr, scheme string) string {
	if strings.Contains(addr, "://") {
		return addr
	}
	return scheme + "://" + addr
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
	if r.code != 0 || w.Index != 1 || w.Address == ir.Address || w.Path != "m/44'/60'/0'/0/1" {
		t.Fatalf("create: %s %s", r.stdout, r.stderr)
	}
	r = runMM(t, home, nil, nil, "wallet", "sign-message", "--message", "hello", "--chain-id", "1")
	var sig signatureResult
	_ = json.Unmarshal(r.stdout, &sig)
	raw, err := hexutil.Decode(sig.Signature)
	if r.code != 0 || err != nil || len(raw) != 65 {
		t.Fatalf("sign-message: %s %s", r.stdout, r.stderr)
	}
	raw[64] -= 27
	pub, err := crypto.SigToPub(accounts.TextHash([]byte("hello")), raw)
	if err != nil || crypto.PubkeyToAddress(*pub).Hex() != ir.Address {
		t.Fatal("the device's signature does not recover to its account")
	}
	r = runMM(t, home, nil, nil, "wallet", "sign-typed-data", "--chain-id", "1", "--payload-file", "internal/eip712/testdata/mail.json")
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
// emulator over the Speculos TCP protocol, including a rejection (exit 3)
// and a locked device (exit 5).
func TestLedger(t *testing.T) {
	t.Parallel()
	emu, err := ledgeremu.NewEmulator(ledgeremu.Options{})
	if err != nil {
		t.Fatal(err)
	}
	addr, err := emu.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	home := hardwareFlow(t, "ledger", withScheme(addr, "tcp"))

	emu.RejectNext()
	r := runMM(t, home, nil, nil, "wallet", "sign-message", "--message", "no", "--chain-id", "1")
	if errCode(r) != "USER_REJECTED" || r.code != exitDenied {
		t.Errorf("rejected: exit %d %s", r.code, r.stdout)
	}
	emu.SetLocked(true)
	r = runMM(t, home, nil, nil, "wallet", "sign-message", "--message", "no", "--chain-id", "1")
	if errCode(r) != "DEVICE_LOCKED" || r.code != exitNeedUser {
		t.Errorf("locked: exit %d %s", r.code, r.stdout)
	}
	emu.SetLocked(false)

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
	if got := active(runMM(t, home, nil, nil, "init", "--wallet", "ledger", "--mode", "guard", "--device", withScheme(addr, "tcp"))); got != ledger0 {
		t.Errorf("back to ledger: %s, want %s", got, ledger0)
	}
	if got := active(runMM(t, home, nil, nil, "init", "--wallet", "byok", "--mode", "guard")); got != "byok-0 "+testAddr0 {
		t.Errorf("back to byok: %s", got)
	}
	r = runMM(t, home, []string{"MM_MNEMONIC=" + testMnemonic}, nil, "init", "--wallet", "byok", "--mode", "guard")
	if errCode(r) != "ALREADY_INITIALIZED" {
		t.Errorf("second import: %s", r.stdout)
	}
	r = runMM(t, home, nil, nil, "wallet", "list")
	var l walletList
	_ = json.Unmarshal(r.stdout, &l)
	if len(l.Wallets) != 3 {
		t.Errorf("wallets after switching: %s", r.stdout)
	}
}

// TestTrezor drives the built-in trezor signer against the emulator over
// UDP; a Model One whose PIN must be typed on the host cannot be unlocked
// without a terminal (exit 5).
func TestTrezor(t *testing.T) {
	t.Parallel()
	emu, err := trezoremu.New(trezoremu.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	addr, err := emu.ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	home := hardwareFlow(t, "trezor", withScheme(addr, "udp"))
	emu.RejectNext()
	r := runMM(t, home, nil, nil, "wallet", "sign-message", "--message", "no", "--chain-id", "1")
	if errCode(r) != "USER_REJECTED" || r.code != exitDenied {
		t.Errorf("rejected: exit %d %s", r.code, r.stdout)
	}

	pinned, err := trezoremu.New(trezoremu.Options{Model: trezoremu.ModelOne, PIN: "1234"}) // PIN typed on the host
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pinned.Close() })
	paddr, err := pinned.ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	phome := filepath.Join(t.TempDir(), "mm")
	r = runMM(t, phome, nil, nil, "init", "--wallet", "trezor", "--mode", "guard", "--device", withScheme(paddr, "udp"))
	if r.code == 0 {
		r = runMM(t, phome, nil, nil, "wallet", "sign-message", "--message", "pin?", "--chain-id", "1")
	}
	if c := errCode(r); (c != "NON_INTERACTIVE" && c != "DEVICE_LOCKED") || r.code != exitNeedUser {
		t.Errorf("PIN without a terminal: exit %d %s", r.code, r.stdout)
	}
}
