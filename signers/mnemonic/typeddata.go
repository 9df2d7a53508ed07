package mnemonic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"github.com/mm-wallet/mm/sdk"
)

// typedDataDoc is the EIP-712 v4 JSON document. The domain is kept as a map
// (not apitypes.TypedDataDomain) so that it is hashed exactly as its
// EIP712Domain type declares it.
type typedDataDoc struct {
	Types       apitypes.Types `json:"types"`
	PrimaryType string         `json:"primaryType"`
	Domain      map[string]any `json:"domain"`
	Message     map[string]any `json:"message"`
}

// hashTypedData computes the EIP-712 v4 domain separator and message hash
// of a JSON document with go-ethereum's apitypes. The message hash is nil
// when the primary type is EIP712Domain (the signature then covers the
// domain alone, as MetaMask's v4 does).
//
// Two adjustments make apitypes follow v4 where it is stricter: integers
// are decoded exactly (apitypes would read JSON numbers as float64 and lose
// precision above 2^53), and an empty domain is allowed (apitypes'
// validation refuses one, although hashStruct of an empty EIP712Domain is
// well defined). Any other problem, including a panic inside apitypes on
// hostile input, is INVALID_TYPED_DATA.
func hashTypedData(data []byte) (domain common.Hash, message *common.Hash, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = invalidTypedData("the typed data could not be encoded")
		}
	}()
	if len(bytes.TrimSpace(data)) == 0 {
		return common.Hash{}, nil, invalidTypedData("the typed data is empty")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc typedDataDoc
	if err := dec.Decode(&doc); err != nil {
		return common.Hash{}, nil, invalidTypedData("the typed data is not a JSON object with types, primaryType, domain and message")
	}
	if dec.More() {
		return common.Hash{}, nil, invalidTypedData("trailing data after the typed data JSON")
	}
	if doc.Types == nil {
		return common.Hash{}, nil, invalidTypedData(`the typed data has no "types"`)
	}
	if doc.PrimaryType == "" {
		return common.Hash{}, nil, invalidTypedData(`the typed data has no "primaryType"`)
	}
	if _, ok := doc.Types["EIP712Domain"]; !ok {
		doc.Types["EIP712Domain"] = []apitypes.Type{}
	}
	if _, ok := doc.Types[doc.PrimaryType]; !ok {
		return common.Hash{}, nil, invalidTypedData(fmt.Sprintf("the primary type %q is not among the types", clip(doc.PrimaryType, 64)))
	}
	if doc.Domain == nil {
		doc.Domain = map[string]any{}
	}
	if err := exactNumbers(doc.Domain); err != nil {
		return common.Hash{}, nil, invalidTypedData(err.Error())
	}
	if doc.Message == nil {
		doc.Message = map[string]any{}
	}
	if err := exactNumbers(doc.Message); err != nil {
		return common.Hash{}, nil, invalidTypedData(err.Error())
	}
	if err := checkSignedInts(doc.Types, "EIP712Domain", doc.Domain, 0); err != nil {
		return common.Hash{}, nil, invalidTypedData("domain: " + err.Error())
	}
	if doc.PrimaryType != "EIP712Domain" {
		if err := checkSignedInts(doc.Types, doc.PrimaryType, doc.Message, 0); err != nil {
			return common.Hash{}, nil, invalidTypedData("message: " + err.Error())
		}
	}
	td := apitypes.TypedData{
		Types:       doc.Types,
		PrimaryType: doc.PrimaryType,
		// apitypes validates this struct but never hashes it; the domain
		// map above is what EncodeData encodes.
		Domain: apitypes.TypedDataDomain{Name: "-"},
	}
	ds, err := td.HashStruct("EIP712Domain", doc.Domain)
	if err != nil {
		return common.Hash{}, nil, invalidTypedData("domain: " + err.Error())
	}
	domain = common.BytesToHash(ds)
	if doc.PrimaryType == "EIP712Domain" {
		return domain, nil, nil
	}
	mh, err := td.HashStruct(doc.PrimaryType, doc.Message)
	if err != nil {
		return common.Hash{}, nil, invalidTypedData("message: " + err.Error())
	}
	h := common.BytesToHash(mh)
	return domain, &h, nil
}

