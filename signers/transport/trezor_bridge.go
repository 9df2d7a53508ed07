package transport

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// The Trezor Bridge (trezord) HTTP API, which is how current Trezor models
// on WebUSB are reached on every OS: POST /enumerate, /acquire/PATH/PREV,
// /call/SESSION, /post/SESSION, /read/SESSION, /release/SESSION; call
// bodies are the hex of a Trezor frame (type ‖ length ‖ protobuf).
//
// URI: bridge://HOST:PORT[/DEVICE-PATH], e.g. bridge://127.0.0.1:21325 (the
// first device the Bridge lists) or bridge://127.0.0.1:21325/1 (the device
// whose Bridge path is "1"). HOST:PORT defaults to 127.0.0.1:21325.
const (
	// TrezorBridgeScheme is the URI scheme of the Bridge transport.
	TrezorBridgeScheme = "bridge"
	// TrezorBridgeDefaultAddr is where Trezor Bridge listens.
	TrezorBridgeDefaultAddr = "127.0.0.1:21325"
	// TrezorBridgeOrigin is the Origin header sent to the Bridge. The
	// Bridge serves only origins on trezor.io (and localhost development
	// ports); non-browser hosts such as trezorlib identify with this one.
	TrezorBridgeOrigin = "https://python.trezor.io"

	bridgeMaxBody = 4 * TrezorMaxPayload // hex doubles the size; leave room
)

func init() {
	Register(TrezorBridgeScheme, func(ctx context.Context, u *url.URL) (Transport, error) {
		addr, path, err := ParseTrezorBridgeURI(u)
		if err != nil {
			return nil, err
		}
		return DialTrezorBridge(ctx, addr, path)
	})
}

// ParseTrezorBridgeURI splits a bridge:// URI into the Bridge's address and
// the device path ("" for the first device).
func ParseTrezorBridgeURI(u *url.URL) (addr, devicePath string, err error) {
	if u.Scheme != TrezorBridgeScheme || u.Opaque != "" || u.RawQuery != "" || u.User != nil {
		return "", "", fmt.Errorf("transport: bad Trezor Bridge URI %q: want bridge://HOST:PORT[/DEVICE-PATH]", u.Redacted())
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		host = "127.0.0.1"
	}
	if port == "" {
		port = "21325"
	}
	p := strings.TrimPrefix(u.Path, "/")
	if strings.Contains(p, "/") {
		return "", "", fmt.Errorf("transport: bad Trezor Bridge URI %q: the device path has no '/'", u.Redacted())
	}
	return net.JoinHostPort(host, port), p, nil
}

// TrezorBridgeURI returns the URI naming device path on the Bridge at addr.
func TrezorBridgeURI(addr, devicePath string) string {
	u := url.URL{Scheme: TrezorBridgeScheme, Host: addr}
	if devicePath != "" {
		u.Path = "/" + devicePath
	}
	return u.String()
}

// TrezorBridgeDevice is one device the Bridge lists.
type TrezorBridgeDevice struct {
	Path    string  `json:"path"`
	Vendor  int     `json:"vendor"`
	Product int     `json:"product"`
	Session *string `json:"session"`
	// URI names the device for Dial.
	URI string `json:"-"`
}

// TrezorBridgeClient talks to a Trezor Bridge. It holds no session.
type TrezorBridgeClient struct {
	base   string
	addr   string
	client *http.Client
}

// NewTrezorBridgeClient returns a client for the Bridge at addr
// ("127.0.0.1:21325").
func NewTrezorBridgeClient(addr string) *TrezorBridgeClient {
	return &TrezorBridgeClient{
		base:   "http://" + addr,
		addr:   addr,
		client: &http.Client{Transport: &http.Transport{Proxy: nil, DisableCompression: true}},
	}
}

// Version returns the Bridge's version (POST /).
func (c *TrezorBridgeClient) Version(ctx context.Context) (string, error) {
	var info struct {
		Version string `json:"version"`
	}
	if err := c.postJSON(ctx, "/", &info); err != nil {
		return "", err
	}
	return info.Version, nil
}

// Enumerate lists the devices the Bridge sees.
func (c *TrezorBridgeClient) Enumerate(ctx context.Context) ([]TrezorBridgeDevice, error) {
	var devs []TrezorBridgeDevice
	if err := c.postJSON(ctx, "/enumerate", &devs); err != nil {
		return nil, err
	}
	for i := range devs {
		devs[i].URI = TrezorBridgeURI(c.addr, devs[i].Path)
	}
	return devs, nil
}

