package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mm-wallet/mm/sdk"
)

func init() { register(newWalletCmd) }

// walletView is one wallet as the wallet commands print it.
type walletView struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	Signer  string `json:"signer"`
	Index   uint32 `json:"index"`
	Path    string `json:"path,omitempty"`
	KeyRef  string `json:"keyRef"`
	Device  string `json:"device,omitempty"`
	Active  bool   `json:"active"`
}

func view(w walletEntry, active string) walletView {
	return walletView{Name: w.Name, Address: w.Address, Signer: w.Signer, Index: w.Index, Path: w.Path, KeyRef: w.KeyRef, Device: w.Device, Active: w.Name == active}
}

type walletList struct {
	Active  string       `json:"active"`
	Wallets []walletView `json:"wallets"`
}

// Text implements render.Texter: one line per wallet, the active one starred.
func (l walletList) Text() string {
	var b strings.Builder
	width := 12
	for _, w := range l.Wallets {
		width = max(width, len(w.Name))
	}
	for _, w := range l.Wallets {
		mark := " "
		if w.Active {
			mark = "*"
		}
		fmt.Fprintf(&b, "%s %-*s %s  %s\n", mark, width, w.Name, w.Address, w.Path)
	}
	if len(l.Wallets) == 0 {
		b.WriteString("no wallets; run mm init\n")
	}
	return b.String()
}

type addressResult struct {
	Address string `json:"address"`
	Name    string `json:"name"`
	// Verified is set when the device showed the address and the user
	// confirmed it there (--verify).
	Verified bool `json:"verified,omitempty"`
}

// Text implements render.Texter.
func (r addressResult) Text() string { return r.Address }

// walletCreateOptions are the flags of mm wallet create.
type walletCreateOptions struct {
	name   string
	sel    bool
	signer string
	path   string
}

// AddFlags registers the flags.
func (o *walletCreateOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.name, "name", "", "wallet name (default: <signer>-<index>)")
	fs.BoolVar(&o.sel, "select", false, "make the new wallet the active one")
	fs.StringVar(&o.path, "path", "", "ledger/trezor: derive the account at this path, e.g. m/44'/60'/3'/0/0 (default: the next index of the derivation scheme)")
}

