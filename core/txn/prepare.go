package txn

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/mm-wallet/mm/core"
	"github.com/mm-wallet/mm/core/chains"
	"github.com/mm-wallet/mm/core/decode"
	"github.com/mm-wallet/mm/core/submit"
	"github.com/mm-wallet/mm/sdk"
)

// Defaults of a Preparer.
const (
	DefaultGasMarginPercent = 20
	DefaultFeeBlocks        = 10
	DefaultFeePercentile    = 50
)

// Preparer fills and checks transactions for one chain. It implements
// core.Preparer and is safe for concurrent use.
type Preparer struct {
	Chain  *chains.Chain
	Client *chains.Client
	// Nonces is the shared nonce ledger; nil uses the node's pending nonce
	// directly (no protection between concurrent processes).
	Nonces *submit.Nonces
	// Journal finds the transactions to speed up or cancel.
	Journal *submit.Journal
	// Decoder decodes calldata; nil uses the built-in ABIs only.
	Decoder *decode.Decoder
	// GasMarginPercent is added to gas estimates of calls (default 20).
	GasMarginPercent int
	// FeeBlocks and FeePercentile drive the EIP-1559 tip estimate: the
	// FeePercentile-th reward percentile over the last FeeBlocks blocks.
	FeeBlocks     uint64
	FeePercentile float64

	chainOK   sync.Once
	chainErr  error
	decodeOne sync.Once
}

var _ core.Preparer = (*Preparer)(nil)

// Prepare implements core.Preparer.
func (p *Preparer) Prepare(ctx context.Context, req *core.Request) (*core.Prepared, error) {
	if p.Chain == nil || p.Client == nil {
		return nil, sdk.Errorf(sdk.CodeInternal, "txn: preparer needs a chain and a client")
	}
	if req.ChainID == nil || !req.ChainID.IsUint64() || req.ChainID.Uint64() != p.Chain.ID {
		return nil, core.Errorf(core.CodeChainIDMismatch, "pass the --chain-id of the configured chain", "txn: request for chain %v, preparer for %d", req.ChainID, p.Chain.ID)
	}
	n := 0
	for _, set := range []bool{req.Payload != nil, req.Transfer != nil, req.Replace != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, core.Errorf(core.CodeMissingPayload, "give a payload, a transfer or a replacement", "txn: request needs exactly one of payload, transfer, replace (got %d)", n)
	}
	switch {
	case req.Replace != nil:
		if err := p.checkChain(ctx); err != nil {
			return nil, err
		}
		return p.prepareReplace(ctx, req)
	case req.Transfer != nil:
		pl, err := p.transferPayload(req.Transfer)
		if err != nil {
			return nil, err
		}
		if err := p.checkChain(ctx); err != nil {
			return nil, err
		}
		return p.fill(ctx, req, pl, core.KindTransfer)
	default:
		pl, err := ParsePayload(req.Payload)
		if err != nil {
			return nil, err
		}
		if pl.ChainID != nil && pl.ChainID.Cmp(req.ChainID) != 0 {
			return nil, core.Errorf(core.CodeChainIDMismatch, "the payload's chainId must equal --chain-id", "txn: payload chainId %s, --chain-id %s", pl.ChainID, req.ChainID)
		}
		if pl.From != nil && *pl.From != req.Account.Address {
			return nil, core.Errorf(core.CodeFromMismatch, "drop \"from\" or select that wallet (mm wallet select)", "txn: payload from %s is not the active account %s", pl.From.Hex(), req.Account.Address.Hex())
		}
		if err := p.checkChain(ctx); err != nil {
			return nil, err
		}
		return p.fill(ctx, req, pl, core.KindTransaction)
	}
}

func (p *Preparer) checkChain(ctx context.Context) error {
	p.chainOK.Do(func() {
		p.chainErr = p.Client.CheckChainID(ctx, new(big.Int).SetUint64(p.Chain.ID))
	})
	return p.chainErr
}

