package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mm-wallet/mm/core/state"
	"github.com/mm-wallet/mm/sdk"
)

// State file names inside MM_HOME.
const (
	sessionFile = "session.json"
	walletsFile = "wallets.json"
	unlockFile  = "unlock.json"
	historyFile = "history"
	keyFileName = "mnemonic" // the byok signer's key file (plaintext 0600, or age-encrypted)
)

// session is session.json: what mm init chose.
type session struct {
	// Wallet is the wallet mode: byok, ledger, trezor, server-wallet or the
	// name of an installed signer plugin.
	Wallet string `json:"wallet"`
	// Mode is the trading mode: guard or beast.
	Mode string `json:"mode"`
	// Signer is the plugin that signs for this wallet mode.
	Signer string `json:"signer"`
	// Settings are the signer's non-secret Configure settings.
	Settings      map[string]string `json:"settings,omitempty"`
	InitializedAt time.Time         `json:"initializedAt"`
}

// walletEntry is one account in wallets.json. It holds no secret: the key
// reference names the key inside its signer.
type walletEntry struct {
	Name    string `json:"name"`
	Signer  string `json:"signer"`
	Address string `json:"address"`
	// KeyRef names the key inside the signer, e.g. "byok:index=0" or
	// "ledger:path=m/44'/60'/0'/0/0".
	KeyRef    string    `json:"keyRef"`
	Path      string    `json:"path,omitempty"`
	Index     uint32    `json:"index"`
	CreatedAt time.Time `json:"createdAt"`
	// Device is the device URI a hardware wallet was derived on (empty: the
	// signer's default device), so mm hw list can show where it lives.
	Device string `json:"device,omitempty"`
}

// walletsDoc is wallets.json.
type walletsDoc struct {
	Active  string        `json:"active"`
	Wallets []walletEntry `json:"wallets"`
}

func (d *walletsDoc) find(ref string) (int, bool) {
	for i, w := range d.Wallets {
		if w.Name == ref || strings.EqualFold(w.Address, ref) {
			return i, true
		}
	}
	return -1, false
}

func (d *walletsDoc) active() (walletEntry, bool) {
	if i, ok := d.find(d.Active); ok {
		return d.Wallets[i], true
	}
	return walletEntry{}, false
}

// nextIndex is the lowest account index not used by signer yet.
func (d *walletsDoc) nextIndex(signer string) uint32 {
	used := map[uint32]bool{}
	for _, w := range d.Wallets {
		if w.Signer == signer {
			used[w.Index] = true
		}
	}
	var i uint32
	for used[i] {
		i++
	}
	return i
}

func notInitialized() *sdk.Error {
	return sdk.NewError(codeNotInitialized, "mm is not initialized", "run mm init (e.g. MM_MNEMONIC=… mm init --wallet byok --mode guard)")
}

// loadSession reads session.json; NOT_INITIALIZED when absent.
func (a *app) loadSession() (*state.Store, *session, error) {
	st, err := a.state()
	if err != nil {
		return nil, nil, err
	}
	var s session
	ok, err := st.ReadJSON(sessionFile, &s)
	if err != nil {
		return nil, nil, err
	}
	if !ok || s.Wallet == "" {
		return st, nil, notInitialized()
	}
	return st, &s, nil
}

// loadWallets reads wallets.json (empty when absent).
func (a *app) loadWallets() (*state.Store, *walletsDoc, error) {
	st, err := a.state()
	if err != nil {
		return nil, nil, err
	}
	var d walletsDoc
	if _, err := st.ReadJSON(walletsFile, &d); err != nil {
		return nil, nil, err
	}
	return st, &d, nil
}

// activeWallet returns the session and its active wallet.
func (a *app) activeWallet() (*session, walletEntry, error) {
	_, s, err := a.loadSession()
	if err != nil {
		return nil, walletEntry{}, err
	}
	_, d, err := a.loadWallets()
	if err != nil {
		return nil, walletEntry{}, err
	}
	w, ok := d.active()
	if !ok {
		return nil, walletEntry{}, sdk.NewError(codeWalletNotFound, "no active wallet", "run mm wallet create, or mm wallet select <name>")
	}
	return s, w, nil
}

// updateWallets runs fn on wallets.json under its lock.
func (a *app) updateWallets(ctx context.Context, fn func(*walletsDoc) error) error {
	st, err := a.state()
	if err != nil {
		return err
	}
	var d walletsDoc
	return st.UpdateJSON(ctx, walletsFile, &d, func() error { return fn(&d) })
}

func walletName(signer string, index uint32) string {
	return signer + "-" + strconv.FormatUint(uint64(index), 10)
}

func keyRef(signer string, index uint32, path string) string {
	if path != "" {
		return fmt.Sprintf("%s:path=%s", signer, path)
	}
	return fmt.Sprintf("%s:index=%d", signer, index)
}
