package chains

import (
	"math/big"
	"strings"

	"github.com/mm-wallet/mm/core"
)

var maxUint256 = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))

// ParseUnits turns a human amount ("12.5") into the token's smallest unit
// (12500000 for 6 decimals), exactly: no floating point. It accepts only
// plain decimal digits with an optional fraction; zero, negative numbers,
// exponents, more fraction digits than decimals, and results of 2^256 or more
// are INVALID_AMOUNT.
func ParseUnits(s string, decimals uint8) (*big.Int, error) {
	bad := func(why string) error {
		return core.Errorf(core.CodeInvalidAmount, "write the amount in the token's units with a dot for decimals, e.g. 12.5", "invalid amount %q: %s", clip(s), why)
	}
	if s == "" {
		return nil, bad("empty")
	}
	if strings.HasPrefix(s, "-") {
		return nil, bad("negative")
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || (hasDot && frac == "") {
		return nil, bad("digits are required on both sides of the dot")
	}
	for _, part := range []string{whole, frac} {
		for _, r := range part {
			if r < '0' || r > '9' {
				return nil, bad("only digits and one dot are allowed")
			}
		}
	}
	if len(whole) > 100 {
		return nil, bad("too large")
	}
	if len(frac) > int(decimals) {
		return nil, core.Errorf(core.CodeInvalidAmount, "use at most as many decimal places as the token has", "invalid amount %q: more than %d decimal places", clip(s), decimals)
	}
	v, ok := new(big.Int).SetString(whole+frac+strings.Repeat("0", int(decimals)-len(frac)), 10)
	if !ok {
		return nil, bad("not a number")
	}
	if v.Sign() == 0 {
		return nil, bad("zero")
	}
	if v.Cmp(maxUint256) > 0 {
		return nil, bad("above 2^256-1 in the token's smallest unit")
	}
	return v, nil
}

// FormatUnits renders v (smallest unit) with the given decimals, without
// trailing zeros: 12500000 with 6 decimals is "12.5".
func FormatUnits(v *big.Int, decimals uint8) string {
	if v == nil {
		return "0"
	}
	neg := v.Sign() < 0
	s := new(big.Int).Abs(v).String()
	if decimals > 0 {
		if len(s) <= int(decimals) {
			s = strings.Repeat("0", int(decimals)-len(s)+1) + s
		}
		i := len(s) - int(decimals)
		whole, frac := s[:i], strings.TrimRight(s[i:], "0")
		s = whole
		if frac != "" {
			s += "." + frac
		}
	}
	if neg {
		s = "-" + s
	}
	return s
}
