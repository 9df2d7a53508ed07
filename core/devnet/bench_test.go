package devnet

import (
	"context"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/eth"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/params"
)

// BenchmarkStart measures a full dev-chain start (node, RPC listeners,
// fixture deployment, one funded account) and close, against the baseline
// of go-ethereum's bare node + eth service on an in-memory database started
// and closed in the same run: the ratio is what mm's extras cost.
func BenchmarkStart(b *testing.B) {
	ctx := context.Background()
	var ours, bare time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		n, err := Start(ctx, Options{Fund: []common.Address{funded}})
		if err != nil {
			b.Fatal(err)
		}
		n.Close()
		ours += time.Since(t0)

		t0 = time.Now()
		stack, err := node.New(&node.Config{P2P: p2p.Config{NoDiscovery: true}})
		if err != nil {
			b.Fatal(err)
		}
		conf := ethconfig.Defaults
		conf.Genesis = &core.Genesis{Config: params.AllDevChainProtocolChanges, GasLimit: 60_000_000, Alloc: core.SystemContractAllocs()}
		if _, err := eth.New(stack, &conf); err != nil {
			b.Fatal(err)
		}
		if err := stack.Start(); err != nil {
			b.Fatal(err)
		}
		stack.Close()
		bare += time.Since(t0)
	}
	b.ReportMetric(float64(ours.Microseconds())/1000/float64(b.N), "start-ms")
	b.ReportMetric(float64(bare.Microseconds())/1000/float64(b.N), "bare-geth-start-ms")
	b.ReportMetric(float64(ours)/float64(bare), "ratio-vs-bare")
}