// Acquire opens a session on the device at devicePath, taking it over from
// previous (the device's current session, "" when none).
func (c *TrezorBridgeClient) Acquire(ctx context.Context, devicePath, previous string) (string, error) {
	if previous == "" {
		previous = "null"
	}
	var res struct {
		Session string `json:"session"`
	}
	if err := c.postJSON(ctx, "/acquire/"+url.PathEscape(devicePath)+"/"+url.PathEscape(previous), &res); err != nil {
		return "", err
	}
	if res.Session == "" {
		return "", fmt.Errorf("transport: trezor bridge %s: acquire returned no session", c.addr)
	}
	return res.Session, nil
}

// Release ends a session.
func (c *TrezorBridgeClient) Release(ctx context.Context, session string) error {
	return c.postJSON(ctx, "/release/"+url.PathEscape(session), nil)
}

// Call writes frame on session and returns the reply frame.
func (c *TrezorBridgeClient) Call(ctx context.Context, session string, frame []byte) ([]byte, error) {
	return c.frameCall(ctx, "/call/", session, frame)
}

// Post writes frame on session without reading a reply.
func (c *TrezorBridgeClient) Post(ctx context.Context, session string, frame []byte) error {
	_, err := c.frameCall(ctx, "/post/", session, frame)
	return err
}

// Read reads the next frame on session.
func (c *TrezorBridgeClient) Read(ctx context.Context, session string) ([]byte, error) {
	return c.frameCall(ctx, "/read/", session, nil)
}

func (c *TrezorBridgeClient) frameCall(ctx context.Context, op, session string, frame []byte) ([]byte, error) {
	var body io.Reader
	if frame != nil {
		if _, _, err := ParseTrezorFrame(frame); err != nil {
			return nil, err
		}
		body = strings.NewReader(hex.EncodeToString(frame))
	}
	raw, err := c.post(ctx, op+url.PathEscape(session), body)
	if err != nil {
		return nil, err
	}
	if op == "/post/" {
		return nil, nil
	}
	out, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil {
		return nil, fmt.Errorf("%w: bridge reply is not hex", ErrFraming)
	}
	if _, _, err := ParseTrezorFrame(out); err != nil {
		return nil, err
	}
	return out, nil
}

func (c *TrezorBridgeClient) postJSON(ctx context.Context, path string, out any) error {
	raw, err := c.post(ctx, path, nil)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("transport: trezor bridge %s%s: bad reply: %w", c.addr, path, err)
	}
	return nil
}

// post performs one Bridge request and maps its failures: a refused
// connection is ErrDeviceNotFound; Bridge errors about sessions are
// ErrDeviceBusy; about a vanished device, ErrDisconnected.
func (c *TrezorBridgeClient) post(ctx context.Context, path string, body io.Reader) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, body)
	if err != nil {
		return nil, fmt.Errorf("transport: trezor bridge %s: %w", c.addr, err)
	}
	req.Header.Set("Origin", TrezorBridgeOrigin)
	if body != nil {
		req.Header.Set("Content-Type", "text/plain")
	}
	resp, err := c.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("transport: trezor bridge %s: %w", c.addr, ctx.Err())
		}
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Op == "dial" {
			return nil, fmt.Errorf("%w: no Trezor Bridge at %s", ErrDeviceNotFound, c.addr)
		}
		return nil, fmt.Errorf("%w: trezor bridge %s: %v", ErrDisconnected, c.addr, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, bridgeMaxBody+1))
	if err != nil {
		return nil, fmt.Errorf("%w: trezor bridge %s: %v", ErrDisconnected, c.addr, err)
	}
	if len(raw) > bridgeMaxBody {
		return nil, fmt.Errorf("%w: trezor bridge reply larger than %d bytes", ErrFraming, bridgeMaxBody)
	}
	if resp.StatusCode == http.StatusOK {
		return raw, nil
	}
	var e struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(raw, &e)
	msg := e.Error
	if msg == "" {
		msg = resp.Status
	}
	low := strings.ToLower(msg)
	switch {
	case strings.Contains(low, "session"):
		return nil, fmt.Errorf("%w: trezor bridge %s: %s", ErrDeviceBusy, c.addr, msg)
	case strings.Contains(low, "device not found"), strings.Contains(low, "disconnected"), strings.Contains(low, "closed"):
		return nil, fmt.Errorf("%w: trezor bridge %s: %s", ErrDisconnected, c.addr, msg)
	case resp.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("transport: trezor bridge %s refused the request (403): %s", c.addr, msg)
	}
	return nil, fmt.Errorf("transport: trezor bridge %s%s: %s", c.addr, path, msg)
}

