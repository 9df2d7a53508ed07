package transport

import "errors"

// Sentinel errors shared by every transport. Dialers and Exchange wrap them
// with detail; drivers test for them with errors.Is and turn them into coded
// errors (DEVICE_NOT_FOUND, DEVICE_BUSY, DEVICE_DISCONNECTED, …). This package
// stays free of sdk so that emulators and tools can use it alone.
var (
	// ErrNoUSB is returned by USB dialers and enumeration in a build without
	// cgo: karalabe/hid needs it, so such a binary cannot reach USB devices.
	ErrNoUSB = errors.New("built without USB support (CGO_ENABLED=0)")
	// ErrDeviceNotFound means nothing answered at the URI: no matching USB
	// device is connected, or nothing listens on the emulator port.
	ErrDeviceNotFound = errors.New("device not found")
	// ErrDeviceBusy means the device exists but could not be opened, usually
	// because another program (Ledger Live, a browser wallet, a second mm)
	// holds it, or, on Linux, because udev rules deny access.
	ErrDeviceBusy = errors.New("device busy or not accessible")
	// ErrDisconnected means the device or emulator went away in the middle
	// of an exchange.
	ErrDisconnected = errors.New("device disconnected")
	// ErrClosed is returned by Exchange on a Transport that was closed, or
	// that became unusable because an earlier exchange was cancelled.
	ErrClosed = errors.New("transport closed")
	// ErrFraming means the device sent bytes that break the wire protocol
	// (wrong channel, tag, sequence number or length).
	ErrFraming = errors.New("bad frame from device")
)
