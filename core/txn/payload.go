// Package txn builds transactions: it parses and validates the JSON payload
// of `mm wallet send-transaction` and the flags of `mm transfer` (exact
// amounts in the token's decimals), fills what is missing — nonce from the
// nonce ledger, gas from eth_estimateGas with a margin, EIP-1559 fees from
// eth_feeHistory percentiles or a legacy gas price — checks the balance, and
// decodes the intent. Preparer implements core.Preparer.
package txn

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"

	"github.com/mm-wallet/mm/core"
	"github.com/mm-wallet/mm/core/chains"
	"github.com/mm-wallet/mm/sdk"
)

// MaxDataBytes bounds calldata (nodes refuse transactions above 128 KiB).
const MaxDataBytes = 128 * 1024

// Payload is a validated send-transaction payload. Nil fields were absent
// and are filled by the Preparer.
type Payload struct {
	From                 *common.Address
	ChainID              *big.Int
	To                   common.Address
	Value                *big.Int
	Data                 []byte
	Gas                  *uint64
	Nonce                *uint64
	MaxFeePerGas         *big.Int
	MaxPriorityFeePerGas *big.Int
	GasPrice             *big.Int
	Type                 *uint8
	AccessList           types.AccessList
	hasAccessList        bool
	// tokenAmount is set for token transfers (balance check).
	tokenAmount *big.Int
}

var allowedFields = map[string]bool{
	"from": true, "chainId": true, "to": true, "value": true, "data": true, "input": true,
	"gas": true, "gasLimit": true, "nonce": true, "maxFeePerGas": true, "maxPriorityFeePerGas": true,
	"gasPrice": true, "type": true, "accessList": true,
}

var maxUint256 = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))

func invalid(format string, args ...any) error {
	return core.Errorf(core.CodeInvalidPayload, `a payload is a JSON object: {"to":"0x…","value":"0x…","data":"0x…"} plus optional gas, nonce, maxFeePerGas, maxPriorityFeePerGas or gasPrice, type, accessList`, "txn: payload: "+format, args...)
}

// ParsePayload validates a send-transaction payload strictly: unknown or
// repeated fields, decimal or negative quantities, values of 2^256 or more,
// odd-length or non-hex data, bad EIP-55 checksums, fee fields mixed with
// gasPrice, and gas below the intrinsic cost are all rejected with a coded
// error naming the field.
func ParsePayload(raw []byte) (*Payload, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, core.Errorf(core.CodeMissingPayload, `pass --payload '{"to":"0x…","value":"0x…"}'`, "txn: no transaction payload")
	}
	if raw[0] != '{' {
		return nil, invalid("not a JSON object")
	}
	if err := checkKeys(raw); err != nil {
		return nil, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, invalid("not valid JSON: %v", err)
	}
	p := &Payload{}
	if v, ok := fields["from"]; ok {
		a, err := addressField("from", v, core.CodeInvalidAddress)
		if err != nil {
			return nil, err
		}
		p.From = &a
	}
	if v, ok := fields["chainId"]; ok {
		n, err := smallQuantity("chainId", v)
		if err != nil {
			return nil, err
		}
		p.ChainID = new(big.Int).SetUint64(n)
	}
	v, ok := fields["to"]
	if !ok || string(v) == "null" || string(v) == `""` {
		return nil, core.Errorf(core.CodeMissingTo, `add "to":"0x…" (the recipient or contract)`, "txn: payload has no \"to\"")
	}
	to, err := addressField("to", v, core.CodeInvalidTo)
	if err != nil {
		return nil, err
	}
	p.To = to
	p.Value = new(big.Int)
	if v, ok := fields["value"]; ok {
		if p.Value, err = bigQuantity("value", v); err != nil {
			return nil, err
		}
	}
	dataField, hasData := fields["data"]
	if in, ok := fields["input"]; ok {
		if hasData && !bytes.Equal(in, dataField) {
			return nil, invalid(`"data" and "input" differ; give one`)
		}
		dataField, hasData = in, true
	}
	if hasData {
		if p.Data, err = hexData("data", dataField); err != nil {
			return nil, err
		}
	}
	for _, name := range []string{"gas", "gasLimit"} {
		if v, ok := fields[name]; ok {
			if p.Gas != nil {
				return nil, invalid(`"gas" and "gasLimit" both given; give one`)
			}
			g, err := smallQuantity(name, v)
			if err != nil {
				return nil, err
			}
			p.Gas = &g
		}
	}
	if v, ok := fields["nonce"]; ok {
		n, err := smallQuantity("nonce", v)
		if err != nil {
			return nil, err
		}
		p.Nonce = &n
	}
	for name, dst := range map[string]**big.Int{"maxFeePerGas": &p.MaxFeePerGas, "maxPriorityFeePerGas": &p.MaxPriorityFeePerGas, "gasPrice": &p.GasPrice} {
		if v, ok := fields[name]; ok {
			q, err := bigQuantity(name, v)
			if err != nil {
				return nil, err
			}
			*dst = q
		}
	}
	if v, ok := fields["type"]; ok {
		t, err := smallQuantity("type", v)
		if err != nil {
			return nil, err
		}
		if t > 2 {
			return nil, invalid(`"type" %d is not supported (0 legacy, 1 access list, 2 EIP-1559)`, t)
		}
		tt := uint8(t)
		p.Type = &tt
	}
	if v, ok := fields["accessList"]; ok {
		al, err := accessList(v)
		if err != nil {
			return nil, err
		}
		p.AccessList, p.hasAccessList = al, true
	}
	if err := p.checkFees(); err != nil {
		return nil, err
	}
	if p.Gas != nil {
		if need := IntrinsicGas(p.Data, p.AccessList); *p.Gas < need {
			return nil, core.Errorf(core.CodeGasTooLow, fmt.Sprintf("this call needs at least %d gas before it runs; raise \"gas\" or leave it out so mm estimates it", need), "txn: gas %d is below the intrinsic cost %d", *p.Gas, need)
		}
	}
	return p, nil
}

