package eip712

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"unicode/utf8"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"github.com/mm-wallet/mm/sdk"
)

// MaxSize bounds a typed-data document, in bytes.
const MaxSize = 1 << 20

// MaxDepth bounds how deep structs and arrays nest below the domain or the
// message (a Ledger refuses deeper documents; nothing real comes close).
const MaxDepth = 32

// CodeChainIDMismatch is the code of CheckChainID's error: the domain names
// another chain than the one the caller signs for.
const CodeChainIDMismatch sdk.Code = "CHAIN_ID_MISMATCH"

// DomainType is the name of the domain's struct type.
const DomainType = "EIP712Domain"

// Document is a checked EIP-712 v4 document and its hashes. Parse makes
// one; its maps belong to the caller.
type Document struct {
	// Types are the struct definitions; EIP712Domain is always among
	// them (empty when the document left it out).
	Types apitypes.Types
	// Order lists the names of Types in the order the document defines
	// them, EIP712Domain first when the document left it out. Device
	// protocols that send the definitions one by one send them in this
	// order.
	Order []string
	// PrimaryType is the message's type, or EIP712Domain.
	PrimaryType string
	// Domain and Message are the values. Every integer (the value of an
	// intN or uintN field, whether the JSON gave a number or a string) is
	// a *big.Int; every other JSON number too.
	Domain, Message map[string]any
	// ChainID is domain.chainId, nil when the domain has none.
	ChainID *big.Int
	// DomainSeparator is hashStruct(EIP712Domain, domain).
	DomainSeparator common.Hash
	// MessageHash is hashStruct(primaryType, message), nil when the
	// primary type is EIP712Domain (the signature then covers the domain
	// alone, as MetaMask's signTypedData_v4 does).
	MessageHash *common.Hash
}

// Parse checks data strictly and computes its hashes. Every problem is an
// *sdk.Error with the code INVALID_TYPED_DATA, saying which; nothing here
// panics on hostile input.
func Parse(data []byte) (d *Document, err error) {
	defer func() {
		if r := recover(); r != nil {
			d, err = nil, invalid("the typed data could not be encoded")
		}
	}()
	if len(data) > MaxSize {
		return nil, invalid(fmt.Sprintf("the typed data is larger than %d bytes", MaxSize))
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, invalid("the typed data is empty")
	}
	if data[0] != '{' {
		return nil, invalid("the typed data is not a JSON object")
	}
	var raw map[string]json.RawMessage
	if err := decodeAll(data, &raw); err != nil {
		return nil, err
	}
	for _, k := range []string{"types", "primaryType", "domain", "message"} {
		if _, ok := raw[k]; !ok {
			return nil, invalid(fmt.Sprintf("the typed data has no %q", k))
		}
	}
	d = &Document{}
	if d.Types, d.Order, err = decodeTypes(raw["types"]); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw["primaryType"], &d.PrimaryType); err != nil {
		return nil, invalid(`"primaryType" is not a string`)
	}
	if d.PrimaryType == "" {
		return nil, invalid(`"primaryType" is empty`)
	}
	if _, ok := d.Types[DomainType]; !ok {
		d.Types[DomainType] = []apitypes.Type{}
		d.Order = append([]string{DomainType}, d.Order...)
	}
	if _, ok := d.Types[d.PrimaryType]; !ok {
		return nil, invalid(fmt.Sprintf("the primary type %q is not among the types", clip(d.PrimaryType, 64)))
	}
	if err := checkTypes(d.Types, d.Order); err != nil {
		return nil, invalid(err.Error())
	}
	if d.Domain, err = decodeObject(raw["domain"], "domain"); err != nil {
		return nil, err
	}
	if d.Message, err = decodeObject(raw["message"], "message"); err != nil {
		return nil, err
	}
	if d.ChainID, err = domainChainID(d.Domain); err != nil {
		return nil, invalid(err.Error())
	}
	for _, m := range []map[string]any{d.Domain, d.Message} {
		if _, err := exactNumbers(m); err != nil {
			return nil, invalid(err.Error())
		}
	}
	if err := checkValues(d.Types, DomainType, d.Domain, 0); err != nil {
		return nil, invalid("domain: " + err.Error())
	}
	ds, err := HashStruct(d.Types, DomainType, d.Domain)
	if err != nil {
		return nil, invalid("domain: " + err.Error())
	}
	d.DomainSeparator = ds
	if d.PrimaryType == DomainType {
		return d, nil
	}
	if err := checkValues(d.Types, d.PrimaryType, d.Message, 0); err != nil {
		return nil, invalid("message: " + err.Error())
	}
	mh, err := HashStruct(d.Types, d.PrimaryType, d.Message)
	if err != nil {
		return nil, invalid("message: " + err.Error())
	}
	d.MessageHash = &mh
	return d, nil
}

