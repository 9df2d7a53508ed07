package main

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mm-wallet/mm/core"
	"github.com/mm-wallet/mm/core/chains"
	"github.com/mm-wallet/mm/core/txn"
	"github.com/mm-wallet/mm/sdk"
)

func init() { registerWallet(newSendTransactionCmd) }

// maxPayload bounds a send-transaction payload: calldata of at most
// txn.MaxDataBytes, hex-encoded, plus the other fields.
const maxPayload = 2*txn.MaxDataBytes + 4096

// txResult is what the sending commands print: core.Result (txHash,
// status, chainId, from, to, intent, …) and the wallet that signed.
type txResult struct {
	*core.Result
	Wallet string `json:"wallet,omitempty"`
	// Symbol is the chain's native currency, for the text form.
	Symbol   string `json:"-"`
	Decimals uint8  `json:"-"`
}

// Text implements render.Texter.
func (r txResult) Text() string {
	var b strings.Builder
	switch {
	case r.Status == core.StatusDryRun:
		fmt.Fprintf(&b, "dry run: %s (nothing was signed or sent)\n", r.Intent)
	case r.TxHash != nil:
		fmt.Fprintf(&b, "%s %s\n", r.Status, r.TxHash.Hex())
		fmt.Fprintf(&b, "  %s\n", r.Intent)
	}
	if r.UserIntent != "" {
		fmt.Fprintf(&b, "  your intent: %s\n", r.UserIntent)
	}
	to := "(contract creation)"
	if r.To != nil {
		to = r.To.Hex()
	}
	fmt.Fprintf(&b, "  chain %d · from %s · to %s · nonce %d · gas %d", r.ChainID, r.From.Hex(), to, r.Nonce, r.Gas)
	if v, ok := new(big.Int).SetString(r.Value, 10); ok && v.Sign() > 0 {
		fmt.Fprintf(&b, " · value %s %s", chains.FormatUnits(v, r.Decimals), r.Symbol)
	}
	b.WriteByte('\n')
	if r.Route != "" {
		fmt.Fprintf(&b, "  route %s\n", r.Route)
	}
	if r.Replaces != nil {
		fmt.Fprintf(&b, "  replaces %s\n", r.Replaces.Hex())
	}
	if r.Receipt != nil {
		fmt.Fprintf(&b, "  block %d · gas used %d\n", r.Receipt.BlockNumber, r.Receipt.GasUsed)
	}
	if r.UnsignedTx != "" {
		fmt.Fprintf(&b, "  unsigned %s\n", r.UnsignedTx)
	}
	return b.String()
}

// sendOptions are the flags of mm wallet send-transaction.
type sendOptions struct {
	signOptions
	waitOptions
	payload     string
	payloadFile string
	intent      string
	dryRun      bool
}

// AddFlags registers the flags.
func (o *sendOptions) AddFlags(fs *pflag.FlagSet) {
	o.signOptions.AddFlags(fs)
	o.waitOptions.AddFlags(fs)
	fs.StringVar(&o.payload, "payload", "", `the transaction as JSON: {"to":"0x…","value":"0x…","data":"0x…"} plus optional gas, nonce, maxFeePerGas, maxPriorityFeePerGas or gasPrice, type, accessList`)
	fs.StringVar(&o.payloadFile, "payload-file", "", "read the JSON payload from a file (- for stdin)")
	fs.StringVar(&o.intent, "intent", "", "your own description of the transaction, recorded beside the decoded intent")
	fs.BoolVar(&o.dryRun, "dry-run", false, "prepare and check only: print the filled transaction, sign and send nothing")
}

