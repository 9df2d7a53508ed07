package transport

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"time"
)

// Speculos raw APDU TCP protocol (what Speculos serves on --apdu-port, 9999 by
// default, and what hwtest's Ledger emulator serves too):
//
//	host → device: uint32 big-endian N, then N bytes of APDU
//	device → host: uint32 big-endian L, then L bytes of response data, then the 2-byte status word
//
// L excludes the status word. There is no HID framing.

// SpeculosMaxResponse bounds the response length a client accepts, so a
// hostile or broken peer cannot make it allocate without limit.
const SpeculosMaxResponse = 1 << 16

// URI form: tcp://HOST:PORT[?model=<slug>], e.g. tcp://127.0.0.1:9999 or
// tcp://127.0.0.1:9999?model=nanox. The Speculos protocol cannot tell the
// model, so the URI may name it for prompts.

// DialSpeculos connects to a Speculos-style APDU server, e.g.
// "127.0.0.1:9999". A refused connection wraps ErrDeviceNotFound.
func DialSpeculos(ctx context.Context, addr string) (Transport, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("transport: dial %s: %w", addr, ctx.Err())
		}
		return nil, fmt.Errorf("transport: dial %s: %v: %w", addr, err, ErrDeviceNotFound)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	return &speculos{conn: conn}, nil
}

func dialSpeculosURI(ctx context.Context, u *url.URL) (Transport, error) {
	if u.Host == "" || u.Port() == "" {
		return nil, fmt.Errorf("transport: %q needs host and port, e.g. tcp://127.0.0.1:9999", u.Redacted())
	}
	if u.Path != "" && u.Path != "/" {
		return nil, fmt.Errorf("transport: %q: unexpected path %q", u.Redacted(), u.Path)
	}
	info := DeviceInfo{Vendor: "Ledger", Transport: "tcp", URI: u.String()}
	for k := range u.Query() {
		if k != "model" {
			return nil, fmt.Errorf("transport: %q: unknown parameter %q (known: model)", u.Redacted(), k)
		}
	}
	if slug := u.Query().Get("model"); slug != "" {
		m, ok := LedgerModelBySlug(slug)
		if !ok {
			return nil, fmt.Errorf("transport: %q: unknown Ledger model %q", u.Redacted(), slug)
		}
		info.Model = m.Name
	}
	t, err := DialSpeculos(ctx, u.Host)
	if err != nil {
		return nil, err
	}
	t.(*speculos).info = info
	return t, nil
}

func init() { Register("tcp", dialSpeculosURI) }

type speculos struct {
	mu     sync.Mutex
	conn   net.Conn
	broken error
	info   DeviceInfo
}

// Describe reports the emulator this transport reaches; the model is the one
// named by the URI's model parameter (the protocol cannot tell).
func (s *speculos) Describe() DeviceInfo { return s.info }

// Exchange sends one APDU and returns response data followed by the status
// word. Cancellation makes the transport unusable (ErrClosed).
func (s *speculos) Exchange(ctx context.Context, apdu []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broken != nil {
		return nil, fmt.Errorf("transport: speculos: %w", s.broken)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("transport: speculos: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { _ = s.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	fail := func(op string, err error) ([]byte, error) {
		s.broken = ErrClosed
		if ctx.Err() != nil {
			return nil, fmt.Errorf("transport: speculos: %w", ctx.Err())
		}
		if errors.Is(err, ErrFraming) {
			return nil, err
		}
		return nil, fmt.Errorf("transport: speculos %s: %v: %w", op, err, ErrDisconnected)
	}
	msg := make([]byte, 4+len(apdu))
	binary.BigEndian.PutUint32(msg, uint32(len(apdu)))
	copy(msg[4:], apdu)
	if _, err := s.conn.Write(msg); err != nil {
		return fail("write", err)
	}
	var hdr [4]byte
	if _, err := io.ReadFull(s.conn, hdr[:]); err != nil {
		return fail("read", err)
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > SpeculosMaxResponse {
		return fail("read", fmt.Errorf("transport: speculos response of %d bytes: %w", n, ErrFraming))
	}
	resp := make([]byte, int(n)+2)
	if _, err := io.ReadFull(s.conn, resp); err != nil {
		return fail("read", err)
	}
	return resp, nil
}

func (s *speculos) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.broken = ErrClosed
	return s.conn.Close()
}
