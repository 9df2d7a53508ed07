package mnemonic

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/ethereum/go-ethereum/common"

	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/sdk/signertest"
)

const (
	testPassword  = "s3cret-pa55word"
	otherPassword = "an0ther-pa55word"
)

// recorder keeps every error and result text a test saw, to check that no
// secret ever appears in them.
type recorder struct{ texts []string }

func (r *recorder) err(err error) error {
	if err != nil {
		r.texts = append(r.texts, err.Error())
		if e := sdk.AsError(err); e != nil {
			r.texts = append(r.texts, e.Message, e.Hint)
		}
	}
	return err
}

func (r *recorder) res(resp *sdk.ManageResponse) {
	if resp != nil {
		for k, v := range resp.Result {
			r.texts = append(r.texts, k, v)
		}
	}
}

func (r *recorder) assertNoSecret(t *testing.T, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		for _, txt := range r.texts {
			if s != "" && strings.Contains(txt, s) {
				t.Fatalf("a secret appears in %q", txt)
			}
		}
	}
}

// fixture is a configured signer over a key file in a temp folder.
type fixture struct {
	t    *testing.T
	s    *Signer
	path string
	rec  recorder
}

func newFixture(t *testing.T, extra map[string]string) *fixture {
	t.Helper()
	f := &fixture{t: t, s: New(), path: filepath.Join(t.TempDir(), "home", "mnemonic")}
	settings := map[string]string{SettingKeyFile: f.path, SettingScryptWorkFactor: testWorkFactor}
	for k, v := range extra {
		settings[k] = v
	}
	if _, err := f.s.Configure(context.Background(), &sdk.ConfigureRequest{Settings: settings}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) manage(p sdk.Prompter, op string, params map[string]string) (map[string]string, error) {
	ctx := context.Background()
	if p != nil {
		ctx = sdk.WithPrompter(ctx, p)
	}
	resp, err := f.s.Manage(ctx, &sdk.ManageRequest{Op: op, Params: params})
	f.rec.err(err)
	f.rec.res(resp)
	if err != nil {
		if resp != nil {
			f.t.Fatalf("%s: a response came with the error %v", op, err)
		}
		return nil, err
	}
	return resp.Result, nil
}

func (f *fixture) mustManage(p sdk.Prompter, op string, params map[string]string) map[string]string {
	f.t.Helper()
	res, err := f.manage(p, op, params)
	if err != nil {
		f.t.Fatalf("%s: %v", op, err)
	}
	return res
}

func (f *fixture) read() []byte {
	f.t.Helper()
	b, err := os.ReadFile(f.path)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

// snapshot returns every file under the key file's folder with its bytes,
// leaving out the empty lock files core/state keeps beside the files it
// guards.
func (f *fixture) snapshot() map[string]string {
	f.t.Helper()
	out := map[string]string{}
	filepath.WalkDir(filepath.Dir(f.path), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			if strings.HasSuffix(p, ".lock") && len(b) == 0 {
				return nil
			}
			out[p] = string(b)
		}
		return nil
	})
	return out
}

func (f *fixture) address(p sdk.Prompter) (common.Address, error) {
	ctx := context.Background()
	if p != nil {
		ctx = sdk.WithPrompter(ctx, p)
	}
	resp, err := f.s.Accounts(ctx, &sdk.AccountsRequest{Indices: []uint32{0}})
	f.rec.err(err)
	if err != nil {
		return common.Address{}, err
	}
	return resp.Accounts[0].Address, nil
}

func wantCodeErr(t *testing.T, what string, err error, code sdk.Code) {
	t.Helper()
	if sdk.CodeOf(err) != code {
		t.Fatalf("%s: got %v, want %s", what, err, code)
	}
}

func fixtureAddress0(t *testing.T) common.Address {
	return expectFromFixtures(t)["m/44'/60'/0'/0/0"]
}

