package submit

import (
	"context"
	"fmt"
	"math/big"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/mm-wallet/mm/core"
	"github.com/mm-wallet/mm/core/state"
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
	var led Ledger
	return l.m.Store.UpdateJSON(ctx, l.name, &led, func() error {
		led.Reserved = dropReservation(led.Reserved, l.nonce)
		led.CommittedAt = l.m.now()
		return nil
	})
}

// Release returns the nonce: the next reservation gets it, so no gap forms.
func (l *Lease) Release(ctx context.Context) error {
	if l.done {
		return nil
	}
	l.done = true
	var led Ledger
	return l.m.Store.UpdateJSON(ctx, l.name, &led, func() error {
		led.Reserved = dropReservation(led.Reserved, l.nonce)
		release(&led, l.nonce)
		return nil
	})
}

// Reserve takes the next nonce for from on chainID.
func (m *Nonces) Reserve(ctx context.Context, chainID *big.Int, from common.Address, node NonceSource) (*Lease, error) {
	pending, err := node.PendingNonceAt(ctx, from)
	if err != nil {
		return nil, core.Wrapf(err, "submit: nonce: pending nonce of %s", from.Hex())
	}
	name := ledgerName(chainID, from)
	host, _ := os.Hostname()
	now := m.now()
	var led Ledger
	var got uint64
	err = m.Store.UpdateJSON(ctx, name, &led, func() error {
		// Reservations of processes that are gone will never be committed.
		kept := led.Reserved[:0]
		for _, r := range led.Reserved {
			if (r.Host == host && !processAlive(r.PID)) || now.Sub(r.At) > m.leaseTTL() {
				release(&led, r.Nonce)
				continue
			}
			kept = append(kept, r)
		}
		led.Reserved = kept
		// Reconcile with the node.
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
		if len(led.Released) > 0 {
			slices.Sort(led.Released)
			got = led.Released[0]
			led.Released = led.Released[1:]
		} else {
			got = led.Next
			led.Next++
		}
		led.Reserved = append(led.Reserved, Reservation{Nonce: got, PID: os.Getpid(), Host: host, At: now})
		return nil
	})
	if err != nil {
		return nil, core.Wrapf(err, "submit: nonce ledger")
	}
	return &Lease{m: m, name: name, nonce: got}, nil
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
