package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mm-wallet/mm/sdk"
)

func init() {
	registerWallet(newUnlockCmd)
	registerWallet(newLockCmd)
	register(newLogoutCmd)
}

// Limits of mm wallet unlock --for.
const (
	defaultUnlockFor = 15 * time.Minute
	maxUnlockFor     = 12 * time.Hour
)

// unlockSession is unlock.json: how to reach the warm signer. It holds the
// client key of the signer's mutual TLS, so it is written 0600 like every
// state file, and never printed.
type unlockSession struct {
	Signer   string            `json:"signer"`
	Key      string            `json:"key"` // poolKey of the session it serves
	Reattach *sdk.ReattachInfo `json:"reattach"`
}

type unlockResult struct {
	Unlocked bool      `json:"unlocked"`
	Signer   string    `json:"signer"`
	Until    time.Time `json:"until"`
	Pid      int       `json:"pid"`
}

type lockResult struct {
	Locked      bool `json:"locked"`
	WasUnlocked bool `json:"wasUnlocked"`
}

// unlockOptions are the flags of mm wallet unlock.
type unlockOptions struct {
	duration time.Duration
}

// AddFlags registers the flags.
func (o *unlockOptions) AddFlags(fs *pflag.FlagSet) {
	fs.DurationVar(&o.duration, "for", defaultUnlockFor, "how long the signer stays unlocked (e.g. 30s, 15m, 2h; at most 12h)")
}

func newUnlockCmd(a *app) *cobra.Command {
	var o unlockOptions
	c := &cobra.Command{
		Use:   "unlock",
		Short: "Unlock once, sign many: keep a warm signer holding the unlocked key",
		Long: `Start a signer process that holds the unlocked key for a while, so that later
mm commands sign without a password prompt or key derivation. The process
listens on a private unix socket (folder 0700) and accepts only clients that
present the key stored in MM_HOME/unlock.json (0600): only your user can reach
it. It exits on its own when the time is up, or with mm wallet lock, mm logout
or mm reset. The password comes from MM_PASSWORD or the terminal.`,
		Example: `  MM_PASSWORD=… mm wallet unlock --for 30m
  mm wallet sign-message --message hi --chain-id 1   # no password asked
  mm wallet lock`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.duration < time.Second || o.duration > maxUnlockFor {
				return usageError(codeInvalidInput, fmt.Sprintf("--for %s is out of range", o.duration), "give a duration from 1s to 12h, e.g. --for 15m")
			}
			ctx := cmd.Context()
			_, s, err := a.loadSession()
			if err != nil {
				return err
			}
			if err := a.lockUnlocked(ctx); err != nil {
				a.logf("stopping the previous unlocked signer: %v", err)
			}
			a.signers.drop(s)
			info, conn, err := a.startUnlocked(ctx, s, o.duration)
			if err != nil {
				return err
			}
			a.signers.keep(s, conn)
			return a.print(unlockResult{Unlocked: true, Signer: s.Signer, Until: info.Deadline.UTC().Truncate(time.Second), Pid: info.Pid})
		},
	}
	o.AddFlags(c.Flags())
	return c
}

// startUnlocked starts the detached signer, configures and unlocks it, and
// records it in unlock.json. On any failure the process is stopped and
// nothing is recorded.
func (a *app) startUnlocked(ctx context.Context, s *session, ttl time.Duration) (*sdk.ReattachInfo, *pooled, error) {
	st, err := a.state()
	if err != nil {
		return nil, nil, err
	}
	h, err := a.host()
	if err != nil {
		return nil, nil, err
	}
	info, err := h.StartDetached(ctx, s.Signer, sdk.DetachedOptions{TTL: ttl})
	if err != nil {
		return nil, nil, err
	}
	stop := func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = sdk.StopDetached(sctx, info)
	}
	c, err := h.Reattach(ctx, info)
	if err != nil {
		stop()
		return nil, nil, err
	}
	fail := func(err error) (*sdk.ReattachInfo, *pooled, error) {
		_ = c.Close()
		stop()
		return nil, nil, err
	}
	if err := configure(ctx, c, a.signerSettings(s)); err != nil {
		return fail(err)
	}
	if s.Signer == "byok" {
		if _, err := c.Manage(ctx, &sdk.ManageRequest{Op: "unlock"}); err != nil {
			return fail(err)
		}
	} else if _, err := c.Accounts(ctx, &sdk.AccountsRequest{Indices: []uint32{0}}); err != nil {
		return fail(err)
	}
	rec := unlockSession{Signer: s.Signer, Key: poolKey(s), Reattach: info}
	var cur unlockSession
	if err := st.UpdateJSON(ctx, unlockFile, &cur, func() error { cur = rec; return nil }); err != nil {
		return fail(err)
	}
	a.logf("unlocked %s", info)
	return info, &pooled{conn: c, close: c.Close, reused: true}, nil
}