func TestImportPlaintext(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	wantCodeErr(t, "address before import", func() error { _, err := f.address(nil); return err }(), sdk.CodeMissingMnemonic)
	st := f.mustManage(nil, OpStatus, nil)
	if st["exists"] != "false" {
		t.Fatalf("status before import: %v", st)
	}
	// Extra spaces, capitals and a trailing newline are normalized away.
	res := f.mustManage(signertest.Secrets{sdk.SecretMnemonic: "  ALL all all all all all all all all all all All\n"}, OpImport, nil)
	if res["address"] != fixtureAddress0(t).Hex() || res["path"] != "m/44'/60'/0'/0/0" || res["encrypted"] != "false" {
		t.Fatalf("import result %v", res)
	}
	if got := string(f.read()); got != fixtureMnemonic+"\n" {
		t.Fatalf("key file holds %q", got)
	}
	fi, _ := os.Stat(f.path)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	di, _ := os.Stat(filepath.Dir(f.path))
	if di.Mode().Perm() != 0o700 {
		t.Fatalf("key folder mode %v, want 0700", di.Mode().Perm())
	}
	// A fresh signer reads it without asking anything.
	g := &fixture{t: t, s: New(), path: f.path}
	if _, err := g.s.Configure(context.Background(), &sdk.ConfigureRequest{Settings: map[string]string{SettingKeyFile: f.path}}); err != nil {
		t.Fatal(err)
	}
	if a, err := g.address(nil); err != nil || a != fixtureAddress0(t) {
		t.Fatalf("fresh signer: %s, %v", a.Hex(), err)
	}
	st = f.mustManage(nil, OpStatus, nil)
	if st["exists"] != "true" || st["encrypted"] != "false" || st["unlocked"] != "true" {
		t.Fatalf("status after import: %v", st)
	}
	// Importing again is refused and changes nothing.
	before := f.snapshot()
	_, err := f.manage(signertest.Secrets{sdk.SecretMnemonic: "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"}, OpImport, nil)
	wantCodeErr(t, "second import", err, CodeMnemonicExists)
	if after := f.snapshot(); !sameSnapshot(before, after) {
		t.Fatal("a refused import changed files")
	}
	// replace=true replaces.
	res = f.mustManage(signertest.Secrets{sdk.SecretMnemonic: "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"}, OpImport, map[string]string{"replace": "true"})
	if res["address"] == fixtureAddress0(t).Hex() {
		t.Fatal("replace kept the old mnemonic")
	}
	f.rec.assertNoSecret(t, fixtureMnemonic, "abandon abandon")
}

