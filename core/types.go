package core

import (
	"context"
	"encoding/json"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/mm-wallet/mm/sdk"
)

// Request is one thing the user wants signed and sent. Exactly one of
// Payload, Transfer and Replace is set.
type Request struct {
	// ChainID is the chain the transaction is for (--chain-id).
	ChainID *big.Int
	// Account is the signing account (address and, for HD signers, path).
	Account sdk.Account

	// Payload is a send-transaction JSON payload as the user typed it
	// (`to`, `value` as 0x-hex, `data`, `gas`, `nonce`, fee fields, `type`,
	// `accessList`).
	Payload []byte
	// Transfer is a native or ERC-20 transfer in human units.
	Transfer *Transfer
	// Replace speeds up or cancels a transaction this mm sent earlier.
	Replace *Replace

	// Intent is the caller's own description (--intent). It is recorded
	// beside the decoded intent, never instead of it.
	Intent string
	// DryRun stops after the policy stage: nothing is signed or sent and no
	// nonce is consumed.
	DryRun bool
	// Wait waits for the receipt after broadcast, up to WaitTimeout (zero:
	// until ctx ends).
	Wait        bool
	WaitTimeout time.Duration
	// Progress, when set, is told about the receipt wait (for stderr).
	Progress func(Progress)

	// SignerCaps is filled by the pipeline from the signer's Info so the
	// preparer can pick a transaction type the signer can sign.
	SignerCaps *sdk.Capabilities
}

// Transfer is `mm transfer`: an amount of a token, in the token's human
// units ("12.5"), to an address.
type Transfer struct {
	To     string
	Amount string
	// Token is the native symbol ("ETH"), a registry symbol ("USDC") or a
	// token contract address.
	Token string
}

// Replace asks for a replacement of a pending transaction: the same nonce
// with fees at least 10 % higher, either the same call (speed-up) or a
// zero-value transfer to oneself (cancel).
type Replace struct {
	Hash   common.Hash
	Cancel bool
}

// Kind says what a request does.
type Kind string

// Kinds of prepared transactions.
const (
	KindTransaction Kind = "transaction"
	KindTransfer    Kind = "transfer"
	KindSpeedUp     Kind = "speed-up"
	KindCancel      Kind = "cancel"
)

// Risk is a coarse risk level of a decoded call.
type Risk string

// Risk levels.
const (
	RiskLow    Risk = "low"
	RiskMedium Risk = "medium"
	RiskHigh   Risk = "high"
)

// Param is one decoded argument of a call.
type Param struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Value any    `json:"value"`
}

// Call is calldata decoded into a function and a plain-language intent.
type Call struct {
	FunctionName string  `json:"functionName"`
	Signature    string  `json:"signature,omitempty"`
	Selector     string  `json:"selector,omitempty"`
	Params       []Param `json:"params"`
	Intent       string  `json:"intent"`
	Risk         Risk    `json:"risk"`
	// Known is false when the selector matched no ABI.
	Known bool `json:"known"`
	// Calls are the inner calls of a batching call (Multicall3).
	Calls []*Call `json:"calls,omitempty"`
}

// NonceLease is a nonce reserved for one transaction. Exactly one of Commit
// (the transaction was broadcast, or may have been) and Release (it never
// left this process) must be called; a released nonce is handed out again so
// the account's sequence keeps no gap.
type NonceLease interface {
	Nonce() uint64
	Commit(ctx context.Context) error
	Release(ctx context.Context) error
}

// Preparer builds the unsigned transaction for a Request: it validates the
// input, fills nonce, gas and fees, and decodes the intent.
type Preparer interface {
	Prepare(ctx context.Context, req *Request) (*Prepared, error)
}

