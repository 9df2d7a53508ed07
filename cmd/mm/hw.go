package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mm-wallet/mm/cmd/mm/internal/config"
	"github.com/mm-wallet/mm/cmd/mm/internal/render"
	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/sdk/hdpath"
	"github.com/mm-wallet/mm/signers/ledger"
	"github.com/mm-wallet/mm/signers/transport"
	"github.com/mm-wallet/mm/signers/trezor"
)

// This file is the hardware-wallet side of the CLI: mm hw list, and the
// helpers init.go and wallet.go use for ledger and trezor wallets
// (derivation schemes, path-based wallet identity, wallet names).

func init() {
	register(newHWCmd)
	config.Register(config.Key{Name: "hw.", Prefix: true,
		Usage: "where mm hw list looks: hw.usb (true/false), hw.ledgerEmulator, hw.trezorEmulator, hw.trezorBridge (HOST:PORT or off)",
		Parse: parseHWSetting})
}

// codeAddressMismatch: the device holds another address at a wallet's path.
const codeAddressMismatch sdk.Code = "ADDRESS_MISMATCH"

// Where mm hw list looks unless config.json says otherwise (hw.* keys).
const (
	// defaultLedgerEmulator is Speculos's APDU port, which hwtest's
	// ledger-emulator serves too.
	defaultLedgerEmulator = "127.0.0.1:9999"
	defaultTrezorEmulator = transport.TrezorUDPDefaultAddr
	defaultTrezorBridge   = transport.TrezorBridgeDefaultAddr
)

// Device sources shown by mm hw list.
const (
	sourceUSB        = "usb"        // enumerated on USB HID
	sourceBridge     = "bridge"     // listed by Trezor Bridge
	sourceEmulator   = "emulator"   // answered on a default emulator port
	sourceConfigured = "configured" // named by session.json or wallets.json
	sourceArgument   = "argument"   // named by mm hw list --device
)

// hwProbeTimeout bounds the questions asked to one device.
const hwProbeTimeout = 5 * time.Second

// isHardware reports whether a wallet mode is a built-in hardware signer.
func isHardware(wallet string) bool { return wallet == ledger.Name || wallet == trezor.Name }

// parseHWSetting validates the hw.* config keys.
func parseHWSetting(key, value string) (any, error) {
	switch strings.TrimPrefix(key, "hw.") {
	case "usb":
		return config.Bool(key, value)
	case "ledgerEmulator", "trezorEmulator", "trezorBridge":
		if value == "off" {
			return value, nil
		}
		if err := checkHostPort(value); err != nil {
			return nil, err
		}
		return value, nil
	}
	return nil, sdk.NewError(config.CodeInvalidKey, fmt.Sprintf("unknown config key %q", key),
		"the hw keys are hw.usb, hw.ledgerEmulator, hw.trezorEmulator and hw.trezorBridge")
}

func checkHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" {
		return fmt.Errorf("%q is not HOST:PORT or off", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%q: the port is not a number from 1 to 65535", s)
	}
	return nil
}

// hwDevice is one device as mm hw list shows it.
type hwDevice struct {
	Vendor    string `json:"vendor"`
	Model     string `json:"model"`
	Transport string `json:"transport"`
	// URI is what --device takes.
	URI string `json:"uri"`
	// App is the app open on a Ledger ("Ethereum", "BOLOS" for the
	// dashboard, another app's name; empty while locked or for a Trezor).
	App        string `json:"app"`
	AppVersion string `json:"appVersion"`
	Locked     bool   `json:"locked"`
	// BlindSigning is the Ethereum app's setting (Ledger, app open).
	BlindSigning *bool `json:"blindSigning,omitempty"`
	// Firmware and Unlocked describe a Trezor.
	Firmware    string `json:"firmware,omitempty"`
	Unlocked    *bool  `json:"unlocked,omitempty"`
	BitcoinOnly bool   `json:"bitcoinOnly,omitempty"`
	// Source says how mm found the device.
	Source string `json:"source"`
	// Wallets names the wallets set up on this device.
	Wallets []string `json:"wallets,omitempty"`
	// Error says why the device could not be asked; the rest is then what
	// was known before asking.
	Error *render.ErrorBody `json:"error,omitempty"`
}

// hwList is mm hw list's result.
type hwList struct {
	Devices  []hwDevice `json:"devices"`
	Warnings []string   `json:"warnings,omitempty"`
}

