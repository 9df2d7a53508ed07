// Package chains is mm's registry of EVM chains — id, name, native currency,
// default public RPC endpoints, explorer, well-known tokens — and its RPC
// client, which puts a timeout and bounded retries around every call and
// turns an unreachable node into RPC_UNAVAILABLE naming the endpoint.
//
// Endpoints resolve in this order: the environment (MM_RPC_<chainId>,
// MM_PRIVATE_RPC_<chainId>), then the user's settings (the CLI's config keys
// rpc.<chainId> and privateRpc.<chainId>, passed in as Settings), then the
// registry's defaults.
package chains

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"github.com/mm-wallet/mm/core"
)

// Token is an ERC-20 token the registry knows on one chain.
type Token struct {
	Symbol   string         `json:"symbol"`
	Name     string         `json:"name"`
	Address  common.Address `json:"address"`
	Decimals uint8          `json:"decimals"`
}

// Chain describes one EVM chain.
type Chain struct {
	ID             uint64   `json:"chainId"`
	Name           string   `json:"name"`
	NativeSymbol   string   `json:"nativeSymbol"`
	NativeDecimals uint8    `json:"nativeDecimals"`
	RPC            []string `json:"rpc"`
	Explorer       string   `json:"explorer,omitempty"`
	Tokens         []Token  `json:"tokens"`
	// Legacy is set for chains whose transactions are priced with a single
	// gas price (no EIP-1559 fee market).
	Legacy  bool `json:"legacy,omitempty"`
	Testnet bool `json:"testnet,omitempty"`
	// PrivateRPC is the protected submission endpoint ("smart transaction"
	// route). When set, signed transactions go only there.
	PrivateRPC string `json:"privateRpc,omitempty"`
}

// Features lists what mm does on the chain, for `mm chains list`.
func (c *Chain) Features() []string {
	f := []string{"transfer", "send-transaction", "decode"}
	if c.Legacy {
		f = append(f, "legacy-fees")
	} else {
		f = append(f, "eip1559")
	}
	if c.PrivateRPC != "" {
		f = append(f, "private-rpc")
	}
	return f
}

// RPCURL returns the first RPC endpoint.
func (c *Chain) RPCURL() string {
	if len(c.RPC) == 0 {
		return ""
	}
	return c.RPC[0]
}

// IsNative reports whether symbol names the chain's native currency.
func (c *Chain) IsNative(symbol string) bool {
	return strings.EqualFold(symbol, c.NativeSymbol)
}

// Token finds a token by symbol (case-insensitive) or by 0x address.
// Unknown tokens yield TOKEN_NOT_FOUND; a malformed address INVALID_EVM_ADDRESS.
func (c *Chain) Token(symbolOrAddress string) (Token, error) {
	s := strings.TrimSpace(symbolOrAddress)
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		a, err := ParseAddress(s)
		if err != nil {
			return Token{}, err
		}
		if t, ok := c.TokenByAddress(a); ok {
			return t, nil
		}
		return Token{}, core.Errorf(core.CodeTokenNotFound, "mm only moves tokens it knows the decimals of; see `mm chains list`", "chains: token %s is not registered on %s (%d)", a.Hex(), c.Name, c.ID)
	}
	for _, t := range c.Tokens {
		if strings.EqualFold(t.Symbol, s) {
			return t, nil
		}
	}
	return Token{}, core.Errorf(core.CodeTokenNotFound, fmt.Sprintf("known on %s: %s", c.Name, c.symbols()), "chains: no token %q on %s (%d)", s, c.Name, c.ID)
}

// TokenByAddress finds a registered token by contract address.
func (c *Chain) TokenByAddress(a common.Address) (Token, bool) {
	for _, t := range c.Tokens {
		if t.Address == a {
			return t, true
		}
	}
	return Token{}, false
}

func (c *Chain) symbols() string {
	s := []string{c.NativeSymbol}
	for _, t := range c.Tokens {
		s = append(s, t.Symbol)
	}
	return strings.Join(s, ", ")
}

func (c *Chain) clone() *Chain {
	d := *c
	d.RPC = append([]string(nil), c.RPC...)
	d.Tokens = append([]Token(nil), c.Tokens...)
	return &d
}

