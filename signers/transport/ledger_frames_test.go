package transport

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

type ledgerVector struct {
	Name     string   `json:"name"`
	APDU     string   `json:"apdu"`
	Response string   `json:"response"`
	FramesRq []string `json:"hid_frames_request"`
	FramesRs []string `json:"hid_frames_response"`
}

func ledgerVectors(t *testing.T) []ledgerVector {
	t.Helper()
	b, err := os.ReadFile("testdata/ledger-speculos.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Computed []ledgerVector `json:"computed_speculos_seed"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f.Computed
}

func ledgerHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLedgerFramesVector checks the codec against the recorded HID frames
// of a GET ADDRESS exchange, in both directions.
func TestLedgerFramesVector(t *testing.T) {
	var checked int
	for _, v := range ledgerVectors(t) {
		if len(v.FramesRq) == 0 {
			continue
		}
		checked++
		for _, dir := range []struct {
			msg    string
			frames []string
		}{{v.APDU, v.FramesRq}, {v.Response, v.FramesRs}} {
			msg := ledgerHex(t, dir.msg)
			got, err := EncodeLedgerFrames(LedgerChannel, msg)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(dir.frames) {
				t.Fatalf("%s: %d frames, want %d", v.Name, len(got), len(dir.frames))
			}
			dec := LedgerFrameDecoder{Channel: LedgerChannel}
			for i, f := range dir.frames {
				want := ledgerHex(t, f)
				if !bytes.Equal(got[i], want) {
					t.Errorf("%s frame %d:\n got %x\nwant %x", v.Name, i, got[i], want)
				}
				out, done, err := dec.Feed(want)
				if err != nil {
					t.Fatal(err)
				}
				if done != (i == len(dir.frames)-1) {
					t.Fatalf("%s: done=%v after frame %d", v.Name, done, i)
				}
				if done && !bytes.Equal(out, msg) {
					t.Fatalf("%s: decoded %x, want %x", v.Name, out, msg)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no vector with HID frames")
	}
}

// TestLedgerFramesRoundTrip covers the sizes around packet boundaries (57
// bytes in the first report, 59 in later ones).
func TestLedgerFramesRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 56, 57, 58, 115, 116, 117, 255, 260, 4096, LedgerMaxMessage} {
		msg := make([]byte, n)
		for i := range msg {
			msg[i] = byte(i*7 + 1)
		}
		frames, err := EncodeLedgerFrames(0x0101, msg)
		if err != nil {
			t.Fatal(err)
		}
		wantFrames := 1
		if n > 57 {
			wantFrames += (n - 57 + 58) / 59
		}
		if len(frames) != wantFrames {
			t.Errorf("%d bytes: %d frames, want %d", n, len(frames), wantFrames)
		}
		dec := LedgerFrameDecoder{Channel: 0x0101}
		var out []byte
		for i, f := range frames {
			if len(f) != LedgerReportSize {
				t.Fatalf("frame of %d bytes", len(f))
			}
			var done bool
			if out, done, err = dec.Feed(f); err != nil {
				t.Fatal(err)
			}
			if done != (i == len(frames)-1) {
				t.Fatalf("%d bytes: done=%v at frame %d/%d", n, done, i, len(frames))
			}
		}
		if !bytes.Equal(out, msg) {
			t.Fatalf("%d bytes: round trip mismatch", n)
		}
	}
	if _, err := EncodeLedgerFrames(LedgerChannel, make([]byte, LedgerMaxMessage+1)); err == nil {
		t.Fatal("oversized message accepted")
	}
}

// TestLedgerFramesBad feeds broken reports: each must be refused with
// ErrFraming, never a panic.
func TestLedgerFramesBad(t *testing.T) {
	good, _ := EncodeLedgerFrames(LedgerChannel, make([]byte, 100))
	mut := func(f []byte, i int, b byte) []byte {
		c := append([]byte(nil), f...)
		c[i] = b
		return c
	}
	cases := map[string][][]byte{
		"short report":        {good[0][:4]},
		"first without len":   {good[0][:6]},
		"wrong channel":       {mut(good[0], 0, 0x02)},
		"wrong tag":           {mut(good[0], 2, 0x02)},
		"wrong first seq":     {mut(good[0], 4, 0x01)},
		"second out of order": {good[0], mut(good[1], 4, 0x05)},
	}
	for name, frames := range cases {
		dec := LedgerFrameDecoder{Channel: LedgerChannel}
		var err error
		for _, f := range frames {
			if _, _, err = dec.Feed(f); err != nil {
				break
			}
		}
		if !errors.Is(err, ErrFraming) {
			t.Errorf("%s: err = %v, want ErrFraming", name, err)
		}
	}
}

// fakeLedger answers each framed APDU with a fixed reply over a net.Pipe:
// a unit-test fake for the HID transport's own behaviour (the emulator tests
// in hwtest cover a full device).
func fakeLedger(t *testing.T, reply func(apdu []byte) []byte) net.Conn {
	host, dev := net.Pipe()
	go func() {
		defer dev.Close()
		buf := make([]byte, LedgerReportSize)
		for {
			dec := LedgerFrameDecoder{Channel: LedgerChannel}
			var msg []byte
			for {
				if _, err := io.ReadFull(dev, buf); err != nil {
					return
				}
				m, done, err := dec.Feed(buf)
				if err != nil {
					return
				}
				if done {
					msg = m
					break
				}
			}
			r := reply(msg)
			if r == nil {
				return // unplug
			}
			frames, _ := EncodeLedgerFrames(LedgerChannel, r)
			for _, f := range frames {
				if _, err := dev.Write(f); err != nil {
					return
				}
			}
		}
	}()
	t.Cleanup(func() { host.Close() })
	return host
}

func TestLedgerHIDExchange(t *testing.T) {
	long := bytes.Repeat([]byte{0xab}, 300)
	tr := NewLedgerHID(NewStreamReportDevice(fakeLedger(t, func(apdu []byte) []byte {
		if apdu[1] == 0x02 {
			return nil
		}
		return append(append([]byte(nil), long...), 0x90, 0x00)
	}), LedgerReportSize))
	got, err := tr.Exchange(context.Background(), []byte{0xe0, 0x06, 0, 0, 0})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, append(long, 0x90, 0x00)) {
		t.Fatalf("reply %x", got)
	}
	// The fake unplugs on INS 02: DEVICE_DISCONNECTED, and the transport stays broken.
	if _, err := tr.Exchange(context.Background(), []byte{0xe0, 0x02, 0, 0, 0}); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("unplugged: %v, want ErrDisconnected", err)
	}
	if _, err := tr.Exchange(context.Background(), []byte{0xe0, 0x06, 0, 0, 0}); !errors.Is(err, ErrClosed) {
		t.Fatalf("after failure: %v, want ErrClosed", err)
	}
}

