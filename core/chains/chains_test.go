package chains_test

import (
	"context"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/mm-wallet/mm/core"
	"github.com/mm-wallet/mm/core/chains"
	"github.com/mm-wallet/mm/core/devnet"
	"github.com/mm-wallet/mm/sdk"
)

var node *devnet.Node

var holder = common.HexToAddress("0x00000000000000000000000000000000000c4a1e")

func TestMain(m *testing.M) {
	n, err := devnet.Start(context.Background(), devnet.Options{Fund: []common.Address{holder}})
	if err != nil {
		println("chains tests:", err.Error())
		os.Exit(1)
	}
	node = n
	code := m.Run()
	n.Close()
	os.Exit(code)
}

func TestRegistryCoversTheRequiredChains(t *testing.T) {
	want := map[uint64]string{1: "Ethereum", 11155111: "Sepolia", 137: "Polygon", 8453: "Base", 42161: "Arbitrum One", 10: "OP Mainnet", 59144: "Linea", 56: "BNB Smart Chain", 1337: "devnet"}
	for id, name := range want {
		c, ok := chains.Lookup(id)
		if !ok || c.Name != name {
			t.Errorf("chain %d: %+v", id, c)
			continue
		}
		if c.NativeSymbol == "" || c.NativeDecimals != 18 || len(c.RPC) == 0 {
			t.Errorf("chain %d lacks native currency or RPC: %+v", id, c)
		}
		if id != 1337 && !strings.HasPrefix(c.Explorer, "https://") {
			t.Errorf("chain %d explorer %q", id, c.Explorer)
		}
		seen := map[common.Address]bool{}
		for _, tok := range c.Tokens {
			if seen[tok.Address] || tok.Address == (common.Address{}) {
				t.Errorf("chain %d: duplicate or zero token address %s", id, tok.Address.Hex())
			}
			seen[tok.Address] = true
		}
		syms := []string{"USDC", "USDT", "WETH", "DAI"}
		if c.Testnet {
			syms = []string{"USDC"}
		}
		for _, s := range syms {
			if _, err := c.Token(s); err != nil {
				t.Errorf("chain %d has no %s", id, s)
			}
		}
	}
	eth, _ := chains.Lookup(1)
	usdc, _ := eth.Token("usdc")
	if usdc.Decimals != 6 || usdc.Address != common.HexToAddress("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48") {
		t.Errorf("Ethereum USDC = %+v", usdc)
	}
	bnb, _ := chains.Lookup(56)
	if !bnb.Legacy || bnb.NativeSymbol != "BNB" {
		t.Errorf("BNB chain = %+v", bnb)
	}
	if tok, err := eth.Token(usdc.Address.Hex()); err != nil || tok.Symbol != "USDC" {
		t.Errorf("lookup by address: %+v %v", tok, err)
	}
	if _, err := eth.Token("DOGE"); sdk.CodeOf(err) != core.CodeTokenNotFound {
		t.Errorf("unknown symbol: %v", err)
	}
}

func TestResolveOverrides(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	c, err := chains.Resolve(1, chains.Settings{Getenv: getenv})
	if err != nil || c.RPCURL() != "https://ethereum-rpc.publicnode.com" || c.PrivateRPC != "" {
		t.Fatalf("default: %+v %v", c, err)
	}
	s := chains.Settings{Getenv: getenv, RPC: map[uint64]string{1: "https://config.example/rpc"}, PrivateRPC: map[uint64]string{1: "https://protect.example"}}
	c, _ = chains.Resolve(1, s)
	if c.RPCURL() != "https://config.example/rpc" || c.PrivateRPC != "https://protect.example" {
		t.Errorf("config override: %+v", c)
	}
	env["MM_RPC_1"] = "https://env.example/rpc"
	env["MM_PRIVATE_RPC_1"] = "https://env-protect.example"
	c, _ = chains.Resolve(1, s)
	if c.RPCURL() != "https://env.example/rpc" || c.PrivateRPC != "https://env-protect.example" {
		t.Errorf("environment must win: %+v", c)
	}
	if _, err := chains.Resolve(424242, chains.Settings{Getenv: getenv}); sdk.CodeOf(err) != core.CodeUnknownChain {
		t.Errorf("unknown chain: %v", err)
	}
	c, err = chains.Resolve(424242, chains.Settings{Getenv: getenv, RPC: map[uint64]string{424242: "http://127.0.0.1:1"}})
	if err != nil || c.ID != 424242 || c.NativeSymbol != "ETH" {
		t.Errorf("custom chain: %+v %v", c, err)
	}
	env["MM_RPC_1"] = ""
	if _, err := chains.Resolve(1, chains.Settings{Getenv: getenv, RPC: map[uint64]string{1: "ftp://x"}}); err == nil {
		t.Error("ftp:// endpoint accepted")
	}
	// The registry itself is not modified by overrides.
	if c, _ := chains.Lookup(1); c.RPCURL() != "https://ethereum-rpc.publicnode.com" {
		t.Errorf("registry mutated: %s", c.RPCURL())
	}
	// Extra tokens (a dev chain's fixtures, config) are added.
	extra := chains.Token{Symbol: "XYZ", Address: common.HexToAddress("0x1"), Decimals: 3}
	c, _ = chains.Resolve(1337, chains.Settings{Getenv: getenv, Tokens: map[uint64][]chains.Token{1337: {extra}}})
	if tok, err := c.Token("xyz"); err != nil || tok.Decimals != 3 {
		t.Errorf("extra token: %+v %v", tok, err)
	}
}

