package transport

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
)

// LedgerVendorID is the USB vendor id of every Ledger device.
const LedgerVendorID uint16 = 0x2c97

// ledgerUsagePage and ledgerInterface pick the APDU interface of a Ledger:
// the usage page on Windows and macOS, the interface number on Linux. The
// other interfaces (U2F/FIDO, WebUSB) must be skipped.
const (
	ledgerUsagePage uint16 = 0xffa0
	ledgerInterface        = 0
)

// LedgerModel describes one Ledger model as USB reports it.
type LedgerModel struct {
	// Slug is the short name used in URIs and by Speculos's -m flag.
	Slug string
	// Name is the marketing name, e.g. "Nano S Plus".
	Name string
	// LegacyPID is the fixed product id of old firmware.
	LegacyPID uint16
	// Family is the high byte of the current "MMII" product ids.
	Family byte
}

// LedgerModels lists the models this package recognises.
var LedgerModels = []LedgerModel{
	{Slug: "blue", Name: "Blue", LegacyPID: 0x0000, Family: 0x00},
	{Slug: "nanos", Name: "Nano S", LegacyPID: 0x0001, Family: 0x10},
	{Slug: "nanox", Name: "Nano X", LegacyPID: 0x0004, Family: 0x40},
	{Slug: "nanosp", Name: "Nano S Plus", LegacyPID: 0x0005, Family: 0x50},
	{Slug: "stax", Name: "Stax", LegacyPID: 0x0006, Family: 0x60},
	{Slug: "flex", Name: "Flex", LegacyPID: 0x0007, Family: 0x70},
	{Slug: "apex", Name: "Apex", LegacyPID: 0x0008, Family: 0x80},
}

// LedgerModelByPID returns the model of a Ledger product id: a legacy id, or
// an "MMII" id whose high byte names the model.
func LedgerModelByPID(pid uint16) (LedgerModel, bool) {
	for _, m := range LedgerModels {
		if pid == m.LegacyPID {
			return m, true
		}
	}
	for _, m := range LedgerModels {
		if pid&0xff00 == uint16(m.Family)<<8 && m.Family != 0 {
			return m, true
		}
	}
	return LedgerModel{}, false
}

// LedgerModelBySlug returns the model with the given slug ("nanox").
func LedgerModelBySlug(slug string) (LedgerModel, bool) {
	for _, m := range LedgerModels {
		if m.Slug == slug {
			return m, true
		}
	}
	return LedgerModel{}, false
}

// DeviceInfo describes a connected device for `mm hw list`.
type DeviceInfo struct {
	Vendor    string `json:"vendor"`    // "Ledger"
	Model     string `json:"model"`     // "Nano S Plus"
	VendorID  uint16 `json:"vendorId"`  // 0x2c97
	ProductID uint16 `json:"productId"` // changes when an app opens or closes
	Transport string `json:"transport"` // "hid"
	// URI opens this device with transport.Dial (and --device). It names the
	// model rather than the OS path when only one device of that model is
	// connected, so it survives the re-enumeration a Ledger does when an app
	// opens or closes; with several devices of one model it carries the path.
	URI  string `json:"uri"`
	Path string `json:"path"`
}

// Describer is implemented by transports that know which device they reach
// (a USB device knows its product id, hence its model). Drivers use it to
// name the device in prompts ("confirm on your Ledger Nano X").
type Describer interface {
	Describe() DeviceInfo
}

// EnumerateLedgers lists the connected Ledger devices (their APDU interface
// only). It returns ErrNoUSB in a build without cgo.
func EnumerateLedgers() ([]DeviceInfo, error) {
	infos, err := ledgerInterfaces()
	if err != nil {
		return nil, err
	}
	perModel := map[string]int{}
	for _, in := range infos {
		m, _ := LedgerModelByPID(in.ProductID)
		perModel[m.Slug]++
	}
	out := make([]DeviceInfo, 0, len(infos))
	for _, in := range infos {
		m, _ := LedgerModelByPID(in.ProductID)
		uri := "hid://ledger/" + m.Slug
		if perModel[m.Slug] > 1 {
			uri += "?path=" + url.QueryEscape(in.Path)
		}
		out = append(out, DeviceInfo{
			Vendor: "Ledger", Model: m.Name, VendorID: in.VendorID, ProductID: in.ProductID,
			Transport: "hid", URI: uri, Path: in.Path,
		})
	}
	return out, nil
}

// ledgerInterfaces returns the APDU interface of every connected Ledger.
func ledgerInterfaces() ([]HIDInfo, error) {
	all, err := EnumerateHID(LedgerVendorID)
	if err != nil {
		return nil, err
	}
	var out []HIDInfo
	for _, in := range all {
		if in.VendorID != LedgerVendorID {
			continue
		}
		if _, ok := LedgerModelByPID(in.ProductID); !ok {
			continue
		}
		if in.UsagePage == ledgerUsagePage || in.Interface == ledgerInterface {
			out = append(out, in)
		}
	}
	return out, nil
}

// DialLedgerHID opens a Ledger over USB HID. URI forms:
//
//	hid://ledger               the first connected Ledger
//	hid://ledger/<model>       the first connected Ledger of that model (nanos, nanox, nanosp, stax, flex, apex, blue)
//	hid://ledger…?path=<path>  the interface with that OS path (from EnumerateLedgers)
func DialLedgerHID(ctx context.Context, u *url.URL) (Transport, error) {
	if u.Host != "ledger" {
		return nil, fmt.Errorf("transport: %q is not a Ledger HID URI (want hid://ledger[/<model>])", u.Redacted())
	}
	slug := trimSlashes(u.Path)
	var want LedgerModel
	if slug != "" {
		m, ok := LedgerModelBySlug(slug)
		if !ok {
			return nil, fmt.Errorf("transport: unknown Ledger model %q in %q", slug, u.Redacted())
		}
		want = m
	}
	path := u.Query().Get("path")
	infos, err := ledgerInterfaces()
	if err != nil {
		return nil, err
	}
	for _, in := range infos {
		m, _ := LedgerModelByPID(in.ProductID)
		if slug != "" && m.Slug != want.Slug {
			continue
		}
		if path != "" && in.Path != path {
			continue
		}
		dev, err := OpenHID(in)
		if err != nil {
			return nil, err
		}
		t := NewLedgerHID(dev).(*ledgerHID)
		t.info = DeviceInfo{
			Vendor: "Ledger", Model: m.Name, VendorID: in.VendorID, ProductID: in.ProductID,
			Transport: "hid", URI: u.String(), Path: in.Path,
		}
		return t, nil
	}
	return nil, fmt.Errorf("transport: no Ledger matches %q: %w", u.Redacted(), ErrDeviceNotFound)
}

func trimSlashes(s string) string {
	for len(s) > 0 && s[0] == '/' {
		s = s[1:]
	}
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

func init() { RegisterHIDFamily("ledger", DialLedgerHID) }

// NewLedgerHID returns a Transport that frames APDUs with the Ledger HID
// codec over dev: a USB device from OpenHID, or an in-memory stream to an
// emulator wrapped with NewStreamReportDevice.
func NewLedgerHID(dev ReportDevice) Transport {
	return &ledgerHID{dev: dev, channel: LedgerChannel}
}

type ledgerHID struct {
	mu      sync.Mutex
	dev     ReportDevice
	channel uint16
	broken  error
	info    DeviceInfo
}

// Describe reports the device this transport reaches (empty for a stream
// built with NewLedgerHID).
func (t *ledgerHID) Describe() DeviceInfo { return t.info }

// Exchange sends one APDU and returns the response data followed by the
// status word. A cancelled exchange leaves the transport unusable (ErrClosed):
// the device may still answer the abandoned command later.
func (t *ledgerHID) Exchange(ctx context.Context, apdu []byte) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.broken != nil {
		return nil, fmt.Errorf("transport: ledger hid: %w", t.broken)
	}
	frames, err := EncodeLedgerFrames(t.channel, apdu)
	if err != nil {
		return nil, err
	}
	for _, f := range frames {
		if err := ctx.Err(); err != nil {
			t.broken = ErrClosed
			return nil, fmt.Errorf("transport: ledger hid: %w", err)
		}
		if err := t.dev.WriteReport(f); err != nil {
			t.broken = ErrClosed
			return nil, fmt.Errorf("transport: ledger hid write: %w", disconnected(err))
		}
	}
	dec := LedgerFrameDecoder{Channel: t.channel}
	buf := make([]byte, LedgerReportSize)
	for {
		n, err := t.dev.ReadReport(ctx, buf)
		if err != nil {
			t.broken = ErrClosed
			if ctx.Err() != nil {
				return nil, fmt.Errorf("transport: ledger hid: %w", ctx.Err())
			}
			return nil, fmt.Errorf("transport: ledger hid read: %w", disconnected(err))
		}
		msg, done, err := dec.Feed(buf[:n])
		if err != nil {
			t.broken = ErrClosed
			return nil, err
		}
		if done {
			if len(msg) < 2 {
				t.broken = ErrClosed
				return nil, fmt.Errorf("transport: ledger response of %d bytes has no status word: %w", len(msg), ErrFraming)
			}
			return append([]byte(nil), msg...), nil
		}
	}
}

func (t *ledgerHID) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.broken = ErrClosed
	return t.dev.Close()
}

// disconnected marks a read or write failure as ErrDisconnected, keeping the
// cause in the message.
func disconnected(err error) error {
	if errors.Is(err, ErrDisconnected) || errors.Is(err, ErrClosed) {
		return err
	}
	return fmt.Errorf("%v: %w", err, ErrDisconnected)
}
