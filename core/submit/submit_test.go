package submit

import (
	"context"
	"math/big"
	"os"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/mm-wallet/mm/core"
	"github.com/mm-wallet/mm/core/state"
	"github.com/mm-wallet/mm/sdk"
)

func TestBumpRaisesEveryFeeByAtLeastTenPercent(t *testing.T) {
	to := common.HexToAddress("0x1")
	dyn := types.NewTx(&types.DynamicFeeTx{ChainID: big.NewInt(1), Nonce: 3, GasTipCap: big.NewInt(15), GasFeeCap: big.NewInt(101), Gas: 21000, To: &to})
	f := Bump(dyn, Fees{})
	// 15 * 1.1 = 16.5 → 17; 101 * 1.1 = 111.1 → 112 (rounded up, as nodes compare).
	if f.GasTipCap.Int64() != 17 || f.GasFeeCap.Int64() != 112 {
		t.Errorf("bump = %v/%v, want 17/112", f.GasTipCap, f.GasFeeCap)
	}
	// A higher current suggestion wins.
	f = Bump(dyn, Fees{GasTipCap: big.NewInt(50), GasFeeCap: big.NewInt(500)})
	if f.GasTipCap.Int64() != 50 || f.GasFeeCap.Int64() != 500 {
		t.Errorf("bump with suggestion = %v/%v", f.GasTipCap, f.GasFeeCap)
	}
	leg := types.NewTx(&types.LegacyTx{Nonce: 1, GasPrice: big.NewInt(1000), Gas: 21000, To: &to})
	if f := Bump(leg, Fees{}); f.GasPrice.Int64() != 1100 || f.GasTipCap != nil {
		t.Errorf("legacy bump = %+v", f)
	}
	zero := types.NewTx(&types.LegacyTx{Nonce: 1, GasPrice: big.NewInt(0), Gas: 21000, To: &to})
	if f := Bump(zero, Fees{}); f.GasPrice.Sign() <= 0 {
		t.Errorf("zero-fee bump = %v", f.GasPrice)
	}
}

func TestReplacementKeepsTheNonce(t *testing.T) {
	to := common.HexToAddress("0x1")
	from := common.HexToAddress("0x2")
	orig := types.NewTx(&types.DynamicFeeTx{ChainID: big.NewInt(1), Nonce: 9, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(2), Gas: 50000, To: &to, Value: big.NewInt(5), Data: []byte{1, 2}})
	fees := Fees{GasTipCap: big.NewInt(3), GasFeeCap: big.NewInt(4)}
	up := Replacement(orig, from, false, fees)
	if up.Nonce() != 9 || *up.To() != to || up.Value().Int64() != 5 || len(up.Data()) != 2 || up.Gas() != 50000 || up.GasTipCap().Int64() != 3 {
		t.Errorf("speed-up = %+v", up)
	}
	c := Replacement(orig, from, true, fees)
	if c.Nonce() != 9 || *c.To() != from || c.Value().Sign() != 0 || len(c.Data()) != 0 || c.Gas() != 21000 {
		t.Errorf("cancel = %+v", c)
	}
}

func TestJournal(t *testing.T) {
	ctx := context.Background()
	s, _ := state.Open(t.TempDir())
	j := &Journal{Store: s}
	a, b := common.HexToAddress("0xa"), common.HexToAddress("0xb")
	t0 := time.Unix(1_700_000_000, 0).UTC()
	for i, e := range []*Entry{
		{Hash: common.HexToHash("0x01"), ChainID: 1, From: a, Status: StatusPending, SentAt: t0},
		{Hash: common.HexToHash("0x02"), ChainID: 1337, From: a, Status: StatusPending, SentAt: t0.Add(time.Second)},
		{Hash: common.HexToHash("0x03"), ChainID: 1337, From: b, Status: StatusPending, SentAt: t0.Add(2 * time.Second)},
	} {
		e.Nonce = uint64(i)
		if err := j.Add(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	all, _ := j.List(ctx, Filter{})
	if len(all) != 3 || all[0].Hash != common.HexToHash("0x03") || all[2].Hash != common.HexToHash("0x01") {
		t.Errorf("list order: %v", all)
	}
	dev, _ := j.List(ctx, Filter{ChainID: 1337, From: &a})
	if len(dev) != 1 || dev[0].Hash != common.HexToHash("0x02") {
		t.Errorf("filtered list: %v", dev)
	}
	if l, _ := j.List(ctx, Filter{Limit: 2}); len(l) != 2 {
		t.Errorf("limit: %d", len(l))
	}
	if _, err := j.Get(ctx, common.HexToHash("0x04")); sdk.CodeOf(err) != core.CodeTxNotFound {
		t.Errorf("missing entry: %v", err)
	}
	if fi, err := os.Stat(s.Path(entryName(common.HexToHash("0x01")))); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("entry file mode: %v %v", fi, err)
	}
	// A damaged entry is reported with its path.
	os.WriteFile(s.Path(entryName(common.HexToHash("0x05"))), []byte("{"), 0o600)
	if _, err := j.List(ctx, Filter{}); sdk.CodeOf(err) != state.CodeStateCorrupt {
		t.Errorf("damaged entry: %v", err)
	}
}
