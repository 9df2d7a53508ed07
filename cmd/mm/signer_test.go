package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/google/uuid"
)

// TestSignerPlugins takes a third-party plugin (the keystore example of the
// SDK, built here as its author would) through mm signer
// install/list/inspect/remove, signs with it as the wallet of an mm init,
// and checks that an unpinned or tampered binary never runs.
func TestSignerPlugins(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "path", "mm-signer-keystore")
	build := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, "./sdk/examples/keystore/cmd/mm-signer-keystore")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the keystore plugin: %v\n%s", err, out)
	}
	// A keystore v3 file with light scrypt, password "ks-password".
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	addr := crypto.PubkeyToAddress(key.PublicKey)
	ksJSON, err := keystore.EncryptKey(&keystore.Key{Id: uuid.New(), Address: addr, PrivateKey: key}, "ks-password", keystore.LightScryptN, keystore.LightScryptP)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "key.json")
	if err := os.WriteFile(keyFile, ksJSON, 0o600); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(dir, "mm")
	pathEnv := "MM_PLUGIN_PATH=" + filepath.Dir(bin)
	mustOK := func(r result) result {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		return r
	}
	wantCode := func(r result, code string) {
		t.Helper()
		if got := errCode(r); got != code {
			t.Fatalf("got %q (exit %d), want %s\n%s%s", got, r.code, code, r.stdout, r.stderr)
		}
	}

	// Built-ins are listed; the unpinned binary on MM_PLUGIN_PATH is listed
	// as such and refused.
	r := mustOK(runMM(t, home, []string{pathEnv}, nil, "signer", "list"))
	var l signerList
	if err := json.Unmarshal(r.stdout, &l); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, p := range l.Signers {
		names[p.Name] = true
		if p.Name == "keystore" && p.Pinned {
			t.Error("the keystore plugin is pinned before install")
		}
	}
	for _, n := range []string{"byok", "ledger", "trezor", "keystore"} {
		if !names[n] {
			t.Errorf("signer list lacks %s: %s", n, r.stdout)
		}
	}
	wantCode(runMM(t, home, []string{pathEnv}, nil, "signer", "inspect", "keystore"), "PLUGIN_NOT_PINNED")
	wantCode(runMM(t, home, nil, nil, "signer", "inspect", "nosuch"), "PLUGIN_NOT_FOUND")
	wantCode(runMM(t, home, nil, nil, "signer", "inspect", "../evil"), "INVALID_PLUGIN_NAME")
	wantCode(runMM(t, home, nil, nil, "signer", "remove", "byok"), "INVALID_PLUGIN_NAME")

	// Install pins the SHA-256 of the file.
	r = mustOK(runMM(t, home, nil, nil, "signer", "install", bin))
	data, _ := os.ReadFile(bin)
	sum := sha256.Sum256(data)
	var p struct {
		Name   string `json:"name"`
		SHA256 string `json:"sha256"`
		Path   string `json:"path"`
	}
	if err := json.Unmarshal(r.stdout, &p); err != nil {
		t.Fatal(err)
	}
	if p.Name != "keystore" || p.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("install: %s", r.stdout)
	}
	r = mustOK(runMM(t, home, nil, nil, "signer", "inspect", "keystore"))
	var ins signerInspect
	if err := json.Unmarshal(r.stdout, &ins); err != nil {
		t.Fatal(err)
	}
	if ins.Info == nil || ins.Info.Capabilities.TypedData != "hashed-only" || !ins.Plugin.Matches {
		t.Fatalf("inspect: %s", r.stdout)
	}
	r = mustOK(runMM(t, home, nil, nil, "signer", "list", "--format", "text"))
	if !strings.Contains(string(r.stdout), "keystore     installed  sha256:"+p.SHA256[:16]) {
		t.Errorf("text list: %s", r.stdout)
	}

	// The plugin as the wallet: the password reaches it through the
	// prompter (MM_PASSWORD), settings through --setting.
	pw := []string{"MM_PASSWORD=ks-password"}
	wantCode(runMM(t, home, pw, nil, "init", "--wallet", "keystore", "--mode", "guard", "--setting", "password=x"), "SECRET_ON_COMMAND_LINE")
	r = mustOK(runMM(t, home, pw, nil, "init", "--wallet", "keystore", "--mode", "guard", "--setting", "keyFile="+keyFile))
	var ir initResult
	_ = json.Unmarshal(r.stdout, &ir)
	if ir.Address != addr.Hex() || ir.Signer != "keystore" {
		t.Fatalf("init: %s", r.stdout)
	}
	r = mustOK(runMM(t, home, pw, nil, "wallet", "sign-message", "--message", "hello", "--chain-id", "1"))
	var sig signatureResult
	_ = json.Unmarshal(r.stdout, &sig)
	raw, err := hexutil.Decode(sig.Signature)
	if err != nil || len(raw) != 65 {
		t.Fatalf("signature %q", sig.Signature)
	}
	raw[64] -= 27
	pub, err := crypto.SigToPub(accounts.TextHash([]byte("hello")), raw)
	if err != nil || crypto.PubkeyToAddress(*pub) != addr {
		t.Fatal("the plugin's signature does not recover to its key")
	}
	// Hashed-only typed data: mm computes the hashes, the plugin signs them.
	mustOK(runMM(t, home, pw, nil, "wallet", "sign-typed-data", "--chain-id", "1", "--payload-file", "testdata/mail.json"))
	wantCode(runMM(t, home, []string{"MM_PASSWORD=nope-nope"}, nil, "wallet", "sign-message", "--message", "hello", "--chain-id", "1"), "WRONG_PASSWORD")
	// keystore has no mnemonic: password commands do not apply.
	wantCode(runMM(t, home, pw, nil, "wallet", "password", "set"), "WRONG_WALLET_MODE")

	// Removing the signer in use needs --force.
	wantCode(runMM(t, home, nil, nil, "signer", "remove", "keystore"), "SIGNER_IN_USE")

	// A tampered installed binary never runs.
	f, err := os.OpenFile(p.Path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write([]byte("tampered"))
	f.Close()
	wantCode(runMM(t, home, pw, nil, "wallet", "sign-message", "--message", "hello", "--chain-id", "1"), "PLUGIN_CHECKSUM_MISMATCH")
	r = mustOK(runMM(t, home, nil, nil, "signer", "list"))
	_ = json.Unmarshal(r.stdout, &l)
	for _, p := range l.Signers {
		if p.Name == "keystore" && p.Matches {
			t.Error("list says the tampered plugin matches its pin")
		}
	}

	mustOK(runMM(t, home, nil, nil, "signer", "remove", "keystore", "--force"))
	if _, err := os.Stat(p.Path); !os.IsNotExist(err) {
		t.Error("remove left the executable")
	}
	wantCode(runMM(t, home, nil, nil, "signer", "remove", "keystore", "--force"), "PLUGIN_NOT_FOUND")

}
