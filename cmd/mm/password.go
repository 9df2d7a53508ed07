package main

import (
	"github.com/spf13/cobra"

	"github.com/mm-wallet/mm/sdk"
)

func init() { registerWallet(newPasswordCmd) }

type passwordResult struct {
	Encrypted bool   `json:"encrypted"`
	KeyFile   string `json:"keyFile"`
}

func newPasswordCmd(a *app) *cobra.Command {
	op := func(use, short, long, example, op string, env map[sdk.SecretKind]string) *cobra.Command {
		return &cobra.Command{
			Use:     use,
			Short:   short,
			Long:    long,
			Example: example,
			Args:    exactArgs(),
			RunE: func(cmd *cobra.Command, _ []string) error {
				ctx := cmd.Context()
				_, s, err := a.loadSession()
				if err != nil {
					return err
				}
				if s.Wallet != "byok" {
					return sdk.NewError(codeWrongWalletMode, "passwords protect the BYOK mnemonic; this mm uses "+s.Wallet, "")
				}
				p := a.prompter()
				p.Env = env
				// A warm unlocked signer would keep the old key state; the
				// change is made by a fresh signer and the warm one stopped.
				_ = a.lockUnlocked(ctx)
				conn, err := a.signers.openFresh(ctx, s)
				if err != nil {
					return err
				}
				res, err := conn.Manage(ctx, &sdk.ManageRequest{Op: op})
				if err != nil {
					return err
				}
				return a.print(passwordResult{Encrypted: res.Result["encrypted"] == "true", KeyFile: s.Settings["keyFile"]})
			},
		}
	}
	set := op("set", "Encrypt the stored mnemonic with a password",
		"Encrypt the stored BYOK mnemonic (age, scrypt). The password comes from\nMM_PASSWORD, or is asked twice in a terminal. ALREADY_ENCRYPTED if it is encrypted.",
		`  MM_PASSWORD=… mm wallet password set`, "set-password",
		map[sdk.SecretKind]string{sdk.SecretNewPassword: "MM_PASSWORD"})
	change := op("change", "Change the mnemonic's password",
		"Change the password. The current one comes from MM_PASSWORD, the new one from\nMM_NEW_PASSWORD; in a terminal, each is asked when its variable is unset.",
		`  MM_PASSWORD=old MM_NEW_PASSWORD=new mm wallet password change`, "change-password",
		map[sdk.SecretKind]string{sdk.SecretPassword: "MM_PASSWORD", sdk.SecretNewPassword: "MM_NEW_PASSWORD"})
	remove := op("remove", "Store the mnemonic unencrypted again",
		"Decrypt the stored mnemonic and keep it in plaintext (mode 0600). The current\npassword comes from MM_PASSWORD or the terminal. NOT_ENCRYPTED if it is not encrypted.",
		`  MM_PASSWORD=… mm wallet password remove`, "remove-password",
		map[sdk.SecretKind]string{sdk.SecretPassword: "MM_PASSWORD"})
	return group("password", "Set, change or remove the BYOK mnemonic's password", set, change, remove)
}
