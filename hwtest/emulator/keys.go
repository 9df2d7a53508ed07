package emulator

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

// MaxPathDepth is the deepest BIP-32 path a device derives (the Ledger
// Ethereum app's and the Trezor firmware's limit alike).
const MaxPathDepth = 10

// Key is one derived secp256k1 key.
type Key struct {
	Priv      *ecdsa.PrivateKey
	Pub       []byte // 65 bytes, 04‖X‖Y
	Address   common.Address
	ChainCode []byte
}

// Keyring derives and caches the BIP-32 keys of one seed (a BIP-39
// mnemonic and passphrase), as a device's firmware does. It is safe for
// concurrent use.
type Keyring struct {
	master *hdkeychain.ExtendedKey

	mu    sync.Mutex
	cache map[string]*Key
}

// NewKeyring checks the mnemonic and computes the master key.
func NewKeyring(mnemonic, passphrase string) (*Keyring, error) {
	if !bip39.IsMnemonicValid(mnemonic) {
		return nil, errors.New("emulator: invalid mnemonic")
	}
	master, err := hdkeychain.NewMaster(bip39.NewSeed(mnemonic, passphrase), &chaincfg.MainNetParams)
	if err != nil {
		return nil, fmt.Errorf("emulator: master key: %w", err)
	}
	return &Keyring{master: master, cache: map[string]*Key{}}, nil
}

// Derive returns the key at path (indices with the hardened bit set as
// given), at most MaxPathDepth levels.
func (k *Keyring) Derive(path []uint32) (*Key, error) {
	if len(path) > MaxPathDepth {
		return nil, fmt.Errorf("emulator: path of %d levels exceeds %d", len(path), MaxPathDepth)
	}
	id := make([]byte, 4*len(path))
	for i, p := range path {
		binary.BigEndian.PutUint32(id[4*i:], p)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if d, ok := k.cache[string(id)]; ok {
		return d, nil
	}
	ext := k.master
	for _, idx := range path {
		var err error
		if ext, err = ext.Derive(idx); err != nil {
			return nil, fmt.Errorf("emulator: derive: %w", err)
		}
	}
	ec, err := ext.ECPrivKey()
	if err != nil {
		return nil, fmt.Errorf("emulator: private key: %w", err)
	}
	priv, err := crypto.ToECDSA(ec.Serialize())
	if err != nil {
		return nil, fmt.Errorf("emulator: private key: %w", err)
	}
	d := &Key{
		Priv:      priv,
		Pub:       crypto.FromECDSAPub(&priv.PublicKey),
		Address:   crypto.PubkeyToAddress(priv.PublicKey),
		ChainCode: append([]byte(nil), ext.ChainCode()...),
	}
	k.cache[string(id)] = d
	return d, nil
}
