package submit

import (
	"context"
	"fmt"
	"math/big"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/mm-wallet/mm/core"
	"github.com/mm-wallet/mm/core/state"
	"github.com/mm-wallet/mm/sdk"
)

// NonceSource tells the node's view of an account's next nonce, counting
// its pending pool (eth_getTransactionCount "pending").
type NonceSource interface {
	PendingNonceAt(ctx context.Context, a common.Address) (uint64, error)
}

// Nonces hands out nonces per (chain, account) so that concurrent mm
// processes get distinct, consecutive nonces and a transaction that fails
// before broadcast leaves no gap.
//
// The ledger is a JSON file per (chain, account) under the state folder,
// read and written under its file lock. Each reservation records the
// reserving process; reservations of dead processes return to the pool.
// Every reservation reconciles with the node: the node's pending nonce
// raises the ledger (another wallet sent transactions), released nonces the
// node already passed are dropped, and when the ledger is ahead of the node
// with nothing in flight for longer than Grace (transactions dropped, or a
// dev chain restarted) the node wins.
type Nonces struct {
	Store *state.Store
	// Grace is how long a ledger ahead of the node is trusted (default 2
	// minutes): a load-balanced endpoint may lag behind our own broadcast.
	Grace time.Duration
	// LeaseTTL frees a reservation of a live process after this long
	// (default 1 hour; a hardware signer may wait for its user a while).
	LeaseTTL time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Reservation is a nonce handed out and not yet committed or released.
type Reservation struct {
	Nonce uint64    `json:"nonce"`
	PID   int       `json:"pid"`
	Host  string    `json:"host,omitempty"`
	At    time.Time `json:"at"`
}

// Ledger is the nonce ledger of one (chain, account).
type Ledger struct {
	Next        uint64        `json:"next"`
	Reserved    []Reservation `json:"reserved"`
	Released    []uint64      `json:"released"`
	CommittedAt time.Time     `json:"committedAt"`
}

// Lease is one reserved nonce. It implements core.NonceLease.
type Lease struct {
	m     *Nonces
	name  string
	nonce uint64
	done  bool
}

var _ core.NonceLease = (*Lease)(nil)

// Nonce returns the reserved nonce.
func (l *Lease) Nonce() uint64 { return l.nonce }

// Commit records that the transaction with this nonce was broadcast (or may
// have been): the nonce is never handed out again.
func (l *Lease) Commit(ctx context.Context) error {
	if l.done {
		return nil
	}
	l.done = true
	_, err := l.m.apply(ctx, l.name, &op{kind: opCommit, nonce: l.nonce})
	return err
}

// Release returns the nonce: the next reservation gets it, so no gap forms.
func (l *Lease) Release(ctx context.Context) error {
	if l.done {
		return nil
	}
	l.done = true
	_, err := l.m.apply(ctx, l.name, &op{kind: opRelease, nonce: l.nonce})
	return err
}

// Reserve takes the next nonce for from on chainID.
func (m *Nonces) Reserve(ctx context.Context, chainID *big.Int, from common.Address, node NonceSource) (*Lease, error) {
	pending, err := node.PendingNonceAt(ctx, from)
	if err != nil {
		return nil, core.Wrapf(err, "submit: nonce: pending nonce of %s", from.Hex())
	}
	name := ledgerName(chainID, from)
	got, err := m.apply(ctx, name, &op{kind: opReserve, pending: pending})
	if err != nil {
		return nil, core.Wrapf(err, "submit: nonce ledger")
	}
	return &Lease{m: m, name: name, nonce: got}, nil
}

type opKind int

const (
	opReserve opKind = iota
	opCommit
	opRelease
)

type op struct {
	kind    opKind
	nonce   uint64 // commit, release: the nonce; reserve: the result
	pending uint64 // reserve: the node's pending nonce
	err     error
	done    chan struct{}
}

// batch is the queue of ledger operations of one ledger file in this
// process. Operations that arrive while a write is in flight are applied
// together in the next write (group commit): one locked, fsynced write
// serves many goroutines, and the file lock still serializes processes.
type batch struct {
	mu      sync.Mutex
	queue   []*op
	running bool
}

var batches sync.Map // ledger path → *batch

// apply queues o and waits until a ledger write that includes it is done.
func (m *Nonces) apply(ctx context.Context, name string, o *op) (uint64, error) {
	o.done = make(chan struct{})
	v, _ := batches.LoadOrStore(m.Store.Path(name), &batch{})
	b := v.(*batch)
	b.mu.Lock()
	b.queue = append(b.queue, o)
	if !b.running {
		b.running = true
		go m.drain(context.WithoutCancel(ctx), name, b)
	}
	b.mu.Unlock()
	select {
	case <-o.done:
		return o.nonce, o.err
	case <-ctx.Done():
		// The operation still completes in the background; a reserved nonce
		// is then released so it does not leak.
		go func() {
			<-o.done
			if o.kind == opReserve && o.err == nil {
				_, _ = m.apply(context.Background(), name, &op{kind: opRelease, nonce: o.nonce})
			}
		}()
		return 0, sdk.Errorf(sdk.CodeCanceled, "submit: nonce ledger: %w", ctx.Err())
	}
}

func (m *Nonces) drain(ctx context.Context, name string, b *batch) {
	for {
		b.mu.Lock()
		ops := b.queue
		b.queue = nil
		if len(ops) == 0 {
			b.running = false
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := m.write(wctx, name, ops)
		cancel()
		for _, o := range ops {
			if err != nil {
				o.err = err
			}
			close(o.done)
		}
	}
}

// write applies ops to the ledger in one locked read-modify-write.
func (m *Nonces) write(ctx context.Context, name string, ops []*op) error {
	host, _ := os.Hostname()
	now := m.now()
	var led Ledger
	return m.Store.UpdateJSON(ctx, name, &led, func() error {
		var pending uint64
		reserving := false
		for _, o := range ops {
			if o.kind == opReserve {
				reserving = true
				pending = max(pending, o.pending)
			}
		}
		if reserving {
			m.reconcile(&led, pending, host, now)
		}
		for _, o := range ops {
			switch o.kind {
			case opCommit:
				led.Reserved = dropReservation(led.Reserved, o.nonce)
				led.CommittedAt = now
			case opRelease:
				led.Reserved = dropReservation(led.Reserved, o.nonce)
				release(&led, o.nonce)
			case opReserve:
				if len(led.Released) > 0 {
					slices.Sort(led.Released)
					o.nonce = led.Released[0]
					led.Released = led.Released[1:]
				} else {
					o.nonce = led.Next
					led.Next++
				}
				led.Reserved = append(led.Reserved, Reservation{Nonce: o.nonce, PID: os.Getpid(), Host: host, At: now})
			}
		}
		return nil
	})
}

// reconcile frees reservations of dead processes and aligns the ledger
// with the node's pending nonce.
func (m *Nonces) reconcile(led *Ledger, pending uint64, host string, now time.Time) {
	kept := led.Reserved[:0]
	for _, r := range led.Reserved {
		if (r.Host == host && r.PID != os.Getpid() && !processAlive(r.PID)) || now.Sub(r.At) > m.leaseTTL() {
			release(led, r.Nonce)
			continue
		}
		kept = append(kept, r)
	}
	led.Reserved = kept
	switch {
	case pending > led.Next:
		led.Next = pending
	case pending < led.Next && len(led.Reserved) == 0 && now.Sub(led.CommittedAt) > m.grace():
		led.Next = pending
	}
	rel := led.Released[:0]
	for _, n := range led.Released {
		if n >= pending && n < led.Next {
			rel = append(rel, n)
		}
	}
	led.Released = rel
}

// release puts n back: the ledger's end shrinks when n is its last nonce,
// otherwise n waits in the pool for the next reservation.
func release(led *Ledger, n uint64) {
	if n >= led.Next {
		return
	}
	if !slices.Contains(led.Released, n) {
		led.Released = append(led.Released, n)
	}
	for led.Next > 0 && slices.Contains(led.Released, led.Next-1) && !reservedAt(led.Reserved, led.Next-1) {
		led.Released = slices.DeleteFunc(led.Released, func(x uint64) bool { return x == led.Next-1 })
		led.Next--
	}
}

func reservedAt(rs []Reservation, n uint64) bool {
	for _, r := range rs {
		if r.Nonce == n {
			return true
		}
	}
	return false
}

func dropReservation(rs []Reservation, n uint64) []Reservation {
	return slices.DeleteFunc(rs, func(r Reservation) bool { return r.Nonce == n })
}

func ledgerName(chainID *big.Int, from common.Address) string {
	return fmt.Sprintf("nonces/%s-%s.json", chainID, strings.ToLower(from.Hex()))
}

func (m *Nonces) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

func (m *Nonces) grace() time.Duration {
	if m.Grace > 0 {
		return m.Grace
	}
	return 2 * time.Minute
}

func (m *Nonces) leaseTTL() time.Duration {
	if m.LeaseTTL > 0 {
		return m.LeaseTTL
	}
	return time.Hour
}

// Inspect returns the ledger of (chainID, from) as stored (a zero Ledger
// when there is none yet).
func (m *Nonces) Inspect(chainID *big.Int, from common.Address) (*Ledger, error) {
	var led Ledger
	if _, err := m.Store.ReadJSON(ledgerName(chainID, from), &led); err != nil {
		return nil, err
	}
	return &led, nil
}