func newWalletCmd(a *app) *cobra.Command {
	var co walletCreateOptions
	create := &cobra.Command{
		Use:   "create",
		Short: "Add the next account of the active signer (next derivation index)",
		Long: `Add the next account of the active signer: the lowest derivation index no
wallet uses yet. For a Ledger or Trezor the index is turned into a path by
the scheme chosen at mm init --derivation: bip44 m/44'/60'/0'/0/x (default),
live m/44'/60'/x'/0/0 (Ledger Live) or legacy m/44'/60'/0'/x; --path picks
an explicit path instead.`,
		Example: `  mm wallet create
  mm wallet create --name savings --select
  mm wallet create --path "m/44'/60'/0'/0/7"`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			_, s, err := a.loadSession()
			if err != nil {
				return err
			}
			if co.name != "" && !validName(co.name) {
				return usageError(codeInvalidInput, fmt.Sprintf("bad wallet name %q", clipText(co.name, 64)), "use lowercase letters, digits, - and _ (at most 64)")
			}
			if co.path != "" {
				if !isHardware(s.Signer) {
					return usageError(codeInvalidInput, "--path is for ledger and trezor wallets", "drop --path: mm wallet create derives the next index")
				}
				if co.path, err = checkPath(co.path); err != nil {
					return err
				}
			}
			// Launch the signer before taking the lock, so the lock is held
			// only for one derivation, not a process start.
			conn, err := a.signers.open(ctx, s)
			if err != nil {
				return err
			}
			var created walletEntry
			var active string
			if isHardware(s.Signer) {
				err = a.updateWallets(ctx, func(d *walletsDoc) error {
					w, err := a.createHardwareWallet(ctx, conn, d, s, co.name, co.path)
					if err != nil {
						return err
					}
					created = w
					d.Wallets = append(d.Wallets, created)
					if co.sel || d.Active == "" {
						d.Active = created.Name
					}
					active = d.Active
					return nil
				})
				if err != nil {
					return err
				}
				return a.print(view(created, active))
			}
			err = a.updateWallets(ctx, func(d *walletsDoc) error {
				idx := d.nextIndex(s.Signer)
				acc, err := conn.Accounts(ctx, &sdk.AccountsRequest{Indices: []uint32{idx}})
				if err != nil {
					return err
				}
				if len(acc.Accounts) != 1 {
					return sdk.NewError(sdk.CodeInternal, "the signer returned no account", "")
				}
				name := co.name
				if name == "" {
					name = walletName(s.Signer, idx)
				}
				if _, dup := d.find(name); dup {
					return usageError(codeInvalidInput, fmt.Sprintf("a wallet named %q exists", name), "choose another --name")
				}
				created = walletEntry{Name: name, Signer: s.Signer, Address: acc.Accounts[0].Address.Hex(), Path: acc.Accounts[0].Path,
					Index: idx, KeyRef: keyRef(s.Signer, idx, ""), CreatedAt: time.Now().UTC()}
				d.Wallets = append(d.Wallets, created)
				if co.sel || d.Active == "" {
					d.Active = name
				}
				active = d.Active
				return nil
			})
			if err != nil {
				return err
			}
			return a.print(view(created, active))
		},
	}
	co.AddFlags(create.Flags())

	list := &cobra.Command{
		Use:     "list",
		Short:   "List the wallets; the active one is marked",
		Example: `  mm wallet list`,
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, d, err := a.loadWallets()
			if err != nil {
				return err
			}
			out := walletList{Active: d.Active, Wallets: []walletView{}}
			for _, w := range d.Wallets {
				out.Wallets = append(out.Wallets, view(w, d.Active))
			}
			return a.print(out)
		},
	}

	sel := &cobra.Command{
		Use:               "select <name|address>",
		Short:             "Make a wallet the active one",
		Example:           `  mm wallet select byok-1`,
		Args:              exactArgs("name|address"),
		ValidArgsFunction: a.completeWalletNames,
		RunE: func(cmd *cobra.Command, args []string) error {
			var chosen walletEntry
			err := a.updateWallets(cmd.Context(), func(d *walletsDoc) error {
				i, ok := d.find(args[0])
				if !ok {
					return walletNotFound(args[0])
				}
				d.Active = d.Wallets[i].Name
				chosen = d.Wallets[i]
				return nil
			})
			if err != nil {
				return err
			}
			return a.print(view(chosen, chosen.Name))
		},
	}

	show := &cobra.Command{
		Use:               "show [name|address]",
		Short:             "Show a wallet (default: the active one)",
		Example:           `  mm wallet show`,
		Args:              maxArgs("name|address"),
		ValidArgsFunction: a.completeWalletNames,
		RunE: func(cmd *cobra.Command, args []string) error {
			w, active, err := a.pickWallet(args)
			if err != nil {
				return err
			}
			return a.print(view(w, active))
		},
	}

	var verify bool
	address := &cobra.Command{
		Use:   "address [name]",
		Short: "Print the active wallet's address (--verify: and show it on the device)",
		Long: `Print the active wallet's address, or the named wallet's.

With --verify (Ledger, Trezor) the device shows the address too: compare it
with the one mm prints and confirm on the device. A rejection on the device
is USER_REJECTED (exit 3); a device that holds another address at the
wallet's path is ADDRESS_MISMATCH.`,
		Example: `  mm wallet address
  mm wallet address --verify
  mm wallet address ledger-1 --verify`,
		Args:              maxArgs("name"),
		ValidArgsFunction: a.completeWalletNames,
		RunE: func(cmd *cobra.Command, args []string) error {
			w, _, err := a.pickWallet(args)
			if err != nil {
				return err
			}
			if verify {
				return a.verifyAddress(cmd.Context(), w)
			}
			return a.print(addressResult{Address: w.Address, Name: w.Name})
		},
	}
	address.Flags().BoolVar(&verify, "verify", false, "show the address on the hardware wallet and wait for your confirmation there")

	return group("wallet", "Wallets: create, list, select, sign; passwords; unlock",
		append([]*cobra.Command{create, list, sel, show, address}, a.walletExtras()...)...)
}

