// Package prompt is mm's sdk.Prompter: how a signer reaches the person at
// the terminal.
//
// Secrets come from an environment variable named per kind (MM_PASSWORD for
// a password, MM_MNEMONIC for a mnemonic) or from the terminal with echo
// off; nothing else. Questions and notices go to stderr, never stdout, so
// results stay machine-readable. Without a terminal, a question that no
// environment variable answers fails with NON_INTERACTIVE. No secret is ever
// written anywhere by this package.
package prompt

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/mm-wallet/mm/sdk"
)

// Error codes of this package.
const (
	CodePasswordMismatch sdk.Code = "PASSWORD_MISMATCH"
)

// PINKeypad is shown before a device PIN is asked on the host. A device
// whose PIN is typed on the computer (the Trezor One) shows the digits 1-9
// in a scrambled 3×3 grid that changes every time; the computer never sees
// the digits, only the positions the user types, on the layout of a numeric
// keypad. Typing the digits themselves is the usual mistake (PIN_INVALID).
const PINKeypad = `
  Look at your device: it shows the digits in a scrambled grid.
  For each digit of your PIN, type the POSITION where the device shows it,
  using this layout (as on a numeric keypad), not the digit itself:

        7 | 8 | 9
       ---+---+---
        4 | 5 | 6
       ---+---+---
        1 | 2 | 3

  Example: if your PIN starts with the digit shown in the top-left cell,
  type 7 first. Nothing you type is shown.

`

// Terminal is an sdk.Prompter for a command-line host.
type Terminal struct {
	// In is the terminal to read answers from, nil when there is none.
	In *os.File
	// Out receives prompts and notices (stderr).
	Out io.Writer
	// LookupEnv looks up environment variables. A variable that is set but
	// empty answers with an empty secret (which signers refuse as
	// EMPTY_PASSWORD), so "set to nothing" is never mistaken for "unset".
	LookupEnv func(string) (string, bool)
	// Env names the variable that answers each secret kind. A kind absent
	// from the map is only asked on the terminal.
	Env map[sdk.SecretKind]string
	// Used records which variables answered a question, for callers that
	// must tell the user (never the values).
	Used []string

	// ReadSecret and ReadLine, when set, replace the terminal reads (the
	// REPL routes them through its line editor, which owns the terminal).
	ReadSecret func(prompt string) ([]byte, error)
	ReadLine   func(prompt string) (string, error)

	mu      sync.Mutex
	waiting map[string]time.Time
	reader  *bufio.Reader
}

var _ sdk.Prompter = (*Terminal)(nil)

// DefaultEnv is the usual mapping: MM_PASSWORD answers both the current and
// a new password, MM_MNEMONIC a mnemonic.
func DefaultEnv() map[sdk.SecretKind]string {
	return map[sdk.SecretKind]string{
		sdk.SecretPassword:    "MM_PASSWORD",
		sdk.SecretNewPassword: "MM_PASSWORD",
		sdk.SecretMnemonic:    "MM_MNEMONIC",
	}
}

// Notify writes an informational line to Out.
func (t *Terminal) Notify(_ context.Context, req *sdk.NotifyRequest) (*sdk.NotifyResponse, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	prefix := ""
	if req.Level == sdk.LevelWarning {
		prefix = "warning: "
	}
	fmt.Fprintf(t.Out, "%s%s\n", prefix, oneLine(req.Message))
	return &sdk.NotifyResponse{}, nil
}

