package ledger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/sdk/eip712"
)

// APDU is one command of the Ethereum app (CLA 0xE0).
type APDU struct {
	INS, P1, P2 byte
	Data        []byte
}

// Bytes renders the APDU with CLA and Lc.
func (a APDU) Bytes() []byte {
	return append([]byte{claEth, a.INS, a.P1, a.P2, byte(len(a.Data))}, a.Data...)
}

// TypedDataAPDUs is an EIP-712 v4 document encoded for the app's full mode:
// the struct definitions (INS 0x1A) and struct values (INS 0x1C) to send
// before the sign APDU, with the document's hashes.
type TypedDataAPDUs struct {
	APDUs   []APDU
	Domain  common.Hash
	Message *common.Hash // nil when the primary type is EIP712Domain
}

func invalidTyped(format string, args ...any) error {
	return &sdk.Error{Code: sdk.CodeInvalidTypedData,
		Message: "ledger: typed data: " + fmt.Sprintf(format, args...),
		Hint:    "pass an EIP-712 v4 document: {types, primaryType, domain, message}"}
}

// errTooBig marks documents the device cannot take in full mode (names over
// 255 bytes, arrays over 255 elements, values over 64 KiB); the signer then
// falls back to the hashed mode.
var errTooBig = errors.New("beyond the device's full-mode limits")

var typeRE = regexp.MustCompile(`^([A-Za-z_$][A-Za-z0-9_$]*)((\[[0-9]*\])*)$`)

// fieldType is a parsed EIP-712 field type.
type fieldType struct {
	kind   byte   // 0 custom, 1 int, 2 uint, 3 address, 4 bool, 5 string, 6 bytesN, 7 bytes
	name   string // custom struct name
	size   int    // bytes, for int/uint/bytesN
	arrays []int  // per level in textual order; -1 dynamic
}

