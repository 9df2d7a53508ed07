package core

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/mm-wallet/mm/sdk"
)

// Stage names a pipeline stage.
type Stage string

// The stages, in order.
const (
	StagePrepare  Stage = "prepare"
	StageSimulate Stage = "simulate"
	StageScan     Stage = "scan"
	StagePolicy   Stage = "policy"
	StageApprove  Stage = "approve"
	StageSign     Stage = "sign"
	StageSubmit   Stage = "submit"
	StageWait     Stage = "wait"
)

// Stages lists every stage in pipeline order.
var Stages = []Stage{StagePrepare, StageSimulate, StageScan, StagePolicy, StageApprove, StageSign, StageSubmit, StageWait}

// Timings records how long each stage took in one run. Stages that did not
// run stay zero.
type Timings map[Stage]time.Duration

// Total is the sum of all stages.
func (t Timings) Total() time.Duration {
	var d time.Duration
	for _, v := range t {
		d += v
	}
	return d
}

// Result statuses.
const (
	StatusDryRun    = "dry-run"
	StatusSubmitted = "submitted"
	StatusConfirmed = "confirmed"
	StatusReverted  = "reverted"
	StatusUnknown   = "unknown"
)

// Result is what a pipeline run produced. The JSON names are the CLI's
// documented fields (txHash, status, chainId, from, to, intent).
type Result struct {
	JobID        string          `json:"jobId,omitempty"`
	Kind         Kind            `json:"kind"`
	TxHash       *common.Hash    `json:"txHash,omitempty"`
	Status       string          `json:"status"`
	ChainID      uint64          `json:"chainId"`
	From         common.Address  `json:"from"`
	To           *common.Address `json:"to"`
	Value        string          `json:"value"` // wei, decimal
	Nonce        uint64          `json:"nonce"`
	Gas          uint64          `json:"gas"`
	Intent       string          `json:"intent"`
	UserIntent   string          `json:"userIntent,omitempty"`
	FunctionName string          `json:"functionName,omitempty"`
	Params       []Param         `json:"params,omitempty"`
	Risk         Risk            `json:"risk,omitempty"`
	Replaces     *common.Hash    `json:"replaces,omitempty"`
	Route        string          `json:"route,omitempty"`
	Receipt      *Receipt        `json:"receipt,omitempty"`
	Simulation   *Simulation     `json:"simulation,omitempty"`
	Scan         *ScanReport     `json:"scan,omitempty"`
	Decision     *Decision       `json:"decision,omitempty"`
	// UnsignedTx is the prepared transaction (MarshalBinary, 0x-hex) in a
	// dry run.
	UnsignedTx string `json:"unsignedTx,omitempty"`
	// Warnings are non-fatal problems after broadcast (see
	// Submission.Warnings).
	Warnings []string `json:"warnings,omitempty"`
	// Timings are the per-stage durations of this run.
	Timings Timings `json:"-"`
}

// Pipeline runs requests through every stage. Preparer and Signer are
// required, Submitter too unless every request is a dry run; the checking
// stages default to NoSimulation, NoScan and AllowAll. A Pipeline is safe
// for concurrent use.
type Pipeline struct {
	Preparer  Preparer
	Simulator Simulator
	Scanner   Scanner
	Policy    Policy
	// Approver handles a policy "ask"; without one, "ask" fails with
	// APPROVAL_REQUIRED.
	Approver  Approver
	Signer    sdk.Signer
	Submitter Submitter
	// Jobs, when set, records every run as a Job.
	Jobs JobStore
	// JobPollInterval paces the polling of asynchronous signers (default
	// 500 ms).
	JobPollInterval time.Duration

	capsOnce sync.Once
	caps     *sdk.Capabilities
	capsErr  error
}