func sameSnapshot(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestImportEncrypted(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	res := f.mustManage(signertest.Secrets{sdk.SecretMnemonic: fixtureMnemonic, sdk.SecretNewPassword: testPassword}, OpImport, map[string]string{"encrypt": "true"})
	if res["encrypted"] != "true" || res["address"] != fixtureAddress0(t).Hex() {
		t.Fatalf("import result %v", res)
	}
	data := f.read()
	if !bytes.HasPrefix(data, []byte(ageMagic)) {
		t.Fatalf("key file is not an age file: %q", data[:min(len(data), 40)])
	}
	// No plaintext anywhere in the folder, temp files included.
	for p, content := range f.snapshot() {
		if strings.Contains(content, "all all") {
			t.Fatalf("%s holds the plaintext mnemonic", p)
		}
	}
	// It is a standard age file: age itself opens it with the password.
	id, _ := age.NewScryptIdentity(testPassword)
	r, err := age.Decrypt(bytes.NewReader(data), id)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(r)
	if string(plain) != fixtureMnemonic+"\n" {
		t.Fatal("age decrypts to something else than the mnemonic")
	}
	// The configured work factor was used.
	if !strings.Contains(string(data), " "+testWorkFactor+"\n") {
		t.Fatalf("age header does not carry work factor %s: %q", testWorkFactor, data[:min(len(data), 120)])
	}
	st := f.mustManage(nil, OpStatus, nil)
	if st["encrypted"] != "true" {
		t.Fatalf("status %v", st)
	}

	// A fresh signer needs the password.
	g := newFixture(t, nil)
	g.path = f.path
	if _, err := g.s.Configure(context.Background(), &sdk.ConfigureRequest{Settings: map[string]string{SettingKeyFile: f.path}}); err != nil {
		t.Fatal(err)
	}
	_, err = g.address(nil)
	wantCodeErr(t, "no prompter", err, sdk.CodeMnemonicLocked)
	_, err = g.address(signertest.Secrets{sdk.SecretPassword: otherPassword})
	wantCodeErr(t, "wrong password", err, sdk.CodeWrongPassword)
	_, err = g.address(signertest.Secrets{sdk.SecretPassword: ""})
	wantCodeErr(t, "empty password", err, sdk.CodeEmptyPassword)
	if a, err := g.address(signertest.Secrets{sdk.SecretPassword: testPassword}); err != nil || a != fixtureAddress0(t) {
		t.Fatalf("right password: %s, %v", a.Hex(), err)
	}
	// Unlocked: no more questions.
	if _, err := g.address(nil); err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	g.mustManage(nil, OpLock, nil)
	_, err = g.address(nil)
	wantCodeErr(t, "after lock", err, sdk.CodeMnemonicLocked)
	g.mustManage(signertest.Secrets{sdk.SecretPassword: testPassword}, OpUnlock, nil)
	if _, err := g.address(nil); err != nil {
		t.Fatalf("after the unlock operation: %v", err)
	}
	f.rec.assertNoSecret(t, fixtureMnemonic, testPassword, otherPassword)
	g.rec.assertNoSecret(t, fixtureMnemonic, testPassword, otherPassword)
}

func TestImportRefusals(t *testing.T) {
	t.Parallel()
	var cases []struct {
		Name     string   `json:"name"`
		Mnemonic string   `json:"mnemonic"`
		Code     sdk.Code `json:"code"`
	}
	readJSON(t, "testdata/bad/mnemonics.json", &cases)
	if len(cases) < 8 {
		t.Fatalf("only %d bad mnemonics", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			_, err := NormalizeMnemonic(c.Mnemonic)
			wantCodeErr(t, "NormalizeMnemonic", err, c.Code)
			s, err := NewFromMnemonic(c.Mnemonic, "")
			wantCodeErr(t, "NewFromMnemonic", err, c.Code)
			if s != nil {
				t.Fatal("NewFromMnemonic returned a signer with its error")
			}
			for _, encrypt := range []string{"false", "true"} {
				f := newFixture(t, nil)
				_, err = f.manage(signertest.Secrets{sdk.SecretMnemonic: c.Mnemonic, sdk.SecretNewPassword: testPassword}, OpImport, map[string]string{"encrypt": encrypt})
				wantCodeErr(t, "import", err, c.Code)
				if len(f.snapshot()) != 0 {
					t.Fatalf("a refused import left files: %v", f.snapshot())
				}
				// The message names the problem, never the words.
				for _, w := range strings.Fields(c.Mnemonic) {
					if len(w) >= 4 {
						f.rec.assertNoSecret(t, w)
					}
				}
				f.rec.assertNoSecret(t, c.Mnemonic)
			}
		})
	}
	t.Run("empty new password", func(t *testing.T) {
		f := newFixture(t, nil)
		_, err := f.manage(signertest.Secrets{sdk.SecretMnemonic: fixtureMnemonic, sdk.SecretNewPassword: ""}, OpImport, map[string]string{"encrypt": "true"})
		wantCodeErr(t, "import", err, sdk.CodeEmptyPassword)
		if len(f.snapshot()) != 0 {
			t.Fatal("a refused import left files")
		}
	})
	t.Run("host cannot ask", func(t *testing.T) {
		f := newFixture(t, nil)
		_, err := f.manage(nil, OpImport, nil)
		wantCodeErr(t, "import", err, sdk.CodeNonInteractive)
		if len(f.snapshot()) != 0 {
			t.Fatal("a refused import left files")
		}
	})
}

