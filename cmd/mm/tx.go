package main

import (
	"context"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mm-wallet/mm/core"
	"github.com/mm-wallet/mm/core/chains"
	"github.com/mm-wallet/mm/core/submit"
	"github.com/mm-wallet/mm/sdk"
)

func init() { register(newTxCmd) }

// txView is one transaction as `mm tx` and `mm tx history` show it.
type txView struct {
	Hash        common.Hash     `json:"hash"`
	Status      string          `json:"status"`
	BlockNumber *uint64         `json:"blockNumber"`
	From        common.Address  `json:"from"`
	To          *common.Address `json:"to"`
	Value       string          `json:"value"` // wei, decimal
	ChainID     uint64          `json:"chainId"`
	Nonce       uint64          `json:"nonce"`
	GasUsed     uint64          `json:"gasUsed,omitempty"`
	Kind        core.Kind       `json:"kind,omitempty"`
	Intent      string          `json:"intent,omitempty"`
	Route       string          `json:"route,omitempty"`
	Replaces    *common.Hash    `json:"replaces,omitempty"`
	ReplacedBy  *common.Hash    `json:"replacedBy,omitempty"`
	SentAt      *time.Time      `json:"sentAt,omitempty"`
	// Journaled is set when this mm sent the transaction.
	Journaled bool `json:"journaled"`
}

func viewOf(e *submit.Entry) txView {
	sent := e.SentAt
	return txView{Hash: e.Hash, Status: e.Status, BlockNumber: e.BlockNumber, From: e.From, To: e.To, Value: e.Value,
		ChainID: e.ChainID, Nonce: e.Nonce, GasUsed: e.GasUsed, Kind: e.Kind, Intent: e.Intent, Route: e.Route,
		Replaces: e.Replaces, ReplacedBy: e.ReplacedBy, SentAt: &sent, Journaled: true}
}

// Text implements render.Texter.
func (v txView) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", v.Status, v.Hash.Hex())
	if v.Intent != "" {
		fmt.Fprintf(&b, "  %s\n", v.Intent)
	}
	to := "(contract creation)"
	if v.To != nil {
		to = v.To.Hex()
	}
	fmt.Fprintf(&b, "  chain %d · from %s · to %s · nonce %d", v.ChainID, v.From.Hex(), to, v.Nonce)
	if val := bigOf(v.Value); val.Sign() > 0 {
		sym, dec := nativeOf(v.ChainID)
		fmt.Fprintf(&b, " · value %s %s", chains.FormatUnits(val, dec), sym)
	}
	b.WriteByte('\n')
	if v.BlockNumber != nil {
		fmt.Fprintf(&b, "  block %d · gas used %d\n", *v.BlockNumber, v.GasUsed)
	}
	if v.ReplacedBy != nil {
		fmt.Fprintf(&b, "  replaced by %s\n", v.ReplacedBy.Hex())
	}
	if v.Replaces != nil {
		fmt.Fprintf(&b, "  replaces %s\n", v.Replaces.Hex())
	}
	return b.String()
}

func nativeOf(id uint64) (string, uint8) {
	if c, ok := chains.Lookup(id); ok {
		return c.NativeSymbol, c.NativeDecimals
	}
	return "ETH", 18
}

// txHistory is mm tx history's output.
type txHistory struct {
	Transactions []txView `json:"transactions"`
}

// Text implements render.Texter: one line per transaction.
func (h txHistory) Text() string {
	var b strings.Builder
	for _, v := range h.Transactions {
		block := "-"
		if v.BlockNumber != nil {
			block = fmt.Sprint(*v.BlockNumber)
		}
		when := ""
		if v.SentAt != nil {
			when = v.SentAt.Local().Format("2006-01-02 15:04:05")
		}
		fmt.Fprintf(&b, "%s  %-9s chain %-6d block %-6s %s  %s\n", when, v.Status, v.ChainID, block, v.Hash.Hex(), v.Intent)
	}
	if len(h.Transactions) == 0 {
		b.WriteString("no transactions yet\n")
	}
	return b.String()
}

// parseTxHash parses a 0x-prefixed 32-byte hash strictly.
func parseTxHash(s string) (common.Hash, error) {
	s = strings.TrimSpace(s)
	if len(s) != 66 || !(strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X")) {
		return common.Hash{}, core.Errorf(core.CodeInvalidTxHash, "a transaction hash is 0x followed by 64 hex digits", "invalid transaction hash %q", clipText(s, 70))
	}
	for _, r := range s[2:] {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return common.Hash{}, core.Errorf(core.CodeInvalidTxHash, "a transaction hash is 0x followed by 64 hex digits", "invalid transaction hash %q", clipText(s, 70))
		}
	}
	return common.HexToHash(s), nil
}

// txLookupOptions are the flags of mm tx <hash>.
type txLookupOptions struct {
	chainID string
}

// AddFlags registers the flags.
func (o *txLookupOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.chainID, "chain-id", "", "look a transaction this mm did not send up on this chain")
}

