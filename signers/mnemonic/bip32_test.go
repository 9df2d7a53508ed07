package mnemonic

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"

	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/sdk/hdpath"
)

// parseTestPath parses a vector's path, where "m" alone is the master key.
func parseTestPath(t *testing.T, s string) hdpath.Path {
	t.Helper()
	if s == "m" {
		return hdpath.Path{}
	}
	p, err := hdpath.Parse(s)
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return p
}

// TestBIP32Vectors checks the derivation against the official BIP-32 test
// vectors 1 to 3 (testdata/bip32-vectors.json), decoded with btcsuite's
// hdkeychain.
func TestBIP32Vectors(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("testdata/bip32-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Vectors []struct {
			Name, Seed, Path, Xprv, Xpub string
		}
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Vectors) < 14 {
		t.Fatalf("only %d vectors", len(f.Vectors))
	}
	for _, v := range f.Vectors {
		seed, _ := hex.DecodeString(v.Seed)
		m, err := masterKey(seed)
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		k, err := m.derive(parseTestPath(t, v.Path))
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		want, err := hdkeychain.NewKeyFromString(v.Xprv)
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		wantPriv, err := want.ECPrivKey()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(k.key[:], wantPriv.Serialize()) {
			t.Errorf("%s: private key %x, want %x", v.Name, k.key, wantPriv.Serialize())
		}
		if !bytes.Equal(k.chain[:], want.ChainCode()) {
			t.Errorf("%s: chain code %x, want %x", v.Name, k.chain, want.ChainCode())
		}
		pub, err := k.publicKey()
		if err != nil {
			t.Fatal(err)
		}
		wantPub, err := hdkeychain.NewKeyFromString(v.Xpub)
		if err != nil {
			t.Fatal(err)
		}
		wp, err := wantPub.ECPubKey()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(pub, wp.SerializeCompressed()) {
			t.Errorf("%s: public key %x, want %x", v.Name, pub, wp.SerializeCompressed())
		}
	}
}

// TestBIP32MatchesHDKeychain derives many random paths from random seeds
// with this package and with btcsuite's hdkeychain and compares keys and
// chain codes.
func TestBIP32MatchesHDKeychain(t *testing.T) {
	t.Parallel()
	seedRand := rand.Uint64()
	t.Logf("random seed %d", seedRand)
	r := rand.New(rand.NewPCG(seedRand, 42))
	n := 300
	if testing.Short() {
		n = 50
	}
	for i := 0; i < n; i++ {
		seed := make([]byte, 16+r.IntN(49))
		for j := range seed {
			seed[j] = byte(r.Uint32())
		}
		path := make(hdpath.Path, 1+r.IntN(6))
		for j := range path {
			switch r.IntN(3) {
			case 0:
				path[j] = r.Uint32N(hdpath.Hardened)
			case 1:
				path[j] = hdpath.Hardened + r.Uint32N(hdpath.Hardened)
			default:
				path[j] = r.Uint32N(4) // small indices, as wallets use
			}
		}
		m, err := masterKey(seed)
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.derive(path)
		if err != nil {
			t.Fatalf("seed %x path %s: %v", seed, path, err)
		}
		want, err := hdkeychain.NewMaster(seed, &chaincfg.MainNetParams)
		if err != nil {
			t.Fatal(err)
		}
		for _, idx := range path {
			if want, err = want.Derive(idx); err != nil {
				t.Fatal(err)
			}
		}
		wp, err := want.ECPrivKey()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.key[:], wp.Serialize()) || !bytes.Equal(got.chain[:], want.ChainCode()) {
			t.Fatalf("seed %x path %s: got key %x chain %x, hdkeychain key %x chain %x", seed, path, got.key, got.chain, wp.Serialize(), want.ChainCode())
		}
	}
}

// TestBadPaths runs testdata/bad/paths.json: each path must be refused
// with its code by ParsePath, by Accounts and by a signing call.
func TestBadPaths(t *testing.T) {
	t.Parallel()
	var cases []struct {
		Path string   `json:"path"`
		Code sdk.Code `json:"code"`
		Why  string   `json:"why"`
		// AccountsOnly: a signing request with an empty path names its
		// account by address instead, so only Accounts sees the path.
		AccountsOnly bool `json:"accountsOnly"`
	}
	readJSON(t, "testdata/bad/paths.json", &cases)
	if len(cases) < 10 {
		t.Fatalf("only %d bad paths", len(cases))
	}
	s := memSigner(t, "all all all all all all all all all all all all", "")
	for _, c := range cases {
		if _, err := hdpath.Parse(c.Path); sdk.CodeOf(err) != c.Code {
			t.Errorf("hdpath.Parse(%q) (%s): %v, want %s", c.Path, c.Why, err, c.Code)
		}
		resp, err := s.Accounts(t.Context(), &sdk.AccountsRequest{Paths: []string{c.Path}})
		if sdk.CodeOf(err) != c.Code || resp != nil {
			t.Errorf("Accounts(%q): %v, want %s", c.Path, err, c.Code)
		}
		if c.AccountsOnly {
			continue
		}
		sig, err := s.SignMessage(t.Context(), &sdk.SignMessageRequest{Account: sdk.Account{Path: c.Path}, Message: []byte("x")})
		if sdk.CodeOf(err) != c.Code || sig != nil {
			t.Errorf("SignMessage at %q: %v, want %s", c.Path, err, c.Code)
		}
	}
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}
