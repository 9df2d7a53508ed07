package chains

import (
	"context"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/mm-wallet/mm/core"
)

// Balance is one asset balance of an account, for `mm wallet balance`.
type Balance struct {
	ChainID uint64 `json:"chainId"`
	Symbol  string `json:"symbol"`
	// Token is the contract address; nil for the native currency.
	Token    *common.Address `json:"token,omitempty"`
	Decimals uint8           `json:"decimals"`
	// Amount is in human units ("12.5"); Raw in the smallest unit.
	Amount string `json:"amount"`
	Raw    string `json:"raw"`
}

// Balances reads owner's balances on chain in one batched round trip: the
// native currency and each token in tokens (symbols or addresses known to
// the chain; empty means every registered token). An unknown token is
// TOKEN_NOT_FOUND before anything is read.
func (c *Client) Balances(ctx context.Context, chain *Chain, owner common.Address, tokens []string) ([]Balance, error) {
	var toks []Token
	if len(tokens) == 0 {
		toks = chain.Tokens
	}
	native := false
	for _, s := range tokens {
		if chain.IsNative(s) {
			native = true
			continue
		}
		t, err := chain.Token(s)
		if err != nil {
			return nil, err
		}
		toks = append(toks, t)
	}
	if len(tokens) == 0 {
		native = true
	}
	var nat hexutil.Big
	outs := make([]hexutil.Bytes, len(toks))
	var b []rpc.BatchElem
	if native {
		b = append(b, rpc.BatchElem{Method: "eth_getBalance", Args: []any{owner, "latest"}, Result: &nat})
	}
	for i, t := range toks {
		data := append([]byte{0x70, 0xa0, 0x82, 0x31}, common.LeftPadBytes(owner.Bytes(), 32)...)
		b = append(b, rpc.BatchElem{Method: "eth_call", Args: []any{map[string]any{"to": t.Address, "input": hexutil.Bytes(data)}, "latest"}, Result: &outs[i]})
	}
	if err := c.BatchCall(ctx, b); err != nil {
		return nil, err
	}
	var res []Balance
	off := 0
	if native {
		if b[0].Error != nil {
			return nil, core.Errorf(core.CodeRPCError, "try another endpoint", "chains: eth_getBalance at %s: %v", c.URL(), b[0].Error)
		}
		v := nat.ToInt()
		res = append(res, Balance{ChainID: chain.ID, Symbol: chain.NativeSymbol, Decimals: chain.NativeDecimals, Amount: FormatUnits(v, chain.NativeDecimals), Raw: v.String()})
		off = 1
	}
	for i, t := range toks {
		if b[off+i].Error != nil || len(outs[i]) < 32 {
			return nil, core.Errorf(core.CodeRPCError, "is the token deployed on this chain?", "chains: balanceOf %s (%s) at %s failed: %v", t.Symbol, t.Address.Hex(), c.URL(), b[off+i].Error)
		}
		v := new(big.Int).SetBytes(outs[i][:32])
		a := t.Address
		res = append(res, Balance{ChainID: chain.ID, Symbol: t.Symbol, Token: &a, Decimals: t.Decimals, Amount: FormatUnits(v, t.Decimals), Raw: v.String()})
	}
	return res, nil
}
