// Package eip712 checks an EIP-712 v4 typed-data document on the host side
// and computes the two hashes a signer signs (domain separator and message
// hash), with go-ethereum's apitypes doing the encoding.
//
// The host computes the hashes so that hash-only signers (a Trezor One, a
// remote signer) can sign; a full-mode signer recomputes them from the JSON
// and refuses a mismatch. Both sides therefore hash the same way: the domain
// is encoded exactly as its EIP712Domain type declares it, and JSON numbers
// are read as exact integers (never through float64).
package eip712

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"github.com/mm-wallet/mm/sdk"
)

// CodeChainIDMismatch is returned when the domain names another chain than
// the one the command was given.
const CodeChainIDMismatch sdk.Code = "CHAIN_ID_MISMATCH"

// Document is a checked typed-data document and its hashes.
type Document struct {
	PrimaryType string
	// ChainID is domain.chainId, nil when the domain has none.
	ChainID *big.Int
	// DomainSeparator is hashStruct(EIP712Domain, domain).
	DomainSeparator common.Hash
	// MessageHash is hashStruct(primaryType, message), nil when the primary
	// type is EIP712Domain.
	MessageHash *common.Hash
	// Domain is the domain as given (for display).
	Domain map[string]any
}

type doc struct {
	Types       map[string][]apitypes.Type `json:"types"`
	PrimaryType string                     `json:"primaryType"`
	Domain      map[string]any             `json:"domain"`
	Message     map[string]any             `json:"message"`
}

// MaxSize bounds a typed-data document.
const MaxSize = 1 << 20

// Parse checks data and computes its hashes. Every problem is
// INVALID_TYPED_DATA with a reason; nothing here panics on hostile input.
func Parse(data []byte) (d *Document, err error) {
	defer func() {
		if r := recover(); r != nil {
			d, err = nil, invalid("the typed data could not be encoded")
		}
	}()
	if len(data) > MaxSize {
		return nil, invalid(fmt.Sprintf("the typed data is larger than %d bytes", MaxSize))
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, invalid("the typed data is empty")
	}
	if trimmed[0] != '{' {
		return nil, invalid("the typed data is not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	var raw map[string]json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return nil, invalid("the typed data is not valid JSON")
	}
	if dec.More() {
		return nil, invalid("trailing data after the typed data JSON")
	}
	for _, k := range []string{"types", "primaryType", "domain", "message"} {
		if _, ok := raw[k]; !ok {
			return nil, invalid(fmt.Sprintf("the typed data has no %q", k))
		}
	}
	var x doc
	dec = json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	if err := dec.Decode(&x); err != nil {
		return nil, invalid("the typed data does not have the EIP-712 shape: " + clip(err.Error(), 120))
	}
	if len(x.Types) == 0 {
		return nil, invalid(`"types" is empty`)
	}
	if x.PrimaryType == "" {
		return nil, invalid(`"primaryType" is empty`)
	}
	if _, ok := x.Types["EIP712Domain"]; !ok {
		x.Types["EIP712Domain"] = []apitypes.Type{}
	}
	if _, ok := x.Types[x.PrimaryType]; !ok {
		return nil, invalid(fmt.Sprintf("the primary type %q is not among the types", clip(x.PrimaryType, 64)))
	}
	if err := checkTypes(x.Types); err != nil {
		return nil, invalid(err.Error())
	}
	if x.Domain == nil {
		x.Domain = map[string]any{}
	}
	if x.Message == nil {
		x.Message = map[string]any{}
	}
	chainID, err := domainChainID(x.Domain)
	if err != nil {
		return nil, invalid(err.Error())
	}
	if err := exactNumbers(x.Domain); err != nil {
		return nil, invalid(err.Error())
	}
	if err := exactNumbers(x.Message); err != nil {
		return nil, invalid(err.Error())
	}
	td := apitypes.TypedData{Types: x.Types, PrimaryType: x.PrimaryType, Domain: apitypes.TypedDataDomain{Name: "-"}}
	ds, err := td.HashStruct("EIP712Domain", x.Domain)
	if err != nil {
		return nil, invalid("domain: " + err.Error())
	}
	out := &Document{PrimaryType: x.PrimaryType, ChainID: chainID, DomainSeparator: common.BytesToHash(ds), Domain: x.Domain}
	if x.PrimaryType == "EIP712Domain" {
		return out, nil
	}
	mh, err := td.HashStruct(x.PrimaryType, x.Message)
	if err != nil {
		return nil, invalid("message: " + err.Error())
	}
	h := common.BytesToHash(mh)
	out.MessageHash = &h
	return out, nil
}

// CheckChainID fails with CHAIN_ID_MISMATCH when the domain names a chain
// other than want.
func (d *Document) CheckChainID(want *big.Int) error {
	if d.ChainID == nil || d.ChainID.Cmp(want) == 0 {
		return nil
	}
	return sdk.NewError(CodeChainIDMismatch,
		fmt.Sprintf("the typed data's domain is for chain %s, not chain %s", d.ChainID, want),
		"sign on the chain the domain names: pass --chain-id "+d.ChainID.String())
}

// Compiled on first use, not at start-up (mm's start-up time is measured).
var (
	typeNameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`) })
	arraySfxRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\[([0-9]*)\]$`) })
)

