package ledger

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/signers/transport"
)

// APDU bytes of the Ethereum app and the OS.
const (
	claEth               = 0xE0
	claOS                = 0xB0
	insGetAddress        = 0x02
	insSignTx            = 0x04
	insGetConfig         = 0x06
	insSignPersonal      = 0x08
	insSignEIP712        = 0x0C
	insEIP712StructDef   = 0x1A
	insEIP712StructImpl  = 0x1C
	insSignAuthorization = 0x34
	insGetAppAndVersion  = 0x01

	p1First = 0x00
	p1More  = 0x80

	// chunkSize is the data size of each chunk of a transaction or message,
	// path included in the first one; hw-app-eth uses the same, which keeps
	// the exchanges identical to Ledger's own client.
	chunkSize = 150
	// maxData is the most data one APDU carries (Lc is one byte).
	maxData = 255
)

// Device is an Ethereum app reached through a Transport. Its methods send
// exactly the APDUs app-ethereum expects and return the device's raw answers;
// Signer builds the sdk contract on top. A Device is not safe for concurrent
// use: a Ledger processes one command at a time.
type Device struct {
	t transport.Transport
	// Model is the model name for prompts ("Nano S Plus"), empty if unknown.
	Model string
}

// NewDevice wraps a Transport. model names the device in prompts.
func NewDevice(t transport.Transport, model string) *Device {
	return &Device{t: t, Model: model}
}

// Open dials uri (hid://ledger, tcp://127.0.0.1:9999, …) and returns the
// Device behind it. Failures carry DEVICE_NOT_FOUND, DEVICE_BUSY or
// UNSUPPORTED (a build without USB support), with hints.
func Open(ctx context.Context, uri string) (*Device, error) {
	t, err := transport.Dial(ctx, uri)
	if err != nil {
		if errors.Is(err, transport.ErrNoUSB) || errors.Is(err, transport.ErrDeviceNotFound) ||
			errors.Is(err, transport.ErrDeviceBusy) || ctx.Err() != nil {
			return nil, transportError(ctx, "open "+uri, err)
		}
		return nil, &sdk.Error{Code: sdk.CodeInvalidRequest, Message: fmt.Sprintf("ledger: open device: %v", err),
			Hint: "use hid://ledger[/<model>] for USB, or tcp://HOST:PORT for Speculos or the emulator", Err: err}
	}
	model := ""
	if d, ok := t.(transport.Describer); ok {
		model = d.Describe().Model
	}
	return NewDevice(t, model), nil
}

// Close releases the transport.
func (d *Device) Close() error { return d.t.Close() }

// deviceName is "Ledger Nano X", or "Ledger" when the model is unknown.
func (d *Device) deviceName() string {
	if d.Model == "" {
		return "Ledger"
	}
	return "Ledger " + d.Model
}

// exchange sends one APDU and splits the reply into data and status word.
func (d *Device) exchange(ctx context.Context, what string, cla, ins, p1, p2 byte, data []byte) ([]byte, uint16, error) {
	if len(data) > maxData {
		return nil, 0, fmt.Errorf("ledger: %s: APDU data of %d bytes exceeds %d", what, len(data), maxData)
	}
	apdu := make([]byte, 5+len(data))
	apdu[0], apdu[1], apdu[2], apdu[3], apdu[4] = cla, ins, p1, p2, byte(len(data))
	copy(apdu[5:], data)
	resp, err := d.t.Exchange(ctx, apdu)
	if err != nil {
		return nil, 0, transportError(ctx, what, err)
	}
	if len(resp) < 2 {
		return nil, 0, &sdk.Error{Code: sdk.CodeDeviceDisconnected, Message: fmt.Sprintf("ledger: %s: reply of %d bytes has no status word", what, len(resp)), Hint: hintDisconnected}
	}
	n := len(resp) - 2
	return resp[:n], binary.BigEndian.Uint16(resp[n:]), nil
}

// waiting tells the host's prompter that the user must act on the device,
// and returns the function that ends the wait.
func (d *Device) waiting(ctx context.Context, action string) func() {
	p := sdk.PrompterFrom(ctx)
	name := d.deviceName()
	msg := "confirm on your " + name
	if action != "" {
		msg = action + ": " + msg
	}
	_, _ = p.WaitingForUser(ctx, &sdk.WaitingRequest{Device: name, Message: msg})
	return func() {
		_, _ = p.WaitingForUser(context.WithoutCancel(ctx), &sdk.WaitingRequest{Device: name, Message: msg, Done: true})
	}
}

// AppVersion is an Ethereum app version.
type AppVersion struct{ Major, Minor, Patch int }