func TestParseUnits(t *testing.T) {
	ok := []struct {
		in   string
		dec  uint8
		want string
	}{
		{"12.5", 6, "12500000"}, {"1", 18, "1000000000000000000"}, {"0.000001", 6, "1"}, {"007", 0, "7"},
		{"1.000000", 6, "1000000"}, {"115792089237316195423570985008687907853269984665640564039457584007913129639935", 0, "115792089237316195423570985008687907853269984665640564039457584007913129639935"},
	}
	for _, c := range ok {
		got, err := chains.ParseUnits(c.in, c.dec)
		if err != nil || got.String() != c.want {
			t.Errorf("ParseUnits(%q, %d) = %v, %v; want %s", c.in, c.dec, got, err, c.want)
		}
	}
	for _, in := range []string{"", "0", "0.0", "-1", "+1", "1e6", "1.", ".5", "1.2.3", "1,5", " 1", "0x10", "1.0000001", "115792089237316195423570985008687907853269984665640564039457584007913129639936", "NaN"} {
		if _, err := chains.ParseUnits(in, 6); sdk.CodeOf(err) != core.CodeInvalidAmount {
			t.Errorf("ParseUnits(%q) = %v, want INVALID_AMOUNT", in, err)
		}
	}
}

func TestFormatUnits(t *testing.T) {
	for _, c := range []struct {
		v    int64
		dec  uint8
		want string
	}{{12500000, 6, "12.5"}, {1, 6, "0.000001"}, {1000000, 6, "1"}, {0, 6, "0"}, {-1500000, 6, "-1.5"}, {42, 0, "42"}} {
		if got := chains.FormatUnits(big.NewInt(c.v), c.dec); got != c.want {
			t.Errorf("FormatUnits(%d, %d) = %s, want %s", c.v, c.dec, got, c.want)
		}
	}
}

