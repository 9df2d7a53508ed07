package trezor

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mm-wallet/mm/signers/transport"
)

// Bridge is a test server for the Trezor Bridge HTTP API (trezord), serving
// emulators it reaches over UDP the way `trezord -e 21324` does, so the
// Bridge transport is exercised end to end:
//
//	POST /                               {"version": …}
//	POST /enumerate                      [{"path","vendor","product","session","debug","debugSession"}]
//	POST /acquire/{path}/{previous}      {"session": …}; previous must be the device's current session ("null": none)
//	POST /release/{session}              {}
//	POST /call/{session}                 body and reply: hex of type ‖ length ‖ protobuf
//	POST /post/{session}                 write only (how a host sends Cancel during a call)
//	POST /read/{session}                 read only
//
// Like trezord it answers only requests whose Origin is on trezor.io or a
// localhost development port, and reports errors as HTTP 400 with
// {"error": "…"}.
type Bridge struct {
	mu      sync.Mutex
	devices []*bridgeDevice
	next    int
	srv     *http.Server
}

type bridgeDevice struct {
	path    string
	addr    string
	session string
	conn    *transport.TrezorUDP
}

// BridgeVersion is what the test Bridge reports.
const BridgeVersion = "2.0.33-mm-hwtest"

var bridgeOrigin = regexp.MustCompile(`^(https://([[:alnum:]\-_]+\.)*trezor\.io|https?://localhost:[58][[:digit:]]{3})$`)

// NewBridge returns a Bridge serving the emulators at the given UDP
// addresses; their Bridge paths are "1", "2", …
func NewBridge(emulatorAddrs ...string) *Bridge {
	b := &Bridge{}
	for i, a := range emulatorAddrs {
		b.devices = append(b.devices, &bridgeDevice{path: strconv.Itoa(i + 1), addr: a})
	}
	return b
}

// Listen serves the Bridge on addr ("127.0.0.1:0" picks a port) and
// returns the bound address.
func (b *Bridge) Listen(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("trezor bridge: listen %s: %w", addr, err)
	}
	b.mu.Lock()
	b.srv = &http.Server{Handler: b.Handler(), ReadHeaderTimeout: 10 * time.Second}
	srv := b.srv
	b.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
	return ln.Addr().String(), nil
}

// Close stops the server and drops the emulator connections.
func (b *Bridge) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, d := range b.devices {
		if d.conn != nil {
			d.conn.Close()
			d.conn = nil
		}
	}
	if b.srv != nil {
		return b.srv.Close()
	}
	return nil
}

type bridgeError struct{ msg string }

// Error implements error.
func (e bridgeError) Error() string { return e.msg }

// Handler returns the Bridge API.
func (b *Bridge) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{$}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]string{"version": BridgeVersion})
	})
	mux.HandleFunc("POST /enumerate", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, b.enumerate())
	})
	mux.HandleFunc("POST /acquire/{path}/{previous}", func(w http.ResponseWriter, r *http.Request) {
		s, err := b.acquire(r.PathValue("path"), r.PathValue("previous"))
		if err != nil {
			writeErr(w, err)
			return
		}
		writeJSON(w, map[string]string{"session": s})
	})
	mux.HandleFunc("POST /release/{session}", func(w http.ResponseWriter, r *http.Request) {
		if err := b.release(r.PathValue("session")); err != nil {
			writeErr(w, err)
			return
		}
		writeJSON(w, map[string]string{})
	})
	for _, mode := range []string{"call", "post", "read"} {
		mode := mode
		mux.HandleFunc("POST /"+mode+"/{session}", func(w http.ResponseWriter, r *http.Request) {
			b.call(w, r, mode)
		})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if !bridgeOrigin.MatchString(origin) {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		w.Header().Set("Access-Control-Allow-Origin", origin)
		mux.ServeHTTP(w, r)
	})
}

type enumerated struct {
	Path         string  `json:"path"`
	Vendor       int     `json:"vendor"`
	Product      int     `json:"product"`
	Debug        bool    `json:"debug"`
	Session      *string `json:"session"`
	DebugSession *string `json:"debugSession"`
}

func (b *Bridge) enumerate() []enumerated {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := []enumerated{}
	for _, d := range b.devices {
		e := enumerated{Path: d.path, Vendor: int(transport.TrezorWebUSBVendorID), Product: int(transport.TrezorWebUSBProductID)}
		if d.session != "" {
			s := d.session
			e.Session = &s
		}
		out = append(out, e)
	}
	return out
}

func (b *Bridge) acquire(path, previous string) (string, error) {
	if previous == "null" {
		previous = ""
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, d := range b.devices {
		if d.path != path {
			continue
		}
		if d.session != previous {
			return "", bridgeError{"wrong previous session"}
		}
		b.next++
		d.session = strconv.Itoa(b.next)
		return d.session, nil
	}
	return "", bridgeError{"device not found"}
}

func (b *Bridge) release(session string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, d := range b.devices {
		if d.session == session && session != "" {
			d.session = ""
			return nil
		}
	}
	return bridgeError{"session not found"}
}

// device returns the device holding session, connected.
func (b *Bridge) device(ctx context.Context, session string) (*transport.TrezorUDP, error) {
	b.mu.Lock()
	var dev *bridgeDevice
	for _, d := range b.devices {
		if d.session == session && session != "" {
			dev = d
		}
	}
	if dev == nil {
		b.mu.Unlock()
		return nil, bridgeError{"session not found"}
	}
	conn := dev.conn
	b.mu.Unlock()
	if conn != nil {
		return conn, nil
	}
	c, err := transport.DialTrezorUDP(ctx, dev.addr)
	if err != nil {
		return nil, bridgeError{"device not found"}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if dev.conn != nil {
		c.Close()
		return dev.conn, nil
	}
	dev.conn = c
	return c, nil
}

func (b *Bridge) call(w http.ResponseWriter, r *http.Request, mode string) {
	conn, err := b.device(r.Context(), r.PathValue("session"))
	if err != nil {
		writeErr(w, err)
		return
	}
	if mode != "read" {
		body, err := io.ReadAll(io.LimitReader(r.Body, 4*transport.TrezorMaxPayload))
		if err != nil {
			writeErr(w, err)
			return
		}
		frame, err := hex.DecodeString(strings.TrimSpace(string(body)))
		if err != nil {
			writeErr(w, bridgeError{"encoding/hex: invalid byte"})
			return
		}
		if err := conn.WriteFrame(r.Context(), frame); err != nil {
			writeErr(w, bridgeError{"device disconnected during action"})
			return
		}
	}
	if mode == "post" {
		return
	}
	reply, err := conn.ReadFrame(r.Context())
	if err != nil {
		if errors.Is(err, context.Canceled) {
			writeErr(w, bridgeError{"closed"})
			return
		}
		writeErr(w, bridgeError{"device disconnected during action"})
		return
	}
	_, _ = io.WriteString(w, hex.EncodeToString(reply))
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
}
