package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/mm-wallet/mm/core"
	"github.com/mm-wallet/mm/core/chains"
	"github.com/mm-wallet/mm/core/submit"
)

// TestFiftyConcurrentTransfers starts 50 `mm transfer` processes at once
// from one wallet: every one is mined, and their nonces form one gap-free
// sequence.
func TestFiftyConcurrentTransfers(t *testing.T) {
	t.Parallel()
	const n = 50
	home, from := byokHome(t, "fifty")
	c := chainClient(t)
	to := recipient("fifty")
	start, err := c.PendingNonceAt(context.Background(), from)
	if err != nil {
		t.Fatal(err)
	}
	env := chainEnv(t)
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i] = runMM(t, home, env, nil, "transfer", "--to", to.Hex(), "--amount", "0.001", "--chain-id", "1337")
		}(i)
	}
	wg.Wait()
	var nonces []uint64
	hashes := map[common.Hash]bool{}
	for i, r := range results {
		var s sent
		if r.code != 0 || json.Unmarshal(r.stdout, &s) != nil {
			t.Fatalf("transfer %d: exit %d\n%s\n%s", i, r.code, r.stdout, r.stderr)
		}
		if s.Status != core.StatusSubmitted || hashes[s.TxHash] {
			t.Fatalf("transfer %d: %+v (duplicate hash: %v)", i, s, hashes[s.TxHash])
		}
		hashes[s.TxHash] = true
		nonces = append(nonces, s.Nonce)
	}
	sort.Slice(nonces, func(i, j int) bool { return nonces[i] < nonces[j] })
	for i, got := range nonces {
		if got != start+uint64(i) {
			t.Fatalf("nonces are not one gap-free sequence from %d: %v", start, nonces)
		}
	}
	// All mine.
	deadline := time.Now().Add(time.Minute)
	for {
		mined, err := c.NonceAt(context.Background(), from)
		if err != nil {
			t.Fatal(err)
		}
		if mined == start+n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d transfers mined", mined-start, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for h := range hashes {
		r, err := c.TransactionReceipt(context.Background(), h)
		if err != nil || r == nil || r.Status != types.ReceiptStatusSuccessful {
			t.Fatalf("receipt of %s: %+v %v", h.Hex(), r, err)
		}
	}
	if got := balanceOf(t, c, to); got.Cmp(ether("0.05")) != 0 {
		t.Errorf("recipient holds %s wei, want 0.05 ETH", got)
	}
	// The ledger holds no reservation and agrees with the node.
	led, err := (&submit.Nonces{Store: journalOf(t, home).Store}).Inspect(big.NewInt(1337), from)
	if err != nil || led.Next != start+n || len(led.Reserved) != 0 || len(led.Released) != 0 {
		t.Errorf("nonce ledger: %+v %v", led, err)
	}
}

// recordingProxy forwards JSON-RPC to the dev chain and records every
// method it was asked for.
type recordingProxy struct {
	URL string
	mu  sync.Mutex
	log []string
	raw []string // eth_sendRawTransaction payloads
}

func newRecordingProxy(t *testing.T) *recordingProxy {
	t.Helper()
	target, err := url.Parse(testChain(t).RPCURL())
	if err != nil {
		t.Fatal(err)
	}
	p := &recordingProxy{}
	rp := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		var calls []struct {
			Method string            `json:"method"`
			Params []json.RawMessage `json:"params"`
		}
		if len(body) > 0 && body[0] == '[' {
			_ = json.Unmarshal(body, &calls)
		} else {
			calls = append(calls, struct {
				Method string            `json:"method"`
				Params []json.RawMessage `json:"params"`
			}{})
			_ = json.Unmarshal(body, &calls[0])
		}
		p.mu.Lock()
		for _, c := range calls {
			p.log = append(p.log, c.Method)
			if c.Method == "eth_sendRawTransaction" && len(c.Params) > 0 {
				p.raw = append(p.raw, string(c.Params[0]))
			}
		}
		p.mu.Unlock()
		r.Host = target.Host
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

func (p *recordingProxy) total() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.log)
}