// transferPayload turns `mm transfer` flags into a payload, exactly.
func (p *Preparer) transferPayload(t *core.Transfer) (*Payload, error) {
	if strings.TrimSpace(t.To) == "" {
		return nil, core.Errorf(core.CodeMissingTo, "pass --to 0x…", "txn: transfer has no recipient")
	}
	to, err := chains.ParseAddress(strings.TrimSpace(t.To))
	if err != nil {
		e := sdk.AsError(err)
		return nil, core.Errorf(core.CodeInvalidTo, e.Hint, "txn: --to: %s", e.Message)
	}
	tok := strings.TrimSpace(t.Token)
	if tok == "" {
		tok = p.Chain.NativeSymbol
	}
	if p.Chain.IsNative(tok) {
		v, err := chains.ParseUnits(strings.TrimSpace(t.Amount), p.Chain.NativeDecimals)
		if err != nil {
			return nil, err
		}
		return &Payload{To: to, Value: v}, nil
	}
	token, err := p.Chain.Token(tok)
	if err != nil {
		return nil, err
	}
	v, err := chains.ParseUnits(strings.TrimSpace(t.Amount), token.Decimals)
	if err != nil {
		return nil, err
	}
	data := make([]byte, 0, 68)
	data = append(data, 0xa9, 0x05, 0x9c, 0xbb) // transfer(address,uint256)
	data = append(data, common.LeftPadBytes(to.Bytes(), 32)...)
	data = append(data, common.LeftPadBytes(v.Bytes(), 32)...)
	return &Payload{To: token.Address, Value: new(big.Int), Data: data, tokenAmount: v}, nil
}

// chainState is what one batched round trip tells about the account.
type chainState struct {
	pending  uint64
	mined    uint64 // latest-block nonce, read only for a fixed nonce
	balance  *big.Int
	tokenBal *big.Int
	gas      uint64
	gasErr   error
	fees     *feeState
}

type feeState struct {
	baseFee  *big.Int // next block's, nil without EIP-1559
	tip      *big.Int
	gasPrice *big.Int
}