// RequestSecret answers from the environment, else asks on the terminal with
// echo off. A new password is asked twice; differing entries are
// PASSWORD_MISMATCH.
func (t *Terminal) RequestSecret(ctx context.Context, req *sdk.SecretRequest) (*sdk.SecretResponse, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if name := t.Env[req.Kind]; name != "" && t.LookupEnv != nil {
		if v, ok := t.LookupEnv(name); ok {
			t.Used = append(t.Used, name)
			s := []byte(v)
			if req.Kind == sdk.SecretMnemonic {
				s = []byte(strings.Join(strings.Fields(v), " "))
			}
			return &sdk.SecretResponse{Secret: s}, nil
		}
	}
	if t.In == nil {
		hint := "run mm in a terminal to be asked"
		if name := t.Env[req.Kind]; name != "" {
			hint = "set " + name + " for this command, or run mm in a terminal to be asked"
		}
		return nil, sdk.NewError(sdk.CodeNonInteractive, fmt.Sprintf("a %s is needed and there is no terminal to ask on", kindName(req.Kind)), hint)
	}
	label := req.Prompt
	if label == "" {
		label = defaultLabel(req.Kind)
	}
	if req.Hint != "" {
		fmt.Fprintln(t.Out, oneLine(req.Hint))
	}
	if req.Kind == sdk.SecretPIN {
		fmt.Fprint(t.Out, PINKeypad)
	}
	first, err := t.readHidden(ctx, label+": ")
	if err != nil {
		return nil, err
	}
	if req.Kind == sdk.SecretNewPassword {
		second, err := t.readHidden(ctx, "Repeat "+strings.ToLower(label[:1])+label[1:]+": ")
		if err != nil {
			clear(first)
			return nil, err
		}
		same := bytes.Equal(first, second)
		clear(second)
		if !same {
			clear(first)
			return nil, sdk.NewError(CodePasswordMismatch, "the two passwords differ", "type the same password twice")
		}
	}
	if req.Kind == sdk.SecretMnemonic {
		norm := []byte(strings.Join(strings.Fields(string(first)), " "))
		clear(first)
		first = norm
	}
	return &sdk.SecretResponse{Secret: first}, nil
}

// Confirm asks a yes/no question; the default answer is no.
func (t *Terminal) Confirm(ctx context.Context, req *sdk.ConfirmRequest) (*sdk.ConfirmResponse, error) {
	ok, err := t.YesNo(ctx, req.Prompt, false)
	if err != nil {
		return nil, err
	}
	return &sdk.ConfirmResponse{Confirmed: ok}, nil
}

// YesNo asks a yes/no question with the given default answer.
func (t *Terminal) YesNo(ctx context.Context, question string, def bool) (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.In == nil {
		return false, sdk.NewError(sdk.CodeNonInteractive, "a confirmation is needed and there is no terminal to ask on", "pass --yes where the command offers it")
	}
	choices := " [y/N] "
	if def {
		choices = " [Y/n] "
	}
	line, err := t.readLine(ctx, oneLine(question)+choices)
	if err != nil {
		return false, err
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	case "n", "no":
		return false, nil
	case "":
		return def, nil
	}
	return false, nil
}

// WaitingForUser prints the device instruction once, and how long it took
// when the wait ends.
func (t *Terminal) WaitingForUser(_ context.Context, req *sdk.WaitingRequest) (*sdk.WaitingResponse, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.waiting == nil {
		t.waiting = map[string]time.Time{}
	}
	if !req.Done {
		t.waiting[req.Device] = time.Now()
		fmt.Fprintf(t.Out, "%s…\n", oneLine(req.Message))
		return &sdk.WaitingResponse{}, nil
	}
	delete(t.waiting, req.Device)
	return &sdk.WaitingResponse{}, nil
}

// Choose shows a numbered picker on the terminal and returns the chosen
// option. def is the index chosen by an empty answer (-1: none).
func (t *Terminal) Choose(ctx context.Context, question string, options []string, descriptions []string, def int) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.In == nil {
		return "", sdk.NewError(sdk.CodeNonInteractive, "a choice is needed and there is no terminal to ask on", "pass the choice as a flag")
	}
	for attempt := 0; attempt < 3; attempt++ {
		fmt.Fprintln(t.Out, oneLine(question))
		for i, o := range options {
			d := ""
			if i < len(descriptions) && descriptions[i] != "" {
				d = " — " + descriptions[i]
			}
			mark := " "
			if i == def {
				mark = "*"
			}
			fmt.Fprintf(t.Out, " %s %d) %s%s\n", mark, i+1, o, d)
		}
		ask := fmt.Sprintf("Choose 1-%d", len(options))
		if def >= 0 {
			ask += fmt.Sprintf(" [%d]", def+1)
		}
		line, err := t.readLine(ctx, ask+": ")
		if err != nil {
			return "", err
		}
		line = strings.TrimSpace(line)
		if line == "" && def >= 0 {
			return options[def], nil
		}
		if n, err := strconv.Atoi(line); err == nil && n >= 1 && n <= len(options) {
			return options[n-1], nil
		}
		for _, o := range options {
			if strings.EqualFold(line, o) {
				return o, nil
			}
		}
		fmt.Fprintf(t.Out, "%q is not one of the choices\n", oneLine(line))
	}
	return "", sdk.NewError(sdk.CodeUserRejected, "no valid choice made", "answer with the number of a choice")
}

