package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mm-wallet/mm/sdk"
)

func init() { register(newInitCmd) }

// Wallet modes offered by mm init; any installed signer plugin's name is
// accepted too.
var walletModes = []string{"byok", "ledger", "trezor", "server-wallet"}

var walletModeHelp = []string{
	"a BIP-39 mnemonic you bring, kept on this machine (optionally encrypted)",
	"a Ledger device (USB, or a Speculos emulator with --device)",
	"a Trezor device (USB, Bridge, or the emulator with --device)",
	"keys in a TEE-backed service; policy enforced remotely",
}

var tradingModes = []string{"guard", "beast"}

// validName reports whether s is a plugin or wallet name: lowercase letters,
// digits, - and _, at most 64, not starting with - or _.
func validName(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '-' || s[0] == '_' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// initOptions are the flags of mm init.
type initOptions struct {
	wallet     string
	mode       string
	device     string
	derivation string
	path       string
	settings   []string
}

// AddFlags registers the flags.
func (o *initOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.wallet, "wallet", "", "wallet mode: byok, ledger, trezor, server-wallet or an installed signer plugin")
	fs.StringVar(&o.mode, "mode", "", "trading mode: guard (recommended) or beast")
	fs.StringVar(&o.device, "device", "", "device URI for ledger/trezor, e.g. tcp://127.0.0.1:9999 (default: first USB device)")
	fs.StringVar(&o.derivation, "derivation", "", "ledger/trezor: how accounts are derived: bip44 (m/44'/60'/0'/0/x, default), live (Ledger Live, m/44'/60'/x'/0/0) or legacy (m/44'/60'/0'/x)")
	fs.StringVar(&o.path, "path", "", "ledger/trezor: the first account's derivation path instead of index 0, e.g. m/44'/60'/0'/0/7")
	fs.StringArrayVar(&o.settings, "setting", nil, "a non-secret signer setting key=value, e.g. keyFile=/path (repeatable)")
}

// initResult is what mm init and mm init show print.
type initResult struct {
	Wallet        string    `json:"wallet"`
	Mode          string    `json:"mode"`
	Signer        string    `json:"signer"`
	Address       string    `json:"address,omitempty"`
	ActiveWallet  string    `json:"activeWallet,omitempty"`
	Encrypted     *bool     `json:"encrypted,omitempty"`
	InitializedAt time.Time `json:"initializedAt"`
}

func newInitCmd(a *app) *cobra.Command {
	var o initOptions
	c := &cobra.Command{
		Use:   "init",
		Short: "Set up mm: choose the wallet mode and the trading mode",
		Long: `Set up mm. In a terminal, missing choices are asked; otherwise --wallet and
--mode are required.

byok reads the mnemonic only from the MM_MNEMONIC environment variable (or a
hidden prompt in a terminal) and an optional password only from MM_PASSWORD
(or a hidden prompt). With a password the mnemonic is stored encrypted
(age, scrypt); without one, in plaintext with mode 0600. Never put a secret
on the command line: --mnemonic and --password are refused.

ledger and trezor sign on the device: --device names it (mm hw list shows
the URIs; default: the first one found), --derivation picks how account
indices become paths (bip44, live, legacy) and --path gives the first
account's path explicitly.

Running init again with another --mode switches the trading mode.`,
		Example: `  MM_MNEMONIC="word1 … word12" mm init --wallet byok --mode guard
  MM_MNEMONIC="…" MM_PASSWORD="…" mm init --wallet byok --mode guard
  mm init --wallet ledger --mode guard --device tcp://127.0.0.1:9999
  mm init --wallet ledger --mode guard --derivation live
  mm init --wallet trezor --mode guard --device udp://127.0.0.1:21324`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runInit(cmd, &o) },
	}
	o.AddFlags(c.Flags())
	_ = c.RegisterFlagCompletionFunc("wallet", cobra.FixedCompletions(walletModes, cobra.ShellCompDirectiveNoFileComp))
	_ = c.RegisterFlagCompletionFunc("mode", cobra.FixedCompletions(tradingModes, cobra.ShellCompDirectiveNoFileComp))
	_ = c.RegisterFlagCompletionFunc("derivation", cobra.FixedCompletions(derivationSchemes, cobra.ShellCompDirectiveNoFileComp))
	show := &cobra.Command{
		Use:     "show",
		Short:   "Show the wallet mode and the trading mode",
		Example: `  mm init show`,
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, s, err := a.loadSession()
			if err != nil {
				return err
			}
			out := initResult{Wallet: s.Wallet, Mode: s.Mode, Signer: s.Signer, InitializedAt: s.InitializedAt}
			if _, d, err := a.loadWallets(); err == nil {
				if w, ok := d.active(); ok {
					out.ActiveWallet, out.Address = w.Name, w.Address
				}
			} else {
				return err
			}
			return a.print(out)
		},
	}
	c.AddCommand(show)
	return c
}