func (p *Preparer) fill(ctx context.Context, req *core.Request, pl *Payload, kind core.Kind) (prep *core.Prepared, err error) {
	from := req.Account.Address
	legacy := p.wantLegacy(req, pl)
	st, err := p.read(ctx, from, pl, legacy)
	if err != nil {
		return nil, err
	}
	if st.fees != nil && st.fees.baseFee == nil && !legacy && pl.Type == nil && pl.MaxFeePerGas == nil && pl.MaxPriorityFeePerGas == nil {
		legacy = true // the chain has no base fee
	}

	// Funds first: a call that cannot be paid for also fails to estimate,
	// and "insufficient funds" is the clearer answer.
	if st.balance.Cmp(pl.Value) < 0 {
		return nil, core.Errorf(core.CodeInsufficientFunds, fmt.Sprintf("fund %s or send less; nothing was signed", from.Hex()),
			"txn: %s holds %s %s, the value is %s %s", from.Hex(),
			chains.FormatUnits(st.balance, p.Chain.NativeDecimals), p.Chain.NativeSymbol, chains.FormatUnits(pl.Value, p.Chain.NativeDecimals), p.Chain.NativeSymbol)
	}
	if pl.tokenAmount != nil && (st.tokenBal == nil || st.tokenBal.Cmp(pl.tokenAmount) < 0) {
		tok, _ := p.Chain.TokenByAddress(pl.To)
		have := "?"
		if st.tokenBal != nil {
			have = chains.FormatUnits(st.tokenBal, tok.Decimals)
		}
		return nil, core.Errorf(core.CodeInsufficientFunds, fmt.Sprintf("fund %s with %s or send less; nothing was signed", from.Hex(), tok.Symbol),
			"txn: %s holds %s %s, the transfer needs %s", from.Hex(), have, tok.Symbol, chains.FormatUnits(pl.tokenAmount, tok.Decimals))
	}

	// Gas.
	gas := uint64(0)
	if pl.Gas != nil {
		gas = *pl.Gas
	} else {
		if st.gasErr != nil {
			return nil, estimateErr(st.gasErr)
		}
		gas = st.gas
		if len(pl.Data) > 0 || gas != 21_000 {
			gas += gas * uint64(p.margin()) / 100
		}
	}

	// Fees.
	chainID := new(big.Int).SetUint64(p.Chain.ID)
	var inner types.TxData
	var perGas *big.Int
	if legacy {
		gp := pl.GasPrice
		if gp == nil {
			gp = st.fees.gasPrice
		}
		perGas = gp
		if (pl.Type != nil && *pl.Type == types.AccessListTxType) || pl.hasAccessList {
			inner = &types.AccessListTx{ChainID: chainID, GasPrice: gp, Gas: gas, To: &pl.To, Value: pl.Value, Data: pl.Data, AccessList: pl.AccessList}
		} else {
			inner = &types.LegacyTx{GasPrice: gp, Gas: gas, To: &pl.To, Value: pl.Value, Data: pl.Data}
		}
	} else {
		tip, feeCap := pl.MaxPriorityFeePerGas, pl.MaxFeePerGas
		if tip == nil {
			tip = st.fees.tip
			if feeCap != nil && tip.Cmp(feeCap) > 0 {
				tip = new(big.Int).Set(feeCap)
			}
		}
		if feeCap == nil {
			base := st.fees.baseFee
			if base == nil {
				base = new(big.Int)
			}
			feeCap = new(big.Int).Add(new(big.Int).Mul(base, big.NewInt(2)), tip)
		}
		perGas = feeCap
		inner = &types.DynamicFeeTx{ChainID: chainID, GasTipCap: tip, GasFeeCap: feeCap, Gas: gas, To: &pl.To, Value: pl.Value, Data: pl.Data, AccessList: pl.AccessList}
	}

	// Balance, before any nonce is taken.
	cost := new(big.Int).Mul(new(big.Int).SetUint64(gas), perGas)
	cost.Add(cost, pl.Value)
	if st.balance.Cmp(cost) < 0 {
		return nil, core.Errorf(core.CodeInsufficientFunds, fmt.Sprintf("fund %s or send less; nothing was signed", from.Hex()),
			"txn: %s holds %s %s, needs up to %s %s (value plus gas)", from.Hex(),
			chains.FormatUnits(st.balance, p.Chain.NativeDecimals), p.Chain.NativeSymbol, chains.FormatUnits(cost, p.Chain.NativeDecimals), p.Chain.NativeSymbol)
	}
	// Nonce last: nothing after it can fail but the signature and the
	// broadcast, which release it.
	var lease core.NonceLease
	var nonce uint64
	switch {
	case pl.Nonce != nil:
		if *pl.Nonce < st.mined {
			return nil, core.Errorf(core.CodeNonceTooLow, fmt.Sprintf("the next unused nonce is %d; leave \"nonce\" out so mm picks one", st.mined), "txn: nonce %d of %s is already used", *pl.Nonce, from.Hex())
		}
		nonce = *pl.Nonce
	case p.Nonces != nil:
		l, err := p.Nonces.Reserve(ctx, chainID, from, fixedNonce(st.pending))
		if err != nil {
			return nil, err
		}
		lease, nonce = l, l.Nonce()
	default:
		nonce = st.pending
	}
	switch t := inner.(type) {
	case *types.LegacyTx:
		t.Nonce = nonce
	case *types.AccessListTx:
		t.Nonce = nonce
	case *types.DynamicFeeTx:
		t.Nonce = nonce
	}
	tx := types.NewTx(inner)
	call := p.decoder().Decode(tx.To(), tx.Value(), tx.Data())
	return &core.Prepared{
		Kind: kind, ChainID: chainID, From: from, Tx: tx, Lease: lease,
		Call: call, Intent: call.Intent, UserIntent: req.Intent, Endpoint: p.Client.URL(),
	}, nil
}

