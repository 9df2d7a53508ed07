package trezor

import (
	"fmt"
	"strconv"
	"strings"
)

const (
	hardened = 0x80000000
	// maxDepth is the deepest path the firmware accepts.
	maxDepth = 10
)

// parsePath reads "m/44'/60'/0'/0/0" (also with h or H for hardened).
func parsePath(s string) ([]uint32, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("empty path")
	}
	parts := strings.Split(s, "/")
	if parts[0] != "m" {
		return nil, fmt.Errorf(`a path starts with "m/"`)
	}
	parts = parts[1:]
	if len(parts) == 0 || len(parts) > maxDepth {
		return nil, fmt.Errorf("a path has 1 to %d levels", maxDepth)
	}
	out := make([]uint32, len(parts))
	for i, p := range parts {
		hard := false
		if n := len(p); n > 0 && (p[n-1] == '\'' || p[n-1] == 'h' || p[n-1] == 'H') {
			hard, p = true, p[:n-1]
		}
		if p == "" || (len(p) > 1 && p[0] == '0') || strings.IndexFunc(p, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
			return nil, fmt.Errorf("level %d is not a number", i+1)
		}
		v, err := strconv.ParseUint(p, 10, 32)
		if err != nil || v >= hardened {
			return nil, fmt.Errorf("level %d is out of range", i+1)
		}
		out[i] = uint32(v)
		if hard {
			out[i] |= hardened
		}
	}
	return out, nil
}

// formatPath writes a path as "m/44'/60'/0'/0/0".
func formatPath(p []uint32) string {
	var b strings.Builder
	b.WriteString("m")
	for _, v := range p {
		b.WriteByte('/')
		b.WriteString(strconv.FormatUint(uint64(v&^hardened), 10))
		if v&hardened != 0 {
			b.WriteByte('\'')
		}
	}
	return b.String()
}

// Derivation schemes for AccountsRequest.Indices.
const (
	DerivationBIP44  = "bip44"  // m/44'/60'/0'/0/x (Trezor Suite, MetaMask)
	DerivationLive   = "live"   // m/44'/60'/x'/0/0 (Ledger Live)
	DerivationLegacy = "legacy" // m/44'/60'/0'/x (MyEtherWallet, old Ledger)
)

func indexPath(scheme string, i uint32) ([]uint32, error) {
	if i >= hardened {
		return nil, fmt.Errorf("index %d is out of range", i)
	}
	switch scheme {
	case DerivationBIP44, "":
		return []uint32{44 | hardened, 60 | hardened, 0 | hardened, 0, i}, nil
	case DerivationLive:
		return []uint32{44 | hardened, 60 | hardened, i | hardened, 0, 0}, nil
	case DerivationLegacy:
		return []uint32{44 | hardened, 60 | hardened, 0 | hardened, i}, nil
	}
	return nil, fmt.Errorf("unknown derivation %q", scheme)
}