func (p *Payload) checkFees() error {
	dyn := p.MaxFeePerGas != nil || p.MaxPriorityFeePerGas != nil
	if dyn && p.GasPrice != nil {
		return invalid(`"gasPrice" cannot be mixed with "maxFeePerGas"/"maxPriorityFeePerGas"; give one kind`)
	}
	if p.Type != nil {
		switch *p.Type {
		case types.LegacyTxType:
			if dyn {
				return invalid(`type 0 (legacy) takes "gasPrice", not "maxFeePerGas"/"maxPriorityFeePerGas"`)
			}
			if p.hasAccessList {
				return invalid(`type 0 (legacy) has no "accessList"; use type 1 or 2`)
			}
		case types.AccessListTxType:
			if dyn {
				return invalid(`type 1 takes "gasPrice", not "maxFeePerGas"/"maxPriorityFeePerGas"`)
			}
		case types.DynamicFeeTxType:
			if p.GasPrice != nil {
				return invalid(`type 2 (EIP-1559) takes "maxFeePerGas"/"maxPriorityFeePerGas", not "gasPrice"`)
			}
		}
	}
	if p.MaxFeePerGas != nil && p.MaxPriorityFeePerGas != nil && p.MaxPriorityFeePerGas.Cmp(p.MaxFeePerGas) > 0 {
		return invalid(`"maxPriorityFeePerGas" exceeds "maxFeePerGas"`)
	}
	return nil
}

// IntrinsicGas is what a call costs before any code runs: the base cost,
// calldata (with the EIP-7623 floor) and access list.
func IntrinsicGas(data []byte, al types.AccessList) uint64 {
	var zeros, nonzeros uint64
	for _, b := range data {
		if b == 0 {
			zeros++
		} else {
			nonzeros++
		}
	}
	gas := params.TxGas + zeros*params.TxDataZeroGas + nonzeros*params.TxDataNonZeroGasEIP2028
	for _, t := range al {
		gas += params.TxAccessListAddressGas + uint64(len(t.StorageKeys))*params.TxAccessListStorageKeyGas
	}
	floor := params.TxGas + (zeros+nonzeros*4)*params.TxCostFloorPerToken
	return max(gas, floor)
}

// checkKeys rejects unknown and repeated top-level fields (encoding/json
// would silently keep the last of two).
func checkKeys(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil {
		return invalid("not valid JSON: %v", err)
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return invalid("not valid JSON: %v", err)
		}
		k, _ := t.(string)
		if !allowedFields[k] {
			return invalid("unknown field %q", clip(k))
		}
		if seen[k] {
			return invalid("field %q given twice", k)
		}
		seen[k] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return invalid("not valid JSON: %v", err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return invalid("not valid JSON: %v", err)
	}
	if dec.More() {
		return invalid("trailing data after the JSON object")
	}
	if _, err := dec.Token(); err == nil {
		return invalid("trailing data after the JSON object")
	}
	return nil
}

func jsonString(name string, v json.RawMessage, code func(string) error) (string, error) {
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", code(fmt.Sprintf("%q must be a string", name))
	}
	return s, nil
}

func addressField(name string, v json.RawMessage, code sdk.Code) (common.Address, error) {
	var str string
	if err := json.Unmarshal(v, &str); err != nil {
		return common.Address{}, core.Errorf(code, "an address is a string: 0x followed by 40 hex digits", "txn: %q: not a string", name)
	}
	a, err := chains.ParseAddress(str)
	if err != nil {
		hint := ""
		if e := sdk.AsError(err); e != nil {
			hint = e.Hint
		}
		return common.Address{}, core.Errorf(code, hint, "txn: %q: %v", name, err)
	}
	return a, nil
}

func quantityErr(name, why string) error {
	return core.Errorf(core.CodeInvalidQuantity, fmt.Sprintf("%q is a 0x-prefixed hex number, e.g. \"0xde0b6b3a7640000\" for 1 ETH in wei", name), "txn: %q: %s", name, why)
}

