// Package submit gets signed transactions onto the chain safely: a nonce
// ledger shared by concurrent mm processes (Nonces), a broadcaster that never
// sends a different transaction for a nonce after an ambiguous failure and
// honours the protected route (Submitter), receipt waits, speed-up and
// cancel fees, and a journal of everything sent (Journal).
package submit

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/mm-wallet/mm/core"
	"github.com/mm-wallet/mm/core/chains"
	"github.com/mm-wallet/mm/sdk"
)

// Routes.
const (
	RoutePublic  = "public"
	RoutePrivate = "private"
)

// Submitter broadcasts signed transactions and journals them. When Private
// is set every transaction goes there and only there (the protected route);
// Public then serves reads (receipts) only.
type Submitter struct {
	Public  *chains.Client
	Private *chains.Client
	Journal *Journal
	// Attempts bounds how often the same bytes are sent (default 3).
	Attempts int
	// RetryDelay is the pause between attempts (default 200 ms).
	RetryDelay time.Duration
	// PollInterval caps the receipt polling interval (default 1 s; polling
	// starts at 5 ms and doubles).
	PollInterval time.Duration
}

var (
	_ core.Submitter     = (*Submitter)(nil)
	_ core.ReceiptWaiter = (*Submitter)(nil)
)

// Submit implements core.Submitter.
func (s *Submitter) Submit(ctx context.Context, stx *core.SignedTx) (*core.Submission, error) {
	route, client := RoutePublic, s.Public
	if s.Private != nil {
		route, client = RoutePrivate, s.Private
	}
	if client == nil {
		return nil, sdk.Errorf(sdk.CodeInternal, "submit: no endpoint")
	}
	h := stx.Tx.Hash()
	attempts := s.Attempts
	if attempts <= 0 {
		attempts = 3
	}
	delay := s.RetryDelay
	if delay <= 0 {
		delay = 200 * time.Millisecond
	}
	ambiguous := false
	var last error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
				i = attempts
				continue
			case <-time.After(delay):
			}
		}
		// The context of the send must not be the user's: a Ctrl-C between
		// writing the request and reading the answer would make every
		// broadcast ambiguous.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), client.Timeout)
		_, err := client.SendRawTransaction(sctx, stx.Raw)
		cancel()
		if err == nil {
			return s.accepted(ctx, stx, route, client, nil)
		}
		last = err
		var re rpc.Error
		if errors.As(err, &re) {
			msg := strings.ToLower(re.Error())
			switch {
			case strings.Contains(msg, "already known") || strings.Contains(msg, "known transaction"):
				return s.accepted(ctx, stx, route, client, nil)
			case ambiguous && strings.Contains(msg, "nonce too low"):
				// Our earlier attempt may have landed and been mined.
				if s.knows(ctx, client, h) {
					return s.accepted(ctx, stx, route, client, nil)
				}
			}
			if ambiguous {
				// The node refuses the bytes now but may hold them from
				// the earlier attempt: still unknown.
				break
			}
			return nil, rejected(client, re)
		}
		if !chains.IsTransportError(err) {
			return nil, core.Wrapf(err, "submit: broadcast")
		}
		if !chains.NotDelivered(err) {
			ambiguous = true
		}
	}
	if !ambiguous {
		return nil, core.Wrapf(&sdk.Error{Code: core.CodeRPCUnavailable, Message: fmt.Sprintf("endpoint %s unreachable: %v", client.URL(), last), Hint: fmt.Sprintf("nothing was sent; check the node at %s", client.URL()), Err: last}, "submit: broadcast")
	}
	if s.knows(ctx, client, h) {
		return s.accepted(ctx, stx, route, client, nil)
	}
	// Keep a record: the node may have the transaction, and the caller keeps
	// the nonce taken.
	_, _ = s.accepted(ctx, stx, route, client, &unknownMark{})
	return nil, core.Errorf(core.CodeBroadcastUnknown,
		fmt.Sprintf("the node at %s may or may not have it; `mm tx %s` checks, and mm will not reuse its nonce", client.URL(), h.Hex()),
		"submit: broadcast of %s: outcome unknown after %d attempts: %v", h.Hex(), attempts, last)
}

