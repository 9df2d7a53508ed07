package chains

import "github.com/ethereum/go-ethereum/common"

// DevnetChainID is the id of mm's embedded development chain.
const DevnetChainID = 1337

// DevnetRPC is the default endpoint of `mm devnet`.
const DevnetRPC = "http://127.0.0.1:8545"

// Fixture contracts of the dev chain. core/devnet deploys them from a fixed
// deployer at its first nonces, so their addresses are the same on every
// fresh dev chain (core/devnet's tests check these constants).
var (
	DevnetUSDC     = common.HexToAddress("0x302f8CCBe464956aE0C94262Bb348F43C3A5ef75")
	DevnetNFT      = common.HexToAddress("0x8FEda4a55354FEAB8aF7867814BaeD84600e72a2")
	DevnetReverter = common.HexToAddress("0xce5A502803E0ca6eD59a6Bd111F2f333cA45b67B")
	DevnetSpender  = common.HexToAddress("0x9cc1765B1Fd433001728885a2D71374A148deA6b")
)

// Well-known contracts used by the decoder.
var (
	// Permit2 is Uniswap's Permit2, at the same address on every chain.
	Permit2 = common.HexToAddress("0x000000000022D473030F116dDEE9F6B43aC78BA3")
	// Multicall3 is at the same address on every chain.
	Multicall3 = common.HexToAddress("0xcA11bde05977b3631167028862bE2a173976CA11")
)

func tok(sym, name, addr string, dec uint8) Token {
	return Token{Symbol: sym, Name: name, Address: common.HexToAddress(addr), Decimals: dec}
}