func newTxCmd(a *app) *cobra.Command {
	var lo txLookupOptions
	tx := &cobra.Command{
		Use:   "tx <hash>",
		Short: "Look up a transaction; history, speed-up and cancel",
		Long: `mm tx <hash> shows a transaction: from the journal of what this mm sent
(refreshed from the chain), or, with --chain-id, any transaction the node
knows. Its subcommands list the history and replace stuck transactions.`,
		Example: `  mm tx 0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060
  mm tx history
  mm tx speed-up 0x5c50…2060`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			if len(args) > 1 {
				return usageError(codeInvalidInput, fmt.Sprintf("mm tx: unexpected argument %q", clipText(args[1], 70)), "usage: mm tx <hash>")
			}
			if !strings.HasPrefix(strings.ToLower(args[0]), "0x") {
				return unknownCommand(cmd, args[0])
			}
			h, err := parseTxHash(args[0])
			if err != nil {
				return err
			}
			v, err := a.lookupTx(cmd.Context(), h, lo.chainID)
			if err != nil {
				return err
			}
			return a.print(v)
		},
	}
	lo.AddFlags(tx.Flags())
	tx.AddCommand(newTxHistoryCmd(a), newReplaceCmd(a, false), newReplaceCmd(a, true))
	return tx
}

// lookupTx finds h in the journal (refreshing it from its chain), else on
// the chain given.
func (a *app) lookupTx(ctx context.Context, h common.Hash, chainFlag string) (txView, error) {
	var want *big.Int
	if chainFlag != "" {
		id, err := parseChainID(chainFlag)
		if err != nil {
			return txView{}, err
		}
		want = id
	}
	st, err := a.state()
	if err != nil {
		return txView{}, err
	}
	j := &submit.Journal{Store: st}
	e, err := j.Get(ctx, h)
	if err == nil && (want == nil || want.Cmp(new(big.Int).SetUint64(e.ChainID)) == 0) {
		return viewOf(a.refresh(ctx, e)), nil
	}
	if err != nil && sdk.CodeOf(err) != core.CodeTxNotFound {
		return txView{}, err
	}
	if want == nil {
		return txView{}, core.Errorf(core.CodeTxNotFound, "this mm did not send it; pass --chain-id N to ask that chain's node", "no transaction %s in the journal", h.Hex())
	}
	stack, err := a.openChain(ctx, want)
	if err != nil {
		return txView{}, err
	}
	defer stack.close()
	return chainTx(ctx, stack, h)
}

// chainTx reads a transaction this mm did not send from the node.
func chainTx(ctx context.Context, stack *chainStack, h common.Hash) (txView, error) {
	tx, pending, err := stack.client.TransactionByHash(ctx, h)
	if err != nil {
		return txView{}, err
	}
	if tx == nil {
		return txView{}, core.Errorf(core.CodeTxNotFound, "check the hash and the chain id", "chain %d (%s) does not know transaction %s", stack.chain.ID, stack.client.URL(), h.Hex())
	}
	v := txView{Hash: h, Status: submit.StatusPending, To: tx.To(), Value: tx.Value().String(), ChainID: stack.chain.ID, Nonce: tx.Nonce()}
	if from, err := types.Sender(types.LatestSignerForChainID(tx.ChainId()), tx); err == nil {
		v.From = from
	}
	if !pending {
		r, err := stack.client.TransactionReceipt(ctx, h)
		if err != nil {
			return txView{}, err
		}
		if r != nil {
			bn := r.BlockNumber.Uint64()
			v.BlockNumber, v.GasUsed, v.Status = &bn, r.GasUsed, submit.StatusConfirmed
			if r.Status != types.ReceiptStatusSuccessful {
				v.Status = submit.StatusReverted
			}
		}
	}
	return v, nil
}

// refresh updates a journal entry from its chain; when the chain cannot be
// reached the stored entry is returned and the reason logged.
func (a *app) refresh(ctx context.Context, e *submit.Entry) *submit.Entry {
	if e.Status != submit.StatusPending && e.Status != submit.StatusUnknown && e.Status != submit.StatusReplaced {
		return e
	}
	stack, err := a.openChain(ctx, new(big.Int).SetUint64(e.ChainID))
	if err != nil {
		fmt.Fprintf(a.stderr, "mm: %s: status not refreshed: %s\n", e.Hash.Hex(), asCoded(err).Message)
		return e
	}
	defer stack.close()
	n, err := stack.submitter.Refresh(ctx, e)
	if err != nil {
		fmt.Fprintf(a.stderr, "mm: %s: status not refreshed: %s\n", e.Hash.Hex(), asCoded(err).Message)
		return e
	}
	return n
}

// historyOptions are the flags of mm tx history.
type historyOptions struct {
	chainID string
	wallet  string
	limit   int
	noSync  bool
}