// Text implements render.Texter: one line per device.
func (l hwList) Text() string {
	var b strings.Builder
	if len(l.Devices) == 0 {
		b.WriteString("no hardware wallet found; connect and unlock one, or start an emulator (see mm hw list --help)\n")
	} else {
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "DEVICE\tURI\tSTATE\tSOURCE")
		for _, d := range l.Devices {
			name := strings.TrimSpace(d.Vendor + " " + d.Model)
			src := d.Source
			if len(d.Wallets) > 0 {
				src += " (" + strings.Join(d.Wallets, ", ") + ")"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", name, d.URI, d.state(), src)
		}
		_ = tw.Flush()
	}
	for _, d := range l.Devices {
		if d.Error != nil {
			fmt.Fprintf(&b, "%s: %s (%s)\n", d.URI, d.Error.Message, d.Error.Code)
			if d.Error.Hint != "" {
				fmt.Fprintf(&b, "  hint: %s\n", d.Error.Hint)
			}
		}
	}
	for _, w := range l.Warnings {
		fmt.Fprintf(&b, "note: %s\n", w)
	}
	return b.String()
}

// state is the STATE column.
func (d hwDevice) state() string {
	if d.Error != nil {
		return "error " + string(d.Error.Code)
	}
	var parts []string
	switch {
	case d.Vendor == "Trezor":
		parts = append(parts, "firmware "+d.Firmware)
		if d.BitcoinOnly {
			parts = append(parts, "bitcoin-only")
		}
	case d.App != "":
		parts = append(parts, strings.TrimSpace(d.App+" "+d.AppVersion))
	}
	if d.Locked {
		parts = append(parts, "locked")
	} else {
		parts = append(parts, "unlocked")
	}
	if d.BlindSigning != nil {
		if *d.BlindSigning {
			parts = append(parts, "blind signing on")
		} else {
			parts = append(parts, "blind signing off")
		}
	}
	return strings.Join(parts, ", ")
}

// hwListOptions are the flags of mm hw list.
type hwListOptions struct {
	devices []string
}

// AddFlags registers the flags.
func (o *hwListOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringArrayVar(&o.devices, "device", nil, "also ask the device at this URI, e.g. tcp://127.0.0.1:9999 (repeatable)")
}

func newHWCmd(a *app) *cobra.Command {
	var o hwListOptions
	list := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List hardware wallets: USB, Trezor Bridge, emulators, and the devices your wallets use",
		Long: `List the hardware wallets mm can reach, and what state each is in:

  - Ledger and Trezor One devices on USB (not in a build without cgo);
  - the devices Trezor Bridge lists (127.0.0.1:21325; current Trezor models);
  - an emulator on its default port when one answers: Speculos or
    hwtest's ledger-emulator on 127.0.0.1:9999 (tcp://), the Trezor emulator
    on 127.0.0.1:21324 (udp://);
  - the devices named in session.json and wallets.json, and by --device.

For a Ledger it shows the open app, its version, whether the device is
locked and the app's blind-signing setting; for a Trezor its firmware and
whether it is unlocked. A device that cannot be asked is listed with the
error code and hint instead of failing the command.

The places probed can be changed in config.json: hw.usb (true/false),
hw.ledgerEmulator, hw.trezorEmulator, hw.trezorBridge (HOST:PORT or off).`,
		Example: `  mm hw list
  mm hw list --json | jq '.devices[] | {model, uri, locked}'
  mm hw list --device tcp://127.0.0.1:40001
  mm config set hw.trezorBridge off`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, d := range o.devices {
				if _, err := hwVendorOf(d); err != nil {
					return err
				}
			}
			return a.print(a.hwList(cmd.Context(), o.devices))
		},
	}
	o.AddFlags(list.Flags())
	return group("hw", "Hardware wallets: list the connected devices", list)
}

// hwVendorOf tells the vendor from a device URI's scheme.
func hwVendorOf(uri string) (string, error) {
	u, err := url.Parse(uri)
	if err == nil {
		switch {
		case u.Scheme == "tcp", u.Scheme == "hid" && u.Host == "ledger":
			return "Ledger", nil
		case u.Scheme == transport.TrezorUDPScheme, u.Scheme == transport.TrezorBridgeScheme, u.Scheme == "hid" && u.Host == "trezor":
			return "Trezor", nil
		}
	}
	return "", usageError(codeInvalidInput, fmt.Sprintf("%q is not a device URI", clipText(uri, 80)),
		"Ledger: hid://ledger[/<model>] or tcp://HOST:PORT (Speculos, emulator); Trezor: bridge://HOST:PORT, udp://HOST:PORT (emulator) or hid://trezor")
}

