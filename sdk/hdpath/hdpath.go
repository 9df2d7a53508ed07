// Package hdpath reads and writes BIP-32 derivation paths ("m/44'/60'/0'/0/0")
// and the account-index schemes wallets use, so that hosts and signers agree
// on them. Every refusal is an *sdk.Error with code INVALID_DERIVATION_PATH
// (an unknown scheme name: INVALID_REQUEST).
package hdpath

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/mm-wallet/mm/sdk"
)

// Hardened is added to an index to make it hardened (the ' or h suffix).
const Hardened uint32 = 1 << 31

// MaxDepth is the deepest path BIP-32 can serialize (its depth is one byte).
// Devices allow fewer levels (a Ledger or Trezor takes 10) and check that
// themselves.
const MaxDepth = 255

// Path is a parsed derivation path: one index per level below the master
// key, hardened levels carrying Hardened.
type Path []uint32

// Parse reads a path such as "m/44'/60'/0'/0/0". A hardened level ends in
// ', h or H ("m/44h/60h/0h/0/0" is the same path). Levels are decimal,
// without sign or leading zeros, and below 2^31. The path starts with "m"
// and has 1 to MaxDepth levels.
func Parse(s string) (Path, error) {
	if s == "" {
		return nil, Invalid(s, "the path is empty")
	}
	parts := strings.Split(s, "/")
	if parts[0] != "m" {
		return nil, Invalid(s, `a path starts with "m/"`)
	}
	levels := parts[1:]
	if len(levels) == 0 {
		return nil, Invalid(s, "the path has no levels below m")
	}
	if len(levels) > MaxDepth {
		return nil, Invalid(s, fmt.Sprintf("the path is deeper than %d levels", MaxDepth))
	}
	p := make(Path, len(levels))
	for i, lv := range levels {
		hardened := false
		if n := len(lv); n > 0 && (lv[n-1] == '\'' || lv[n-1] == 'h' || lv[n-1] == 'H') {
			hardened, lv = true, lv[:n-1]
		}
		if lv == "" {
			return nil, Invalid(s, fmt.Sprintf("level %d is empty", i+1))
		}
		if strings.TrimLeft(lv, "0123456789") != "" {
			return nil, Invalid(s, fmt.Sprintf("level %d is not a decimal number", i+1))
		}
		if len(lv) > 1 && lv[0] == '0' {
			return nil, Invalid(s, fmt.Sprintf("level %d has a leading zero", i+1))
		}
		v, err := strconv.ParseUint(lv, 10, 32)
		if err != nil || uint32(v) >= Hardened {
			return nil, Invalid(s, fmt.Sprintf("level %d is not below 2^31 (write hardened levels with ' or h)", i+1))
		}
		p[i] = uint32(v)
		if hardened {
			p[i] |= Hardened
		}
	}
	return p, nil
}

// String writes p as "m/44'/60'/0'/0/0".
func (p Path) String() string {
	var b strings.Builder
	b.WriteString("m")
	for _, v := range p {
		b.WriteByte('/')
		b.WriteString(strconv.FormatUint(uint64(v&^Hardened), 10))
		if v&Hardened != 0 {
			b.WriteByte('\'')
		}
	}
	return b.String()
}

// Invalid is the INVALID_DERIVATION_PATH error for path s. The path is
// quoted (and clipped): it is not a secret, but it is untrusted input.
func Invalid(s, why string) *sdk.Error {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return &sdk.Error{
		Code:    sdk.CodeInvalidDerivationPath,
		Message: fmt.Sprintf("invalid derivation path %q: %s", s, why),
		Hint:    `write a BIP-32 path like m/44'/60'/0'/0/0 (hardened levels with ' or h)`,
	}
}

// Scheme turns an account index into a path.
type Scheme string

// The schemes wallets use for Ethereum accounts.
const (
	// BIP44 is m/44'/60'/0'/0/x (MetaMask, Trezor Suite, most wallets).
	BIP44 Scheme = "bip44"
	// Live is Ledger Live's m/44'/60'/x'/0/0.
	Live Scheme = "live"
	// Legacy is m/44'/60'/0'/x (the old Ledger Chrome app, MyEtherWallet).
	Legacy Scheme = "legacy"
)

// Schemes lists the scheme names.
func Schemes() []string { return []string{string(BIP44), string(Live), string(Legacy)} }

// ParseScheme checks a scheme name; "" is BIP44.
func ParseScheme(s string) (Scheme, error) {
	switch d := Scheme(s); d {
	case BIP44, Live, Legacy:
		return d, nil
	case "":
		return BIP44, nil
	}
	return "", sdk.NewError(sdk.CodeInvalidRequest,
		fmt.Sprintf("unknown derivation scheme %q", clip(s)), "use bip44, live or legacy")
}

// Path returns the path of account index under the scheme ("" is BIP44).
func (d Scheme) Path(index uint32) (Path, error) {
	if index >= Hardened {
		return nil, sdk.NewError(sdk.CodeInvalidDerivationPath,
			fmt.Sprintf("account index %d is not below 2^31", index), "account indices run from 0 to 2147483647")
	}
	const h = Hardened
	switch d {
	case BIP44, "":
		return Path{44 | h, 60 | h, 0 | h, 0, index}, nil
	case Live:
		return Path{44 | h, 60 | h, index | h, 0, 0}, nil
	case Legacy:
		return Path{44 | h, 60 | h, 0 | h, index}, nil
	}
	_, err := ParseScheme(string(d))
	return nil, err
}

// Index is the inverse of Path: the account index whose path under the
// scheme is p, and whether there is one.
func (d Scheme) Index(p Path) (uint32, bool) {
	var i uint32
	switch {
	case d == Live && len(p) == 5:
		i = p[2] &^ Hardened
	case d == Legacy && len(p) == 4:
		i = p[3]
	case (d == BIP44 || d == "") && len(p) == 5:
		i = p[4]
	default:
		return 0, false
	}
	want, err := d.Path(i)
	if err != nil || want.String() != p.String() {
		return 0, false
	}
	return i, true
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
