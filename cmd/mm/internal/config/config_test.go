package config

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/mm-wallet/mm/core/state"
	"github.com/mm-wallet/mm/sdk"
)

func TestSetGetValidate(t *testing.T) {
	st, err := state.Open(filepath.Join(t.TempDir(), "mm"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cases := []struct {
		key, val string
		code     sdk.Code
		want     any
	}{
		{"walletTimeoutSeconds", "1", "", int64(1)},
		{"walletTimeoutSeconds", "600", "", int64(600)},
		{"walletTimeoutSeconds", "601", CodeInvalidValue, nil},
		{"walletTimeoutSeconds", "-1", CodeInvalidValue, nil},
		{"verbose", "yes", "", true},
		{"format", "toon", "", "toon"},
		{"format", "xml", CodeInvalidValue, nil},
		{"env", "staging", "", "staging"},
		{"rpc.137", "https://polygon.example", "", "https://polygon.example"},
		{"rpc.0137", "https://x.example", CodeInvalidKey, nil},
		{"rpc.", "https://x.example", CodeInvalidKey, nil},
		{"rpc.1", "https://u:p@x.example", CodeInvalidValue, nil},
		{"nope", "1", CodeInvalidKey, nil},
	}
	for _, c := range cases {
		got, err := Set(ctx, st, c.key, c.val)
		if sdk.CodeOf(err) != c.code {
			t.Errorf("%s=%s: code %q, want %q (%v)", c.key, c.val, sdk.CodeOf(err), c.code, err)
			continue
		}
		if c.code == "" && got != c.want {
			t.Errorf("%s=%s: stored %v (%T), want %v", c.key, c.val, got, got, c.want)
		}
	}
	vals, err := Load(st)
	if err != nil {
		t.Fatal(err)
	}
	if v, fromFile, _ := vals.Effective("walletTimeoutSeconds"); !fromFile || vals.String("walletTimeoutSeconds") != "600" {
		t.Errorf("walletTimeoutSeconds = %v (from file %v)", v, fromFile)
	}
	if err := Unset(ctx, st, "walletTimeoutSeconds"); err != nil {
		t.Fatal(err)
	}
	vals, _ = Load(st)
	if v, fromFile, _ := vals.Effective("walletTimeoutSeconds"); fromFile || v != int64(120) {
		t.Errorf("after unset: %v from file %v", v, fromFile)
	}
	fi, err := os.Stat(st.Path(FileName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("config.json mode: %v %v", fi, err)
	}
}

func TestRegisterDuplicatePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("registering a key twice must panic")
		}
	}()
	Register(Key{Name: "env", Parse: OneOf("x")})
}