func signerForWallet(wallet string) string { return wallet }

func (a *app) runInit(cmd *cobra.Command, o *initOptions) error {
	ctx := cmd.Context()
	p := a.prompter()
	// 1. Choices: flags, else a picker on a terminal, else MISSING_FLAG.
	if o.wallet == "" {
		if !a.inTTY {
			return missingFlag("wallet", "pass --wallet byok|ledger|trezor|server-wallet|<plugin> (no terminal to ask on)")
		}
		w, err := p.Choose(ctx, "Which wallet should mm sign with?", walletModes, walletModeHelp, 0)
		if err != nil {
			return err
		}
		o.wallet = w
	}
	if !validName(o.wallet) {
		return sdk.NewError(codeInvalidWalletMode, fmt.Sprintf("unknown wallet mode %q", clipText(o.wallet, 64)),
			"use byok, ledger, trezor, server-wallet or the name of an installed signer (mm signer list)")
	}
	if o.mode == "" {
		if !a.inTTY {
			return missingFlag("mode", "pass --mode guard (recommended) or --mode beast (no terminal to ask on)")
		}
		m, err := p.Choose(ctx, "Which trading mode?", tradingModes,
			[]string{"spend limits and allowlists; a second factor for anything outside them (recommended)", "only threat scanning; fewer prompts for scripted work"}, 0)
		if err != nil {
			return err
		}
		o.mode = m
	}
	if o.mode != "guard" && o.mode != "beast" {
		return sdk.NewError(codeInvalidTradingMode, fmt.Sprintf("unknown trading mode %q", clipText(o.mode, 64)), "use guard or beast")
	}
	if err := o.checkHardware(); err != nil {
		return err
	}
	st, err := a.state()
	if err != nil {
		return err
	}
	var prev session
	initialized, err := st.ReadJSON(sessionFile, &prev)
	if err != nil {
		return err
	}
	initialized = initialized && prev.Wallet != ""
	mnemonicGiven := a.getenv("MM_MNEMONIC") != "" // an empty mnemonic is no mnemonic

	// 2. Re-running init for the same wallet changes the trading mode only
	// (for a hardware wallet: unless device, derivation or path change).
	hwChange := isHardware(o.wallet) && (o.device != "" || o.derivation != "" || o.path != "" || len(o.settings) > 0)
	if initialized && prev.Wallet == o.wallet && !(o.wallet == "byok" && mnemonicGiven) && !hwChange {
		prev.Mode = o.mode
		if o.device != "" {
			prev.Settings = mergeSettings(prev.Settings, map[string]string{"device": o.device})
		}
		if err := a.writeSession(ctx, &prev); err != nil {
			return err
		}
		return a.printInit(&prev, nil)
	}
	if initialized && prev.Wallet == "byok" && o.wallet == "byok" {
		return sdk.NewError(codeAlreadyInitialized, "a BYOK mnemonic is already set up",
			"mm reset --yes removes it first (back up the mnemonic!); or run mm init without MM_MNEMONIC to change the mode only")
	}

	s := &session{Wallet: o.wallet, Mode: o.mode, Signer: signerForWallet(o.wallet), InitializedAt: time.Now().UTC()}
	var encrypted *bool
	switch o.wallet {
	case "byok":
		s.Settings = map[string]string{"keyFile": st.Path(keyFileName)}
		if _, err := os.Stat(st.Path(keyFileName)); err == nil {
			// Switching back to byok: the stored mnemonic is kept, never
			// overwritten by a new one.
			if mnemonicGiven {
				return sdk.NewError(codeAlreadyInitialized, "a BYOK mnemonic is already stored",
					"mm reset --yes removes it first (back up the mnemonic!); or run mm init without MM_MNEMONIC to use it")
			}
			break
		}
		if !mnemonicGiven && !a.inTTY {
			return sdk.NewError(sdk.CodeMissingMnemonic, "no mnemonic given",
				"set MM_MNEMONIC for this command (never --mnemonic), or run mm init in a terminal to type it")
		}
		_, pwGiven := a.lookupEnv("MM_PASSWORD")
		encrypt := pwGiven
		if !pwGiven && a.inTTY {
			yes, err := p.YesNo(ctx, "Encrypt the stored mnemonic with a password? (recommended)", true)
			if err != nil {
				return err
			}
			encrypt = yes
		}
		conn, err := a.signers.open(ctx, s)
		if err != nil {
			return err
		}
		res, err := conn.Manage(ctx, &sdk.ManageRequest{Op: "import", Params: map[string]string{"encrypt": strconv.FormatBool(encrypt)}})
		if err != nil {
			return err
		}
		enc := res.Result["encrypted"] == "true"
		encrypted = &enc
		if !enc {
			a.notice("the mnemonic is stored unencrypted in %s (mode 0600); protect it with: mm wallet password set", st.Path(keyFileName))
		}
	default:
		set, err := o.signerSettings()
		if err != nil {
			return err
		}
		if hwChange && initialized && prev.Wallet == o.wallet {
			set = mergeSettings(prev.Settings, set)
		}
		if o.derivation != "" {
			set["derivation"] = o.derivation
		}
		if len(set) > 0 {
			s.Settings = set
		}
	}
	// 3. The first account (index 0, or --path), active.
	w, err := a.ensureFirstWallet(ctx, s, o.path)
	if err != nil {
		return err
	}
	if err := a.writeSession(ctx, s); err != nil {
		return err
	}
	a.logf("initialized %s wallet %s (%s)", s.Wallet, w.Name, w.Address)
	return a.printInit(s, encrypted)
}

