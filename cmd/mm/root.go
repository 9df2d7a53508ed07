package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/mm-wallet/mm/cmd/mm/internal/prompt"
	"github.com/mm-wallet/mm/cmd/mm/internal/render"
	"github.com/mm-wallet/mm/sdk"
)

// groups are the constructors of the top-level commands. A command group is
// one file that adds itself from init:
//
//	func init() { register(newChainsCmd) }
//
// and root.go never changes. init must stay that cheap: mm's start-up time is
// a product feature.
var groups []func(*app) *cobra.Command

func register(f func(*app) *cobra.Command) { groups = append(groups, f) }

// globalOptions are the flags every command accepts.
type globalOptions struct {
	format  string
	json    bool
	toon    bool
	verbose bool
	version bool
	// Refused on sight: a secret in argv is visible to every process.
	mnemonic string
	password string
}

// AddFlags registers the global flags on fs.
func (o *globalOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.format, "format", "f", "", "output format: text, json or toon (default: text on a terminal, json otherwise)")
	fs.BoolVar(&o.json, "json", false, "shorthand for --format json")
	fs.BoolVar(&o.toon, "toon", false, "shorthand for --format toon")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "log what mm does to stderr")
	fs.StringVar(&o.mnemonic, "mnemonic", "", "refused: set MM_MNEMONIC instead")
	fs.StringVar(&o.password, "password", "", "refused: set MM_PASSWORD or answer the prompt")
	_ = fs.MarkHidden("mnemonic")
	_ = fs.MarkHidden("password")
}

// resolve settles format and verbosity: flags, then config.json, then the
// terminal test.
func (a *app) resolve(fs *pflag.FlagSet) error {
	o := &a.opts
	if fs.Changed("mnemonic") {
		return usageError(codeSecretOnCommandLine, "--mnemonic is refused: the command line is visible to every process on this machine",
			"set MM_MNEMONIC in the environment of this one command, or run mm init in a terminal and answer the prompt")
	}
	if fs.Changed("password") {
		return usageError(codeSecretOnCommandLine, "--password is refused: the command line is visible to every process on this machine",
			"set MM_PASSWORD in the environment of this one command, or answer the prompt in a terminal")
	}
	cfg, cfgErr := a.peekConfig()
	switch {
	case o.json && o.toon, o.json && o.format != "" && o.format != "json", o.toon && o.format != "" && o.format != "toon":
		return usageError(codeInvalidInput, "conflicting output format flags", "give one of --format, --json, --toon")
	case o.json:
		a.format = render.JSON
	case o.toon:
		a.format = render.TOON
	case o.format != "":
		f, ok := render.ParseFormat(o.format)
		if !ok {
			return usageError(codeInvalidInput, fmt.Sprintf("unknown format %q", o.format), "use text, json or toon")
		}
		a.format = f
	default:
		if f, ok := render.ParseFormat(cfg.String("format")); ok && cfg.String("format") != "" {
			a.format = f
		} else if a.outTTY {
			a.format = render.Text
		} else {
			a.format = render.JSON
		}
	}
	a.verbose = o.verbose || cfg.String("verbose") == "true"
	if cfgErr != nil {
		a.logf("ignoring config.json: %v", cfgErr)
	}
	return nil
}

// preFormat guesses the output format from raw arguments, so that errors
// raised before flags are parsed (an unknown flag) still honour --json.
func (a *app) preFormat(args []string) render.Format {
	f := render.Format("")
	for i := 0; i < len(args); i++ {
		s := args[i]
		switch {
		case s == "--":
			i = len(args)
		case s == "--json":
			f = render.JSON
		case s == "--toon":
			f = render.TOON
		case s == "--format" || s == "-f":
			if i+1 < len(args) {
				if g, ok := render.ParseFormat(args[i+1]); ok {
					f = g
				}
				i++
			}
		case strings.HasPrefix(s, "--format="):
			if g, ok := render.ParseFormat(strings.TrimPrefix(s, "--format=")); ok {
				f = g
			}
		case strings.HasPrefix(s, "-f") && len(s) > 2 && !strings.HasPrefix(s, "--"):
			if g, ok := render.ParseFormat(strings.TrimPrefix(s[2:], "=")); ok {
				f = g
			}
		}
	}
	if f != "" {
		return f
	}
	if cfg, err := a.peekConfig(); err == nil {
		if g, ok := render.ParseFormat(cfg.String("format")); ok && cfg.String("format") != "" {
			return g
		}
	}
	if a.outTTY {
		return render.Text
	}
	return render.JSON
}

