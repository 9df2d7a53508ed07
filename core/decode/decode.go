// Package decode turns calldata into a function name, typed parameters and
// a plain-language intent ("Transfer 12.5 USDC to 0x…", "Approve UNLIMITED
// USDC for 0x…"), using go-ethereum's ABI decoder with built-in ABIs for
// ERC-20, ERC-721, ERC-1155, WETH, Permit2 and Multicall3, plus selectors
// from the user's signature file. Token symbols and decimals come from the
// chain registry. Calldata is untrusted: decoding never panics, and anything
// unknown or malformed is flagged as higher risk.
package decode

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/mm-wallet/mm/core"
	"github.com/mm-wallet/mm/core/chains"
)

// SignatureFile is the name of the user's signature file in the state
// folder: {"signatures": ["swap(address,uint256)", …]}.
const SignatureFile = "signatures.json"

// maxDepth bounds the recursion into batched calls (Multicall3 inside
// Multicall3…).
const maxDepth = 3

var (
	builtinOnce sync.Once
	builtinTab  map[[4]byte][]method
	builtinErr  error
)

func loadBuiltins() {
	builtinTab = map[[4]byte][]method{}
	for _, d := range builtins {
		m, err := buildMethod(d)
		if err != nil {
			builtinErr = err
			return
		}
		var id [4]byte
		copy(id[:], m.m.ID)
		builtinTab[id] = append(builtinTab[id], m)
	}
}

// Decoder decodes calldata for one chain. It is safe for concurrent use.
type Decoder struct {
	chain *chains.Chain
	user  map[[4]byte]method
}

// New returns a Decoder for chain (nil: no token knowledge, native "ETH").
// signatures are extra text signatures such as "swap(address,uint256)";
// built-in ABIs win on a selector clash.
func New(chain *chains.Chain, signatures ...string) (*Decoder, error) {
	builtinOnce.Do(loadBuiltins)
	if builtinErr != nil {
		return nil, builtinErr
	}
	if chain == nil {
		chain = &chains.Chain{NativeSymbol: "ETH", NativeDecimals: 18}
	}
	d := &Decoder{chain: chain, user: map[[4]byte]method{}}
	for _, s := range signatures {
		m, err := parseSignature(s)
		if err != nil {
			return nil, err
		}
		var id [4]byte
		copy(id[:], m.m.ID)
		d.user[id] = m
	}
	return d, nil
}

// LoadSignatures reads the signature file in dir (the state folder). A
// missing file yields no signatures; a damaged one INVALID_SIGNATURE_FILE.
func LoadSignatures(dir string) ([]string, error) {
	p := filepath.Join(dir, SignatureFile)
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, core.Errorf(core.CodeInvalidSignatures, "check the file's permissions", "decode: read %s: %v", p, err)
	}
	var f struct {
		Signatures []string `json:"signatures"`
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, core.Errorf(core.CodeInvalidSignatures, `the file holds {"signatures": ["name(type,…)", …]}`, "decode: %s is not a signature file: %v", p, err)
	}
	for _, s := range f.Signatures {
		if _, err := parseSignature(s); err != nil {
			return nil, core.Wrapf(err, "decode: %s", p)
		}
	}
	return f.Signatures, nil
}

var sizedType = regexp.MustCompile(`\b(u?int|bytes)([0-9]+)\b`)

func parseSignature(s string) (method, error) {
	sel, err := abi.ParseSelector(strings.ReplaceAll(s, " ", ""))
	if err == nil {
		// go-ethereum accepts sizes Solidity does not (uint7, bytes33).
		for _, m := range sizedType.FindAllStringSubmatch(s, -1) {
			n, _ := strconv.Atoi(m[2])
			if (m[1] == "bytes" && (n < 1 || n > 32)) || (m[1] != "bytes" && (n < 8 || n > 256 || n%8 != 0)) {
				err = fmt.Errorf("no type %s%s", m[1], m[2])
			}
		}
	}
	if err != nil {
		return method{}, core.Errorf(core.CodeInvalidSignatures, `write a signature as name(type,…), e.g. "swap(address,uint256)"`, "decode: bad signature %q: %v", s, err)
	}
	for i := range sel.Inputs {
		if sel.Inputs[i].Name == "" {
			sel.Inputs[i].Name = fmt.Sprintf("arg%d", i)
		}
	}
	m, err := buildMethod(def{fam: famUser, name: sel.Name, inputs: sel.Inputs})
	if err != nil {
		return method{}, core.Errorf(core.CodeInvalidSignatures, `write a signature as name(type,…), e.g. "swap(address,uint256)"`, "decode: bad signature %q: %v", s, err)
	}
	return m, nil
}

// Decode describes a call of data to `to` (nil: a contract creation) sending
// value wei (nil: zero). It always returns a Call.
func (d *Decoder) Decode(to *common.Address, value *big.Int, data []byte) *core.Call {
	return d.decode(to, value, data, 0)
}

// noTarget stands for the called contract when the calldata comes without
// one (`mm decode --payload 0x…`); intents then say "the called contract".
var noTarget = common.BytesToAddress(crypto.Keccak256([]byte("mm decode: no target")))

// DecodeData describes calldata whose target is not known: token amounts
// are shown in raw units and the target as "the called contract".
func (d *Decoder) DecodeData(data []byte) *core.Call {
	to := noTarget
	if len(data) == 0 {
		return &core.Call{FunctionName: "none", Params: []core.Param{}, Intent: "No calldata (a plain transfer)", Risk: core.RiskLow, Known: true}
	}
	return d.decode(&to, nil, data, 0)
}

