package ledger

import (
	"encoding/binary"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"github.com/mm-wallet/mm/sdk/eip712"
)

// EIP-712 full mode, device side: INS 0x1A receives struct definitions, INS
// 0x1C receives the values field by field in definition order (array sizes
// announced before their elements), and the device hashes them itself. This
// emulator rebuilds the typed data and hashes it with sdk/eip712 (go-ethereum's
// apitypes).

// Type codes of the TypeDesc byte (low 4 bits).
const (
	t712Custom   = 0
	t712Int      = 1
	t712Uint     = 2
	t712Address  = 3
	t712Bool     = 4
	t712String   = 5
	t712BytesFix = 6
	t712Bytes    = 7
)

type field712 struct {
	kind     byte
	typeName string // custom structs
	size     int    // int/uint/bytesN byte size
	arrays   []int  // one entry per level in textual order; -1 = dynamic
	key      string
}

// typeString renders the Solidity type ("uint256", "Person[]", "bytes32[2]").
func (f field712) typeString() string {
	var s string
	switch f.kind {
	case t712Custom:
		s = f.typeName
	case t712Int:
		s = fmt.Sprintf("int%d", 8*f.size)
	case t712Uint:
		s = fmt.Sprintf("uint%d", 8*f.size)
	case t712Address:
		s = "address"
	case t712Bool:
		s = "bool"
	case t712String:
		s = "string"
	case t712BytesFix:
		s = fmt.Sprintf("bytes%d", f.size)
	case t712Bytes:
		s = "bytes"
	}
	for _, n := range f.arrays {
		if n < 0 {
			s += "[]"
		} else {
			s += fmt.Sprintf("[%d]", n)
		}
	}
	return s
}

// frame712 is one level of the value walk: a struct being filled or an array
// being filled.
type frame712 struct {
	structName string
	fieldIdx   int
	values     map[string]any

	isArray bool
	elem    field712 // element type (arrays trimmed by one level)
	size    int
	items   []any
	key     string // key in the parent struct (for arrays and nested structs)
}

type eip712State struct {
	defs      map[string][]field712
	lastDef   string
	frozen    bool // values started: no more definitions
	root      string
	stack     []*frame712
	pending   *pendingValue
	wantArray *field712 // an array size must come next, for this field

	domainHash  []byte
	messageHash []byte
}

type pendingValue struct {
	f     field712
	total int
	buf   []byte
}

func (s *eip712State) idle() bool {
	return len(s.stack) == 0 && s.pending == nil && s.wantArray == nil
}

func (e *Emulator) eip712Def(p1, p2 byte, data []byte) reply {
	if e.e712 == nil {
		e.resetFlows()
		e.e712 = &eip712State{defs: map[string][]field712{}}
	}
	st := e.e712
	if st.frozen || p1 != 0x00 {
		e.e712 = nil
		return sw(SWUserRejected)
	}
	switch p2 {
	case 0x00:
		name := string(data)
		if name == "" || st.defs[name] != nil {
			e.e712 = nil
			return sw(SWInvalidData)
		}
		st.defs[name] = []field712{}
		st.lastDef = name
		return sw(SWOK)
	case 0xFF:
		if st.lastDef == "" {
			e.e712 = nil
			return sw(SWUserRejected)
		}
		f, ok := parseFieldDef(data)
		if !ok {
			e.e712 = nil
			return sw(SWInvalidData)
		}
		st.defs[st.lastDef] = append(st.defs[st.lastDef], f)
		return sw(SWOK)
	}
	e.e712 = nil
	return sw(SWWrongP1P2)
}