// createHardwareWallet derives the next account of a Ledger or Trezor
// under the session's scheme (or the account at path) and returns its
// entry. A path some wallet already uses is refused.
func (a *app) createHardwareWallet(ctx context.Context, conn signerConn, d *walletsDoc, s *session, name, path string) (walletEntry, error) {
	req := &sdk.AccountsRequest{Paths: []string{path}}
	if path == "" {
		req = &sdk.AccountsRequest{Indices: []uint32{d.nextSchemeIndex(s.Signer, derivationOf(s))}}
	}
	acc, err := conn.Accounts(ctx, req)
	if err != nil {
		return walletEntry{}, err
	}
	if len(acc.Accounts) != 1 || acc.Accounts[0].Path == "" {
		return walletEntry{}, sdk.NewError(sdk.CodeInternal, "the signer returned no account with a path", "")
	}
	got := acc.Accounts[0]
	if i, taken := d.walletAt(s.Signer, got.Path); taken {
		return walletEntry{}, usageError(codeInvalidInput, fmt.Sprintf("wallet %s is already at %s", d.Wallets[i].Name, got.Path),
			"mm wallet select "+d.Wallets[i].Name+" makes it the active one")
	}
	if name != "" {
		if _, dup := d.find(name); dup {
			return walletEntry{}, usageError(codeInvalidInput, fmt.Sprintf("a wallet named %q exists", name), "choose another --name")
		}
	}
	return hwEntry(d, s, name, got), nil
}

// verifyAddress shows w's address on its device and waits for the user.
func (a *app) verifyAddress(ctx context.Context, w walletEntry) error {
	_, s, err := a.loadSession()
	if err != nil {
		return err
	}
	if w.Signer != s.Signer {
		return sdk.NewError(codeWrongWalletMode, fmt.Sprintf("wallet %s belongs to the %s signer, but mm is set up for %s", w.Name, w.Signer, s.Signer),
			"run mm init --wallet "+w.Signer+" to switch")
	}
	conn, err := a.signers.open(ctx, s)
	if err != nil {
		return err
	}
	if !isHardware(s.Signer) {
		info, err := conn.Info(ctx, &sdk.InfoRequest{})
		if err != nil {
			return err
		}
		if info.Kind != sdk.KindHardware {
			return sdk.NewError(sdk.CodeUnsupported, fmt.Sprintf("the %s signer has no screen to show the address on", s.Signer),
				"--verify is for hardware wallets (mm init --wallet ledger or trezor)")
		}
	}
	if w.Path == "" {
		return sdk.NewError(sdk.CodeUnknownAccount, fmt.Sprintf("wallet %s has no derivation path", w.Name), "create it again with mm wallet create")
	}
	fmt.Fprintf(a.stderr, "Check that your device shows %s (%s), then confirm there.\n", w.Address, w.Path)
	acc, err := conn.Accounts(ctx, &sdk.AccountsRequest{Paths: []string{w.Path}, Verify: true})
	if err != nil {
		return err
	}
	if len(acc.Accounts) != 1 {
		return sdk.NewError(sdk.CodeInternal, "the signer returned no account", "")
	}
	if got := acc.Accounts[0].Address; !strings.EqualFold(got.Hex(), w.Address) {
		return sdk.NewError(codeAddressMismatch, fmt.Sprintf("the device holds %s at %s, not %s (wallet %s)", got.Hex(), w.Path, w.Address, w.Name),
			"connect the device (and passphrase) this wallet was created with, or re-run mm init for this device")
	}
	return a.print(addressResult{Address: w.Address, Name: w.Name, Verified: true})
}

// walletExtras are the wallet subcommands defined in other files.
func (a *app) walletExtras() []*cobra.Command {
	var out []*cobra.Command
	for _, f := range walletSubcommands {
		out = append(out, f(a))
	}
	return out
}

// walletSubcommands lets other files add `mm wallet …` subcommands without
// editing this one (sign-message, password, unlock, send-transaction…).
var walletSubcommands []func(*app) *cobra.Command

func registerWallet(f func(*app) *cobra.Command) { walletSubcommands = append(walletSubcommands, f) }

func walletNotFound(ref string) *sdk.Error {
	return sdk.NewError(codeWalletNotFound, fmt.Sprintf("no wallet %q", clipText(ref, 64)), "mm wallet list shows the wallets")
}

// pickWallet returns the named wallet, or the active one.
func (a *app) pickWallet(args []string) (walletEntry, string, error) {
	if _, _, err := a.loadSession(); err != nil {
		return walletEntry{}, "", err
	}
	_, d, err := a.loadWallets()
	if err != nil {
		return walletEntry{}, "", err
	}
	if len(args) == 1 {
		i, ok := d.find(args[0])
		if !ok {
			return walletEntry{}, "", walletNotFound(args[0])
		}
		return d.Wallets[i], d.Active, nil
	}
	w, ok := d.active()
	if !ok {
		return walletEntry{}, "", sdk.NewError(codeWalletNotFound, "no active wallet", "run mm wallet select <name>")
	}
	return w, d.Active, nil
}

func (a *app) completeWalletNames(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	_, d, err := a.loadWallets()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, w := range d.Wallets {
		out = append(out, w.Name+"\t"+w.Address)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