func newSendTransactionCmd(a *app) *cobra.Command {
	var o sendOptions
	c := &cobra.Command{
		Use:   "send-transaction",
		Short: "Sign and send a transaction given as JSON",
		Long: `Sign a transaction with the active wallet and broadcast it. Missing fields are
filled: the nonce from mm's nonce ledger (safe with many mm processes at
once), gas from an estimate with a margin, EIP-1559 fees from recent blocks
(or a gas price on chains without them). The calldata is decoded into a
plain intent, which hardware wallets show. Without --wait the command returns
after the broadcast with the hash; --wait returns the receipt.`,
		Example: `  mm wallet send-transaction --chain-id 1337 --payload '{"to":"0x70997970C51812dc3A010C7d01b50e0d17dc79C8","value":"0xde0b6b3a7640000"}'
  mm wallet send-transaction --chain-id 1 --payload-file approve.json --intent "approve the router" --wait
  mm wallet send-transaction --chain-id 1337 --payload '{"to":"0x…","data":"0x…"}' --dry-run`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			chainID, err := o.chain()
			if err != nil {
				return err
			}
			timeout, err := o.duration(a)
			if err != nil {
				return err
			}
			var raw []byte
			switch {
			case o.payload != "" && o.payloadFile != "":
				return usageError(codeInvalidInput, "give --payload or --payload-file, not both", "")
			case o.payloadFile != "":
				if raw, err = readInput(a, o.payloadFile, maxPayload, "payload"); err != nil {
					return err
				}
			case o.payload != "":
				raw = []byte(o.payload)
			}
			if len(bytes.TrimSpace(raw)) == 0 {
				return core.Errorf(core.CodeMissingPayload, `pass --payload '{"to":"0x…","value":"0x…"}' or --payload-file PATH`, "no transaction payload")
			}
			if len(raw) > maxPayload {
				return core.Errorf(core.CodeInvalidPayload, fmt.Sprintf("calldata is at most %d bytes", txn.MaxDataBytes), "the payload is longer than %d bytes", maxPayload)
			}
			// Every check that needs no chain and no signer comes first, so
			// bad input costs nothing and touches nothing.
			pl, err := txn.ParsePayload(raw)
			if err != nil {
				return err
			}
			if pl.ChainID != nil && pl.ChainID.Cmp(chainID) != 0 {
				return core.Errorf(core.CodeChainIDMismatch, "the payload's chainId must equal --chain-id", "the payload is for chain %s, --chain-id is %s", pl.ChainID, chainID)
			}
			if _, err := a.resolveChain(chainID); err != nil {
				return err
			}
			s, w, err := a.signingWallet(o.wallet)
			if err != nil {
				return err
			}
			from := common.HexToAddress(w.Address)
			if pl.From != nil && *pl.From != from {
				return core.Errorf(core.CodeFromMismatch, "drop \"from\" or select that wallet (mm wallet select)", "the payload's from %s is not the wallet %s (%s)", pl.From.Hex(), w.Name, from.Hex())
			}
			req := &core.Request{ChainID: chainID, Account: sdk.Account{Address: from, Path: w.Path}, Payload: raw,
				Intent: o.intent, DryRun: o.dryRun, Wait: o.wait}
			return a.sendRequest(cmd.Context(), s, w, req, timeout)
		},
	}
	o.AddFlags(c.Flags())
	return c
}

// sendRequest opens the chain and (unless dry run) the wallet's signer,
// runs req through the pipeline and prints the result.
func (a *app) sendRequest(ctx context.Context, s *session, w walletEntry, req *core.Request, timeout time.Duration) error {
	stack, err := a.openChain(ctx, req.ChainID)
	if err != nil {
		return err
	}
	defer stack.close()
	var signer sdk.Signer = noSigner{}
	if !req.DryRun {
		conn, err := a.signers.open(ctx, s)
		if err != nil {
			return err
		}
		signer = conn
	}
	res, err := a.runPipeline(ctx, stack, signer, req, timeout)
	if res != nil {
		for _, warn := range res.Warnings {
			fmt.Fprintf(a.stderr, "mm: warning: %s\n", warn)
		}
	}
	if err != nil {
		return err
	}
	a.logf("%s: prepare %s, sign %s, submit %s, wait %s", res.Kind, res.Timings[core.StagePrepare], res.Timings[core.StageSign], res.Timings[core.StageSubmit], res.Timings[core.StageWait])
	return a.print(txResult{Result: res, Wallet: w.Name, Symbol: stack.chain.NativeSymbol, Decimals: stack.chain.NativeDecimals})
}
