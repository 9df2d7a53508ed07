package decode

import (
	"encoding/hex"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"

	"github.com/mm-wallet/mm/core"
	"github.com/mm-wallet/mm/core/chains"
	"github.com/mm-wallet/mm/sdk"
)

var (
	alice   = common.HexToAddress("0x1111111111111111111111111111111111111111")
	bob     = common.HexToAddress("0x2222222222222222222222222222222222222222")
	usdcEth = common.HexToAddress("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48")
	wethEth = common.HexToAddress("0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2")
	nft     = common.HexToAddress("0x3333333333333333333333333333333333333333")
)

func mainnet(t *testing.T) *Decoder {
	t.Helper()
	c, _ := chains.Lookup(1)
	d, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// pack encodes a call with the built-in definition whose signature is sig.
func pack(t *testing.T, sig string, args ...any) []byte {
	t.Helper()
	builtinOnce.Do(loadBuiltins)
	for _, ms := range builtinTab {
		for _, m := range ms {
			if m.m.Sig == sig {
				b, err := m.m.Inputs.Pack(args...)
				if err != nil {
					t.Fatalf("pack %s: %v", sig, err)
				}
				return append(append([]byte{}, m.m.ID...), b...)
			}
		}
	}
	t.Fatalf("no built-in %s", sig)
	return nil
}

// The selectors are the ones every block explorer shows; a wrong type in a
// built-in definition would change them.
func TestBuiltinSelectors(t *testing.T) {
	want := map[string]string{
		"transfer(address,uint256)":                                        "a9059cbb",
		"approve(address,uint256)":                                         "095ea7b3",
		"transferFrom(address,address,uint256)":                            "23b872dd",
		"increaseAllowance(address,uint256)":                               "39509351",
		"permit(address,address,uint256,uint256,uint8,bytes32,bytes32)":    "d505accf",
		"safeTransferFrom(address,address,uint256)":                        "42842e0e",
		"safeTransferFrom(address,address,uint256,bytes)":                  "b88d4fde",
		"setApprovalForAll(address,bool)":                                  "a22cb465",
		"safeTransferFrom(address,address,uint256,uint256,bytes)":          "f242432a",
		"safeBatchTransferFrom(address,address,uint256[],uint256[],bytes)": "2eb2c2d6",
		"deposit()":         "d0e30db0",
		"withdraw(uint256)": "2e1a7d4d",
		"approve(address,address,uint160,uint48)":                                   "87517c45",
		"permit(address,((address,uint160,uint48,uint48),address,uint256),bytes)":   "2b67b570",
		"permit(address,((address,uint160,uint48,uint48)[],address,uint256),bytes)": "2a2d80d1",
		"transferFrom(address,address,uint160,address)":                             "36c78516",
		"transferFrom((address,address,uint160,address)[])":                         "0d58b1db",
		"aggregate((address,bytes)[])":                                              "252dba42",
		"aggregate3((address,bool,bytes)[])":                                        "82ad56cb",
		"aggregate3Value((address,bool,uint256,bytes)[])":                           "174dea71",
		"tryAggregate(bool,(address,bytes)[])":                                      "bce38bd7",
	}
	builtinOnce.Do(loadBuiltins)
	got := map[string]string{}
	for id, ms := range builtinTab {
		for _, m := range ms {
			got[m.m.Sig] = hex.EncodeToString(id[:])
		}
	}
	for sig, sel := range want {
		if got[sig] != sel {
			t.Errorf("%s: selector %q, want %s", sig, got[sig], sel)
		}
	}
}

func TestIntents(t *testing.T) {
	d := mainnet(t)
	max := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
	max160 := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 160), big.NewInt(1))
	type detail struct {
		Token      common.Address
		Amount     *big.Int
		Expiration *big.Int
		Nonce      *big.Int
	}
	type single struct {
		Details     detail
		Spender     common.Address
		SigDeadline *big.Int
	}
	type call3 struct {
		Target       common.Address
		AllowFailure bool
		CallData     []byte
	}
	cases := []struct {
		name   string
		to     common.Address
		value  *big.Int
		data   []byte
		fn     string
		intent string
		risk   core.Risk
	}{
		{"native", bob, big.NewInt(1_500_000_000_000_000_000), nil, "transfer", "Transfer 1.5 ETH to " + bob.Hex(), core.RiskLow},
		{"erc20 transfer", usdcEth, nil, pack(t, "transfer(address,uint256)", bob, big.NewInt(12_500_000)), "transfer", "Transfer 12.5 USDC to " + bob.Hex(), core.RiskLow},
		{"unknown token transfer", nft, nil, pack(t, "transfer(address,uint256)", bob, big.NewInt(7)), "transfer", "Transfer 7 units of token " + nft.Hex() + " to " + bob.Hex(), core.RiskLow},
		{"approve unlimited", usdcEth, nil, pack(t, "approve(address,uint256)", bob, max), "approve", "Approve UNLIMITED USDC for " + bob.Hex(), core.RiskHigh},
		{"approve limited", usdcEth, nil, pack(t, "approve(address,uint256)", bob, big.NewInt(2_000_000)), "approve", "Approve 2 USDC for " + bob.Hex(), core.RiskMedium},
		{"approve revoke", usdcEth, nil, pack(t, "approve(address,uint256)", bob, big.NewInt(0)), "approve", "Revoke USDC allowance of " + bob.Hex(), core.RiskLow},
		{"transferFrom", usdcEth, nil, pack(t, "transferFrom(address,address,uint256)", alice, bob, big.NewInt(1_000_000)), "transferFrom", "Transfer 1 USDC from " + alice.Hex() + " to " + bob.Hex(), core.RiskMedium},
		{"increaseAllowance", usdcEth, nil, pack(t, "increaseAllowance(address,uint256)", bob, big.NewInt(250_000)), "increaseAllowance", "Increase the allowance of " + bob.Hex() + " by 0.25 USDC", core.RiskMedium},
		{"permit", usdcEth, nil, pack(t, "permit(address,address,uint256,uint256,uint8,bytes32,bytes32)", alice, bob, max, big.NewInt(1), uint8(27), [32]byte{1}, [32]byte{2}), "permit", "Submit a signed permit from " + alice.Hex() + ": approve UNLIMITED USDC for " + bob.Hex(), core.RiskHigh},
		{"721 safeTransferFrom", nft, nil, pack(t, "safeTransferFrom(address,address,uint256)", alice, bob, big.NewInt(42)), "safeTransferFrom", "Transfer NFT #42 of collection " + nft.Hex() + " from " + alice.Hex() + " to " + bob.Hex(), core.RiskMedium},
		{"1155 safeTransferFrom", nft, nil, pack(t, "safeTransferFrom(address,address,uint256,uint256,bytes)", alice, bob, big.NewInt(3), big.NewInt(10), []byte{}), "safeTransferFrom", "Transfer 10 of token #3 of " + nft.Hex() + " from " + alice.Hex() + " to " + bob.Hex(), core.RiskMedium},
		{"1155 batch", nft, nil, pack(t, "safeBatchTransferFrom(address,address,uint256[],uint256[],bytes)", alice, bob, []*big.Int{big.NewInt(1), big.NewInt(2)}, []*big.Int{big.NewInt(5), big.NewInt(6)}, []byte{}), "safeBatchTransferFrom", "Transfer 2 token types of " + nft.Hex() + " from " + alice.Hex() + " to " + bob.Hex(), core.RiskMedium},
		{"setApprovalForAll", nft, nil, pack(t, "setApprovalForAll(address,bool)", bob, true), "setApprovalForAll", "Approve ALL tokens of collection " + nft.Hex() + " for " + bob.Hex(), core.RiskHigh},
		{"setApprovalForAll off", nft, nil, pack(t, "setApprovalForAll(address,bool)", bob, false), "setApprovalForAll", "Revoke " + bob.Hex() + "'s approval for all tokens of collection " + nft.Hex(), core.RiskLow},
		{"weth deposit", wethEth, big.NewInt(1e18), pack(t, "deposit()"), "deposit", "Wrap 1 ETH into WETH sending 1 ETH", core.RiskLow},
		{"weth withdraw", wethEth, nil, pack(t, "withdraw(uint256)", big.NewInt(5e17)), "withdraw", "Unwrap 0.5 WETH", core.RiskLow},
		{"permit2 approve", chains.Permit2, nil, pack(t, "approve(address,address,uint160,uint48)", usdcEth, bob, max160, big.NewInt(1700000000)), "approve", "Permit2: approve UNLIMITED USDC for " + bob.Hex() + " (expires at unix time 1700000000)", core.RiskHigh},
		{"permit2 permit", chains.Permit2, nil, pack(t, "permit(address,((address,uint160,uint48,uint48),address,uint256),bytes)", alice, single{detail{usdcEth, big.NewInt(3_000_000), big.NewInt(0), big.NewInt(0)}, bob, big.NewInt(1)}, []byte{1}), "permit", "Permit2 permit: approve 3 USDC for " + bob.Hex(), core.RiskMedium},
		{"permit2 transferFrom", chains.Permit2, nil, pack(t, "transferFrom(address,address,uint160,address)", alice, bob, big.NewInt(1_000_000), usdcEth), "transferFrom", "Permit2: transfer 1 USDC from " + alice.Hex() + " to " + bob.Hex(), core.RiskMedium},
		{"multicall3", chains.Multicall3, nil, pack(t, "aggregate3((address,bool,bytes)[])", []call3{{usdcEth, false, pack(t, "transfer(address,uint256)", bob, big.NewInt(1_000_000))}, {usdcEth, true, pack(t, "approve(address,uint256)", bob, max)}}), "aggregate3", "Multicall of 2 calls: Transfer 1 USDC to " + bob.Hex() + "; Approve UNLIMITED USDC for " + bob.Hex(), core.RiskHigh},
		{"unknown", bob, nil, common.FromHex("0xdeadbeef0000"), "unknown", "Call unknown function 0xdeadbeef on " + bob.Hex(), core.RiskHigh},
		{"short", bob, nil, []byte{1, 2}, "unknown", "Call " + bob.Hex() + " with 2 bytes of malformed calldata", core.RiskHigh},
		{"truncated args", usdcEth, nil, pack(t, "transfer(address,uint256)", bob, big.NewInt(1))[:20], "transfer", "Call transfer(address,uint256) on " + usdcEth.Hex() + " with malformed arguments", core.RiskHigh},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			to := c.to
			got := d.Decode(&to, c.value, c.data)
			if got.FunctionName != c.fn || got.Intent != c.intent || got.Risk != c.risk {
				t.Errorf("got %s / %q / %s\nwant %s / %q / %s", got.FunctionName, got.Intent, got.Risk, c.fn, c.intent, c.risk)
			}
		})
	}
}

