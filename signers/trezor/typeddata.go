package trezor

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
	"google.golang.org/protobuf/proto"

	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/sdk/eip712"
	"github.com/mm-wallet/mm/signers/trezor/trezorpb"
)

// TypedDataOptions tunes SignTypedDataWith.
type TypedDataOptions struct {
	// NonV4Arrays asks a Core device to encode arrays of structs as the
	// EIP-712 text says (the members' encodeData concatenated) instead of
	// MetaMask's signTypedData_v4 (their hashStruct). The request's
	// MessageHash must then be computed that way; the driver cannot check
	// it against the JSON and relies on the signature check alone.
	NonV4Arrays bool
}

// SignTypedData implements sdk.Signer: EIP-712 v4 in full on Core models
// (the device reads the types and values and computes the hashes itself),
// as the domain separator and message hash on the Trezor One. Either way
// the returned signature must recover to the account over the request's
// hashes, which must match the JSON.
func (s *Signer) SignTypedData(ctx context.Context, req *sdk.SignTypedDataRequest) (*sdk.SignTypedDataResponse, error) {
	return s.SignTypedDataWith(ctx, req, TypedDataOptions{})
}

// SignTypedDataWith is SignTypedData with options.
func (s *Signer) SignTypedDataWith(ctx context.Context, req *sdk.SignTypedDataRequest, opts TypedDataOptions) (*sdk.SignTypedDataResponse, error) {
	const op = "sign typed data"
	if req == nil {
		return nil, invalid(sdk.CodeInvalidRequest, "", "%s: nil request", op)
	}
	path, err := resolvePath(op, req.Account)
	if err != nil {
		return nil, err
	}
	var doc *typedDoc
	if len(bytes.TrimSpace(req.TypedData)) > 0 || !opts.NonV4Arrays {
		d, err := eip712.Parse(req.TypedData)
		if err != nil {
			return nil, err
		}
		switch {
		case !opts.NonV4Arrays:
			if err := d.CheckHashes(req.DomainSeparator, req.MessageHash); err != nil {
				return nil, err
			}
		case d.MessageHash == nil && req.MessageHash != nil:
			// Non-v4 hashes differ from the document's v4 ones: only
			// their presence can be checked.
			return nil, typedErr("the primary type is EIP712Domain, so the message hash must be absent")
		case d.MessageHash != nil && req.MessageHash == nil:
			return nil, typedErr("the message hash is missing")
		}
		doc = &typedDoc{types: d.Types, primary: d.PrimaryType, domain: d.Domain, message: d.Message}
	}
	digest := eip712.Digest(req.DomainSeparator, req.MessageHash)
	var sig []byte
	err = s.withDevice(ctx, func(d *device) error {
		if err := d.ethereumCheck(op); err != nil {
			return err
		}
		if err := d.expectAccount(ctx, op, path, req.Account.Address); err != nil {
			return err
		}
		var resp proto.Message
		var err error
		switch {
		case d.isOne():
			if !d.atLeast(minTypedHash, minTypedHash) {
				return d.tooOld(op, "EIP-712 signing", minTypedHash, minTypedData)
			}
			m := &trezorpb.EthereumSignTypedHash{AddressN: path, DomainSeparatorHash: req.DomainSeparator.Bytes()}
			if req.MessageHash != nil {
				m.MessageHash = req.MessageHash.Bytes()
			}
			resp, err = d.call(ctx, op, m)
		default:
			if !d.atLeast(minTypedData, minTypedData) {
				return d.tooOld(op, "EIP-712 signing", minTypedHash, minTypedData)
			}
			if doc == nil {
				return typedErr("a Core model needs the typed data JSON")
			}
			// Walk the document as the device will, so a value it would
			// refuse is found before anything reaches it.
			if err := doc.precheck(); err != nil {
				return err
			}
			resp, err = d.signTypedFull(ctx, op, path, doc, !opts.NonV4Arrays)
		}
		if err != nil {
			return err
		}
		r, ok := resp.(*trezorpb.EthereumTypedDataSignature)
		if !ok {
			return unexpected(op, resp)
		}
		// The device's own address tells whether it hashed what the
		// request says: a signature over other hashes recovers elsewhere.
		if r.Address != nil && common.IsHexAddress(r.GetAddress()) {
			if _, err := checkSignature(op, r.Signature, digest, common.HexToAddress(r.GetAddress()), path); sdk.CodeOf(err) == sdk.CodeUnknownAccount {
				return typedErr("the device computed other hashes than the request's")
			}
		}
		sig, err = checkSignature(op, r.Signature, digest, req.Account.Address, path)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &sdk.SignTypedDataResponse{Signature: sig}, nil
}

func typedErr(format string, args ...any) *sdk.Error {
	return invalid(sdk.CodeInvalidTypedData, "pass an EIP-712 v4 document (types, primaryType, domain, message) and the hashes computed from it", "sign typed data: "+format, args...)
}

// typedDoc is a document eip712.Parse has checked, with the methods that
// answer the device's struct and value requests.
type typedDoc struct {
	types   apitypes.Types
	primary string
	domain  map[string]any // integers as *big.Int
	message map[string]any
}

// ---- struct definitions ----

type (
	fieldType = trezorpb.EthereumTypedDataStructAck_EthereumFieldType
	member    = trezorpb.EthereumTypedDataStructAck_EthereumStructMember
)

var errNested = errors.New("nested arrays")

// fieldTypeOf turns an EIP-712 type name into the device's description.
func (t *typedDoc) fieldTypeOf(name string) (*fieldType, error) {
	if strings.HasSuffix(name, "]") {
		open := strings.LastIndexByte(name, '[')
		if open <= 0 {
			return nil, fmt.Errorf("bad array type %q", name)
		}
		inner, dim := name[:open], name[open+1:len(name)-1]
		if strings.HasSuffix(inner, "]") {
			return nil, errNested
		}
		ft := &fieldType{DataType: trezorpb.EthereumTypedDataStructAck_ARRAY.Enum()}
		if dim != "" {
			n, err := strconv.ParseUint(dim, 10, 32)
			if err != nil || n == 0 || n > 1<<16-1 {
				return nil, fmt.Errorf("bad array size in %q", name)
			}
			ft.Size = proto.Uint32(uint32(n))
		}
		entry, err := t.fieldTypeOf(inner)
		if err != nil {
			return nil, err
		}
		ft.EntryType = entry
		return ft, nil
	}
	dt := func(d trezorpb.EthereumTypedDataStructAck_EthereumDataType) *trezorpb.EthereumTypedDataStructAck_EthereumDataType {
		return d.Enum()
	}
	switch {
	case name == "string":
		return &fieldType{DataType: dt(trezorpb.EthereumTypedDataStructAck_STRING)}, nil
	case name == "bool":
		return &fieldType{DataType: dt(trezorpb.EthereumTypedDataStructAck_BOOL)}, nil
	case name == "address":
		return &fieldType{DataType: dt(trezorpb.EthereumTypedDataStructAck_ADDRESS)}, nil
	case name == "bytes":
		return &fieldType{DataType: dt(trezorpb.EthereumTypedDataStructAck_BYTES)}, nil
	case strings.HasPrefix(name, "bytes"):
		n, err := strconv.Atoi(name[5:])
		if err != nil || n < 1 || n > 32 || name[5] == '0' {
			return nil, fmt.Errorf("bad type %q", name)
		}
		return &fieldType{DataType: dt(trezorpb.EthereumTypedDataStructAck_BYTES), Size: proto.Uint32(uint32(n))}, nil
	case strings.HasPrefix(name, "uint"), strings.HasPrefix(name, "int"):
		d, bits := trezorpb.EthereumTypedDataStructAck_UINT, strings.TrimPrefix(name, "uint")
		if !strings.HasPrefix(name, "uint") {
			d, bits = trezorpb.EthereumTypedDataStructAck_INT, strings.TrimPrefix(name, "int")
		}
		n := 256
		if bits != "" {
			var err error
			if n, err = strconv.Atoi(bits); err != nil || n < 8 || n > 256 || n%8 != 0 || bits[0] == '0' {
				return nil, fmt.Errorf("bad type %q", name)
			}
		}
		return &fieldType{DataType: dt(d), Size: proto.Uint32(uint32(n / 8))}, nil
	}
	members, ok := t.types[name]
	if !ok {
		return nil, fmt.Errorf("type %q is not defined", clip(name, 64))
	}
	return &fieldType{DataType: dt(trezorpb.EthereumTypedDataStructAck_STRUCT), Size: proto.Uint32(uint32(len(members))), StructName: proto.String(name)}, nil
}

func (t *typedDoc) structAck(name string) (*trezorpb.EthereumTypedDataStructAck, error) {
	fields, ok := t.types[name]
	if !ok {
		return nil, fmt.Errorf("unknown struct %q", clip(name, 64))
	}
	ack := &trezorpb.EthereumTypedDataStructAck{}
	for _, f := range fields {
		ft, err := t.fieldTypeOf(f.Type)
		if err != nil {
			return nil, err
		}
		ack.Members = append(ack.Members, &member{Type: ft, Name: proto.String(f.Name)})
	}
	return ack, nil
}

// ---- values ----

// valueAt answers EthereumTypedDataValueRequest: the encoded value at
// member path (root 0 = domain, 1 = message), or an array's length as a
// big-endian uint16.
func (t *typedDoc) valueAt(path []uint32) ([]byte, error) {
	if len(path) == 0 || path[0] > 1 || (path[0] == 1 && t.primary == "EIP712Domain") {
		return nil, fmt.Errorf("bad member path %v", path)
	}
	typ, val := "EIP712Domain", any(t.domain)
	if path[0] == 1 {
		typ, val = t.primary, any(t.message)
	}
	for _, idx := range path[1:] {
		if strings.HasSuffix(typ, "]") {
			arr, ok := val.([]any)
			if !ok {
				return nil, fmt.Errorf("%s: not an array", typ)
			}
			if int(idx) >= len(arr) {
				return nil, fmt.Errorf("array index %d out of range", idx)
			}
			typ, val = typ[:strings.LastIndexByte(typ, '[')], arr[idx]
			continue
		}
		fields, ok := t.types[typ]
		if !ok {
			return nil, fmt.Errorf("%s has no members", clip(typ, 64))
		}
		if int(idx) >= len(fields) {
			return nil, fmt.Errorf("member index %d out of range", idx)
		}
		obj, ok := val.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: not an object", clip(typ, 64))
		}
		f := fields[idx]
		v, ok := obj[f.Name]
		if !ok {
			return nil, fmt.Errorf("member %q is missing", clip(f.Name, 64))
		}
		typ, val = f.Type, v
	}
	if strings.HasSuffix(typ, "]") {
		arr, ok := val.([]any)
		if !ok {
			return nil, fmt.Errorf("%s: not an array", typ)
		}
		if len(arr) > 1<<16-1 {
			return nil, fmt.Errorf("array of %d elements is too long", len(arr))
		}
		return binary.BigEndian.AppendUint16(nil, uint16(len(arr))), nil
	}
	if _, ok := t.types[typ]; ok {
		return nil, fmt.Errorf("%s is a struct, not a value", clip(typ, 64))
	}
	return encodeAtomic(typ, val)
}

// encodeAtomic encodes a value the way the firmware expects it: integers
// big-endian in exactly size bytes (two's complement for intN), addresses
// as 20 bytes, bools as one byte, strings as UTF-8, bytes raw.
func encodeAtomic(typ string, v any) ([]byte, error) {
	switch {
	case typ == "address":
		s, ok := v.(string)
		if !ok || !common.IsHexAddress(s) {
			return nil, fmt.Errorf("%v is not an address", clipAny(v))
		}
		return common.HexToAddress(s).Bytes(), nil
	case typ == "bool":
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("%v is not a bool", clipAny(v))
		}
		if b {
			return []byte{1}, nil
		}
		return []byte{0}, nil
	case typ == "string":
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%v is not a string", clipAny(v))
		}
		return []byte(s), nil
	case strings.HasPrefix(typ, "bytes"):
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%v is not 0x-hex bytes", clipAny(v))
		}
		b, err := hexutil.Decode(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not 0x-hex bytes", clip(s, 40))
		}
		if typ != "bytes" {
			n, _ := strconv.Atoi(typ[5:])
			if len(b) != n {
				return nil, fmt.Errorf("%s needs %d bytes, got %d", typ, n, len(b))
			}
		}
		return b, nil
	case strings.HasPrefix(typ, "uint"), strings.HasPrefix(typ, "int"):
		signed := strings.HasPrefix(typ, "int")
		bits := 256
		if s := strings.TrimLeft(typ, "uint"); s != "" {
			bits, _ = strconv.Atoi(s)
		}
		n, err := toInt(v)
		if err != nil {
			return nil, err
		}
		lo, hi := big.NewInt(0), new(big.Int).Lsh(big.NewInt(1), uint(bits))
		if signed {
			hi.Rsh(hi, 1)
			lo.Neg(hi)
		}
		if n.Cmp(lo) < 0 || n.Cmp(hi) >= 0 {
			return nil, fmt.Errorf("%s out of range for %s", clip(n.String(), 80), typ)
		}
		if n.Sign() < 0 {
			n = new(big.Int).Add(n, new(big.Int).Lsh(big.NewInt(1), uint(bits)))
		}
		out := make([]byte, bits/8)
		n.FillBytes(out)
		return out, nil
	}
	return nil, fmt.Errorf("unknown type %q", clip(typ, 64))
}

