package transport

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"testing"
)

type trezorWireFile struct {
	Wire struct {
		Initialize  []string `json:"Initialize_type0_empty"`
		GetFeatures []string `json:"GetFeatures_type55_empty"`
		ButtonAck   []string `json:"ButtonAck_type27_empty"`
		GetAddress  struct {
			Protobuf string   `json:"protobuf_hex"`
			Packets  []string `json:"packets"`
		} `json:"EthereumGetAddress_type56_m44h_60h_0h_0_0"`
		Address struct {
			Protobuf string   `json:"protobuf_hex"`
			Packets  []string `json:"packets"`
		} `json:"EthereumAddress_type57_response_all_all_seed"`
		Liveness struct {
			Send   string `json:"send"`
			Expect string `json:"expect"`
		} `json:"udp_liveness"`
	} `json:"wire_examples"`
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// TestTrezorWireExamples reproduces the recorded codec v1 packets byte for
// byte, and reassembles them back into the same frames.
func TestTrezorWireExamples(t *testing.T) {
	raw, err := os.ReadFile("testdata/trezor-wire.json")
	if err != nil {
		t.Fatal(err)
	}
	var f trezorWireFile
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	w := f.Wire
	cases := []struct {
		name    string
		typ     uint16
		payload []byte
		packets []string
	}{
		{"Initialize", 0, nil, w.Initialize},
		{"GetFeatures", 55, nil, w.GetFeatures},
		{"ButtonAck", 27, nil, w.ButtonAck},
		{"EthereumGetAddress", 56, mustHex(t, w.GetAddress.Protobuf), w.GetAddress.Packets},
		{"EthereumAddress", 57, mustHex(t, w.Address.Protobuf), w.Address.Packets},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if len(c.packets) == 0 {
				t.Fatal("no packets in the vector file")
			}
			frame := TrezorFrame(c.typ, c.payload)
			got, err := TrezorPackets(frame)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.packets) {
				t.Fatalf("%d packets, want %d", len(got), len(c.packets))
			}
			var rd TrezorReader
			for i, p := range got {
				if want := mustHex(t, c.packets[i]); !bytes.Equal(p, want) {
					t.Fatalf("packet %d\n got %x\nwant %x", i, p, want)
				}
				back, err := rd.Add(mustHex(t, c.packets[i]))
				if err != nil {
					t.Fatal(err)
				}
				if i < len(got)-1 && back != nil {
					t.Fatalf("frame complete after packet %d of %d", i, len(got))
				}
				if i == len(got)-1 {
					typ, payload, err := ParseTrezorFrame(back)
					if err != nil || typ != c.typ || !bytes.Equal(payload, c.payload) {
						t.Fatalf("reassembled type %d payload %x (err %v), want %d %x", typ, payload, err, c.typ, c.payload)
					}
				}
			}
		})
	}
	if string(mustHex(t, w.Liveness.Send)) != string(trezorPing) || string(mustHex(t, w.Liveness.Expect)) != string(trezorPong) {
		t.Fatalf("liveness probe differs from the vector file")
	}
}

// TestTrezorPacketsRoundTrip covers packet boundaries: 55 bytes fill the
// first packet, every later one holds 63.
func TestTrezorPacketsRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 54, 55, 56, 117, 118, 119, 1024, 4099, 65536} {
		payload := make([]byte, n)
		for i := range payload {
			payload[i] = byte(r.Uint32())
		}
		packets, err := TrezorPackets(TrezorFrame(0x01c4, payload))
		if err != nil {
			t.Fatal(err)
		}
		wantPackets := 1
		if n > 55 {
			wantPackets += (n - 55 + 62) / 63
		}
		if len(packets) != wantPackets {
			t.Fatalf("payload %d: %d packets, want %d", n, len(packets), wantPackets)
		}
		var rd TrezorReader
		var frame []byte
		for _, p := range packets {
			if len(p) != TrezorPacketSize || p[0] != '?' {
				t.Fatalf("payload %d: bad packet %x", n, p)
			}
			if frame, err = rd.Add(p); err != nil {
				t.Fatal(err)
			}
		}
		typ, got, err := ParseTrezorFrame(frame)
		if err != nil || typ != 0x01c4 || !bytes.Equal(got, payload) {
			t.Fatalf("payload %d: round trip failed (type %d, err %v)", n, typ, err)
		}
		if rd.InProgress() {
			t.Fatalf("reader not reset after a complete frame")
		}
	}
}

// TestTrezorBadPackets feeds every rejected sequence in testdata/bad.
func TestTrezorBadPackets(t *testing.T) {
	raw, err := os.ReadFile("testdata/bad/trezor_packets.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []struct {
			Name    string   `json:"name"`
			Packets []string `json:"packets"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) == 0 {
		t.Fatal("no bad cases")
	}
	for _, c := range f.Cases {
		var rd TrezorReader
		var err error
		for i, p := range c.Packets {
			_, err = rd.Add(mustHex(t, p))
			if i < len(c.Packets)-1 && err != nil {
				t.Fatalf("%s: packet %d rejected early: %v", c.Name, i, err)
			}
		}
		if !errors.Is(err, ErrFraming) {
			t.Fatalf("%s: got %v, want ErrFraming", c.Name, err)
		}
		if rd.InProgress() {
			t.Fatalf("%s: reader kept state after an error", c.Name)
		}
	}
}

func TestParseTrezorFrameRejects(t *testing.T) {
	for _, f := range [][]byte{nil, {0, 1, 0, 0}, {0, 1, 0, 0, 0, 2, 9}, {0, 1, 0, 0, 0, 0, 9}} {
		if _, _, err := ParseTrezorFrame(f); !errors.Is(err, ErrFraming) {
			t.Fatalf("ParseTrezorFrame(%x) = %v, want ErrFraming", f, err)
		}
		if _, err := TrezorPackets(f); !errors.Is(err, ErrFraming) {
			t.Fatalf("TrezorPackets(%x) = %v, want ErrFraming", f, err)
		}
	}
}

func FuzzTrezorReader(f *testing.F) {
	f.Add(mustHexF("3f232300380000001608ac8080800808bc8080800808808080800808000800"))
	f.Add([]byte("?##\x00\x01\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var rd TrezorReader
		for len(data) > 0 {
			n := min(len(data), TrezorPacketSize)
			frame, err := rd.Add(data[:n])
			data = data[n:]
			if err == nil && frame != nil {
				if _, _, err := ParseTrezorFrame(frame); err != nil {
					t.Fatalf("reader produced an invalid frame: %v", err)
				}
			}
		}
	})
}

func mustHexF(s string) []byte {
	b, _ := hex.DecodeString(s)
	return b
}