// AddFlags registers the flags.
func (o *historyOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.chainID, "chain-id", "", "only this chain")
	fs.StringVar(&o.wallet, "wallet", "", "only transactions sent by this wallet (name or address)")
	fs.IntVar(&o.limit, "limit", 20, "at most this many, newest first (0: all)")
	fs.BoolVar(&o.noSync, "no-sync", false, "show the journal as stored, without asking the chains")
}

func newTxHistoryCmd(a *app) *cobra.Command {
	var o historyOptions
	c := &cobra.Command{
		Use:   "history",
		Short: "List the transactions this mm sent, newest first, statuses refreshed from the chains",
		Example: `  mm tx history
  mm tx history --chain-id 1337 --limit 5 -f text`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if o.limit < 0 {
				return usageError(codeInvalidInput, "--limit must be 0 or more", "")
			}
			f := submit.Filter{Limit: o.limit}
			if o.chainID != "" {
				id, err := parseChainID(o.chainID)
				if err != nil {
					return err
				}
				if !id.IsUint64() {
					return core.Errorf(core.CodeUnknownChain, "`mm chains list` shows the known chains", "chain id %s is not a known chain", clipText(id.String(), 40))
				}
				f.ChainID = id.Uint64()
			}
			if o.wallet != "" {
				_, d, err := a.loadWallets()
				if err != nil {
					return err
				}
				i, ok := d.find(o.wallet)
				if !ok {
					return walletNotFound(o.wallet)
				}
				from := common.HexToAddress(d.Wallets[i].Address)
				f.From = &from
			}
			st, err := a.state()
			if err != nil {
				return err
			}
			j := &submit.Journal{Store: st}
			list, err := j.List(ctx, f)
			if err != nil {
				return err
			}
			if !o.noSync {
				list = a.refreshAll(ctx, list)
			}
			out := txHistory{Transactions: []txView{}}
			for _, e := range list {
				out.Transactions = append(out.Transactions, viewOf(e))
			}
			return a.print(out)
		},
	}
	o.AddFlags(c.Flags())
	return c
}

// refreshAll refreshes the unfinished entries, one chain stack per chain.
func (a *app) refreshAll(ctx context.Context, list []*submit.Entry) []*submit.Entry {
	byChain := map[uint64][]int{}
	for i, e := range list {
		if e.Status == submit.StatusPending || e.Status == submit.StatusUnknown || e.Status == submit.StatusReplaced {
			byChain[e.ChainID] = append(byChain[e.ChainID], i)
		}
	}
	ids := make([]uint64, 0, len(byChain))
	for id := range byChain {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		stack, err := a.openChain(ctx, new(big.Int).SetUint64(id))
		if err != nil {
			fmt.Fprintf(a.stderr, "mm: chain %d: statuses not refreshed: %s\n", id, asCoded(err).Message)
			continue
		}
		for _, i := range byChain[id] {
			n, err := stack.submitter.Refresh(ctx, list[i])
			if err != nil {
				fmt.Fprintf(a.stderr, "mm: chain %d: statuses not refreshed: %s\n", id, asCoded(err).Message)
				break
			}
			list[i] = n
		}
		stack.close()
	}
	return list
}

// replaceOptions are the flags of mm tx speed-up and mm tx cancel.
type replaceOptions struct {
	waitOptions
	intent string
}

// AddFlags registers the flags.
func (o *replaceOptions) AddFlags(fs *pflag.FlagSet) {
	o.waitOptions.AddFlags(fs)
	fs.StringVar(&o.intent, "intent", "", "your own description, recorded beside the decoded intent")
}

func newReplaceCmd(a *app, cancel bool) *cobra.Command {
	var o replaceOptions
	use, short, example := "speed-up <hash>", "Resend a pending transaction with fees at least 10 % higher (same nonce, same call)",
		`  mm tx speed-up 0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060 --wait`
	if cancel {
		use, short, example = "cancel <hash>", "Replace a pending transaction by a zero-value transfer to yourself (same nonce, fees at least 10 % higher)",
			`  mm tx cancel 0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060`
	}
	c := &cobra.Command{
		Use:     use,
		Short:   short,
		Example: example,
		Args:    exactArgs("hash"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			h, err := parseTxHash(args[0])
			if err != nil {
				return err
			}
			timeout, err := o.duration(a)
			if err != nil {
				return err
			}
			st, err := a.state()
			if err != nil {
				return err
			}
			e, err := (&submit.Journal{Store: st}).Get(ctx, h)
			if err != nil {
				return err
			}
			// The wallet that sent it signs the replacement.
			s, w, err := a.signingWallet(e.From.Hex())
			if err != nil {
				return err
			}
			req := &core.Request{ChainID: new(big.Int).SetUint64(e.ChainID), Account: sdk.Account{Address: e.From, Path: w.Path},
				Replace: &core.Replace{Hash: h, Cancel: cancel}, Intent: o.intent, Wait: o.wait}
			return a.sendRequest(ctx, s, w, req, timeout)
		},
	}
	o.AddFlags(c.Flags())
	return c
}
