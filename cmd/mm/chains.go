package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mm-wallet/mm/core/chains"
)

func init() { register(newChainsCmd) }

// chainView is one chain as `mm chains list` shows it: the registry entry
// with the user's endpoints applied (credentials redacted).
type chainView struct {
	ChainID        uint64         `json:"chainId"`
	Name           string         `json:"name"`
	NativeSymbol   string         `json:"nativeSymbol"`
	NativeDecimals uint8          `json:"nativeDecimals"`
	RPC            string         `json:"rpc"`
	PrivateRPC     string         `json:"privateRpc,omitempty"`
	Explorer       string         `json:"explorer,omitempty"`
	Testnet        bool           `json:"testnet"`
	Features       []string       `json:"features"`
	Tokens         []chains.Token `json:"tokens"`
	// Configured is set when the endpoint comes from config.json or the
	// environment rather than the registry.
	Configured bool `json:"configured"`
}

type chainList struct {
	Chains []chainView `json:"chains"`
}

// Text implements render.Texter.
func (l chainList) Text() string {
	var b strings.Builder
	for _, c := range l.Chains {
		var toks []string
		for _, t := range c.Tokens {
			toks = append(toks, t.Symbol)
		}
		fmt.Fprintf(&b, "%-9d %-16s %-4s %s", c.ChainID, c.Name, c.NativeSymbol, c.RPC)
		if c.PrivateRPC != "" {
			fmt.Fprintf(&b, " (protected: %s)", c.PrivateRPC)
		}
		if len(toks) > 0 {
			fmt.Fprintf(&b, "  tokens: %s", strings.Join(toks, ", "))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func newChainsCmd(a *app) *cobra.Command {
	list := &cobra.Command{
		Use:   "list",
		Short: "List the supported chains, their endpoints, tokens and features",
		Long: `List the chains mm knows: id, name, native currency, the RPC endpoint in use
(rpc.<chainId> in config.json or MM_RPC_<chainId> override the default),
the protected submission endpoint when one is set (privateRpc.<chainId> or
MM_PRIVATE_RPC_<chainId>), the well-known tokens, and what mm does there.
Chains with only a configured endpoint are listed too.`,
		Example: `  mm chains list
  mm chains list --json | jq '.chains[] | select(.chainId == 1337)'`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := a.chainSettings()
			if err != nil {
				return err
			}
			ids := map[uint64]bool{}
			for _, c := range chains.All() {
				ids[c.ID] = true
			}
			for id := range s.RPC {
				ids[id] = true
			}
			sorted := make([]uint64, 0, len(ids))
			for id := range ids {
				sorted = append(sorted, id)
			}
			sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
			out := chainList{Chains: []chainView{}}
			for _, id := range sorted {
				reg, known := chains.Lookup(id)
				c, err := chains.Resolve(id, s)
				if err != nil {
					// A bad configured endpoint: show the registry's and say so.
					a.logf("chain %d: %v", id, err)
					if !known {
						continue
					}
					c = reg
				}
				v := chainView{ChainID: c.ID, Name: c.Name, NativeSymbol: c.NativeSymbol, NativeDecimals: c.NativeDecimals,
					Explorer: c.Explorer, Testnet: c.Testnet, Features: c.Features(), Tokens: c.Tokens}
				if v.Tokens == nil {
					v.Tokens = []chains.Token{}
				}
				if u := c.RPCURL(); u != "" {
					v.RPC = chains.Redact(u)
				}
				if c.PrivateRPC != "" {
					v.PrivateRPC = chains.Redact(c.PrivateRPC)
				}
				v.Configured = !known || reg.RPCURL() != c.RPCURL()
				out.Chains = append(out.Chains, v)
			}
			return a.print(out)
		},
	}
	return group("chains", "Chains mm knows: endpoints, tokens, features", list)
}
