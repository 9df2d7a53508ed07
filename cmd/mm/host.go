package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/signers/mnemonic"
)

// builtinSigners are the signers compiled into mm, served by the hidden
// `mm plugin serve <name>` so they run in a process of their own exactly as
// a third-party plugin does.
var builtinSigners = map[string]func() sdk.Signer{
	"byok": func() sdk.Signer { return mnemonic.New() },
}

func init() { register(newPluginCmd) }

// newPluginCmd is the hidden `mm plugin serve <name>`.
func newPluginCmd(a *app) *cobra.Command {
	serve := &cobra.Command{
		Use:    "serve <name>",
		Short:  "Serve a built-in signer plugin (started by mm itself)",
		Args:   exactArgs("name"),
		Hidden: true,
		// No PersistentPreRun: a plugin writes nothing to stdout before the
		// handshake and needs no state.
		PersistentPreRunE: func(*cobra.Command, []string) error { return nil },
		RunE: func(cmd *cobra.Command, args []string) error {
			f, ok := builtinSigners[args[0]]
			if !ok {
				return sdk.NewError(sdk.CodePluginNotFound, fmt.Sprintf("no built-in signer %q", clipText(args[0], 64)), "built-ins: "+strings.Join(builtinNames(), ", "))
			}
			return sdk.ServeWithOptions(f(), sdk.ServeOptions{})
		},
	}
	c := group("plugin", "Plugin process entry points (internal)", serve)
	c.Hidden = true
	return c
}

func builtinNames() []string {
	out := make([]string, 0, len(builtinSigners))
	for n := range builtinSigners {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// signerHost launches signer plugins by name.
type signerHost interface {
	Open(ctx context.Context, name string) (*sdk.PluginClient, error)
}

// builtinHost launches the built-in signers by re-executing mm.
type builtinHost struct{ a *app }

func (a *app) host() (signerHost, error) {
	if a.hostImpl == nil {
		a.hostImpl = builtinHost{a}
	}
	return a.hostImpl, nil
}

// Open launches the named signer.
func (h builtinHost) Open(ctx context.Context, name string) (*sdk.PluginClient, error) {
	cmd, sum, err := h.a.pluginCommand(name)
	if err != nil {
		return nil, err
	}
	opts := sdk.PluginOptions{Name: name, Prompter: h.a.prompter(), Checksum: sum}
	if h.a.verbose {
		opts.Stderr = h.a.stderr
	}
	return sdk.Launch(ctx, cmd, opts)
}

// pluginCommand is the command that serves the named signer, and the
// checksum it must have (nil for built-ins, which are this executable).
func (a *app) pluginCommand(name string) (*exec.Cmd, []byte, error) {
	if _, ok := builtinSigners[name]; !ok {
		return nil, nil, sdk.NewError(sdk.CodePluginNotFound, fmt.Sprintf("no signer plugin %q", clipText(name, 64)),
			"built-in signers: "+strings.Join(builtinNames(), ", ")+"; install others with mm signer install")
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, sdk.Errorf(sdk.CodeInternal, "host: find mm executable: %w", err)
	}
	cmd := exec.Command(exe, "plugin", "serve", name)
	return cmd, nil, nil
}