func (v AppVersion) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// AtLeast reports whether v ≥ major.minor.patch.
func (v AppVersion) AtLeast(major, minor, patch int) bool {
	if v.Major != major {
		return v.Major > major
	}
	if v.Minor != minor {
		return v.Minor > minor
	}
	return v.Patch >= patch
}

// Minimum app versions (app-ethereum changelog; go-ethereum checks the same).
var (
	minTypedTx    = AppVersion{1, 9, 0}  // EIP-2930 and EIP-1559
	minEIP7702    = AppVersion{1, 17, 0} // authorizations and set-code transactions
	minEIP712Hash = AppVersion{1, 5, 0}  // SIGN EIP-712 v0
	minEIP712Full = AppVersion{1, 9, 19} // struct definitions and values
)

// AppConfig is the answer to GET APP CONFIGURATION.
type AppConfig struct {
	Flags   byte
	Version AppVersion
}

// BlindSigning reports the "Blind signing" (contract data) setting.
func (c AppConfig) BlindSigning() bool { return c.Flags&0x01 != 0 }

// AppConfiguration sends E0 06 and decodes flags and version.
func (d *Device) AppConfiguration(ctx context.Context) (AppConfig, error) {
	data, sw, err := d.exchange(ctx, "get app configuration", claEth, insGetConfig, 0, 0, nil)
	if err != nil {
		return AppConfig{}, err
	}
	if sw != swOK {
		return AppConfig{}, statusError("get app configuration", sw, false)
	}
	if len(data) < 4 {
		return AppConfig{}, badReply("get app configuration", "%d bytes, want 4", len(data))
	}
	return AppConfig{Flags: data[0], Version: AppVersion{int(data[1]), int(data[2]), int(data[3])}}, nil
}

// AppInfo is the answer to the OS command "get app and version" (B0 01).
type AppInfo struct {
	// Name is "Ethereum" when the app is open, "BOLOS" on the dashboard.
	Name    string
	Version string
	Flags   []byte
}

// AppAndVersion asks the OS which app is open. It works on the dashboard
// and in any app.
func (d *Device) AppAndVersion(ctx context.Context) (AppInfo, error) {
	data, sw, err := d.exchange(ctx, "get app and version", claOS, insGetAppAndVersion, 0, 0, nil)
	if err != nil {
		return AppInfo{}, err
	}
	if sw != swOK {
		return AppInfo{}, statusError("get app and version", sw, false)
	}
	r := reader{b: data}
	if f, ok := r.byte(); !ok || f != 0x01 {
		return AppInfo{}, badReply("get app and version", "unknown format")
	}
	name, ok1 := r.lv()
	ver, ok2 := r.lv()
	if !ok1 || !ok2 {
		return AppInfo{}, badReply("get app and version", "truncated reply")
	}
	flags, _ := r.lv()
	return AppInfo{Name: printable(name), Version: printable(ver), Flags: flags}, nil
}

// ParseVersion reads "1.10.3".
func ParseVersion(s string) (AppVersion, bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return AppVersion{}, false
	}
	var v [3]int
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return AppVersion{}, false
		}
		v[i] = n
	}
	return AppVersion{v[0], v[1], v[2]}, true
}

// AddressInfo is the answer to GET ETH PUBLIC ADDRESS.
type AddressInfo struct {
	PublicKey []byte // 65 bytes, 04‖X‖Y
	Address   common.Address
	ChainCode []byte // 32 bytes when asked for
}

// Address sends E0 02: verify shows the address on the device and waits for
// the user; chainCode asks for the BIP-32 chain code too. The reply is
// checked: the address must be the one of the public key.
func (d *Device) Address(ctx context.Context, path Path, verify, chainCode bool) (*AddressInfo, error) {
	var p1, p2 byte
	if verify {
		p1 = 1
		defer d.waiting(ctx, "verify the address "+path.String())()
	}
	if chainCode {
		p2 = 1
	}
	data, sw, err := d.exchange(ctx, "get address", claEth, insGetAddress, p1, p2, encodePath(path))
	if err != nil {
		return nil, err
	}
	if sw != swOK {
		return nil, statusError("get address", sw, false)
	}
	return parseAddressReply(data, chainCode)
}