// signerSettings parses --setting key=value and --device. Keys that name a
// secret are refused: settings are stored in session.json.
func (o *initOptions) signerSettings() (map[string]string, error) {
	out := map[string]string{}
	if o.device != "" {
		out["device"] = o.device
	}
	for _, kv := range o.settings {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usageError(codeInvalidInput, fmt.Sprintf("--setting %q is not key=value", clipText(k, 64)), "e.g. --setting keyFile=/path/to/key.json")
		}
		switch strings.ToLower(k) {
		case "password", "mnemonic", "privatekey", "private_key", "pin", "secret", "seed":
			return nil, usageError(codeSecretOnCommandLine, fmt.Sprintf("--setting %s would put a secret on the command line", k),
				"secrets reach signers through the prompter: MM_PASSWORD, MM_MNEMONIC or the terminal")
		}
		out[k] = v
	}
	return out, nil
}

func (a *app) printInit(s *session, encrypted *bool) error {
	out := initResult{Wallet: s.Wallet, Mode: s.Mode, Signer: s.Signer, InitializedAt: s.InitializedAt, Encrypted: encrypted}
	if _, d, err := a.loadWallets(); err == nil {
		if w, ok := d.active(); ok {
			out.ActiveWallet, out.Address = w.Name, w.Address
		}
	}
	return a.print(out)
}

func (a *app) writeSession(ctx context.Context, s *session) error {
	st, err := a.state()
	if err != nil {
		return err
	}
	var cur session
	return st.UpdateJSON(ctx, sessionFile, &cur, func() error {
		cur = *s
		return nil
	})
}