// readHidden reads one line with echo off. Ctrl-C cancels (CANCELED), as
// does the end of ctx; Ctrl-D on an empty line declines to answer
// (USER_REJECTED).
func (t *Terminal) readHidden(ctx context.Context, label string) ([]byte, error) {
	if t.ReadSecret != nil {
		b, err := t.ReadSecret(label)
		if err != nil {
			return nil, sdk.NewError(sdk.CodeUserRejected, "no answer given", "")
		}
		return b, nil
	}
	// Raw mode: no echo, and the keys that would otherwise be signals or
	// line discipline (Ctrl-C, Ctrl-D) reach readSecretLine, which gives
	// them their meaning whatever the platform's terminal does with EOF.
	// It is on before the question shows, so no early key is echoed.
	fd := int(t.In.Fd())
	old, err := term.MakeRaw(fd)
	if err != nil {
		return nil, sdk.NewError(sdk.CodeNonInteractive, "cannot turn off the terminal's echo: "+err.Error(), "run mm in a terminal to be asked")
	}
	restore := sync.OnceFunc(func() { _ = term.Restore(fd, old) })
	defer restore()
	fmt.Fprint(t.Out, label)
	type result struct {
		b   []byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		b, err := readSecretLine(t.In)
		ch <- result{b, err}
	}()
	select {
	case <-ctx.Done():
		restore()
		fmt.Fprintln(t.Out)
		return nil, sdk.NewError(sdk.CodeCanceled, "interrupted", "")
	case r := <-ch:
		restore()
		fmt.Fprintln(t.Out)
		switch {
		case errors.Is(r.err, errInterrupted):
			return nil, sdk.NewError(sdk.CodeCanceled, "interrupted", "")
		case r.err != nil:
			return nil, sdk.NewError(sdk.CodeUserRejected, "no answer given", "")
		}
		return r.b, nil
	}
}

func (t *Terminal) readLine(ctx context.Context, label string) (string, error) {
	if t.ReadLine != nil {
		s, err := t.ReadLine(label)
		if err != nil {
			return "", sdk.NewError(sdk.CodeUserRejected, "no answer given", "")
		}
		return s, nil
	}
	fmt.Fprint(t.Out, label)
	if t.reader == nil {
		t.reader = bufio.NewReader(t.In)
	}
	type result struct {
		s   string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		s, err := t.reader.ReadString('\n')
		ch <- result{s, err}
	}()
	select {
	case <-ctx.Done():
		fmt.Fprintln(t.Out)
		return "", sdk.NewError(sdk.CodeCanceled, "interrupted", "")
	case r := <-ch:
		if r.err != nil && r.s == "" {
			fmt.Fprintln(t.Out)
			return "", sdk.NewError(sdk.CodeUserRejected, "no answer given", "")
		}
		return strings.TrimRight(r.s, "\r\n"), nil
	}
}

func kindName(k sdk.SecretKind) string {
	switch k {
	case sdk.SecretNewPassword:
		return "new password"
	case sdk.SecretPIN:
		return "PIN"
	case "":
		return "secret"
	}
	return string(k)
}

func defaultLabel(k sdk.SecretKind) string {
	switch k {
	case sdk.SecretPassword:
		return "Password"
	case sdk.SecretNewPassword:
		return "New password"
	case sdk.SecretMnemonic:
		return "Mnemonic (words separated by spaces)"
	case sdk.SecretPIN:
		return "PIN"
	case sdk.SecretPassphrase:
		return "Passphrase"
	}
	return "Secret"
}

// oneLine keeps a message from a signer on one line and strips control
// characters, so a plugin cannot draw on the terminal.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return -1
		}
		return r
	}, s)
	if len(s) > 500 {
		s = s[:500] + "…"
	}
	return s
}
