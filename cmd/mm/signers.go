package main

import (
	"context"

	"github.com/mm-wallet/mm/cmd/mm/internal/prompt"
	"github.com/mm-wallet/mm/sdk"
)

// signerPool launches signers and, in the REPL, keeps them warm.
type signerPool struct {
	a *app
}

func newSignerPool(a *app) *signerPool { return &signerPool{a: a} }

func (p *signerPool) closeAll() {}

// prompter is the host's sdk.Prompter for this invocation.
func (a *app) prompter() *prompt.Terminal {
	return &prompt.Terminal{In: a.inFile, Out: a.stderr, Getenv: a.getenv, Env: prompt.DefaultEnv()}
}

func (a *app) lockUnlocked(ctx context.Context) error { return nil }

func (a *app) runREPL(ctx context.Context) error {
	return sdk.NewError(sdk.CodeUnsupported, "repl: not yet", "")
}
