//go:build cgo

package transport

import (
	"context"
	"errors"
	"fmt"

	"github.com/karalabe/hid"
)

func hidSupported() bool { return hid.Supported() }

func enumerateHID(vendorID uint16) ([]HIDInfo, error) {
	if !hid.Supported() {
		return nil, fmt.Errorf("transport: USB HID is not supported on this platform: %w", ErrNoUSB)
	}
	devs, err := hid.Enumerate(vendorID, 0)
	if err != nil {
		return nil, fmt.Errorf("transport: enumerate USB HID devices: %w", err)
	}
	out := make([]HIDInfo, 0, len(devs))
	for _, d := range devs {
		out = append(out, HIDInfo{
			Path: d.Path, VendorID: d.VendorID, ProductID: d.ProductID, Release: d.Release,
			Serial: d.Serial, Manufacturer: d.Manufacturer, Product: d.Product,
			UsagePage: d.UsagePage, Usage: d.Usage, Interface: d.Interface,
		})
	}
	return out, nil
}

func openHID(info HIDInfo) (ReportDevice, error) {
	dev, err := hid.DeviceInfo{Path: info.Path, VendorID: info.VendorID, ProductID: info.ProductID, Interface: info.Interface}.Open()
	if err != nil {
		return nil, fmt.Errorf("transport: open USB device %04x:%04x: %v: %w", info.VendorID, info.ProductID, err, ErrDeviceBusy)
	}
	return &hidReports{dev: dev}, nil
}

// hidReports adapts a karalabe/hid device. Reads poll with a short timeout so
// a cancelled context is noticed without closing the handle under a blocked
// read (hidapi does not allow that).
type hidReports struct{ dev hid.Device }

const hidPollMillis = 100

func (h *hidReports) WriteReport(p []byte) error {
	if _, err := h.dev.Write(p); err != nil {
		return fmt.Errorf("transport: USB write: %v: %w", err, ErrDisconnected)
	}
	return nil
}

func (h *hidReports) ReadReport(ctx context.Context, p []byte) (int, error) {
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		n, err := h.dev.ReadTimeout(p, hidPollMillis)
		if err != nil {
			if errors.Is(err, hid.ErrDeviceClosed) {
				return 0, fmt.Errorf("transport: USB read: %w", ErrClosed)
			}
			return 0, fmt.Errorf("transport: USB read: %v: %w", err, ErrDisconnected)
		}
		if n > 0 {
			return n, nil
		}
	}
}

func (h *hidReports) Close() error { return h.dev.Close() }
