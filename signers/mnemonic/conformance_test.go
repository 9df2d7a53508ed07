package mnemonic

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/sdk/signertest"
)

// fixtureMnemonic is the Trezor fixtures' "all all …" mnemonic, so that the
// suite can also check addresses against the fixtures.
const fixtureMnemonic = "all all all all all all all all all all all all"

// testWorkFactor keeps age's scrypt fast in tests; production uses age's
// default (DefaultScryptWorkFactor).
const testWorkFactor = "10"

// expectFromFixtures returns the fixtures' getaddress paths and addresses.
func expectFromFixtures(t *testing.T) map[string]common.Address {
	t.Helper()
	f := loadFixtures(t).GetAddress
	if f.Mnemonic != fixtureMnemonic || f.Passphrase != "" {
		t.Fatalf("getaddress fixtures use another mnemonic")
	}
	m := map[string]common.Address{}
	for _, c := range f.Cases {
		m[c.Path] = common.HexToAddress(c.Address)
	}
	return m
}

// plainKeyFile writes a plaintext key file and returns its path.
func plainKeyFile(t *testing.T, mnemonic string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "mnemonic")
	if err := os.WriteFile(p, []byte(mnemonic+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// encryptedKeyFile imports mnemonic with a password through Manage and
// returns the key file path.
func encryptedKeyFile(t *testing.T, mnemonic, password string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "mnemonic")
	s := New()
	ctx := sdk.WithPrompter(context.Background(), signertest.Secrets{sdk.SecretMnemonic: mnemonic, sdk.SecretNewPassword: password})
	if _, err := s.Configure(ctx, &sdk.ConfigureRequest{Settings: map[string]string{SettingKeyFile: p, SettingScryptWorkFactor: testWorkFactor}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Manage(ctx, &sdk.ManageRequest{Op: OpImport, Params: map[string]string{"encrypt": "true"}}); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConformancePlaintextKeyFile(t *testing.T) {
	t.Parallel()
	keyFile := plainKeyFile(t, fixtureMnemonic)
	signertest.Run(t, func(t *testing.T) sdk.Signer { return New() }, signertest.Options{
		Settings: map[string]string{SettingKeyFile: keyFile},
		Expect:   expectFromFixtures(t),
	})
}

func TestConformanceEncryptedKeyFile(t *testing.T) {
	t.Parallel()
	keyFile := encryptedKeyFile(t, fixtureMnemonic, "correct horse battery staple")
	signertest.Run(t, func(t *testing.T) sdk.Signer { return New() }, signertest.Options{
		Settings:        map[string]string{SettingKeyFile: keyFile},
		Expect:          expectFromFixtures(t),
		Prompter:        signertest.Secrets{sdk.SecretPassword: "correct horse battery staple"},
		PromptsOnUnlock: true,
	})
}

func TestConformanceInMemoryWithPassphrase(t *testing.T) {
	t.Parallel()
	signertest.Run(t, func(t *testing.T) sdk.Signer {
		return memSigner(t, "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about", "TREZOR")
	}, signertest.Options{Paths: []string{"m/44'/60'/0'/0/0", "m/44h/60h/1h/0/3", "m/0"}})
}