// Settings are the user's per-chain overrides (the CLI reads them from
// config.json: rpc.<chainId>, privateRpc.<chainId>) and extra tokens.
type Settings struct {
	RPC        map[uint64]string
	PrivateRPC map[uint64]string
	// Tokens adds tokens per chain (e.g. fixtures a dev chain deployed).
	Tokens map[uint64][]Token
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
}

// EnvRPC and EnvPrivateRPC are the prefixes of the per-chain environment
// overrides: MM_RPC_1=https://…, MM_PRIVATE_RPC_1=https://….
const (
	EnvRPC        = "MM_RPC_"
	EnvPrivateRPC = "MM_PRIVATE_RPC_"
)

// Lookup returns the registry entry for id, without overrides.
func Lookup(id uint64) (*Chain, bool) {
	for i := range registry {
		if registry[i].ID == id {
			return registry[i].clone(), true
		}
	}
	return nil, false
}

// All returns every registered chain, by id, without overrides.
func All() []*Chain {
	out := make([]*Chain, 0, len(registry))
	for i := range registry {
		out = append(out, registry[i].clone())
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ID < out[b].ID })
	return out
}

// Resolve returns chain id with the environment and s applied. An unknown id
// yields UNKNOWN_CHAIN unless an RPC endpoint is configured for it, in which
// case a bare chain ("chain <id>", ETH, 18 decimals) is returned so any EVM
// chain can be used.
func Resolve(id uint64, s Settings) (*Chain, error) {
	getenv := s.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	key := strconv.FormatUint(id, 10)
	rpcURL := getenv(EnvRPC + key)
	if rpcURL == "" {
		rpcURL = s.RPC[id]
	}
	c, ok := Lookup(id)
	if !ok {
		if rpcURL == "" {
			return nil, core.Errorf(core.CodeUnknownChain, fmt.Sprintf("known chains: %s; or set an endpoint with `mm config set rpc.%d <url>` or %s%d", knownIDs(), id, EnvRPC, id), "chains: unknown chain id %d", id)
		}
		c = &Chain{ID: id, Name: "chain " + key, NativeSymbol: "ETH", NativeDecimals: 18}
	}
	if rpcURL != "" {
		if err := checkURL(rpcURL); err != nil {
			return nil, err
		}
		c.RPC = []string{rpcURL}
	}
	priv := getenv(EnvPrivateRPC + key)
	if priv == "" {
		priv = s.PrivateRPC[id]
	}
	if priv != "" {
		if err := checkURL(priv); err != nil {
			return nil, err
		}
		c.PrivateRPC = priv
	}
	for _, t := range s.Tokens[id] {
		if _, dup := c.TokenByAddress(t.Address); !dup {
			c.Tokens = append(c.Tokens, t)
		}
	}
	return c, nil
}

func knownIDs() string {
	var s []string
	for _, c := range All() {
		s = append(s, strconv.FormatUint(c.ID, 10))
	}
	return strings.Join(s, ", ")
}

func checkURL(u string) error {
	l := strings.ToLower(u)
	for _, p := range []string{"http://", "https://", "ws://", "wss://"} {
		if strings.HasPrefix(l, p) && len(l) > len(p) {
			return nil
		}
	}
	return core.Errorf(core.CodeInvalidPayload, "an RPC endpoint is an http(s):// or ws(s):// URL", "chains: bad RPC endpoint %q", Redact(u))
}

// ParseAddress parses a 0x address strictly: 40 hex digits, and when the
// letters are mixed-case, a valid EIP-55 checksum.
func ParseAddress(s string) (common.Address, error) {
	if !common.IsHexAddress(s) || !(strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X")) {
		return common.Address{}, core.Errorf(core.CodeInvalidAddress, "an address is 0x followed by 40 hex digits", "invalid address %q", clip(s))
	}
	body := s[2:]
	if body != strings.ToLower(body) && body != strings.ToUpper(body) {
		a := common.HexToAddress(s)
		if a.Hex()[2:] != body {
			return common.Address{}, core.Errorf(core.CodeInvalidAddress, "the capitalisation of a mixed-case address is its checksum (EIP-55); copy the address again or write it all in lowercase", "address %s has a bad EIP-55 checksum", s)
		}
	}
	return common.HexToAddress(s), nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