// bigQuantity parses a 0x-hex quantity string below 2^256.
func bigQuantity(name string, v json.RawMessage) (*big.Int, error) {
	if len(v) > 0 && v[0] != '"' {
		return nil, quantityErr(name, "must be a 0x-hex string, not a JSON number")
	}
	s, err := jsonString(name, v, func(w string) error { return quantityErr(name, w) })
	if err != nil {
		return nil, err
	}
	return parseHexQuantity(name, s)
}

func parseHexQuantity(name, s string) (*big.Int, error) {
	if strings.HasPrefix(s, "-") {
		return nil, quantityErr(name, "negative")
	}
	if !strings.HasPrefix(s, "0x") && !strings.HasPrefix(s, "0X") {
		if _, err := strconv.ParseFloat(s, 64); err == nil {
			return nil, quantityErr(name, fmt.Sprintf("decimal %q is not accepted; write it as 0x-hex", clip(s)))
		}
		return nil, quantityErr(name, fmt.Sprintf("%q is not 0x-hex", clip(s)))
	}
	digits := s[2:]
	if digits == "" {
		return nil, quantityErr(name, "no digits after 0x")
	}
	if len(digits) > 64 && strings.TrimLeft(digits, "0") != "" && len(strings.TrimLeft(digits, "0")) > 64 {
		return nil, quantityErr(name, "2^256 or more")
	}
	n, ok := new(big.Int).SetString(digits, 16)
	if !ok {
		return nil, quantityErr(name, fmt.Sprintf("%q is not hex", clip(s)))
	}
	if n.Cmp(maxUint256) > 0 {
		return nil, quantityErr(name, "2^256 or more")
	}
	return n, nil
}

// smallQuantity parses a uint64 given as 0x-hex string or JSON integer.
func smallQuantity(name string, v json.RawMessage) (uint64, error) {
	if len(v) > 0 && v[0] != '"' {
		var n json.Number
		if err := json.Unmarshal(v, &n); err != nil {
			return 0, quantityErr(name, "must be a number or a 0x-hex string")
		}
		u, err := strconv.ParseUint(n.String(), 10, 64)
		if err != nil {
			return 0, quantityErr(name, fmt.Sprintf("%s is not a whole number in 0…2^64-1", clip(n.String())))
		}
		return u, nil
	}
	s, err := jsonString(name, v, func(w string) error { return quantityErr(name, w) })
	if err != nil {
		return 0, err
	}
	b, err := parseHexQuantity(name, s)
	if err != nil {
		return 0, err
	}
	if !b.IsUint64() {
		return 0, quantityErr(name, "above 2^64-1")
	}
	return b.Uint64(), nil
}

func hexData(name string, v json.RawMessage) ([]byte, error) {
	bad := func(why string) error {
		return core.Errorf(core.CodeInvalidData, `"data" is 0x followed by an even number of hex digits`, "txn: %q: %s", name, why)
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, bad("must be a string")
	}
	if !strings.HasPrefix(s, "0x") && !strings.HasPrefix(s, "0X") {
		return nil, bad("missing 0x prefix")
	}
	h := s[2:]
	if len(h)%2 != 0 {
		return nil, bad("odd number of hex digits")
	}
	if len(h)/2 > MaxDataBytes {
		return nil, bad(fmt.Sprintf("%d bytes, above the %d-byte limit nodes accept", len(h)/2, MaxDataBytes))
	}
	b, err := hex.DecodeString(h)
	if err != nil {
		return nil, bad("not hex")
	}
	return b, nil
}

func accessList(v json.RawMessage) (types.AccessList, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(v, &items); err != nil {
		return nil, invalid(`"accessList" must be a list of {"address","storageKeys"}`)
	}
	al := make(types.AccessList, 0, len(items))
	for i, it := range items {
		var e struct {
			Address     json.RawMessage   `json:"address"`
			StorageKeys []json.RawMessage `json:"storageKeys"`
		}
		dec := json.NewDecoder(bytes.NewReader(it))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil || e.Address == nil {
			return nil, invalid(`"accessList"[%d] must be {"address":"0x…","storageKeys":["0x…"]}`, i)
		}
		a, err := addressField(fmt.Sprintf("accessList[%d].address", i), e.Address, core.CodeInvalidAddress)
		if err != nil {
			return nil, err
		}
		t := types.AccessTuple{Address: a, StorageKeys: []common.Hash{}}
		for j, k := range e.StorageKeys {
			var s string
			if json.Unmarshal(k, &s) != nil || len(s) != 66 || !strings.HasPrefix(s, "0x") {
				return nil, invalid(`"accessList"[%d].storageKeys[%d] must be a 32-byte 0x-hex string`, i, j)
			}
			b, err := hex.DecodeString(s[2:])
			if err != nil {
				return nil, invalid(`"accessList"[%d].storageKeys[%d] is not hex`, i, j)
			}
			t.StorageKeys = append(t.StorageKeys, common.BytesToHash(b))
		}
		al = append(al, t)
	}
	return al, nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
