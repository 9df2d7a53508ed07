package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mm-wallet/mm/sdk"
)

func init() { register(newResetCmd) }

// resetOptions are the flags of mm reset (and mm logout).
type resetOptions struct {
	yes bool
}

// AddFlags registers the flags.
func (o *resetOptions) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVarP(&o.yes, "yes", "y", false, "do not ask for confirmation")
}

type resetResult struct {
	Reset   bool     `json:"reset"`
	Home    string   `json:"home"`
	Removed []string `json:"removed"`
}

func newResetCmd(a *app) *cobra.Command {
	var o resetOptions
	c := &cobra.Command{
		Use:   "reset",
		Short: "Delete all mm state: session, wallets, settings, stored mnemonic, plugins",
		Long: `Delete everything mm keeps under ~/.metamask (or MM_HOME): the session,
wallets.json, config.json, the stored BYOK mnemonic, installed signer plugins,
the unlock session (its warm signer is stopped first) and the REPL history.
Asks for confirmation unless --yes is given.`,
		Example: `  mm reset --yes`,
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := a.homeDir()
			if err != nil {
				return err
			}
			if err := a.confirm(cmd, o.yes, "Delete all mm state in "+dir+"?"); err != nil {
				return err
			}
			// Stop a warm signer before its session file goes away.
			_ = a.lockUnlocked(cmd.Context())
			removed, err := resetHome(dir)
			if err != nil {
				return err
			}
			return a.print(resetResult{Reset: true, Home: dir, Removed: removed})
		},
	}
	o.AddFlags(c.Flags())
	return c
}

// confirm asks a yes/no question on the terminal unless yes is set. Without
// a terminal it fails with NON_INTERACTIVE.
func (a *app) confirm(cmd *cobra.Command, yes bool, question string) error {
	if yes {
		return nil
	}
	if !a.inTTY {
		return sdk.NewError(sdk.CodeNonInteractive, "confirmation needed and no terminal to ask on", "pass --yes to confirm")
	}
	p := a.prompter()
	resp, err := p.Confirm(cmd.Context(), &sdk.ConfirmRequest{Prompt: question})
	if err != nil {
		return err
	}
	if !resp.Confirmed {
		return sdk.NewError(codeAborted, "aborted", "nothing was changed")
	}
	return nil
}

// resetHome removes every entry of the state folder, keeping the folder. It
// refuses folders that cannot be mm's own: the file-system root and the
// user's home folder.
func resetHome(dir string) ([]string, error) {
	clean := filepath.Clean(dir)
	home, _ := os.UserHomeDir()
	if clean == string(filepath.Separator) || (home != "" && clean == filepath.Clean(home)) {
		return nil, sdk.NewError(codeInvalidInput, "refusing to empty "+clean, "point MM_HOME at a folder used only by mm")
	}
	entries, err := os.ReadDir(clean)
	if errors.Is(err, fs.ErrNotExist) {
		return []string{}, nil
	}
	if err != nil {
		return nil, sdk.Errorf("STATE_IO", "reset: read %s: %w", clean, err)
	}
	removed := []string{}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(clean, e.Name())); err != nil {
			return removed, sdk.Errorf("STATE_IO", "reset: remove %s: %w", e.Name(), err)
		}
		removed = append(removed, e.Name())
	}
	return removed, nil
}