// TrezorBridge is a Transport to one device through Trezor Bridge. It
// holds a Bridge session from Dial until Close.
//
// When the context of Exchange ends before the reply, Exchange posts Cancel
// on the session, waits briefly for the device's Failure, and returns the
// context's error; the TrezorBridge stays usable.
type TrezorBridge struct {
	c       *TrezorBridgeClient
	path    string
	session string
	mu      sync.Mutex
}

var _ Transport = (*TrezorBridge)(nil)

// DialTrezorBridge acquires the device at devicePath on the Bridge at addr
// ("" picks the first device listed).
func DialTrezorBridge(ctx context.Context, addr, devicePath string) (*TrezorBridge, error) {
	c := NewTrezorBridgeClient(addr)
	devs, err := c.Enumerate(ctx)
	if err != nil {
		return nil, err
	}
	var dev *TrezorBridgeDevice
	for i := range devs {
		if devicePath == "" || devs[i].Path == devicePath {
			dev = &devs[i]
			break
		}
	}
	if dev == nil {
		if devicePath == "" {
			return nil, fmt.Errorf("%w: Trezor Bridge at %s lists no device", ErrDeviceNotFound, addr)
		}
		return nil, fmt.Errorf("%w: Trezor Bridge at %s has no device %q", ErrDeviceNotFound, addr, devicePath)
	}
	prev := ""
	if dev.Session != nil {
		prev = *dev.Session
	}
	session, err := c.Acquire(ctx, dev.Path, prev)
	if err != nil {
		return nil, err
	}
	return &TrezorBridge{c: c, path: dev.Path, session: session}, nil
}

// URI returns the URI of the acquired device.
func (t *TrezorBridge) URI() string { return TrezorBridgeURI(t.c.addr, t.path) }

// Exchange sends one frame and returns the reply frame.
func (t *TrezorBridge) Exchange(ctx context.Context, req []byte) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("transport: trezor bridge: %w", err)
	}
	type result struct {
		frame []byte
		err   error
	}
	// The call runs on its own context so that, when ctx ends, the device
	// can still be told to Cancel and its Failure collected on the same
	// HTTP call.
	callCtx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan result, 1)
	go func() {
		f, err := t.c.Call(callCtx, t.session, req)
		if errors.Is(err, ErrDeviceBusy) {
			// Another program took the device over (the Bridge hands it
			// to whoever acquires it last) and the Bridge refused the
			// call before it reached the device: take it back and retry.
			if err = t.reacquire(callCtx); err == nil {
				f, err = t.c.Call(callCtx, t.session, req)
			}
		}
		done <- result{f, err}
	}()
	select {
	case r := <-done:
		return r.frame, r.err
	case <-ctx.Done():
	}
	pctx, cancel := context.WithTimeout(context.Background(), trezorCancelWait)
	defer cancel()
	if t.c.Post(pctx, t.session, TrezorCancelFrame()) == nil {
		select {
		case <-done:
		case <-time.After(trezorCancelWait):
		}
	}
	return nil, fmt.Errorf("transport: trezor bridge: %w", ctx.Err())
}

// reacquire opens a new session on the device, taking it from whoever
// holds it now.
func (t *TrezorBridge) reacquire(ctx context.Context) error {
	devs, err := t.c.Enumerate(ctx)
	if err != nil {
		return err
	}
	for _, d := range devs {
		if d.Path != t.path {
			continue
		}
		prev := ""
		if d.Session != nil {
			prev = *d.Session
		}
		session, err := t.c.Acquire(ctx, d.Path, prev)
		if err != nil {
			return err
		}
		t.session = session
		return nil
	}
	return fmt.Errorf("%w: Trezor Bridge at %s no longer lists device %q", ErrDisconnected, t.c.addr, t.path)
}

// Close releases the Bridge session.
func (t *TrezorBridge) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return t.c.Release(ctx, t.session)
}

// EnumerateTrezorBridge lists the devices of the Bridge at addr; a Bridge
// that is not running yields an error wrapping ErrDeviceNotFound.
func EnumerateTrezorBridge(ctx context.Context, addr string) ([]TrezorBridgeDevice, error) {
	return NewTrezorBridgeClient(addr).Enumerate(ctx)
}
