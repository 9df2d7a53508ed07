// Package ready is the document a running dev chain announces: what
// mm-devnet prints once the chain serves and what `mm devnet` relays. It is
// apart from core/devnet so that mm can read it without linking
// go-ethereum's node.
package ready

import (
	"fmt"
	"strings"

	"github.com/mm-wallet/mm/core/chains"
)

// Document describes a running dev chain.
type Document struct {
	ChainID   uint64    `json:"chainId"`
	Name      string    `json:"name"`
	RPCURL    string    `json:"rpcUrl"`
	WSURL     string    `json:"wsUrl"`
	Contracts Contracts `json:"contracts"`
	Faucet    string    `json:"faucet"`
	Funded    []string  `json:"funded"`
	// FundETH and FundUSDC are what each funded account holds at least.
	FundETH   string `json:"fundEth"`
	FundUSDC  string `json:"fundUsdc"`
	DataDir   string `json:"dataDir,omitempty"`
	BlockTime string `json:"blockTime,omitempty"`
	PID       int    `json:"pid"`
}

// Contracts are the fixture addresses, EIP-55 checksummed.
type Contracts struct {
	USDC     string `json:"usdc"`
	NFT      string `json:"nft"`
	Reverter string `json:"reverter"`
	Spender  string `json:"spender"`
}

// Text is the document for people (without a final newline).
func (r Document) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "dev chain %d %q is running (pid %d)\n", r.ChainID, r.Name, r.PID)
	fmt.Fprintf(&b, "  RPC       %s  (WebSocket %s)\n", r.RPCURL, r.WSURL)
	fmt.Fprintf(&b, "  USDC      %s  ERC-20, 6 decimals\n", r.Contracts.USDC)
	fmt.Fprintf(&b, "  NFT       %s  ERC-721\n", r.Contracts.NFT)
	fmt.Fprintf(&b, "  Reverter  %s  reverts with Refused(address,uint256)\n", r.Contracts.Reverter)
	fmt.Fprintf(&b, "  Spender   %s  pulls approved tokens\n", r.Contracts.Spender)
	for _, a := range r.Funded {
		fmt.Fprintf(&b, "  funded    %s  %s ETH, %s USDC\n", a, r.FundETH, r.FundUSDC)
	}
	if r.DataDir != "" {
		fmt.Fprintf(&b, "  datadir   %s\n", r.DataDir)
	}
	if r.RPCURL != chains.DevnetRPC {
		fmt.Fprintf(&b, "  not on the default port: point mm at it with  export %s%d=%s\n", chains.EnvRPC, r.ChainID, r.RPCURL)
	} else {
		b.WriteString("  mm uses it for --chain-id 1337 without any configuration\n")
	}
	b.WriteString("Stop it with Ctrl-C.")
	return b.String()
}