func (p *Preparer) wantLegacy(req *core.Request, pl *Payload) bool {
	switch {
	case pl.GasPrice != nil:
		return true
	case pl.Type != nil:
		return *pl.Type != types.DynamicFeeTxType
	case pl.MaxFeePerGas != nil || pl.MaxPriorityFeePerGas != nil:
		return false
	case p.Chain.Legacy:
		return true
	case req.SignerCaps != nil && !req.SignerCaps.SupportsTx(sdk.TxEIP1559) && req.SignerCaps.SupportsTx(sdk.TxLegacy):
		return true
	}
	return false
}

// read fetches, in one batched round trip, everything fill needs.
func (p *Preparer) read(ctx context.Context, from common.Address, pl *Payload, legacy bool) (*chainState, error) {
	st := &chainState{}
	var (
		pending  hexutil.Uint64
		balance  hexutil.Big
		gas      hexutil.Uint64
		fh       feeHistoryResult
		gasPrice hexutil.Big
		tokenOut hexutil.Bytes
	)
	call := map[string]any{"from": from, "to": pl.To, "value": (*hexutil.Big)(pl.Value)}
	if len(pl.Data) > 0 {
		call["input"] = hexutil.Bytes(pl.Data)
	}
	if len(pl.AccessList) > 0 {
		call["accessList"] = pl.AccessList
	}
	b := []rpc.BatchElem{
		{Method: "eth_getTransactionCount", Args: []any{from, "pending"}, Result: &pending},
		{Method: "eth_getBalance", Args: []any{from, "latest"}, Result: &balance},
	}
	gasAt, fhAt, gpAt, tokAt := -1, -1, -1, -1
	var mined hexutil.Uint64
	if pl.Nonce != nil {
		b = append(b, rpc.BatchElem{Method: "eth_getTransactionCount", Args: []any{from, "latest"}, Result: &mined})
	}
	if pl.Gas == nil {
		gasAt = len(b)
		b = append(b, rpc.BatchElem{Method: "eth_estimateGas", Args: []any{call}, Result: &gas})
	}
	needFees := pl.GasPrice == nil && (pl.MaxFeePerGas == nil || pl.MaxPriorityFeePerGas == nil)
	if needFees {
		fhAt = len(b)
		b = append(b, rpc.BatchElem{Method: "eth_feeHistory", Args: []any{hexutil.Uint64(p.feeBlocks()), "latest", []float64{p.percentile()}}, Result: &fh})
		if legacy || p.Chain.Legacy {
			gpAt = len(b)
			b = append(b, rpc.BatchElem{Method: "eth_gasPrice", Result: &gasPrice})
		}
	}
	if pl.tokenAmount != nil {
		tokAt = len(b)
		data := append([]byte{0x70, 0xa0, 0x82, 0x31}, common.LeftPadBytes(from.Bytes(), 32)...)
		b = append(b, rpc.BatchElem{Method: "eth_call", Args: []any{map[string]any{"to": pl.To, "input": hexutil.Bytes(data)}, "latest"}, Result: &tokenOut})
	}
	if err := p.Client.BatchCall(ctx, b); err != nil {
		return nil, core.Wrapf(err, "txn: read chain state")
	}
	for i, e := range b {
		if e.Error != nil && i != gasAt && i != gpAt {
			return nil, core.Errorf(core.CodeRPCError, "the node at "+p.Client.URL()+" refused a read; try another endpoint", "txn: %s: %v", e.Method, e.Error)
		}
	}
	st.pending = uint64(pending)
	st.mined = uint64(mined)
	st.balance = balance.ToInt()
	if gasAt >= 0 {
		st.gas, st.gasErr = uint64(gas), b[gasAt].Error
	}
	if fhAt >= 0 {
		st.fees = &feeState{}
		if n := len(fh.BaseFee); n > 0 && fh.BaseFee[n-1] != nil && fh.BaseFee[n-1].ToInt().Sign() > 0 {
			st.fees.baseFee = fh.BaseFee[n-1].ToInt()
		}
		st.fees.tip = medianReward(fh.Reward)
		if gpAt >= 0 && b[gpAt].Error == nil {
			st.fees.gasPrice = gasPrice.ToInt()
		}
		if st.fees.baseFee == nil && st.fees.gasPrice == nil {
			// A chain without a fee market that was not flagged legacy:
			// one more round trip for its gas price.
			gp, err := p.Client.SuggestGasPrice(ctx)
			if err != nil {
				return nil, core.Wrapf(err, "txn: gas price")
			}
			st.fees.gasPrice = gp
		}
		if st.fees.gasPrice == nil && st.fees.baseFee != nil {
			st.fees.gasPrice = new(big.Int).Add(new(big.Int).Mul(st.fees.baseFee, big.NewInt(2)), st.fees.tip)
		}
	}
	if tokAt >= 0 {
		if len(tokenOut) >= 32 {
			st.tokenBal = new(big.Int).SetBytes(tokenOut[:32])
		}
	}
	return st, nil
}

