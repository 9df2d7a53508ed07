package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sync"
	"syscall"
	"time"
)

// The Trezor emulator's UDP transport: every datagram is one 64-byte codec
// v1 packet; the 8 bytes "PINGPING" are a liveness probe the emulator
// answers with "PONGPONG" without passing them to the firmware.
//
// URI: udp://HOST:PORT, e.g. udp://127.0.0.1:21324 (the official emulator's
// default). HOST defaults to 127.0.0.1 and PORT to 21324.
const (
	// TrezorUDPScheme is the URI scheme of the Trezor emulator transport.
	TrezorUDPScheme = "udp"
	// TrezorUDPDefaultAddr is where the official Trezor emulator (and
	// mm's, by default) listens.
	TrezorUDPDefaultAddr = "127.0.0.1:21324"
)

var (
	trezorPing = []byte("PINGPING")
	trezorPong = []byte("PONGPONG")
)

// trezorPoll is how often blocking reads wake up to look at their context.
const trezorPoll = 50 * time.Millisecond

// trezorUDPKeepalive is how long a reader waits in silence before it
// checks the emulator is still there.
const trezorUDPKeepalive = 500 * time.Millisecond

// A long message goes out in bursts of trezorUDPBurst datagrams separated
// by trezorUDPPause.
const (
	trezorUDPBurst = 64
	trezorUDPPause = 500 * time.Microsecond
)

// trezorCancelWait bounds how long an abandoned exchange waits for the
// device's Failure reply to Cancel.
const trezorCancelWait = 2 * time.Second

func init() {
	Register(TrezorUDPScheme, func(ctx context.Context, u *url.URL) (Transport, error) {
		addr, err := trezorUDPAddr(u)
		if err != nil {
			return nil, err
		}
		return DialTrezorUDP(ctx, addr)
	})
}

func trezorUDPAddr(u *url.URL) (string, error) {
	if u.Opaque != "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return "", fmt.Errorf("transport: bad Trezor emulator URI %q: want udp://HOST:PORT", u.Redacted())
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		host = "127.0.0.1"
	}
	if port == "" {
		port = "21324"
	}
	return net.JoinHostPort(host, port), nil
}

// TrezorUDP is a codec v1 connection to a Trezor emulator over UDP. It
// implements Transport; WriteFrame and ReadFrame give the finer control a
// Bridge needs (write Cancel while a read is pending).
//
// When the context of Exchange ends while the device is still working (for
// instance waiting for the user to confirm), Exchange sends Cancel, waits
// briefly for the device's Failure so no stale reply is left behind, and
// returns the context's error; the TrezorUDP stays usable.
type TrezorUDP struct {
	conn *net.UDPConn
	addr string

	xmu sync.Mutex // one exchange at a time
	wmu sync.Mutex // packets of one frame are not interleaved
	rmu sync.Mutex // one reader at a time
	rd  TrezorReader
}

var _ Transport = (*TrezorUDP)(nil)

// DialTrezorUDP connects to a Trezor emulator at addr ("127.0.0.1:21324")
// and checks it is alive with PINGPING. ctx bounds the check (at most 2 s
// when ctx has no earlier deadline).
func DialTrezorUDP(ctx context.Context, addr string) (*TrezorUDP, error) {
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("transport: trezor udp %s: %w", addr, err)
	}
	conn, err := net.DialUDP("udp", nil, raddr)
	if err != nil {
		return nil, fmt.Errorf("transport: trezor udp %s: %w", addr, err)
	}
	// Replies are small, but keep room for a burst of them.
	_ = conn.SetReadBuffer(1 << 20)
	t := &TrezorUDP{conn: conn, addr: addr}
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := t.Ping(pctx); err != nil {
		conn.Close()
		return nil, err
	}
	return t, nil
}

// Addr returns the emulator's address.
func (t *TrezorUDP) Addr() string { return t.addr }

// Ping sends PINGPING until PONGPONG comes back or ctx ends, in which case
// it returns an error wrapping ErrDeviceNotFound.
func (t *TrezorUDP) Ping(ctx context.Context) error {
	t.rmu.Lock()
	defer t.rmu.Unlock()
	buf := make([]byte, 2*TrezorPacketSize)
	for {
		if _, err := t.conn.Write(trezorPing); err != nil && !isRefused(err) {
			return fmt.Errorf("transport: trezor udp %s: %w", t.addr, err)
		}
		deadline := time.Now().Add(100 * time.Millisecond)
		for {
			_ = t.conn.SetReadDeadline(deadline)
			n, err := t.conn.Read(buf)
			if err == nil && bytes.Equal(buf[:n], trezorPong) {
				return nil
			}
			if err != nil {
				if isRefused(err) {
					// Nothing listens: wait out the slice, then retry.
					time.Sleep(time.Until(deadline))
				}
				break
			}
			// Some other datagram (a stale packet): keep reading.
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w: no emulator answers PINGPING at udp://%s", ErrDeviceNotFound, t.addr)
		}
	}
}

