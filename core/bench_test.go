package core_test

import (
	"context"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/mm-wallet/mm/core"
	"github.com/mm-wallet/mm/core/coretest"
)

// benchWorkers is how many transfers are in flight at once, as the issue's
// "many agents on one wallet" case has (its concurrency test uses 50).
// Each transfer spends most of its time waiting on fsync and the node, so
// throughput comes from having many in flight.
const benchWorkers = 32

// transferTarget is the sustained rate issue 6 asks for.
const transferTarget = 300.0

// BenchmarkTransfers measures BYOK-style ETH transfers through prepare →
// sign → submit against the embedded dev chain with an in-process signer,
// until every transfer is mined. It reports sustained transfers/s, the mean
// time of each stage, signing's share of the stage time, and — as the
// baseline from the same run — the rate at which the same node takes
// pre-signed raw transfers (the ceiling any pipeline could reach here).
func BenchmarkTransfers(b *testing.B) {
	s := signer("bench")
	e := coretest.NewEnv(b, node, coretest.EnvOptions{Signer: s})
	ctx := context.Background()
	to := common.HexToAddress("0x000000000000000000000000000000000000bE4c")
	start, err := e.Client.PendingNonceAt(ctx, s.Address())
	if err != nil {
		b.Fatal(err)
	}
	sums := make([]atomic.Int64, len(core.Stages))
	jobs := make(chan struct{})
	var wg sync.WaitGroup
	var failed atomic.Value
	b.ResetTimer()
	t0 := time.Now()
	for w := 0; w < benchWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				res, err := e.Pipeline.Run(ctx, &core.Request{ChainID: e.ChainID(), Account: s.Account(), Transfer: &core.Transfer{To: to.Hex(), Amount: "0.0001", Token: "ETH"}})
				if err != nil {
					failed.Store(err)
					continue
				}
				for i, st := range core.Stages {
					sums[i].Add(int64(res.Timings[st]))
				}
			}
		}()
	}
	for i := 0; i < b.N; i++ {
		jobs <- struct{}{}
	}
	close(jobs)
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	waitMined(b, e, s.Address(), start+uint64(b.N))
	elapsed := time.Since(t0)
	b.StopTimer()

	rate := float64(b.N) / elapsed.Seconds()
	base := baselineRate(b, e, b.N)
	per := func(st core.Stage) float64 {
		for i, x := range core.Stages {
			if x == st {
				return float64(sums[i].Load()) / float64(b.N) / 1e6
			}
		}
		return 0
	}
	stageTotal := per(core.StagePrepare) + per(core.StageSign) + per(core.StageSubmit)
	b.ReportMetric(rate, "transfers/s")
	// The target is 300 transfers/s: ≥ 1 here meets it.
	b.ReportMetric(rate/transferTarget, "x-of-300/s-target")
	b.ReportMetric(per(core.StagePrepare), "prepare-ms/op")
	b.ReportMetric(per(core.StageSign), "sign-ms/op")
	b.ReportMetric(per(core.StageSubmit), "submit-ms/op")
	b.ReportMetric(100*per(core.StageSign)/stageTotal, "sign-%-of-stages")
	b.ReportMetric(base, "baseline-raw-tx/s")
	b.ReportMetric(rate/base, "ratio-vs-raw")
}

// baselineRate sends n pre-signed transfers straight to the node with the
// same concurrency and returns the mined rate.
func baselineRate(b *testing.B, e *coretest.Env, n int) float64 {
	b.Helper()
	ctx := context.Background()
	key, _ := crypto.ToECDSA(crypto.Keccak256([]byte("core test bench-baseline")))
	from := crypto.PubkeyToAddress(key.PublicKey)
	nonce, err := e.Client.PendingNonceAt(ctx, from)
	if err != nil {
		b.Fatal(err)
	}
	head, err := e.Client.HeaderLatest(ctx)
	if err != nil {
		b.Fatal(err)
	}
	to := common.HexToAddress("0x000000000000000000000000000000000000bA5e")
	signer := types.LatestSignerForChainID(e.ChainID())
	raws := make([][]byte, n)
	for i := range raws {
		tx, err := types.SignNewTx(key, signer, &types.DynamicFeeTx{ChainID: e.ChainID(), Nonce: nonce + uint64(i), GasTipCap: big.NewInt(1e9), GasFeeCap: new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), big.NewInt(1e9)), Gas: 21000, To: &to, Value: big.NewInt(1)})
		if err != nil {
			b.Fatal(err)
		}
		raws[i], _ = tx.MarshalBinary()
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	t0 := time.Now()
	for w := 0; w < benchWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				if _, err := e.Client.SendRawTransaction(ctx, raws[i]); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	waitMined(b, e, from, nonce+uint64(n))
	return float64(n) / time.Since(t0).Seconds()
}

func waitMined(b *testing.B, e *coretest.Env, a common.Address, nonce uint64) {
	b.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, err := e.Client.NonceAt(context.Background(), a)
		if err != nil {
			b.Fatal(err)
		}
		if got >= nonce {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d mined", got, nonce)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