func parseAddressReply(data []byte, chainCode bool) (*AddressInfo, error) {
	r := reader{b: data}
	pub, ok := r.lv()
	if !ok || len(pub) != 65 || pub[0] != 0x04 {
		return nil, badReply("get address", "bad public key")
	}
	ascii, ok := r.lv()
	if !ok || len(ascii) != 40 {
		return nil, badReply("get address", "bad address")
	}
	key, err := crypto.UnmarshalPubkey(pub)
	if err != nil {
		return nil, badReply("get address", "public key not on the curve")
	}
	addr := crypto.PubkeyToAddress(*key)
	if !strings.EqualFold(addr.Hex()[2:], string(ascii)) {
		return nil, badReply("get address", "address %s does not belong to the public key", printable(ascii))
	}
	info := &AddressInfo{PublicKey: append([]byte(nil), pub...), Address: addr}
	if chainCode {
		cc, ok := r.take(32)
		if !ok {
			return nil, badReply("get address", "missing chain code")
		}
		info.ChainCode = append([]byte(nil), cc...)
	}
	if r.left() != 0 {
		return nil, badReply("get address", "%d unexpected trailing bytes", r.left())
	}
	return info, nil
}

// chunks cuts path ‖ head ‖ body into APDU data blocks of at most chunkSize
// bytes (the path and head in the first). keepTail > 0 keeps the last
// keepTail bytes of body in the final block together with whatever precedes
// them in that block, so no block boundary falls inside or just before them.
func chunks(path Path, head, body []byte, keepTail int) [][]byte {
	first := append(encodePath(path), head...)
	room := chunkSize - len(first)
	var out [][]byte
	off := 0
	for {
		n := room
		if n > len(body)-off {
			n = len(body) - off
		}
		if keepTail > 0 && off+n >= len(body)-keepTail && off+n < len(body) {
			// The tail would start a new block, or be split: take all that is
			// left (hw-app-eth does the same for the v,r,s tail).
			n = len(body) - off
		}
		blk := body[off : off+n]
		if len(out) == 0 {
			blk = append(first, blk...)
		}
		out = append(out, blk)
		off += n
		room = chunkSize
		if off >= len(body) {
			return out
		}
	}
}

// SignTx streams the signing payload (legacy: rlp of the 9 EIP-155 fields;
// typed: type ‖ rlp of the fields) and returns the device's v ‖ r ‖ s.
// legacyTail is the length of the encoded chainId,0,0 tail of a legacy
// payload (0 for typed transactions): it is kept with the data before it so
// that no chunk ends right after the calldata (app-ethereum issue #409).
// blindOff tells how to read 0x6A80.
func (d *Device) SignTx(ctx context.Context, path Path, payload []byte, legacyTail int, blindOff bool) ([]byte, error) {
	defer d.waiting(ctx, "review the transaction")()
	blocks := chunks(path, nil, payload, legacyTail)
	for i, blk := range blocks {
		p1 := byte(p1More)
		if i == 0 {
			p1 = p1First
		}
		data, sw, err := d.exchange(ctx, "sign tx", claEth, insSignTx, p1, 0, blk)
		if err != nil {
			return nil, err
		}
		if sw != swOK {
			return nil, statusError("sign tx", sw, blindOff)
		}
		if i < len(blocks)-1 {
			if len(data) != 0 {
				return nil, badReply("sign tx", "the device answered chunk %d of %d with data: it took the transaction for complete", i+1, len(blocks))
			}
			continue
		}
		if len(data) != 65 {
			return nil, badReply("sign tx", "signature of %d bytes", len(data))
		}
		return data, nil
	}
	return nil, badReply("sign tx", "nothing sent")
}

// SignPersonal streams an EIP-191 message (path, 4-byte length, bytes) and
// returns v ‖ r ‖ s with v = 27 or 28.
func (d *Device) SignPersonal(ctx context.Context, path Path, msg []byte) ([]byte, error) {
	if uint64(len(msg)) > 0xffffffff {
		return nil, sdk.NewError(sdk.CodeInvalidRequest, "ledger: sign message: message longer than 4 GiB", "")
	}
	defer d.waiting(ctx, "review the message")()
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(msg)))
	blocks := chunks(path, n[:], msg, 0)
	for i, blk := range blocks {
		p1 := byte(p1More)
		if i == 0 {
			p1 = p1First
		}
		data, sw, err := d.exchange(ctx, "sign message", claEth, insSignPersonal, p1, 0, blk)
		if err != nil {
			return nil, err
		}
		if sw != swOK {
			return nil, statusError("sign message", sw, false)
		}
		if i < len(blocks)-1 {
			if len(data) != 0 {
				return nil, badReply("sign message", "data in reply to chunk %d of %d", i+1, len(blocks))
			}
			continue
		}
		if len(data) != 65 {
			return nil, badReply("sign message", "signature of %d bytes", len(data))
		}
		return data, nil
	}
	return nil, badReply("sign message", "nothing sent")
}