func TestPasswordLifecycle(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	unchanged := func(what string, err error, code sdk.Code) {
		t.Helper()
		before := f.snapshot()
		wantCodeErr(t, what, err, code)
		if !sameSnapshot(before, f.snapshot()) {
			t.Fatalf("%s changed files", what)
		}
	}
	_, err := f.manage(signertest.Secrets{sdk.SecretNewPassword: testPassword}, OpSetPassword, nil)
	wantCodeErr(t, "set-password without a mnemonic", err, sdk.CodeMissingMnemonic)

	f.mustManage(signertest.Secrets{sdk.SecretMnemonic: fixtureMnemonic}, OpImport, nil)
	before := f.snapshot()
	_, err = f.manage(signertest.Secrets{}, OpChangePassword, nil)
	wantCodeErr(t, "change-password on plaintext", err, sdk.CodeNotEncrypted)
	_, err = f.manage(signertest.Secrets{}, OpRemovePassword, nil)
	wantCodeErr(t, "remove-password on plaintext", err, sdk.CodeNotEncrypted)
	_, err = f.manage(signertest.Secrets{sdk.SecretNewPassword: ""}, OpSetPassword, nil)
	wantCodeErr(t, "set-password with an empty password", err, sdk.CodeEmptyPassword)
	if !sameSnapshot(before, f.snapshot()) {
		t.Fatal("refused operations changed files")
	}

	if res := f.mustManage(signertest.Secrets{sdk.SecretNewPassword: testPassword}, OpSetPassword, nil); res["encrypted"] != "true" {
		t.Fatalf("set-password: %v", res)
	}
	if !bytes.HasPrefix(f.read(), []byte(ageMagic)) {
		t.Fatal("set-password left a plaintext file")
	}
	// The signer that set the password stays unlocked.
	if _, err := f.address(nil); err != nil {
		t.Fatalf("after set-password: %v", err)
	}
	_, err = f.manage(signertest.Secrets{sdk.SecretNewPassword: otherPassword}, OpSetPassword, nil)
	unchanged("set-password twice", err, sdk.CodeAlreadyEncrypted)
	_, err = f.manage(signertest.Secrets{sdk.SecretPassword: otherPassword, sdk.SecretNewPassword: "x"}, OpChangePassword, nil)
	unchanged("change-password with a wrong password", err, sdk.CodeWrongPassword)
	_, err = f.manage(signertest.Secrets{sdk.SecretPassword: testPassword, sdk.SecretNewPassword: ""}, OpChangePassword, nil)
	unchanged("change-password to an empty password", err, sdk.CodeEmptyPassword)
	_, err = f.manage(signertest.Secrets{sdk.SecretPassword: otherPassword}, OpRemovePassword, nil)
	unchanged("remove-password with a wrong password", err, sdk.CodeWrongPassword)
	_, err = f.manage(nil, OpChangePassword, nil)
	unchanged("change-password without a prompter", err, sdk.CodeNonInteractive)

	f.mustManage(signertest.Secrets{sdk.SecretPassword: testPassword, sdk.SecretNewPassword: otherPassword}, OpChangePassword, nil)
	g := newFixture(t, nil)
	g.s.Configure(context.Background(), &sdk.ConfigureRequest{Settings: map[string]string{SettingKeyFile: f.path}})
	_, err = g.address(signertest.Secrets{sdk.SecretPassword: testPassword})
	wantCodeErr(t, "old password after change", err, sdk.CodeWrongPassword)
	if a, err := g.address(signertest.Secrets{sdk.SecretPassword: otherPassword}); err != nil || a != fixtureAddress0(t) {
		t.Fatalf("new password after change: %s %v", a.Hex(), err)
	}

	if res := f.mustManage(signertest.Secrets{sdk.SecretPassword: otherPassword}, OpRemovePassword, nil); res["encrypted"] != "false" {
		t.Fatalf("remove-password: %v", res)
	}
	if string(f.read()) != fixtureMnemonic+"\n" {
		t.Fatal("remove-password did not write the plaintext mnemonic")
	}
	if res := f.mustManage(nil, OpRemove, nil); res["removed"] != "true" {
		t.Fatalf("remove: %v", res)
	}
	if _, err := os.Stat(f.path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("remove left the key file")
	}
	_, err = f.address(nil)
	wantCodeErr(t, "address after remove", err, sdk.CodeMissingMnemonic)
	f.rec.assertNoSecret(t, fixtureMnemonic, testPassword, otherPassword)
	g.rec.assertNoSecret(t, fixtureMnemonic, testPassword, otherPassword)
}

