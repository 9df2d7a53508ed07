package transport

import (
	"context"
	"fmt"
	"net/url"
	"sync"
)

// USB HID transport for the Trezor One units whose firmware predates the
// switch to WebUSB (1.7.0): vendor 0x534c, product 0x0001, wire interface on
// usage page 0xff00 (Windows, macOS) or interface 0 (Linux). Current
// Trezors speak WebUSB, which hidapi cannot open: reach them through Trezor
// Bridge (bridge://).
//
// URIs, in the hid:// scheme shared with Ledger (family "trezor"):
//
//	hid://trezor               the first Trezor One found on HID
//	hid://trezor?path=<path>   the interface with that OS path (from EnumerateTrezorHID)
//
// Without cgo the scheme exists and answers ErrNoUSB.
const (
	// TrezorOneVendorID and TrezorOneProductID identify a Trezor One on HID.
	TrezorOneVendorID  uint16 = 0x534c
	TrezorOneProductID uint16 = 0x0001

	trezorWireUsagePage = 0xff00
	trezorWireInterface = 0
)

func init() { RegisterHIDFamily("trezor", DialTrezorHID) }

// trezorHIDInterfaces returns the wire interface of every Trezor One on HID.
func trezorHIDInterfaces() ([]HIDInfo, error) {
	all, err := EnumerateHID(TrezorOneVendorID)
	if err != nil {
		return nil, err
	}
	var out []HIDInfo
	for _, in := range all {
		if in.VendorID != TrezorOneVendorID || in.ProductID != TrezorOneProductID {
			continue
		}
		if in.UsagePage == trezorWireUsagePage || in.Interface == trezorWireInterface {
			out = append(out, in)
		}
	}
	return out, nil
}

// EnumerateTrezorHID lists the Trezor One units on USB HID for `mm hw list`.
// The URI names the device by path only when several are connected. It
// returns ErrNoUSB in a build without cgo.
func EnumerateTrezorHID() ([]DeviceInfo, error) {
	infos, err := trezorHIDInterfaces()
	if err != nil {
		return nil, err
	}
	out := make([]DeviceInfo, 0, len(infos))
	for _, in := range infos {
		uri := "hid://trezor"
		if len(infos) > 1 {
			uri += "?path=" + url.QueryEscape(in.Path)
		}
		out = append(out, DeviceInfo{
			Vendor: "Trezor", Model: "Trezor One", VendorID: in.VendorID, ProductID: in.ProductID,
			Transport: "hid", URI: uri, Path: in.Path,
		})
	}
	return out, nil
}

// DialTrezorHID opens a Trezor One over USB HID (see the URI forms above).
func DialTrezorHID(ctx context.Context, u *url.URL) (Transport, error) {
	if u.Host != "trezor" || trimSlashes(u.Path) != "" {
		return nil, fmt.Errorf("transport: %q is not a Trezor HID URI (want hid://trezor[?path=<path>])", u.Redacted())
	}
	q := u.Query()
	for k := range q {
		if k != "path" {
			return nil, fmt.Errorf("transport: unknown parameter %q in %q", k, u.Redacted())
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	path := q.Get("path")
	infos, err := trezorHIDInterfaces()
	if err != nil {
		return nil, err
	}
	for _, in := range infos {
		if path != "" && in.Path != path {
			continue
		}
		dev, err := OpenHID(in)
		if err != nil {
			return nil, fmt.Errorf("%w (on Linux, install Trezor's udev rules 51-trezor.rules)", err)
		}
		return NewTrezorHID(dev, u.Redacted()), nil
	}
	return nil, fmt.Errorf("transport: no Trezor One on USB HID matches %q: %w", u.Redacted(), ErrDeviceNotFound)
}

// TrezorHID is a Trezor Transport over a 64-byte report device: a USB
// device from OpenHID, or an in-memory stream to an emulator wrapped with
// NewStreamReportDevice. When the context of Exchange ends before the
// reply, Exchange sends Cancel, waits briefly for the device's Failure, and
// returns the context's error; the TrezorHID stays usable.
type TrezorHID struct {
	dev ReportDevice
	uri string
	mu  sync.Mutex
	rd  TrezorReader
}

var _ Transport = (*TrezorHID)(nil)

// NewTrezorHID wraps a report device; uri names it in errors.
func NewTrezorHID(dev ReportDevice, uri string) *TrezorHID {
	return &TrezorHID{dev: dev, uri: uri}
}

// Exchange sends one frame and returns the reply frame.
func (t *TrezorHID) Exchange(ctx context.Context, req []byte) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.writeFrame(ctx, req); err != nil {
		return nil, err
	}
	resp, err := t.readFrame(ctx)
	if err != nil && ctx.Err() != nil {
		trezorAbandon(t.writeFrame, t.readFrame)
		return nil, fmt.Errorf("transport: %s: %w", t.uri, ctx.Err())
	}
	return resp, err
}

func (t *TrezorHID) writeFrame(ctx context.Context, frame []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("transport: %s: %w", t.uri, err)
	}
	packets, err := TrezorPackets(frame)
	if err != nil {
		return err
	}
	for _, p := range packets {
		if err := t.dev.WriteReport(p); err != nil {
			return fmt.Errorf("transport: %s: %w", t.uri, err)
		}
	}
	return nil
}

func (t *TrezorHID) readFrame(ctx context.Context) ([]byte, error) {
	buf := make([]byte, TrezorPacketSize)
	for {
		n, err := t.dev.ReadReport(ctx, buf)
		if err != nil {
			t.rd.Reset()
			return nil, fmt.Errorf("transport: %s: %w", t.uri, err)
		}
		if n == 0 {
			continue
		}
		frame, err := t.rd.Add(buf[:n])
		if err != nil {
			return nil, fmt.Errorf("transport: %s: %w", t.uri, err)
		}
		if frame != nil {
			return frame, nil
		}
	}
}

// Close closes the device.
func (t *TrezorHID) Close() error { return t.dev.Close() }