func (p *recordingProxy) count(method string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, m := range p.log {
		if m == method {
			n++
		}
	}
	return n
}

// TestProtectedRoute proves the "smart transaction" route through the CLI:
// with privateRpc.1337 set, the signed transaction goes to the protected
// endpoint only and the public endpoint never receives it. A control run
// without privateRpc shows the recorder does see broadcasts.
func TestProtectedRoute(t *testing.T) {
	t.Parallel()
	home, _ := byokHome(t, "protected")
	c := chainClient(t)

	pub := newRecordingProxy(t)
	var control sent
	mmOK(t, home, []string{chains.EnvRPC + "1337=" + pub.URL}, &control, "transfer", "--to", recipient("protected-control").Hex(), "--amount", "0.1", "--chain-id", "1337", "--wait")
	if pub.count("eth_sendRawTransaction") != 1 || control.Route != submit.RoutePublic {
		t.Fatalf("control: public proxy saw %d broadcasts, route %s", pub.count("eth_sendRawTransaction"), control.Route)
	}

	pub2, priv := newRecordingProxy(t), newRecordingProxy(t)
	env := []string{chains.EnvRPC + "1337=" + pub2.URL}
	mmOK(t, home, env, nil, "config", "set", "privateRpc.1337", priv.URL)
	var chainsOut struct {
		Chains []struct {
			ChainID    uint64 `json:"chainId"`
			PrivateRPC string `json:"privateRpc"`
		} `json:"chains"`
	}
	mmOK(t, home, env, &chainsOut, "chains", "list")
	found := false
	for _, ch := range chainsOut.Chains {
		found = found || (ch.ChainID == 1337 && ch.PrivateRPC == priv.URL)
	}
	if !found {
		t.Errorf("mm chains list does not show the protected endpoint: %+v", chainsOut)
	}
	to := recipient("protected")
	var s sent
	mmOK(t, home, env, &s, "transfer", "--to", to.Hex(), "--amount", "0.2", "--chain-id", "1337", "--wait")
	if s.Route != submit.RoutePrivate || s.Status != core.StatusConfirmed {
		t.Fatalf("route %s status %s", s.Route, s.Status)
	}
	if n := pub2.count("eth_sendRawTransaction"); n != 0 {
		t.Fatalf("the public endpoint received %d signed transactions", n)
	}
	if pub2.total() == 0 {
		t.Error("the public endpoint served no reads at all; the test proves nothing")
	}
	if priv.count("eth_sendRawTransaction") != 1 {
		t.Errorf("the protected endpoint saw %d broadcasts", priv.count("eth_sendRawTransaction"))
	}
	if got := balanceOf(t, c, to); got.Cmp(ether("0.2")) != 0 {
		t.Errorf("recipient holds %s", got)
	}
	// The environment override wins over config.json, for both routes.
	var e struct {
		Route string `json:"route"`
	}
	priv2 := newRecordingProxy(t)
	mmOK(t, home, append(env, chains.EnvPrivateRPC+"1337="+priv2.URL), &e, "transfer", "--to", to.Hex(), "--amount", "0.1", "--chain-id", "1337")
	if priv2.count("eth_sendRawTransaction") != 1 || priv.count("eth_sendRawTransaction") != 1 || pub2.count("eth_sendRawTransaction") != 0 {
		t.Errorf("MM_PRIVATE_RPC_1337 not honoured: env %d, config %d, public %d", priv2.count("eth_sendRawTransaction"), priv.count("eth_sendRawTransaction"), pub2.count("eth_sendRawTransaction"))
	}
}