// hwProbe is a device to ask.
type hwProbe struct {
	vendor, uri, source string
	model, transport    string
	// quiet: leave the device out when nothing answers (a default port).
	quiet   bool
	wallets []string
}

// hwKey identifies a device URI for de-duplication: scheme, host and path
// (a tcp:// URI's ?model= only names the model).
func hwKey(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return uri
	}
	k := strings.ToLower(u.Scheme + "://" + u.Host + strings.TrimSuffix(u.Path, "/"))
	if u.Scheme == "hid" {
		k += "?" + u.Query().Get("path")
	}
	return k
}

// probeSet is the devices to ask, each once.
type probeSet struct {
	list []*hwProbe
	seen map[string]*hwProbe
}

// add adds p, or merges it into the probe of the same device: the same
// URI (up to a tcp:// URI's ?model=), or for a configured hid:// URI such
// as hid://ledger the first device found on USB that it names.
func (s *probeSet) add(p *hwProbe) {
	if s.seen == nil {
		s.seen = map[string]*hwProbe{}
	}
	merge := func(old *hwProbe) {
		old.quiet = old.quiet && p.quiet
		old.wallets = append(old.wallets, p.wallets...)
		if strings.Contains(p.uri, "?model=") && !strings.Contains(old.uri, "?") {
			old.uri = p.uri // keeps ?model=
		}
	}
	if old, ok := s.seen[hwKey(p.uri)]; ok {
		merge(old)
		return
	}
	if strings.HasPrefix(p.uri, "hid://") && p.source != sourceUSB {
		for _, old := range s.list {
			if old.source == sourceUSB && strings.HasPrefix(old.uri, p.uri) {
				merge(old)
				return
			}
		}
	}
	s.seen[hwKey(p.uri)] = p
	s.list = append(s.list, p)
}

// hwList finds the devices and asks each for its state.
func (a *app) hwList(ctx context.Context, extra []string) hwList {
	cfg, _ := a.peekConfig()
	setting := func(name, def string) string {
		if v := cfg.String("hw." + name); v != "" {
			return v
		}
		return def
	}
	out := hwList{Devices: []hwDevice{}}
	var set probeSet
	add := set.add
	warn := func(s string) {
		for _, w := range out.Warnings {
			if w == s {
				return
			}
		}
		out.Warnings = append(out.Warnings, s)
	}
	noUSB := "this mm was built without cgo, so it cannot reach USB devices; Speculos, emulators and Trezor Bridge still work"

	// 1. USB.
	if setting("usb", "true") != "false" {
		if ls, err := transport.EnumerateLedgers(); err != nil {
			if errors.Is(err, transport.ErrNoUSB) {
				warn(noUSB)
			} else {
				warn("listing Ledgers on USB: " + err.Error())
			}
		} else {
			for _, d := range ls {
				add(&hwProbe{vendor: "Ledger", uri: d.URI, source: sourceUSB, model: d.Model, transport: d.Transport})
			}
		}
		if ts, err := transport.EnumerateTrezorHID(); err != nil {
			if errors.Is(err, transport.ErrNoUSB) {
				warn(noUSB)
			} else {
				warn("listing Trezors on USB: " + err.Error())
			}
		} else {
			for _, d := range ts {
				add(&hwProbe{vendor: "Trezor", uri: d.URI, source: sourceUSB, model: d.Model, transport: d.Transport})
			}
		}
	}
	// 2. Trezor Bridge and the emulators' default ports, probed in
	// parallel: each costs at most a short timeout when nothing answers.
	var bridgeDevs []transport.TrezorBridgeDevice
	var bridgeErr error
	trezorEmu := false
	var wg sync.WaitGroup
	if addr := setting("trezorBridge", defaultTrezorBridge); addr != "off" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			bridgeDevs, bridgeErr = transport.EnumerateTrezorBridge(bctx, addr)
		}()
	}
	temu := setting("trezorEmulator", defaultTrezorEmulator)
	if temu != "off" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			trezorEmu = transport.ProbeTrezorUDP(ctx, temu, 300*time.Millisecond)
		}()
	}
	wg.Wait()
	if addr := setting("ledgerEmulator", defaultLedgerEmulator); addr != "off" {
		add(&hwProbe{vendor: "Ledger", uri: "tcp://" + addr, source: sourceEmulator, transport: "tcp", quiet: true})
	}
	for _, d := range bridgeDevs {
		add(&hwProbe{vendor: "Trezor", uri: d.URI, source: sourceBridge, transport: transport.TrezorBridgeScheme})
	}
	if bridgeErr != nil && !errors.Is(bridgeErr, transport.ErrDeviceNotFound) {
		warn("asking Trezor Bridge: " + bridgeErr.Error())
	}
	if trezorEmu {
		add(&hwProbe{vendor: "Trezor", uri: transport.TrezorUDPScheme + "://" + temu, source: sourceEmulator, transport: transport.TrezorUDPScheme})
	}
	// 3. Devices named by the session, the wallets and --device.
	for _, p := range a.configuredDevices() {
		add(p)
	}
	for _, uri := range extra {
		v, _ := hwVendorOf(uri)
		add(&hwProbe{vendor: v, uri: uri, source: sourceArgument})
	}

	// Ask each device. Ledgers and Trezors are asked in parallel; the
	// devices of one vendor one after the other (two routes may reach one
	// device, which answers one request at a time).
	probes := set.list
	results := make([]*hwDevice, len(probes))
	for _, vendor := range []string{"Ledger", "Trezor"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, p := range probes {
				if p.vendor == vendor {
					results[i] = askDevice(ctx, p)
				}
			}
		}()
	}
	wg.Wait()
	for _, r := range results {
		if r != nil {
			out.Devices = append(out.Devices, *r)
		}
	}
	return out
}