// TestDefaultWorkFactor checks that without the setting, the key file is
// encrypted with age's default work factor.
func TestDefaultWorkFactor(t *testing.T) {
	t.Parallel()
	f := &fixture{t: t, s: New(), path: filepath.Join(t.TempDir(), "mnemonic")}
	if _, err := f.s.Configure(context.Background(), &sdk.ConfigureRequest{Settings: map[string]string{SettingKeyFile: f.path}}); err != nil {
		t.Fatal(err)
	}
	f.mustManage(signertest.Secrets{sdk.SecretMnemonic: fixtureMnemonic, sdk.SecretNewPassword: testPassword}, OpImport, map[string]string{"encrypt": "true"})
	if !strings.Contains(string(f.read()), " 18\n") || DefaultScryptWorkFactor != 18 {
		t.Fatalf("age header does not carry age's default work factor 18: %q", f.read()[:80])
	}
}

func TestKeyFileReplacedOnDisk(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.mustManage(signertest.Secrets{sdk.SecretMnemonic: fixtureMnemonic}, OpImport, nil)
	a1, err := f.address(nil)
	if err != nil {
		t.Fatal(err)
	}
	// Another process imports another mnemonic into the same file.
	g := newFixture(t, nil)
	g.s.Configure(context.Background(), &sdk.ConfigureRequest{Settings: map[string]string{SettingKeyFile: f.path}})
	g.mustManage(signertest.Secrets{sdk.SecretMnemonic: "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"}, OpImport, map[string]string{"replace": "true"})
	a2, err := f.address(nil)
	if err != nil {
		t.Fatal(err)
	}
	if a1 == a2 {
		t.Fatal("the signer kept using the key it had read before the file was replaced")
	}
}

