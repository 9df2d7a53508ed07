package main

import (
	"context"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/tyler-smith/go-bip39"

	"github.com/mm-wallet/mm/core"
	"github.com/mm-wallet/mm/core/chains"
	"github.com/mm-wallet/mm/core/devnet"
	"github.com/mm-wallet/mm/core/state"
	"github.com/mm-wallet/mm/core/submit"
)

// The transaction tests drive the real mm (processes re-executed from this
// test binary) against one embedded dev chain started in this process. The
// test process links core/devnet; mm itself does not (see
// TestMMDoesNotLinkTheNode).
var (
	chainOnce sync.Once
	chainNode *devnet.Node
	chainErr  error
)

// testChain returns the package's dev chain, started on first use.
func testChain(t testing.TB) *devnet.Node {
	t.Helper()
	chainOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		chainNode, chainErr = devnet.Start(ctx, devnet.Options{})
	})
	if chainErr != nil {
		t.Fatalf("start the dev chain: %v", chainErr)
	}
	return chainNode
}

// chainClient is an RPC client of the test chain for the checks.
func chainClient(t testing.TB) *chains.Client {
	t.Helper()
	c, err := chains.Dial(context.Background(), testChain(t).RPCURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// seedMnemonic is a valid BIP-39 mnemonic derived from a public seed
// string: each test signs from accounts of its own, so tests sharing the
// chain never compete for nonces. Test keys only; they protect nothing.
func seedMnemonic(seed string) string {
	m, err := bip39.NewMnemonic(crypto.Keccak256([]byte("mm cmd test " + seed))[:16])
	if err != nil {
		panic(err)
	}
	return m
}

// recipient is a fresh address that holds nothing on the chain.
func recipient(seed string) common.Address {
	return common.BytesToAddress(crypto.Keccak256([]byte("mm cmd test recipient " + seed)))
}

// chainEnv is the environment that points mm at the test chain.
func chainEnv(t testing.TB, extra ...string) []string {
	return append([]string{chains.EnvRPC + "1337=" + testChain(t).RPCURL()}, extra...)
}

// byokHome initializes a state folder with a BYOK wallet from seed's
// mnemonic, funds its first account on the test chain and returns the
// folder and the account.
func byokHome(t *testing.T, seed string) (string, common.Address) {
	t.Helper()
	home := filepath.Join(t.TempDir(), "mm")
	r := runMM(t, home, []string{"MM_MNEMONIC=" + seedMnemonic(seed)}, nil, "init", "--wallet", "byok", "--mode", "guard")
	if r.code != 0 {
		t.Fatalf("init: %s %s", r.stdout, r.stderr)
	}
	from := walletAddress(t, home)
	fund(t, from)
	return home, from
}

// walletAddress is the active wallet's address in home.
func walletAddress(t *testing.T, home string) common.Address {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(home, walletsFile))
	if err != nil {
		t.Fatal(err)
	}
	var d walletsDoc
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	w, ok := d.active()
	if !ok {
		t.Fatalf("no active wallet in %s", data)
	}
	return common.HexToAddress(w.Address)
}

func fund(t testing.TB, addrs ...common.Address) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := testChain(t).Fund(ctx, addrs...); err != nil {
		t.Fatal(err)
	}
}