type unknownMark struct{}

func (s *Submitter) knows(ctx context.Context, c *chains.Client, h common.Hash) bool {
	tx, _, err := c.TransactionByHash(ctx, h)
	if err == nil && tx != nil {
		return true
	}
	r, err := c.TransactionReceipt(ctx, h)
	return err == nil && r != nil
}

func (s *Submitter) accepted(ctx context.Context, stx *core.SignedTx, route string, c *chains.Client, unknown *unknownMark) (*core.Submission, error) {
	h := stx.Tx.Hash()
	sub := &core.Submission{Hash: h, Route: route, Endpoint: c.URL()}
	if s.Journal == nil {
		return sub, nil
	}
	status := StatusPending
	if unknown != nil {
		status = StatusUnknown
	}
	e := &Entry{
		Hash: h, ChainID: stx.ChainID.Uint64(), Status: status, From: stx.From, To: stx.Tx.To(),
		Value: stx.Tx.Value().String(), Nonce: stx.Tx.Nonce(), Kind: stx.Kind, Intent: stx.Intent,
		Route: route, Replaces: stx.Replaces, Raw: stx.Raw, SentAt: time.Now().UTC(),
	}
	if stx.Call != nil {
		e.FunctionName = stx.Call.FunctionName
	}
	jctx := context.WithoutCancel(ctx)
	if err := s.Journal.Add(jctx, e); err != nil {
		// The transaction is out: report, but never as a failed broadcast.
		sub.Warnings = append(sub.Warnings, "journal: "+err.Error())
	}
	if stx.Replaces != nil {
		_ = s.Journal.Update(jctx, *stx.Replaces, func(o *Entry) error {
			if o.Hash == (common.Hash{}) {
				return errors.New("not journaled")
			}
			r := h
			o.ReplacedBy = &r
			return nil
		})
	}
	return sub, nil
}

// rejected turns a node's refusal into a coded error. Nothing was sent.
func rejected(c *chains.Client, re rpc.Error) error {
	msg := re.Error()
	l := strings.ToLower(msg)
	code, hint := core.CodeTxRejected, "nothing was sent"
	switch {
	case strings.Contains(l, "insufficient funds"):
		code, hint = core.CodeInsufficientFunds, "the account cannot pay value plus gas; nothing was sent"
	case strings.Contains(l, "intrinsic gas too low"):
		code, hint = core.CodeGasTooLow, "raise `gas` or leave it out so mm estimates it; nothing was sent"
	case strings.Contains(l, "nonce too low"):
		code, hint = core.CodeNonceTooLow, "that nonce is already used; leave `nonce` out so mm picks one"
	case strings.Contains(l, "replacement transaction underpriced"):
		hint = "a pending transaction has this nonce; use `mm tx speed-up <hash>` (fees +10 % or more) or wait for it"
	case strings.Contains(l, "underpriced") || strings.Contains(l, "fee cap less than block base fee") || strings.Contains(l, "less than block base fee"):
		hint = "raise the fees or leave them out so mm estimates them; nothing was sent"
	}
	return core.Errorf(code, hint, "submit: %s refused the transaction: %s", c.URL(), msg)
}

