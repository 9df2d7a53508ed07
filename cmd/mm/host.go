package main

import (
	"github.com/spf13/cobra"

	"github.com/mm-wallet/mm/plugins"
	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/signers/ledger"
	"github.com/mm-wallet/mm/signers/mnemonic"
	"github.com/mm-wallet/mm/signers/trezor"
)

// The signers compiled into mm. Each runs in a process of its own — mm
// re-executed as `mm plugin serve <name>` — exactly as a third-party plugin
// does, so key material never enters the CLI process.
func init() {
	plugins.RegisterBuiltin("byok", func() sdk.Signer { return mnemonic.New() })
	plugins.RegisterBuiltin("ledger", func() sdk.Signer { return ledger.New() })
	plugins.RegisterBuiltin("trezor", func() sdk.Signer { return trezor.New() })
	register(newPluginCmd)
}

// newPluginCmd is the hidden `mm plugin serve <name>`.
func newPluginCmd(a *app) *cobra.Command {
	serve := &cobra.Command{
		Use:    "serve <name>",
		Short:  "Serve a built-in signer plugin (started by mm itself)",
		Args:   exactArgs("name"),
		Hidden: true,
		// A plugin writes nothing to stdout before the handshake and needs
		// no state: skip the root's settings.
		PersistentPreRunE: func(*cobra.Command, []string) error { return nil },
		RunE: func(_ *cobra.Command, args []string) error {
			return plugins.ServeBuiltin(args[0])
		},
	}
	c := group("plugin", "Plugin process entry points (internal)", serve)
	c.Hidden = true
	return c
}

// host is the app's plugin host, created on first use and closed with the
// app (every plugin it launched exits then).
func (a *app) host() (*plugins.Host, error) {
	if a.hostImpl != nil {
		return a.hostImpl, nil
	}
	st, err := a.state()
	if err != nil {
		return nil, err
	}
	a.hostImpl = plugins.New(plugins.Options{Store: st, Verbose: a.verbose, Stderr: a.stderr, Prompter: a.prompter()})
	return a.hostImpl, nil
}
