package devnet

import (
	"context"
	"math/big"
	"os"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/mm-wallet/mm/core/chains"
)

var (
	shared    *Node
	fundedKey = mustKey("devnet test account")
	funded    = crypto.PubkeyToAddress(fundedKey.PublicKey)
)

func mustKey(seed string) *ecdsaKey {
	k, err := crypto.ToECDSA(crypto.Keccak256([]byte(seed)))
	if err != nil {
		panic(err)
	}
	return k
}

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	n, err := Start(ctx, Options{Fund: []common.Address{funded}})
	cancel()
	if err != nil {
		println("devnet:", err.Error())
		os.Exit(1)
	}
	shared = n
	code := m.Run()
	n.Close()
	os.Exit(code)
}

func TestFixturesAtRegisteredAddresses(t *testing.T) {
	c := shared.Contracts()
	want := map[string][2]common.Address{
		"USDC":     {c.USDC, chains.DevnetUSDC},
		"NFT":      {c.NFT, chains.DevnetNFT},
		"Reverter": {c.Reverter, chains.DevnetReverter},
		"Spender":  {c.Spender, chains.DevnetSpender},
	}
	for name, p := range want {
		if p[0] != p[1] {
			t.Errorf("%s deployed at %s, chains registry says %s", name, p[0].Hex(), p[1].Hex())
		}
	}
	reg, _ := chains.Lookup(ChainID)
	if tok, err := reg.Token("USDC"); err != nil || tok.Address != c.USDC || tok.Decimals != 6 {
		t.Errorf("registry devnet USDC = %+v, %v", tok, err)
	}
}

func TestRPCOverHTTPAndWebSocket(t *testing.T) {
	ctx := context.Background()
	for _, u := range []string{shared.RPCURL(), shared.WSURL()} {
		c, err := ethclient.DialContext(ctx, u)
		if err != nil {
			t.Fatalf("dial %s: %v", u, err)
		}
		id, err := c.ChainID(ctx)
		if err != nil || id.Int64() != ChainID {
			t.Fatalf("%s chain id = %v, %v", u, id, err)
		}
		c.Close()
	}
	rc, err := rpc.DialContext(ctx, shared.RPCURL())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var version string
	if err := rc.CallContext(ctx, &version, "net_version"); err != nil || version != "1337" {
		t.Errorf("net_version = %q, %v", version, err)
	}
	var cv string
	if err := rc.CallContext(ctx, &cv, "web3_clientVersion"); err != nil || cv == "" {
		t.Errorf("web3_clientVersion = %q, %v", cv, err)
	}
	// debug namespace is served.
	var trace map[string]any
	if err := rc.CallContext(ctx, &trace, "debug_traceCall", map[string]any{"from": funded, "to": shared.Contracts().USDC, "data": "0x18160ddd"}, "latest", map[string]any{"tracer": "callTracer"}); err != nil {
		t.Errorf("debug_traceCall: %v", err)
	}
	// eth_simulateV1 is served and sees the custom error of the reverter.
	var sim []map[string]any
	calls := []map[string]any{{"from": funded, "to": shared.Contracts().Reverter, "data": "0x81e5fa590000000000000000000000000000000000000000000000000000000000000001"}}
	if err := rc.CallContext(ctx, &sim, "eth_simulateV1", map[string]any{"blockStateCalls": []map[string]any{{"calls": calls}}}, "latest"); err != nil {
		t.Fatalf("eth_simulateV1: %v", err)
	}
	if len(sim) != 1 {
		t.Fatalf("eth_simulateV1 returned %d blocks", len(sim))
	}
	cs, _ := sim[0]["calls"].([]any)
	if len(cs) != 1 || cs[0].(map[string]any)["status"] != "0x0" {
		t.Errorf("simulated reverter call = %v, want status 0x0", cs)
	}
}

