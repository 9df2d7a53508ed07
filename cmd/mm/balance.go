package main

import (
	"context"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mm-wallet/mm/core"
	"github.com/mm-wallet/mm/core/chains"
	"github.com/mm-wallet/mm/sdk"
)

func init() { registerWallet(newBalanceCmd) }

// balanceTimeout bounds the reads of one chain, so one unreachable chain
// cannot hold up the others for long.
const balanceTimeout = 10 * time.Second

// balanceOptions are the flags of mm wallet balance.
type balanceOptions struct {
	chainIDs []string
	tokens   []string
	wallet   string
	address  string
}

// AddFlags registers the flags.
func (o *balanceOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringSliceVar(&o.chainIDs, "chain-ids", nil, "chains to read, comma-separated (default: every registered chain)")
	fs.StringSliceVar(&o.tokens, "token", nil, "assets to read: native symbol, token symbols or addresses, comma-separated or repeated (default: native and every registered token)")
	fs.StringVar(&o.wallet, "wallet", "", "the wallet to read (default: the active one)")
	fs.StringVar(&o.address, "address", "", "read any address instead of a wallet")
}

// chainError is a chain that could not be read.
type chainError struct {
	ChainID uint64   `json:"chainId"`
	Code    sdk.Code `json:"code"`
	Message string   `json:"message"`
}

// balanceResult is mm wallet balance's output.
type balanceResult struct {
	Address  string           `json:"address"`
	Wallet   string           `json:"wallet,omitempty"`
	Balances []chains.Balance `json:"balances"`
	Errors   []chainError     `json:"errors,omitempty"`
}

// Text implements render.Texter.
func (r balanceResult) Text() string {
	var b strings.Builder
	for _, x := range r.Balances {
		fmt.Fprintf(&b, "%-9d %-6s %s\n", x.ChainID, x.Symbol, x.Amount)
	}
	for _, e := range r.Errors {
		fmt.Fprintf(&b, "%-9d error: %s (%s)\n", e.ChainID, e.Message, e.Code)
	}
	return b.String()
}

func newBalanceCmd(a *app) *cobra.Command {
	var o balanceOptions
	c := &cobra.Command{
		Use:   "balance",
		Short: "Show native and token balances of the active wallet",
		Long: `Read balances in one batched request per chain: the native currency and the
registered tokens (or those named with --token), in human units ("amount")
and the smallest unit ("raw"). Chains that cannot be read are listed under
"errors"; the command fails only when none could be read.`,
		Example: `  mm wallet balance --chain-ids 1337
  mm wallet balance --chain-ids 1,137 --token USDC
  mm wallet balance --chain-ids 1337 --address 0x70997970C51812dc3A010C7d01b50e0d17dc79C8`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			var ids []uint64
			for _, s := range o.chainIDs {
				for _, part := range strings.Split(s, ",") {
					id, err := parseChainID(strings.TrimSpace(part))
					if err != nil {
						return err
					}
					if !id.IsUint64() {
						return core.Errorf(core.CodeUnknownChain, "`mm chains list` shows the known chains", "chain id %s is not a known chain", clipText(id.String(), 40))
					}
					ids = append(ids, id.Uint64())
				}
			}
			if len(ids) == 0 {
				for _, c := range chains.All() {
					ids = append(ids, c.ID)
				}
			}
			var tokens []string
			for _, t := range o.tokens {
				for _, part := range strings.Split(t, ",") {
					if p := strings.TrimSpace(part); p != "" {
						tokens = append(tokens, p)
					}
				}
			}
			// Resolve every chain and token before reading anything.
			settings, err := a.chainSettings()
			if err != nil {
				return err
			}
			var list []*chains.Chain
			for _, id := range ids {
				c, err := chains.Resolve(id, settings)
				if err != nil {
					return err
				}
				for _, t := range tokens {
					if !c.IsNative(t) {
						if _, err := c.Token(t); err != nil {
							return err
						}
					}
				}
				list = append(list, c)
			}
			out := balanceResult{Balances: []chains.Balance{}}
			switch {
			case o.address != "" && o.wallet != "":
				return usageError(codeInvalidInput, "give --wallet or --address, not both", "")
			case o.address != "":
				addr, err := chains.ParseAddress(strings.TrimSpace(o.address))
				if err != nil {
					return err
				}
				out.Address = addr.Hex()
			default:
				w, _, err := a.pickWallet(nonEmpty(o.wallet))
				if err != nil {
					return err
				}
				out.Address, out.Wallet = common.HexToAddress(w.Address).Hex(), w.Name
			}
			res := readBalances(ctx, list, common.HexToAddress(out.Address), tokens)
			var first error
			for i, r := range res {
				if r.err != nil {
					if first == nil {
						first = r.err
					}
					e := asCoded(r.err)
					out.Errors = append(out.Errors, chainError{ChainID: list[i].ID, Code: e.Code, Message: e.Message})
					continue
				}
				out.Balances = append(out.Balances, r.balances...)
			}
			if len(out.Balances) == 0 && first != nil {
				return first
			}
			return a.print(out)
		},
	}
	o.AddFlags(c.Flags())
	return c
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

type chainBalances struct {
	balances []chains.Balance
	err      error
}

// readBalances reads every chain in parallel, each bounded by
// balanceTimeout.
func readBalances(ctx context.Context, list []*chains.Chain, owner common.Address, tokens []string) []chainBalances {
	out := make([]chainBalances, len(list))
	var wg sync.WaitGroup
	for i, c := range list {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, balanceTimeout)
			defer cancel()
			client, err := chains.Dial(cctx, c.RPCURL())
			if err != nil {
				out[i].err = err
				return
			}
			defer client.Close()
			client.Retries = 1
			b, err := client.Balances(cctx, c, owner, tokens)
			out[i] = chainBalances{balances: b, err: err}
		}()
	}
	wg.Wait()
	return out
}

// bigOf parses a decimal string from a result (zero when malformed).
func bigOf(s string) *big.Int {
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return new(big.Int)
	}
	return v
}