// configuredDevices are the device URIs of the hardware session and of the
// wallets.
func (a *app) configuredDevices() []*hwProbe {
	dir, err := a.homeDir()
	if err != nil {
		return nil
	}
	if _, err := os.Stat(dir); err != nil {
		return nil // not initialized: nothing configured, and nothing created
	}
	var out []*hwProbe
	byURI := map[string]*hwProbe{}
	note := func(signer, uri, wallet string) {
		if !isHardware(signer) || uri == "" {
			return
		}
		p, ok := byURI[hwKey(uri)]
		if !ok {
			vendor := "Ledger"
			if signer == trezor.Name {
				vendor = "Trezor"
			}
			p = &hwProbe{vendor: vendor, uri: uri, source: sourceConfigured}
			byURI[hwKey(uri)] = p
			out = append(out, p)
		}
		if wallet != "" {
			p.wallets = append(p.wallets, wallet)
		}
	}
	st, err := a.state()
	if err != nil {
		return nil
	}
	var s session
	if ok, err := st.ReadJSON(sessionFile, &s); err == nil && ok {
		note(s.Signer, s.Settings["device"], "")
	}
	var d walletsDoc
	if _, err := st.ReadJSON(walletsFile, &d); err == nil {
		for _, w := range d.Wallets {
			note(w.Signer, w.Device, w.Name)
		}
	}
	return out
}

// askDevice asks one device for its state. It returns nil for a quiet
// probe that nobody answered.
func askDevice(ctx context.Context, p *hwProbe) *hwDevice {
	ctx, cancel := context.WithTimeout(ctx, hwProbeTimeout)
	defer cancel()
	d := &hwDevice{Vendor: p.vendor, Model: p.model, Transport: p.transport, URI: p.uri, Source: p.source, Wallets: p.wallets}
	if d.Transport == "" {
		if u, err := url.Parse(p.uri); err == nil {
			d.Transport = u.Scheme
		}
	}
	var err error
	switch p.vendor {
	case "Ledger":
		var st *ledger.Status
		if st, err = ledger.DeviceStatus(ctx, p.uri); err == nil {
			if st.Model != "" {
				d.Model = st.Model
			}
			d.Transport, d.App, d.AppVersion, d.Locked = st.Transport, st.App, st.AppVersion, st.Locked
			if !st.Locked && st.App == "Ethereum" {
				b := st.BlindSigning
				d.BlindSigning = &b
			}
		}
	case "Trezor":
		var st *trezor.Status
		if st, err = trezor.DeviceStatus(ctx, p.uri); err == nil {
			d.Model = strings.TrimPrefix(st.Model, "Trezor ")
			d.Firmware, d.BitcoinOnly = st.Firmware, st.BitcoinOnly
			u := st.Unlocked
			d.Unlocked, d.Locked = &u, !u
		}
	}
	if err == nil {
		return d
	}
	if p.quiet && sdk.CodeOf(err) == sdk.CodeDeviceNotFound {
		return nil
	}
	e := asCoded(err)
	if ctx.Err() != nil && sdk.CodeOf(err) == sdk.CodeCanceled {
		e = sdk.NewError(sdk.CodeDeviceError, fmt.Sprintf("%s did not answer within %s", p.uri, hwProbeTimeout),
			"check that a device or emulator speaking this protocol is there, and that no other program holds it")
	}
	d.Error = &render.ErrorBody{Code: e.Code, Message: e.Message, Hint: e.Hint}
	return d
}