// TestSpeedUpAndCancel replaces stuck transactions through mm tx speed-up
// and mm tx cancel. A transaction one nonce ahead of the account waits in
// the pool: stuck until the gap is filled.
func TestSpeedUpAndCancel(t *testing.T) {
	t.Parallel()
	home, from := byokHome(t, "replace")
	c := chainClient(t)
	env := chainEnv(t)
	ctx := context.Background()
	for _, cancel := range []bool{false, true} {
		next, err := c.PendingNonceAt(ctx, from)
		if err != nil {
			t.Fatal(err)
		}
		to := recipient(fmt.Sprint("replace", cancel))
		var stuck sent
		payload := fmt.Sprintf(`{"to":"%s","value":"0x3e8","nonce":"%s"}`, to.Hex(), hexutil.EncodeUint64(next+1))
		if !cancel {
			// Waiting for a receipt that cannot come: RECEIPT_TIMEOUT after
			// --wallet-timeout, the transaction out and journaled as pending.
			r := runMM(t, home, env, nil, "wallet", "send-transaction", "--chain-id", "1337", "--payload", payload, "--wait", "--wallet-timeout", "1")
			if errCode(r) != string(core.CodeReceiptTimeout) || r.code != exitError || !strings.Contains(string(r.stderr), "the receipt is awaited for up to 1s") {
				t.Fatalf("--wait on a stuck transaction: exit %d %s %s", r.code, r.stdout, r.stderr)
			}
			var h txHistory
			mmOK(t, home, env, &h, "tx", "history", "--limit", "1")
			if len(h.Transactions) != 1 || h.Transactions[0].Status != submit.StatusPending || h.Transactions[0].Nonce != next+1 ||
				!strings.Contains(string(r.stdout), h.Transactions[0].Hash.Hex()) {
				t.Fatalf("after RECEIPT_TIMEOUT: %+v\n%s", h, r.stdout)
			}
			stuck.TxHash = h.Transactions[0].Hash
		} else {
			mmOK(t, home, env, &stuck, "wallet", "send-transaction", "--chain-id", "1337", "--payload", payload)
		}
		cmd := "speed-up"
		if cancel {
			cmd = "cancel"
		}
		var repl sent
		mmOK(t, home, env, &repl, "tx", cmd, stuck.TxHash.Hex())
		if repl.Nonce != next+1 || repl.Kind != map[bool]string{false: "speed-up", true: "cancel"}[cancel] || repl.TxHash == stuck.TxHash {
			t.Fatalf("%s: %+v", cmd, repl)
		}
		orig, _, _ := c.TransactionByHash(ctx, stuck.TxHash)
		if orig != nil {
			t.Errorf("%s: the node still holds the original", cmd)
		}
		// Fill the gap: the replacement mines, the original never does.
		mmOK(t, home, env, nil, "wallet", "send-transaction", "--chain-id", "1337", "--wait",
			"--payload", fmt.Sprintf(`{"to":"%s","value":"0x1","nonce":"%s"}`, recipient("gap").Hex(), hexutil.EncodeUint64(next)))
		var v struct {
			Status string `json:"status"`
		}
		deadline := time.Now().Add(20 * time.Second)
		for v.Status != "confirmed" && time.Now().Before(deadline) {
			mmOK(t, home, env, &v, "tx", repl.TxHash.Hex())
			time.Sleep(20 * time.Millisecond)
		}
		if v.Status != "confirmed" {
			t.Fatalf("%s: replacement status %s", cmd, v.Status)
		}
		var o struct {
			Status     string       `json:"status"`
			ReplacedBy *common.Hash `json:"replacedBy"`
		}
		mmOK(t, home, env, &o, "tx", stuck.TxHash.Hex())
		if o.Status != submit.StatusReplaced || o.ReplacedBy == nil || *o.ReplacedBy != repl.TxHash {
			t.Errorf("%s: original is %+v", cmd, o)
		}
		want := int64(1000)
		if cancel {
			want = 0
		}
		if got := balanceOf(t, c, to); got.Int64() != want {
			t.Errorf("%s: recipient holds %s, want %d", cmd, got, want)
		}
		// A mined transaction cannot be replaced; nothing is signed.
		r := runMM(t, home, env, nil, "tx", cmd, repl.TxHash.Hex())
		if errCode(r) != string(core.CodeReplaceNotPossible) || r.code != exitError {
			t.Errorf("%s of a mined transaction: exit %d %s", cmd, r.code, r.stdout)
		}
	}
}