func parseFieldDef(b []byte) (field712, bool) {
	var f field712
	if len(b) < 1 {
		return f, false
	}
	desc := b[0]
	b = b[1:]
	f.kind = desc & 0x0f
	if f.kind > t712Bytes {
		return f, false
	}
	take := func() (byte, bool) {
		if len(b) == 0 {
			return 0, false
		}
		x := b[0]
		b = b[1:]
		return x, true
	}
	takeStr := func() (string, bool) {
		n, ok := take()
		if !ok || len(b) < int(n) || n == 0 {
			return "", false
		}
		s := string(b[:n])
		b = b[n:]
		return s, true
	}
	var ok bool
	if f.kind == t712Custom {
		if f.typeName, ok = takeStr(); !ok {
			return f, false
		}
	}
	if desc&0x40 != 0 {
		n, ok := take()
		if !ok || n == 0 || n > 32 {
			return f, false
		}
		f.size = int(n)
	}
	switch f.kind {
	case t712Int, t712Uint, t712BytesFix:
		if f.size == 0 {
			return f, false
		}
	}
	if desc&0x80 != 0 {
		levels, ok := take()
		if !ok || levels == 0 {
			return f, false
		}
		for i := 0; i < int(levels); i++ {
			t, ok := take()
			if !ok {
				return f, false
			}
			switch t {
			case 0:
				f.arrays = append(f.arrays, -1)
			case 1:
				n, ok := take()
				if !ok {
					return f, false
				}
				f.arrays = append(f.arrays, int(n))
			default:
				return f, false
			}
		}
	}
	if f.key, ok = takeStr(); !ok || len(b) != 0 {
		return f, false
	}
	return f, true
}

func (e *Emulator) eip712Impl(p1, p2 byte, data []byte) reply {
	st := e.e712
	if st == nil {
		return sw(SWUserRejected)
	}
	st.frozen = true
	var err error
	switch p2 {
	case 0x00:
		err = st.setRoot(string(data))
	case 0x0F:
		if len(data) != 1 {
			err = fmt.Errorf("array size of %d bytes", len(data))
		} else {
			err = st.arraySize(int(data[0]))
		}
	case 0xFF:
		err = st.value(data, p1 != 0x00)
	default:
		e.e712 = nil
		return sw(SWWrongP1P2)
	}
	if err != nil {
		if e.logf != nil {
			e.logf("ledger emulator: eip712: %v", err)
		}
		e.e712 = nil
		return sw(SWInvalidData)
	}
	return sw(SWOK)
}

func (s *eip712State) setRoot(name string) error {
	if !s.idle() {
		return fmt.Errorf("root %q while %q is incomplete", name, s.root)
	}
	if _, ok := s.defs[name]; !ok {
		return fmt.Errorf("unknown root struct %q", name)
	}
	s.root = name
	s.stack = []*frame712{{structName: name, values: map[string]any{}}}
	return s.advance()
}

// advance walks to the next slot that needs an APDU: a value or an array
// size. Finished structs and arrays are folded into their parents; a
// finished root is hashed.
func (s *eip712State) advance() error {
	for len(s.stack) > 0 {
		top := s.stack[len(s.stack)-1]
		var f field712
		if top.isArray {
			if len(top.items) == top.size {
				s.pop()
				continue
			}
			f = top.elem
		} else {
			fields := s.defs[top.structName]
			if top.fieldIdx == len(fields) {
				if len(s.stack) == 1 {
					return s.finishRoot(top.values)
				}
				s.pop()
				continue
			}
			f = fields[top.fieldIdx]
		}
		if len(f.arrays) > 0 {
			s.wantArray = &f
			return nil
		}
		if f.kind == t712Custom {
			if _, ok := s.defs[f.typeName]; !ok {
				return fmt.Errorf("undefined struct %q", f.typeName)
			}
			if len(s.stack) > 32 {
				return fmt.Errorf("structs nested too deep")
			}
			s.stack = append(s.stack, &frame712{structName: f.typeName, values: map[string]any{}, key: f.key})
			continue
		}
		s.pending = &pendingValue{f: f, total: -1}
		return nil
	}
	return nil
}

// pop folds the finished top frame into its parent.
func (s *eip712State) pop() {
	top := s.stack[len(s.stack)-1]
	s.stack = s.stack[:len(s.stack)-1]
	var v any
	if top.isArray {
		v = top.items
	} else {
		v = top.values
	}
	s.store(top.key, v)
}

