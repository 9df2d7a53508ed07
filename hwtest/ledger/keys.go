package ledger

import (
	"encoding/binary"

	"github.com/mm-wallet/mm/hwtest/emulator"
)

// SpeculosMnemonic is the default seed of Speculos (speculos/main.py
// DEFAULT_SEED) and of Ledger's ragger test framework. It is public test
// data: never hold funds with it.
const SpeculosMnemonic = "glory promote mansion idle axis finger extra february uncover one trip resource lawn turtle enact monster seven myth punch hobby comfort wild raise skin"

// parsePath reads the app's path encoding: a count byte (1..10) and that many
// 4-byte big-endian indices. It returns the path and the bytes after it.
func parsePath(data []byte) ([]uint32, []byte, bool) {
	if len(data) < 1 {
		return nil, nil, false
	}
	n := int(data[0])
	if n == 0 || n > emulator.MaxPathDepth || len(data) < 1+4*n {
		return nil, nil, false
	}
	path := make([]uint32, n)
	for i := range path {
		path[i] = binary.BigEndian.Uint32(data[1+4*i:])
	}
	return path, data[1+4*n:], true
}
