package trezor

import (
	"context"
	"errors"
	"strings"

	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/signers/transport"
	"github.com/mm-wallet/mm/signers/trezor/trezorpb"
)

const (
	hintUpdate   = "update the firmware with Trezor Suite (Settings → Device → Firmware)"
	hintNotFound = "connect and unlock your Trezor and close other wallet apps; current models need Trezor Suite or Trezor Bridge running (bridge://127.0.0.1:21325); for the emulator run `go run ./hwtest/cmd/trezor-emulator` and use --device udp://127.0.0.1:21324"
)

func errorf(code sdk.Code, hint, format string, args ...any) *sdk.Error {
	e := sdk.Errorf(code, "trezor: "+format, args...)
	e.Hint = hint
	return e
}

// transportError turns a transport failure (or the end of ctx) into a
// coded error.
func transportError(op string, err error) error {
	var se *sdk.Error
	switch {
	case errors.As(err, &se):
		return err
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return errorf(sdk.CodeCanceled, "nothing was signed", "%s: cancelled: %w", op, err)
	case errors.Is(err, transport.ErrNoUSB):
		return errorf(sdk.CodeDeviceNotFound, "this build cannot reach USB devices: use the Trezor Bridge (bridge://127.0.0.1:21325)", "%s: %w", op, err)
	case errors.Is(err, transport.ErrDeviceNotFound):
		return errorf(sdk.CodeDeviceNotFound, hintNotFound, "%s: %w", op, err)
	case errors.Is(err, transport.ErrDeviceBusy):
		return errorf(sdk.CodeDeviceBusy, "close Trezor Suite and other wallet apps that hold the device, then retry; on Linux install Trezor's udev rules", "%s: %w", op, err)
	case errors.Is(err, transport.ErrDisconnected), errors.Is(err, transport.ErrClosed):
		return errorf(sdk.CodeDeviceDisconnected, "reconnect the Trezor and retry; nothing was signed", "%s: %w", op, err)
	case errors.Is(err, transport.ErrFraming):
		return errorf(sdk.CodeDeviceError, "reconnect the Trezor and retry", "%s: the device sent malformed data: %w", op, err)
	}
	return errorf(sdk.CodeDeviceError, "reconnect the Trezor and retry", "%s: %w", op, err)
}

// failureError maps a device Failure to a coded error. The device's own
// message is kept (it is never secret) so users see what the device said.
func (d *device) failureError(op string, f *trezorpb.Failure) error {
	msg := clip(f.GetMessage(), 200)
	if msg == "" {
		msg = strings.TrimPrefix(f.GetCode().String(), "Failure_")
	}
	switch f.GetCode() {
	case trezorpb.Failure_Failure_ActionCancelled:
		return errorf(sdk.CodeUserRejected, "the request was rejected on the device; nothing was signed", "%s: rejected on the %s", op, d.name())
	case trezorpb.Failure_Failure_PinCancelled:
		return errorf(sdk.CodeUserRejected, "PIN entry was cancelled; nothing was signed", "%s: PIN entry cancelled", op)
	case trezorpb.Failure_Failure_PinInvalid:
		return errorf(sdk.CodePinInvalid, pinInvalidHint(d), "%s: wrong PIN", op)
	case trezorpb.Failure_Failure_PinExpected:
		return errorf(sdk.CodeDeviceLocked, "unlock the Trezor with its PIN and retry", "%s: the device is locked", op)
	case trezorpb.Failure_Failure_NotInitialized:
		return errorf(sdk.CodeDeviceNotInitialized, "set up the Trezor (create or recover a wallet) with Trezor Suite first", "%s: the %s has no wallet", op, d.name())
	case trezorpb.Failure_Failure_Busy, trezorpb.Failure_Failure_InProgress:
		return errorf(sdk.CodeDeviceBusy, "finish or cancel what the device is doing, then retry", "%s: the device is busy: %s", op, msg)
	case trezorpb.Failure_Failure_UnexpectedMessage:
		return errorf(sdk.CodeUnsupported, d.unsupportedHint(), "%s: the %s (firmware %s) does not support this request", op, d.name(), d.firmware())
	}
	return errorf(sdk.CodeDeviceError, "check the device screen; if it persists, reconnect the Trezor", "%s: the device failed: %s", op, msg)
}

func pinInvalidHint(d *device) string {
	if d.hostPIN() {
		return "the PIN was wrong: type the positions of your PIN's digits on the device's scrambled keypad (7 8 9 / 4 5 6 / 1 2 3), not the digits; each wrong PIN makes the device wait longer and 16 wrong PINs wipe it"
	}
	return "the PIN entered on the device was wrong; each wrong PIN makes the device wait longer and 16 wrong PINs wipe it"
}

func (d *device) unsupportedHint() string {
	if d.bitcoinOnly() {
		return "this Trezor runs bitcoin-only firmware, which cannot sign Ethereum requests: install the universal firmware with Trezor Suite"
	}
	if d.isOne() {
		return "the Trezor Model One (legacy firmware) does not know this request: " + hintUpdate + "; it never signs typed data in full, only as hashes"
	}
	return "the " + d.name() + " firmware " + d.firmware() + " does not know this request: " + hintUpdate
}

func clip(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func invalid(code sdk.Code, hint, format string, args ...any) *sdk.Error {
	return errorf(code, hint, format, args...)
}
