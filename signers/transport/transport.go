// Package transport moves bytes between a hardware-wallet driver and a
// device: USB HID (karalabe/hid), the Speculos APDU TCP server, the Trezor
// emulator's UDP port and the Trezor Bridge HTTP API. Drivers see only a
// Transport, so an emulator or a real device can stand behind it.
//
// A Transport is picked by URI scheme; see Dial and Register.
package transport

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"sync"
)

// Transport exchanges one request for one reply.
//
// For Ledger transports a request is a command APDU and a reply is the
// response data followed by the 2-byte status word. For Trezor transports a
// request and a reply are one message each, serialized as a 2-byte
// big-endian message type, a 4-byte big-endian length and the protobuf
// payload; the transport adds and removes its own framing.
//
// Exchange must honour ctx: when ctx ends before the reply, Exchange returns
// ctx.Err() (wrapped) and the Transport should be treated as unusable unless
// its documentation says otherwise.
type Transport interface {
	Exchange(ctx context.Context, req []byte) ([]byte, error)
	Close() error
}

// Dialer opens a Transport for a parsed URI.
type Dialer func(ctx context.Context, u *url.URL) (Transport, error)

var (
	mu      sync.RWMutex
	dialers = map[string]Dialer{}
)

// Register makes a Dialer available for a URI scheme. It panics if the
// scheme is registered twice.
func Register(scheme string, d Dialer) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := dialers[scheme]; dup {
		panic("transport: scheme registered twice: " + scheme)
	}
	dialers[scheme] = d
}

// Schemes lists the registered URI schemes, sorted.
func Schemes() []string {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]string, 0, len(dialers))
	for s := range dialers {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Dial opens the Transport named by uri, e.g. "tcp://127.0.0.1:9999".
func Dial(ctx context.Context, uri string) (Transport, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return nil, fmt.Errorf("transport: bad device URI %q: %w", uri, err)
	}
	mu.RLock()
	d, ok := dialers[u.Scheme]
	mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("transport: unknown scheme %q in %q (known: %v)", u.Scheme, uri, Schemes())
	}
	return d(ctx, u)
}