// mmOK runs mm and fails the test unless it exits 0; it decodes stdout
// (JSON) into out when out is not nil.
func mmOK(t *testing.T, home string, env []string, out any, args ...string) result {
	t.Helper()
	r := runMM(t, home, env, nil, args...)
	if r.code != 0 {
		t.Fatalf("mm %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	if out != nil {
		if err := json.Unmarshal(r.stdout, out); err != nil {
			t.Fatalf("mm %s: not JSON: %v\n%s", strings.Join(args, " "), err, r.stdout)
		}
	}
	return r
}

// sent is the JSON result of the sending commands.
type sent struct {
	TxHash  common.Hash     `json:"txHash"`
	Status  string          `json:"status"`
	ChainID uint64          `json:"chainId"`
	From    common.Address  `json:"from"`
	To      *common.Address `json:"to"`
	Intent  string          `json:"intent"`
	Nonce   uint64          `json:"nonce"`
	Value   string          `json:"value"`
	Kind    string          `json:"kind"`
	Route   string          `json:"route"`
	Wallet  string          `json:"wallet"`
	Receipt *core.Receipt   `json:"receipt"`
}

func balanceOf(t testing.TB, c *chains.Client, a common.Address) *big.Int {
	t.Helper()
	b, err := c.BalanceAt(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func usdcOf(t testing.TB, c *chains.Client, a common.Address) *big.Int {
	t.Helper()
	b, err := c.TokenBalance(context.Background(), chains.DevnetUSDC, a)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// gasCost is what a mined transaction paid for gas, from its receipt.
func gasCost(t testing.TB, c *chains.Client, h common.Hash) *big.Int {
	t.Helper()
	r, err := c.TransactionReceipt(context.Background(), h)
	if err != nil || r == nil {
		t.Fatalf("receipt of %s: %v", h.Hex(), err)
	}
	return new(big.Int).Mul(new(big.Int).SetUint64(r.GasUsed), r.EffectiveGasPrice)
}

func ether(s string) *big.Int {
	v, err := chains.ParseUnits(s, 18)
	if err != nil {
		panic(err)
	}
	return v
}

func usdc(s string) *big.Int {
	v, err := chains.ParseUnits(s, 6)
	if err != nil {
		panic(err)
	}
	return v
}

// transferAndCheck sends ETH and USDC from home's active wallet with
// --wait and checks that both balances moved exactly, and that the journal,
// mm tx and mm tx history report the transactions.
func transferAndCheck(t *testing.T, home string, from common.Address, seed string) {
	t.Helper()
	c := chainClient(t)
	to := recipient(seed)
	env := chainEnv(t)
	ethBefore, usdcBefore := balanceOf(t, c, from), usdcOf(t, c, from)

	var eth sent
	mmOK(t, home, env, &eth, "transfer", "--to", to.Hex(), "--amount", "1.25", "--chain-id", "1337", "--token", "ETH", "--wait")
	if eth.Status != core.StatusConfirmed || eth.ChainID != 1337 || eth.From != from || eth.To == nil || *eth.To != to ||
		eth.Intent != "Transfer 1.25 ETH to "+to.Hex() || eth.Receipt == nil || eth.Receipt.Status != "success" {
		t.Fatalf("ETH transfer result: %+v", eth)
	}
	if got := balanceOf(t, c, to); got.Cmp(ether("1.25")) != 0 {
		t.Errorf("recipient holds %s wei, want 1.25 ETH exactly", got)
	}
	want := new(big.Int).Sub(ethBefore, ether("1.25"))
	want.Sub(want, gasCost(t, c, eth.TxHash))
	if got := balanceOf(t, c, from); got.Cmp(want) != 0 {
		t.Errorf("sender holds %s wei, want %s (before − 1.25 ETH − gas)", got, want)
	}

	var tok sent
	mmOK(t, home, env, &tok, "transfer", "--to", to.Hex(), "--amount", "12.345678", "--chain-id", "1337", "--token", "USDC", "--wait")
	if tok.Status != core.StatusConfirmed || tok.To == nil || *tok.To != chains.DevnetUSDC || tok.Intent != "Transfer 12.345678 USDC to "+to.Hex() {
		t.Fatalf("USDC transfer result: %+v", tok)
	}
	if got := usdcOf(t, c, to); got.Cmp(usdc("12.345678")) != 0 {
		t.Errorf("recipient holds %s USDC units, want 12345678", got)
	}
	if got := usdcOf(t, c, from); got.Cmp(new(big.Int).Sub(usdcBefore, usdc("12.345678"))) != 0 {
		t.Errorf("sender holds %s USDC units, want %s", got, new(big.Int).Sub(usdcBefore, usdc("12.345678")))
	}
	want.Sub(want, gasCost(t, c, tok.TxHash))
	if got := balanceOf(t, c, from); got.Cmp(want) != 0 {
		t.Errorf("sender holds %s wei after the token transfer, want %s (only gas spent)", got, want)
	}

	// Journaled, with the receipt.
	st := journalOf(t, home)
	for _, h := range []common.Hash{eth.TxHash, tok.TxHash} {
		e, err := st.Get(context.Background(), h)
		if err != nil || e.Status != submit.StatusConfirmed || e.BlockNumber == nil || e.From != from {
			t.Errorf("journal entry of %s: %+v %v", h.Hex(), e, err)
		}
	}

	// mm tx <hash>: JSON and text.
	var v struct {
		Hash        common.Hash     `json:"hash"`
		Status      string          `json:"status"`
		BlockNumber *uint64         `json:"blockNumber"`
		From        common.Address  `json:"from"`
		To          *common.Address `json:"to"`
		Value       string          `json:"value"`
	}
	mmOK(t, home, env, &v, "tx", eth.TxHash.Hex())
	r, _ := c.TransactionReceipt(context.Background(), eth.TxHash)
	if v.Hash != eth.TxHash || v.Status != "confirmed" || v.BlockNumber == nil || *v.BlockNumber != r.BlockNumber.Uint64() ||
		v.From != from || v.To == nil || *v.To != to || v.Value != ether("1.25").String() {
		t.Errorf("mm tx: %+v", v)
	}
	txt := mmOK(t, home, env, nil, "tx", eth.TxHash.Hex(), "-f", "text")
	if !strings.Contains(string(txt.stdout), "confirmed "+eth.TxHash.Hex()) || !strings.Contains(string(txt.stdout), "value 1.25 ETH") {
		t.Errorf("mm tx -f text:\n%s", txt.stdout)
	}

	// mm tx history: newest first, both there.
	var h struct {
		Transactions []struct {
			Hash   common.Hash `json:"hash"`
			Status string      `json:"status"`
			Intent string      `json:"intent"`
		} `json:"transactions"`
	}
	mmOK(t, home, env, &h, "tx", "history")
	if len(h.Transactions) < 2 || h.Transactions[0].Hash != tok.TxHash || h.Transactions[1].Hash != eth.TxHash || h.Transactions[0].Status != "confirmed" {
		t.Errorf("mm tx history: %+v", h)
	}
	txt = mmOK(t, home, env, nil, "tx", "history", "-f", "text")
	if !strings.Contains(string(txt.stdout), tok.TxHash.Hex()) || !strings.Contains(string(txt.stdout), "Transfer 1.25 ETH to") {
		t.Errorf("mm tx history -f text:\n%s", txt.stdout)
	}
}

func journalOf(t *testing.T, home string) *submit.Journal {
	t.Helper()
	st, err := state.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	return &submit.Journal{Store: st}
}

// TestBYOKTransfersChangeBalancesExactly sends ETH and USDC from a BYOK
// wallet through the real mm and its byok plugin process.
func TestBYOKTransfersChangeBalancesExactly(t *testing.T) {
	t.Parallel()
	home, from := byokHome(t, "byok-transfers")
	transferAndCheck(t, home, from, "byok-transfers")
}
