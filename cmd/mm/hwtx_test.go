package main

import (
	"context"
	"math/big"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/mm-wallet/mm/core"
	"github.com/mm-wallet/mm/core/submit"
	"github.com/mm-wallet/mm/sdk"

	ledgeremu "github.com/mm-wallet/mm/hwtest/ledger"
	trezoremu "github.com/mm-wallet/mm/hwtest/trezor"
)

// TestLedgerTransfers makes the emulated Ledger (Speculos TCP protocol) the
// active wallet and sends ETH and USDC through mm transfer: the device
// signs what the pipeline prepared, and balances move exactly.
func TestLedgerTransfers(t *testing.T) {
	t.Parallel()
	emu, err := ledgeremu.NewEmulator(ledgeremu.Options{Mnemonic: seedMnemonic("ledger-transfers")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	addr, err := emu.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	home, from := hardwareTransfers(t, "ledger", withScheme(addr, "tcp"), "ledger-transfers", func() int { return emu.Stats().Signatures })

	// A transfer rejected on the device: exit 3, nothing sent or
	// journaled, and the nonce goes back (the next transfer takes it).
	c := chainClient(t)
	next, _ := c.PendingNonceAt(context.Background(), from)
	before, _ := journalOf(t, home).List(context.Background(), submit.Filter{})
	emu.RejectNext()
	r := runMM(t, home, chainEnv(t), nil, "transfer", "--to", recipient("ledger-rejected").Hex(), "--amount", "1", "--chain-id", "1337")
	if errCode(r) != string(sdk.CodeUserRejected) || r.code != exitDenied {
		t.Fatalf("rejected on the device: exit %d %s", r.code, r.stdout)
	}
	if after, _ := journalOf(t, home).List(context.Background(), submit.Filter{}); len(after) != len(before) {
		t.Errorf("a rejected transfer was journaled")
	}
	var s sent
	mmOK(t, home, chainEnv(t), &s, "transfer", "--to", recipient("ledger-rejected").Hex(), "--amount", "1", "--chain-id", "1337", "--wait")
	if s.Nonce != next || s.Status != core.StatusConfirmed {
		t.Errorf("after a rejection: nonce %d (want %d, no gap), status %s", s.Nonce, next, s.Status)
	}

	// A person slower than --wallet-timeout: JOB_TIMEOUT, nothing sent, the
	// nonce back in the ledger.
	emu.SetConfirmDelay(5 * time.Second)
	r = runMM(t, home, chainEnv(t), nil, "transfer", "--to", recipient("ledger-slow").Hex(), "--amount", "1", "--chain-id", "1337", "--wallet-timeout", "1")
	if errCode(r) != string(codeJobTimeout) || r.code != exitError {
		t.Fatalf("slow confirmation: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	if p, _ := c.PendingNonceAt(context.Background(), from); p != next+1 {
		t.Errorf("pending nonce %d after a timed-out signature, want %d", p, next+1)
	}
	led, err := (&submit.Nonces{Store: journalOf(t, home).Store}).Inspect(big.NewInt(1337), from)
	if err != nil || len(led.Reserved) != 0 || (led.Next != next+1 && !(led.Next == next+2 && len(led.Released) == 1)) {
		t.Errorf("nonce ledger after a timed-out signature: %+v %v", led, err)
	}
}

// TestTrezorTransfers does the same with the Trezor emulator over UDP.
func TestTrezorTransfers(t *testing.T) {
	t.Parallel()
	emu, err := trezoremu.New(trezoremu.Options{Mnemonic: seedMnemonic("trezor-transfers")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	addr, err := emu.ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hardwareTransfers(t, "trezor", withScheme(addr, "udp"), "trezor-transfers", func() int { return emu.Stats().Signatures })
}

// hardwareTransfers initializes a wallet on the device, funds it and runs
// transferAndCheck; the device must have made exactly the two signatures.
func hardwareTransfers(t *testing.T, wallet, device, seed string, signatures func() int) (string, common.Address) {
	t.Helper()
	home := filepath.Join(t.TempDir(), "mm")
	mmOK(t, home, nil, nil, "init", "--wallet", wallet, "--mode", "guard", "--device", device)
	from := walletAddress(t, home)
	fund(t, from)
	before := signatures()
	transferAndCheck(t, home, from, seed)
	if n := signatures() - before; n != 2 {
		t.Errorf("the device made %d signatures for two transfers", n)
	}
	return home, from
}
