package mnemonic

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/mm-wallet/mm/sdk/hdpath"
)

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// extKey is a BIP-32 extended private key.
//
// Why this is written here instead of taken from a BIP-32 library: the Go
// BIP-32 libraries (btcsuite hdkeychain, tyler-smith/go-bip32, …) compute
// public keys with decred/btcec, which decodes a base-point table of several
// megabytes on first use — about 7–9 ms, paid by every signer process, and
// mm starts one per CLI call. go-ethereum's crypto package does the same
// point multiplication with libsecp256k1 when built with cgo, at no start-up
// cost. So the derivation below is only the BIP-32 glue around well-kept
// primitives: HMAC-SHA512 from the standard library, scalar addition modulo
// the group order with decred's constant-time ModNScalar (which needs no
// table), and public keys from go-ethereum crypto. Its tests check it against
// the official BIP-32 test vectors and against btcsuite's hdkeychain over
// many random seeds and paths.
type extKey struct {
	key   [32]byte
	chain [32]byte
}

var errInvalidChild = errors.New("derived key is invalid (probability below 2^-127); use the next index")

// masterKey derives the BIP-32 master key from a seed of 16 to 64 bytes.
func masterKey(seed []byte) (*extKey, error) {
	if len(seed) < 16 || len(seed) > 64 {
		return nil, fmt.Errorf("seed is %d bytes, want 16 to 64", len(seed))
	}
	mac := hmac.New(sha512.New, []byte("Bitcoin seed"))
	mac.Write(seed)
	sum := mac.Sum(nil)
	defer clear(sum)
	var k secp256k1.ModNScalar
	if overflow := k.SetByteSlice(sum[:32]); overflow || k.IsZero() {
		return nil, errInvalidChild
	}
	out := &extKey{}
	k.PutBytes(&out.key)
	k.Zero()
	copy(out.chain[:], sum[32:])
	return out, nil
}

// publicKey returns the 33-byte compressed public key of k.
func (k *extKey) publicKey() ([]byte, error) {
	priv, err := crypto.ToECDSA(k.key[:])
	if err != nil {
		return nil, err
	}
	return crypto.CompressPubkey(&priv.PublicKey), nil
}

// child derives the child key at index i (hardened when i >= hdpath.Hardened).
func (k *extKey) child(i uint32) (*extKey, error) {
	mac := hmac.New(sha512.New, k.chain[:])
	if i >= hdpath.Hardened {
		mac.Write([]byte{0})
		mac.Write(k.key[:])
	} else {
		pub, err := k.publicKey()
		if err != nil {
			return nil, err
		}
		mac.Write(pub)
	}
	var ib [4]byte
	binary.BigEndian.PutUint32(ib[:], i)
	mac.Write(ib[:])
	sum := mac.Sum(nil)
	defer clear(sum)

	var il, parent secp256k1.ModNScalar
	if overflow := il.SetByteSlice(sum[:32]); overflow {
		return nil, errInvalidChild
	}
	parent.SetByteSlice(k.key[:])
	il.Add(&parent)
	parent.Zero()
	if il.IsZero() {
		return nil, errInvalidChild
	}
	out := &extKey{}
	il.PutBytes(&out.key)
	il.Zero()
	copy(out.chain[:], sum[32:])
	return out, nil
}

// derive walks p from k.
func (k *extKey) derive(p hdpath.Path) (*extKey, error) {
	cur := k
	for _, i := range p {
		next, err := cur.child(i)
		if cur != k {
			cur.wipe()
		}
		if err != nil {
			return nil, err
		}
		cur = next
	}
	return cur, nil
}

// wipe zeroes the key material.
func (k *extKey) wipe() {
	clear(k.key[:])
	clear(k.chain[:])
}
