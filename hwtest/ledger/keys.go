package ledger

import (
	"crypto/ecdsa"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/tyler-smith/go-bip39"
)

// SpeculosMnemonic is the default seed of Speculos (speculos/main.py
// DEFAULT_SEED) and of Ledger's ragger test framework. It is public test
// data: never hold funds with it.
const SpeculosMnemonic = "glory promote mansion idle axis finger extra february uncover one trip resource lawn turtle enact monster seven myth punch hobby comfort wild raise skin"

// maxPathDepth is the app's limit on BIP-32 levels.
const maxPathDepth = 10

// keyring derives and caches BIP-32 keys from one seed, the way the device's
// OS does for the Ethereum app (secp256k1, no passphrase).
type keyring struct {
	master *hdkeychain.ExtendedKey

	mu    sync.Mutex
	cache map[string]*derived
}

type derived struct {
	priv      *ecdsa.PrivateKey
	pub       []byte // 65 bytes, 04‖X‖Y
	address   common.Address
	chainCode []byte
}

func newKeyring(mnemonic string) (*keyring, error) {
	if !bip39.IsMnemonicValid(mnemonic) {
		return nil, errors.New("ledger emulator: invalid mnemonic")
	}
	seed := bip39.NewSeed(mnemonic, "")
	master, err := hdkeychain.NewMaster(seed, &chaincfg.MainNetParams)
	if err != nil {
		return nil, fmt.Errorf("ledger emulator: master key: %w", err)
	}
	return &keyring{master: master, cache: map[string]*derived{}}, nil
}

// derive returns the key at path (indices with the hardened bit set as
// given).
func (k *keyring) derive(path []uint32) (*derived, error) {
	key := make([]byte, 4*len(path))
	for i, p := range path {
		binary.BigEndian.PutUint32(key[4*i:], p)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if d, ok := k.cache[string(key)]; ok {
		return d, nil
	}
	ext := k.master
	for _, idx := range path {
		var err error
		if ext, err = ext.Derive(idx); err != nil {
			return nil, fmt.Errorf("ledger emulator: derive: %w", err)
		}
	}
	ec, err := ext.ECPrivKey()
	if err != nil {
		return nil, fmt.Errorf("ledger emulator: private key: %w", err)
	}
	priv, err := crypto.ToECDSA(ec.Serialize())
	if err != nil {
		return nil, fmt.Errorf("ledger emulator: private key: %w", err)
	}
	d := &derived{
		priv:      priv,
		pub:       crypto.FromECDSAPub(&priv.PublicKey),
		address:   crypto.PubkeyToAddress(priv.PublicKey),
		chainCode: append([]byte(nil), ext.ChainCode()...),
	}
	k.cache[string(key)] = d
	return d, nil
}

// parsePath reads the app's path encoding: a count byte (1..10) and that many
// 4-byte big-endian indices. It returns the path and the bytes after it.
func parsePath(data []byte) ([]uint32, []byte, bool) {
	if len(data) < 1 {
		return nil, nil, false
	}
	n := int(data[0])
	if n == 0 || n > maxPathDepth || len(data) < 1+4*n {
		return nil, nil, false
	}
	path := make([]uint32, n)
	for i := range path {
		path[i] = binary.BigEndian.Uint32(data[1+4*i:])
	}
	return path, data[1+4*n:], true
}
