package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/mm-wallet/mm/core/devnet"
	ledgeremu "github.com/mm-wallet/mm/hwtest/ledger"
	trezoremu "github.com/mm-wallet/mm/hwtest/trezor"
)

// TestHardwareTransactions sends transactions from the emulated devices
// through mm to the embedded dev chain (go-ethereum's own node on
// loopback), and provokes the faults only a transaction reaches: blind
// signing off with calldata, an EIP-1559 transaction for a Ledger app too
// old for it, Trezor firmware too old for EIP-1559, and Ctrl-C while the
// device waits. A failure leaves no journal entry, no used nonce and
// nothing at the node.
func TestHardwareTransactions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	node, err := devnet.Start(ctx, devnet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close() })
	client, err := ethclient.Dial(node.RPCURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	env := []string{"MM_RPC_1337=" + node.RPCURL()}
	const to = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
	withData := []string{"wallet", "send-transaction", "--chain-id", "1337", "--payload", `{"to":"` + to + `","value":"0x1","data":"0xdeadbeef"}`}
	plain := []string{"wallet", "send-transaction", "--chain-id", "1337", "--payload", `{"to":"` + to + `","value":"0x2"}`}
	// mm picks a transaction type the signer supports; fee fields ask for
	// EIP-1559 explicitly.
	dynamic := []string{"wallet", "send-transaction", "--chain-id", "1337", "--payload", `{"to":"` + to + `","value":"0x2","maxFeePerGas":"0x77359400","maxPriorityFeePerGas":"0x3b9aca00"}`}

	// setUp initializes a wallet on the device and funds it.
	setUp := func(t *testing.T, wallet, uri string) (string, common.Address) {
		t.Helper()
		home, ir := initHW(t, wallet, uri)
		addr := common.HexToAddress(ir.Address)
		if err := node.Fund(ctx, addr); err != nil {
			t.Fatal(err)
		}
		return home, addr
	}
	// send runs a command that must succeed and returns its tx hash.
	send := func(t *testing.T, home string, args []string) string {
		t.Helper()
		r := runMM(t, home, env, nil, append(args, "--wait")...)
		var res struct {
			TxHash string `json:"txHash"`
			Status string `json:"status"`
		}
		if r.code != 0 || json.Unmarshal(r.stdout, &res) != nil || res.Status != "confirmed" {
			t.Fatalf("%v: exit %d %s %s", args, r.code, r.stdout, r.stderr)
		}
		return res.TxHash
	}
	// unrecorded checks that a failed attempt used no nonce: the ledger's
	// next nonce, no reservation left, and the node's pending nonce.
	unrecorded := func(t *testing.T, home string, addr common.Address, failing func()) {
		t.Helper()
		ledgerFile := filepath.Join(home, "nonces", "1337-"+strings.ToLower(addr.Hex())+".json")
		read := func() (uint64, int) {
			var l struct {
				Next     uint64 `json:"next"`
				Reserved []any  `json:"reserved"`
			}
			data, err := os.ReadFile(ledgerFile)
			if err != nil || json.Unmarshal(data, &l) != nil {
				t.Fatalf("nonce ledger %s: %v", ledgerFile, err)
			}
			return l.Next, len(l.Reserved)
		}
		pending := func() uint64 {
			n, err := client.PendingNonceAt(ctx, addr)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		next, reserved := read()
		p := pending()
		failing()
		if n2, r2 := read(); n2 != next || r2 != 0 || reserved != 0 {
			t.Errorf("the nonce ledger moved: next %d → %d, %d reservation(s) left", next, n2, r2)
		}
		if p2 := pending(); p2 != p {
			t.Errorf("the node's pending nonce moved: %d → %d", p, p2)
		}
	}

	t.Run("ledger", func(t *testing.T) {
		t.Parallel()
		emu, uri := startLedger(t, ledgeremu.Options{Model: "nanosp"})
		uri += "?model=nanosp"
		home, addr := setUp(t, "ledger", uri)
		send(t, home, withData) // blind signing on: calldata signs
		sigs := func() int { return emu.Stats().Signatures }
		reset := func() {
			emu.ApproveAll()
			emu.SetBlindSigning(true)
			_ = emu.SetAppVersion(ledgeremu.DefaultAppVersion)
		}
		unrecorded(t, home, addr, func() {
			mustFail(t, home, sigs, failCase{name: "blind signing off, calldata", fault: func() { emu.SetBlindSigning(false) }, reset: reset,
				args: withData, code: "BLIND_SIGNING_DISABLED", exit: exitError, device: true, env: env}, "nonces/")
		})
		unrecorded(t, home, addr, func() {
			mustFail(t, home, sigs, failCase{name: "EIP-1559 on app 1.8.8", fault: func() { _ = emu.SetAppVersion("1.8.8") }, reset: reset,
				args: dynamic, code: "TX_TYPE_UNSUPPORTED", exit: exitError, device: true, env: env}, "nonces/")
		})
		unrecorded(t, home, addr, func() {
			mustFail(t, home, sigs, failCase{name: "rejected transaction", fault: emu.RejectNext, reset: reset,
				args: plain, code: "USER_REJECTED", exit: exitDenied, device: true, env: env,
				stderr: "review the transaction: confirm on your Ledger Nano S Plus…"}, "nonces/")
		})
		// The old app still signs a legacy transaction.
		_ = emu.SetAppVersion("1.8.8")
		send(t, home, []string{"wallet", "send-transaction", "--chain-id", "1337", "--payload", `{"to":"` + to + `","value":"0x3","gasPrice":"0x3b9aca00"}`})
		reset()
		// Ctrl-C while the device waits: exit 130, nothing signed or sent.
		emu.SetConfirmDelay(time.Minute)
		unrecorded(t, home, addr, func() {
			interrupt(t, home, env, "review the transaction: confirm on your Ledger Nano S Plus", sigs, plain...)
		})
		emu.SetConfirmDelay(0)
		send(t, home, plain)
	})
	// Each emulator holds another seed: the subtests run in parallel, and
	// one account shared by two state folders would race for nonces.
	seeds := map[trezoremu.Model][2]string{
		trezoremu.ModelOne: {trezoremu.DefaultMnemonic, "legal winner thank year wave sausage worth useful legal winner thank yellow"},
		trezoremu.ModelT:   {"abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about", "letter advice cage absurd amount doctor acoustic avoid letter advice cage above"},
	}
	for _, model := range []trezoremu.Model{trezoremu.ModelOne, trezoremu.ModelT} {
		t.Run(string(model), func(t *testing.T) {
			t.Parallel()
			emu, uri := startTrezor(t, trezoremu.Options{Model: model, Mnemonic: seeds[model][0]})
			home, addr := setUp(t, "trezor", uri)
			send(t, home, withData)
			sigs := func() int { return emu.Stats().Signatures }
			unrecorded(t, home, addr, func() {
				mustFail(t, home, sigs, failCase{name: "rejected transaction", fault: emu.RejectNext, reset: emu.ApproveAll,
					args: plain, code: "USER_REJECTED", exit: exitDenied, device: true, env: env, stderr: "confirm on your " + emu.Name()}, "nonces/")
			})
			emu.SetConfirmDelay(time.Minute)
			unrecorded(t, home, addr, func() {
				interrupt(t, home, env, "confirm on your "+emu.Name(), sigs, plain...)
			})
			emu.ApproveAll()
			send(t, home, plain)

			// EIP-1559 needs One 1.10.4 or Core 2.4.2.
			old := map[trezoremu.Model]string{trezoremu.ModelOne: "1.10.3", trezoremu.ModelT: "2.4.1"}[model]
			oemu, ouri := startTrezor(t, trezoremu.Options{Model: model, Firmware: old, Mnemonic: seeds[model][1]})
			ohome, oaddr := setUp(t, "trezor", ouri)
			send(t, ohome, []string{"wallet", "send-transaction", "--chain-id", "1337", "--payload", `{"to":"` + to + `","value":"0x3","gasPrice":"0x3b9aca00"}`})
			unrecorded(t, ohome, oaddr, func() {
				mustFail(t, ohome, func() int { return oemu.Stats().Signatures }, failCase{name: "EIP-1559 on old firmware",
					args: dynamic, code: "FIRMWARE_TOO_OLD", exit: exitError, device: true, env: env}, "nonces/")
			})
		})
	}
}

// interrupt runs mm in a pseudo-terminal, waits for the device prompt,
// types Ctrl-C (the terminal sends SIGINT to mm and its signer plugin) and
// checks the outcome: exit 130, CANCELED, no signature printed or made,
// the state folder unchanged apart from the nonce ledger (which the caller
// checks).
func interrupt(t *testing.T, home string, env []string, prompt string, signatures func() int, args ...string) {
	t.Helper()
	before, err := treeDigest(home)
	if err != nil {
		t.Fatal(err)
	}
	sigs := signatures()
	cmd := mmCmd(t, home, args...)
	cmd.Env = append(cmd.Env, env...)
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 200})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := newConsole(t, f)
	c.expect(prompt)
	c.send("\x03")
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("Ctrl-C did not stop mm")
	}
	if got := cmd.ProcessState.ExitCode(); got != exitCanceled {
		t.Errorf("exit %d after Ctrl-C, want %d", got, exitCanceled)
	}
	c.expect("(CANCELED)")
	c.mu.Lock()
	all := c.all.String()
	c.mu.Unlock()
	if strings.Contains(all, "txHash") || strings.Contains(all, "signature:") {
		t.Errorf("something was printed as signed after Ctrl-C: %q", all)
	}
	after, err := treeDigest(home)
	if err != nil {
		t.Fatal(err)
	}
	for k := range after {
		if strings.HasPrefix(k, "nonces/") {
			delete(after, k)
			delete(before, k)
		}
	}
	if !bytes.Equal([]byte(mapString(before)), []byte(mapString(after))) {
		t.Errorf("the state folder changed after Ctrl-C:\nbefore %v\nafter  %v", before, after)
	}
	if n := signatures(); n != sigs {
		t.Errorf("the device delivered %d signature(s) after Ctrl-C", n-sigs)
	}
}

func mapString(m map[string]string) string {
	b, _ := json.Marshal(m)
	return string(b)
}