func TestFundedAccountHasEtherAndUSDC(t *testing.T) {
	ctx := context.Background()
	c := ethclient.NewClient(shared.Attach())
	defer c.Close()
	bal, err := c.BalanceAt(ctx, funded, nil)
	if err != nil || bal.Cmp(DefaultFundWei) < 0 {
		t.Fatalf("balance = %v, %v; want ≥ %v", bal, err, DefaultFundWei)
	}
	usdc, _ := ABI("FixtureUSDC")
	data, _ := usdc.Pack("balanceOf", funded)
	out, err := c.CallContract(ctx, callMsg(shared.Contracts().USDC, data), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := new(big.Int).SetBytes(out); got.Cmp(DefaultFundUSDC) != 0 {
		t.Errorf("USDC balance = %v, want %v", got, DefaultFundUSDC)
	}
	dec, _ := usdc.Pack("decimals")
	out, _ = c.CallContract(ctx, callMsg(shared.Contracts().USDC, dec), nil)
	if new(big.Int).SetBytes(out).Int64() != 6 {
		t.Errorf("USDC decimals = %x", out)
	}
}

func TestSealsWhenTransactionsArrive(t *testing.T) {
	ctx := context.Background()
	c := ethclient.NewClient(shared.Attach())
	defer c.Close()
	to := common.HexToAddress("0x00000000000000000000000000000000000000a1")
	nonce, _ := c.PendingNonceAt(ctx, funded)
	head, _ := c.HeaderByNumber(ctx, nil)
	tx, err := types.SignNewTx(fundedKey, types.LatestSignerForChainID(big.NewInt(ChainID)), &types.DynamicFeeTx{
		ChainID: big.NewInt(ChainID), Nonce: nonce, GasTipCap: big.NewInt(1), GasFeeCap: new(big.Int).Mul(head.BaseFee, big.NewInt(2)), Gas: 21000, To: &to, Value: big.NewInt(12345),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SendTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	r, err := waitReceipt(ctx, c, tx.Hash())
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != 1 || r.BlockNumber.Cmp(head.Number) <= 0 {
		t.Errorf("receipt status %d block %v (head was %v)", r.Status, r.BlockNumber, head.Number)
	}
	if b, _ := c.BalanceAt(ctx, to, nil); b.Int64() != 12345 {
		t.Errorf("recipient balance = %v", b)
	}
}

func TestSpenderPullsApprovedTokens(t *testing.T) {
	ctx := context.Background()
	c := ethclient.NewClient(shared.Attach())
	defer c.Close()
	usdc, _ := ABI("FixtureUSDC")
	spender, _ := ABI("FixtureSpender")
	con := shared.Contracts()
	approve, _ := usdc.Pack("approve", con.Spender, big.NewInt(500))
	pull, _ := spender.Pack("pull", con.USDC, funded, big.NewInt(300))
	sendFrom(t, c, fundedKey, con.USDC, approve)
	sendFrom(t, c, fundedKey, con.Spender, pull) // the funded account pulls to itself
	data, _ := usdc.Pack("allowance", funded, con.Spender)
	out, _ := c.CallContract(ctx, callMsg(con.USDC, data), nil)
	if got := new(big.Int).SetBytes(out).Int64(); got != 200 {
		t.Errorf("allowance after pull = %d, want 200", got)
	}
}

func TestPersistsInDataDir(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	who := common.HexToAddress("0x00000000000000000000000000000000000000b2")
	n, err := Start(ctx, Options{DataDir: dir, Fund: []common.Address{who}})
	if err != nil {
		t.Fatal(err)
	}
	c := ethclient.NewClient(n.Attach())
	head1, _ := c.BlockNumber(ctx)
	c.Close()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	n2, err := Start(ctx, Options{DataDir: dir, Fund: []common.Address{who}})
	if err != nil {
		t.Fatalf("restart on the same datadir: %v", err)
	}
	defer n2.Close()
	c2 := ethclient.NewClient(n2.Attach())
	defer c2.Close()
	head2, _ := c2.BlockNumber(ctx)
	if head2 < head1 || head1 == 0 {
		t.Errorf("head after restart = %d, before = %d", head2, head1)
	}
	bal, _ := c2.BalanceAt(ctx, who, nil)
	if bal.Cmp(DefaultFundWei) != 0 {
		t.Errorf("balance after restart = %v, want exactly one funding (%v)", bal, DefaultFundWei)
	}
	if n2.Contracts() != FixtureAddresses() {
		t.Errorf("fixtures moved: %+v", n2.Contracts())
	}
}

func TestRefusesNonLoopbackHost(t *testing.T) {
	if _, err := Start(context.Background(), Options{Host: "0.0.0.0"}); err == nil {
		t.Fatal("Start on 0.0.0.0 succeeded")
	}
}

func sendFrom(t *testing.T, c *ethclient.Client, key *ecdsaKey, to common.Address, data []byte) {
	t.Helper()
	ctx := context.Background()
	from := crypto.PubkeyToAddress(key.PublicKey)
	nonce, _ := c.PendingNonceAt(ctx, from)
	head, _ := c.HeaderByNumber(ctx, nil)
	tx, err := types.SignNewTx(key, types.LatestSignerForChainID(big.NewInt(ChainID)), &types.DynamicFeeTx{
		ChainID: big.NewInt(ChainID), Nonce: nonce, GasTipCap: big.NewInt(1), GasFeeCap: new(big.Int).Mul(head.BaseFee, big.NewInt(2)), Gas: 200_000, To: &to, Data: data, Value: new(big.Int),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SendTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	r, err := waitReceipt(ctx, c, tx.Hash())
	if err != nil || r.Status != 1 {
		t.Fatalf("tx to %s: receipt %+v, %v", to.Hex(), r, err)
	}
}

func TestBlockPeriodSealsWithoutTransactions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	n, err := Start(ctx, Options{BlockPeriod: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	c := ethclient.NewClient(n.Attach())
	defer c.Close()
	// With a period, fixture deployment waits for the next tick; after it
	// the head keeps moving on its own.
	start, _ := c.BlockNumber(ctx)
	deadline := time.Now().Add(10 * time.Second)
	for {
		h, _ := c.BlockNumber(ctx)
		if h >= start+2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("head stayed at %d with a 1 s block period", h)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