func TestPassphraseSources(t *testing.T) {
	t.Parallel()
	const pass = "TREZOR passphrase ü"
	want := memSigner(t, fixtureMnemonic, pass)
	wresp, err := want.Accounts(context.Background(), &sdk.AccountsRequest{Indices: []uint32{0}})
	if err != nil {
		t.Fatal(err)
	}
	keyFile := plainKeyFile(t, fixtureMnemonic)
	passFile := filepath.Join(t.TempDir(), "passphrase")
	if err := os.WriteFile(passFile, []byte(pass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		settings map[string]string
		p        sdk.Prompter
	}{
		"file":   {map[string]string{SettingKeyFile: keyFile, SettingPassphraseFile: passFile}, nil},
		"prompt": {map[string]string{SettingKeyFile: keyFile, SettingPassphrase: "prompt"}, signertest.Secrets{sdk.SecretPassphrase: pass}},
	} {
		s := New()
		if _, err := s.Configure(context.Background(), &sdk.ConfigureRequest{Settings: tc.settings}); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if tc.p != nil {
			ctx = sdk.WithPrompter(ctx, tc.p)
		}
		resp, err := s.Accounts(ctx, &sdk.AccountsRequest{Indices: []uint32{0}})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if resp.Accounts[0].Address != wresp.Accounts[0].Address {
			t.Fatalf("%s: %s, want %s", name, resp.Accounts[0].Address.Hex(), wresp.Accounts[0].Address.Hex())
		}
	}
	// Without the passphrase the wallet is a different one.
	if resp, _ := memSigner(t, fixtureMnemonic, "").Accounts(context.Background(), &sdk.AccountsRequest{Indices: []uint32{0}}); resp.Accounts[0].Address == wresp.Accounts[0].Address {
		t.Fatal("the passphrase made no difference")
	}
}

func TestIndexPathSetting(t *testing.T) {
	t.Parallel()
	s := New()
	keyFile := plainKeyFile(t, fixtureMnemonic)
	if _, err := s.Configure(context.Background(), &sdk.ConfigureRequest{Settings: map[string]string{SettingKeyFile: keyFile, SettingIndexPath: "m/44'/60'/{index}'/0/0"}}); err != nil {
		t.Fatal(err)
	}
	resp, err := s.Accounts(context.Background(), &sdk.AccountsRequest{Paths: []string{"m/44'/60'/1'/0/0"}, Indices: []uint32{1}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Accounts[1].Path != "m/44'/60'/1'/0/0" || resp.Accounts[0].Address != resp.Accounts[1].Address {
		t.Fatalf("index 1 under the Ledger Live template: %+v", resp.Accounts)
	}
}

func TestConfigureAndManageRefusals(t *testing.T) {
	t.Parallel()
	var cases []struct {
		Name     string            `json:"name"`
		Settings map[string]string `json:"settings"`
		Code     sdk.Code          `json:"code"`
	}
	readJSON(t, "testdata/bad/settings.json", &cases)
	for _, c := range cases {
		s := New()
		_, err := s.Configure(context.Background(), &sdk.ConfigureRequest{Settings: c.Settings})
		wantCodeErr(t, c.Name, err, c.Code)
		if v := c.Settings["passphrase"]; v != "" && v != "prompt" && strings.Contains(err.Error(), v) {
			t.Fatalf("%s: the value is echoed: %v", c.Name, err)
		}
		// A refused Configure leaves the signer unconfigured.
		_, err = s.Accounts(context.Background(), &sdk.AccountsRequest{Indices: []uint32{0}})
		wantCodeErr(t, c.Name+": Accounts after a refused Configure", err, sdk.CodeNotConfigured)
	}
	f := newFixture(t, nil)
	_, err := f.manage(nil, "export", nil)
	wantCodeErr(t, "unknown operation", err, sdk.CodeUnsupported)
	_, err = f.manage(nil, OpImport, map[string]string{"mnemonic": "all"})
	wantCodeErr(t, "unknown parameter", err, sdk.CodeInvalidRequest)
	_, err = f.manage(nil, OpImport, map[string]string{"encrypt": "yes"})
	wantCodeErr(t, "bad parameter value", err, sdk.CodeInvalidRequest)
	_, err = New().Manage(context.Background(), &sdk.ManageRequest{Op: OpStatus})
	wantCodeErr(t, "status before Configure", err, sdk.CodeNotConfigured)
	m := memSigner(t, fixtureMnemonic, "")
	_, err = m.Manage(context.Background(), &sdk.ManageRequest{Op: OpStatus})
	wantCodeErr(t, "manage on an in-memory signer", err, sdk.CodeUnsupported)
	_, err = m.Configure(context.Background(), &sdk.ConfigureRequest{Settings: map[string]string{SettingKeyFile: "x"}})
	wantCodeErr(t, "configure on an in-memory signer", err, sdk.CodeUnsupported)
}

func TestDamagedKeyFiles(t *testing.T) {
	t.Parallel()
	for name, content := range map[string][]byte{
		"not a mnemonic":     []byte("hello world\n"),
		"truncated age file": []byte(ageMagic + "-> scrypt abc 10\n"),
		"huge":               bytes.Repeat([]byte("all "), maxKeyFileSize),
	} {
		p := filepath.Join(t.TempDir(), "mnemonic")
		if err := os.WriteFile(p, content, 0o600); err != nil {
			t.Fatal(err)
		}
		s := New()
		s.Configure(context.Background(), &sdk.ConfigureRequest{Settings: map[string]string{SettingKeyFile: p}})
		ctx := sdk.WithPrompter(context.Background(), signertest.Secrets{sdk.SecretPassword: testPassword})
		_, err := s.Accounts(ctx, &sdk.AccountsRequest{Indices: []uint32{0}})
		code := sdk.CodeOf(err)
		if code != "STATE_CORRUPT" && code != sdk.CodeInvalidMnemonic {
			t.Errorf("%s: %v, want STATE_CORRUPT or INVALID_MNEMONIC", name, err)
		}
		if b, _ := os.ReadFile(p); !bytes.Equal(b, content) {
			t.Errorf("%s: the damaged file was changed", name)
		}
	}
}
