package core

import (
	"fmt"

	"github.com/mm-wallet/mm/sdk"
)

// Error codes of the transaction side (core and its parts). They are part of
// the CLI's contract: scripts branch on them. Where the reference mm
// documents a code for the same failure, it is reused.
const (
	// Input.
	CodeMissingPayload     sdk.Code = "MISSING_TRANSACTION_PAYLOAD"
	CodeInvalidPayload     sdk.Code = "INVALID_TRANSACTION_PAYLOAD"
	CodeMissingTo          sdk.Code = "MISSING_TO"
	CodeInvalidTo          sdk.Code = "INVALID_TO"
	CodeInvalidAddress     sdk.Code = "INVALID_EVM_ADDRESS"
	CodeInvalidQuantity    sdk.Code = "INVALID_QUANTITY"
	CodeInvalidData        sdk.Code = "INVALID_DATA"
	CodeInvalidAmount      sdk.Code = "INVALID_AMOUNT"
	CodeInvalidTxHash      sdk.Code = "INVALID_TX_HASH"
	CodeGasTooLow          sdk.Code = "GAS_TOO_LOW"
	CodeChainIDMismatch    sdk.Code = "CHAIN_ID_MISMATCH"
	CodeUnknownChain       sdk.Code = "UNKNOWN_CHAIN"
	CodeTokenNotFound      sdk.Code = "TOKEN_NOT_FOUND"
	CodeInsufficientFunds  sdk.Code = "INSUFFICIENT_FUNDS"
	CodeNonceTooLow        sdk.Code = "NONCE_TOO_LOW"
	CodeFromMismatch       sdk.Code = "FROM_MISMATCH"
	CodeInvalidSignatures  sdk.Code = "INVALID_SIGNATURE_FILE"
	CodeReplaceNotPossible sdk.Code = "TX_NOT_REPLACEABLE"

	// Chain access.
	CodeRPCUnavailable sdk.Code = "RPC_UNAVAILABLE"
	CodeRPCError       sdk.Code = "RPC_ERROR"

	// Pipeline outcomes.
	CodeTxDenied          sdk.Code = "TX_DENIED"
	CodeApprovalRequired  sdk.Code = "APPROVAL_REQUIRED"
	CodeSignatureMismatch sdk.Code = "SIGNATURE_MISMATCH"
	CodeTxRejected        sdk.Code = "TX_REJECTED"
	CodeBroadcastUnknown  sdk.Code = "TX_BROADCAST_UNKNOWN"
	CodeTxReverted        sdk.Code = "TX_REVERTED"
	CodeTxNotFound        sdk.Code = "TX_NOT_FOUND"
	CodeReceiptTimeout    sdk.Code = "RECEIPT_TIMEOUT"
)

// Errorf returns a coded error with a formatted message and a hint. A %w
// verb wraps its operand as the cause. Messages and hints must never carry a
// secret.
func Errorf(code sdk.Code, hint, format string, args ...any) *sdk.Error {
	e := sdk.Errorf(code, format, args...)
	e.Hint = hint
	return e
}

// Wrapf prefixes a coded error's message with a component name while keeping
// its code and hint (so errors.Is and sdk.CodeOf keep working), or wraps a
// plain error with fmt.Errorf.
func Wrapf(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	prefix := fmt.Sprintf(format, args...)
	if e := sdk.AsError(err); e != nil {
		c := *e
		c.Message = prefix + ": " + e.Message
		c.Err = err
		return &c
	}
	return fmt.Errorf("%s: %w", prefix, err)
}
