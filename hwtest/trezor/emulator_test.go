package trezor_test

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	emu "github.com/mm-wallet/mm/hwtest/trezor"
	"github.com/mm-wallet/mm/signers/transport"
	"github.com/mm-wallet/mm/signers/trezor/trezorpb"
)

const addr0 = "0x73d0385F4d8E00C5e6504C6030F47BF6212736A8" // m/44'/60'/0'/0/0, all-all seed

var path0 = []uint32{44 | 1<<31, 60 | 1<<31, 1 << 31, 0, 0}

func newEmu(t *testing.T, opts emu.Options) (*emu.Emulator, transport.Transport) {
	t.Helper()
	e, err := emu.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e, e.Transport()
}

// exchange sends a raw payload of type typ and decodes the reply.
func exchange(t *testing.T, tr transport.Transport, typ trezorpb.MessageType, payload []byte) proto.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	reply, err := tr.Exchange(ctx, transport.TrezorFrame(uint16(typ), payload))
	if err != nil {
		t.Fatal(err)
	}
	rt, rp, err := transport.ParseTrezorFrame(reply)
	if err != nil {
		t.Fatal(err)
	}
	m, err := trezorpb.Unmarshal(trezorpb.MessageType(rt), rp)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func call(t *testing.T, tr transport.Transport, m proto.Message) proto.Message {
	t.Helper()
	typ, payload, err := trezorpb.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return exchange(t, tr, typ, payload)
}

// ack answers ButtonRequests until another message comes.
func ack(t *testing.T, tr transport.Transport, m proto.Message) proto.Message {
	t.Helper()
	for {
		if _, ok := m.(*trezorpb.ButtonRequest); !ok {
			return m
		}
		m = call(t, tr, &trezorpb.ButtonAck{})
	}
}

func failureCode(t *testing.T, m proto.Message) trezorpb.Failure_FailureType {
	t.Helper()
	f, ok := m.(*trezorpb.Failure)
	if !ok {
		t.Fatalf("got %T, want Failure", m)
	}
	return f.GetCode()
}

