package sdk

import (
	"context"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
)

// ProtocolVersion is the newest plugin protocol major version this SDK speaks.
// Hosts and plugins built on this SDK also speak ProtocolVersion-1.
const ProtocolVersion = 2

// Signer is the contract every signer implements: the built-in ones (BIP-39
// mnemonic, Ledger, Trezor, server wallet) and third-party plugins alike. The
// host consumes exactly this interface, whether the signer runs in process or
// behind the plugin wire.
//
// Every method must be safe for concurrent use, must honour ctx, and must
// return coded errors (*Error): UNSUPPORTED for a capability the signer does
// not claim, INVALID_REQUEST for malformed input, USER_REJECTED when a human
// declined. A signer never panics on bad input and never returns a signature
// together with an error.
type Signer interface {
	// Info describes the signer and what it can do.
	Info(ctx context.Context, req *InfoRequest) (*InfoResponse, error)
	// Accounts returns the addresses for the requested derivation paths or
	// indices.
	Accounts(ctx context.Context, req *AccountsRequest) (*AccountsResponse, error)
	// SignTransaction signs an unsigned transaction.
	SignTransaction(ctx context.Context, req *SignTransactionRequest) (*SignTransactionResponse, error)
	// SignTypedData signs EIP-712 v4 typed data.
	SignTypedData(ctx context.Context, req *SignTypedDataRequest) (*SignTypedDataResponse, error)
	// SignMessage signs an EIP-191 personal message.
	SignMessage(ctx context.Context, req *SignMessageRequest) (*SignMessageResponse, error)
}

// Configurer is implemented by signers that take settings before use: a
// device URI, a key file path, a derivation scheme. Settings are never
// secrets; a signer that needs a secret asks the host's Prompter.
type Configurer interface {
	Configure(ctx context.Context, req *ConfigureRequest) (*ConfigureResponse, error)
}

// Manager is implemented by signers that keep a key store of their own and
// let the host administer it (import a mnemonic, set or change its
// password). Operations are signer-specific; secrets they need arrive
// through the Prompter, never in Params.
type Manager interface {
	Manage(ctx context.Context, req *ManageRequest) (*ManageResponse, error)
}

// Authorizer is implemented by signers that sign EIP-7702 authorizations.
type Authorizer interface {
	SignAuthorization(ctx context.Context, req *SignAuthorizationRequest) (*SignAuthorizationResponse, error)
}

// JobPoller is implemented by asynchronous signers (Capabilities.AsyncJobs):
// their Sign* methods may answer with a Job instead of a signature, and the
// host polls until the job completes.
type JobPoller interface {
	PollJob(ctx context.Context, req *PollJobRequest) (*PollJobResponse, error)
}

// Kind says where a signer keeps its keys.
type Kind string

// Signer kinds.
const (
	KindSoftware Kind = "software" // keys in the signer process (mnemonic, keystore)
	KindHardware Kind = "hardware" // keys on a device (Ledger, Trezor)
	KindRemote   Kind = "remote"   // keys in a service (server wallet, KMS, MPC)
)

// TxType names a transaction type a signer can sign.
type TxType string

// Transaction types.
const (
	TxLegacy  TxType = "legacy"  // type 0, EIP-155 replay protection
	TxEIP2930 TxType = "eip2930" // type 1, access lists
	TxEIP1559 TxType = "eip1559" // type 2, dynamic fees
	TxEIP7702 TxType = "eip7702" // type 4 set-code transactions and authorizations (Authorizer)
)

// TypedDataMode says how much of EIP-712 a signer handles.
type TypedDataMode string

// Typed-data modes.
const (
	TypedDataFull   TypedDataMode = "full"        // the signer reads the whole JSON (and may display it)
	TypedDataHashed TypedDataMode = "hashed-only" // the signer signs the domain separator and message hash only
	TypedDataNone   TypedDataMode = "none"
)

// Capabilities lists what a signer can do. A signer that claims a capability
// must deliver it; one that lacks it must answer UNSUPPORTED.
type Capabilities struct {
	TxTypes         []TxType      `json:"txTypes"`
	TypedData       TypedDataMode `json:"typedData"`
	PersonalMessage bool          `json:"personalMessage"`
	AsyncJobs       bool          `json:"asyncJobs"`
	// EnforcesPolicy is set by signers that apply a policy themselves (a
	// server wallet in a TEE); the host then does not re-check its policy.
	EnforcesPolicy bool `json:"enforcesPolicy"`
}

// SupportsTx reports whether t is among c.TxTypes.
func (c Capabilities) SupportsTx(t TxType) bool {
	for _, x := range c.TxTypes {
		if x == t {
			return true
		}
	}
	return false
}

// InfoRequest asks for a signer's description.
type InfoRequest struct{}

// InfoResponse describes a signer.
type InfoResponse struct {
	Name            string       `json:"name"`
	Version         string       `json:"version"`
	ProtocolVersion int          `json:"protocolVersion"`
	Kind            Kind         `json:"kind"`
	Capabilities    Capabilities `json:"capabilities"`
	// Model is the device model for hardware signers ("Nano S Plus",
	// "Safe 5"), empty otherwise.
	Model string `json:"model,omitempty"`
}