// reattach returns the unlocked signer serving this session, or nil when
// there is none. A record whose signer is gone is removed.
func (a *app) reattach(ctx context.Context, s *session) (*pooled, error) {
	st, err := a.state()
	if err != nil {
		return nil, err
	}
	var rec unlockSession
	ok, err := st.ReadJSON(unlockFile, &rec)
	if err != nil || !ok {
		return nil, err
	}
	if rec.Reattach == nil || rec.Signer != s.Signer || rec.Key != poolKey(s) {
		return nil, nil
	}
	if time.Now().After(rec.Reattach.Deadline) {
		_ = st.Remove(unlockFile)
		return nil, nil
	}
	h, err := a.host()
	if err != nil {
		return nil, err
	}
	c, err := h.Reattach(ctx, rec.Reattach)
	if err != nil {
		if errors.Is(err, sdk.ErrPluginNotRunning) {
			_ = st.Remove(unlockFile)
		}
		return nil, err
	}
	a.logf("reattached to %s", rec.Reattach)
	return &pooled{conn: c, close: c.Close, reused: true}, nil
}

// lockUnlocked stops the unlocked signer, if any, and removes unlock.json.
// It reports whether there was one.
func (a *app) lockUnlocked(ctx context.Context) error {
	_, err := a.lock(ctx)
	return err
}

func (a *app) lock(ctx context.Context) (bool, error) {
	dir, err := a.homeDir()
	if err != nil {
		return false, err
	}
	if _, err := os.Stat(dir); err != nil {
		return false, nil
	}
	st, err := a.state()
	if err != nil {
		return false, err
	}
	var rec unlockSession
	ok, err := st.ReadJSON(unlockFile, &rec)
	if err != nil {
		// A damaged record cannot reach any process; remove it.
		_ = st.Remove(unlockFile)
		return false, nil
	}
	if !ok {
		return false, nil
	}
	a.signers.closeAll()
	if rec.Reattach != nil {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := sdk.StopDetached(sctx, rec.Reattach); err != nil {
			a.logf("stop unlocked signer: %v", err)
		}
	}
	return true, st.Remove(unlockFile)
}

func newLockCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "lock",
		Short:   "Stop the unlocked signer; later commands unlock afresh",
		Example: `  mm wallet lock`,
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			was, err := a.lock(cmd.Context())
			if err != nil {
				return err
			}
			return a.print(lockResult{Locked: true, WasUnlocked: was})
		},
	}
}

type logoutResult struct {
	LoggedOut bool     `json:"loggedOut"`
	Removed   []string `json:"removed"`
}

func newLogoutCmd(a *app) *cobra.Command {
	var o resetOptions
	c := &cobra.Command{
		Use:   "logout",
		Short: "Lock, and forget the session, the wallets and the stored mnemonic",
		Long: `Stop the unlocked signer and delete session.json, wallets.json and the stored
BYOK mnemonic. Settings (config.json), installed signer plugins and the REPL
history stay; mm reset removes everything. Back up your mnemonic first.`,
		Example: `  mm logout --yes`,
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, err := a.state()
			if err != nil {
				return err
			}
			if err := a.confirm(cmd, o.yes, "Forget the session, the wallets and the stored mnemonic?"); err != nil {
				return err
			}
			_, _ = a.lock(ctx)
			removed := []string{}
			for _, name := range []string{sessionFile, walletsFile, keyFileName} {
				if _, err := os.Stat(st.Path(name)); err == nil {
					removed = append(removed, name)
				}
				if err := st.Remove(name); err != nil {
					return err
				}
			}
			return a.print(logoutResult{LoggedOut: true, Removed: removed})
		},
	}
	o.AddFlags(c.Flags())
	return c
}
