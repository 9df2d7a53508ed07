package main

import (
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mm-wallet/mm/core"
	"github.com/mm-wallet/mm/core/chains"
	"github.com/mm-wallet/mm/sdk"
)

func init() { register(newTransferCmd) }

// transferOptions are the flags of mm transfer.
type transferOptions struct {
	signOptions
	waitOptions
	to     string
	amount string
	token  string
	intent string
	dryRun bool
}

// AddFlags registers the flags.
func (o *transferOptions) AddFlags(fs *pflag.FlagSet) {
	o.signOptions.AddFlags(fs)
	o.waitOptions.AddFlags(fs)
	fs.StringVar(&o.to, "to", "", "recipient address (0x…, EIP-55 checksum checked when mixed-case) (required)")
	fs.StringVar(&o.amount, "amount", "", "amount in the token's units, e.g. 0.5 or 12.25 (required)")
	fs.StringVar(&o.token, "token", "", "the chain's native symbol (ETH, POL, …), a registered symbol (USDC, USDT, WETH, DAI) or a registered token address (default: native)")
	fs.StringVar(&o.intent, "intent", "", "your own description, recorded beside the decoded intent")
	fs.BoolVar(&o.dryRun, "dry-run", false, "prepare and check only: sign and send nothing")
}

func newTransferCmd(a *app) *cobra.Command {
	var o transferOptions
	c := &cobra.Command{
		Use:   "transfer",
		Short: "Send native currency or an ERC-20 token, in human units",
		Long: `Send an amount of the chain's native currency or of a registered ERC-20 token.
The amount is parsed exactly with the token's decimals (no rounding); the
balance is checked before anything is signed. Nonces come from mm's ledger,
so many mm transfer processes may run at once from one wallet.`,
		Example: `  mm transfer --to 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --amount 0.5 --chain-id 1337
  mm transfer --to 0x7099…79C8 --amount 12.5 --token USDC --chain-id 1337 --wait
  mm transfer --to 0x7099…79C8 --amount 1 --token 0x302f8CCBe464956aE0C94262Bb348F43C3A5ef75 --chain-id 1337`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			chainID, err := o.chain()
			if err != nil {
				return err
			}
			if strings.TrimSpace(o.to) == "" {
				return missingFlag("to", "pass --to 0x… (the recipient)")
			}
			if strings.TrimSpace(o.amount) == "" {
				return missingFlag("amount", "pass --amount, e.g. --amount 0.5")
			}
			timeout, err := o.duration(a)
			if err != nil {
				return err
			}
			// Check recipient, token and amount exactly before any chain
			// access or signer launch.
			if _, err := chains.ParseAddress(strings.TrimSpace(o.to)); err != nil {
				e := sdk.AsError(err)
				return core.Errorf(core.CodeInvalidTo, e.Hint, "--to: %s", e.Message)
			}
			chain, err := a.resolveChain(chainID)
			if err != nil {
				return err
			}
			tok := strings.TrimSpace(o.token)
			if tok == "" {
				tok = chain.NativeSymbol
			}
			decimals := chain.NativeDecimals
			if !chain.IsNative(tok) {
				t, err := chain.Token(tok)
				if err != nil {
					return err
				}
				decimals = t.Decimals
			}
			if _, err := chains.ParseUnits(strings.TrimSpace(o.amount), decimals); err != nil {
				return err
			}
			s, w, err := a.signingWallet(o.wallet)
			if err != nil {
				return err
			}
			req := &core.Request{ChainID: chainID, Account: sdk.Account{Address: common.HexToAddress(w.Address), Path: w.Path},
				Transfer: &core.Transfer{To: strings.TrimSpace(o.to), Amount: strings.TrimSpace(o.amount), Token: tok},
				Intent:   o.intent, DryRun: o.dryRun, Wait: o.wait}
			return a.sendRequest(cmd.Context(), s, w, req, timeout)
		},
	}
	o.AddFlags(c.Flags())
	return c
}