func TestParseAddress(t *testing.T) {
	for _, s := range []string{"0x52908400098527886E0F7030069857D2E4169EE7", "0x52908400098527886e0f7030069857d2e4169ee7", "0x52908400098527886E0F7030069857D2E4169EE7"} {
		if _, err := chains.ParseAddress(s); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	for _, s := range []string{"0x52908400098527886E0F7030069857D2E4169Ee7", "52908400098527886E0F7030069857D2E4169EE7", "0x1234", "0xZZ908400098527886E0F7030069857D2E4169EE7", ""} {
		if _, err := chains.ParseAddress(s); sdk.CodeOf(err) != core.CodeInvalidAddress {
			t.Errorf("%q: %v, want INVALID_EVM_ADDRESS", s, err)
		}
	}
}

func TestRedactHidesCredentials(t *testing.T) {
	for in, want := range map[string]string{
		"https://mainnet.infura.io/v3/0123456789abcdef0123456789abcdef": "https://mainnet.infura.io/v3/***",
		"https://user:secret@rpc.example/path?key=abc":                  "https://rpc.example/path?redacted",
		"http://127.0.0.1:8545":                                         "http://127.0.0.1:8545",
	} {
		if got := chains.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClientAgainstTheDevChain(t *testing.T) {
	ctx := context.Background()
	c, err := chains.Dial(ctx, node.RPCURL())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if id, err := c.ChainID(ctx); err != nil || id.Int64() != 1337 {
		t.Fatalf("chain id %v %v", id, err)
	}
	if err := c.CheckChainID(ctx, big.NewInt(1)); sdk.CodeOf(err) != core.CodeChainIDMismatch {
		t.Errorf("CheckChainID(1) = %v", err)
	}
	if b, err := c.BalanceAt(ctx, holder); err != nil || b.Cmp(devnet.DefaultFundWei) != 0 {
		t.Errorf("balance %v %v", b, err)
	}
	if b, err := c.TokenBalance(ctx, node.Contracts().USDC, holder); err != nil || b.Cmp(devnet.DefaultFundUSDC) != 0 {
		t.Errorf("USDC balance %v %v", b, err)
	}
	if r, err := c.TransactionReceipt(ctx, common.HexToHash("0x1234")); r != nil || err != nil {
		t.Errorf("receipt of an unknown tx: %v %v", r, err)
	}
	ws, err := chains.Dial(ctx, node.WSURL())
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if n, err := ws.PendingNonceAt(ctx, holder); err != nil || n != 0 {
		t.Errorf("ws nonce %d %v", n, err)
	}
}

func TestUnreachableNodeIsRPCUnavailableAfterBoundedRetries(t *testing.T) {
	ctx := context.Background()
	// A port nobody listens on.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	c, err := chains.Dial(ctx, "http://"+addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Backoff = time.Millisecond
	_, err = c.ChainID(ctx)
	e := sdk.AsError(err)
	if e == nil || e.Code != core.CodeRPCUnavailable || !strings.Contains(e.Hint, addr) {
		t.Fatalf("err = %#v, want RPC_UNAVAILABLE naming %s", err, addr)
	}

	// A server answering 503 is retried exactly Retries times more.
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "busy", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c2, _ := chains.Dial(ctx, srv.URL)
	c2.Backoff = time.Millisecond
	c2.Retries = 2
	if _, err := c2.ChainID(ctx); sdk.CodeOf(err) != core.CodeRPCUnavailable {
		t.Errorf("503: %v", err)
	}
	if hits.Load() != 3 {
		t.Errorf("503 was tried %d times, want 3", hits.Load())
	}

	// A JSON-RPC error answer is final: no retry.
	hits.Store(0)
	srv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"nope"}}`))
	}))
	defer srv2.Close()
	c3, _ := chains.Dial(ctx, srv2.URL)
	if _, err := c3.ChainID(ctx); err == nil || sdk.CodeOf(err) == core.CodeRPCUnavailable {
		t.Errorf("rpc error: %v", err)
	}
	if hits.Load() != 1 {
		t.Errorf("an RPC error answer was retried (%d tries)", hits.Load())
	}

	// A hanging node hits the per-call timeout.
	srv3 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(3 * time.Second):
		}
	}))
	defer srv3.Close()
	c4, _ := chains.Dial(ctx, srv3.URL)
	c4.Timeout, c4.Retries = 50*time.Millisecond, 1
	start := time.Now()
	if _, err := c4.ChainID(ctx); sdk.CodeOf(err) != core.CodeRPCUnavailable {
		t.Errorf("hang: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("timeout not applied: %s", time.Since(start))
	}
}

func TestBalances(t *testing.T) {
	ctx := context.Background()
	c, _ := chains.Dial(ctx, node.RPCURL())
	defer c.Close()
	dev, _ := chains.Resolve(1337, chains.Settings{Getenv: func(string) string { return "" }})
	bs, err := c.Balances(ctx, dev, holder, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 2 || bs[0].Symbol != "ETH" || bs[0].Amount != "10000" || bs[1].Symbol != "USDC" || bs[1].Amount != "1000000" || bs[1].Raw != "1000000000000" {
		t.Errorf("balances = %+v", bs)
	}
	bs, err = c.Balances(ctx, dev, holder, []string{"usdc"})
	if err != nil || len(bs) != 1 || bs[0].Symbol != "USDC" {
		t.Errorf("USDC only = %+v %v", bs, err)
	}
	if _, err := c.Balances(ctx, dev, holder, []string{"DOGE"}); sdk.CodeOf(err) != core.CodeTokenNotFound {
		t.Errorf("unknown token: %v", err)
	}
}
