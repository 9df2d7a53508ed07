package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mm-wallet/mm/plugins"
	"github.com/mm-wallet/mm/sdk"
)

func init() { register(newSignerCmd) }

// codeSignerInUse refuses to remove the signer the session uses.
const codeSignerInUse sdk.Code = "SIGNER_IN_USE"

type signerList struct {
	Signers []plugins.Plugin `json:"signers"`
}

// Text implements render.Texter.
func (l signerList) Text() string {
	var b strings.Builder
	for _, p := range l.Signers {
		kind := "installed"
		switch {
		case p.Builtin:
			kind = "built-in"
		case !p.Pinned:
			kind = "NOT INSTALLED (unpinned; run mm signer install " + p.Path + ")"
		case !p.Matches:
			kind = "CHANGED SINCE INSTALL (checksum mismatch; will not run)"
		}
		sum := ""
		if p.SHA256 != "" {
			sum = "  sha256:" + p.SHA256[:16] + "…"
		}
		fmt.Fprintf(&b, "%-12s %s%s\n", p.Name, kind, sum)
	}
	return b.String()
}

type signerInspect struct {
	Plugin plugins.Plugin    `json:"plugin"`
	Info   *sdk.InfoResponse `json:"info"`
}

type signerRemoved struct {
	Removed string `json:"removed"`
}

// signerRemoveOptions are the flags of mm signer remove.
type signerRemoveOptions struct {
	force bool
}

// AddFlags registers the flags.
func (o *signerRemoveOptions) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.force, "force", false, "remove it even if mm is set up to sign with it")
}

func newSignerCmd(a *app) *cobra.Command {
	list := &cobra.Command{
		Use:     "list",
		Short:   "List built-in and installed signers, with their pinned checksums",
		Example: `  mm signer list`,
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			h, err := a.host()
			if err != nil {
				return err
			}
			ps, err := h.List(cmd.Context())
			if err != nil {
				return err
			}
			if ps == nil {
				ps = []plugins.Plugin{}
			}
			return a.print(signerList{Signers: ps})
		},
	}
	install := &cobra.Command{
		Use:   "install <path/to/mm-signer-NAME>",
		Short: "Install a signer plugin and pin its SHA-256",
		Long: `Copy a signer executable named mm-signer-<name> into MM_HOME/plugins, launch it
once to check that it speaks the plugin protocol, and pin its SHA-256 in
plugins.lock. mm refuses to run a plugin whose file no longer matches its pin,
and any mm-signer-* found on MM_PLUGIN_PATH that was not installed.`,
		Example: `  mm signer install ./mm-signer-keystore
  mm init --wallet keystore --setting keyFile=$HOME/UTC--…json --mode guard`,
		Args: exactArgs("path"),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := a.host()
			if err != nil {
				return err
			}
			p, err := h.Install(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.print(p)
		},
	}
	var ro signerRemoveOptions
	remove := &cobra.Command{
		Use:               "remove <name>",
		Short:             "Uninstall a signer plugin and drop its pin",
		Example:           `  mm signer remove keystore`,
		Args:              exactArgs("name"),
		ValidArgsFunction: a.completeSignerNames,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !ro.force {
				if _, s, err := a.loadSession(); err == nil && s.Signer == args[0] {
					return sdk.NewError(codeSignerInUse, fmt.Sprintf("mm is set up to sign with %s", args[0]),
						"run mm init --wallet <another> first, or pass --force")
				}
			}
			h, err := a.host()
			if err != nil {
				return err
			}
			if err := h.Remove(cmd.Context(), args[0]); err != nil {
				return err
			}
			return a.print(signerRemoved{Removed: args[0]})
		},
	}
	ro.AddFlags(remove.Flags())
	inspect := &cobra.Command{
		Use:   "inspect <name>",
		Short: "Launch a signer and show its version, protocol, kind and capabilities",
		Example: `  mm signer inspect byok
  mm signer inspect keystore --json`,
		Args:              exactArgs("name"),
		ValidArgsFunction: a.completeSignerNames,
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := a.host()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if err := plugins.ValidateName(args[0]); err != nil {
				return err
			}
			out := signerInspect{Plugin: plugins.Plugin{Name: args[0]}}
			if ps, err := h.List(ctx); err == nil {
				for _, p := range ps {
					if p.Name == args[0] {
						out.Plugin = p
					}
				}
			}
			start := time.Now()
			info, err := h.Inspect(ctx, args[0])
			if err != nil {
				return err
			}
			a.logf("inspected %s in %v", args[0], time.Since(start))
			out.Info = info
			return a.print(out)
		},
	}
	return group("signer", "Signer plugins: list, install, remove, inspect", list, install, remove, inspect)
}

func (a *app) completeSignerNames(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	h, err := a.host()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ps, err := h.List(cmd.Context())
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