// baseType strips every array suffix: "Person[][2]" → "Person".
func baseType(t string) (string, error) {
	for {
		m := arraySfxRE().FindStringSubmatchIndex(t)
		if m == nil {
			return t, nil
		}
		if n := t[m[2]:m[3]]; n != "" {
			if v, err := strconv.Atoi(n); err != nil || v == 0 {
				return "", fmt.Errorf("bad array length in %q", clip(t, 64))
			}
		}
		t = t[:m[0]]
	}
}

func isAtomic(t string) bool {
	switch t {
	case "address", "bool", "string", "bytes":
		return true
	}
	if strings.HasPrefix(t, "bytes") {
		n, err := strconv.Atoi(t[5:])
		return err == nil && n >= 1 && n <= 32 && strconv.Itoa(n) == t[5:]
	}
	for _, p := range []string{"uint", "int"} {
		if strings.HasPrefix(t, p) {
			s := t[len(p):]
			if s == "" {
				return false // EIP-712 wants explicit sizes; go-ethereum too
			}
			n, err := strconv.Atoi(s)
			return err == nil && n >= 8 && n <= 256 && n%8 == 0 && strconv.Itoa(n) == s
		}
	}
	return false
}

// checkTypes validates names and field types and rejects reference cycles
// (a struct that contains itself directly or through other structs), which
// no finite message can fill and which some encoders loop on.
func checkTypes(types map[string][]apitypes.Type) error {
	for name, fields := range types {
		if !typeNameRE().MatchString(name) || isAtomic(name) {
			return fmt.Errorf("bad type name %q", clip(name, 64))
		}
		seen := map[string]bool{}
		for _, f := range fields {
			if f.Name == "" || seen[f.Name] {
				return fmt.Errorf("type %s has an empty or repeated field name", clip(name, 64))
			}
			seen[f.Name] = true
			b, err := baseType(f.Type)
			if err != nil {
				return err
			}
			if isAtomic(b) {
				continue
			}
			if _, ok := types[b]; !ok {
				return fmt.Errorf("field %s.%s has the unknown type %q", clip(name, 64), clip(f.Name, 64), clip(f.Type, 64))
			}
		}
	}
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var visit func(string) error
	visit = func(t string) error {
		color[t] = grey
		for _, f := range types[t] {
			b, _ := baseType(f.Type)
			if isAtomic(b) {
				continue
			}
			switch color[b] {
			case grey:
				return fmt.Errorf("type cycle: %s refers back to %s", clip(t, 64), clip(b, 64))
			case white:
				if err := visit(b); err != nil {
					return err
				}
			}
		}
		color[t] = black
		return nil
	}
	for t := range types {
		if color[t] == white {
			if err := visit(t); err != nil {
				return err
			}
		}
	}
	return nil
}

// domainChainID reads domain.chainId: a JSON integer, a decimal string or a
// 0x-hex string.
func domainChainID(domain map[string]any) (*big.Int, error) {
	v, ok := domain["chainId"]
	if !ok || v == nil {
		return nil, nil
	}
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = x
	default:
		return nil, errors.New("domain.chainId is not a number")
	}
	n, ok := new(big.Int).SetString(s, 0)
	if strings.HasPrefix(s, "0") && !strings.HasPrefix(s, "0x") && s != "0" {
		ok = false // no octal
	}
	if !ok || n.Sign() <= 0 || n.BitLen() > 256 {
		return nil, fmt.Errorf("domain.chainId %q is not a positive integer", clip(s, 80))
	}
	return n, nil
}

// exactNumbers replaces every json.Number in v by a *big.Int; a number that
// is not an integer is an error.
func exactNumbers(v any) error {
	conv := func(n json.Number) (*big.Int, error) {
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
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if n, ok := e.(json.Number); ok {
				b, err := conv(n)
				if err != nil {
					return err
				}
				x[k] = b
			} else if err := exactNumbers(e); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range x {
			if n, ok := e.(json.Number); ok {
				b, err := conv(n)
				if err != nil {
					return err
				}
				x[i] = b
			} else if err := exactNumbers(e); err != nil {
				return err
			}
		}
	}
	return nil
}

func invalid(why string) *sdk.Error {
	return &sdk.Error{
		Code:    sdk.CodeInvalidTypedData,
		Message: "invalid typed data: " + clip(why, 300),
		Hint:    "pass an EIP-712 v4 JSON document with types, primaryType, domain and message",
	}
}

func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
