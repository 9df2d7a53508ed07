package eip712

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/signer/core/apitypes"
)

// maxIntText bounds the text of one integer: 2^256 has 78 decimal digits,
// so nothing longer is a 256-bit value (leading zeros aside).
const maxIntText = 80

// domainChainID reads domain.chainId as given (before exactNumbers): a
// JSON integer, a decimal string or a 0x-hex string, positive and at most
// 256 bits. A leading zero is refused, so that no reader takes it for
// octal.
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
		ok = false
	}
	if !ok || n.Sign() <= 0 || n.BitLen() > 256 {
		return nil, fmt.Errorf("domain.chainId %q is not a positive integer", clip(s, 80))
	}
	return n, nil
}

// exactNumbers replaces, in place, every json.Number in v by a *big.Int,
// and returns v (or the number's *big.Int); a number that is not an
// integer is an error (apitypes would otherwise see a float64 and lose
// precision above 2^53).
func exactNumbers(v any) (any, error) {
	switch x := v.(type) {
	case json.Number:
		s := string(x)
		if strings.ContainsAny(s, ".eE") || len(s) > maxIntText {
			return nil, errors.New("a number is not an integer (write large or fractional values as strings)")
		}
		b, ok := new(big.Int).SetString(s, 10)
		if !ok {
			return nil, errors.New("a number does not parse")
		}
		return b, nil
	case map[string]any:
		for k, e := range x {
			c, err := exactNumbers(e)
			if err != nil {
				return nil, err
			}
			x[k] = c
		}
	case []any:
		for i, e := range x {
			c, err := exactNumbers(e)
			if err != nil {
				return nil, err
			}
			x[i] = c
		}
	}
	return v, nil
}

// checkValues walks value v of type typ (a struct, an array or an atomic
// type; checkTypes has passed) and checks what apitypes does not: the
// nesting depth, the length of fixed arrays, the range of signed integers
// (apitypes checks only their bit length, so it would sign int8 values
// such as 128 or -200, which no contract produces) and the spelling of
// integers given as strings. It turns every integer into a *big.Int in
// place. Missing and unknown fields, which apitypes refuses in words that
// name neither, are named here; type mismatches of the other atomic types
// are left to apitypes.
func checkValues(types apitypes.Types, typ string, v map[string]any, depth int) error {
	if _, err := checkValue(types, typ, v, depth); err != nil {
		return err
	}
	return nil
}

// valueError is a problem with one value, and where it is: the path is
// built as the error goes up, so a document without problems builds none.
type valueError struct {
	path []string // innermost first
	msg  string
}

func (e *valueError) Error() string {
	if len(e.path) == 0 {
		return e.msg
	}
	var b strings.Builder
	for i := len(e.path) - 1; i >= 0; i-- {
		if i < len(e.path)-1 && !strings.HasPrefix(e.path[i], "[") {
			b.WriteByte('.')
		}
		b.WriteString(e.path[i])
	}
	return clip(b.String(), 120) + ": " + e.msg
}

func valueErr(format string, args ...any) *valueError {
	return &valueError{msg: fmt.Sprintf(format, args...)}
}

// within adds one step of path (a field name, or "[i]") to err.
func within(err *valueError, step string) *valueError {
	err.path = append(err.path, step)
	return err
}

// checkValue checks one value and returns it with integers as *big.Int.
func checkValue(types apitypes.Types, typ string, v any, depth int) (any, *valueError) {
	if strings.HasSuffix(typ, "]") {
		if depth > MaxDepth {
			return nil, valueErr("structs and arrays nest deeper than %d levels", MaxDepth)
		}
		elem, n, err := splitArray(typ)
		if err != nil {
			return nil, valueErr("%v", err)
		}
		items, ok := v.([]any)
		if !ok {
			return nil, valueErr("want an array of type %s", clip(typ, 64))
		}
		if n >= 0 && len(items) != n {
			return nil, valueErr("%d elements for the fixed array %s", len(items), clip(typ, 64))
		}
		for i, it := range items {
			c, err := checkValue(types, elem, it, depth+1)
			if err != nil {
				return nil, within(err, "["+strconv.Itoa(i)+"]")
			}
			items[i] = c
		}
		return items, nil
	}
	if fields, ok := types[typ]; ok {
		if depth > MaxDepth {
			return nil, valueErr("structs and arrays nest deeper than %d levels", MaxDepth)
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, valueErr("want an object of type %s", clip(typ, 64))
		}
		if len(m) > len(fields) {
			for k := range m {
				if !slices.ContainsFunc(fields, func(f apitypes.Type) bool { return f.Name == k }) {
					return nil, valueErr("%q is not a field of %s", clip(k, 64), clip(typ, 64))
				}
			}
		}
		for _, f := range fields {
			fv, ok := m[f.Name]
			if !ok {
				return nil, within(valueErr("missing"), f.Name)
			}
			c, err := checkValue(types, f.Type, fv, depth+1)
			if err != nil {
				return nil, within(err, f.Name)
			}
			m[f.Name] = c
		}
		return m, nil
	}
	bits, ok := intBits(typ)
	if !ok {
		return v, nil
	}
	var n *big.Int
	switch x := v.(type) {
	case *big.Int:
		n = x
	case string:
		if n, ok = parseInt(x); !ok {
			return nil, valueErr("%q is not an integer (write a decimal or 0x-hex string)", clip(x, 80))
		}
	default:
		return nil, valueErr("want an integer of type %s", typ)
	}
	lo, hi := new(big.Int), new(big.Int).Lsh(big.NewInt(1), uint(bits))
	if typ[0] == 'i' {
		hi.Rsh(hi, 1)
		lo.Neg(hi)
	}
	if n.Cmp(lo) < 0 || n.Cmp(hi) >= 0 {
		return nil, valueErr("%s is out of range for %s", clip(n.String(), 80), typ)
	}
	return n, nil
}

// parseInt reads an integer given as a string: decimal with an optional
// minus sign, or 0x-hex. No sign on hex, no plus, no spaces, no empty
// string (apitypes would read "" as 0): the spellings every signer and
// device driver reads alike.
func parseInt(s string) (*big.Int, bool) {
	if len(s) > maxIntText {
		return nil, false
	}
	digits, base, set := s, 10, "0123456789"
	if h, ok := strings.CutPrefix(s, "0x"); ok {
		digits, base, set = h, 16, "0123456789abcdefABCDEF"
	} else {
		digits = strings.TrimPrefix(s, "-")
	}
	if digits == "" || strings.Trim(digits, set) != "" {
		return nil, false
	}
	n, ok := new(big.Int).SetString(digits, base)
	if ok && strings.HasPrefix(s, "-") {
		n.Neg(n)
	}
	return n, ok
}
