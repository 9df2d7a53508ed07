package prompt

import (
	"bytes"
	"context"
	"testing"

	"github.com/mm-wallet/mm/sdk"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestSecretsFromEnvironment(t *testing.T) {
	var out bytes.Buffer
	p := &Terminal{Out: &out, LookupEnv: env(map[string]string{"MM_PASSWORD": "pw", "MM_MNEMONIC": "  a   b\tc "}), Env: DefaultEnv()}
	ctx := context.Background()
	r, err := p.RequestSecret(ctx, &sdk.SecretRequest{Kind: sdk.SecretPassword})
	if err != nil || string(r.Secret) != "pw" {
		t.Fatalf("password: %v %q", err, r)
	}
	r, err = p.RequestSecret(ctx, &sdk.SecretRequest{Kind: sdk.SecretMnemonic})
	if err != nil || string(r.Secret) != "a b c" {
		t.Fatalf("mnemonic normalized: %v %q", err, r.Secret)
	}
	// A kind no variable answers, without a terminal.
	if _, err := p.RequestSecret(ctx, &sdk.SecretRequest{Kind: sdk.SecretPIN}); sdk.CodeOf(err) != sdk.CodeNonInteractive {
		t.Errorf("pin without terminal: %v", err)
	}
	// Set but empty is an empty secret, not "unset".
	p.LookupEnv = env(map[string]string{"MM_PASSWORD": ""})
	r, err = p.RequestSecret(ctx, &sdk.SecretRequest{Kind: sdk.SecretNewPassword})
	if err != nil || len(r.Secret) != 0 {
		t.Errorf("empty variable: %v %q", err, r)
	}
	p.LookupEnv = env(nil)
	if _, err := p.RequestSecret(ctx, &sdk.SecretRequest{Kind: sdk.SecretPassword}); sdk.CodeOf(err) != sdk.CodeNonInteractive {
		t.Errorf("unset, no terminal: %v", err)
	}
	if _, err := p.Confirm(ctx, &sdk.ConfirmRequest{Prompt: "ok?"}); sdk.CodeOf(err) != sdk.CodeNonInteractive {
		t.Errorf("confirm without terminal: %v", err)
	}
	if bytes.Contains(out.Bytes(), []byte("pw")) {
		t.Error("a secret reached the output")
	}
}

func TestNotifySanitizes(t *testing.T) {
	var out bytes.Buffer
	p := &Terminal{Out: &out}
	_, _ = p.Notify(context.Background(), &sdk.NotifyRequest{Level: sdk.LevelWarning, Message: "line1\nline2\x1b[2J\x07"})
	if got := out.String(); got != "warning: line1 line2[2J\n" {
		t.Errorf("notify: %q", got)
	}
}

func TestChooseWithoutTerminal(t *testing.T) {
	var out bytes.Buffer
	answers := []string{"x", "2"}
	p := &Terminal{Out: &out, In: nil}
	p.ReadLine = func(string) (string, error) { a := answers[0]; answers = answers[1:]; return a, nil }
	if _, err := p.Choose(context.Background(), "pick", []string{"a", "b"}, nil, 0); sdk.CodeOf(err) != sdk.CodeNonInteractive {
		t.Fatalf("choose without a terminal must refuse: %v", err)
	}
}
