package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mm-wallet/mm/cmd/mm/internal/config"
)

func init() { register(newConfigCmd) }

// configEntry is one key of `mm config get`.
type configEntry struct {
	Key    string `json:"key"`
	Value  any    `json:"value"`
	Source string `json:"source"` // "config" (config.json) or "default"
}

// Text implements render.Texter.
func (e configEntry) Text() string { return fmt.Sprintf("%s = %v", e.Key, textValue(e.Value)) }

type configList struct {
	Keys []configEntry `json:"keys"`
}

// Text implements render.Texter.
func (l configList) Text() string {
	var b strings.Builder
	for _, e := range l.Keys {
		fmt.Fprintf(&b, "%s = %v", e.Key, textValue(e.Value))
		if e.Source == "default" {
			b.WriteString("  (default)")
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func textValue(v any) any {
	if v == nil {
		return "(unset)"
	}
	return v
}

func newConfigCmd(a *app) *cobra.Command {
	get := &cobra.Command{
		Use:   "get [key]",
		Short: "Show one setting, or all of them",
		Example: `  mm config get
  mm config get walletTimeoutSeconds`,
		Args: maxArgs("key"),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := a.state()
			if err != nil {
				return err
			}
			vals, err := config.Load(st)
			if err != nil {
				return err
			}
			if len(args) == 1 {
				v, fromFile, err := vals.Effective(args[0])
				if err != nil {
					return err
				}
				return a.print(configEntry{Key: args[0], Value: v, Source: source(fromFile)})
			}
			var out configList
			for _, k := range config.Keys() {
				if k.Prefix {
					continue
				}
				v, fromFile, _ := vals.Effective(k.Name)
				out.Keys = append(out.Keys, configEntry{Key: k.Name, Value: v, Source: source(fromFile)})
			}
			names := make([]string, 0, len(vals))
			for name := range vals {
				names = append(names, name)
			}
			sort.Strings(names)
			for _, name := range names {
				if k, ok := config.Lookup(name); ok && k.Prefix {
					out.Keys = append(out.Keys, configEntry{Key: name, Value: vals[name], Source: "config"})
				}
			}
			return a.print(out)
		},
	}
	set := &cobra.Command{
		Use:   "set <key> <value>",
		Short: "Change a setting",
		Long:  "Change a setting in config.json. Keys:\n\n" + keyHelp(),
		Example: `  mm config set walletTimeoutSeconds 300
  mm config set format toon
  mm config set rpc.1 https://eth.example.org`,
		Args: exactArgs("key", "value"),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := a.state()
			if err != nil {
				return err
			}
			v, err := config.Set(cmd.Context(), st, args[0], args[1])
			if err != nil {
				return err
			}
			return a.print(configEntry{Key: args[0], Value: v, Source: "config"})
		},
	}
	unset := &cobra.Command{
		Use:     "unset <key>",
		Short:   "Remove a setting so its default applies",
		Example: `  mm config unset format`,
		Args:    exactArgs("key"),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := a.state()
			if err != nil {
				return err
			}
			if err := config.Unset(cmd.Context(), st, args[0]); err != nil {
				return err
			}
			vals, err := config.Load(st)
			if err != nil {
				return err
			}
			v, _, _ := vals.Effective(args[0])
			return a.print(configEntry{Key: args[0], Value: v, Source: "default"})
		},
	}
	for _, c := range []*cobra.Command{get, set, unset} {
		c.ValidArgsFunction = completeConfigKey
	}
	return group("config", "Read and change settings (config.json)", get, set, unset)
}

func source(fromFile bool) string {
	if fromFile {
		return "config"
	}
	return "default"
}

func keyHelp() string {
	var b strings.Builder
	for _, k := range config.Keys() {
		name := k.Name
		if k.Prefix {
			name += "<…>"
		}
		fmt.Fprintf(&b, "  %-22s %s\n", name, k.Usage)
	}
	return b.String()
}

// completeConfigKey offers the registered keys as the first argument.
func completeConfigKey(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, k := range config.Keys() {
		out = append(out, k.Name+"\t"+k.Usage)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