// ConfigureRequest carries non-secret settings, e.g. {"device":
// "tcp://127.0.0.1:9999"} or {"keyFile": "/home/u/.metamask/mnemonic"}.
type ConfigureRequest struct {
	Settings map[string]string
}

// ConfigureResponse acknowledges Configure.
type ConfigureResponse struct{}

// ManageRequest is a signer-specific administrative operation, e.g. Op
// "import" or "set-password".
type ManageRequest struct {
	Op     string
	Params map[string]string
}

// ManageResponse is the outcome of a ManageRequest.
type ManageResponse struct {
	Result map[string]string
}

// Account is one address a signer holds.
type Account struct {
	Address common.Address `json:"address"`
	// Path is the BIP-32 derivation path in "m/44'/60'/0'/0/0" form, empty
	// for signers without paths.
	Path string `json:"path,omitempty"`
}

// AccountsRequest asks for the addresses at Paths and at Indices. An index is
// resolved under the signer's configured derivation scheme (by default
// m/44'/60'/0'/0/<index>). Results come back in order: Paths first, then
// Indices.
type AccountsRequest struct {
	Paths   []string
	Indices []uint32
	// Verify asks a hardware signer to show each address on the device and
	// wait for the user's confirmation.
	Verify bool
}

// AccountsResponse lists addresses in request order.
type AccountsResponse struct {
	Accounts []Account
}

// DisplayField is one labelled value of a decoded intent.
type DisplayField struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// Display is the decoded intent of a request, for signers that can show it
// (a device screen, a remote approval page). It is advisory: a signer must
// never sign something other than the bytes it was given because of it.
type Display struct {
	Intent   string         `json:"intent,omitempty"`
	Fields   []DisplayField `json:"fields,omitempty"`
	Warnings []string       `json:"warnings,omitempty"`
}

// SignTransactionRequest asks for a transaction signature.
type SignTransactionRequest struct {
	Account Account
	// ChainID is the chain the signature is for. For typed transactions it
	// must equal the chain id inside Transaction.
	ChainID *big.Int
	// Transaction is the unsigned transaction as go-ethereum's
	// types.Transaction.MarshalBinary encodes it with v, r and s zero: the
	// EIP-2718 envelope for typed transactions, the RLP list for legacy ones.
	Transaction []byte
	Display     *Display
}

// SignTransactionResponse carries the signed transaction, or a Job for
// asynchronous signers.
type SignTransactionResponse struct {
	// SignedTransaction is the signed transaction in MarshalBinary form.
	SignedTransaction []byte
	// Signature is r ‖ s ‖ y-parity (65 bytes, last byte 0 or 1).
	Signature []byte
	Job       *Job
}

// SignTypedDataRequest asks for an EIP-712 signature. The host computes the
// hashes so that hash-only signers can sign; a full-mode signer must check
// that they match TypedData.
type SignTypedDataRequest struct {
	Account Account
	// TypedData is the EIP-712 v4 JSON document (types, primaryType, domain,
	// message).
	TypedData []byte
	// DomainSeparator is hashStruct(EIP712Domain, domain).
	DomainSeparator common.Hash
	// MessageHash is hashStruct(primaryType, message); nil when the primary
	// type is EIP712Domain.
	MessageHash *common.Hash
	Display     *Display
}

// SignTypedDataResponse carries an EIP-712 signature.
type SignTypedDataResponse struct {
	// Signature is r ‖ s ‖ v with v = 27 or 28.
	Signature []byte
	Job       *Job
}

// SignMessageRequest asks for an EIP-191 personal-message signature. The
// signer adds the "\x19Ethereum Signed Message:\n<len>" prefix itself.
type SignMessageRequest struct {
	Account Account
	Message []byte
	Display *Display
}

// SignMessageResponse carries an EIP-191 signature.
type SignMessageResponse struct {
	// Signature is r ‖ s ‖ v with v = 27 or 28.
	Signature []byte
	Job       *Job
}

// SignAuthorizationRequest asks for an EIP-7702 authorization signature
// over keccak256(0x05 ‖ rlp([chainId, address, nonce])).
type SignAuthorizationRequest struct {
	Account  Account
	ChainID  *big.Int
	Delegate common.Address
	Nonce    uint64
}

// SignAuthorizationResponse carries r ‖ s ‖ y-parity (65 bytes).
type SignAuthorizationResponse struct {
	Signature []byte
}

// JobStatus is the state of an asynchronous signing job.
type JobStatus string

// Job states.
const (
	JobPending     JobStatus = "pending"
	JobAwaitingMFA JobStatus = "awaiting_mfa"
	JobCompleted   JobStatus = "completed"
	JobFailed      JobStatus = "failed"
	JobRejected    JobStatus = "rejected"
	JobExpired     JobStatus = "expired"
	JobUnknown     JobStatus = "unknown"
)

// Job identifies an asynchronous signing job.
type Job struct {
	ID     string    `json:"id"`
	Status JobStatus `json:"status"`
}

// PollJobRequest asks for a job's state.
type PollJobRequest struct {
	ID string
}

// PollJobResponse is a job's state and, once completed, its result. Exactly
// one of the result fields is set when Status is JobCompleted; Error is set
// when it failed or was rejected.
type PollJobResponse struct {
	Job         Job
	Transaction *SignTransactionResponse
	TypedData   *SignTypedDataResponse
	Message     *SignMessageResponse
	Error       *Error
}
