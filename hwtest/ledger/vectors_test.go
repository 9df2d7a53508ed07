package ledger

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/mm-wallet/mm/signers/transport"
)

type vectorFile struct {
	Computed []struct {
		Name     string   `json:"name"`
		APDU     string   `json:"apdu"`
		APDUs    []string `json:"apdus"`
		Response string   `json:"response"`
	} `json:"computed_speculos_seed"`
	Recorded []struct {
		Name     string      `json:"name"`
		Exchange [][2]string `json:"exchange"`
		Seed     string      `json:"seed"`
	} `json:"recorded_hw_app_eth"`
}

func loadVectors(t *testing.T) vectorFile {
	t.Helper()
	b, err := os.ReadFile("testdata/ledger-speculos.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectorFile
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// exchange is one APDU and the exact reply expected for it.
type exchange struct{ apdu, reply []byte }

// speculosSeedExchanges gathers every exchange of the vector file made with
// the Speculos seed: all computed ones and the recorded ones whose seed
// note says so.
func speculosSeedExchanges(t *testing.T) map[string][]exchange {
	v := loadVectors(t)
	out := map[string][]exchange{}
	for _, c := range v.Computed {
		apdus := c.APDUs
		if c.APDU != "" {
			apdus = []string{c.APDU}
		}
		var ex []exchange
		for i, a := range apdus {
			reply := "9000"
			if i == len(apdus)-1 {
				reply = c.Response
			}
			ex = append(ex, exchange{unhex(t, a), unhex(t, reply)})
		}
		out["computed/"+c.Name] = ex
	}
	n := 0
	for _, r := range v.Recorded {
		if !strings.HasPrefix(r.Seed, "Speculos default seed") {
			continue
		}
		n++
		var ex []exchange
		for _, e := range r.Exchange {
			ex = append(ex, exchange{unhex(t, e[0]), unhex(t, e[1])})
		}
		out["recorded/"+r.Name] = ex
	}
	if len(v.Computed) < 7 || n < 2 {
		t.Fatalf("vector file lost cases: %d computed, %d recorded with the Speculos seed", len(v.Computed), n)
	}
	return out
}

// TestVectorsOverTCP replays every Speculos-seed exchange over the Speculos
// TCP protocol and demands the recorded reply byte for byte.
func TestVectorsOverTCP(t *testing.T) {
	t.Parallel()
	emu := newTestEmulator(t, Options{})
	addr, err := emu.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for name, exs := range speculosSeedExchanges(t) {
		tr, err := transport.Dial(ctx, "tcp://"+addr)
		if err != nil {
			t.Fatal(err)
		}
		for i, ex := range exs {
			got, err := tr.Exchange(ctx, ex.apdu)
			if err != nil {
				t.Fatalf("%s #%d: %v", name, i, err)
			}
			if !bytes.Equal(got, ex.reply) {
				t.Errorf("%s #%d:\n got %x\nwant %x", name, i, got, ex.reply)
			}
		}
		tr.Close()
	}
}

// TestVectorsOverHID replays the same exchanges through the 64-byte HID
// framing on an in-memory stream.
func TestVectorsOverHID(t *testing.T) {
	t.Parallel()
	emu := newTestEmulator(t, Options{})
	ctx := context.Background()
	tr, err := transport.Dial(ctx, emu.HIDURI())
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	for name, exs := range speculosSeedExchanges(t) {
		for i, ex := range exs {
			got, err := tr.Exchange(ctx, ex.apdu)
			if err != nil {
				t.Fatalf("%s #%d: %v", name, i, err)
			}
			if !bytes.Equal(got, ex.reply) {
				t.Errorf("%s #%d:\n got %x\nwant %x", name, i, got, ex.reply)
			}
		}
	}
}

// TestEIP712FullModeTranscript feeds the recorded 29-APDU full-mode
// transcript to the emulator. Every intermediate APDU must get 9000, and the
// final signature must equal the one the device gives for the same hashes in
// v0 mode (the computed vector): that proves the emulator rebuilt the typed
// data from the struct APDUs exactly.
func TestEIP712FullModeTranscript(t *testing.T) {
	t.Parallel()
	emu := newTestEmulator(t, Options{})
	f, err := os.Open("testdata/eip712-mail.apdus")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var apdus [][]byte
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), "=> "); ok {
			apdus = append(apdus, unhex(t, line))
		}
	}
	if len(apdus) != 29 {
		t.Fatalf("transcript has %d APDUs, want 29", len(apdus))
	}
	var want []byte
	for _, c := range loadVectors(t).Computed {
		if c.Name == "sign_eip712_v0_hashed_mail" {
			want = unhex(t, c.Response)
		}
	}
	for i, a := range apdus {
		got, err := emu.Exchange(a)
		if err != nil {
			t.Fatal(err)
		}
		if i < len(apdus)-1 {
			if !bytes.Equal(got, []byte{0x90, 0x00}) {
				t.Fatalf("APDU %d (%x): got %x, want 9000", i, a, got)
			}
			continue
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("full-mode signature:\n got %x\nwant %x", got, want)
		}
	}
}

func newTestEmulator(t *testing.T, opts Options) *Emulator {
	t.Helper()
	emu, err := NewEmulator(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	return emu
}
