package ledger

import (
	"context"
	"encoding/binary"
	"math/big"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
)

const (
	p1First = 0x00
	p1More  = 0x80
)

// txState buffers a transaction streamed over several SIGN TX APDUs.
type txState struct {
	active bool
	path   []uint32
	buf    []byte
}

// msgState buffers a personal message streamed over several APDUs.
type msgState struct {
	active bool
	path   []uint32
	total  int
	buf    []byte
}

// sign signs hash with the key at path; it returns the 65-byte r‖s‖parity.
func (e *Emulator) sign(path []uint32, hash []byte) ([]byte, bool) {
	k, err := e.keys.Derive(path)
	if err != nil {
		return nil, false
	}
	sig, err := crypto.Sign(hash, k.Priv)
	if err != nil {
		return nil, false
	}
	return sig, true
}

// vrs lays a signature out as the app does: v ‖ r ‖ s.
func vrs(v byte, sig []byte) []byte {
	out := make([]byte, 65)
	out[0] = v
	copy(out[1:], sig[:64])
	return out
}

func (e *Emulator) signTx(ctx context.Context, p1, p2 byte, data []byte) reply {
	if p2 != 0x00 {
		return sw(SWWrongP1P2)
	}
	switch p1 {
	case p1First:
		e.resetFlows()
		path, rest, ok := parsePath(data)
		if !ok {
			return sw(SWInvalidData)
		}
		e.tx = txState{active: true, path: path, buf: append([]byte(nil), rest...)}
	case p1More:
		if !e.tx.active {
			return sw(SWUserRejected)
		}
		e.tx.buf = append(e.tx.buf, data...)
	default:
		return sw(SWWrongP1P2)
	}
	r := e.txProgress(ctx)
	if r.sw != SWOK || len(r.data) > 0 || r.drop {
		e.tx = txState{}
	}
	return r
}

// txKind describes the transaction layouts the app parses.
type txKind struct {
	typ       byte // 0 for legacy
	dataIndex int  // position of the calldata in the RLP list
	items     []int
}

var txKinds = map[byte]txKind{
	0x00: {typ: 0, dataIndex: 5, items: []int{6, 9}},
	0x01: {typ: 1, dataIndex: 6, items: []int{8}},
	0x02: {typ: 2, dataIndex: 7, items: []int{9}},
	0x04: {typ: 4, dataIndex: 7, items: []int{10}},
}

// txProgress looks at what has arrived so far, as the app's streaming parser
// does, and answers 9000 for "more", an error, or the signature.
func (e *Emulator) txProgress(ctx context.Context) reply {
	buf := e.tx.buf
	if len(buf) == 0 {
		return sw(SWOK)
	}
	off := 0
	kind, ok := txKinds[0]
	if buf[0] < 0xc0 {
		if buf[0] > 0x7f {
			return sw(SWInvalidData)
		}
		if kind, ok = txKinds[buf[0]]; !ok {
			return sw(SWTxTypeUnsupported)
		}
		switch {
		case (kind.typ == 1 || kind.typ == 2) && !e.versionAtLeast(1, 9, 0):
			return sw(SWTxTypeUnsupported)
		case kind.typ == 4 && !e.versionAtLeast(1, 17, 0):
			return sw(SWTxTypeUnsupported)
		}
		off = 1
	}
	isList, hdr, size, complete := rlpHeader(buf[off:])
	if !complete {
		return sw(SWOK)
	}
	if !isList {
		return sw(SWInvalidData)
	}
	start := off + hdr
	total := start + size
	if len(buf) > total {
		return sw(SWInvalidData)
	}
	// Walk the items whose headers have arrived.
	pos, idx := start, 0
	for pos < len(buf) && pos < total {
		_, ih, is, ok := rlpHeader(buf[pos:])
		if !ok {
			break
		}
		if idx == kind.dataIndex && is > 0 {
			e.ctl.Lock()
			blind := e.blind
			e.ctl.Unlock()
			if !blind {
				return sw(SWInvalidData)
			}
		}
		pos += ih + is
		// app-ethereum issue #409: when a chunk ends exactly after the data
		// field of a legacy transaction, the app takes it for a complete
		// pre-EIP-155 transaction and signs what it has, with chain id 0.
		if kind.typ == 0 && idx == kind.dataIndex && pos == len(buf) && pos < total {
			return e.finishTx(ctx, buf, nil, kind)
		}
		idx++
	}
	if len(buf) < total {
		return sw(SWOK)
	}
	var items []rlp.RawValue
	if err := rlp.DecodeBytes(buf[off:], &items); err != nil {
		return sw(SWInvalidData)
	}
	okCount := false
	for _, n := range kind.items {
		okCount = okCount || len(items) == n
	}
	if !okCount {
		return sw(SWInvalidData)
	}
	var chainID []byte
	if kind.typ == 0 && len(items) == 9 {
		var err error
		if chainID, err = rlpBytes(items[6]); err != nil {
			return sw(SWInvalidData)
		}
		for _, z := range items[7:] {
			if b, err := rlpBytes(z); err != nil || len(b) != 0 {
				return sw(SWInvalidData)
			}
		}
		if len(chainID) == 0 {
			chainID = nil
		}
	}
	return e.finishTx(ctx, buf, chainID, kind)
}