// typedDataDigest is keccak256(0x19 0x01 ‖ domainSeparator ‖ messageHash),
// without the message hash when it is nil.
func typedDataDigest(domain common.Hash, message *common.Hash) []byte {
	buf := make([]byte, 0, 66)
	buf = append(buf, 0x19, 0x01)
	buf = append(buf, domain[:]...)
	if message != nil {
		buf = append(buf, message[:]...)
	}
	return crypto.Keccak256(buf)
}

// exactNumbers replaces, in place, every json.Number in v by a *big.Int;
// a number that is not an integer is an error.
func exactNumbers(v any) error {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if n, ok := e.(json.Number); ok {
				b, err := exactInt(n)
				if err != nil {
					return err
				}
				x[k] = b
				continue
			}
			if err := exactNumbers(e); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range x {
			if n, ok := e.(json.Number); ok {
				b, err := exactInt(n)
				if err != nil {
					return err
				}
				x[i] = b
				continue
			}
			if err := exactNumbers(e); err != nil {
				return err
			}
		}
	}
	return nil
}

func exactInt(n json.Number) (*big.Int, error) {
	s := string(n)
	if strings.ContainsAny(s, ".eE") || len(s) > 80 {
		return nil, errors.New("a number is not an integer (write large or fractional values as strings)")
	}
	b, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return nil, errors.New("a number does not parse")
	}
	return b, nil
}

// maxTypeDepth bounds struct nesting, so a hostile document cannot make
// the checks below recurse without end.
const maxTypeDepth = 64

// checkSignedInts refuses intN values outside [-2^(N-1), 2^(N-1)-1]:
// apitypes only checks their bit length, so it would sign int8 values such
// as 128 or -200, which no contract can produce. Unsigned ranges, and
// every other check, are left to apitypes.
func checkSignedInts(types apitypes.Types, typ string, v any, depth int) error {
	if depth > maxTypeDepth {
		return errors.New("structs nest too deeply")
	}
	if i := strings.LastIndexByte(typ, '['); i > 0 && strings.HasSuffix(typ, "]") {
		items, ok := v.([]any)
		if !ok {
			return nil // apitypes reports the mismatch
		}
		for _, it := range items {
			if err := checkSignedInts(types, typ[:i], it, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if fields, ok := types[typ]; ok {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		for _, f := range fields {
			if err := checkSignedInts(types, f.Type, m[f.Name], depth+1); err != nil {
				return fmt.Errorf("%s: %w", f.Name, err)
			}
		}
		return nil
	}
	if !strings.HasPrefix(typ, "int") {
		return nil
	}
	bits := 256
	if typ != "int" {
		n, err := strconv.Atoi(typ[3:])
		if err != nil || n < 8 || n > 256 || n%8 != 0 {
			return nil // apitypes refuses the type
		}
		bits = n
	}
	var b *big.Int
	switch x := v.(type) {
	case *big.Int:
		b = x
	case string:
		var ok bool
		if b, ok = math.ParseBig256(x); !ok {
			if b, ok = new(big.Int).SetString(x, 10); !ok {
				return nil // apitypes reports it
			}
		}
	default:
		return nil
	}
	limit := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
	if b.Cmp(limit) >= 0 || b.Cmp(new(big.Int).Neg(limit)) < 0 {
		return fmt.Errorf("%s is out of range for %s", clip(b.String(), 80), typ)
	}
	return nil
}

func invalidTypedData(why string) *sdk.Error {
	return &sdk.Error{
		Code:    sdk.CodeInvalidTypedData,
		Message: "mnemonic: invalid typed data: " + clip(why, 300),
		Hint:    "pass an EIP-712 v4 document with types, primaryType, domain and message",
	}
}
