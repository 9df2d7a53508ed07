package ledger

import (
	"fmt"

	"github.com/mm-wallet/mm/sdk/hdpath"
)

// hardened is the BIP-32 hardened-index bit.
const hardened = hdpath.Hardened

// maxPathDepth is the Ethereum app's limit on BIP-32 levels.
const maxPathDepth = 10

// Path is a BIP-32 derivation path; hardened indices carry 0x80000000.
type Path = hdpath.Path

// ParsePath reads "m/44'/60'/0'/0/0" (hardened levels marked ' or h) as
// hdpath.Parse does, and also refuses more levels than the Ethereum app
// takes (10): INVALID_DERIVATION_PATH.
func ParsePath(s string) (Path, error) {
	p, err := hdpath.Parse(s)
	if err != nil {
		return nil, err
	}
	if len(p) > maxPathDepth {
		return nil, hdpath.Invalid(s, fmt.Sprintf("%d levels, the Ledger app takes at most %d", len(p), maxPathDepth))
	}
	return p, nil
}

// encodePath lays the path out as the app wants it: a count byte, then each
// index as 4 bytes big-endian.
func encodePath(p Path) []byte {
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