func (a *app) newRoot() *cobra.Command {
	a.opts = globalOptions{}
	if a.prompt != nil {
		a.prompt.Env = prompt.DefaultEnv()
	}
	root := &cobra.Command{
		Use:   "mm",
		Short: "A wallet command line for people and agents whose keys never live in the CLI",
		Long: `mm signs messages, typed data and transactions through signer plugins:
a BIP-39 mnemonic (byok), a Ledger, a Trezor, a server wallet or your own.
Keys stay in the signer process; mm never holds them.

Run mm with no arguments in a terminal for an interactive shell.`,
		SilenceUsage:               true,
		SuggestionsMinimumDistance: 2,
		SilenceErrors:              true,
		DisableAutoGenTag:          true,
		CompletionOptions:          cobra.CompletionOptions{HiddenDefaultCmd: false},
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil
			}
			return unknownCommand(cmd, args[0])
		},
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.resolve(cmd.Flags())
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if a.opts.version {
				return a.print(versionInfo())
			}
			return cmd.Help()
		},
	}
	a.opts.AddFlags(root.PersistentFlags())
	root.Flags().BoolVar(&a.opts.version, "version", false, "print mm's version")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return flagError(err) })
	for _, g := range groups {
		root.AddCommand(g(a))
	}
	root.AddCommand(newCompletionCmd(a, root))
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetIn(a.stdin)
	return root
}

// execute runs one command line and returns its exit status.
func (a *app) execute(ctx context.Context, args []string) int {
	root := a.newRoot()
	root.SetArgs(args)
	a.format = a.preFormat(args)
	_, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	return a.fail(err)
}

// fail renders err and returns the exit status it maps to.
func (a *app) fail(err error) int {
	e := asCoded(err)
	if a.verbose && err.Error() != e.Message {
		a.logf("%v", err)
	}
	render.Error(a.stdout, a.stderr, a.format, e, a.color())
	return exitStatus(err)
}

// unknownCommand is COMMAND_NOT_FOUND with cobra's suggestions.
func unknownCommand(cmd *cobra.Command, name string) error {
	hint := fmt.Sprintf("run %s --help to list the commands", cmd.CommandPath())
	if s := cmd.SuggestionsFor(name); len(s) > 0 {
		hint = "did you mean " + strings.Join(s, " or ") + "?"
	}
	return usageError(codeCommandNotFound, fmt.Sprintf("unknown command %q for %q", name, cmd.CommandPath()), hint)
}

// group is a command that only holds subcommands: with no argument it prints
// its help, with an unknown one it fails with COMMAND_NOT_FOUND.
func group(use, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return unknownCommand(cmd, args[0])
			}
			return cmd.Help()
		},
	}
	sort.Slice(subs, func(i, j int) bool { return subs[i].Name() < subs[j].Name() })
	c.AddCommand(subs...)
	return c
}

// exactArgs wants exactly the named positional arguments.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < len(names) {
			return usageError(codeMissingArg, fmt.Sprintf("%s: missing argument <%s>", cmd.CommandPath(), names[len(args)]),
				"usage: "+cmd.UseLine())
		}
		if len(args) > len(names) {
			return usageError(codeInvalidInput, fmt.Sprintf("%s: unexpected argument %q", cmd.CommandPath(), args[len(names)]),
				"usage: "+cmd.UseLine())
		}
		return nil
	}
}

// maxArgs allows up to the named positional arguments.
func maxArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > len(names) {
			return usageError(codeInvalidInput, fmt.Sprintf("%s: unexpected argument %q", cmd.CommandPath(), args[len(names)]),
				"usage: "+cmd.UseLine())
		}
		return nil
	}
}

func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

var _ = sdk.CodeInternal