// --- derivation schemes and hardware wallet identity -----------------------

// Derivation schemes (the same names for Ledger and Trezor).
var derivationSchemes = hdpath.Schemes()

// derivationOf is the session's scheme.
func derivationOf(s *session) string {
	if d := s.Settings["derivation"]; d != "" {
		return d
	}
	return string(hdpath.BIP44)
}

// checkDerivation validates --derivation.
func checkDerivation(s string) error {
	if _, err := hdpath.ParseScheme(s); err != nil || s == "" {
		return usageError(codeInvalidInput, fmt.Sprintf("unknown derivation scheme %q", clipText(s, 32)),
			"use bip44 (m/44'/60'/0'/0/x, the default), live (Ledger Live, m/44'/60'/x'/0/0) or legacy (m/44'/60'/0'/x)")
	}
	return nil
}

// checkPath validates --path and returns it in canonical form.
func checkPath(s string) (string, error) {
	p, err := ledger.ParsePath(s)
	if err != nil {
		return "", usageError(sdk.CodeInvalidDerivationPath, fmt.Sprintf("invalid derivation path %q", clipText(s, 80)),
			`write it as m/44'/60'/0'/0/0 (1 to 10 levels below 2^31; ' or h marks a hardened level)`)
	}
	return p.String(), nil
}

// schemePath is the path of account index under scheme.
func schemePath(scheme string, index uint32) string {
	p, err := hdpath.Scheme(scheme).Path(index)
	if err != nil {
		return ""
	}
	return p.String()
}

// schemeIndex returns the index whose path under scheme is path.
func schemeIndex(scheme, path string) (uint32, bool) {
	p, err := hdpath.Parse(path)
	if err != nil {
		return 0, false
	}
	return hdpath.Scheme(scheme).Index(p)
}

// findScheme returns the scheme and index that derive path, trying
// preferred first.
func findScheme(preferred, path string) (string, uint32, bool) {
	if i, ok := schemeIndex(preferred, path); ok {
		return preferred, i, true
	}
	for _, sc := range derivationSchemes {
		if i, ok := schemeIndex(sc, path); ok {
			return sc, i, true
		}
	}
	return "", 0, false
}

// walletAt returns the signer's wallet at path.
func (d *walletsDoc) walletAt(signer, path string) (int, bool) {
	for i, w := range d.Wallets {
		if w.Signer == signer && w.Path == path {
			return i, true
		}
	}
	return -1, false
}

// nextSchemeIndex is the lowest index under scheme whose path no wallet of
// signer uses yet.
func (d *walletsDoc) nextSchemeIndex(signer, scheme string) uint32 {
	var i uint32
	for {
		if _, taken := d.walletAt(signer, schemePath(scheme, i)); !taken {
			return i
		}
		i++
	}
}

// hwWalletName is the default name of a hardware wallet at path: ledger-3
// for index 3 of a scheme (the session's first), ledger-live-3 when ledger-3
// is taken by another scheme's account, ledger-44h-60h-0h-0-7-3 for a path
// of no scheme.
func (d *walletsDoc) hwWalletName(signer, scheme, path string) string {
	var cands []string
	if sc, i, ok := findScheme(scheme, path); ok {
		cands = append(cands, walletName(signer, i), fmt.Sprintf("%s-%s-%d", signer, sc, i))
	}
	slug := strings.NewReplacer("'", "h", "/", "-").Replace(strings.TrimPrefix(path, "m/"))
	cands = append(cands, signer+"-"+slug)
	for _, c := range cands {
		if _, dup := d.find(c); !dup {
			return c
		}
	}
	last := cands[len(cands)-1]
	for n := 2; ; n++ {
		if c := fmt.Sprintf("%s-%d", last, n); !hasName(d, c) {
			return c
		}
	}
}

func hasName(d *walletsDoc, name string) bool {
	_, ok := d.find(name)
	return ok
}

// hwEntry makes the wallets.json entry for a hardware account.
func hwEntry(d *walletsDoc, s *session, name string, acc sdk.Account) walletEntry {
	scheme := derivationOf(s)
	_, idx, _ := findScheme(scheme, acc.Path)
	if name == "" {
		name = d.hwWalletName(s.Signer, scheme, acc.Path)
	}
	return walletEntry{Name: name, Signer: s.Signer, Address: acc.Address.Hex(), Index: idx, Path: acc.Path,
		KeyRef: keyRef(s.Signer, idx, acc.Path), Device: s.Settings["device"], CreatedAt: time.Now().UTC()}
}