func TestUDPLiveness(t *testing.T) {
	e, err := emu.New(emu.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	addr, err := e.ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Write([]byte("PINGPING")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "PONGPONG" {
		t.Fatalf("got %q, %v", buf[:n], err)
	}
	// A datagram that is not a 64-byte packet is ignored; Initialize in
	// one packet is answered with Features in 64-byte packets.
	c.Write([]byte("hello"))
	init, _ := transport.TrezorPackets(transport.TrezorFrame(0, nil))
	c.Write(init[0])
	var rd transport.TrezorReader
	for {
		n, err := c.Read(buf)
		if err != nil || n != 64 {
			t.Fatalf("reply datagram of %d bytes: %v", n, err)
		}
		frame, err := rd.Add(buf[:n])
		if err != nil {
			t.Fatal(err)
		}
		if frame != nil {
			if typ, _, _ := transport.ParseTrezorFrame(frame); typ != 17 {
				t.Fatalf("reply type %d, want Features (17)", typ)
			}
			return
		}
	}
}

// TestPackedAndUnpacked: proto2 writes repeated uint32 unpacked, but a
// decoder must take both forms.
func TestPackedAndUnpacked(t *testing.T) {
	_, tr := newEmu(t, emu.Options{})
	var unpacked, packed, list []byte
	for _, p := range path0 {
		unpacked = protowire.AppendTag(unpacked, 1, protowire.VarintType)
		unpacked = protowire.AppendVarint(unpacked, uint64(p))
		list = protowire.AppendVarint(list, uint64(p))
	}
	packed = protowire.AppendTag(packed, 1, protowire.BytesType)
	packed = protowire.AppendBytes(packed, list)
	for name, payload := range map[string][]byte{"unpacked": unpacked, "packed": packed} {
		m := exchange(t, tr, trezorpb.MessageType_MessageType_EthereumGetAddress, payload)
		if a, ok := m.(*trezorpb.EthereumAddress); !ok || a.GetAddress() != addr0 {
			t.Fatalf("%s: %v", name, m)
		}
	}
}

func TestFeaturesAndSessions(t *testing.T) {
	for _, c := range []struct {
		model    emu.Model
		internal string
		core     bool
	}{{emu.ModelOne, "T1B1", false}, {emu.ModelT, "T2T1", true}, {emu.ModelSafe3, "T2B1", true}, {emu.ModelSafe5, "T3T1", true}} {
		_, tr := newEmu(t, emu.Options{Model: c.model, Firmware: "2.5.1"})
		f, ok := call(t, tr, &trezorpb.Initialize{}).(*trezorpb.Features)
		if !ok || f.GetVendor() != "trezor.io" || f.GetInternalModel() != c.internal || f.GetMinorVersion() != 5 || !f.GetInitialized() || !f.GetUnlocked() || len(f.SessionId) != 32 {
			t.Fatalf("%s: %v", c.model, f)
		}
		hasEth, hasEntry := false, false
		for _, cp := range f.Capabilities {
			hasEth = hasEth || cp == trezorpb.Features_Capability_Ethereum
			hasEntry = hasEntry || cp == trezorpb.Features_Capability_PassphraseEntry
		}
		if !hasEth || hasEntry != c.core {
			t.Fatalf("%s: capabilities %v", c.model, f.Capabilities)
		}
		again := call(t, tr, &trezorpb.Initialize{SessionId: f.SessionId}).(*trezorpb.Features)
		fresh := call(t, tr, &trezorpb.Initialize{}).(*trezorpb.Features)
		if !bytes.Equal(again.SessionId, f.SessionId) || bytes.Equal(fresh.SessionId, f.SessionId) {
			t.Fatalf("%s: session resume/new broken", c.model)
		}
	}
}

func TestProfilesRefuse(t *testing.T) {
	hash := make([]byte, 32)
	typedHash := &trezorpb.EthereumSignTypedHash{AddressN: path0, DomainSeparatorHash: hash}
	typedFull := &trezorpb.EthereumSignTypedData{AddressN: path0, PrimaryType: proto.String("EIP712Domain")}
	tx1559 := &trezorpb.EthereumSignTxEIP1559{AddressN: path0, Nonce: []byte{}, MaxGasFee: []byte{1}, MaxPriorityFee: []byte{1},
		GasLimit: []byte{0x52, 0x08}, To: proto.String(""), Value: []byte{}, DataLength: proto.Uint32(0), ChainId: proto.Uint64(1)}
	getAddr := &trezorpb.EthereumGetAddress{AddressN: path0}
	for _, c := range []struct {
		name string
		opts emu.Options
		msg  proto.Message
		code trezorpb.Failure_FailureType
	}{
		{"One has no full EIP-712", emu.Options{Model: emu.ModelOne}, typedFull, trezorpb.Failure_Failure_UnexpectedMessage},
		{"Core has no hashed EIP-712", emu.Options{Model: emu.ModelT}, typedHash, trezorpb.Failure_Failure_UnexpectedMessage},
		{"One 1.10.4 has no hashed EIP-712", emu.Options{Model: emu.ModelOne, Firmware: "1.10.4"}, typedHash, trezorpb.Failure_Failure_UnexpectedMessage},
		{"One 1.10.3 has no EIP-1559", emu.Options{Model: emu.ModelOne, Firmware: "1.10.3"}, tx1559, trezorpb.Failure_Failure_UnexpectedMessage},
		{"Model T 2.4.1 has no EIP-1559", emu.Options{Model: emu.ModelT, Firmware: "2.4.1"}, tx1559, trezorpb.Failure_Failure_UnexpectedMessage},
		{"Model T 2.4.2 has no full EIP-712", emu.Options{Model: emu.ModelT, Firmware: "2.4.2"}, typedFull, trezorpb.Failure_Failure_UnexpectedMessage},
		{"bitcoin-only", emu.Options{BitcoinOnly: true}, getAddr, trezorpb.Failure_Failure_UnexpectedMessage},
		{"wiped", emu.Options{Uninitialized: true}, getAddr, trezorpb.Failure_Failure_NotInitialized},
	} {
		_, tr := newEmu(t, c.opts)
		if got := failureCode(t, call(t, tr, c.msg)); got != c.code {
			t.Errorf("%s: %v, want %v", c.name, got, c.code)
		}
	}
	// Sanity: the supported forms work on the same firmware.
	_, tr := newEmu(t, emu.Options{Model: emu.ModelOne, Firmware: "1.10.5"})
	if _, ok := ack(t, tr, call(t, tr, typedHash)).(*trezorpb.EthereumTypedDataSignature); !ok {
		t.Fatal("One 1.10.5 did not sign a typed hash")
	}
}

// TestCalldataChunks: the device asks for min(left, 1024) bytes at a time.
func TestCalldataChunks(t *testing.T) {
	e, tr := newEmu(t, emu.Options{})
	data := bytes.Repeat([]byte("ABCDEFGHIJKLMNOP"), 256)
	data = append(data, 'Q', 'R', 'S') // 4099 bytes
	m := ack(t, tr, call(t, tr, &trezorpb.EthereumSignTx{AddressN: path0, Nonce: []byte{}, GasPrice: []byte{1}, GasLimit: []byte{0xff, 0xff},
		To: proto.String("0x1d1c328764a41bda0492b66baa30c4a339ff85ef"), Value: []byte{}, DataInitialChunk: data[:1024], DataLength: proto.Uint32(4099), ChainId: proto.Uint64(1)}))
	var asked []uint32
	off := 1024
	for {
		r, ok := m.(*trezorpb.EthereumTxRequest)
		if !ok {
			t.Fatalf("got %v", m)
		}
		if r.DataLength == nil {
			break
		}
		asked = append(asked, r.GetDataLength())
		m = call(t, tr, &trezorpb.EthereumTxAck{DataChunk: data[off : off+int(r.GetDataLength())]})
		off += int(r.GetDataLength())
	}
	if len(asked) != 4 || asked[0] != 1024 || asked[1] != 1024 || asked[2] != 1024 || asked[3] != 3 {
		t.Fatalf("asked for %v", asked)
	}
	if e.Stats().Signatures != 1 {
		t.Fatal("no signature")
	}
	// An oversized chunk is refused.
	m = ack(t, tr, call(t, tr, &trezorpb.EthereumSignTx{AddressN: path0, GasPrice: []byte{1}, GasLimit: []byte{1}, DataInitialChunk: data[:1024], DataLength: proto.Uint32(2000), ChainId: proto.Uint64(1)}))
	if got := failureCode(t, call(t, tr, &trezorpb.EthereumTxAck{DataChunk: data[:1000]})); got != trezorpb.Failure_Failure_DataError {
		t.Fatalf("oversized chunk: %v", got)
	}
}

func TestPINMatrix(t *testing.T) {
	const pin = "3719"
	seeded := func() (*emu.Emulator, transport.Transport) {
		return newEmu(t, emu.Options{Model: emu.ModelOne, PIN: pin, Seed: 42})
	}
	e, tr := seeded()
	if _, ok := call(t, tr, &trezorpb.EthereumGetAddress{AddressN: path0}).(*trezorpb.PinMatrixRequest); !ok {
		t.Fatal("no PinMatrixRequest on a locked One")
	}
	matrix := e.PinMatrix()
	e2, tr2 := seeded()
	call(t, tr2, &trezorpb.EthereumGetAddress{AddressN: path0})
	if e2.PinMatrix() != matrix {
		t.Fatal("the same seed gave another matrix")
	}
	// Typing the digits instead of their positions fails (unless the
	// matrix happens to be the identity, which seed 42 is not).
	if matrix == "789/456/123" {
		t.Fatal("identity matrix")
	}
	if got := failureCode(t, call(t, tr, &trezorpb.PinMatrixAck{Pin: proto.String(pin)})); got != trezorpb.Failure_Failure_PinInvalid {
		t.Fatalf("digits instead of positions: %v", got)
	}
	call(t, tr, &trezorpb.EthereumGetAddress{AddressN: path0})
	if got := failureCode(t, call(t, tr, &trezorpb.Cancel{})); got != trezorpb.Failure_Failure_PinCancelled {
		t.Fatalf("cancel: %v", got)
	}
	call(t, tr, &trezorpb.EthereumGetAddress{AddressN: path0})
	pos, err := emu.PinPositions(e.PinMatrix(), pin)
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := call(t, tr, &trezorpb.PinMatrixAck{Pin: proto.String(pos)}).(*trezorpb.EthereumAddress); !ok || a.GetAddress() != addr0 {
		t.Fatalf("right PIN: %v", a)
	}
	if f := call(t, tr, &trezorpb.GetFeatures{}).(*trezorpb.Features); !f.GetUnlocked() {
		t.Fatal("still locked")
	}
}

func TestPassphrase(t *testing.T) {
	addrWith := func(model emu.Model, ackMsg *trezorpb.PassphraseAck) string {
		_, tr := newEmu(t, emu.Options{Model: model, PassphraseProtection: true, DevicePassphrase: "TREZOR"})
		if _, ok := call(t, tr, &trezorpb.EthereumGetAddress{AddressN: path0}).(*trezorpb.PassphraseRequest); !ok {
			t.Fatal("no PassphraseRequest")
		}
		m := ack(t, tr, call(t, tr, ackMsg))
		a, ok := m.(*trezorpb.EthereumAddress)
		if !ok {
			t.Fatalf("%v", m)
		}
		// Cached for the session: no second request.
		if _, ok := call(t, tr, &trezorpb.EthereumGetAddress{AddressN: path0}).(*trezorpb.EthereumAddress); !ok {
			t.Fatal("passphrase asked twice in one session")
		}
		return a.GetAddress()
	}
	empty := addrWith(emu.ModelT, &trezorpb.PassphraseAck{Passphrase: proto.String("")})
	host := addrWith(emu.ModelT, &trezorpb.PassphraseAck{Passphrase: proto.String("TREZOR")})
	onDevice := addrWith(emu.ModelT, &trezorpb.PassphraseAck{OnDevice: proto.Bool(true)})
	one := addrWith(emu.ModelOne, &trezorpb.PassphraseAck{Passphrase: proto.String("TREZOR")})
	if empty != addr0 || host == addr0 || onDevice != host || one != host {
		t.Fatalf("empty %s, host %s, on device %s, One %s", empty, host, onDevice, one)
	}
	_, tr := newEmu(t, emu.Options{Model: emu.ModelOne, PassphraseProtection: true})
	call(t, tr, &trezorpb.EthereumGetAddress{AddressN: path0})
	if got := failureCode(t, call(t, tr, &trezorpb.PassphraseAck{OnDevice: proto.Bool(true)})); got != trezorpb.Failure_Failure_DataError {
		t.Fatalf("One with on-device entry: %v", got)
	}
}

// FuzzFirmware feeds the firmware arbitrary messages: it must answer each
// with a well-formed message and never panic.
func FuzzFirmware(f *testing.F) {
	f.Add(uint16(56), []byte{0x08, 0xac, 0x80, 0x80, 0x80, 0x08})
	f.Add(uint16(466), []byte{0x0a, 0x04, 0x0a, 0x02, 0x08, 0x07})
	f.Add(uint16(464), []byte{0x12, 0x04, 'M', 'a', 'i', 'l'})
	f.Add(uint16(58), []byte{0x1a, 0x01, 0x01, 0x22, 0x01, 0x01, 0x48, 0x01, 0x40, 0x05, 0x3a, 0x01, 0x00})
	e, err := emu.New(emu.Options{})
	if err != nil {
		f.Fatal(err)
	}
	defer e.Close()
	tr := e.Transport()
	f.Fuzz(func(t *testing.T, typ uint16, payload []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		reply, err := tr.Exchange(ctx, transport.TrezorFrame(typ, payload))
		if err != nil {
			t.Fatalf("no reply: %v", err)
		}
		rt, rp, err := transport.ParseTrezorFrame(reply)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := trezorpb.Unmarshal(trezorpb.MessageType(rt), rp); err != nil {
			t.Fatalf("reply does not decode: %v", err)
		}
	})
}
