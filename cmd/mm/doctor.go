package main

import (
	"context"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/mm-wallet/mm/cmd/mm/internal/config"
	"github.com/mm-wallet/mm/sdk"
)

func init() { register(newDoctorCmd) }

// doctorSigner is what doctor learned from the active signer.
type doctorSigner struct {
	Name     string            `json:"name"`
	Answers  bool              `json:"answers"`
	Version  string            `json:"version,omitempty"`
	Protocol int               `json:"protocol,omitempty"`
	Kind     sdk.Kind          `json:"kind,omitempty"`
	Model    string            `json:"model,omitempty"`
	Caps     *sdk.Capabilities `json:"capabilities,omitempty"`
	Unlocked bool              `json:"unlocked"`
	Status   map[string]string `json:"status,omitempty"`
	Error    *sdk.Error        `json:"error,omitempty"`
	Millis   int64             `json:"ms"`
}

// doctorReport is mm doctor's output.
type doctorReport struct {
	Version     string        `json:"version"`
	Env         string        `json:"env"`
	Home        string        `json:"home"`
	Initialized bool          `json:"initialized"`
	Wallet      string        `json:"wallet"`
	Mode        string        `json:"mode,omitempty"`
	Address     string        `json:"address,omitempty"`
	Signer      *doctorSigner `json:"signer"`
	OK          bool          `json:"ok"`
	Hints       []string      `json:"hints"`
}

func newDoctorCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "doctor",
		Short: "Check that mm is ready: state files, session, and whether the signer answers",
		Long: `Report mm's readiness: version, state folder, whether mm is initialized, the
wallet mode, and whether the active signer plugin starts and answers (it is
launched, or reattached when unlocked, and asked for its Info). Never asks for
a secret. Always exits 0 unless the report itself cannot be made; read "ok".`,
		Example: `  mm doctor
  mm doctor --json | jq .hints`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.print(a.doctor(cmd.Context()))
		},
	}
}

func (a *app) doctor(ctx context.Context) doctorReport {
	r := doctorReport{Version: versionInfo().Version, Wallet: "", Hints: []string{}}
	home, err := a.homeDir()
	if err != nil {
		r.Hints = append(r.Hints, "no state folder: "+asCoded(err).Message)
		return r
	}
	r.Home = home
	cfg, err := a.peekConfig()
	if err != nil {
		r.Hints = append(r.Hints, asCoded(err).Message)
	}
	r.Env = cfg.String("env")
	if r.Env == "" {
		if k, ok := config.Lookup("env"); ok {
			r.Env, _ = k.Default.(string)
		}
	}
	if _, err := os.Stat(home); err != nil {
		r.Hints = append(r.Hints, "mm is not initialized: run mm init (e.g. MM_MNEMONIC=… mm init --wallet byok --mode guard)")
		return r
	}
	_, s, err := a.loadSession()
	if err != nil {
		if sdk.CodeOf(err) == codeNotInitialized {
			r.Hints = append(r.Hints, "mm is not initialized: run mm init (e.g. MM_MNEMONIC=… mm init --wallet byok --mode guard)")
		} else {
			r.Hints = append(r.Hints, asCoded(err).Message)
		}
		return r
	}
	r.Initialized, r.Wallet, r.Mode = true, s.Wallet, s.Mode
	if _, d, err := a.loadWallets(); err != nil {
		r.Hints = append(r.Hints, asCoded(err).Message)
	} else if w, ok := d.active(); ok {
		r.Address = w.Address
	} else {
		r.Hints = append(r.Hints, "no active wallet: run mm wallet create or mm wallet select <name>")
	}
	r.Signer = a.probeSigner(ctx, s)
	if !r.Signer.Answers {
		r.Hints = append(r.Hints, "the "+s.Signer+" signer does not answer: "+r.Signer.Error.Message)
		if r.Signer.Error.Hint != "" {
			r.Hints = append(r.Hints, r.Signer.Error.Hint)
		}
	}
	if st, ok := r.Signer.Status["encrypted"]; ok && st == "false" && s.Signer == "byok" {
		r.Hints = append(r.Hints, "the mnemonic is stored unencrypted: mm wallet password set protects it at rest")
	}
	r.OK = r.Initialized && r.Signer.Answers && r.Address != ""
	return r
}

// probeSigner launches (or reattaches to) the session's signer without
// asking for any secret, and asks it for Info (and, for byok, its status).
func (a *app) probeSigner(ctx context.Context, s *session) *doctorSigner {
	out := &doctorSigner{Name: s.Signer}
	start := time.Now()
	p := a.prompter()
	p.Env = nil // doctor never answers a secret
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	conn, err := a.signers.open(ctx, s)
	if err == nil {
		var info *sdk.InfoResponse
		if info, err = conn.Info(ctx, &sdk.InfoRequest{}); err == nil {
			out.Answers = true
			out.Version, out.Protocol, out.Kind, out.Model = info.Version, info.ProtocolVersion, info.Kind, info.Model
			caps := info.Capabilities
			out.Caps = &caps
			if s.Signer == "byok" {
				if st, err := conn.Manage(ctx, &sdk.ManageRequest{Op: "status"}); err == nil {
					out.Status = st.Result
				}
			}
		}
	}
	a.signers.mu.Lock()
	if c, ok := a.signers.conns[poolKey(s)]; ok && c.reused {
		out.Unlocked = true
	}
	a.signers.mu.Unlock()
	if err != nil {
		out.Error = asCoded(err)
	}
	out.Millis = time.Since(start).Milliseconds()
	return out
}
