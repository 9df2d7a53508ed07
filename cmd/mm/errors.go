package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/mm-wallet/mm/sdk"
)

// Exit statuses. They are part of mm's public contract (README "Exit
// statuses"): scripts branch on them.
const (
	exitOK       = 0   // success
	exitError    = 1   // any failure without a more specific status
	exitUsage    = 2   // the command line itself is wrong
	exitDenied   = 3   // a person or a policy said no
	exitPending  = 4   // accepted, waiting for an approval; poll the job
	exitNeedUser = 5   // cannot go on without a person (locked, no terminal)
	exitCanceled = 130 // interrupted (Ctrl-C), as shells report SIGINT
)

// CLI error codes (codes of signers and the host live in sdk).
const (
	codeUnknownFlag          sdk.Code = "UNKNOWN_FLAG"
	codeCommandNotFound      sdk.Code = "COMMAND_NOT_FOUND"
	codeMissingFlag          sdk.Code = "MISSING_FLAG"
	codeMissingArg           sdk.Code = "MISSING_ARG"
	codeInvalidInput         sdk.Code = "INVALID_INPUT"
	codeSecretOnCommandLine  sdk.Code = "SECRET_ON_COMMAND_LINE"
	codeNotInitialized       sdk.Code = "NOT_INITIALIZED"
	codeAlreadyInitialized   sdk.Code = "ALREADY_INITIALIZED"
	codeNoTTY                sdk.Code = "NO_TTY"
	codePasswordMismatch     sdk.Code = "PASSWORD_MISMATCH"
	codeWalletNotFound       sdk.Code = "WALLET_NOT_FOUND"
	codeWrongWalletMode      sdk.Code = "WRONG_WALLET_MODE"
	codeInvalidChain         sdk.Code = "INVALID_CHAIN"
	codeChainIDMismatch      sdk.Code = "CHAIN_ID_MISMATCH"
	codeMissingTypedData     sdk.Code = "MISSING_TYPED_DATA"
	codeMessageTooLong       sdk.Code = "MESSAGE_TOO_LONG"
	codeInvalidTradingMode   sdk.Code = "INVALID_TRADING_MODE"
	codeInvalidWalletMode    sdk.Code = "INVALID_WALLET_MODE"
	codeNotUnlocked          sdk.Code = "NOT_UNLOCKED"
	codeAborted              sdk.Code = "ABORTED"
	codeTxDenied             sdk.Code = "TX_DENIED"
	codePolicyDenied         sdk.Code = "POLICY_DENIED"
	codeAwaitingMFA          sdk.Code = "AWAITING_MFA"
	codePendingApproval      sdk.Code = "PENDING_APPROVAL"
	codeSignatureMismatch    sdk.Code = "SIGNATURE_MISMATCH"
	codeInvalidUnlockSession sdk.Code = "UNLOCK_SESSION_INVALID"
)

var exitByCode = map[sdk.Code]int{
	codeUnknownFlag:         exitUsage,
	codeCommandNotFound:     exitUsage,
	codeMissingFlag:         exitUsage,
	codeMissingArg:          exitUsage,
	codeSecretOnCommandLine: exitUsage,

	sdk.CodeUserRejected: exitDenied,
	codeTxDenied:         exitDenied,
	codePolicyDenied:     exitDenied,
	sdk.CodePinInvalid:   exitDenied,
	codeAborted:          exitDenied,

	sdk.CodeJobPending:  exitPending,
	codeAwaitingMFA:     exitPending,
	codePendingApproval: exitPending,

	sdk.CodeNonInteractive:   exitNeedUser,
	codeNoTTY:                exitNeedUser,
	sdk.CodeMnemonicLocked:   exitNeedUser,
	sdk.CodeDeviceLocked:     exitNeedUser,
	sdk.CodeAppNotOpen:       exitNeedUser,
	sdk.CodeDeviceNotFound:   exitNeedUser,
	sdk.CodeCanceled:         exitCanceled,
	codeInvalidUnlockSession: exitError,
}

// exitStatus maps an error to the process exit status.
func exitStatus(err error) int {
	if err == nil {
		return exitOK
	}
	var u *usageErr
	if errors.As(err, &u) {
		return exitUsage
	}
	if s, ok := exitByCode[sdk.CodeOf(err)]; ok {
		return s
	}
	if errors.Is(err, context.Canceled) {
		return exitCanceled
	}
	return exitError
}

// usageErr marks a coded error as a usage error (exit status 2).
type usageErr struct{ e *sdk.Error }

func (u *usageErr) Error() string { return u.e.Error() }
func (u *usageErr) Unwrap() error { return u.e }

// usageError is a coded error whose exit status is 2.
func usageError(code sdk.Code, msg, hint string) error {
	return &usageErr{sdk.NewError(code, msg, hint)}
}

// asCoded turns any error into the *sdk.Error that is shown to the user.
// Errors that carry no code are bugs or surprises: INTERNAL, with the text.
func asCoded(err error) *sdk.Error {
	if e := sdk.AsError(err); e != nil {
		out := *e
		if out.Message == "" {
			out.Message = strings.ToLower(strings.ReplaceAll(string(out.Code), "_", " "))
		}
		return &out
	}
	if errors.Is(err, context.Canceled) {
		return sdk.NewError(sdk.CodeCanceled, "interrupted", "")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return sdk.NewError(sdk.CodeCanceled, "timed out", "raise walletTimeoutSeconds with mm config set, or retry")
	}
	return sdk.NewError(sdk.CodeInternal, err.Error(), "this is a bug in mm; run again with --verbose and report it")
}

// flagError converts pflag's parse errors into coded usage errors.
func flagError(err error) error {
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "unknown flag"), strings.HasPrefix(msg, "unknown shorthand flag"):
		return usageError(codeUnknownFlag, msg, "run with --help to list the flags")
	case strings.HasPrefix(msg, "flag needs an argument"):
		return usageError(codeMissingArg, msg, "run with --help to see what the flag takes")
	}
	return usageError(codeInvalidInput, msg, "run with --help to see what the flag takes")
}

// missingFlag is MISSING_FLAG for --name.
func missingFlag(name, hint string) error {
	return usageError(codeMissingFlag, fmt.Sprintf("missing required flag --%s", name), hint)
}