func TestParamsAreJSONFriendly(t *testing.T) {
	d := mainnet(t)
	c := d.Decode(&usdcEth, nil, pack(t, "transfer(address,uint256)", bob, big.NewInt(12_500_000)))
	if len(c.Params) != 2 || c.Params[0].Value != bob.Hex() || c.Params[1].Value != "12500000" || c.Params[1].Type != "uint256" {
		t.Errorf("params = %+v", c.Params)
	}
}

func TestUserSignatureFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, SignatureFile), []byte(`{"signatures":["swap(address,uint256,bool)"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	sigs, err := LoadSignatures(dir)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := chains.Lookup(1)
	d, err := New(c, sigs...)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := abi.ParseSelector("swap(address,uint256,bool)")
	_ = m
	data := append(common.FromHex("0x"+selectorOf("swap(address,uint256,bool)")), append(common.LeftPadBytes(bob.Bytes(), 32), append(common.LeftPadBytes([]byte{9}, 32), common.LeftPadBytes([]byte{1}, 32)...)...)...)
	got := d.Decode(&bob, nil, data)
	if got.FunctionName != "swap" || !got.Known || got.Risk != core.RiskMedium || !strings.HasPrefix(got.Intent, "Call swap(address,uint256,bool) on") {
		t.Errorf("user signature decode = %+v", got)
	}
	if len(got.Params) != 3 || got.Params[1].Value != "9" || got.Params[2].Value != true {
		t.Errorf("params = %+v", got.Params)
	}
	// Without the file the same call is unknown.
	plain := mainnet(t).Decode(&bob, nil, data)
	if plain.Known || plain.Risk != core.RiskHigh {
		t.Errorf("without signature file: %+v", plain)
	}
}

func TestBadSignatureFiles(t *testing.T) {
	for name, body := range map[string]string{
		"not json":      `{"signatures": [`,
		"unknown field": `{"sigs": []}`,
		"bad signature": `{"signatures": ["swap(address"]}`,
		"bad type":      `{"signatures": ["swap(uint7)"]}`,
	} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, SignatureFile), []byte(body), 0o600)
		_, err := LoadSignatures(dir)
		if sdk.CodeOf(err) != core.CodeInvalidSignatures {
			t.Errorf("%s: err = %v, want %s", name, err, core.CodeInvalidSignatures)
		}
	}
	if s, err := LoadSignatures(t.TempDir()); err != nil || s != nil {
		t.Errorf("missing file: %v, %v", s, err)
	}
}

func selectorOf(sig string) string {
	m, err := parseSignature(sig)
	if err != nil {
		panic(err)
	}
	return hex.EncodeToString(m.m.ID)
}

func FuzzDecode(f *testing.F) {
	f.Add(common.FromHex("0xa9059cbb"))
	f.Add(common.FromHex("0x82ad56cb0000000000000000000000000000000000000000000000000000000000000020ffffffff"))
	f.Add(common.FromHex("0x2a2d80d1"))
	c, _ := chains.Lookup(1)
	d, _ := New(c)
	f.Fuzz(func(t *testing.T, data []byte) {
		to := usdcEth
		got := d.Decode(&to, nil, data)
		if got == nil || got.Intent == "" {
			t.Fatalf("no intent for %x", data)
		}
	})
}

func TestDecodeDataWithoutTarget(t *testing.T) {
	d := mainnet(t)
	c := d.DecodeData(pack(t, "transfer(address,uint256)", bob, big.NewInt(5)))
	if c.FunctionName != "transfer" || c.Intent != "Transfer 5 token units to "+bob.Hex() {
		t.Errorf("got %q", c.Intent)
	}
	if c := d.DecodeData(common.FromHex("0x12345678")); c.Intent != "Call unknown function 0x12345678 on the called contract" || c.Risk != core.RiskHigh {
		t.Errorf("unknown: %q %s", c.Intent, c.Risk)
	}
}
