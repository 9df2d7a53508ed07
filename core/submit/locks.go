package submit

import (
	"context"
	"sync"

	"github.com/mm-wallet/mm/core/state"
	"github.com/mm-wallet/mm/sdk"
)

// Goroutines of one process queue on an in-process semaphore per state
// file before they take its file lock: the file lock is polled, and many
// goroutines polling it would starve each other. Other processes still
// serialize on the file lock itself.
var fileSems sync.Map // absolute path → chan struct{}

func procLock(ctx context.Context, s *state.Store, name string) (func(), error) {
	v, _ := fileSems.LoadOrStore(s.Path(name), make(chan struct{}, 1))
	sem := v.(chan struct{})
	select {
	case sem <- struct{}{}:
		return func() { <-sem }, nil
	case <-ctx.Done():
		return nil, sdk.Errorf(sdk.CodeCanceled, "submit: waiting for %s: %w", name, ctx.Err())
	}
}