func parseFieldType(t string, types apitypes.Types) (fieldType, error) {
	m := typeRE.FindStringSubmatch(t)
	if m == nil {
		return fieldType{}, invalidTyped("bad type %q", t)
	}
	var f fieldType
	base := m[1]
	for _, lvl := range regexp.MustCompile(`\[([0-9]*)\]`).FindAllStringSubmatch(m[2], -1) {
		if lvl[1] == "" {
			f.arrays = append(f.arrays, -1)
			continue
		}
		n, err := strconv.Atoi(lvl[1])
		if err != nil || n > 255 {
			return f, fmt.Errorf("array size %q: %w", lvl[1], errTooBig)
		}
		f.arrays = append(f.arrays, n)
	}
	intSize := func(prefix string) (int, bool) {
		s := strings.TrimPrefix(base, prefix)
		if s == "" {
			return 32, true
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 8 || n > 256 || n%8 != 0 {
			return 0, false
		}
		return n / 8, true
	}
	switch {
	case base == "address":
		f.kind = 3
	case base == "bool":
		f.kind = 4
	case base == "string":
		f.kind = 5
	case base == "bytes":
		f.kind = 7
	case strings.HasPrefix(base, "bytes"):
		n, err := strconv.Atoi(strings.TrimPrefix(base, "bytes"))
		if err != nil || n < 1 || n > 32 {
			return f, invalidTyped("bad type %q", t)
		}
		f.kind, f.size = 6, n
	case strings.HasPrefix(base, "uint"):
		n, ok := intSize("uint")
		if !ok {
			return f, invalidTyped("bad type %q", t)
		}
		f.kind, f.size = 2, n
	case strings.HasPrefix(base, "int"):
		n, ok := intSize("int")
		if !ok {
			return f, invalidTyped("bad type %q", t)
		}
		f.kind, f.size = 1, n
	default:
		if _, ok := types[base]; !ok {
			return f, invalidTyped("undefined type %q", base)
		}
		f.kind, f.name = 0, base
	}
	return f, nil
}

// EncodeTypedData checks a typed-data document (eip712.Parse), computes
// its hashes and encodes it for the full mode. Documents that are not valid
// EIP-712 v4 get INVALID_TYPED_DATA. For documents beyond the device's
// limits it returns the hashes (APDUs nil) with an error wrapping errTooBig.
func EncodeTypedData(doc []byte) (*TypedDataAPDUs, error) {
	d, err := eip712.Parse(doc)
	if err != nil {
		return nil, err
	}
	return encodeDocument(d)
}

// encodeDocument encodes a parsed document for the full mode: every struct
// definition in document order (as Ledger's own client sends them), then
// the domain's values and the message's.
func encodeDocument(d *eip712.Document) (*TypedDataAPDUs, error) {
	out := &TypedDataAPDUs{Domain: d.DomainSeparator, Message: d.MessageHash}
	e := &encoder712{types: d.Types}
	if err := e.document(d); err != nil {
		if errors.Is(err, errTooBig) {
			return out, err // hashes valid, APDUs nil: the hashed mode can still sign
		}
		return nil, err
	}
	out.APDUs = e.apdus
	return out, nil
}

func (e *encoder712) document(d *eip712.Document) error {
	for _, name := range d.Order {
		if err := e.def(name); err != nil {
			return err
		}
	}
	if err := e.root(eip712.DomainType, d.Domain); err != nil {
		return err
	}
	if d.PrimaryType != eip712.DomainType {
		return e.root(d.PrimaryType, d.Message)
	}
	return nil
}

type encoder712 struct {
	types apitypes.Types
	apdus []APDU
}

func (e *encoder712) add(ins, p1, p2 byte, data []byte) {
	e.apdus = append(e.apdus, APDU{INS: ins, P1: p1, P2: p2, Data: data})
}

// def sends one struct definition: its name, then one APDU per field.
func (e *encoder712) def(name string) error {
	if len(name) == 0 || len(name) > maxData {
		return fmt.Errorf("struct name of %d bytes: %w", len(name), errTooBig)
	}
	e.add(insEIP712StructDef, 0, 0x00, []byte(name))
	for _, fld := range e.types[name] {
		f, err := parseFieldType(fld.Type, e.types)
		if err != nil {
			return err
		}
		if fld.Name == "" || len(fld.Name) > 255 || len(f.name) > 255 || len(f.arrays) > 255 {
			return fmt.Errorf("field %q: %w", fld.Name, errTooBig)
		}
		desc := f.kind
		if len(f.arrays) > 0 {
			desc |= 0x80
		}
		if f.size > 0 {
			desc |= 0x40
		}
		b := []byte{desc}
		if f.kind == 0 {
			b = append(b, byte(len(f.name)))
			b = append(b, f.name...)
		}
		if f.size > 0 {
			b = append(b, byte(f.size))
		}
		if len(f.arrays) > 0 {
			b = append(b, byte(len(f.arrays)))
			for _, n := range f.arrays {
				if n < 0 {
					b = append(b, 0)
				} else {
					b = append(b, 1, byte(n))
				}
			}
		}
		b = append(b, byte(len(fld.Name)))
		b = append(b, fld.Name...)
		if len(b) > maxData {
			return fmt.Errorf("field %q definition: %w", fld.Name, errTooBig)
		}
		e.add(insEIP712StructDef, 0, 0xFF, b)
	}
	return nil
}

// root sends the values of a root struct (the domain or the message).
func (e *encoder712) root(name string, values map[string]any) error {
	e.add(insEIP712StructImpl, 0, 0x00, []byte(name))
	return e.structValues(name, values, 0)
}

func (e *encoder712) structValues(name string, values map[string]any, depth int) error {
	if depth > 32 {
		return invalidTyped("structs nested deeper than 32 levels")
	}
	for _, fld := range e.types[name] {
		f, err := parseFieldType(fld.Type, e.types)
		if err != nil {
			return err
		}
		if err := e.value(f, len(f.arrays), values[fld.Name], fld.Name, depth); err != nil {
			return err
		}
	}
	return nil
}

// value sends one field value; levels is how many array levels remain (the
// outermost JSON array is the last bracket of the type).
func (e *encoder712) value(f fieldType, levels int, v any, key string, depth int) error {
	if levels > 0 {
		arr, ok := v.([]any)
		if !ok {
			return invalidTyped("%s: want an array", key)
		}
		if len(arr) > 255 {
			return fmt.Errorf("%s: array of %d elements: %w", key, len(arr), errTooBig)
		}
		if n := f.arrays[levels-1]; n >= 0 && n != len(arr) {
			return invalidTyped("%s: %d elements for a fixed array of %d", key, len(arr), n)
		}
		e.add(insEIP712StructImpl, 0, 0x0F, []byte{byte(len(arr))})
		for _, el := range arr {
			if err := e.value(f, levels-1, el, key, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if f.kind == 0 {
		m, ok := v.(map[string]any)
		if !ok {
			return invalidTyped("%s: want an object of type %s", key, f.name)
		}
		return e.structValues(f.name, m, depth+1)
	}
	raw, err := atomicValue(f, v, key)
	if err != nil {
		return err
	}
	if len(raw) > 0xffff {
		return fmt.Errorf("%s: value of %d bytes: %w", key, len(raw), errTooBig)
	}
	buf := binary.BigEndian.AppendUint16(nil, uint16(len(raw)))
	buf = append(buf, raw...)
	for len(buf) > maxData {
		e.add(insEIP712StructImpl, 0x01, 0xFF, buf[:maxData])
		buf = buf[maxData:]
	}
	e.add(insEIP712StructImpl, 0x00, 0xFF, buf)
	return nil
}

// atomicValue encodes a value the way the app reads it: integers big-endian
// in as few bytes as they take (negative ones in two's complement over the
// full type size), addresses as 20 bytes, booleans as one byte, strings and
// bytes raw.
func atomicValue(f fieldType, v any, key string) ([]byte, error) {
	switch f.kind {
	case 1, 2:
		n, err := toInt(v)
		if err != nil {
			return nil, invalidTyped("%s: %v", key, err)
		}
		bits := 8 * f.size
		if f.kind == 2 {
			if n.Sign() < 0 || n.BitLen() > bits {
				return nil, invalidTyped("%s: %s out of range for uint%d", key, n, bits)
			}
			if n.Sign() == 0 {
				return []byte{0}, nil
			}
			return n.Bytes(), nil
		}
		lim := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
		if n.Cmp(lim) >= 0 || n.Cmp(new(big.Int).Neg(lim)) < 0 {
			return nil, invalidTyped("%s: %s out of range for int%d", key, n, bits)
		}
		if n.Sign() >= 0 {
			if n.Sign() == 0 {
				return []byte{0}, nil
			}
			return n.Bytes(), nil
		}
		tc := new(big.Int).Add(n, new(big.Int).Lsh(big.NewInt(1), uint(bits)))
		out := make([]byte, f.size)
		tc.FillBytes(out)
		return out, nil
	case 3:
		s, ok := v.(string)
		if !ok || !common.IsHexAddress(s) {
			return nil, invalidTyped("%s: %v is not an address", key, v)
		}
		return common.HexToAddress(s).Bytes(), nil
	case 4:
		b, ok := v.(bool)
		if !ok {
			return nil, invalidTyped("%s: %v is not a bool", key, v)
		}
		if b {
			return []byte{1}, nil
		}
		return []byte{0}, nil
	case 5:
		s, ok := v.(string)
		if !ok {
			return nil, invalidTyped("%s: %v is not a string", key, v)
		}
		return []byte(s), nil
	case 6, 7:
		s, ok := v.(string)
		if !ok {
			return nil, invalidTyped("%s: %v is not 0x-prefixed hex", key, v)
		}
		b, err := hexutil.Decode(s)
		if err != nil {
			return nil, invalidTyped("%s: %v", key, err)
		}
		if f.kind == 6 && len(b) != f.size {
			return nil, invalidTyped("%s: %d bytes for bytes%d", key, len(b), f.size)
		}
		return b, nil
	}
	return nil, invalidTyped("%s: unknown type", key)
}

// toInt returns an integer value: eip712.Parse has turned every one,
// whether the JSON gave a number or a string, into a *big.Int.
func toInt(v any) (*big.Int, error) {
	if n, ok := v.(*big.Int); ok {
		return n, nil
	}
	return nil, fmt.Errorf("%v is not an integer", v)
}
