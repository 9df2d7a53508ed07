package core_test

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/core/types"

	"github.com/mm-wallet/mm/core"
	"github.com/mm-wallet/mm/core/coretest"
	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/signers/mnemonic"
)

// The public BIP-39 test mnemonic: it protects nothing.
const testMnemonic = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"

// TestBYOKTransfers runs ETH and USDC transfers signed by the real BIP-39
// signer (in process here; the CLI drives the same signer as a plugin).
func TestBYOKTransfers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := mnemonic.NewFromMnemonic(testMnemonic, "")
	if err != nil {
		t.Fatal(err)
	}
	accts, err := s.Accounts(ctx, &sdk.AccountsRequest{Indices: []uint32{3}})
	if err != nil {
		t.Fatal(err)
	}
	acct := accts.Accounts[0]
	if err := node.Fund(ctx, acct.Address); err != nil {
		t.Fatal(err)
	}
	e := coretest.NewEnv(t, node, coretest.EnvOptions{Signer: s})
	to := fresh(t)
	usdcBefore := e.USDC(t, acct.Address)
	for _, tr := range []core.Transfer{{To: to.Hex(), Amount: "0.75", Token: "ETH"}, {To: to.Hex(), Amount: "3.000001", Token: "USDC"}} {
		tr := tr
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		res, err := e.Pipeline.Run(rctx, &core.Request{ChainID: e.ChainID(), Account: acct, Transfer: &tr, Wait: true})
		cancel()
		if err != nil {
			t.Fatalf("%s transfer: %v", tr.Token, err)
		}
		if res.Status != core.StatusConfirmed || res.From != acct.Address {
			t.Errorf("%s: %+v", tr.Token, res)
		}
		tx, _, err := e.Client.TransactionByHash(ctx, *res.TxHash)
		if err != nil || tx == nil {
			t.Fatalf("%s: mined transaction not found: %v", tr.Token, err)
		}
		if from, _ := types.Sender(types.LatestSignerForChainID(e.ChainID()), tx); from != acct.Address {
			t.Errorf("%s: mined transaction is from %s", tr.Token, from.Hex())
		}
	}
	if got := e.Balance(t, to); got.Cmp(new(big.Int).Mul(big.NewInt(75), big.NewInt(1e16))) != 0 {
		t.Errorf("recipient ETH %v, want 0.75 ETH", got)
	}
	if got := e.USDC(t, to); got.Int64() != 3_000_001 {
		t.Errorf("recipient USDC %v, want 3000001", got)
	}
	if d := new(big.Int).Sub(usdcBefore, e.USDC(t, acct.Address)); d.Int64() != 3_000_001 {
		t.Errorf("sender USDC down by %v", d)
	}
}
