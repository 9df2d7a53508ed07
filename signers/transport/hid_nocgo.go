//go:build !cgo

package transport

import "fmt"

func hidSupported() bool { return false }

func enumerateHID(uint16) ([]HIDInfo, error) {
	return nil, fmt.Errorf("transport: enumerate USB devices: %w", ErrNoUSB)
}

func openHID(info HIDInfo) (ReportDevice, error) {
	return nil, fmt.Errorf("transport: open USB device %04x:%04x: %w", info.VendorID, info.ProductID, ErrNoUSB)
}