// Run takes req through the pipeline. On failure before broadcast it returns
// a nil Result and leaves no trace (no nonce consumed, nothing journaled or
// sent). Once the transaction was broadcast the Result is returned even
// when a later step (the receipt wait) fails, together with that error.
func (p *Pipeline) Run(ctx context.Context, req *Request) (res *Result, err error) {
	if req == nil || req.ChainID == nil || req.ChainID.Sign() <= 0 {
		return nil, Errorf(CodeUnknownChain, "pass --chain-id", "pipeline: a positive chain id is required")
	}
	if p.Preparer == nil || p.Signer == nil {
		return nil, sdk.Errorf(sdk.CodeInternal, "pipeline: preparer and signer are required")
	}
	timings := Timings{}
	var job *Job
	if p.Jobs != nil {
		job = &Job{ID: newJobID(), Status: JobPending, ChainID: req.ChainID.Uint64(), From: req.Account.Address, Intent: req.Intent, CreatedAt: time.Now().UTC()}
		job.UpdatedAt = job.CreatedAt
		if err := p.Jobs.Create(ctx, job); err != nil {
			return nil, Wrapf(err, "pipeline: create job")
		}
		defer func() { p.finishJob(ctx, job, res, err) }()
	}

	if !req.DryRun {
		caps, err := p.signerCaps(ctx)
		if err != nil {
			return nil, err
		}
		r := *req
		r.SignerCaps = caps
		req = &r
	}

	// prepare
	start := time.Now()
	prep, err := p.Preparer.Prepare(ctx, req)
	timings[StagePrepare] = time.Since(start)
	if err != nil {
		return nil, err
	}
	if prep == nil || prep.Tx == nil {
		return nil, sdk.Errorf(sdk.CodeInternal, "pipeline: preparer returned no transaction")
	}
	committed := false
	defer func() {
		if !committed && prep.Lease != nil {
			// Use a context that outlives a cancelled ctx: the nonce must go
			// back even when the user pressed Ctrl-C.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			_ = prep.Lease.Release(rctx)
		}
	}()
	res = resultFrom(prep)
	res.Timings = timings
	if job != nil {
		res.JobID = job.ID
	}

	// simulate → scan → policy → approve
	start = time.Now()
	sim, err := p.simulator().Simulate(ctx, &SimulateRequest{ChainID: prep.ChainID, From: prep.From, Tx: prep.Tx, Call: prep.Call})
	timings[StageSimulate] = time.Since(start)
	if err != nil {
		return nil, Wrapf(err, "pipeline: simulate")
	}
	res.Simulation = sim

	start = time.Now()
	scan, err := p.scanner().Scan(ctx, &ScanRequest{ChainID: prep.ChainID, From: prep.From, Tx: prep.Tx, Call: prep.Call, Simulation: sim})
	timings[StageScan] = time.Since(start)
	if err != nil {
		return nil, Wrapf(err, "pipeline: scan")
	}
	res.Scan = scan

	start = time.Now()
	dec, err := p.policy().Evaluate(ctx, &PolicyInput{ChainID: prep.ChainID, From: prep.From, Kind: prep.Kind, Tx: prep.Tx, Call: prep.Call, Simulation: sim, Scan: scan})
	timings[StagePolicy] = time.Since(start)
	if err != nil {
		return nil, Wrapf(err, "pipeline: policy")
	}
	res.Decision = dec
	switch dec.Outcome {
	case Allow:
	case Deny:
		return nil, Errorf(CodeTxDenied, "the policy refused this transaction; see `mm wallet policy get`", "pipeline: denied by policy: %s", joinReasons(dec.Reasons))
	case Ask:
		if req.DryRun {
			break
		}
		start = time.Now()
		err := p.approve(ctx, job, res, dec)
		timings[StageApprove] = time.Since(start)
		if err != nil {
			return nil, err
		}
	default:
		return nil, sdk.Errorf(sdk.CodeInternal, "pipeline: policy answered %q", dec.Outcome)
	}

	if req.DryRun {
		raw, err := prep.Tx.MarshalBinary()
		if err != nil {
			return nil, sdk.Errorf(sdk.CodeInternal, "pipeline: encode unsigned tx: %w", err)
		}
		res.Status = StatusDryRun
		res.UnsignedTx = "0x" + hex.EncodeToString(raw)
		return res, nil
	}
	if p.Submitter == nil {
		return nil, sdk.Errorf(sdk.CodeInternal, "pipeline: no submitter")
	}

	// sign
	start = time.Now()
	signed, raw, err := p.sign(ctx, req, prep)
	timings[StageSign] = time.Since(start)
	if err != nil {
		return nil, err
	}

	// submit
	start = time.Now()
	sub, err := p.Submitter.Submit(ctx, &SignedTx{Kind: prep.Kind, ChainID: prep.ChainID, From: prep.From, Tx: signed, Raw: raw, Call: prep.Call, Intent: prep.Intent, Replaces: prep.Replaces})
	timings[StageSubmit] = time.Since(start)
	if err != nil {
		if errors.Is(err, &sdk.Error{Code: CodeBroadcastUnknown}) {
			// The node may hold the transaction: keep the nonce taken so no
			// different transaction is ever sent for it.
			p.commit(ctx, prep)
			committed = true
			h := signed.Hash()
			res.TxHash = &h
			res.Status = StatusUnknown
			return res, err
		}
		return nil, err
	}
	p.commit(ctx, prep)
	committed = true
	h := sub.Hash
	res.TxHash = &h
	res.Route = sub.Route
	res.Warnings = sub.Warnings
	res.Status = StatusSubmitted
	if job != nil {
		job.TxHash = &h
	}

	if !req.Wait {
		return res, nil
	}
	w, ok := p.Submitter.(ReceiptWaiter)
	if !ok {
		return res, sdk.Errorf(sdk.CodeUnsupported, "pipeline: the submitter cannot wait for receipts")
	}
	start = time.Now()
	rcpt, err := w.WaitReceipt(ctx, &WaitRequest{ChainID: prep.ChainID, Hash: h, Timeout: req.WaitTimeout, Progress: req.Progress})
	timings[StageWait] = time.Since(start)
	if err != nil {
		return res, err
	}
	res.Receipt = rcpt
	if rcpt.Status == "success" {
		res.Status = StatusConfirmed
		return res, nil
	}
	res.Status = StatusReverted
	return res, Errorf(CodeTxReverted, "the transaction was mined but failed; `mm tx "+h.Hex()+"` shows it", "pipeline: transaction %s reverted in block %d", h.Hex(), rcpt.BlockNumber)
}

