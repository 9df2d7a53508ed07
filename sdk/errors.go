package sdk

import (
	"errors"
	"fmt"
)

// Code is a stable, SCREAMING_SNAKE error code. Codes are part of the public
// contract: scripts branch on them and they cross the plugin wire unchanged.
type Code string

// Codes a signer or the plugin host may return. A signer may use codes of its
// own; the host passes unknown codes through untouched.
const (
	// Generic.
	CodeInternal       Code = "INTERNAL"        // a bug or an unexpected state
	CodeUnsupported    Code = "UNSUPPORTED"     // the signer lacks the capability asked for
	CodeInvalidRequest Code = "INVALID_REQUEST" // a malformed request (bad bytes, missing field)
	CodeCanceled       Code = "CANCELED"        // the context was cancelled (Ctrl-C, timeout)
	CodeUserRejected   Code = "USER_REJECTED"   // the human said no (device button, prompt)
	CodeUnknownAccount Code = "UNKNOWN_ACCOUNT" // the account is not held by this signer
	CodeNotConfigured  Code = "NOT_CONFIGURED"  // the signer needs Configure before use

	// Keys and secrets.
	CodeInvalidDerivationPath Code = "INVALID_DERIVATION_PATH"
	CodeInvalidMnemonic       Code = "INVALID_MNEMONIC"
	CodeMissingMnemonic       Code = "MISSING_MNEMONIC"
	CodeMnemonicLocked        Code = "MNEMONIC_LOCKED"
	CodeWrongPassword         Code = "WRONG_PASSWORD"
	CodeEmptyPassword         Code = "EMPTY_PASSWORD"
	CodeAlreadyEncrypted      Code = "ALREADY_ENCRYPTED"
	CodeNotEncrypted          Code = "NOT_ENCRYPTED"
	CodeInvalidTypedData      Code = "INVALID_TYPED_DATA"
	CodeInvalidTransaction    Code = "INVALID_TRANSACTION"

	// Hardware.
	CodeDeviceNotFound       Code = "DEVICE_NOT_FOUND"
	CodeDeviceLocked         Code = "DEVICE_LOCKED"
	CodeDeviceBusy           Code = "DEVICE_BUSY"
	CodeDeviceDisconnected   Code = "DEVICE_DISCONNECTED"
	CodeDeviceNotInitialized Code = "DEVICE_NOT_INITIALIZED"
	CodeDeviceError          Code = "DEVICE_ERROR"
	CodeAppNotOpen           Code = "APP_NOT_OPEN"
	CodeBlindSigningDisabled Code = "BLIND_SIGNING_DISABLED"
	CodeTxTypeUnsupported    Code = "TX_TYPE_UNSUPPORTED"
	CodeFirmwareTooOld       Code = "FIRMWARE_TOO_OLD"
	CodePinInvalid           Code = "PIN_INVALID"

	// Plugin host.
	CodePluginNotFound         Code = "PLUGIN_NOT_FOUND"
	CodePluginChecksumMismatch Code = "PLUGIN_CHECKSUM_MISMATCH"
	CodePluginIncompatible     Code = "PLUGIN_INCOMPATIBLE"
	CodePluginCrashed          Code = "PLUGIN_CRASHED"
	CodeInvalidPluginName      Code = "INVALID_PLUGIN_NAME"

	// Asynchronous jobs.
	CodeJobPending  Code = "JOB_PENDING"
	CodeJobNotFound Code = "JOB_NOT_FOUND"
)

// Error is a coded error. Its identity is its Code: errors.Is(err, target)
// holds when both carry the same code, also after the error crossed the
// plugin wire, so hosts can write errors.Is(err, sdk.ErrUserRejected).
//
// Message says what went wrong; Hint says what the user can do about it.
// Neither may ever contain a secret.
type Error struct {
	Code    Code
	Message string
	Hint    string
	// Err is an optional wrapped cause. It does not cross the plugin wire.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	if e.Message == "" {
		return string(e.Code)
	}
	return e.Message
}

// Unwrap returns the wrapped cause, if any.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t != nil && t.Code == e.Code
}

// WithHint returns a copy of e carrying hint.
func (e *Error) WithHint(hint string) *Error {
	c := *e
	c.Hint = hint
	return &c
}

// NewError returns an *Error with the given code, message and hint.
func NewError(code Code, message, hint string) *Error {
	return &Error{Code: code, Message: message, Hint: hint}
}

// Errorf returns an *Error with the given code and a formatted message. A %w
// verb wraps its operand as the cause, as fmt.Errorf does.
func Errorf(code Code, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	return &Error{Code: code, Message: err.Error(), Err: errors.Unwrap(err)}
}

// CodeOf returns the code of the first *Error in err's chain, or "" when there
// is none.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// AsError returns the first *Error in err's chain, or nil.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// Sentinels for errors.Is. Compare with errors.Is, never with ==.
var (
	ErrUnsupported           = &Error{Code: CodeUnsupported, Message: "not supported by this signer"}
	ErrInvalidRequest        = &Error{Code: CodeInvalidRequest, Message: "invalid request"}
	ErrCanceled              = &Error{Code: CodeCanceled, Message: "canceled"}
	ErrUserRejected          = &Error{Code: CodeUserRejected, Message: "rejected by the user"}
	ErrUnknownAccount        = &Error{Code: CodeUnknownAccount, Message: "account not held by this signer"}
	ErrInvalidDerivationPath = &Error{Code: CodeInvalidDerivationPath, Message: "invalid derivation path"}
	ErrInvalidMnemonic       = &Error{Code: CodeInvalidMnemonic, Message: "invalid mnemonic"}
	ErrWrongPassword         = &Error{Code: CodeWrongPassword, Message: "wrong password"}
	ErrDeviceNotFound        = &Error{Code: CodeDeviceNotFound, Message: "device not found"}
	ErrDeviceLocked          = &Error{Code: CodeDeviceLocked, Message: "device is locked"}
	ErrDeviceDisconnected    = &Error{Code: CodeDeviceDisconnected, Message: "device disconnected"}
	ErrPluginNotFound        = &Error{Code: CodePluginNotFound, Message: "plugin not found"}
	ErrPluginChecksum        = &Error{Code: CodePluginChecksumMismatch, Message: "plugin checksum mismatch"}
	ErrPluginIncompatible    = &Error{Code: CodePluginIncompatible, Message: "plugin protocol incompatible"}
	ErrPluginCrashed         = &Error{Code: CodePluginCrashed, Message: "plugin crashed"}
)