// registry holds the built-in chains. Token addresses are the canonical
// (issuer's or bridge's) deployments.
var registry = []Chain{
	{
		ID: 1, Name: "Ethereum", NativeSymbol: "ETH", NativeDecimals: 18,
		RPC:      []string{"https://ethereum-rpc.publicnode.com", "https://eth.llamarpc.com"},
		Explorer: "https://etherscan.io",
		Tokens: []Token{
			tok("USDC", "USD Coin", "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", 6),
			tok("USDT", "Tether USD", "0xdAC17F958D2ee523a2206206994597C13D831ec7", 6),
			tok("WETH", "Wrapped Ether", "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", 18),
			tok("DAI", "Dai Stablecoin", "0x6B175474E89094C44Da98b954EedeAC495271d0F", 18),
		},
	},
	{
		ID: 10, Name: "OP Mainnet", NativeSymbol: "ETH", NativeDecimals: 18,
		RPC:      []string{"https://mainnet.optimism.io", "https://optimism-rpc.publicnode.com"},
		Explorer: "https://optimistic.etherscan.io",
		Tokens: []Token{
			tok("USDC", "USD Coin", "0x0b2C639c533813f4Aa9D7837CAf62653d097Ff85", 6),
			tok("USDT", "Tether USD", "0x94b008aA00579c1307B0EF2c499aD98a8ce58e58", 6),
			tok("WETH", "Wrapped Ether", "0x4200000000000000000000000000000000000006", 18),
			tok("DAI", "Dai Stablecoin", "0xDA10009cBd5D07dd0CeCc66161FC93D7c9000da1", 18),
		},
	},
	{
		ID: 56, Name: "BNB Smart Chain", NativeSymbol: "BNB", NativeDecimals: 18, Legacy: true,
		RPC:      []string{"https://bsc-dataseed.bnbchain.org", "https://bsc-rpc.publicnode.com"},
		Explorer: "https://bscscan.com",
		Tokens: []Token{
			tok("USDC", "Binance-Peg USD Coin", "0x8AC76a51cc950d9822D68b83fE1Ad97B32Cd580d", 18),
			tok("USDT", "Binance-Peg Tether USD", "0x55d398326f99059fF775485246999027B3197955", 18),
			tok("WETH", "Binance-Peg Ethereum", "0x2170Ed0880ac9A755fd29B2688956BD959F933F8", 18),
			tok("DAI", "Binance-Peg Dai", "0x1AF3F329e8BE154074D8769D1FFa4eE058B1DBc3", 18),
		},
	},
	{
		ID: 137, Name: "Polygon", NativeSymbol: "POL", NativeDecimals: 18,
		RPC:      []string{"https://polygon-rpc.com", "https://polygon-bor-rpc.publicnode.com"},
		Explorer: "https://polygonscan.com",
		Tokens: []Token{
			tok("USDC", "USD Coin", "0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359", 6),
			tok("USDT", "Tether USD", "0xc2132D05D31c914a87C6611C10748AEb04B58e8F", 6),
			tok("WETH", "Wrapped Ether", "0x7ceB23fD6bC0adD59E62ac25578270cFf1b9f619", 18),
			tok("DAI", "Dai Stablecoin", "0x8f3Cf7ad23Cd3CaDbD9735AFf958023239c6A063", 18),
		},
	},
	{
		ID: 1337, Name: "devnet", NativeSymbol: "ETH", NativeDecimals: 18, Testnet: true,
		RPC: []string{DevnetRPC},
		// Filled in init from the fixture constants.
	},
	{
		ID: 8453, Name: "Base", NativeSymbol: "ETH", NativeDecimals: 18,
		RPC:      []string{"https://mainnet.base.org", "https://base-rpc.publicnode.com"},
		Explorer: "https://basescan.org",
		Tokens: []Token{
			tok("USDC", "USD Coin", "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", 6),
			tok("USDT", "Tether USD", "0xfde4C96c8593536E31F229EA8f37b2ADa2699bb2", 6),
			tok("WETH", "Wrapped Ether", "0x4200000000000000000000000000000000000006", 18),
			tok("DAI", "Dai Stablecoin", "0x50c5725949A6F0c72E6C4a641F24049A917DB0Cb", 18),
		},
	},
	{
		ID: 42161, Name: "Arbitrum One", NativeSymbol: "ETH", NativeDecimals: 18,
		RPC:      []string{"https://arb1.arbitrum.io/rpc", "https://arbitrum-one-rpc.publicnode.com"},
		Explorer: "https://arbiscan.io",
		Tokens: []Token{
			tok("USDC", "USD Coin", "0xaf88d065e77c8cC2239327C5EDb3A432268e5831", 6),
			tok("USDT", "Tether USD", "0xFd086bC7CD5C481DCC9C85ebE478A1C0b69FCbb9", 6),
			tok("WETH", "Wrapped Ether", "0x82aF49447D8a07e3bd95BD0d56f35241523fBab1", 18),
			tok("DAI", "Dai Stablecoin", "0xDA10009cBd5D07dd0CeCc66161FC93D7c9000da1", 18),
		},
	},
	{
		ID: 59144, Name: "Linea", NativeSymbol: "ETH", NativeDecimals: 18,
		RPC:      []string{"https://rpc.linea.build", "https://linea-rpc.publicnode.com"},
		Explorer: "https://lineascan.build",
		Tokens: []Token{
			tok("USDC", "USD Coin", "0x176211869cA2b568f2A7D4EE941E073a821EE1ff", 6),
			tok("USDT", "Tether USD", "0xA219439258ca9da29E9Cc4cE5596924745e12B93", 6),
			tok("WETH", "Wrapped Ether", "0xe5D7C2a44FfDDf6b295A15c148167daaAf5Cf34f", 18),
			tok("DAI", "Dai Stablecoin", "0x4AF15ec2A0BD43Db75dd04E62FAA3B8EF36b00d5", 18),
		},
	},
	{
		ID: 11155111, Name: "Sepolia", NativeSymbol: "ETH", NativeDecimals: 18, Testnet: true,
		RPC:      []string{"https://ethereum-sepolia-rpc.publicnode.com", "https://rpc.sepolia.org"},
		Explorer: "https://sepolia.etherscan.io",
		Tokens: []Token{
			tok("USDC", "USD Coin", "0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238", 6),
			tok("WETH", "Wrapped Ether", "0xfFf9976782d46CC05630D1f6eBAb18b2324d6B14", 18),
		},
	},
}

func init() {
	// Plain data only: no I/O or heavy work at init (mm's start-up time is
	// a feature).
	for i := range registry {
		if registry[i].ID == DevnetChainID {
			registry[i].Tokens = []Token{tok("USDC", "USD Coin (devnet)", DevnetUSDC.Hex(), 6)}
		}
	}
}
