package transport

import (
	"context"
	"errors"
	"time"
)

// Trezor product ids for DeviceInfo.
const (
	// TrezorWebUSBVendorID and TrezorWebUSBProductID identify Trezor One
	// firmware ≥ 1.7.0 and every Core model (reached through the Bridge).
	TrezorWebUSBVendorID  uint16 = 0x1209
	TrezorWebUSBProductID uint16 = 0x53c1
)

// TrezorEnumerateOptions says where EnumerateTrezors looks. Zero values
// pick the defaults.
type TrezorEnumerateOptions struct {
	// BridgeAddr is the Trezor Bridge address (default 127.0.0.1:21325).
	BridgeAddr string
	// EmulatorAddrs are UDP addresses probed for an emulator (default
	// 127.0.0.1:21324).
	EmulatorAddrs []string
	// ProbeTimeout bounds each emulator probe (default 300 ms).
	ProbeTimeout time.Duration
}

// EnumerateTrezors lists the Trezors reachable from this host: devices the
// Bridge lists, emulators answering PINGPING, and Trezor One units on USB
// HID. Model is filled where the transport tells it; a driver completes it
// from the device's Features. A Bridge that is not running, a silent
// emulator port and a build without USB support are not errors; other
// failures are returned (joined) beside whatever was found.
func EnumerateTrezors(ctx context.Context, opts TrezorEnumerateOptions) ([]DeviceInfo, error) {
	if opts.BridgeAddr == "" {
		opts.BridgeAddr = TrezorBridgeDefaultAddr
	}
	if opts.EmulatorAddrs == nil {
		opts.EmulatorAddrs = []string{TrezorUDPDefaultAddr}
	}
	if opts.ProbeTimeout <= 0 {
		opts.ProbeTimeout = 300 * time.Millisecond
	}
	var out []DeviceInfo
	var errs []error

	bctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	devs, err := EnumerateTrezorBridge(bctx, opts.BridgeAddr)
	cancel()
	switch {
	case err == nil:
		for _, d := range devs {
			out = append(out, DeviceInfo{
				Vendor: "Trezor", VendorID: uint16(d.Vendor), ProductID: uint16(d.Product),
				Transport: TrezorBridgeScheme, URI: d.URI, Path: d.Path,
			})
		}
	case errors.Is(err, ErrDeviceNotFound):
	default:
		errs = append(errs, err)
	}

	for _, addr := range opts.EmulatorAddrs {
		if ProbeTrezorUDP(ctx, addr, opts.ProbeTimeout) {
			out = append(out, DeviceInfo{
				Vendor: "Trezor", Model: "Trezor emulator", Transport: TrezorUDPScheme,
				URI: TrezorUDPScheme + "://" + addr, Path: addr,
			})
		}
	}

	hids, err := EnumerateTrezorHID()
	switch {
	case err == nil:
		out = append(out, hids...)
	case errors.Is(err, ErrNoUSB):
	default:
		errs = append(errs, err)
	}
	return out, errors.Join(errs...)
}
