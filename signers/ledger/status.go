package ledger

import (
	"context"
	"errors"
	"fmt"

	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/signers/transport"
)

// Status words the driver tells apart.
const (
	swOK                = 0x9000
	swConditions        = 0x6985 // every reject callback of the app
	swSecurity          = 0x6982 // locked, on older OS versions
	swLocked            = 0x5515 // locked, current OS
	swOSRefused         = 0x5501 // the user refused an OS prompt
	swOSFocus           = 0x6901 // the OS UI (Control Center) has focus
	swInvalidData       = 0x6A80
	swTxTypeUnsupported = 0x6501
	swNotAllowed        = 0x6986
	swInsNotSupported   = 0x6D00
	swClaNotSupported   = 0x6E00
	swNoAppOpen         = 0x6E01
	swUnknownAPDU       = 0x6D02
	swAppClosedMM       = 0x650F // seen by MetaMask with the app closed
	swAppClosed2        = 0x6511
)

// CodeEIP7702Disabled is returned when the Ethereum app refuses an EIP-7702
// authorization: the setting is off or the delegate is not on Ledger's list.
const CodeEIP7702Disabled sdk.Code = "EIP7702_DISABLED"

// Hints shown with the hardware codes.
const (
	hintAppNotOpen   = "open the Ethereum app on your Ledger"
	hintLocked       = "unlock the device with your PIN"
	hintBlind        = "enable Blind signing in the Ethereum app settings"
	hintUpdateApp    = "update the Ethereum app with Ledger Live"
	hintRejected     = "the request was declined on the device; run the command again to retry"
	hintNotFound     = "connect and unlock your Ledger, or start the emulator: go run ./hwtest/cmd/ledger-emulator"
	hintBusy         = "close Ledger Live and other wallet software using the device; on Linux install Ledger's udev rules"
	hintDisconnected = "reconnect the device and run the command again; nothing was signed"
)

// statusError is the device's refusal, as a coded error. what names the
// operation ("sign tx"); blindOff says the app's blind-signing setting is off
// (then 0x6A80 means blind signing is needed).
func statusError(what string, sw uint16, blindOff bool) error {
	msg := func(s string) string { return fmt.Sprintf("ledger: %s: %s (status 0x%04X)", what, s, sw) }
	switch sw {
	case swConditions, swOSRefused:
		return &sdk.Error{Code: sdk.CodeUserRejected, Message: msg("rejected on the device"), Hint: hintRejected}
	case swLocked, swSecurity:
		return &sdk.Error{Code: sdk.CodeDeviceLocked, Message: msg("the device is locked"), Hint: hintLocked}
	case swOSFocus:
		return &sdk.Error{Code: sdk.CodeDeviceBusy, Message: msg("the device's system menu has the focus"), Hint: "close the Control Center on the device, then retry"}
	case swClaNotSupported, swNoAppOpen, swUnknownAPDU, swInsNotSupported, swAppClosedMM, swAppClosed2:
		return &sdk.Error{Code: sdk.CodeAppNotOpen, Message: msg("the Ethereum app is not open"), Hint: hintAppNotOpen}
	case swTxTypeUnsupported:
		return &sdk.Error{Code: sdk.CodeTxTypeUnsupported, Message: msg("the Ethereum app does not support this transaction type"), Hint: hintUpdateApp}
	case swNotAllowed:
		return &sdk.Error{Code: CodeEIP7702Disabled, Message: msg("the Ethereum app refused the EIP-7702 authorization"),
			Hint: "enable EIP-7702 in the Ethereum app settings; the app only delegates to contracts on Ledger's list"}
	case swInvalidData:
		if blindOff {
			return &sdk.Error{Code: sdk.CodeBlindSigningDisabled, Message: msg("blind signing is disabled"), Hint: hintBlind}
		}
		return &sdk.Error{Code: sdk.CodeDeviceError, Message: msg("the device refused the data"), Hint: "update the Ethereum app; if it persists, the request is beyond what the app can parse"}
	}
	return &sdk.Error{Code: sdk.CodeDeviceError, Message: msg("the device refused the request"), Hint: "check the device screen; unplug and reconnect it if it looks stuck"}
}

// transportError turns a transport failure into a coded error.
func transportError(ctx context.Context, what string, err error) error {
	wrap := func(code sdk.Code, hint string) error {
		return &sdk.Error{Code: code, Message: fmt.Sprintf("ledger: %s: %v", what, err), Hint: hint, Err: err}
	}
	switch {
	case ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return &sdk.Error{Code: sdk.CodeCanceled, Message: fmt.Sprintf("ledger: %s: canceled; nothing was signed", what), Err: err}
	case errors.Is(err, transport.ErrNoUSB):
		return wrap(sdk.CodeUnsupported, "this mm was built without cgo, so it cannot reach USB devices: rebuild with CGO_ENABLED=1, or use a Speculos/emulator URI such as tcp://127.0.0.1:9999")
	case errors.Is(err, transport.ErrDeviceNotFound):
		return wrap(sdk.CodeDeviceNotFound, hintNotFound)
	case errors.Is(err, transport.ErrDeviceBusy):
		return wrap(sdk.CodeDeviceBusy, hintBusy)
	case errors.Is(err, transport.ErrDisconnected), errors.Is(err, transport.ErrClosed), errors.Is(err, transport.ErrFraming):
		return wrap(sdk.CodeDeviceDisconnected, hintDisconnected)
	}
	return wrap(sdk.CodeDeviceError, hintDisconnected)
}
