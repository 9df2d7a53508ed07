package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// BenchmarkCLITransfer measures whole `mm transfer` processes (the real mm
// binary, built here; BYOK signer plugin launched by each call) against the
// dev chain: the time of one call, the throughput of 8 calls in flight from
// one wallet, and as the baseline from the same run `mm --version`, the
// cost of starting mm at all.
func BenchmarkCLITransfer(b *testing.B) {
	dir := b.TempDir()
	mm := filepath.Join(dir, "mm")
	if out, err := exec.Command(goTool(b), "build", "-o", mm, "github.com/mm-wallet/mm/cmd/mm").CombinedOutput(); err != nil {
		b.Fatalf("build mm: %v\n%s", err, out)
	}
	home := filepath.Join(dir, "home")
	env := append(filterEnv(os.Environ(), "MM_HOME", "MM_MNEMONIC", "MM_PASSWORD"), "MM_HOME="+home, "MM_RPC_1337="+testChain(b).RPCURL())
	run := func(extra []string, args ...string) error {
		cmd := exec.Command(mm, args...)
		cmd.Env = append(env, extra...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return &buildErr{err, out.String()}
		}
		return nil
	}
	if err := run([]string{"MM_MNEMONIC=" + seedMnemonic("bench-cli")}, "init", "--wallet", "byok", "--mode", "guard"); err != nil {
		b.Fatal(err)
	}
	var from common.Address
	{
		data, err := os.ReadFile(filepath.Join(home, walletsFile))
		if err != nil {
			b.Fatal(err)
		}
		from = addressIn(b, data)
	}
	fund(b, from)
	to := recipient("bench-cli").Hex()
	transfer := []string{"transfer", "--to", to, "--amount", "0.0001", "--chain-id", "1337"}
	c := chainClient(b)
	start, err := c.PendingNonceAt(context.Background(), from)
	if err != nil {
		b.Fatal(err)
	}

	b.ResetTimer()
	t0 := time.Now()
	for i := 0; i < b.N; i++ {
		if err := run(nil, transfer...); err != nil {
			b.Fatal(err)
		}
	}
	seq := time.Since(t0)

	const workers = 8
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	t1 := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if err := run(nil, transfer...); err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	par := time.Since(t1)
	b.StopTimer()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		mined, err := c.NonceAt(context.Background(), from)
		if err != nil {
			b.Fatal(err)
		}
		if mined == start+2*uint64(b.N) {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d transfers mined", mined-start, 2*b.N)
		}
		time.Sleep(10 * time.Millisecond)
	}

	t2 := time.Now()
	for i := 0; i < b.N; i++ {
		if err := run(nil, "--version"); err != nil {
			b.Fatal(err)
		}
	}
	version := time.Since(t2)

	perCall := float64(seq.Microseconds()) / 1000 / float64(b.N)
	perVersion := float64(version.Microseconds()) / 1000 / float64(b.N)
	b.ReportMetric(perCall, "transfer-ms/call")
	b.ReportMetric(float64(b.N)/par.Seconds(), "cli-transfers/s(8-in-flight)")
	b.ReportMetric(perVersion, "version-ms/call")
	b.ReportMetric(perCall/perVersion, "ratio-transfer-vs-version")
}

type buildErr struct {
	err error
	out string
}

func (e *buildErr) Error() string { return e.err.Error() + "\n" + e.out }

// addressIn is the active wallet's address in a wallets.json document.
func addressIn(b *testing.B, data []byte) common.Address {
	b.Helper()
	var d walletsDoc
	if err := json.Unmarshal(data, &d); err != nil {
		b.Fatal(err)
	}
	w, ok := d.active()
	if !ok {
		b.Fatal("no active wallet")
	}
	return common.HexToAddress(w.Address)
}
