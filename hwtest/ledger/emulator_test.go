package ledger

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rlp"
)

func apdu(t *testing.T, s string) []byte { return unhex(t, s) }

func swOf(b []byte) uint16 { return uint16(b[len(b)-2])<<8 | uint16(b[len(b)-1]) }

// TestDeviceStates checks the status words each state gives, as app-ethereum
// and the OS send them.
func TestDeviceStates(t *testing.T) {
	e := newTestEmulator(t, Options{})
	getAddr := apdu(t, "e002000015058000002c8000003c800000000000000000000000")
	config := apdu(t, "e006000000")
	appVer := apdu(t, "b001000000")
	payload, err := rlp.EncodeToBytes([]any{uint(0), uint(20e9), uint(21000), common.HexToAddress("0x8eA7a3fccC211ED48b763b4164884DDbcF3b0A98"), uint(0), []byte{0xab, 0xcd}, uint(1), uint(0), uint(0)})
	if err != nil {
		t.Fatal(err)
	}
	legacyWithData := append(apdu(t, "e004000000058000002c8000003c800000000000000000000000"), payload...)
	legacyWithData[4] = byte(len(legacyWithData) - 5)
	eip1559 := apdu(t, "e004000046058000002c8000003c80000000000000000000000002ef0306843b9aca008504a817c80082520894b2bb2b958afa2e96dab3f3ce7162b87daea39017872386f26fc1000080c0")
	personal := apdu(t, "e00800001d058000002c8000003c8000000000000000000000000000000474657374")
	ex := func(a []byte) []byte {
		t.Helper()
		r, err := e.Exchange(a)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	want := func(what string, a []byte, sw uint16) []byte {
		t.Helper()
		r := ex(a)
		if swOf(r) != sw {
			t.Fatalf("%s: status %04x, want %04x", what, swOf(r), sw)
		}
		return r
	}
	r := want("app and version", appVer, SWOK)
	if !bytes.Contains(r, []byte("Ethereum")) || !bytes.Contains(r, []byte(DefaultAppVersion)) {
		t.Fatalf("app and version: %x", r)
	}
	want("config", config, SWOK)
	want("legacy with calldata, blind on", legacyWithData, SWOK)

	e.SetLocked(true)
	want("locked: address", getAddr, SWLocked)
	want("locked: app and version", appVer, SWLocked)
	e.SetLocked(false)

	e.SetAppOpen(false)
	want("dashboard: address", getAddr, SWNoAppOpen)
	if r := want("dashboard: app and version", appVer, SWOK); !bytes.Contains(r, []byte("BOLOS")) {
		t.Fatalf("dashboard name: %x", r)
	}
	e.SetAppOpen(true)

	e.SetBlindSigning(false)
	if r := want("config, blind off", config, SWOK); r[0]&1 != 0 {
		t.Fatal("blind flag still set")
	}
	want("legacy with calldata, blind off", legacyWithData, SWInvalidData)
	e.SetBlindSigning(true)

	if err := e.SetAppVersion("1.8.8"); err != nil {
		t.Fatal(err)
	}
	want("EIP-1559 on 1.8.8", eip1559, SWTxTypeUnsupported)
	if err := e.SetAppVersion(DefaultAppVersion); err != nil {
		t.Fatal(err)
	}

	e.RejectNext()
	want("rejected", personal, SWUserRejected)
	want("after the rejection", personal, SWOK)

	for _, bad := range []string{"", "e0", "e00600", "e006000001", "e0060000010203", "e002000000", "e0020000010b", "e0ff000000", "e00480000100", "e008800000", "e01c000000", "e00c000100"} {
		r := ex(apdu(t, bad))
		if swOf(r) == SWOK {
			t.Errorf("APDU %q accepted", bad)
		}
	}
	e.DisconnectNext()
	if _, err := e.Exchange(personal); err != ErrUnplugged {
		t.Fatalf("disconnect: %v", err)
	}
	if st := e.Stats(); st.Signatures != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestControlEndpoint(t *testing.T) {
	e := newTestEmulator(t, Options{})
	srv := httptest.NewServer(e.ControlHandler())
	defer srv.Close()
	post := func(path string, wantCode int) State {
		t.Helper()
		resp, err := http.Post(srv.URL+path, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != wantCode {
			t.Fatalf("%s: HTTP %d, want %d", path, resp.StatusCode, wantCode)
		}
		var st State
		if wantCode == http.StatusOK {
			if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
				t.Fatal(err)
			}
		}
		return st
	}
	if st := post("/lock", 200); !st.Locked {
		t.Error("lock")
	}
	if st := post("/unlock", 200); st.Locked {
		t.Error("unlock")
	}
	if st := post("/app/close", 200); st.AppOpen {
		t.Error("app close")
	}
	if st := post("/app/open", 200); !st.AppOpen {
		t.Error("app open")
	}
	if st := post("/blind/off", 200); st.BlindSigning {
		t.Error("blind off")
	}
	if st := post("/reject", 200); !st.RejectNext {
		t.Error("reject")
	}
	if st := post("/approve", 200); st.RejectNext {
		t.Error("approve")
	}
	if st := post("/version?v=1.8.8", 200); st.AppVersion != "1.8.8" {
		t.Error("version")
	}
	if st := post("/delay?ms=1500", 200); st.DelayMillis != 1500 {
		t.Error("delay")
	}
	post("/version?v=banana", http.StatusBadRequest)
	post("/delay?ms=-1", http.StatusBadRequest)
	post("/disconnect?after=0", http.StatusBadRequest)
	post("/disconnect", 200)
	if _, err := e.Exchange(apdu(t, "e002010015058000002c8000003c800000000000000000000000")); err != ErrUnplugged {
		t.Fatalf("disconnect via HTTP: %v", err)
	}
	resp, err := http.Get(srv.URL + "/state")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("state: %v", err)
	}
	resp.Body.Close()
}

// FuzzExchange feeds arbitrary APDUs (and pairs of them, to reach the
// continuation chunks): the emulator must answer a status word, never panic.
func FuzzExchange(f *testing.F) {
	for _, s := range []string{
		"e002000015058000002c8000003c800000000000000000000000",
		"e004000046058000002c8000003c80000000000000000000000002ef0306843b9aca008504a817c80082520894b2bb2b958afa2e96dab3f3ce7162b87daea39017872386f26fc1000080c0",
		"e01a00ff0b8301000777616c6c657473",
		"e01c000f0102",
		"e0340100" + "00",
		"b001000000",
	} {
		b, _ := hex.DecodeString(s)
		f.Add(b, []byte{0xe0, 0x04, 0x80, 0x00, 0x01, 0xc0})
	}
	e, err := NewEmulator(Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		for _, x := range [][]byte{a, b} {
			r, err := e.Exchange(x)
			if err != nil || len(r) < 2 {
				t.Fatalf("%x: %x %v", x, r, err)
			}
		}
	})
}
