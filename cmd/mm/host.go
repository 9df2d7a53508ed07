package main

import (
	"context"

	"github.com/mm-wallet/mm/sdk"
)

// signerHost launches signer plugins by name.
type signerHost interface {
	Open(ctx context.Context, name string) (*sdk.PluginClient, error)
}

func (a *app) host() (signerHost, error) {
	return nil, sdk.NewError(sdk.CodeUnsupported, "the plugin host is not built yet", "")
}

func (a *app) reattach(ctx context.Context, s *session) (*pooled, error) { return nil, nil }

func (a *app) lockUnlocked(ctx context.Context) error { return nil }