// Exchange sends one frame and returns the device's reply frame.
func (t *TrezorUDP) Exchange(ctx context.Context, req []byte) ([]byte, error) {
	t.xmu.Lock()
	defer t.xmu.Unlock()
	t.drain()
	if err := t.WriteFrame(ctx, req); err != nil {
		return nil, err
	}
	resp, err := t.ReadFrame(ctx)
	if err != nil && ctx.Err() != nil {
		trezorAbandon(t.WriteFrame, t.ReadFrame)
		return nil, fmt.Errorf("transport: trezor udp %s: %w", t.addr, ctx.Err())
	}
	return resp, err
}

// WriteFrame sends one frame as codec v1 packets.
func (t *TrezorUDP) WriteFrame(ctx context.Context, frame []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("transport: trezor udp %s: %w", t.addr, err)
	}
	packets, err := TrezorPackets(frame)
	if err != nil {
		return err
	}
	t.wmu.Lock()
	defer t.wmu.Unlock()
	for i, p := range packets {
		if i > 0 && i%trezorUDPBurst == 0 {
			// UDP has no flow control: pause between bursts so a long
			// message (64 KiB is a thousand datagrams) does not overrun
			// the emulator's socket buffer.
			time.Sleep(trezorUDPPause)
		}
		if _, err := t.conn.Write(p); err != nil {
			return fmt.Errorf("%w: udp://%s: %v", ErrDisconnected, t.addr, err)
		}
	}
	return nil
}

// ReadFrame reads the next frame. Datagrams that are not 64 bytes (a late
// PONGPONG) are skipped.
func (t *TrezorUDP) ReadFrame(ctx context.Context) ([]byte, error) {
	t.rmu.Lock()
	defer t.rmu.Unlock()
	buf := make([]byte, 2*TrezorPacketSize)
	heard := time.Now()
	for {
		if err := ctx.Err(); err != nil {
			t.rd.Reset()
			return nil, fmt.Errorf("transport: trezor udp %s: %w", t.addr, err)
		}
		_ = t.conn.SetReadDeadline(time.Now().Add(trezorPoll))
		n, err := t.conn.Read(buf)
		if err == nil {
			heard = time.Now()
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// While the device is quiet (the user is reading the
				// screen), probe the emulator: if it went away, the
				// probe's ICMP error ends the wait with ErrDisconnected.
				if time.Since(heard) > trezorUDPKeepalive {
					heard = time.Now()
					_, _ = t.conn.Write(trezorPing)
				}
				continue
			}
			t.rd.Reset()
			return nil, fmt.Errorf("%w: udp://%s: %v", ErrDisconnected, t.addr, err)
		}
		if n != TrezorPacketSize {
			continue
		}
		frame, err := t.rd.Add(buf[:n])
		if err != nil {
			return nil, fmt.Errorf("transport: trezor udp %s: %w", t.addr, err)
		}
		if frame != nil {
			return frame, nil
		}
	}
}

// drain drops datagrams left over from an earlier, abandoned exchange.
func (t *TrezorUDP) drain() {
	t.rmu.Lock()
	defer t.rmu.Unlock()
	t.rd.Reset()
	buf := make([]byte, 2*TrezorPacketSize)
	for {
		_ = t.conn.SetReadDeadline(time.Now())
		if _, err := t.conn.Read(buf); err != nil {
			return
		}
	}
}

// Close closes the socket.
func (t *TrezorUDP) Close() error { return t.conn.Close() }

// ProbeTrezorUDP reports whether a Trezor emulator answers PINGPING at addr
// within timeout. It is what device listings use to find the emulator.
func ProbeTrezorUDP(ctx context.Context, addr string, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t, err := DialTrezorUDP(ctx, addr)
	if err != nil {
		return false
	}
	t.Close()
	return true
}

// trezorAbandon tells the device to stop the current flow (Cancel) and
// reads replies until its Failure arrives or trezorCancelWait passes, so the
// next exchange starts clean. Errors are ignored: this is best effort on a
// path that already failed.
func trezorAbandon(write func(context.Context, []byte) error, read func(context.Context) ([]byte, error)) {
	ctx, cancel := context.WithTimeout(context.Background(), trezorCancelWait)
	defer cancel()
	if write(ctx, TrezorCancelFrame()) != nil {
		return
	}
	for {
		f, err := read(ctx)
		if err != nil || isTrezorFailure(f) {
			return
		}
	}
}

func isRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }
