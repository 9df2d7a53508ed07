package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"sync"
	"time"
)

// This file holds the vendor-neutral USB HID plumbing: the report-device
// abstraction, the "hid" URI scheme and its per-vendor families. The cgo build
// enumerates and opens devices through karalabe/hid (hid_cgo.go); a build
// without cgo keeps every name and answers ErrNoUSB (hid_nocgo.go).
//
// HID URIs have the form hid://<family>[/<model>][?path=<os path>], e.g.
// hid://ledger, hid://ledger/nanox, hid://ledger?path=0001%3A0004%3A00. The
// family picks the vendor protocol (Ledger framing, Trezor codec v1, …).

// HIDInfo describes one HID interface of a USB device.
type HIDInfo struct {
	Path         string // OS-specific path, what OpenHID needs
	VendorID     uint16
	ProductID    uint16
	Release      uint16
	Serial       string
	Manufacturer string
	Product      string
	UsagePage    uint16 // valid on Windows and macOS
	Usage        uint16
	Interface    int // valid on Linux (and Windows for composite devices)
}

// ReportDevice moves whole HID reports. Writes send one report each; reads
// return one report each and must honour ctx.
type ReportDevice interface {
	WriteReport(p []byte) error
	ReadReport(ctx context.Context, p []byte) (int, error)
	Close() error
}

// HIDSupported reports whether this build can reach USB HID devices.
func HIDSupported() bool { return hidSupported() }

// EnumerateHID lists the HID interfaces of vendorID (0: every vendor), sorted
// by path so repeated calls list devices in the same order. It returns
// ErrNoUSB in a build without cgo.
func EnumerateHID(vendorID uint16) ([]HIDInfo, error) {
	infos, err := enumerateHID(vendorID)
	if err != nil {
		return nil, err
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].Path < infos[j].Path })
	return infos, nil
}

// OpenHID opens the interface described by info. A failure to open an
// interface that enumeration just listed wraps ErrDeviceBusy.
func OpenHID(info HIDInfo) (ReportDevice, error) { return openHID(info) }

// HIDFamilyDialer opens a device of one family for a parsed hid:// URI.
type HIDFamilyDialer func(ctx context.Context, u *url.URL) (Transport, error)

var (
	hidMu       sync.RWMutex
	hidFamilies = map[string]HIDFamilyDialer{}
)

// RegisterHIDFamily makes hid://<family>/… URIs reach d. It panics if the
// family is registered twice.
func RegisterHIDFamily(family string, d HIDFamilyDialer) {
	hidMu.Lock()
	defer hidMu.Unlock()
	if _, dup := hidFamilies[family]; dup {
		panic("transport: HID family registered twice: " + family)
	}
	hidFamilies[family] = d
}

func hidFamilyNames() []string {
	hidMu.RLock()
	defer hidMu.RUnlock()
	var out []string
	for f := range hidFamilies {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

func dialHID(ctx context.Context, u *url.URL) (Transport, error) {
	hidMu.RLock()
	d, ok := hidFamilies[u.Host]
	hidMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("transport: unknown HID device family %q in %q (known: %v)", u.Host, u.Redacted(), hidFamilyNames())
	}
	return d(ctx, u)
}

func init() { Register("hid", dialHID) }

// NewStreamReportDevice turns a byte stream that carries fixed-size reports
// back to back (an in-memory pipe to an emulator, a socket) into a
// ReportDevice. When rw has SetReadDeadline (net.Conn, net.Pipe) a cancelled
// read leaves it usable; otherwise cancellation closes it.
func NewStreamReportDevice(rw io.ReadWriteCloser, reportSize int) ReportDevice {
	return &streamReports{rw: rw, size: reportSize}
}

type streamReports struct {
	rw   io.ReadWriteCloser
	size int
}

type readDeadliner interface{ SetReadDeadline(time.Time) error }

func (s *streamReports) WriteReport(p []byte) error {
	_, err := s.rw.Write(p)
	return err
}

func (s *streamReports) ReadReport(ctx context.Context, p []byte) (int, error) {
	if len(p) < s.size {
		return 0, fmt.Errorf("transport: report buffer of %d bytes, need %d", len(p), s.size)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var stop func() bool
	if dl, ok := s.rw.(readDeadliner); ok {
		stop = context.AfterFunc(ctx, func() { _ = dl.SetReadDeadline(time.Unix(1, 0)) })
		defer func() { _ = dl.SetReadDeadline(time.Time{}) }()
	} else {
		stop = context.AfterFunc(ctx, func() { _ = s.rw.Close() })
	}
	n, err := io.ReadFull(s.rw, p[:s.size])
	if !stop() && ctx.Err() != nil {
		return n, ctx.Err()
	}
	if errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() != nil {
		return n, ctx.Err()
	}
	return n, err
}

func (s *streamReports) Close() error { return s.rw.Close() }
