package txn

import (
	"context"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/core/types"

	"github.com/mm-wallet/mm/core"
	"github.com/mm-wallet/mm/core/chains"
	"github.com/mm-wallet/mm/core/submit"
	"github.com/mm-wallet/mm/sdk"
)

// prepareReplace builds a speed-up or cancel of a journaled transaction:
// same nonce, fees raised by at least submit.MinBumpPercent.
func (p *Preparer) prepareReplace(ctx context.Context, req *core.Request) (*core.Prepared, error) {
	if p.Journal == nil {
		return nil, sdk.Errorf(sdk.CodeInternal, "txn: replace needs the journal")
	}
	e, err := p.Journal.Get(ctx, req.Replace.Hash)
	if err != nil {
		return nil, err
	}
	if e.ChainID != p.Chain.ID {
		return nil, core.Errorf(core.CodeChainIDMismatch, fmt.Sprintf("pass --chain-id %d", e.ChainID), "txn: %s was sent on chain %d", e.Hash.Hex(), e.ChainID)
	}
	if e.From != req.Account.Address {
		return nil, core.Errorf(core.CodeFromMismatch, "select the wallet that sent it (mm wallet select)", "txn: %s was sent by %s, not the active account %s", e.Hash.Hex(), e.From.Hex(), req.Account.Address.Hex())
	}
	orig := new(types.Transaction)
	if err := orig.UnmarshalBinary(e.Raw); err != nil {
		return nil, core.Errorf(core.CodeReplaceNotPossible, "the journal entry is damaged", "txn: journal entry %s: %v", e.Hash.Hex(), err)
	}
	if r, err := p.Client.TransactionReceipt(ctx, e.Hash); err != nil {
		return nil, core.Wrapf(err, "txn: replace")
	} else if r != nil {
		return nil, core.Errorf(core.CodeReplaceNotPossible, "it is already mined; nothing to speed up or cancel", "txn: %s was mined in block %v", e.Hash.Hex(), r.BlockNumber)
	}
	mined, err := p.Client.NonceAt(ctx, e.From)
	if err != nil {
		return nil, core.Wrapf(err, "txn: replace")
	}
	if mined > orig.Nonce() {
		return nil, core.Errorf(core.CodeReplaceNotPossible, "another transaction with its nonce was mined; `mm tx history` refreshes its status", "txn: nonce %d of %s is already used", orig.Nonce(), e.From.Hex())
	}

	// Current fee suggestions, so a replacement of a long-stuck transaction
	// is not merely +10 % of a stale price.
	var sug submit.Fees
	if orig.Type() == types.LegacyTxType || orig.Type() == types.AccessListTxType {
		if sug.GasPrice, err = p.Client.SuggestGasPrice(ctx); err != nil {
			return nil, core.Wrapf(err, "txn: replace")
		}
	} else {
		fh, err := p.Client.FeeHistory(ctx, p.feeBlocks(), []float64{p.percentile()})
		if err != nil {
			return nil, core.Wrapf(err, "txn: replace")
		}
		tip := big.NewInt(1)
		if len(fh.Reward) > 0 {
			tip = medianBig(fh.Reward)
		}
		base := new(big.Int)
		if n := len(fh.BaseFee); n > 0 && fh.BaseFee[n-1] != nil {
			base = fh.BaseFee[n-1]
		}
		sug.GasTipCap = tip
		sug.GasFeeCap = new(big.Int).Add(new(big.Int).Mul(base, big.NewInt(2)), tip)
	}
	fees := submit.Bump(orig, sug)
	tx := submit.Replacement(orig, e.From, req.Replace.Cancel, fees)

	bal, err := p.Client.BalanceAt(ctx, e.From)
	if err != nil {
		return nil, core.Wrapf(err, "txn: replace")
	}
	if bal.Cmp(tx.Cost()) < 0 {
		return nil, core.Errorf(core.CodeInsufficientFunds, "fund the account to pay the higher fees", "txn: %s holds %s %s, the replacement needs up to %s", e.From.Hex(), chains.FormatUnits(bal, p.Chain.NativeDecimals), p.Chain.NativeSymbol, chains.FormatUnits(tx.Cost(), p.Chain.NativeDecimals))
	}
	h := e.Hash
	kind, intent := core.KindSpeedUp, "Speed up: "+e.Intent
	call := p.decoder().Decode(tx.To(), tx.Value(), tx.Data())
	if req.Replace.Cancel {
		kind, intent = core.KindCancel, fmt.Sprintf("Cancel %s (nonce %d: %s)", e.Hash.Hex(), orig.Nonce(), e.Intent)
	}
	return &core.Prepared{
		Kind: kind, ChainID: new(big.Int).SetUint64(p.Chain.ID), From: e.From, Tx: tx,
		Call: call, Intent: intent, UserIntent: req.Intent, Replaces: &h, Endpoint: p.Client.URL(),
	}, nil
}

func medianBig(r [][]*big.Int) *big.Int {
	var xs []*big.Int
	for _, blk := range r {
		if len(blk) > 0 && blk[0] != nil && blk[0].Sign() > 0 {
			xs = append(xs, blk[0])
		}
	}
	if len(xs) == 0 {
		return big.NewInt(1)
	}
	for i := 1; i < len(xs); i++ {
		for j := i; j > 0 && xs[j].Cmp(xs[j-1]) < 0; j-- {
			xs[j], xs[j-1] = xs[j-1], xs[j]
		}
	}
	return new(big.Int).Set(xs[len(xs)/2])
}
