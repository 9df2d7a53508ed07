package trezor

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

// DefaultMnemonic is SLIP-14's test seed, the one Trezor's own Ethereum
// fixtures use. It is public: never hold funds with it.
const DefaultMnemonic = "all all all all all all all all all all all all"

// maxPathDepth bounds BIP-32 levels, as the firmware does.
const maxPathDepth = 10

// keyring derives and caches BIP-32 keys of one seed (mnemonic + passphrase).
type keyring struct {
	master *hdkeychain.ExtendedKey

	mu    sync.Mutex
	cache map[string]*derivedKey
}

type derivedKey struct {
	priv    *ecdsa.PrivateKey
	address common.Address
}

func newKeyring(mnemonic, passphrase string) (*keyring, error) {
	if !bip39.IsMnemonicValid(mnemonic) {
		return nil, errors.New("trezor emulator: invalid mnemonic")
	}
	seed := bip39.NewSeed(mnemonic, passphrase)
	master, err := hdkeychain.NewMaster(seed, &chaincfg.MainNetParams)
	if err != nil {
		return nil, fmt.Errorf("trezor emulator: master key: %w", err)
	}
	return &keyring{master: master, cache: map[string]*derivedKey{}}, nil
}

func (k *keyring) derive(path []uint32) (*derivedKey, error) {
	if len(path) > maxPathDepth {
		return nil, fmt.Errorf("path of %d levels exceeds %d", len(path), maxPathDepth)
	}
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
			return nil, err
		}
	}
	ec, err := ext.ECPrivKey()
	if err != nil {
		return nil, err
	}
	priv, err := crypto.ToECDSA(ec.Serialize())
	if err != nil {
		return nil, err
	}
	d := &derivedKey{priv: priv, address: crypto.PubkeyToAddress(priv.PublicKey)}
	k.cache[string(key)] = d
	return d, nil
}
