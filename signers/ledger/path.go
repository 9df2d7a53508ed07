package ledger

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/mm-wallet/mm/sdk"
)

// hardened is the BIP-32 hardened-index bit.
const hardened = 0x80000000

// maxPathDepth is the Ethereum app's limit on BIP-32 levels.
const maxPathDepth = 10

// Path is a BIP-32 derivation path; hardened indices carry 0x80000000.
type Path []uint32

// ParsePath reads "m/44'/60'/0'/0/0" (hardened levels marked ' or h). It
// wants the "m/" prefix, 1 to 10 levels and indices below 2^31, and answers
// INVALID_DERIVATION_PATH otherwise.
func ParsePath(s string) (Path, error) {
	bad := func(why string) error {
		return sdk.NewError(sdk.CodeInvalidDerivationPath,
			fmt.Sprintf("ledger: invalid derivation path %q: %s", s, why),
			`write it as m/44'/60'/0'/0/0 (1 to 10 levels, ' or h marks a hardened level)`)
	}
	rest, ok := strings.CutPrefix(s, "m/")
	if !ok {
		return nil, bad(`it must start with "m/"`)
	}
	parts := strings.Split(rest, "/")
	if len(parts) > maxPathDepth {
		return nil, bad(fmt.Sprintf("%d levels, the Ledger app takes at most %d", len(parts), maxPathDepth))
	}
	p := make(Path, 0, len(parts))
	for _, part := range parts {
		h := uint32(0)
		if n := len(part); n > 0 && (part[n-1] == '\'' || part[n-1] == 'h' || part[n-1] == 'H') {
			h, part = hardened, part[:n-1]
		}
		if part == "" || (len(part) > 1 && part[0] == '0') || strings.TrimLeft(part, "0123456789") != "" {
			return nil, bad(fmt.Sprintf("level %q is not a number", part))
		}
		n, err := strconv.ParseUint(part, 10, 32)
		if err != nil || n >= hardened {
			return nil, bad(fmt.Sprintf("level %q is not below 2^31", part))
		}
		p = append(p, uint32(n)|h)
	}
	return p, nil
}

// String renders the path as "m/44'/60'/0'/0/0".
func (p Path) String() string {
	var b strings.Builder
	b.WriteString("m")
	for _, x := range p {
		b.WriteByte('/')
		b.WriteString(strconv.FormatUint(uint64(x&^hardened), 10))
		if x&hardened != 0 {
			b.WriteByte('\'')
		}
	}
	return b.String()
}

// encode lays the path out as the app wants it: a count byte, then each
// index as 4 bytes big-endian.
func (p Path) encode() []byte {
	out := make([]byte, 1+4*len(p))
	out[0] = byte(len(p))
	for i, x := range p {
		out[1+4*i] = byte(x >> 24)
		out[2+4*i] = byte(x >> 16)
		out[3+4*i] = byte(x >> 8)
		out[4+4*i] = byte(x)
	}
	return out
}

// Derivation is a scheme that turns an account index into a path.
type Derivation string

// Derivation schemes.
const (
	// DerivationBIP44 is m/44'/60'/0'/0/x (MetaMask, most wallets; the default).
	DerivationBIP44 Derivation = "bip44"
	// DerivationLive is Ledger Live's m/44'/60'/x'/0/0.
	DerivationLive Derivation = "live"
	// DerivationLegacy is the old Ledger Chrome app's m/44'/60'/0'/x.
	DerivationLegacy Derivation = "legacy"
)

// ParseDerivation checks a scheme name.
func ParseDerivation(s string) (Derivation, error) {
	switch d := Derivation(s); d {
	case DerivationBIP44, DerivationLive, DerivationLegacy:
		return d, nil
	}
	return "", sdk.NewError(sdk.CodeInvalidRequest,
		fmt.Sprintf("ledger: unknown derivation scheme %q", s), "use live, legacy or bip44")
}

// PathFor returns the path of account index under the scheme.
func (d Derivation) PathFor(index uint32) (Path, error) {
	if index >= hardened {
		return nil, sdk.NewError(sdk.CodeInvalidDerivationPath,
			fmt.Sprintf("ledger: account index %d is not below 2^31", index), "account indices run from 0 to 2147483647")
	}
	switch d {
	case DerivationLive:
		return Path{44 | hardened, 60 | hardened, index | hardened, 0, 0}, nil
	case DerivationLegacy:
		return Path{44 | hardened, 60 | hardened, 0 | hardened, index}, nil
	case DerivationBIP44, "":
		return Path{44 | hardened, 60 | hardened, 0 | hardened, 0, index}, nil
	}
	return nil, sdk.NewError(sdk.CodeInvalidRequest, fmt.Sprintf("ledger: unknown derivation scheme %q", d), "use live, legacy or bip44")
}
