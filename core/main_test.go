package core_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/mm-wallet/mm/core/coretest"
	"github.com/mm-wallet/mm/core/devnet"
)

// One dev chain for the package; each test signs with its own key so tests
// can run in parallel without sharing nonces.
var (
	node    *devnet.Node
	signers = map[string]*coretest.KeySigner{}
)

var seeds = []string{"eth", "usdc", "payload", "concurrent", "private", "public", "bad", "replace", "cancel", "mismatch", "dryrun", "ambiguous", "unknown", "bench", "bench-baseline", "history"}

func signer(name string) *coretest.KeySigner { return signers[name] }

func TestMain(m *testing.M) {
	var fund []common.Address
	for _, s := range seeds {
		k := coretest.NewKeySigner("core test " + s)
		signers[s] = k
		fund = append(fund, k.Address())
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	n, err := devnet.Start(ctx, devnet.Options{Fund: fund})
	cancel()
	if err != nil {
		println("core tests: start dev chain:", err.Error())
		os.Exit(1)
	}
	node = n
	code := m.Run()
	n.Close()
	os.Exit(code)
}