// finishTx reviews and signs the received bytes.
func (e *Emulator) finishTx(ctx context.Context, payload, chainID []byte, kind txKind) reply {
	if r := e.confirm(ctx); r != nil {
		return *r
	}
	sig, ok := e.sign(e.tx.path, crypto.Keccak256(payload))
	if !ok {
		return sw(SWInvalidData)
	}
	return reply{data: vrs(legacyV(kind.typ, chainID, sig[64]), sig), sw: SWOK, signed: true}
}

// legacyV computes the v byte as ui_common_sign_tx.c does: the parity for
// typed transactions; 27+parity without a chain id; otherwise the low 8 bits
// of chainId32*2+35+parity computed in uint32, where chainId32 is made of
// the first (most significant) four bytes of the chain id encoding.
func legacyV(typ byte, chainID []byte, parity byte) byte {
	if typ != 0 {
		return parity
	}
	if len(chainID) == 0 {
		return 27 + parity
	}
	b := chainID
	if len(b) > 4 {
		b = b[:4]
	}
	var c uint32
	for _, x := range b {
		c = c<<8 | uint32(x)
	}
	v := c*2 + 35 + uint32(parity)
	return byte(v)
}

// rlpHeader decodes the header of the RLP item at the start of b: whether it
// is a list, the header size and the content size. complete is false while
// the header itself has not fully arrived.
func rlpHeader(b []byte) (isList bool, hdr, size int, complete bool) {
	if len(b) == 0 {
		return false, 0, 0, false
	}
	p := b[0]
	switch {
	case p < 0x80:
		return false, 0, 1, true
	case p <= 0xb7:
		return false, 1, int(p - 0x80), true
	case p < 0xc0:
		n := int(p - 0xb7)
		if len(b) < 1+n {
			return false, 0, 0, false
		}
		return false, 1 + n, beInt(b[1 : 1+n]), true
	case p <= 0xf7:
		return true, 1, int(p - 0xc0), true
	default:
		n := int(p - 0xf7)
		if len(b) < 1+n {
			return true, 0, 0, false
		}
		return true, 1 + n, beInt(b[1 : 1+n]), true
	}
}

func beInt(b []byte) int {
	v := 0
	for _, x := range b {
		if v > 1<<40 {
			return 1 << 40 // absurd sizes stay absurd without overflowing
		}
		v = v<<8 | int(x)
	}
	return v
}

func rlpBytes(raw rlp.RawValue) ([]byte, error) {
	var b []byte
	err := rlp.DecodeBytes(raw, &b)
	return b, err
}

func (e *Emulator) signPersonal(ctx context.Context, p1, p2 byte, data []byte) reply {
	if p2 != 0x00 {
		return sw(SWWrongP1P2)
	}
	switch p1 {
	case p1First:
		e.resetFlows()
		path, rest, ok := parsePath(data)
		if !ok || len(rest) < 4 {
			return sw(SWInvalidData)
		}
		total := int(binary.BigEndian.Uint32(rest))
		e.msg = msgState{active: true, path: path, total: total, buf: append([]byte(nil), rest[4:]...)}
	case p1More:
		if !e.msg.active {
			return sw(SWUserRejected)
		}
		e.msg.buf = append(e.msg.buf, data...)
	default:
		return sw(SWWrongP1P2)
	}
	if len(e.msg.buf) > e.msg.total {
		e.msg = msgState{}
		return sw(SWInvalidData)
	}
	if len(e.msg.buf) < e.msg.total {
		return sw(SWOK)
	}
	path, msg := e.msg.path, e.msg.buf
	e.msg = msgState{}
	if r := e.confirm(ctx); r != nil {
		return *r
	}
	sig, ok := e.sign(path, accounts.TextHash(msg))
	if !ok {
		return sw(SWInvalidData)
	}
	return reply{data: vrs(27+sig[64], sig), sw: SWOK, signed: true}
}

