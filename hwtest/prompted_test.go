package hwtest

import (
	"context"
	"sync"
	"testing"

	"github.com/mm-wallet/mm/sdk"
)

// prompted hands the signer a Prompter in every call's context, as the
// plugin host does: the emulated devices record what the signer tells the
// user, the real-device tests relay it to the operator.
type prompted struct {
	sdk.Signer
	p sdk.Prompter
}

var _ sdk.Signer = prompted{}

func (w prompted) ctx(ctx context.Context) context.Context { return sdk.WithPrompter(ctx, w.p) }

func (w prompted) Accounts(ctx context.Context, r *sdk.AccountsRequest) (*sdk.AccountsResponse, error) {
	return w.Signer.Accounts(w.ctx(ctx), r)
}
func (w prompted) SignTransaction(ctx context.Context, r *sdk.SignTransactionRequest) (*sdk.SignTransactionResponse, error) {
	return w.Signer.SignTransaction(w.ctx(ctx), r)
}
func (w prompted) SignTypedData(ctx context.Context, r *sdk.SignTypedDataRequest) (*sdk.SignTypedDataResponse, error) {
	return w.Signer.SignTypedData(w.ctx(ctx), r)
}
func (w prompted) SignMessage(ctx context.Context, r *sdk.SignMessageRequest) (*sdk.SignMessageResponse, error) {
	return w.Signer.SignMessage(w.ctx(ctx), r)
}

// promptLog records what a signer tells the user of an emulated device,
// and confirms everything. The device adds its own RequestSecret.
type promptLog struct {
	mu      sync.Mutex
	prompts []sdk.WaitingRequest
	notices []sdk.NotifyRequest
	asked   []sdk.SecretKind
}

func (l *promptLog) Notify(_ context.Context, r *sdk.NotifyRequest) (*sdk.NotifyResponse, error) {
	l.mu.Lock()
	l.notices = append(l.notices, *r)
	l.mu.Unlock()
	return &sdk.NotifyResponse{}, nil
}

func (l *promptLog) Confirm(context.Context, *sdk.ConfirmRequest) (*sdk.ConfirmResponse, error) {
	return &sdk.ConfirmResponse{Confirmed: true}, nil
}

func (l *promptLog) WaitingForUser(_ context.Context, r *sdk.WaitingRequest) (*sdk.WaitingResponse, error) {
	l.mu.Lock()
	l.prompts = append(l.prompts, *r)
	l.mu.Unlock()
	return &sdk.WaitingResponse{}, nil
}

// checkPrompts fails t unless there were prompts, each one satisfies ok,
// and every one opened was closed.
func (l *promptLog) checkPrompts(t *testing.T, ok func(sdk.WaitingRequest) bool) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	open := 0
	for _, p := range l.prompts {
		if !ok(p) {
			t.Errorf("prompt %+v", p)
		}
		if p.Done {
			open--
		} else {
			open++
		}
	}
	if open != 0 || len(l.prompts) == 0 {
		t.Errorf("%d prompts, %d left open", len(l.prompts), open)
	}
}
