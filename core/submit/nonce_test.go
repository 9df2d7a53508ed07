package submit

import (
	"bufio"
	"context"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/mm-wallet/mm/core/state"
)

// A fake node is fine here: this is a unit test of the ledger alone; the
// dev-chain tests in package core drive it against a real node.
type fakeNode struct{ pending uint64 }

func (f *fakeNode) PendingNonceAt(context.Context, common.Address) (uint64, error) {
	return f.pending, nil
}

var (
	chain1337 = big.NewInt(1337)
	acct      = common.HexToAddress("0x00000000000000000000000000000000000a11ce")
)

func newNonces(t *testing.T) *Nonces {
	t.Helper()
	s, err := state.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &Nonces{Store: s}
}

func reserve(t *testing.T, m *Nonces, n NonceSource) *Lease {
	t.Helper()
	l, err := m.Reserve(context.Background(), chain1337, acct, n)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestReleaseLeavesNoGap(t *testing.T) {
	ctx := context.Background()
	m := newNonces(t)
	node := &fakeNode{pending: 5}
	a, b, c := reserve(t, m, node), reserve(t, m, node), reserve(t, m, node)
	if a.Nonce() != 5 || b.Nonce() != 6 || c.Nonce() != 7 {
		t.Fatalf("nonces %d %d %d", a.Nonce(), b.Nonce(), c.Nonce())
	}
	// The middle one fails: the next reservation fills the hole.
	if err := b.Release(ctx); err != nil {
		t.Fatal(err)
	}
	a.Commit(ctx)
	d := reserve(t, m, node)
	if d.Nonce() != 6 {
		t.Errorf("after releasing 6 got %d", d.Nonce())
	}
	// The last one fails: the ledger shrinks.
	c.Release(ctx)
	d.Release(ctx)
	led, _ := m.Inspect(chain1337, acct)
	if led.Next != 6 || len(led.Released) != 0 || len(led.Reserved) != 0 {
		t.Errorf("ledger after releasing the tail: %+v", led)
	}
	// Committing twice or releasing after commit changes nothing.
	e := reserve(t, m, node)
	e.Commit(ctx)
	e.Release(ctx)
	if led, _ := m.Inspect(chain1337, acct); led.Next != 7 {
		t.Errorf("release after commit moved the ledger: %+v", led)
	}
}

func TestReconcilesWithTheNode(t *testing.T) {
	ctx := context.Background()
	m := newNonces(t)
	now := time.Unix(1_700_000_000, 0)
	m.Now = func() time.Time { return now }
	node := &fakeNode{pending: 3}
	l := reserve(t, m, node)
	l.Commit(ctx)
	// Another wallet used the account: the node is ahead and wins.
	node.pending = 10
	if l := reserve(t, m, node); l.Nonce() != 10 {
		t.Errorf("node ahead: got %d, want 10", l.Nonce())
	} else {
		l.Commit(ctx)
	}
	// The node is behind within the grace period (a lagging endpoint):
	// the ledger is trusted.
	node.pending = 4
	l = reserve(t, m, node)
	if l.Nonce() != 11 {
		t.Errorf("node behind within grace: got %d, want 11", l.Nonce())
	}
	l.Release(ctx)
	// Long after: the transactions were dropped (or the dev chain was
	// restarted); the node wins.
	now = now.Add(time.Hour)
	if l := reserve(t, m, node); l.Nonce() != 4 {
		t.Errorf("node behind after grace: got %d, want 4", l.Nonce())
	}
}

func TestReservationsOfDeadProcessesAreReclaimed(t *testing.T) {
	ctx := context.Background()
	m := newNonces(t)
	node := &fakeNode{pending: 0}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := cmd.Process.Pid
	host, _ := os.Hostname()
	led := Ledger{Next: 3, Reserved: []Reservation{{Nonce: 1, PID: dead, Host: host, At: time.Now()}, {Nonce: 2, PID: os.Getpid(), Host: host, At: time.Now()}}}
	if err := m.Store.UpdateJSON(ctx, ledgerName(chain1337, acct), &Ledger{}, func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	data, _ := jsonIndent(&led)
	if err := m.Store.WriteFile(ctx, ledgerName(chain1337, acct), data); err != nil {
		t.Fatal(err)
	}
	l := reserve(t, m, node)
	if l.Nonce() != 1 {
		t.Errorf("got %d, want the dead process's 1", l.Nonce())
	}
	got, _ := m.Inspect(chain1337, acct)
	if len(got.Reserved) != 2 {
		t.Errorf("reservations: %+v (the live one must stay)", got.Reserved)
	}
}

func TestDamagedLedgerIsReportedNotReplaced(t *testing.T) {
	ctx := context.Background()
	m := newNonces(t)
	name := ledgerName(chain1337, acct)
	os.MkdirAll(m.Store.Path("nonces"), 0o700)
	os.WriteFile(m.Store.Path(name), []byte("{not json"), 0o600)
	_, err := m.Reserve(ctx, chain1337, acct, &fakeNode{})
	if err == nil || !strings.Contains(err.Error(), name) {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(m.Store.Path(name)); string(b) != "{not json" {
		t.Error("the damaged ledger was overwritten")
	}
}

func TestConcurrentGoroutinesGetDistinctConsecutiveNonces(t *testing.T) {
	m := newNonces(t)
	node := &fakeNode{pending: 100}
	var mu sync.Mutex
	var got []uint64
	var wg sync.WaitGroup
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			l := reserve(t, m, node)
			if i%4 == 0 {
				l.Release(context.Background()) // a failed signature
				l = reserve(t, m, node)
			}
			mu.Lock()
			got = append(got, l.Nonce())
			mu.Unlock()
			l.Commit(context.Background())
		}(i)
	}
	wg.Wait()
	slices.Sort(got)
	for i, n := range got {
		if n != 100+uint64(i) {
			t.Fatalf("nonces %v are not 100…163 without gaps", got)
		}
	}
}

// TestConcurrentProcessesGetDistinctConsecutiveNonces runs several copies
// of this test binary, each reserving and committing nonces in the same
// state folder, and checks that together they used one gap-free sequence.
func TestConcurrentProcessesGetDistinctConsecutiveNonces(t *testing.T) {
	if os.Getenv("MM_NONCE_CHILD") != "" {
		return
	}
	dir := t.TempDir()
	const procs, each = 6, 10
	var cmds []*exec.Cmd
	var outs []*bufio.Scanner
	for i := 0; i < procs; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestNonceChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "MM_NONCE_CHILD="+dir, "MM_NONCE_EACH="+strconv.Itoa(each), fmt.Sprintf("MM_NONCE_FAIL=%d", i%2))
		out, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
		outs = append(outs, bufio.NewScanner(out))
	}
	var got []uint64
	for i, sc := range outs {
		for sc.Scan() {
			if n, ok := strings.CutPrefix(sc.Text(), "nonce "); ok {
				v, _ := strconv.ParseUint(n, 10, 64)
				got = append(got, v)
			}
		}
		if err := cmds[i].Wait(); err != nil {
			t.Fatalf("child %d: %v", i, err)
		}
	}
	if len(got) != procs*each {
		t.Fatalf("%d nonces, want %d", len(got), procs*each)
	}
	slices.Sort(got)
	for i, n := range got {
		if n != uint64(i) {
			t.Fatalf("nonces %v are not 0…%d without gaps", got, procs*each-1)
		}
	}
}

func TestNonceChild(t *testing.T) {
	dir := os.Getenv("MM_NONCE_CHILD")
	if dir == "" {
		return
	}
	each, _ := strconv.Atoi(os.Getenv("MM_NONCE_EACH"))
	s, err := state.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := &Nonces{Store: s}
	ctx := context.Background()
	for i := 0; i < each; i++ {
		if os.Getenv("MM_NONCE_FAIL") == "1" {
			l, err := m.Reserve(ctx, chain1337, acct, &fakeNode{})
			if err != nil {
				t.Fatal(err)
			}
			l.Release(ctx)
		}
		l, err := m.Reserve(ctx, chain1337, acct, &fakeNode{})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("nonce %d\n", l.Nonce())
		if err := l.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
}
