package submit

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/mm-wallet/mm/core"
	"github.com/mm-wallet/mm/core/state"
)

// Journal statuses.
const (
	StatusPending   = "pending"   // broadcast, not mined yet
	StatusConfirmed = "confirmed" // mined, succeeded
	StatusReverted  = "reverted"  // mined, failed
	StatusUnknown   = "unknown"   // the broadcast's outcome is not known
	StatusReplaced  = "replaced"  // a speed-up or cancel of it was mined
	StatusDropped   = "dropped"   // its nonce was used by a transaction mm did not send
)

// Entry is one transaction this mm sent.
type Entry struct {
	Hash         common.Hash     `json:"hash"`
	ChainID      uint64          `json:"chainId"`
	Status       string          `json:"status"`
	BlockNumber  *uint64         `json:"blockNumber"`
	GasUsed      uint64          `json:"gasUsed,omitempty"`
	From         common.Address  `json:"from"`
	To           *common.Address `json:"to"`
	Value        string          `json:"value"` // wei, decimal
	Nonce        uint64          `json:"nonce"`
	Kind         core.Kind       `json:"kind"`
	Intent       string          `json:"intent"`
	FunctionName string          `json:"functionName,omitempty"`
	Route        string          `json:"route"`
	Replaces     *common.Hash    `json:"replaces,omitempty"`
	ReplacedBy   *common.Hash    `json:"replacedBy,omitempty"`
	// Raw is the signed transaction, kept to rebroadcast or replace it.
	Raw       hexutil.Bytes `json:"raw"`
	SentAt    time.Time     `json:"sentAt"`
	UpdatedAt time.Time     `json:"updatedAt"`
}

// Journal keeps one file per transaction (journal/<hash>.json) in the state
// folder, each written atomically under a lock.
type Journal struct {
	Store *state.Store
}

const journalDir = "journal"

func entryName(h common.Hash) string { return journalDir + "/" + strings.ToLower(h.Hex()) + ".json" }

// Add records a new entry.
func (j *Journal) Add(ctx context.Context, e *Entry) error {
	return j.Update(ctx, e.Hash, func(cur *Entry) error {
		*cur = *e
		return nil
	})
}

// Get returns the entry for h, or TX_NOT_FOUND.
func (j *Journal) Get(_ context.Context, h common.Hash) (*Entry, error) {
	var e Entry
	ok, err := j.Store.ReadJSON(entryName(h), &e)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, core.Errorf(core.CodeTxNotFound, "`mm tx history` lists the transactions this mm sent", "submit: journal: no transaction %s", h.Hex())
	}
	return &e, nil
}

// Update runs fn on the entry for h (a zero Entry when there is none) under
// the journal lock and saves it if fn returns nil.
func (j *Journal) Update(ctx context.Context, h common.Hash, fn func(*Entry) error) error {
	// Entries are separate files; 16 lock stripes let writers of different
	// entries proceed in parallel while updates of one entry serialize.
	stripe := journalDir + "/stripe-" + strings.ToLower(h.Hex())[2:3]
	punlock, err := procLock(ctx, j.Store, stripe)
	if err != nil {
		return err
	}
	defer punlock()
	unlock, err := j.Store.Lock(ctx, stripe)
	if err != nil {
		return err
	}
	defer unlock()
	if err := os.MkdirAll(j.Store.Path(journalDir), state.DirPerm); err != nil {
		return core.Errorf(state.CodeStateIO, "check the permissions of the mm state folder", "submit: journal: %v", err)
	}
	var e Entry
	if _, err := j.Store.ReadJSON(entryName(h), &e); err != nil {
		return err
	}
	if err := fn(&e); err != nil {
		return err
	}
	e.UpdatedAt = time.Now().UTC()
	data, err := jsonIndent(&e)
	if err != nil {
		return err
	}
	return j.Store.WriteFileLocked(entryName(h), data)
}

// Filter narrows List.
type Filter struct {
	ChainID uint64 // 0: all chains
	From    *common.Address
	Limit   int // 0: no limit
}

// List returns entries newest first. Damaged files stop it with
// STATE_CORRUPT naming the file.
func (j *Journal) List(_ context.Context, f Filter) ([]*Entry, error) {
	des, err := os.ReadDir(j.Store.Path(journalDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, core.Errorf(state.CodeStateIO, "check the permissions of the mm state folder", "submit: journal: %v", err)
	}
	var out []*Entry
	for _, de := range des {
		name := de.Name()
		if de.IsDir() || !strings.HasSuffix(name, ".json") || strings.HasPrefix(name, ".") {
			continue
		}
		var e Entry
		if _, err := j.Store.ReadJSON(filepath.Join(journalDir, name), &e); err != nil {
			return nil, err
		}
		if f.ChainID != 0 && e.ChainID != f.ChainID {
			continue
		}
		if f.From != nil && e.From != *f.From {
			continue
		}
		out = append(out, &e)
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].SentAt.Equal(out[b].SentAt) {
			return out[a].Nonce > out[b].Nonce
		}
		return out[a].SentAt.After(out[b].SentAt)
	})
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}
