package trezor

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/mm-wallet/mm/hwtest/emulator"
	"github.com/mm-wallet/mm/signers/trezor/trezorpb"
)

// Full EIP-712 as Core firmware does it: the device asks for every struct
// type it meets (EthereumTypedDataStructRequest), then for every value by
// member path (EthereumTypedDataValueRequest; root 0 = domain, 1 =
// message; array lengths as uint16), hashes as it goes and signs
// keccak256(0x19 0x01 ‖ domainSeparator ‖ hashStruct(message)).

type (
	fieldType = trezorpb.EthereumTypedDataStructAck_EthereumFieldType
	member    = trezorpb.EthereumTypedDataStructAck_EthereumStructMember
)

const (
	dtUint    = trezorpb.EthereumTypedDataStructAck_UINT
	dtInt     = trezorpb.EthereumTypedDataStructAck_INT
	dtBytes   = trezorpb.EthereumTypedDataStructAck_BYTES
	dtString  = trezorpb.EthereumTypedDataStructAck_STRING
	dtBool    = trezorpb.EthereumTypedDataStructAck_BOOL
	dtAddress = trezorpb.EthereumTypedDataStructAck_ADDRESS
	dtArray   = trezorpb.EthereumTypedDataStructAck_ARRAY
	dtStruct  = trezorpb.EthereumTypedDataStructAck_STRUCT

	// maxTypedDepth bounds struct nesting and member paths, so a hostile
	// host cannot make the emulator recurse without end.
	maxTypedDepth = 32
	// maxTypes bounds the number of struct types.
	maxTypes = 256
)

type typedEnvelope struct {
	e        *Emulator
	primary  string
	v4compat bool
	types    map[string][]*member
}

func (e *Emulator) signTypedData(k *emulator.Keyring, msg *trezorpb.EthereumSignTypedData) (proto.Message, error) {
	if msg.PrimaryType == nil {
		return nil, fail(failDataError, "Missing required field")
	}
	key, err := k.Derive(msg.AddressN)
	if err != nil {
		return nil, fail(failDataError, "Invalid path")
	}
	if err := e.confirm(btnOther, "confirm_address"); err != nil {
		return nil, err
	}
	env := &typedEnvelope{e: e, primary: msg.GetPrimaryType(), v4compat: msg.GetMetamaskV4Compat(), types: map[string][]*member{}}
	if err := env.collect("EIP712Domain", 0); err != nil {
		return nil, err
	}
	if err := env.collect(env.primary, 0); err != nil {
		return nil, err
	}
	// The device reads the domain's name and version first, to show them.
	for i, m := range env.types["EIP712Domain"] {
		if n := m.GetName(); n == "name" || n == "version" {
			if _, err := env.value(m.Type, []uint32{0, uint32(i)}); err != nil {
				return nil, err
			}
		}
	}
	if err := e.confirm(btnOther, "confirm_domain"); err != nil {
		return nil, err
	}
	domain, err := env.hashStruct("EIP712Domain", []uint32{0})
	if err != nil {
		return nil, err
	}
	var msgHash []byte
	if env.primary == "EIP712Domain" {
		if err := e.confirm(btnOther, "confirm_empty_typed_message"); err != nil {
			return nil, err
		}
	} else {
		if err := e.confirm(btnOther, "confirm_message"); err != nil {
			return nil, err
		}
		if msgHash, err = env.hashStruct(env.primary, []uint32{1}); err != nil {
			return nil, err
		}
	}
	if err := e.confirm(btnOther, "confirm_typed_data_final"); err != nil {
		return nil, err
	}
	sig, _, err := e.sign(k, msg.AddressN, keccak([]byte{0x19, 0x01}, domain, msgHash))
	if err != nil {
		return nil, err
	}
	sig[64] += 27
	return &trezorpb.EthereumTypedDataSignature{Signature: sig, Address: proto.String(key.Address.Hex())}, nil
}

