package devnet

import (
	"embed"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// The fixture contracts' sources live in contracts/*.sol; `make contracts`
// recompiles them with the pinned solc into contracts/build, which is
// committed and embedded here so building mm needs neither node nor solc.
//
//go:embed contracts/build/*.abi contracts/build/*.bin
var buildFS embed.FS

// Fixture names, in deployment order. The order fixes the addresses: each
// fixture is deployed by the faucet at nonce = its index.
var fixtureNames = []string{"FixtureUSDC", "FixtureNFT", "FixtureReverter", "FixtureSpender"}

// Contracts are the addresses of the fixture contracts on the dev chain.
type Contracts struct {
	// USDC is an ERC-20 "USDC" with 6 decimals, minted to funded accounts.
	USDC common.Address `json:"usdc"`
	// NFT is an ERC-721 anyone may mint (mint(address)).
	NFT common.Address `json:"nft"`
	// Reverter always reverts with the custom error Refused(address,uint256).
	Reverter common.Address `json:"reverter"`
	// Spender pulls approved ERC-20 tokens: pull(token, from, value).
	Spender common.Address `json:"spender"`
}

// FaucetAddress returns the dev chain's faucet: it holds the genesis ether,
// deploys the fixtures and funds accounts. Its key is derived from a public
// constant, so it is no secret and must never hold value elsewhere.
func FaucetAddress() common.Address { return crypto.PubkeyToAddress(faucetKey().PublicKey) }

// FixtureAddresses returns where a fresh dev chain deploys its fixtures.
func FixtureAddresses() Contracts {
	f := FaucetAddress()
	return Contracts{
		USDC:     crypto.CreateAddress(f, 0),
		NFT:      crypto.CreateAddress(f, 1),
		Reverter: crypto.CreateAddress(f, 2),
		Spender:  crypto.CreateAddress(f, 3),
	}
}

// ABI returns the parsed ABI of a fixture ("FixtureUSDC", "FixtureNFT",
// "FixtureReverter", "FixtureSpender").
func ABI(name string) (*abi.ABI, error) {
	loadOnce.Do(load)
	a, ok := abis[name]
	if !ok {
		return nil, fmt.Errorf("devnet: no fixture %q", name)
	}
	return a, nil
}

var (
	loadOnce sync.Once
	abis     map[string]*abi.ABI
	bins     map[string][]byte
	loadErr  error
)

func load() {
	abis = map[string]*abi.ABI{}
	bins = map[string][]byte{}
	for _, n := range fixtureNames {
		a, err := buildFS.ReadFile("contracts/build/" + n + ".abi")
		if err != nil {
			loadErr = err
			return
		}
		parsed, err := abi.JSON(strings.NewReader(string(a)))
		if err != nil {
			loadErr = fmt.Errorf("devnet: parse %s ABI: %w", n, err)
			return
		}
		abis[n] = &parsed
		b, err := buildFS.ReadFile("contracts/build/" + n + ".bin")
		if err != nil {
			loadErr = err
			return
		}
		code, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil {
			loadErr = fmt.Errorf("devnet: decode %s bytecode: %w", n, err)
			return
		}
		bins[n] = code
	}
}