// Prepared is a transaction ready to be checked and signed.
type Prepared struct {
	Kind    Kind
	ChainID *big.Int
	From    common.Address
	// Tx is the unsigned transaction, every field filled.
	Tx *types.Transaction
	// Lease is the reserved nonce; nil when the user fixed the nonce or the
	// transaction replaces another.
	Lease NonceLease
	// Call is the decoded calldata (for a plain transfer: a synthetic
	// "transfer" call).
	Call   *Call
	Intent string
	// UserIntent is Request.Intent.
	UserIntent string
	// Replaces is the hash of the transaction a speed-up or cancel replaces.
	Replaces *common.Hash
	// Endpoint is the (redacted) RPC URL the preparer used.
	Endpoint string
}

// SignedTx is a signed transaction on its way to the chain.
type SignedTx struct {
	Kind     Kind
	ChainID  *big.Int
	From     common.Address
	Tx       *types.Transaction
	Raw      []byte
	Call     *Call
	Intent   string
	Replaces *common.Hash
}

// Submission is the outcome of a broadcast.
type Submission struct {
	Hash common.Hash
	// Route is "public" or "private" (the protected endpoint).
	Route string
	// Endpoint is the redacted URL the transaction went to.
	Endpoint string
	// Warnings are problems after a successful broadcast (e.g. the journal
	// could not be written); the transaction is out regardless.
	Warnings []string
}

// Submitter broadcasts signed transactions and journals them.
//
// Submit must never send a different transaction for the same nonce after
// an ambiguous failure: it retries the same bytes and, if the outcome stays
// unknown, returns TX_BROADCAST_UNKNOWN (the caller then keeps the nonce
// taken). Any other error means the node did not take the transaction.
type Submitter interface {
	Submit(ctx context.Context, tx *SignedTx) (*Submission, error)
}

// Progress is one step of a receipt wait.
type Progress struct {
	Hash    common.Hash
	Elapsed time.Duration
	// Mined is set on the last call.
	Mined bool
}

// WaitRequest asks for a transaction's receipt.
type WaitRequest struct {
	ChainID  *big.Int
	Hash     common.Hash
	Timeout  time.Duration
	Progress func(Progress)
}

// Receipt is the part of a receipt the CLI shows.
type Receipt struct {
	Status      string `json:"status"` // "success" or "reverted"
	BlockNumber uint64 `json:"blockNumber"`
	GasUsed     uint64 `json:"gasUsed"`
	// EffectiveGasPrice is in wei, decimal.
	EffectiveGasPrice string `json:"effectiveGasPrice,omitempty"`
}

// ReceiptWaiter is implemented by submitters that can wait for a receipt.
type ReceiptWaiter interface {
	WaitReceipt(ctx context.Context, req *WaitRequest) (*Receipt, error)
}

// SimulateRequest asks what a transaction would do.
type SimulateRequest struct {
	ChainID *big.Int
	From    common.Address
	Tx      *types.Transaction
	Call    *Call
}

// SimulationStatus is the outcome of a simulation.
type SimulationStatus string

// Simulation outcomes.
const (
	SimulationSkipped SimulationStatus = "skipped"
	SimulationSuccess SimulationStatus = "success"
	SimulationRevert  SimulationStatus = "revert"
)

// AssetChange is one balance change a simulation predicts for the account.
type AssetChange struct {
	Asset  string `json:"asset"` // "native" or a token address
	Symbol string `json:"symbol,omitempty"`
	// Amount is signed, in the asset's smallest unit, decimal.
	Amount string `json:"amount"`
}

// Simulation is a simulator's verdict.
type Simulation struct {
	Status       SimulationStatus `json:"status"`
	GasUsed      uint64           `json:"gasUsed,omitempty"`
	RevertReason string           `json:"revertReason,omitempty"`
	Changes      []AssetChange    `json:"changes,omitempty"`
}

// Simulator runs a transaction against current chain state without
// sending it (eth_simulateV1 or eth_call plus a trace).
type Simulator interface {
	Simulate(ctx context.Context, req *SimulateRequest) (*Simulation, error)
}

// Verdict is a scanner's classification.
type Verdict string