// HashStruct is EIP-712's hashStruct(name, value) over types, encoded by
// go-ethereum's apitypes (without its check that a domain struct has one
// of five known fields, which an empty domain would fail). Integers in
// value must be *big.Int or strings. A panic inside apitypes is returned
// as an error. Parse already checks documents far more strictly; this is
// for callers that rebuild values themselves, such as a device emulator.
func HashStruct(types apitypes.Types, name string, value map[string]any) (h common.Hash, err error) {
	defer func() {
		if r := recover(); r != nil {
			h, err = common.Hash{}, errors.New("the value could not be encoded")
		}
	}()
	// EncodeData validates td.Domain but never hashes it: the map given
	// is what it encodes.
	td := apitypes.TypedData{Types: types, PrimaryType: name, Domain: apitypes.TypedDataDomain{Name: "-"}}
	b, err := td.HashStruct(name, value)
	if err != nil {
		return common.Hash{}, err
	}
	return common.BytesToHash(b), nil
}

// Digest is what an EIP-712 signature signs:
// keccak256(0x19 0x01 ‖ domain ‖ message), without message when it is nil.
func Digest(domain common.Hash, message *common.Hash) []byte {
	buf := make([]byte, 0, 2+2*common.HashLength)
	buf = append(buf, 0x19, 0x01)
	buf = append(buf, domain[:]...)
	if message != nil {
		buf = append(buf, message[:]...)
	}
	return crypto.Keccak256(buf)
}

// Digest is what a signature over the document signs.
func (d *Document) Digest() []byte { return Digest(d.DomainSeparator, d.MessageHash) }

// CheckHashes fails with INVALID_TYPED_DATA unless domain and message are
// the document's hashes: what a full-mode signer checks before signing the
// hashes a host sent with the JSON. message must be nil exactly when the
// primary type is EIP712Domain.
func (d *Document) CheckHashes(domain common.Hash, message *common.Hash) error {
	const hint = "send the domain separator and message hash computed from this same document"
	switch {
	case domain != d.DomainSeparator:
		return sdk.NewError(sdk.CodeInvalidTypedData, "invalid typed data: the domain separator does not match the typed data", hint)
	case d.MessageHash == nil && message != nil:
		return sdk.NewError(sdk.CodeInvalidTypedData, "invalid typed data: a message hash was given but the primary type is EIP712Domain", hint)
	case d.MessageHash != nil && message == nil:
		return sdk.NewError(sdk.CodeInvalidTypedData, "invalid typed data: the message hash is missing", hint)
	case d.MessageHash != nil && *d.MessageHash != *message:
		return sdk.NewError(sdk.CodeInvalidTypedData, "invalid typed data: the message hash does not match the typed data", hint)
	}
	return nil
}

// CheckChainID fails with CHAIN_ID_MISMATCH when the domain names a chain
// other than want. A domain without a chainId passes.
func (d *Document) CheckChainID(want *big.Int) error {
	if d.ChainID == nil || (want != nil && d.ChainID.Cmp(want) == 0) {
		return nil
	}
	return sdk.NewError(CodeChainIDMismatch,
		fmt.Sprintf("the typed data's domain is for chain %s, not chain %s", d.ChainID, want),
		"sign on the chain the domain names: pass --chain-id "+d.ChainID.String())
}

// decodeAll decodes one JSON value from data into v, with exact numbers,
// and refuses anything after it.
func decodeAll(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return invalid("the typed data is not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid("trailing data after the typed data JSON")
	}
	return nil
}

// decodeTypes reads "types", keeping the order of the definitions and
// refusing a name defined twice (a JSON map would keep the last silently).
func decodeTypes(raw json.RawMessage) (apitypes.Types, []string, error) {
	notObject := invalid(`"types" is not a JSON object of {name, type} lists`)
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, notObject
	}
	types := apitypes.Types{}
	var order []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, notObject
		}
		name, _ := tok.(string)
		var fields []apitypes.Type
		if err := dec.Decode(&fields); err != nil || fields == nil {
			return nil, nil, invalid(fmt.Sprintf("type %q is not a list of {name, type} fields", clip(name, 64)))
		}
		if _, dup := types[name]; dup {
			return nil, nil, invalid(fmt.Sprintf("type %q is defined twice", clip(name, 64)))
		}
		types[name] = fields
		order = append(order, name)
	}
	if len(types) == 0 {
		return nil, nil, invalid(`"types" is empty`)
	}
	return types, order, nil
}

// decodeObject reads the domain or the message: a JSON object, or null for
// an empty one.
func decodeObject(raw json.RawMessage, what string) (map[string]any, error) {
	out := map[string]any{}
	if string(raw) == "null" {
		return out, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil || out == nil {
		return nil, invalid(fmt.Sprintf("%q is not a JSON object", what))
	}
	return out, nil
}

func invalid(why string) *sdk.Error {
	return &sdk.Error{
		Code:    sdk.CodeInvalidTypedData,
		Message: "invalid typed data: " + clip(why, 300),
		Hint:    "pass an EIP-712 v4 JSON document with types, primaryType, domain and message",
	}
}

// clip shortens s for an error message; s may come from anyone.
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
