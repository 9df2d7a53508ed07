package trezor

import (
	"fmt"

	"github.com/mm-wallet/mm/sdk/hdpath"
)

// maxDepth is the deepest path the firmware accepts.
const maxDepth = 10

// parsePath reads "m/44'/60'/0'/0/0" (also with h or H for hardened) as
// hdpath.Parse does, refusing more levels than the firmware takes.
func parsePath(s string) ([]uint32, error) {
	p, err := hdpath.Parse(s)
	if err != nil {
		return nil, err
	}
	if len(p) > maxDepth {
		return nil, fmt.Errorf("a path has 1 to %d levels", maxDepth)
	}
	return p, nil
}

// formatPath writes a path as "m/44'/60'/0'/0/0".
func formatPath(p []uint32) string { return hdpath.Path(p).String() }

// Derivation schemes for AccountsRequest.Indices.
const (
	DerivationBIP44  = string(hdpath.BIP44)  // m/44'/60'/0'/0/x (Trezor Suite, MetaMask)
	DerivationLive   = string(hdpath.Live)   // m/44'/60'/x'/0/0 (Ledger Live)
	DerivationLegacy = string(hdpath.Legacy) // m/44'/60'/0'/x (MyEtherWallet, old Ledger)
)

// indexPath is the path of account i under scheme.
func indexPath(scheme string, i uint32) ([]uint32, error) {
	return hdpath.Scheme(scheme).Path(i)
}