// Verdicts.
const (
	VerdictBenign    Verdict = "benign"
	VerdictWarning   Verdict = "warning"
	VerdictMalicious Verdict = "malicious"
)

// Finding is one reason behind a verdict.
type Finding struct {
	Rule     string  `json:"rule"`
	Severity Verdict `json:"severity"`
	Message  string  `json:"message"`
}

// ScanRequest is what a scanner looks at.
type ScanRequest struct {
	ChainID    *big.Int
	From       common.Address
	Tx         *types.Transaction
	Call       *Call
	Simulation *Simulation
}

// ScanReport is a scanner's answer.
type ScanReport struct {
	Verdict  Verdict   `json:"verdict"`
	Findings []Finding `json:"findings,omitempty"`
}

// Scanner classifies a transaction as benign, warning or malicious.
type Scanner interface {
	Scan(ctx context.Context, req *ScanRequest) (*ScanReport, error)
}

// Outcome is a policy decision.
type Outcome string

// Policy outcomes.
const (
	Allow Outcome = "allow"
	Ask   Outcome = "ask"
	Deny  Outcome = "deny"
)

// PolicyInput is everything a policy may weigh.
type PolicyInput struct {
	ChainID    *big.Int
	From       common.Address
	Kind       Kind
	Tx         *types.Transaction
	Call       *Call
	Simulation *Simulation
	Scan       *ScanReport
}

// Decision is a policy's answer, with the reasons a user is shown.
type Decision struct {
	Outcome Outcome  `json:"outcome"`
	Reasons []string `json:"reasons,omitempty"`
}

// Policy decides whether a transaction may go ahead.
type Policy interface {
	Evaluate(ctx context.Context, in *PolicyInput) (*Decision, error)
}

// ApprovalRequest asks a second factor to approve a transaction the policy
// answered "ask" for.
type ApprovalRequest struct {
	JobID    string
	Intent   string
	Decision *Decision
}

// Approval is the second factor's answer.
type Approval struct {
	Approved bool   `json:"approved"`
	Method   string `json:"method,omitempty"`
}

// Approver obtains a second factor (TOTP, device confirmation, email link).
type Approver interface {
	Approve(ctx context.Context, req *ApprovalRequest) (*Approval, error)
}

// JobStatus is the lifecycle state of a Job.
type JobStatus string

// Job states.
const (
	JobPending     JobStatus = "pending"
	JobAwaitingMFA JobStatus = "awaiting_mfa"
	JobSubmitted   JobStatus = "submitted"
	JobConfirmed   JobStatus = "confirmed"
	JobFailed      JobStatus = "failed"
	JobDenied      JobStatus = "denied"
)

// Job is the record of one pipeline run, addressable by its ID (the
// pollingId of the CLI).
type Job struct {
	ID        string          `json:"id"`
	Kind      Kind            `json:"kind"`
	Status    JobStatus       `json:"status"`
	ChainID   uint64          `json:"chainId"`
	From      common.Address  `json:"from"`
	Intent    string          `json:"intent,omitempty"`
	TxHash    *common.Hash    `json:"txHash,omitempty"`
	Error     *JobError       `json:"error,omitempty"`
	Detail    json.RawMessage `json:"detail,omitempty"`
	CreatedAt time.Time       `json:"createdAt"`
	UpdatedAt time.Time       `json:"updatedAt"`
}

// JobError is a failed job's coded error.
type JobError struct {
	Code    sdk.Code `json:"code"`
	Message string   `json:"message"`
	Hint    string   `json:"hint,omitempty"`
}

// JobFilter narrows JobStore.List.
type JobFilter struct {
	Status JobStatus
	Limit  int
}

// JobStore keeps jobs. Update runs fn on the current record under the
// store's lock and saves the result if fn returns nil.
type JobStore interface {
	Create(ctx context.Context, job *Job) error
	Get(ctx context.Context, id string) (*Job, error)
	Update(ctx context.Context, id string, fn func(*Job) error) error
	List(ctx context.Context, f *JobFilter) ([]*Job, error)
}
