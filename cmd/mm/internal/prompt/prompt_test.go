package prompt

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

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

func TestReadSecretLine(t *testing.T) {
	for _, c := range []struct {
		in, want string
		err      error
	}{
		{"hunter2\r", "hunter2", nil},
		{"hunter2\n", "hunter2", nil},
		{"hunx\x7fter2\r", "hunter2", nil},    // Backspace
		{"héé\x7f\r", "hé", nil},              // a whole character
		{"junk\x15hunter2\r", "hunter2", nil}, // Ctrl-U
		{"hun\x1b[Dter2\r", "hunter2", nil},   // an arrow key is dropped
		{"hunter2\x04\r", "hunter2", nil},     // Ctrl-D inside a line
		{"\x04", "", io.EOF},                  // Ctrl-D: no answer
		{"", "", io.EOF},                      // end of input
		{"hun\x03ter2\r", "", errInterrupted},
		{"\x01\x02a\tb\r", "a\tb", nil},
		{strings.Repeat("a", maxSecret+1) + "\r", "", errors.New("")},
	} {
		got, err := readSecretLine(strings.NewReader(c.in))
		switch {
		case c.err == nil && (err != nil || string(got) != c.want):
			t.Errorf("%q: %q %v, want %q", c.in, got, err, c.want)
		case c.err != nil && c.err.Error() != "" && !errors.Is(err, c.err):
			t.Errorf("%q: %v, want %v", c.in, err, c.err)
		case c.err != nil && err == nil:
			t.Errorf("%q: no error", c.in)
		}
	}
}

// TestHiddenPIN asks for a device PIN on a pseudo-terminal: the keypad is
// drawn, the answer is not echoed, Ctrl-D declines and Ctrl-C interrupts.
func TestHiddenPIN(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	defer tty.Close()
	echoed := &syncBuffer{} // what the terminal sends back
	go func() { _, _ = io.Copy(echoed, ptmx) }()
	out := &syncBuffer{}
	p := &Terminal{In: tty, Out: out}
	asked := 0
	ask := func(typed string) (*sdk.SecretResponse, error) {
		asked++
		n := asked
		go func() {
			// Type once the question shows: the terminal is raw by then.
			for strings.Count(out.String(), "PIN of your Trezor Model One: ") < n {
				time.Sleep(time.Millisecond)
			}
			_, _ = ptmx.WriteString(typed)
		}()
		return p.RequestSecret(context.Background(), &sdk.SecretRequest{Kind: sdk.SecretPIN, Prompt: "PIN of your Trezor Model One", Hint: "positions, not digits"})
	}
	r, err := ask("7391\r")
	if err != nil || string(r.Secret) != "7391" {
		t.Fatalf("PIN: %v %q", err, r)
	}
	shown := out.String()
	for _, want := range []string{"positions, not digits\n", "7 | 8 | 9", "4 | 5 | 6", "1 | 2 | 3", "PIN of your Trezor Model One: "} {
		if !strings.Contains(shown, want) {
			t.Errorf("the prompt lacks %q:\n%s", want, shown)
		}
	}
	if _, err := ask("\x04"); sdk.CodeOf(err) != sdk.CodeUserRejected {
		t.Errorf("Ctrl-D: %v", err)
	}
	if _, err := ask("12\x03"); sdk.CodeOf(err) != sdk.CodeCanceled {
		t.Errorf("Ctrl-C: %v", err)
	}
	// Nothing typed came back through the terminal (no echo).
	if bytes.Contains([]byte(echoed.String()), []byte("7391")) {
		t.Errorf("the terminal echoed the PIN: %q", echoed.String())
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