// store puts a finished value into the frame on top of the stack.
func (s *eip712State) store(key string, v any) {
	parent := s.stack[len(s.stack)-1]
	if parent.isArray {
		parent.items = append(parent.items, v)
		return
	}
	parent.values[key] = v
	parent.fieldIdx++
}

func (s *eip712State) arraySize(n int) error {
	if s.wantArray == nil {
		return fmt.Errorf("array size %d where no array is expected", n)
	}
	f := *s.wantArray
	s.wantArray = nil
	level := f.arrays[len(f.arrays)-1] // the outermost level is the last bracket
	if level >= 0 && level != n {
		return fmt.Errorf("array %s of fixed size %d given %d elements", f.key, level, n)
	}
	elem := f
	elem.arrays = f.arrays[:len(f.arrays)-1]
	s.stack = append(s.stack, &frame712{isArray: true, elem: elem, size: n, items: []any{}, key: f.key})
	return s.advance()
}

func (s *eip712State) value(data []byte, partial bool) error {
	p := s.pending
	if p == nil {
		return fmt.Errorf("value where none is expected")
	}
	if p.total < 0 {
		if len(data) < 2 {
			return fmt.Errorf("value without its length")
		}
		p.total = int(binary.BigEndian.Uint16(data))
		data = data[2:]
	}
	p.buf = append(p.buf, data...)
	if len(p.buf) > p.total {
		return fmt.Errorf("value longer than announced")
	}
	if len(p.buf) < p.total {
		if !partial || (p.f.kind != t712String && p.f.kind != t712Bytes) {
			return fmt.Errorf("incomplete value not marked partial")
		}
		return nil
	}
	if partial {
		return fmt.Errorf("complete value marked partial")
	}
	v, err := decodeValue(p.f, p.buf)
	if err != nil {
		return err
	}
	s.pending = nil
	s.store(p.f.key, v)
	return s.advance()
}

// decodeValue turns the raw bytes of an atomic value into what apitypes
// hashes, with the device's encoding rules (integers big-endian and
// minimal, negative ones sign-extended from the full type size).
func decodeValue(f field712, b []byte) (any, error) {
	switch f.kind {
	case t712Uint:
		if len(b) > f.size {
			return nil, fmt.Errorf("%s: %d bytes for uint%d", f.key, len(b), 8*f.size)
		}
		return new(big.Int).SetBytes(b), nil
	case t712Int:
		if len(b) == 0 || len(b) > f.size {
			return nil, fmt.Errorf("%s: %d bytes for int%d", f.key, len(b), 8*f.size)
		}
		v := new(big.Int).SetBytes(b)
		if len(b) == f.size && b[0]&0x80 != 0 {
			v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*f.size)))
		}
		return v, nil
	case t712Address:
		if len(b) != 20 {
			return nil, fmt.Errorf("%s: %d bytes for an address", f.key, len(b))
		}
		return append([]byte(nil), b...), nil
	case t712Bool:
		if len(b) != 1 || b[0] > 1 {
			return nil, fmt.Errorf("%s: bad bool", f.key)
		}
		return b[0] == 1, nil
	case t712String:
		return string(b), nil
	case t712BytesFix:
		if len(b) != f.size {
			return nil, fmt.Errorf("%s: %d bytes for bytes%d", f.key, len(b), f.size)
		}
		return append([]byte(nil), b...), nil
	case t712Bytes:
		return append([]byte(nil), b...), nil
	}
	return nil, fmt.Errorf("%s: unknown type", f.key)
}

func (s *eip712State) finishRoot(values map[string]any) error {
	s.stack = nil
	types := apitypes.Types{}
	for name, fields := range s.defs {
		ts := make([]apitypes.Type, 0, len(fields))
		for _, f := range fields {
			ts = append(ts, apitypes.Type{Name: f.key, Type: f.typeString()})
		}
		types[name] = ts
	}
	h, err := eip712.HashStruct(types, s.root, values)
	if err != nil {
		return fmt.Errorf("hash %s: %w", s.root, err)
	}
	if s.root == eip712.DomainType {
		s.domainHash = h[:]
	} else {
		s.messageHash = h[:]
	}
	return nil
}