// name renders a call target.
func (d *Decoder) name(a common.Address) string {
	if a == noTarget {
		return "the called contract"
	}
	return a.Hex()
}

func (d *Decoder) decode(to *common.Address, value *big.Int, data []byte, depth int) *core.Call {
	if value == nil {
		value = new(big.Int)
	}
	if to == nil {
		return &core.Call{FunctionName: "deploy", Params: []core.Param{}, Intent: "Deploy a contract (" + fmt.Sprint(len(data)) + " bytes of code)" + d.sending(value), Risk: core.RiskMedium, Known: true}
	}
	if len(data) == 0 {
		return &core.Call{
			FunctionName: "transfer",
			Params:       []core.Param{{Name: "to", Type: "address", Value: to.Hex()}, {Name: "value", Type: "uint256", Value: value.String()}},
			Intent:       fmt.Sprintf("Transfer %s %s to %s", chains.FormatUnits(value, d.chain.NativeDecimals), d.chain.NativeSymbol, to.Hex()),
			Risk:         core.RiskLow,
			Known:        true,
		}
	}
	if len(data) < 4 {
		return &core.Call{FunctionName: "unknown", Params: []core.Param{}, Intent: fmt.Sprintf("Call %s with %d bytes of malformed calldata%s", d.name(*to), len(data), d.sending(value)), Risk: core.RiskHigh}
	}
	var id [4]byte
	copy(id[:], data[:4])
	cands := builtinTab[id]
	if u, ok := d.user[id]; ok && len(cands) == 0 {
		cands = []method{u}
	}
	sel := "0x" + hex.EncodeToString(id[:])
	for _, m := range cands {
		vals, err := unpack(m.m, data[4:])
		if err != nil {
			continue
		}
		c := &core.Call{FunctionName: m.m.RawName, Signature: m.m.Sig, Selector: sel, Known: true}
		c.Params = make([]core.Param, len(m.m.Inputs))
		for i, in := range m.m.Inputs {
			c.Params[i] = core.Param{Name: in.Name, Type: in.Type.String(), Value: jsonValue(vals[i])}
		}
		if safeDescribe(d, c, m, *to, value, vals, depth) {
			return c
		}
	}
	if len(cands) > 0 {
		return &core.Call{FunctionName: cands[0].m.RawName, Signature: cands[0].m.Sig, Selector: sel, Params: []core.Param{}, Intent: fmt.Sprintf("Call %s on %s with malformed arguments%s", cands[0].m.Sig, d.name(*to), d.sending(value)), Risk: core.RiskHigh}
	}
	return &core.Call{FunctionName: "unknown", Selector: sel, Params: []core.Param{}, Intent: fmt.Sprintf("Call unknown function %s on %s%s", sel, d.name(*to), d.sending(value)), Risk: core.RiskHigh}
}

// unpack decodes arguments, turning any panic of the ABI decoder on
// hostile input into an error.
func unpack(m abi.Method, data []byte) (vals []any, err error) {
	defer func() {
		if r := recover(); r != nil {
			vals, err = nil, fmt.Errorf("decode: malformed arguments: %v", r)
		}
	}()
	vals, err = m.Inputs.Unpack(data)
	if err != nil {
		return nil, err
	}
	// Strict: the encoding must be canonical-length so that two different
	// byte strings do not read as the same call.
	re, err := m.Inputs.Pack(vals...)
	if err != nil || len(re) != len(data) {
		return nil, errors.New("decode: non-canonical encoding")
	}
	return vals, nil
}

func (d *Decoder) sending(v *big.Int) string {
	if v == nil || v.Sign() == 0 {
		return ""
	}
	return fmt.Sprintf(" sending %s %s", chains.FormatUnits(v, d.chain.NativeDecimals), d.chain.NativeSymbol)
}

// jsonValue renders a decoded ABI value for JSON output: addresses
// checksummed, integers as decimal strings, bytes as 0x-hex, tuples as
// parameter lists.
func jsonValue(v any) any {
	switch x := v.(type) {
	case common.Address:
		return x.Hex()
	case *big.Int:
		return x.String()
	case []byte:
		return "0x" + hex.EncodeToString(x)
	case bool, string:
		return x
	case uint8, uint16, uint32, uint64, int8, int16, int32, int64:
		return fmt.Sprint(x)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Array:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			b := make([]byte, rv.Len())
			reflect.Copy(reflect.ValueOf(b), rv)
			return "0x" + hex.EncodeToString(b)
		}
		fallthrough
	case reflect.Slice:
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = jsonValue(rv.Index(i).Interface())
		}
		return out
	case reflect.Struct:
		t := rv.Type()
		ps := make([]core.Param, 0, rv.NumField())
		for i := 0; i < rv.NumField(); i++ {
			name := t.Field(i).Tag.Get("json")
			if name == "" {
				name = t.Field(i).Name
			}
			ps = append(ps, core.Param{Name: name, Value: jsonValue(rv.Field(i).Interface())})
		}
		return ps
	}
	return fmt.Sprint(v)
}

// safeDescribe runs describe and reports false if it panicked on a value
// shape it did not expect, so hostile calldata can never crash mm.
func safeDescribe(d *Decoder, c *core.Call, m method, to common.Address, value *big.Int, vals []any, depth int) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	d.describe(c, m, to, value, vals, depth)
	return true
}