// WaitReceipt implements core.ReceiptWaiter: it polls for the receipt until
// it arrives, req.Timeout passes (RECEIPT_TIMEOUT; the transaction may still
// mine) or ctx ends, and records the outcome in the journal.
func (s *Submitter) WaitReceipt(ctx context.Context, req *core.WaitRequest) (*core.Receipt, error) {
	if req.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, req.Timeout)
		defer cancel()
	}
	start := time.Now()
	every := 5 * time.Millisecond
	maxEvery := s.PollInterval
	if maxEvery <= 0 {
		maxEvery = time.Second
	}
	lastProgress := start
	for {
		r, err := s.Public.TransactionReceipt(ctx, req.Hash)
		if err != nil && ctx.Err() == nil {
			return nil, core.Wrapf(err, "submit: wait for %s", req.Hash.Hex())
		}
		if r != nil {
			rc := receiptOf(r)
			s.waitHead(ctx, rc.BlockNumber)
			if req.Progress != nil {
				req.Progress(core.Progress{Hash: req.Hash, Elapsed: time.Since(start), Mined: true})
			}
			s.recordReceipt(context.WithoutCancel(ctx), req.Hash, rc)
			return rc, nil
		}
		if req.Progress != nil && time.Since(lastProgress) >= time.Second {
			lastProgress = time.Now()
			req.Progress(core.Progress{Hash: req.Hash, Elapsed: time.Since(start)})
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, core.Errorf(core.CodeReceiptTimeout, "the transaction may still be mined; `mm tx "+req.Hash.Hex()+"` checks later", "submit: no receipt for %s after %s", req.Hash.Hex(), time.Since(start).Round(time.Millisecond))
			}
			return nil, sdk.Errorf(sdk.CodeCanceled, "submit: wait for %s: %w", req.Hash.Hex(), ctx.Err())
		case <-time.After(every):
		}
		if every *= 2; every > maxEvery {
			every = maxEvery
		}
	}
}