// TestSendTransactionDecodesAndDryRuns sends calldata through
// send-transaction (an ERC-20 approve: decoded intent, user intent kept)
// and checks that --dry-run signs, sends and reserves nothing.
func TestSendTransactionDecodesAndDryRuns(t *testing.T) {
	t.Parallel()
	home, from := byokHome(t, "payload")
	c := chainClient(t)
	env := chainEnv(t)
	spender := chains.DevnetSpender
	data := "0x095ea7b3" + fmt.Sprintf("%064x", new(big.Int).SetBytes(spender.Bytes())) + strings.Repeat("f", 64)
	payload := fmt.Sprintf(`{"to":"%s","data":"%s"}`, chains.DevnetUSDC.Hex(), data)

	pending, _ := c.PendingNonceAt(context.Background(), from)
	var dry struct {
		Status     string `json:"status"`
		Intent     string `json:"intent"`
		UnsignedTx string `json:"unsignedTx"`
		TxHash     string `json:"txHash"`
	}
	mmOK(t, home, env, &dry, "wallet", "send-transaction", "--chain-id", "1337", "--payload", payload, "--dry-run")
	if dry.Status != core.StatusDryRun || dry.TxHash != "" || !strings.HasPrefix(dry.UnsignedTx, "0x02") || dry.Intent != "Approve UNLIMITED USDC for "+spender.Hex() {
		t.Fatalf("dry run: %+v", dry)
	}
	if after, _ := c.PendingNonceAt(context.Background(), from); after != pending {
		t.Fatal("the dry run broadcast something")
	}
	if l, _ := journalOf(t, home).List(context.Background(), submit.Filter{}); len(l) != 0 {
		t.Fatalf("the dry run journaled %d entries", len(l))
	}

	var s struct {
		sent
		UserIntent   string       `json:"userIntent"`
		FunctionName string       `json:"functionName"`
		Params       []core.Param `json:"params"`
		Risk         core.Risk    `json:"risk"`
	}
	mmOK(t, home, env, &s, "wallet", "send-transaction", "--chain-id", "1337", "--payload", payload, "--intent", "let the spender pull USDC", "--wait")
	if s.Status != core.StatusConfirmed || s.FunctionName != "approve" || s.UserIntent != "let the spender pull USDC" ||
		s.Intent != "Approve UNLIMITED USDC for "+spender.Hex() || len(s.Params) != 2 || s.Risk == "" {
		t.Fatalf("send-transaction: %+v", s)
	}
	if s.Nonce != pending {
		t.Errorf("nonce %d, want %d (the dry run must not consume one)", s.Nonce, pending)
	}
	// The allowance is on chain.
	out, err := c.CallContract(context.Background(), callAllowance(from, spender))
	if err != nil || new(big.Int).SetBytes(out).Cmp(new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))) != 0 {
		t.Errorf("allowance %x %v", out, err)
	}
}

// callAllowance is USDC.allowance(owner, spender).
func callAllowance(owner, spender common.Address) ethereum.CallMsg {
	data := append(common.FromHex("0xdd62ed3e"), common.LeftPadBytes(owner.Bytes(), 32)...)
	data = append(data, common.LeftPadBytes(spender.Bytes(), 32)...)
	usdc := chains.DevnetUSDC
	return ethereum.CallMsg{To: &usdc, Data: data}
}