func (p *Pipeline) commit(ctx context.Context, prep *Prepared) {
	if prep.Lease == nil {
		return
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	// A failed commit is not fatal: the ledger reconciles with the node's
	// pending nonce on the next reservation.
	_ = prep.Lease.Commit(cctx)
}

func (p *Pipeline) signerCaps(ctx context.Context) (*sdk.Capabilities, error) {
	p.capsOnce.Do(func() {
		info, err := p.Signer.Info(ctx, &sdk.InfoRequest{})
		if err != nil {
			p.capsErr = Wrapf(err, "pipeline: signer info")
			return
		}
		c := info.Capabilities
		p.caps = &c
	})
	return p.caps, p.capsErr
}

// sign asks the signer and checks that what came back is exactly the
// prepared transaction, signed by the account.
func (p *Pipeline) sign(ctx context.Context, req *Request, prep *Prepared) (*types.Transaction, []byte, error) {
	unsigned, err := prep.Tx.MarshalBinary()
	if err != nil {
		return nil, nil, sdk.Errorf(sdk.CodeInternal, "pipeline: encode unsigned tx: %w", err)
	}
	resp, err := p.Signer.SignTransaction(ctx, &sdk.SignTransactionRequest{
		Account:     req.Account,
		ChainID:     new(big.Int).Set(prep.ChainID),
		Transaction: unsigned,
		Display:     displayOf(prep),
	})
	if err != nil {
		return nil, nil, Wrapf(err, "pipeline: sign")
	}
	if resp != nil && resp.Job != nil && len(resp.SignedTransaction) == 0 {
		resp, err = p.pollSignJob(ctx, resp.Job)
		if err != nil {
			return nil, nil, err
		}
	}
	if resp == nil || len(resp.SignedTransaction) == 0 {
		return nil, nil, Errorf(CodeSignatureMismatch, "the signer returned no transaction; check the signer with `mm doctor`", "pipeline: sign: empty answer from the signer")
	}
	signed := new(types.Transaction)
	if err := signed.UnmarshalBinary(resp.SignedTransaction); err != nil {
		return nil, nil, Errorf(CodeSignatureMismatch, "the signer returned bytes that are not a transaction", "pipeline: sign: decode signed tx: %v", err)
	}
	signer := types.LatestSignerForChainID(prep.ChainID)
	if signer.Hash(signed) != signer.Hash(prep.Tx) || signed.Type() != prep.Tx.Type() {
		return nil, nil, Errorf(CodeSignatureMismatch, "the signer signed something other than what was prepared; nothing was sent", "pipeline: sign: signed transaction differs from the prepared one")
	}
	from, err := types.Sender(signer, signed)
	if err != nil {
		return nil, nil, Errorf(CodeSignatureMismatch, "the signer returned an invalid signature; nothing was sent", "pipeline: sign: recover sender: %v", err)
	}
	if from != prep.From {
		return nil, nil, Errorf(CodeSignatureMismatch, "the signer used another key than the selected account; nothing was sent", "pipeline: sign: signature recovers to %s, want %s", from.Hex(), prep.From.Hex())
	}
	return signed, resp.SignedTransaction, nil
}

func (p *Pipeline) pollSignJob(ctx context.Context, j *sdk.Job) (*sdk.SignTransactionResponse, error) {
	poller, ok := p.Signer.(sdk.JobPoller)
	if !ok {
		return nil, sdk.Errorf(sdk.CodeUnsupported, "pipeline: sign: the signer answered with job %s but cannot be polled", j.ID)
	}
	every := p.JobPollInterval
	if every <= 0 {
		every = 500 * time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		r, err := poller.PollJob(ctx, &sdk.PollJobRequest{ID: j.ID})
		if err != nil {
			return nil, Wrapf(err, "pipeline: poll sign job")
		}
		switch r.Job.Status {
		case sdk.JobCompleted:
			if r.Transaction == nil {
				return nil, sdk.Errorf(sdk.CodeInternal, "pipeline: sign job %s completed without a transaction", j.ID)
			}
			return r.Transaction, nil
		case sdk.JobFailed, sdk.JobRejected, sdk.JobExpired:
			if r.Error != nil {
				return nil, r.Error
			}
			return nil, sdk.Errorf(sdk.CodeUserRejected, "pipeline: sign job %s ended %s", j.ID, r.Job.Status)
		}
		select {
		case <-ctx.Done():
			return nil, sdk.Errorf(sdk.CodeCanceled, "pipeline: waiting for sign job %s: %w", j.ID, ctx.Err())
		case <-t.C:
		}
	}
}

func (p *Pipeline) approve(ctx context.Context, job *Job, res *Result, dec *Decision) error {
	if p.Approver == nil {
		return Errorf(CodeApprovalRequired, "this transaction needs your approval; configure a second factor", "pipeline: approval required: %s", joinReasons(dec.Reasons))
	}
	if job != nil && p.Jobs != nil {
		_ = p.Jobs.Update(ctx, job.ID, func(j *Job) error { j.Status = JobAwaitingMFA; j.UpdatedAt = time.Now().UTC(); return nil })
	}
	jobID := ""
	if job != nil {
		jobID = job.ID
	}
	a, err := p.Approver.Approve(ctx, &ApprovalRequest{JobID: jobID, Intent: res.Intent, Decision: dec})
	if err != nil {
		return Wrapf(err, "pipeline: approve")
	}
	if !a.Approved {
		return Errorf(CodeTxDenied, "the approval was declined; nothing was signed", "pipeline: approval declined")
	}
	return nil
}

func (p *Pipeline) finishJob(ctx context.Context, job *Job, res *Result, err error) {
	_ = p.Jobs.Update(context.WithoutCancel(ctx), job.ID, func(j *Job) error {
		j.UpdatedAt = time.Now().UTC()
		if res != nil {
			j.Kind = res.Kind
			j.TxHash = res.TxHash
			j.Intent = res.Intent
		}
		switch {
		case err != nil && errors.Is(err, &sdk.Error{Code: CodeTxDenied}):
			j.Status = JobDenied
		case err != nil:
			j.Status = JobFailed
		case res != nil && res.Status == StatusConfirmed:
			j.Status = JobConfirmed
		case res != nil && res.Status == StatusDryRun:
			j.Status = JobConfirmed
		default:
			j.Status = JobSubmitted
		}
		if e := sdk.AsError(err); e != nil {
			j.Error = &JobError{Code: e.Code, Message: e.Message, Hint: e.Hint}
		} else if err != nil {
			j.Error = &JobError{Code: sdk.CodeInternal, Message: err.Error()}
		}
		return nil
	})
}

func (p *Pipeline) simulator() Simulator {
	if p.Simulator != nil {
		return p.Simulator
	}
	return NoSimulation{}
}

func (p *Pipeline) scanner() Scanner {
	if p.Scanner != nil {
		return p.Scanner
	}
	return NoScan{}
}

func (p *Pipeline) policy() Policy {
	if p.Policy != nil {
		return p.Policy
	}
	return AllowAll{}
}

func resultFrom(prep *Prepared) *Result {
	r := &Result{
		Kind:       prep.Kind,
		ChainID:    prep.ChainID.Uint64(),
		From:       prep.From,
		To:         prep.Tx.To(),
		Value:      prep.Tx.Value().String(),
		Nonce:      prep.Tx.Nonce(),
		Gas:        prep.Tx.Gas(),
		Intent:     prep.Intent,
		UserIntent: prep.UserIntent,
		Replaces:   prep.Replaces,
	}
	if prep.Call != nil {
		r.FunctionName = prep.Call.FunctionName
		r.Params = prep.Call.Params
		r.Risk = prep.Call.Risk
	}
	return r
}

func displayOf(prep *Prepared) *sdk.Display {
	d := &sdk.Display{Intent: prep.Intent}
	if prep.Call != nil {
		for _, prm := range prep.Call.Params {
			d.Fields = append(d.Fields, sdk.DisplayField{Label: prm.Name, Value: paramString(prm.Value)})
		}
		if prep.Call.Risk == RiskHigh {
			d.Warnings = append(d.Warnings, "higher risk: "+prep.Call.Intent)
		}
	}
	return d
}

func paramString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		if x {
			return "true"
		}
		return "false"
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return "?"
		}
		return string(b)
	}
}

func joinReasons(r []string) string {
	if len(r) == 0 {
		return "no reason given"
	}
	s := r[0]
	for _, x := range r[1:] {
		s += "; " + x
	}
	return s
}

func newJobID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