// SignTypedHashes signs keccak256(0x19 0x01 ‖ domain ‖ message) in the v0
// mode, where the device only sees the two hashes. Returns v ‖ r ‖ s.
func (d *Device) SignTypedHashes(ctx context.Context, path Path, domain, message common.Hash, blindOff bool) ([]byte, error) {
	defer d.waiting(ctx, "review the typed-data hashes")()
	data := append(encodePath(path), domain[:]...)
	data = append(data, message[:]...)
	resp, sw, err := d.exchange(ctx, "sign typed data", claEth, insSignEIP712, 0, 0x00, data)
	if err != nil {
		return nil, err
	}
	if sw != swOK {
		return nil, statusError("sign typed data", sw, blindOff)
	}
	if len(resp) != 65 {
		return nil, badReply("sign typed data", "signature of %d bytes", len(resp))
	}
	return resp, nil
}

// SignTypedFull sends the struct definitions and values of an encoded
// typed-data document (see EncodeTypedData), then the sign APDU. Returns
// v ‖ r ‖ s.
func (d *Device) SignTypedFull(ctx context.Context, path Path, enc *TypedDataAPDUs) ([]byte, error) {
	defer d.waiting(ctx, "review the typed data")()
	for _, a := range enc.APDUs {
		_, sw, err := d.exchange(ctx, "sign typed data", claEth, a.INS, a.P1, a.P2, a.Data)
		if err != nil {
			return nil, err
		}
		if sw != swOK {
			return nil, statusError("sign typed data", sw, false)
		}
	}
	resp, sw, err := d.exchange(ctx, "sign typed data", claEth, insSignEIP712, 0, 0x01, encodePath(path))
	if err != nil {
		return nil, err
	}
	if sw != swOK {
		return nil, statusError("sign typed data", sw, false)
	}
	if len(resp) != 65 {
		return nil, badReply("sign typed data", "signature of %d bytes", len(resp))
	}
	return resp, nil
}

// SignAuthorization signs an EIP-7702 authorization (INS 0x34: path, 2-byte
// length, TLV of version, delegate, chain id and nonce). Returns v ‖ r ‖ s
// with v the y-parity.
func (d *Device) SignAuthorization(ctx context.Context, path Path, chainID uint64, delegate common.Address, nonce uint64) ([]byte, error) {
	tlv := []byte{0x00, 0x01, 0x01, 0x01, 20}
	tlv = append(tlv, delegate[:]...)
	tlv = append(tlv, 0x02)
	tlv = appendMinimal(tlv, chainID)
	tlv = append(tlv, 0x03)
	tlv = appendMinimal(tlv, nonce)
	data := encodePath(path)
	data = binary.BigEndian.AppendUint16(data, uint16(len(tlv)))
	data = append(data, tlv...)
	defer d.waiting(ctx, "review the EIP-7702 authorization")()
	resp, sw, err := d.exchange(ctx, "sign authorization", claEth, insSignAuthorization, 0x01, 0, data)
	if err != nil {
		return nil, err
	}
	if sw != swOK {
		return nil, statusError("sign authorization", sw, false)
	}
	if len(resp) != 65 {
		return nil, badReply("sign authorization", "signature of %d bytes", len(resp))
	}
	return resp, nil
}

// appendMinimal appends a TLV length byte and v big-endian in as few bytes
// as it takes (one byte for zero).
func appendMinimal(b []byte, v uint64) []byte {
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], v)
	i := 0
	for i < 7 && buf[i] == 0 {
		i++
	}
	b = append(b, byte(8-i))
	return append(b, buf[i:]...)
}

func badReply(what, format string, args ...any) error {
	return &sdk.Error{Code: sdk.CodeDeviceError,
		Message: fmt.Sprintf("ledger: %s: malformed reply from the device: %s", what, fmt.Sprintf(format, args...)),
		Hint:    "update the Ethereum app; if it persists, reconnect the device"}
}

// reader walks a device reply without ever reading past its end.
type reader struct {
	b   []byte
	off int
}

func (r *reader) left() int { return len(r.b) - r.off }

func (r *reader) byte() (byte, bool) {
	if r.left() < 1 {
		return 0, false
	}
	r.off++
	return r.b[r.off-1], true
}

func (r *reader) take(n int) ([]byte, bool) {
	if n < 0 || r.left() < n {
		return nil, false
	}
	r.off += n
	return r.b[r.off-n : r.off], true
}

// lv reads a length byte and that many bytes.
func (r *reader) lv() ([]byte, bool) {
	n, ok := r.byte()
	if !ok {
		return nil, false
	}
	return r.take(int(n))
}

// printable keeps device-supplied text safe to show: ASCII graphic
// characters only.
func printable(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		if c >= 0x20 && c < 0x7f {
			s.WriteByte(c)
		} else {
			s.WriteByte('?')
		}
	}
	return s.String()
}
