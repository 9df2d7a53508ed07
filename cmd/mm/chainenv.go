package main

import (
	"context"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/mm-wallet/mm/cmd/mm/internal/config"
	"github.com/mm-wallet/mm/core"
	"github.com/mm-wallet/mm/core/chains"
	"github.com/mm-wallet/mm/core/decode"
	"github.com/mm-wallet/mm/core/state"
	"github.com/mm-wallet/mm/core/submit"
	"github.com/mm-wallet/mm/core/txn"
	"github.com/mm-wallet/mm/sdk"
)

// The protected ("smart transaction") route per chain: when set, signed
// transactions go only there. rpc.<chainId> is registered by the config
// package itself.
func init() {
	config.Register(config.Key{Name: "privateRpc.", Prefix: true,
		Usage: "protected submission endpoint for a chain; signed transactions go only there, e.g. privateRpc.1 https://…",
		Parse: config.Endpoint("privateRpc.")})
}

// codeJobTimeout is the reference mm's code for a wait that ran out of
// --wallet-timeout before the signer answered.
const codeJobTimeout sdk.Code = "JOB_TIMEOUT"

// chainStack is everything a transaction command needs on one chain: the
// resolved chain (registry + config.json + environment), its RPC clients,
// and the nonce ledger, journal, preparer and submitter over this mm's
// state folder.
type chainStack struct {
	chain     *chains.Chain
	client    *chains.Client
	private   *chains.Client
	store     *state.Store
	nonces    *submit.Nonces
	journal   *submit.Journal
	preparer  *txn.Preparer
	submitter *submit.Submitter
}

func (s *chainStack) close() {
	s.client.Close()
	if s.private != nil {
		s.private.Close()
	}
}

// chainSettings reads the per-chain endpoints of config.json (without
// creating the state folder).
func (a *app) chainSettings() (chains.Settings, error) {
	vals, err := a.peekConfig()
	if err != nil {
		return chains.Settings{}, err
	}
	s := chains.Settings{RPC: map[uint64]string{}, PrivateRPC: map[uint64]string{}, Getenv: a.getenv}
	for k := range vals {
		for prefix, m := range map[string]map[uint64]string{"rpc.": s.RPC, "privateRpc.": s.PrivateRPC} {
			if !strings.HasPrefix(k, prefix) {
				continue
			}
			if id, err := strconv.ParseUint(strings.TrimPrefix(k, prefix), 10, 64); err == nil {
				m[id] = vals.String(k)
			}
		}
	}
	return s, nil
}

// resolveChain is the chain with the user's endpoints applied.
func (a *app) resolveChain(id *big.Int) (*chains.Chain, error) {
	if !id.IsUint64() {
		return nil, core.Errorf(core.CodeUnknownChain, "`mm chains list` shows the known chains", "chain id %s is not a known chain", clipText(id.String(), 40))
	}
	s, err := a.chainSettings()
	if err != nil {
		return nil, err
	}
	return chains.Resolve(id.Uint64(), s)
}

// openChain builds the transaction stack for chain id.
func (a *app) openChain(ctx context.Context, id *big.Int) (*chainStack, error) {
	c, err := a.resolveChain(id)
	if err != nil {
		return nil, err
	}
	st, err := a.state()
	if err != nil {
		return nil, err
	}
	client, err := chains.Dial(ctx, c.RPCURL())
	if err != nil {
		return nil, err
	}
	s := &chainStack{chain: c, client: client, store: st}
	if c.PrivateRPC != "" {
		p, err := chains.Dial(ctx, c.PrivateRPC)
		if err != nil {
			client.Close()
			return nil, err
		}
		s.private = p
	}
	if s.private != nil {
		a.logf("chain %d (%s): reads from %s, sends only to the protected route %s", c.ID, c.Name, client.URL(), s.private.URL())
	} else {
		a.logf("chain %d (%s): rpc %s", c.ID, c.Name, client.URL())
	}
	sigs, err := decode.LoadSignatures(st.Dir())
	if err != nil {
		s.close()
		return nil, err
	}
	dec, err := decode.New(c, sigs...)
	if err != nil {
		s.close()
		return nil, err
	}
	s.nonces = &submit.Nonces{Store: st}
	s.journal = &submit.Journal{Store: st}
	s.preparer = &txn.Preparer{Chain: c, Client: client, Nonces: s.nonces, Journal: s.journal, Decoder: dec}
	s.submitter = &submit.Submitter{Public: client, Private: s.private, Journal: s.journal}
	return s, nil
}