func (e *Emulator) signEIP712(ctx context.Context, p1, p2 byte, data []byte) reply {
	if p1 != 0x00 {
		return sw(SWWrongP1P2)
	}
	var path []uint32
	var domain, message []byte
	switch p2 {
	case 0x00: // v0: the host sends both hashes
		if !e.versionAtLeast(1, 5, 0) {
			return sw(SWInsNotSupported)
		}
		e.resetFlows()
		e.ctl.Lock()
		blind := e.blind
		e.ctl.Unlock()
		if !blind {
			return sw(SWInvalidData)
		}
		var rest []byte
		var ok bool
		path, rest, ok = parsePath(data)
		if !ok || len(rest) < 64 {
			return sw(SWInvalidData)
		}
		domain, message = rest[:32], rest[32:64]
	case 0x01: // full mode: hashes computed from the struct APDUs
		if !e.versionAtLeast(1, 9, 19) {
			return sw(SWWrongP1P2)
		}
		st := e.e712
		e.e712 = nil
		if st == nil || st.domainHash == nil || st.messageHash == nil || !st.idle() {
			return sw(SWUserRejected)
		}
		var rest []byte
		var ok bool
		path, rest, ok = parsePath(data)
		if !ok || len(rest) != 0 {
			return sw(SWInvalidData)
		}
		domain, message = st.domainHash, st.messageHash
	default:
		return sw(SWWrongP1P2)
	}
	if r := e.confirm(ctx); r != nil {
		return *r
	}
	sig, ok := e.sign(path, crypto.Keccak256([]byte{0x19, 0x01}, domain, message))
	if !ok {
		return sw(SWInvalidData)
	}
	return reply{data: vrs(27+sig[64], sig), sw: SWOK, signed: true}
}

// EIP-7702 authorization TLV tags (app-ethereum auth_7702.c).
const (
	tag7702Version  = 0x00
	tag7702Delegate = 0x01
	tag7702ChainID  = 0x02
	tag7702Nonce    = 0x03
)

func (e *Emulator) signAuthorization(ctx context.Context, p1 byte, data []byte) reply {
	// P1 01 = first chunk (path, 2-byte length, TLV); the payload always fits
	// in one APDU, so continuation chunks are refused.
	if p1 != 0x01 {
		return sw(SWCommandNotAllowed)
	}
	e.resetFlows()
	path, rest, ok := parsePath(data)
	if !ok || len(rest) < 2 {
		return sw(SWInvalidData)
	}
	n := int(binary.BigEndian.Uint16(rest))
	tlv := rest[2:]
	if len(tlv) != n {
		return sw(SWInvalidData)
	}
	seen := map[byte]bool{}
	var delegate common.Address
	var chainID, nonce uint64
	for len(tlv) > 0 {
		if len(tlv) < 2 || tlv[1] > 0x7f || len(tlv) < 2+int(tlv[1]) {
			return sw(SWInvalidData)
		}
		tag, val := tlv[0], tlv[2:2+int(tlv[1])]
		tlv = tlv[2+int(tlv[1]):]
		if seen[tag] {
			return sw(SWInvalidData)
		}
		seen[tag] = true
		switch tag {
		case tag7702Version:
			if len(val) != 1 || val[0] != 0x01 {
				return sw(SWInvalidData)
			}
		case tag7702Delegate:
			if len(val) != 20 {
				return sw(SWInvalidData)
			}
			delegate = common.BytesToAddress(val)
		case tag7702ChainID, tag7702Nonce:
			if len(val) == 0 || len(val) > 8 {
				return sw(SWInvalidData)
			}
			var v uint64
			for _, x := range val {
				v = v<<8 | uint64(x)
			}
			if tag == tag7702ChainID {
				chainID = v
			} else {
				nonce = v
			}
		default:
			return sw(SWInvalidData)
		}
	}
	if len(seen) != 4 {
		return sw(SWInvalidData)
	}
	e.ctl.Lock()
	enabled := e.eip7702
	e.ctl.Unlock()
	if !enabled {
		return sw(SWCommandNotAllowed)
	}
	enc, err := rlp.EncodeToBytes([]any{new(big.Int).SetUint64(chainID), delegate, nonce})
	if err != nil {
		return sw(SWInvalidData)
	}
	if r := e.confirm(ctx); r != nil {
		return *r
	}
	sig, ok := e.sign(path, crypto.Keccak256([]byte{0x05}, enc))
	if !ok {
		return sw(SWInvalidData)
	}
	return reply{data: vrs(sig[64], sig), sw: SWOK, signed: true}
}