// collect asks for a struct type and, recursively, the structs it uses.
func (t *typedEnvelope) collect(name string, depth int) error {
	if depth > maxTypedDepth || len(t.types) >= maxTypes {
		return fail(failDataError, "Typed data too deep")
	}
	var ack trezorpb.EthereumTypedDataStructAck
	if err := t.e.expect(&trezorpb.EthereumTypedDataStructRequest{Name: proto.String(name)}, tTypedStructAck, &ack, failCancelled); err != nil {
		return err
	}
	for _, m := range ack.Members {
		if m.Type == nil || m.Name == nil {
			return fail(failDataError, "Missing required field")
		}
		if err := validateFieldType(m.Type, 0); err != nil {
			return err
		}
	}
	t.types[name] = ack.Members
	for _, m := range ack.Members {
		ft := m.Type
		for ft.GetDataType() == dtArray {
			ft = ft.EntryType
		}
		if ft.GetDataType() == dtStruct {
			if _, ok := t.types[ft.GetStructName()]; !ok {
				if err := t.collect(ft.GetStructName(), depth+1); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func validateFieldType(f *fieldType, depth int) error {
	if depth > maxTypedDepth {
		return fail(failDataError, "Typed data too deep")
	}
	dt := f.GetDataType()
	if dt == dtArray {
		if f.EntryType == nil {
			return fail(failDataError, "Missing entry_type in array")
		}
		if err := validateFieldType(f.EntryType, depth+1); err != nil {
			return err
		}
	} else if f.EntryType != nil {
		return fail(failDataError, "Unexpected entry_type in nonarray")
	}
	if dt == dtStruct {
		if f.StructName == nil {
			return fail(failDataError, "Missing struct_name in struct")
		}
	} else if f.StructName != nil {
		return fail(failDataError, "Unexpected struct_name in nonstruct")
	}
	switch dt {
	case dtStruct:
		if f.Size == nil {
			return fail(failDataError, "Missing size in struct")
		}
	case dtBytes:
		if f.Size != nil && (f.GetSize() < 1 || f.GetSize() > 32) {
			return fail(failDataError, "Invalid size in bytes")
		}
	case dtUint, dtInt:
		if f.Size == nil || f.GetSize() < 1 || f.GetSize() > 32 {
			return fail(failDataError, "Invalid size in int/uint")
		}
	case dtString, dtBool, dtAddress:
		if f.Size != nil {
			return fail(failDataError, "Unexpected size in str/bool/addr")
		}
	case dtArray:
	default:
		return fail(failDataError, "Invalid data type")
	}
	return nil
}

// typeName renders a member type as EIP-712 spells it ("uint256", "Person[]").
func typeName(f *fieldType) string {
	switch f.GetDataType() {
	case dtStruct:
		return f.GetStructName()
	case dtArray:
		if f.Size == nil {
			return typeName(f.EntryType) + "[]"
		}
		return fmt.Sprintf("%s[%d]", typeName(f.EntryType), f.GetSize())
	case dtUint:
		return fmt.Sprintf("uint%d", 8*f.GetSize())
	case dtInt:
		return fmt.Sprintf("int%d", 8*f.GetSize())
	case dtBytes:
		if f.Size == nil {
			return "bytes"
		}
		return fmt.Sprintf("bytes%d", f.GetSize())
	case dtString:
		return "string"
	case dtBool:
		return "bool"
	case dtAddress:
		return "address"
	}
	return "?"
}

func (t *typedEnvelope) encodeType(primary string) ([]byte, error) {
	deps := map[string]bool{}
	t.deps(primary, deps, 0)
	delete(deps, primary)
	names := make([]string, 0, len(deps))
	for d := range deps {
		names = append(names, d)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, name := range append([]string{primary}, names...) {
		members, ok := t.types[name]
		if !ok {
			return nil, fail(failDataError, "Unknown struct %s", name)
		}
		b.WriteString(name + "(")
		for i, m := range members {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(typeName(m.Type) + " " + m.GetName())
		}
		b.WriteByte(')')
	}
	return []byte(b.String()), nil
}

func (t *typedEnvelope) deps(name string, out map[string]bool, depth int) {
	if out[name] || depth > maxTypedDepth {
		return
	}
	members, ok := t.types[name]
	if !ok {
		return
	}
	out[name] = true
	for _, m := range members {
		ft := m.Type
		for ft.GetDataType() == dtArray {
			ft = ft.EntryType
		}
		if ft.GetDataType() == dtStruct {
			t.deps(ft.GetStructName(), out, depth+1)
		}
	}
}

func (t *typedEnvelope) hashStruct(name string, path []uint32) ([]byte, error) {
	if len(path) > maxTypedDepth {
		return nil, fail(failDataError, "Typed data too deep")
	}
	enc, err := t.encodeType(name)
	if err != nil {
		return nil, err
	}
	w := append([]byte(nil), keccak(enc)...)
	data, err := t.encodeData(name, path)
	if err != nil {
		return nil, err
	}
	return keccak(append(w, data...)), nil
}

func (t *typedEnvelope) encodeData(name string, path []uint32) ([]byte, error) {
	members, ok := t.types[name]
	if !ok {
		return nil, fail(failDataError, "Unknown struct %s", name)
	}
	var w []byte
	for i, m := range members {
		mpath := append(append([]uint32(nil), path...), uint32(i))
		ft := m.Type
		switch ft.GetDataType() {
		case dtStruct:
			h, err := t.hashStruct(ft.GetStructName(), mpath)
			if err != nil {
				return nil, err
			}
			w = append(w, h...)
		case dtArray:
			size := ft.GetSize()
			if ft.Size == nil {
				v, err := t.value(&fieldType{DataType: dtUint.Enum(), Size: proto.Uint32(2)}, mpath)
				if err != nil {
					return nil, err
				}
				size = uint32(v[0])<<8 | uint32(v[1])
			}
			entry := ft.EntryType
			var arr []byte
			for j := uint32(0); j < size; j++ {
				epath := append(append([]uint32(nil), mpath...), j)
				switch entry.GetDataType() {
				case dtStruct:
					var (
						b   []byte
						err error
					)
					if t.v4compat {
						b, err = t.hashStruct(entry.GetStructName(), epath)
					} else {
						b, err = t.encodeData(entry.GetStructName(), epath)
					}
					if err != nil {
						return nil, err
					}
					arr = append(arr, b...)
				case dtArray:
					return nil, fail(failDataError, "Nested arrays are not supported")
				default:
					v, err := t.value(entry, epath)
					if err != nil {
						return nil, err
					}
					arr = append(arr, encodeField(entry, v)...)
				}
			}
			w = append(w, keccak(arr)...)
		default:
			v, err := t.value(ft, mpath)
			if err != nil {
				return nil, err
			}
			w = append(w, encodeField(ft, v)...)
		}
	}
	return w, nil
}

// value asks the host for the value at path and validates it.
func (t *typedEnvelope) value(f *fieldType, path []uint32) ([]byte, error) {
	var ack trezorpb.EthereumTypedDataValueAck
	if err := t.e.expect(&trezorpb.EthereumTypedDataValueRequest{MemberPath: path}, tTypedValueAck, &ack, failCancelled); err != nil {
		return nil, err
	}
	v := ack.Value
	if v == nil {
		return nil, fail(failDataError, "Missing required field")
	}
	if f.Size != nil && uint32(len(v)) != f.GetSize() {
		return nil, fail(failDataError, "Invalid length")
	}
	switch f.GetDataType() {
	case dtBool:
		if len(v) != 1 || v[0] > 1 {
			return nil, fail(failDataError, "Invalid boolean value")
		}
	case dtAddress:
		if len(v) != 20 {
			return nil, fail(failDataError, "Invalid address")
		}
	case dtString:
		if !utf8.Valid(v) {
			return nil, fail(failDataError, "Invalid UTF-8")
		}
	}
	return v, nil
}

// encodeField is EIP-712's encoding of an atomic value as 32 bytes.
func encodeField(f *fieldType, v []byte) []byte {
	out := make([]byte, 32)
	switch f.GetDataType() {
	case dtBytes:
		if f.Size == nil {
			return keccak(v)
		}
		copy(out, v)
	case dtString:
		return keccak(v)
	case dtInt:
		if len(v) > 0 && v[0]&0x80 != 0 {
			for i := range out {
				out[i] = 0xff
			}
		}
		copy(out[32-len(v):], v)
	default: // uint, bool, address
		copy(out[32-len(v):], v)
	}
	return out
}
