package eip712

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/signer/core/apitypes"
)

// checkTypes checks every definition, in document order so that the first
// problem found is always the same one: struct names are identifiers that
// cannot be read as an atomic type, field names are present and distinct,
// every field's type is atomic or a defined struct with well-formed array
// suffixes, and no struct contains itself, directly or through others (no
// finite message fills such a struct, and some encoders loop on it).
func checkTypes(types apitypes.Types, order []string) error {
	for _, name := range order {
		if !isIdentifier(name) || isReserved(name) {
			return fmt.Errorf("bad type name %q", clip(name, 64))
		}
		seen := make(map[string]bool, len(types[name]))
		for _, f := range types[name] {
			if f.Name == "" || seen[f.Name] {
				return fmt.Errorf("type %s has an empty or repeated field name", clip(name, 64))
			}
			seen[f.Name] = true
			base, err := baseType(f.Type)
			if err != nil {
				return err
			}
			if isAtomic(base) {
				continue
			}
			if _, ok := types[base]; !ok {
				return fmt.Errorf("field %s.%s has the unknown type %q", clip(name, 64), clip(f.Name, 64), clip(f.Type, 64))
			}
		}
	}
	const (
		white = iota
		grey
		black
	)
	color := make(map[string]int, len(types))
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
	for _, t := range order {
		if color[t] == white {
			if err := visit(t); err != nil {
				return err
			}
		}
	}
	return nil
}

// baseType strips every array suffix ("Person[][2]" → "Person"). A fixed
// length is a positive decimal without leading zeros: the type string is
// hashed as written, and a device that rebuilds it from the length would
// otherwise hash another one.
func baseType(t string) (string, error) {
	for strings.HasSuffix(t, "]") {
		elem, _, err := splitArray(t)
		if err != nil {
			return "", err
		}
		t = elem
	}
	return t, nil
}

// splitArray splits an array type into its element type and its last
// dimension: "uint8[2][]" → ("uint8[2]", -1); "Person[3]" → ("Person", 3).
func splitArray(t string) (elem string, n int, err error) {
	open := strings.LastIndexByte(t, '[')
	if open <= 0 || !strings.HasSuffix(t, "]") {
		return "", 0, fmt.Errorf("bad type %q", clip(t, 64))
	}
	dim := t[open+1 : len(t)-1]
	if dim == "" {
		return t[:open], -1, nil
	}
	n, err = strconv.Atoi(dim)
	if err != nil || n <= 0 || strconv.Itoa(n) != dim {
		return "", 0, fmt.Errorf("bad array length in %q", clip(t, 64))
	}
	return t[:open], n, nil
}

// isAtomic reports whether t is an atomic EIP-712 type. Integer and bytesN
// sizes must be explicit and canonical ("uint256", never "uint" or
// "uint0256").
func isAtomic(t string) bool {
	switch t {
	case "address", "bool", "string", "bytes":
		return true
	}
	if s, ok := strings.CutPrefix(t, "bytes"); ok {
		n, err := strconv.Atoi(s)
		return err == nil && n >= 1 && n <= 32 && strconv.Itoa(n) == s
	}
	_, ok := intBits(t)
	return ok
}

// intBits returns N for "intN" and "uintN" (N a multiple of 8 from 8 to
// 256, written canonically).
func intBits(t string) (int, bool) {
	s, ok := strings.CutPrefix(t, "uint")
	if !ok {
		if s, ok = strings.CutPrefix(t, "int"); !ok {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 8 || n > 256 || n%8 != 0 || strconv.Itoa(n) != s {
		return 0, false
	}
	return n, true
}

// isReserved reports whether a struct name could be read as an atomic type
// by some encoder ("uint", "bytes0", "int7" as well as "uint256"): apitypes
// takes "int" and "uint" for integers while a field of that type would be
// looked up as a struct here, so such names are refused.
func isReserved(name string) bool {
	if isAtomic(name) {
		return true
	}
	for _, p := range []string{"uint", "int", "bytes"} {
		if s, ok := strings.CutPrefix(name, p); ok && strings.Trim(s, "0123456789") == "" {
			return true
		}
	}
	return false
}

// isIdentifier reports whether name is a Solidity identifier.
func isIdentifier(name string) bool {
	if name == "" {
		return false
	}
	for i, c := range name {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c == '_', c == '$':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