// waitHead waits, briefly, until the head is at least block: a node may
// serve a receipt a moment before its block becomes the head, and a caller
// that reads balances right after --wait must see the transaction's effect.
// It gives up quietly after two seconds: the receipt stands either way.
func (s *Submitter) waitHead(ctx context.Context, block uint64) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	for every := 2 * time.Millisecond; ; every = min(2*every, 100*time.Millisecond) {
		if head, err := s.Public.BlockNumber(ctx); err != nil || head >= block {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

func receiptOf(r *types.Receipt) *core.Receipt {
	rc := &core.Receipt{Status: StatusReverted, GasUsed: r.GasUsed}
	if r.Status == types.ReceiptStatusSuccessful {
		rc.Status = "success"
	}
	if r.BlockNumber != nil {
		rc.BlockNumber = r.BlockNumber.Uint64()
	}
	if r.EffectiveGasPrice != nil {
		rc.EffectiveGasPrice = r.EffectiveGasPrice.String()
	}
	return rc
}

func (s *Submitter) recordReceipt(ctx context.Context, h common.Hash, rc *core.Receipt) {
	if s.Journal == nil {
		return
	}
	var replaces *common.Hash
	_ = s.Journal.Update(ctx, h, func(e *Entry) error {
		if e.Hash == (common.Hash{}) {
			return errors.New("not journaled")
		}
		applyReceipt(e, rc)
		replaces = e.Replaces
		return nil
	})
	if replaces != nil {
		_ = s.Journal.Update(ctx, *replaces, func(o *Entry) error {
			if o.Hash == (common.Hash{}) {
				return errors.New("not journaled")
			}
			r := h
			o.Status, o.ReplacedBy = StatusReplaced, &r
			return nil
		})
	}
}

func applyReceipt(e *Entry, rc *core.Receipt) {
	b := rc.BlockNumber
	e.BlockNumber = &b
	e.GasUsed = rc.GasUsed
	e.Status = StatusConfirmed
	if rc.Status != "success" {
		e.Status = StatusReverted
	}
}

// Refresh updates e from the chain (receipt, or replaced/dropped when its
// nonce was used by another transaction) and saves it. Entries already
// final are returned as they are.
func (s *Submitter) Refresh(ctx context.Context, e *Entry) (*Entry, error) {
	if e.Status != StatusPending && e.Status != StatusUnknown && e.Status != StatusReplaced {
		return e, nil
	}
	r, err := s.Public.TransactionReceipt(ctx, e.Hash)
	if err != nil {
		return e, err
	}
	if r != nil {
		rc := receiptOf(r)
		s.recordReceipt(ctx, e.Hash, rc)
		return s.Journal.Get(ctx, e.Hash)
	}
	if e.Status == StatusReplaced {
		return e, nil
	}
	mined, err := s.Public.NonceAt(ctx, e.From)
	if err != nil {
		return e, err
	}
	if mined <= e.Nonce {
		return e, nil // still waiting
	}
	status := StatusDropped
	if e.ReplacedBy != nil {
		if rr, err := s.Public.TransactionReceipt(ctx, *e.ReplacedBy); err == nil && rr != nil {
			status = StatusReplaced
		}
	}
	err = s.Journal.Update(ctx, e.Hash, func(x *Entry) error { x.Status = status; return nil })
	if err != nil {
		return e, err
	}
	return s.Journal.Get(ctx, e.Hash)
}

// Fees are the fee fields of a transaction: GasPrice for legacy ones, the
// tip and cap for EIP-1559 ones.
type Fees struct {
	GasPrice  *big.Int
	GasTipCap *big.Int
	GasFeeCap *big.Int
}

// MinBumpPercent is the least fee increase nodes accept for a replacement.
const MinBumpPercent = 10

// Bump returns fees for a replacement of orig: every fee field at least
// MinBumpPercent above orig's (rounded up) and at least the current
// suggestion.
func Bump(orig *types.Transaction, suggested Fees) Fees {
	up := func(x *big.Int) *big.Int {
		y := new(big.Int).Mul(x, big.NewInt(100+MinBumpPercent))
		q, r := new(big.Int).QuoRem(y, big.NewInt(100), new(big.Int))
		if r.Sign() > 0 {
			q.Add(q, big.NewInt(1))
		}
		if q.Cmp(x) <= 0 { // zero fees
			q.Add(x, big.NewInt(1))
		}
		return q
	}
	maxOf := func(a, b *big.Int) *big.Int {
		if b != nil && b.Cmp(a) > 0 {
			return new(big.Int).Set(b)
		}
		return a
	}
	if orig.Type() == types.LegacyTxType || orig.Type() == types.AccessListTxType {
		return Fees{GasPrice: maxOf(up(orig.GasPrice()), suggested.GasPrice)}
	}
	tip := maxOf(up(orig.GasTipCap()), suggested.GasTipCap)
	feeCap := maxOf(up(orig.GasFeeCap()), suggested.GasFeeCap)
	if feeCap.Cmp(tip) < 0 {
		feeCap = new(big.Int).Set(tip)
	}
	return Fees{GasTipCap: tip, GasFeeCap: feeCap}
}

// Replacement builds the unsigned replacement of orig (sent by from): the
// same call for a speed-up, a zero-value transfer to from for a cancel, at
// the same nonce with fees.
func Replacement(orig *types.Transaction, from common.Address, cancel bool, fees Fees) *types.Transaction {
	to, value, data, gas := orig.To(), orig.Value(), orig.Data(), orig.Gas()
	if cancel {
		self := from
		to, value, data, gas = &self, new(big.Int), nil, 21_000
	}
	switch orig.Type() {
	case types.LegacyTxType:
		return types.NewTx(&types.LegacyTx{Nonce: orig.Nonce(), GasPrice: fees.GasPrice, Gas: gas, To: to, Value: value, Data: data})
	case types.AccessListTxType:
		al := orig.AccessList()
		if cancel {
			al = nil
		}
		return types.NewTx(&types.AccessListTx{ChainID: orig.ChainId(), Nonce: orig.Nonce(), GasPrice: fees.GasPrice, Gas: gas, To: to, Value: value, Data: data, AccessList: al})
	default:
		al := orig.AccessList()
		if cancel {
			al = nil
		}
		return types.NewTx(&types.DynamicFeeTx{ChainID: orig.ChainId(), Nonce: orig.Nonce(), GasTipCap: fees.GasTipCap, GasFeeCap: fees.GasFeeCap, Gas: gas, To: to, Value: value, Data: data, AccessList: al})
	}
}