type feeHistoryResult struct {
	BaseFee []*hexutil.Big   `json:"baseFeePerGas"`
	Reward  [][]*hexutil.Big `json:"reward"`
}

// medianReward is the median over blocks of the requested reward
// percentile, at least 1 wei; empty blocks (reward 0) are skipped.
func medianReward(r [][]*hexutil.Big) *big.Int {
	var xs []*big.Int
	for _, blk := range r {
		if len(blk) > 0 && blk[0] != nil && blk[0].ToInt().Sign() > 0 {
			xs = append(xs, blk[0].ToInt())
		}
	}
	if len(xs) == 0 {
		return big.NewInt(1)
	}
	sort.Slice(xs, func(a, b int) bool { return xs[a].Cmp(xs[b]) < 0 })
	return new(big.Int).Set(xs[len(xs)/2])
}

func estimateErr(err error) error {
	msg := err.Error()
	l := strings.ToLower(msg)
	if strings.Contains(l, "insufficient funds") {
		return core.Errorf(core.CodeInsufficientFunds, "the account cannot pay the value; nothing was signed", "txn: estimate gas: %s", msg)
	}
	reason := msg
	var de rpc.DataError
	if errors.As(err, &de) {
		if d, ok := de.ErrorData().(string); ok && d != "" {
			reason = msg + " (data " + d + ")"
		}
	}
	return core.Errorf(core.CodeTxReverted, "the transaction would fail on chain as it stands; nothing was signed", "txn: estimate gas: %s", reason)
}

type fixedNonce uint64

// PendingNonceAt implements submit.NonceSource with the value read in the
// preparer's batched round trip.
func (f fixedNonce) PendingNonceAt(context.Context, common.Address) (uint64, error) {
	return uint64(f), nil
}

func (p *Preparer) decoder() *decode.Decoder {
	p.decodeOne.Do(func() {
		if p.Decoder == nil {
			p.Decoder, _ = decode.New(p.Chain)
		}
	})
	return p.Decoder
}

func (p *Preparer) margin() int {
	if p.GasMarginPercent > 0 {
		return p.GasMarginPercent
	}
	return DefaultGasMarginPercent
}

func (p *Preparer) feeBlocks() uint64 {
	if p.FeeBlocks > 0 {
		return p.FeeBlocks
	}
	return DefaultFeeBlocks
}

func (p *Preparer) percentile() float64 {
	if p.FeePercentile > 0 {
		return p.FeePercentile
	}
	return DefaultFeePercentile
}
