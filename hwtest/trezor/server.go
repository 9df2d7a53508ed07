package trezor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/mm-wallet/mm/signers/transport"
)

var (
	ping = []byte("PINGPING")
	pong = []byte("PONGPONG")
)

// ListenUDP serves the emulator on a UDP address ("127.0.0.1:0" picks a
// free port), like the official emulator: one 64-byte datagram per codec v1
// packet, PINGPING answered with PONGPONG. Replies go to the peer that sent
// the last packet. It returns the bound address; Close (or a simulated
// disconnect) stops the server.
func (e *Emulator) ListenUDP(addr string) (string, error) {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return "", fmt.Errorf("trezor emulator: listen %s: %w", addr, err)
	}
	if uc, ok := pc.(*net.UDPConn); ok {
		// A 64 KiB message is a thousand datagrams: make room for them.
		_ = uc.SetReadBuffer(4 << 20)
	}
	e.onUnplug(func() { pc.Close() })
	go func() {
		<-e.closed
		pc.Close()
	}()
	go e.serveUDP(pc)
	return pc.LocalAddr().String(), nil
}

// URI returns the udp:// URI of a bound address, for transport.Dial.
func URI(addr string) string { return transport.TrezorUDPScheme + "://" + addr }

func (e *Emulator) serveUDP(pc net.PacketConn) {
	var (
		mu      sync.Mutex
		readers = map[string]*transport.TrezorReader{}
	)
	buf := make([]byte, 2048)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		pkt := buf[:n]
		if bytes.Equal(pkt, ping) {
			_, _ = pc.WriteTo(pong, from)
			continue
		}
		if n != transport.TrezorPacketSize {
			continue
		}
		mu.Lock()
		rd := readers[from.String()]
		if rd == nil {
			rd = new(transport.TrezorReader)
			readers[from.String()] = rd
		}
		frame, err := rd.Add(pkt)
		mu.Unlock()
		if err != nil || frame == nil {
			continue
		}
		peer := from
		e.deliver(frame, func(reply []byte) {
			packets, err := transport.TrezorPackets(reply)
			if err != nil {
				return
			}
			for _, p := range packets {
				_, _ = pc.WriteTo(p, peer)
			}
		})
	}
}

// HIDStream returns the host end of an in-memory stream of 64-byte reports
// (the USB HID transport's framing): wrap it with
// transport.NewStreamReportDevice and transport.NewTrezorHID.
func (e *Emulator) HIDStream() net.Conn {
	host, dev := net.Pipe()
	e.onUnplug(func() { dev.Close() })
	go func() {
		<-e.closed
		dev.Close()
	}()
	go func() {
		var rd transport.TrezorReader
		var wmu sync.Mutex
		pkt := make([]byte, transport.TrezorPacketSize)
		for {
			if _, err := io.ReadFull(dev, pkt); err != nil {
				return
			}
			frame, err := rd.Add(pkt)
			if err != nil || frame == nil {
				continue
			}
			e.deliver(frame, func(reply []byte) {
				packets, err := transport.TrezorPackets(reply)
				if err != nil {
					return
				}
				wmu.Lock()
				defer wmu.Unlock()
				for _, p := range packets {
					if _, err := dev.Write(p); err != nil {
						return
					}
				}
			})
		}
	}()
	return host
}

// Transport returns an in-process transport.Transport to the emulator that
// skips packet framing: for unit tests and for measuring the device's own
// cost. Exchange honours ctx by sending Cancel, like the real transports.
func (e *Emulator) Transport() transport.Transport {
	return &memTransport{e: e, replies: make(chan []byte, 16)}
}

type memTransport struct {
	e       *Emulator
	mu      sync.Mutex
	replies chan []byte
}

// Exchange implements transport.Transport.
func (m *memTransport) Exchange(ctx context.Context, req []byte) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, _, err := transport.ParseTrezorFrame(req); err != nil {
		return nil, err
	}
	for len(m.replies) > 0 {
		<-m.replies
	}
	m.e.deliver(req, m.push)
	select {
	case r := <-m.replies:
		return r, nil
	case <-m.e.closed:
		return nil, fmt.Errorf("trezor emulator: %w", transport.ErrDisconnected)
	case <-ctx.Done():
	}
	m.e.deliver(transport.TrezorCancelFrame(), m.push)
	select {
	case <-m.replies:
	case <-m.e.closed:
	}
	return nil, fmt.Errorf("trezor emulator: %w", ctx.Err())
}

func (m *memTransport) push(reply []byte) {
	select {
	case m.replies <- append([]byte(nil), reply...):
	default:
	}
}

// Close implements transport.Transport.
func (m *memTransport) Close() error { return nil }
