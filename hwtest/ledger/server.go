package ledger

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mm-wallet/mm/signers/transport"
)

// maxAPDU is the longest command APDU: 5 header bytes and 255 data bytes.
const maxAPDU = 5 + 255

type servers struct {
	mu        sync.Mutex
	listeners []net.Listener
	conns     map[net.Conn]struct{}
	closed    bool
	wg        sync.WaitGroup
}

func (s *servers) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.conns == nil {
		s.conns = map[net.Conn]struct{}{}
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *servers) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// Listen serves the Speculos raw APDU protocol on addr ("127.0.0.1:0" for a
// free port) and returns the bound address. Clients (the driver's tcp://
// transport, ledgerblue with LEDGER_PROXY_ADDRESS/PORT, ragger) connect
// there.
func (e *Emulator) Listen(addr string) (string, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("ledger emulator: listen: %w", err)
	}
	e.srv.mu.Lock()
	if e.srv.closed {
		e.srv.mu.Unlock()
		l.Close()
		return "", errors.New("ledger emulator: closed")
	}
	e.srv.listeners = append(e.srv.listeners, l)
	e.srv.mu.Unlock()
	e.srv.wg.Add(1)
	go func() {
		defer e.srv.wg.Done()
		_ = e.Serve(l)
	}()
	return l.Addr().String(), nil
}

// Serve accepts Speculos-protocol clients on l until l is closed.
func (e *Emulator) Serve(l net.Listener) error {
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		if !e.srv.track(c) {
			c.Close()
			return net.ErrClosed
		}
		e.srv.wg.Add(1)
		go func() {
			defer e.srv.wg.Done()
			defer e.srv.untrack(c)
			defer c.Close()
			e.serveSpeculos(c)
		}()
	}
}

// serveSpeculos answers one client: uint32 length + APDU in, uint32 data
// length + data + status word out.
func (e *Emulator) serveSpeculos(c net.Conn) {
	var f flows
	var hdr [4]byte
	for {
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if n > maxAPDU {
			return // not something a host sends: drop the client
		}
		apdu := make([]byte, n)
		if _, err := io.ReadFull(c, apdu); err != nil {
			return
		}
		r := e.processWatching(c, &f, apdu)
		if r.drop {
			return
		}
		out := make([]byte, 4, 4+len(r.data)+2)
		binary.BigEndian.PutUint32(out, uint32(len(r.data)))
		out = append(out, r.bytes()...)
		e.delivered(r) // before the write: the host may act on the reply at once
		if _, err := c.Write(out); err != nil {
			e.undelivered(r)
			return
		}
	}
}

// processWatching processes apdu while watching c: if the host goes away
// during an on-device review, the review is abandoned unsigned. The protocol
// is strictly request/reply, so the host sends nothing while it waits.
func (e *Emulator) processWatching(c net.Conn, f *flows, apdu []byte) reply {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	var stopping atomic.Bool
	go func() {
		defer close(done)
		var b [1]byte
		if _, err := c.Read(b[:]); err != nil && !stopping.Load() {
			cancel()
		}
	}()
	r := e.process(ctx, f, apdu)
	stopping.Store(true)
	_ = c.SetReadDeadline(time.Unix(1, 0))
	<-done
	_ = c.SetReadDeadline(time.Time{})
	return r
}

// PipeHID returns the host end of an in-memory link that carries the Ledger
// 64-byte HID framing; the emulator serves the other end. Wrap it with
// transport.NewStreamReportDevice and transport.NewLedgerHID to talk to the
// emulator through the same codec a USB Ledger uses.
func (e *Emulator) PipeHID() net.Conn {
	host, dev := net.Pipe()
	if !e.srv.track(dev) {
		dev.Close()
		host.Close()
		return host
	}
	e.srv.wg.Add(1)
	go func() {
		defer e.srv.wg.Done()
		defer e.srv.untrack(dev)
		defer dev.Close()
		_ = e.ServeHID(dev)
	}()
	return host
}

// ServeHID answers Ledger HID framing on c (64-byte reports back to back)
// until c fails.
func (e *Emulator) ServeHID(c net.Conn) error {
	var fl flows
	report := make([]byte, transport.LedgerReportSize)
	for {
		dec := transport.LedgerFrameDecoder{Channel: transport.LedgerChannel}
		var apdu []byte
		for {
			if _, err := io.ReadFull(c, report); err != nil {
				return err
			}
			// Answer on whatever channel the host uses, as a device does.
			dec.Channel = binary.BigEndian.Uint16(report[0:2])
			msg, done, err := dec.Feed(report)
			if err != nil {
				return err
			}
			if done {
				apdu = append([]byte(nil), msg...)
				break
			}
		}
		if len(apdu) > maxAPDU {
			return fmt.Errorf("ledger emulator: APDU of %d bytes", len(apdu))
		}
		r := e.processWatching(c, &fl, apdu)
		if r.drop {
			return ErrUnplugged
		}
		frames, err := transport.EncodeLedgerFrames(dec.Channel, r.bytes())
		if err != nil {
			return err
		}
		e.delivered(r) // before the write: the host may act on the reply at once
		for _, f := range frames {
			if _, err := c.Write(f); err != nil {
				e.undelivered(r)
				return err
			}
		}
	}
}

// Close stops every listener and connection.
func (e *Emulator) Close() error {
	e.srv.mu.Lock()
	e.srv.closed = true
	ls := e.srv.listeners
	e.srv.listeners = nil
	for c := range e.srv.conns {
		c.Close()
	}
	e.srv.mu.Unlock()
	for _, l := range ls {
		l.Close()
	}
	e.srv.wg.Wait()
	memMu.Lock()
	for k, v := range memEmulators {
		if v == e {
			delete(memEmulators, k)
		}
	}
	memMu.Unlock()
	return nil
}

// In-memory HID URIs: "memhid://<name>" reaches an emulator through PipeHID,
// so a driver configured with a device URI exercises the HID codec without a
// USB device. Only programs that import this package (tests, tools) know the
// scheme.
var (
	memMu        sync.Mutex
	memEmulators = map[string]*Emulator{}
	memSeq       int
)

// HIDURI registers e under a fresh name and returns its memhid:// URI.
func (e *Emulator) HIDURI() string {
	memMu.Lock()
	defer memMu.Unlock()
	memSeq++
	name := "ledger" + strconv.Itoa(memSeq)
	memEmulators[name] = e
	return "memhid://" + name
}

func dialMemHID(_ context.Context, u *url.URL) (transport.Transport, error) {
	memMu.Lock()
	e := memEmulators[u.Host]
	memMu.Unlock()
	if e == nil {
		return nil, fmt.Errorf("ledger emulator: no emulator named %q: %w", u.Host, transport.ErrDeviceNotFound)
	}
	return &describedHID{
		Transport: transport.NewLedgerHID(transport.NewStreamReportDevice(e.PipeHID(), transport.LedgerReportSize)),
		info:      transport.DeviceInfo{Vendor: "Ledger", Model: e.model.Name, VendorID: transport.LedgerVendorID, Transport: "memhid", URI: u.String()},
	}, nil
}

// describedHID lets drivers learn the emulated model, as they do from the
// USB product id of a real device.
type describedHID struct {
	transport.Transport
	info transport.DeviceInfo
}

func (d *describedHID) Describe() transport.DeviceInfo { return d.info }

func init() { transport.Register("memhid", dialMemHID) }