// TestWalletBalance reads balances through mm wallet balance: exact amounts
// in human and smallest units, token filters, any address, text mode, and
// an unreachable chain reported beside the ones that answered.
func TestWalletBalance(t *testing.T) {
	t.Parallel()
	home, from := byokHome(t, "balance")
	env := chainEnv(t)
	type bal struct {
		ChainID  uint64  `json:"chainId"`
		Symbol   string  `json:"symbol"`
		Token    *string `json:"token"`
		Decimals uint8   `json:"decimals"`
		Amount   string  `json:"amount"`
		Raw      string  `json:"raw"`
	}
	type balances struct {
		Address  common.Address `json:"address"`
		Wallet   string         `json:"wallet"`
		Balances []bal          `json:"balances"`
		Errors   []struct {
			ChainID uint64 `json:"chainId"`
			Code    string `json:"code"`
		} `json:"errors"`
	}
	var out balances
	mmOK(t, home, env, &out, "wallet", "balance", "--chain-ids", "1337")
	if out.Address != from || out.Wallet != "byok-0" || len(out.Balances) != 2 ||
		out.Balances[0] != (bal{ChainID: 1337, Symbol: "ETH", Decimals: 18, Amount: "10000", Raw: ether("10000").String()}) ||
		out.Balances[1].Symbol != "USDC" || out.Balances[1].Amount != "1000000" || out.Balances[1].Raw != "1000000000000" ||
		out.Balances[1].Token == nil || !strings.EqualFold(*out.Balances[1].Token, chains.DevnetUSDC.Hex()) {
		t.Fatalf("balance: %+v", out)
	}
	// After a transfer: the recipient's exact amounts, only the asked token.
	to := recipient("balance")
	// The token named by its address.
	var sentTok sent
	mmOK(t, home, env, &sentTok, "transfer", "--to", to.Hex(), "--amount", "0.000001", "--token", strings.ToLower(chains.DevnetUSDC.Hex()), "--chain-id", "1337", "--wait")
	if sentTok.Intent != "Transfer 0.000001 USDC to "+to.Hex() {
		t.Errorf("transfer by token address: %+v", sentTok)
	}
	// Another mm (another state folder) finds it on the chain, not in its
	// journal.
	other := filepath.Join(t.TempDir(), "other")
	var v struct {
		Status    string         `json:"status"`
		From      common.Address `json:"from"`
		Journaled bool           `json:"journaled"`
		Value     string         `json:"value"`
	}
	mmOK(t, other, env, &v, "tx", sentTok.TxHash.Hex(), "--chain-id", "1337")
	if v.Status != "confirmed" || v.From != from || v.Journaled || v.Value != "0" {
		t.Errorf("mm tx --chain-id of a foreign transaction: %+v", v)
	}
	if r := runMM(t, other, env, nil, "tx", sentTok.TxHash.Hex()); errCode(r) != string(core.CodeTxNotFound) || !strings.Contains(string(r.stdout), "--chain-id") {
		t.Errorf("mm tx of a foreign transaction without --chain-id: %s", r.stdout)
	}
	out = balances{}
	mmOK(t, home, env, &out, "wallet", "balance", "--chain-ids", "1337", "--token", "USDC", "--address", to.Hex())
	if out.Address != to || out.Wallet != "" || len(out.Balances) != 1 || out.Balances[0].Amount != "0.000001" || out.Balances[0].Raw != "1" {
		t.Fatalf("balance of the recipient: %+v", out)
	}
	txt := mmOK(t, home, env, nil, "wallet", "balance", "--chain-ids", "1337", "--token", "ETH,USDC", "-f", "text")
	if !strings.Contains(string(txt.stdout), "1337      ETH    9999.99") || !strings.Contains(string(txt.stdout), "1337      USDC   999999.999999\n") {
		t.Errorf("text:\n%s", txt.stdout)
	}
	// A chain whose endpoint does not answer is listed under errors; the
	// others are still shown.
	dead := "http://127.0.0.1:1"
	out = balances{}
	mmOK(t, home, append(env, chains.EnvRPC+"137="+dead), &out, "wallet", "balance", "--chain-ids", "1337,137")
	if len(out.Balances) != 2 || len(out.Errors) != 1 || out.Errors[0].ChainID != 137 || out.Errors[0].Code != string(core.CodeRPCUnavailable) {
		t.Errorf("one chain down: %+v", out)
	}
	r := runMM(t, home, append(env, chains.EnvRPC+"137="+dead), nil, "wallet", "balance", "--chain-ids", "137")
	if errCode(r) != string(core.CodeRPCUnavailable) || !strings.Contains(string(r.stdout), dead) {
		t.Errorf("only chain down: exit %d %s", r.code, r.stdout)
	}
}