// ensureFirstWallet derives the signer's account 0 (or the account at path,
// for a hardware wallet) and makes a wallet of it active (reusing an
// existing entry for the same signer).
func (a *app) ensureFirstWallet(ctx context.Context, s *session, path string) (walletEntry, error) {
	conn, err := a.signers.open(ctx, s)
	if err != nil {
		return walletEntry{}, err
	}
	if isHardware(s.Signer) {
		return a.ensureHardwareWallet(ctx, conn, s, path)
	}
	acc, err := conn.Accounts(ctx, &sdk.AccountsRequest{Indices: []uint32{0}})
	if err != nil {
		return walletEntry{}, err
	}
	if len(acc.Accounts) != 1 {
		return walletEntry{}, sdk.NewError(sdk.CodeInternal, "the signer returned no account", "")
	}
	var out walletEntry
	err = a.updateWallets(ctx, func(d *walletsDoc) error {
		addr := acc.Accounts[0].Address.Hex()
		for i := range d.Wallets {
			if d.Wallets[i].Signer == s.Signer && d.Wallets[i].Index == 0 {
				d.Wallets[i].Address, d.Wallets[i].Path = addr, acc.Accounts[0].Path
				d.Active = d.Wallets[i].Name
				out = d.Wallets[i]
				return nil
			}
		}
		out = walletEntry{Name: walletName(s.Signer, 0), Signer: s.Signer, Address: addr, Index: 0,
			Path: acc.Accounts[0].Path, KeyRef: keyRef(s.Signer, 0, ""), CreatedAt: time.Now().UTC()}
		d.Wallets = append(d.Wallets, out)
		d.Active = out.Name
		return nil
	})
	return out, err
}

// ensureHardwareWallet is ensureFirstWallet for a Ledger or Trezor: the
// wallet is the one at the derived path (a device's wallets are told apart
// by path, whatever scheme derived them).
func (a *app) ensureHardwareWallet(ctx context.Context, conn signerConn, s *session, path string) (walletEntry, error) {
	req := &sdk.AccountsRequest{Indices: []uint32{0}}
	if path != "" {
		req = &sdk.AccountsRequest{Paths: []string{path}}
	}
	acc, err := conn.Accounts(ctx, req)
	if err != nil {
		return walletEntry{}, err
	}
	if len(acc.Accounts) != 1 || acc.Accounts[0].Path == "" {
		return walletEntry{}, sdk.NewError(sdk.CodeInternal, "the signer returned no account with a path", "")
	}
	got := acc.Accounts[0]
	var out walletEntry
	err = a.updateWallets(ctx, func(d *walletsDoc) error {
		if i, ok := d.walletAt(s.Signer, got.Path); ok {
			w := &d.Wallets[i]
			if !strings.EqualFold(w.Address, got.Address.Hex()) {
				a.notice("wallet %s (%s) now holds %s, not %s: another device, seed or passphrase", w.Name, w.Path, got.Address.Hex(), w.Address)
			}
			w.Address, w.Device = got.Address.Hex(), s.Settings["device"]
			d.Active = w.Name
			out = *w
			return nil
		}
		out = hwEntry(d, s, "", got)
		d.Wallets = append(d.Wallets, out)
		d.Active = out.Name
		return nil
	})
	return out, err
}

// checkHardware validates the hardware flags: --derivation and --path are
// for ledger and trezor, and a Trezor's passphrase setting names where the
// passphrase is typed, never the passphrase itself.
func (o *initOptions) checkHardware() error {
	if !isHardware(o.wallet) {
		if o.derivation != "" || o.path != "" {
			return usageError(codeInvalidInput, "--derivation and --path are for ledger and trezor wallets", "drop them, or use --wallet ledger or --wallet trezor")
		}
		return nil
	}
	if o.derivation != "" {
		if err := checkDerivation(o.derivation); err != nil {
			return err
		}
	}
	if o.path != "" {
		p, err := checkPath(o.path)
		if err != nil {
			return err
		}
		o.path = p
	}
	for _, kv := range o.settings {
		k, v, _ := strings.Cut(kv, "=")
		if strings.EqualFold(k, "passphrase") && v != "host" && v != "device" {
			return usageError(codeSecretOnCommandLine, "--setting passphrase takes host or device (where the passphrase is typed), never the passphrase itself",
				"use --setting passphrase=host (mm asks for it, echo off) or --setting passphrase=device (typed on a Trezor Model T or Safe)")
		}
	}
	return nil
}

func mergeSettings(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func clipText(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// notice writes an informational line to stderr (not only in verbose mode).
func (a *app) notice(format string, args ...any) {
	fmt.Fprintf(a.stderr, "note: "+format+"\n", args...)
}
