package mnemonic

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/mm-wallet/mm/sdk"
)

// HardenedOffset is added to a BIP-32 index to make it hardened (the ' or h
// suffix of a path level).
const HardenedOffset uint32 = 1 << 31

// maxDepth is the deepest path BIP-32 can serialize (its depth is one byte).
const maxDepth = 255

// Path is a parsed BIP-32 derivation path: one index per level below the
// master key, hardened levels carrying HardenedOffset.
type Path []uint32

// ParsePath parses a BIP-32 path such as "m/44'/60'/0'/0/0". A hardened level
// is written with a trailing ' or h ("m/44h/60h/0h/0/0" is the same path).
// Levels are decimal without sign or leading zeros and below 2^31. The path
// must start with "m" and have at least one level. Anything else is
// INVALID_DERIVATION_PATH.
func ParsePath(s string) (Path, error) {
	if s == "" {
		return nil, badPath(s, "the path is empty")
	}
	parts := strings.Split(s, "/")
	if parts[0] != "m" {
		return nil, badPath(s, `a path starts with "m/"`)
	}
	levels := parts[1:]
	if len(levels) == 0 {
		return nil, badPath(s, "the path has no levels below m")
	}
	if len(levels) > maxDepth {
		return nil, badPath(s, fmt.Sprintf("the path is deeper than %d levels", maxDepth))
	}
	p := make(Path, len(levels))
	for i, lv := range levels {
		hardened := false
		if n := len(lv); n > 0 && (lv[n-1] == '\'' || lv[n-1] == 'h' || lv[n-1] == 'H') {
			hardened = true
			lv = lv[:n-1]
		}
		if lv == "" {
			return nil, badPath(s, fmt.Sprintf("level %d is empty", i+1))
		}
		for _, c := range lv {
			if c < '0' || c > '9' {
				return nil, badPath(s, fmt.Sprintf("level %d is not a decimal number", i+1))
			}
		}
		if len(lv) > 1 && lv[0] == '0' {
			return nil, badPath(s, fmt.Sprintf("level %d has a leading zero", i+1))
		}
		v, err := strconv.ParseUint(lv, 10, 32)
		if err != nil || uint32(v) >= HardenedOffset {
			return nil, badPath(s, fmt.Sprintf("level %d is not below 2^31 (write hardened levels with ' or h)", i+1))
		}
		p[i] = uint32(v)
		if hardened {
			p[i] += HardenedOffset
		}
	}
	return p, nil
}

// String formats p in "m/44'/60'/0'/0/0" notation.
func (p Path) String() string {
	var b strings.Builder
	b.WriteString("m")
	for _, v := range p {
		b.WriteByte('/')
		if v >= HardenedOffset {
			b.WriteString(strconv.FormatUint(uint64(v-HardenedOffset), 10))
			b.WriteByte('\'')
		} else {
			b.WriteString(strconv.FormatUint(uint64(v), 10))
		}
	}
	return b.String()
}

func badPath(path, why string) *sdk.Error {
	// A path is not a secret, but it is untrusted: quote it so control
	// characters cannot forge output lines.
	return &sdk.Error{
		Code:    sdk.CodeInvalidDerivationPath,
		Message: fmt.Sprintf("mnemonic: invalid derivation path %q: %s", clip(path, 80), why),
		Hint:    `write a BIP-32 path like m/44'/60'/0'/0/0 (hardened levels with ' or h)`,
	}
}

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

// child derives the child key at index i (hardened when i >= HardenedOffset).
func (k *extKey) child(i uint32) (*extKey, error) {
	mac := hmac.New(sha512.New, k.chain[:])
	if i >= HardenedOffset {
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
func (k *extKey) derive(p Path) (*extKey, error) {
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
