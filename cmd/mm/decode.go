package main

import (
	"fmt"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mm-wallet/mm/core"
	"github.com/mm-wallet/mm/core/chains"
	"github.com/mm-wallet/mm/core/decode"
	"github.com/mm-wallet/mm/core/txn"
	"github.com/mm-wallet/mm/sdk"
)

func init() { register(newDecodeCmd) }

// decodeOptions are the flags of mm decode.
type decodeOptions struct {
	payload string
	to      string
	chainID string
}

// AddFlags registers the flags.
func (o *decodeOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.payload, "payload", "", "the calldata, 0x-hex (required)")
	fs.StringVar(&o.to, "to", "", "the called contract; with --chain-id, registered tokens are named and amounts shown in their units")
	fs.StringVar(&o.chainID, "chain-id", "", "the chain, for token names and the native symbol (default: none, ETH)")
}

// decodeResult is mm decode's output: the decoded call.
type decodeResult struct {
	*core.Call
}

// Text implements render.Texter.
func (r decodeResult) Text() string {
	var b strings.Builder
	b.WriteString(r.Intent + "\n")
	if r.Signature != "" {
		fmt.Fprintf(&b, "  %s  (selector %s)\n", r.Signature, r.Selector)
	}
	for _, p := range r.Params {
		fmt.Fprintf(&b, "  %s %s = %s\n", p.Type, p.Name, paramText(p.Value))
	}
	if r.Risk == core.RiskHigh {
		b.WriteString("  risk: high — treat with care\n")
	}
	return b.String()
}

func paramText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return "null"
	default:
		return fmt.Sprint(x)
	}
}

func newDecodeCmd(a *app) *cobra.Command {
	var o decodeOptions
	c := &cobra.Command{
		Use:   "decode",
		Short: "Decode calldata into a function, its parameters and a plain intent",
		Long: `Decode calldata with mm's built-in ABIs (ERC-20, ERC-721, ERC-1155, WETH,
Permit2, Multicall3) and the signatures in ~/.metamask/signatures.json
({"signatures": ["swap(address,uint256)", …]}). Unknown selectors give
"Call unknown function 0x…" and risk "high": treat them with care.`,
		Example: `  mm decode --payload 0xa9059cbb000000000000000000000000…
  mm decode --payload 0x095ea7b3… --to 0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48 --chain-id 1`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.payload == "" {
				return missingFlag("payload", "pass --payload 0x… (the calldata)")
			}
			s := strings.TrimSpace(o.payload)
			if len(s) > 2*txn.MaxDataBytes+2 {
				return core.Errorf(core.CodeInvalidData, fmt.Sprintf("calldata is at most %d bytes", txn.MaxDataBytes), "the payload is too long")
			}
			data, err := hexutil.Decode(s)
			if err != nil {
				return core.Errorf(core.CodeInvalidData, "the payload is 0x followed by an even number of hex digits", "invalid calldata %q: %v", clipText(s, 40), err)
			}
			var chain *chains.Chain
			if o.chainID != "" {
				id, err := parseChainID(o.chainID)
				if err != nil {
					return err
				}
				if chain, err = a.resolveChain(id); err != nil {
					return err
				}
			}
			var to *common.Address
			if o.to != "" {
				t, err := chains.ParseAddress(strings.TrimSpace(o.to))
				if err != nil {
					e := sdk.AsError(err)
					return core.Errorf(core.CodeInvalidTo, e.Hint, "--to: %s", e.Message)
				}
				to = &t
			}
			var sigs []string
			if dir, err := a.homeDir(); err == nil {
				if sigs, err = decode.LoadSignatures(dir); err != nil {
					return err
				}
			}
			d, err := decode.New(chain, sigs...)
			if err != nil {
				return err
			}
			call := d.DecodeData(data)
			if to != nil {
				call = d.Decode(to, nil, data)
			}
			if call.Params == nil {
				call.Params = []core.Param{}
			}
			return a.print(decodeResult{call})
		},
	}
	o.AddFlags(c.Flags())
	return c
}
