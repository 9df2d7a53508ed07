package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newCompletionCmd(a *app, root *cobra.Command) *cobra.Command {
	root.CompletionOptions.DisableDefaultCmd = true
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print a shell completion script",
		Long: `Print a completion script for your shell. For example:

  mm completion bash > /etc/bash_completion.d/mm
  mm completion zsh > "${fpath[1]}/_mm"
  mm completion fish > ~/.config/fish/completions/mm.fish`,
		Args:      exactArgs("shell"),
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		RunE: func(cmd *cobra.Command, args []string) error {
			w := a.stdout
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(w, true)
			case "zsh":
				return root.GenZshCompletion(w)
			case "fish":
				return root.GenFishCompletion(w, true)
			case "powershell":
				return root.GenPowerShellCompletionWithDesc(w)
			}
			return usageError(codeInvalidInput, fmt.Sprintf("unknown shell %q", args[0]), "use bash, zsh, fish or powershell")
		},
	}
}