// waitOptions are the flags that bound how long a transaction command
// waits: for the signer (a device, an approval) and, with --wait, for the
// receipt.
type waitOptions struct {
	wait    bool
	timeout int
}

// AddFlags registers the flags.
func (o *waitOptions) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.wait, "wait", false, "wait for the receipt (status, block, gas used) instead of returning after broadcast")
	fs.IntVar(&o.timeout, "wallet-timeout", 0, "seconds to wait for the signer and, with --wait, the receipt (1–600; default walletTimeoutSeconds, 120)")
}

// duration resolves --wallet-timeout, then walletTimeoutSeconds.
func (o *waitOptions) duration(a *app) (time.Duration, error) {
	if o.timeout != 0 {
		if o.timeout < 1 || o.timeout > 600 {
			return 0, usageError(codeInvalidInput, fmt.Sprintf("--wallet-timeout %d is out of range", o.timeout), "give 1 to 600 seconds")
		}
		return time.Duration(o.timeout) * time.Second, nil
	}
	cfg, err := a.peekConfig()
	if err == nil {
		if n, err := strconv.Atoi(cfg.String("walletTimeoutSeconds")); err == nil && n >= 1 && n <= 600 {
			return time.Duration(n) * time.Second, nil
		}
	}
	return 120 * time.Second, nil
}

// progress prints receipt-wait progress on stderr.
func (a *app) progress(p core.Progress) {
	switch {
	case p.Mined:
		fmt.Fprintf(a.stderr, "mm: %s mined after %s\n", p.Hash.Hex(), p.Elapsed.Round(time.Millisecond))
	default:
		fmt.Fprintf(a.stderr, "mm: waiting for the receipt of %s (%s)\n", p.Hash.Hex(), p.Elapsed.Round(time.Second))
	}
}

// runPipeline runs req through a pipeline over stack with signer, bounded
// by timeout, and turns a run out of time into JOB_TIMEOUT or
// RECEIPT_TIMEOUT.
func (a *app) runPipeline(ctx context.Context, stack *chainStack, signer sdk.Signer, req *core.Request, timeout time.Duration) (*core.Result, error) {
	p := &core.Pipeline{Preparer: stack.preparer, Signer: signer, Submitter: stack.submitter}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if req.Wait {
		req.WaitTimeout = timeout
		req.Progress = a.progress
		fmt.Fprintf(a.stderr, "mm: the receipt is awaited for up to %s (--wallet-timeout)\n", timeout)
	}
	res, err := p.Run(rctx, req)
	if err != nil && ctx.Err() == nil && rctx.Err() == context.DeadlineExceeded && sdk.CodeOf(err) != core.CodeReceiptTimeout {
		if res == nil || res.TxHash == nil {
			return nil, sdk.NewError(codeJobTimeout, fmt.Sprintf("no answer within %s; nothing was sent", timeout),
				"confirm on the device sooner, or raise --wallet-timeout (or walletTimeoutSeconds with mm config set)")
		}
	}
	return res, err
}

// noSigner stands in for the signer in a dry run, which never signs: it
// refuses every call, so a bug that reaches it fails loudly.
type noSigner struct{}

var _ sdk.Signer = noSigner{}

func (noSigner) refuse() error {
	return sdk.NewError(sdk.CodeInternal, "dry run: no signer is opened", "this is a bug in mm; run again with --verbose and report it")
}

// Info implements sdk.Signer.
func (n noSigner) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return nil, n.refuse()
}

// Accounts implements sdk.Signer.
func (n noSigner) Accounts(context.Context, *sdk.AccountsRequest) (*sdk.AccountsResponse, error) {
	return nil, n.refuse()
}

// SignTransaction implements sdk.Signer.
func (n noSigner) SignTransaction(context.Context, *sdk.SignTransactionRequest) (*sdk.SignTransactionResponse, error) {
	return nil, n.refuse()
}

// SignTypedData implements sdk.Signer.
func (n noSigner) SignTypedData(context.Context, *sdk.SignTypedDataRequest) (*sdk.SignTypedDataResponse, error) {
	return nil, n.refuse()
}

// SignMessage implements sdk.Signer.
func (n noSigner) SignMessage(context.Context, *sdk.SignMessageRequest) (*sdk.SignMessageResponse, error) {
	return nil, n.refuse()
}