func TestLedgerHIDCancel(t *testing.T) {
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	tr := NewLedgerHID(NewStreamReportDevice(fakeLedger(t, func([]byte) []byte { <-block; return nil }), LedgerReportSize))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := tr.Exchange(ctx, []byte{0xe0, 0x06, 0, 0, 0})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's", err)
	}
	if _, err := tr.Exchange(context.Background(), []byte{0xe0, 0x06, 0, 0, 0}); !errors.Is(err, ErrClosed) {
		t.Fatalf("after cancel: %v, want ErrClosed", err)
	}
}

// speculosPeer runs handler on one accepted connection.
func speculosPeer(t *testing.T, handler func(c net.Conn)) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		handler(c)
	}()
	return l.Addr().String()
}

func TestSpeculosExchange(t *testing.T) {
	addr := speculosPeer(t, func(c net.Conn) {
		var hdr [4]byte
		for {
			if _, err := io.ReadFull(c, hdr[:]); err != nil {
				return
			}
			apdu := make([]byte, binary.BigEndian.Uint32(hdr[:]))
			if _, err := io.ReadFull(c, apdu); err != nil {
				return
			}
			switch apdu[1] {
			case 0x06: // data + SW, length excludes the SW
				c.Write([]byte{0, 0, 0, 4, 1, 1, 9, 0, 0x90, 0x00})
			case 0x08: // error only
				c.Write([]byte{0, 0, 0, 0, 0x69, 0x85})
			default: // absurd length: the client must refuse it
				c.Write([]byte{0xff, 0xff, 0xff, 0xff})
			}
		}
	})
	tr, err := Dial(context.Background(), "tcp://"+addr+"?model=nanox")
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if m := tr.(Describer).Describe().Model; m != "Nano X" {
		t.Errorf("model %q, want Nano X", m)
	}
	got, err := tr.Exchange(context.Background(), []byte{0xe0, 0x06, 0, 0, 0})
	if err != nil || !bytes.Equal(got, []byte{1, 1, 9, 0, 0x90, 0x00}) {
		t.Fatalf("config: %x, %v", got, err)
	}
	got, err = tr.Exchange(context.Background(), []byte{0xe0, 0x08, 0, 0, 0})
	if err != nil || !bytes.Equal(got, []byte{0x69, 0x85}) {
		t.Fatalf("reject: %x, %v", got, err)
	}
	if _, err := tr.Exchange(context.Background(), []byte{0xe0, 0x02, 0, 0, 0}); !errors.Is(err, ErrFraming) {
		t.Fatalf("absurd length: %v, want ErrFraming", err)
	}
}

func TestSpeculosDialErrors(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there any more
	ctx := context.Background()
	if _, err := Dial(ctx, "tcp://"+addr); !errors.Is(err, ErrDeviceNotFound) {
		t.Errorf("closed port: %v, want ErrDeviceNotFound", err)
	}
	for _, uri := range []string{"tcp://127.0.0.1", "tcp://127.0.0.1:9/x", "tcp://127.0.0.1:9?model=nanoz", "tcp://127.0.0.1:9?pin=1234", "hid://nobody", "hid://ledger/nanoz", "nope://x"} {
		if _, err := Dial(ctx, uri); err == nil || errors.Is(err, ErrDeviceNotFound) {
			t.Errorf("%s: err = %v, want a URI error", uri, err)
		}
	}
}

func TestSpeculosDisconnect(t *testing.T) {
	addr := speculosPeer(t, func(c net.Conn) {
		var hdr [4]byte
		io.ReadFull(c, hdr[:])
		// hang up without answering
	})
	tr, err := Dial(context.Background(), "tcp://"+addr)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if _, err := tr.Exchange(context.Background(), []byte{0xe0, 0x06, 0, 0, 0}); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("err = %v, want ErrDisconnected", err)
	}
}

func TestLedgerModelByPID(t *testing.T) {
	for pid, want := range map[uint16]string{0x0001: "nanos", 0x4011: "nanox", 0x5011: "nanosp", 0x5015: "nanosp", 0x0006: "stax", 0x7015: "flex", 0x8011: "apex", 0x0004: "nanox"} {
		m, ok := LedgerModelByPID(pid)
		if !ok || m.Slug != want {
			t.Errorf("pid %#04x: %q %v, want %q", pid, m.Slug, ok, want)
		}
	}
	if _, ok := LedgerModelByPID(0x9911); ok {
		t.Error("unknown pid accepted")
	}
}
