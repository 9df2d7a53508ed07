package coretest

import (
	"context"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/mm-wallet/mm/core"
	"github.com/mm-wallet/mm/core/chains"
	"github.com/mm-wallet/mm/core/devnet"
	"github.com/mm-wallet/mm/core/state"
	"github.com/mm-wallet/mm/core/submit"
	"github.com/mm-wallet/mm/core/txn"
	"github.com/mm-wallet/mm/sdk"
)

// Env is a full transaction stack on a dev chain: a state folder, the chain
// (with optional overrides), a Preparer, a Submitter and a Pipeline.
type Env struct {
	Node      *devnet.Node
	Store     *state.Store
	Chain     *chains.Chain
	Client    *chains.Client
	Nonces    *submit.Nonces
	Journal   *submit.Journal
	Preparer  *txn.Preparer
	Submitter *submit.Submitter
	Pipeline  *core.Pipeline
}

// EnvOptions tune NewEnv.
type EnvOptions struct {
	// RPC and PrivateRPC override the chain's endpoints (default: the
	// node's HTTP endpoint, no private route).
	RPC, PrivateRPC string
	// Signer signs (required).
	Signer sdk.Signer
}

// NewEnv builds an Env over n with a fresh state folder under t.TempDir().
func NewEnv(t testing.TB, n *devnet.Node, o EnvOptions) *Env {
	t.Helper()
	store, err := state.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return NewEnvWithStore(t, n, store, o)
}

// NewEnvWithStore builds an Env over n that keeps its state in store, as a
// separate mm process sharing the state folder would.
func NewEnvWithStore(t testing.TB, n *devnet.Node, store *state.Store, o EnvOptions) *Env {
	rpcURL := o.RPC
	if rpcURL == "" {
		rpcURL = n.RPCURL()
	}
	s := chains.Settings{RPC: map[uint64]string{devnet.ChainID: rpcURL}, Getenv: func(string) string { return "" }}
	if o.PrivateRPC != "" {
		s.PrivateRPC = map[uint64]string{devnet.ChainID: o.PrivateRPC}
	}
	chain, err := chains.Resolve(devnet.ChainID, s)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	client, err := chains.Dial(ctx, chain.RPCURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	e := &Env{Node: n, Store: store, Chain: chain, Client: client}
	e.Nonces = &submit.Nonces{Store: store}
	e.Journal = &submit.Journal{Store: store}
	e.Preparer = &txn.Preparer{Chain: chain, Client: client, Nonces: e.Nonces, Journal: e.Journal}
	e.Submitter = &submit.Submitter{Public: client, Journal: e.Journal}
	if chain.PrivateRPC != "" {
		priv, err := chains.Dial(ctx, chain.PrivateRPC)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(priv.Close)
		e.Submitter.Private = priv
	}
	e.Pipeline = &core.Pipeline{Preparer: e.Preparer, Signer: o.Signer, Submitter: e.Submitter}
	return e
}

// ChainID is the dev chain's id as a *big.Int.
func (e *Env) ChainID() *big.Int { return big.NewInt(devnet.ChainID) }

// Balance returns a's native balance.
func (e *Env) Balance(t testing.TB, a common.Address) *big.Int {
	t.Helper()
	b, err := e.Client.BalanceAt(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// USDC returns a's fixture USDC balance.
func (e *Env) USDC(t testing.TB, a common.Address) *big.Int {
	t.Helper()
	b, err := e.Client.TokenBalance(context.Background(), e.Node.Contracts().USDC, a)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