// toInt returns an integer value: eip712.Parse has turned every one,
// whether the JSON gave a number or a string, into a *big.Int.
func toInt(v any) (*big.Int, error) {
	if n, ok := v.(*big.Int); ok {
		return n, nil
	}
	return nil, fmt.Errorf("%v is not an integer", clipAny(v))
}

func clipAny(v any) string { return clip(fmt.Sprintf("%v", v), 40) }

// precheck walks the whole document as the device will, so bad values are
// found before anything reaches the device.
func (t *typedDoc) precheck() error {
	for name := range t.types {
		if _, err := t.structAck(name); err != nil {
			if errors.Is(err, errNested) {
				return invalid(sdk.CodeUnsupported, "Trezor firmware cannot sign typed data with arrays of arrays", "sign typed data: type %q has nested arrays", clip(name, 64))
			}
			return typedErr("%v", err)
		}
	}
	if err := t.walk("EIP712Domain", t.domain, []uint32{0}, 0); err != nil {
		return typedErr("domain: %v", err)
	}
	if t.primary != "EIP712Domain" {
		if err := t.walk(t.primary, t.message, []uint32{1}, 0); err != nil {
			return typedErr("message: %v", err)
		}
	}
	return nil
}

func (t *typedDoc) walk(typ string, val any, path []uint32, depth int) error {
	if depth > 64 {
		return errors.New("nested too deeply")
	}
	if strings.HasSuffix(typ, "]") {
		arr, ok := val.([]any)
		if !ok {
			return fmt.Errorf("%s: not an array", clip(typ, 64))
		}
		open := strings.LastIndexByte(typ, '[')
		if dim := typ[open+1 : len(typ)-1]; dim != "" {
			if n, _ := strconv.Atoi(dim); n != len(arr) {
				return fmt.Errorf("%s has %d elements", clip(typ, 64), len(arr))
			}
		}
		for i, e := range arr {
			if err := t.walk(typ[:open], e, childPath(path, i), depth+1); err != nil {
				return err
			}
		}
		_, err := t.valueAt(path)
		return err
	}
	if fields, ok := t.types[typ]; ok {
		obj, ok := val.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: not an object", clip(typ, 64))
		}
		for i, f := range fields {
			v, ok := obj[f.Name]
			if !ok {
				return fmt.Errorf("member %q is missing", clip(f.Name, 64))
			}
			if err := t.walk(f.Type, v, childPath(path, i), depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	_, err := t.valueAt(path)
	return err
}

// signTypedFull runs EthereumSignTypedData: it answers every struct and
// value request from the document until the device signs.
func (d *device) signTypedFull(ctx context.Context, op string, path []uint32, doc *typedDoc, v4 bool) (proto.Message, error) {
	resp, err := d.call(ctx, op, &trezorpb.EthereumSignTypedData{AddressN: path, PrimaryType: proto.String(doc.primary), MetamaskV4Compat: proto.Bool(v4)})
	for n := 0; err == nil; n++ {
		if n > 1<<20 {
			d.cancel()
			return nil, errorf(sdk.CodeDeviceError, "reconnect the Trezor and retry", "%s: the device keeps asking for typed data", op)
		}
		var next proto.Message
		switch r := resp.(type) {
		case *trezorpb.EthereumTypedDataStructRequest:
			ack, aerr := doc.structAck(r.GetName())
			if aerr != nil {
				d.cancel()
				return nil, errorf(sdk.CodeDeviceError, "reconnect the Trezor and retry", "%s: the device asked for %v", op, aerr)
			}
			next = ack
		case *trezorpb.EthereumTypedDataValueRequest:
			v, verr := doc.valueAt(r.MemberPath)
			if verr != nil {
				d.cancel()
				return nil, errorf(sdk.CodeDeviceError, "reconnect the Trezor and retry", "%s: the device asked for a value that does not exist: %v", op, verr)
			}
			next = &trezorpb.EthereumTypedDataValueAck{Value: v}
		default:
			return resp, nil
		}
		resp, err = d.call(ctx, op, next)
	}
	return nil, err
}

func childPath(p []uint32, i int) []uint32 {
	return append(append(make([]uint32, 0, len(p)+1), p...), uint32(i))
}
