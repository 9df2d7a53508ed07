package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/ethereum/go-ethereum/accounts"

	ledgeremu "github.com/mm-wallet/mm/hwtest/ledger"
	trezoremu "github.com/mm-wallet/mm/hwtest/trezor"
)

// ptyMM runs mm in a pseudo-terminal, as a person at a terminal would.
func ptyMM(t *testing.T, home string, args ...string) (*console, *exec.Cmd) {
	t.Helper()
	cmd := mmCmd(t, home, args...)
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 200})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return newConsole(t, f), cmd
}

// finish waits for mm to exit and returns its status and everything the
// terminal showed.
func finish(t *testing.T, c *console, cmd *exec.Cmd) (int, string) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("mm did not finish")
	}
	time.Sleep(20 * time.Millisecond) // the reader drains the terminal
	c.mu.Lock()
	defer c.mu.Unlock()
	return cmd.ProcessState.ExitCode(), c.all.String()
}

// TestTrezorPINTerminal types a Trezor One's PIN at mm's prompt, as the
// positions of its digits on the scrambled matrix the device shows (read
// here from the emulator): right, wrong (PIN_INVALID) and cancelled with
// Ctrl-D (USER_REJECTED). The keypad layout is drawn, nothing typed is
// echoed, and a failure signs and records nothing.
func TestTrezorPINTerminal(t *testing.T) {
	t.Parallel()
	const pin = "35718264"
	emu, uri := startTrezor(t, trezoremu.Options{Model: trezoremu.ModelOne, PIN: pin, Seed: 7})
	home := filepath.Join(t.TempDir(), "mm")
	var typed []string // everything typed at the prompt, to search the output for
	enterPIN := func(c *console, digits string) {
		t.Helper()
		out := c.expect("PIN of your Trezor Model One (positions on the scrambled grid): ")
		for _, want := range []string{"7 | 8 | 9", "4 | 5 | 6", "1 | 2 | 3", "POSITION"} {
			if !strings.Contains(out, want) {
				t.Errorf("the keypad explanation lacks %q:\n%s", want, out)
			}
		}
		pos, err := trezoremu.PinPositions(emu.PinMatrix(), digits)
		if err != nil {
			t.Fatal(err)
		}
		typed = append(typed, pos)
		c.send(pos + "\r")
	}

	// Right: mm init unlocks the device on the way.
	c, cmd := ptyMM(t, home, "init", "--wallet", "trezor", "--mode", "guard", "--device", uri)
	enterPIN(c, pin)
	code, out := finish(t, c, cmd)
	want := softAddress(t, trezoremu.DefaultMnemonic, "", "m/44'/60'/0'/0/0")
	if code != 0 || !strings.Contains(out, "address: "+want) {
		t.Fatalf("init with the PIN: exit %d\n%s", code, out)
	}

	sigs := emu.Stats().Signatures
	before, err := treeDigest(home)
	if err != nil {
		t.Fatal(err)
	}
	// Wrong: the positions of another PIN.
	emu.Lock()
	c, cmd = ptyMM(t, home, "wallet", "sign-message", "--message", "hello", "--chain-id", "1")
	enterPIN(c, "35718265")
	code, out = finish(t, c, cmd)
	if code != exitDenied || !strings.Contains(out, "(PIN_INVALID)") || !strings.Contains(out, "the PIN was wrong: type the positions") {
		t.Errorf("wrong PIN: exit %d\n%s", code, out)
	}
	// Cancelled: Ctrl-D at the prompt.
	c, cmd = ptyMM(t, home, "wallet", "sign-message", "--message", "hello", "--chain-id", "1")
	c.expect("PIN of your Trezor Model One")
	c.send("\x04")
	code, out = finish(t, c, cmd)
	if code != exitDenied || !strings.Contains(out, "(USER_REJECTED)") {
		t.Errorf("cancelled PIN: exit %d\n%s", code, out)
	}
	// Ctrl-C at the prompt: interrupted.
	c, cmd = ptyMM(t, home, "wallet", "sign-message", "--message", "hello", "--chain-id", "1")
	c.expect("PIN of your Trezor Model One")
	c.send("\x03")
	code, out = finish(t, c, cmd)
	if code != exitCanceled || !strings.Contains(out, "(CANCELED)") {
		t.Errorf("Ctrl-C at the PIN prompt: exit %d\n%s", code, out)
	}
	after, err := treeDigest(home)
	if err != nil {
		t.Fatal(err)
	}
	if mapString(before) != mapString(after) || emu.Stats().Signatures != sigs {
		t.Error("a failed PIN entry signed or recorded something")
	}

	// Right again: the signature is the device's.
	c, cmd = ptyMM(t, home, "wallet", "sign-message", "--message", "hello", "--chain-id", "1")
	enterPIN(c, pin)
	c.expect("confirm on your Trezor Model One…")
	code, out = finish(t, c, cmd)
	lines := strings.Fields(out)
	if code != 0 || len(lines) == 0 || !recovers(accounts.TextHash([]byte("hello")), lines[len(lines)-1], want) {
		t.Errorf("sign with the PIN: exit %d\n%s", code, out)
	}
	// A PIN is never shown, neither the digits nor the positions typed.
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range append(typed, pin) {
		if strings.Contains(out, s) {
			t.Errorf("the terminal showed %q", s)
		}
	}
}

// TestTrezorPassphraseTerminal types a passphrase at mm's prompt (echo off)
// on both profiles: it opens the hidden wallet of the seed and that
// passphrase (checked against the software signer); another passphrase is
// another wallet, which cannot sign for this one; without a terminal the
// passphrase cannot be asked (NON_INTERACTIVE). A Model T can take the
// passphrase on its own screen instead.
func TestTrezorPassphraseTerminal(t *testing.T) {
	t.Parallel()
	const passphrase = "correct horse battery"
	for _, model := range []trezoremu.Model{trezoremu.ModelOne, trezoremu.ModelT} {
		t.Run(string(model), func(t *testing.T) {
			t.Parallel()
			emu, uri := startTrezor(t, trezoremu.Options{Model: model, PassphraseProtection: true})
			home := filepath.Join(t.TempDir(), "mm")
			want := softAddress(t, trezoremu.DefaultMnemonic, passphrase, "m/44'/60'/0'/0/0")
			if want == softAddress(t, trezoremu.DefaultMnemonic, "", "m/44'/60'/0'/0/0") {
				t.Fatal("the passphrase changes nothing; the test would prove nothing")
			}
			c, cmd := ptyMM(t, home, "init", "--wallet", "trezor", "--mode", "guard", "--device", uri)
			c.expect("Passphrase for your " + emu.Name() + ": ")
			c.send(passphrase + "\r")
			code, out := finish(t, c, cmd)
			if code != 0 || !strings.Contains(out, "address: "+want) {
				t.Fatalf("init with a passphrase: exit %d\n%s", code, out)
			}
			if strings.Contains(out, passphrase) {
				t.Error("the passphrase was echoed")
			}
			// Every mm process opens a new session: asked again.
			c, cmd = ptyMM(t, home, "wallet", "sign-message", "--message", "hello", "--chain-id", "1")
			c.expect("Passphrase for your " + emu.Name() + ": ")
			c.send(passphrase + "\r")
			code, out = finish(t, c, cmd)
			lines := strings.Fields(out)
			if code != 0 || !recovers(accounts.TextHash([]byte("hello")), lines[len(lines)-1], want) {
				t.Errorf("sign with the passphrase: exit %d\n%s", code, out)
			}
			// Another passphrase opens another wallet: refused before the
			// device is asked to sign.
			sigs := emu.Stats().Signatures
			c, cmd = ptyMM(t, home, "wallet", "sign-message", "--message", "hello", "--chain-id", "1")
			c.expect("Passphrase for your " + emu.Name() + ": ")
			c.send("correct horse batter\r")
			code, out = finish(t, c, cmd)
			if code == 0 || !strings.Contains(out, "(UNKNOWN_ACCOUNT)") || !strings.Contains(out, "same passphrase") || emu.Stats().Signatures != sigs {
				t.Errorf("another passphrase: exit %d\n%s", code, out)
			}
			// No terminal: the passphrase cannot be asked.
			r := runMM(t, home, nil, nil, signHello...)
			if errCode(r) != "NON_INTERACTIVE" || r.code != exitNeedUser {
				t.Errorf("passphrase without a terminal: exit %d %s", r.code, r.stdout)
			}
		})
	}
	t.Run("on the device", func(t *testing.T) {
		t.Parallel()
		_, uri := startTrezor(t, trezoremu.Options{Model: trezoremu.ModelT, PassphraseProtection: true, DevicePassphrase: passphrase})
		_, ir := initHW(t, "trezor", uri, "--setting", "passphrase=device")
		if want := softAddress(t, trezoremu.DefaultMnemonic, passphrase, "m/44'/60'/0'/0/0"); ir.Address != want {
			t.Errorf("passphrase typed on the device: %s, want %s", ir.Address, want)
		}
	})
}

// TestLedgerCtrlC interrupts a signature while the Ledger waits for the
// user: exit 130, nothing signed, nothing recorded; the device works again
// afterwards.
func TestLedgerCtrlC(t *testing.T) {
	t.Parallel()
	emu, uri := startLedger(t, ledgeremu.Options{Model: "flex"})
	home, _ := initHW(t, "ledger", uri+"?model=flex")
	emu.SetConfirmDelay(time.Minute)
	sigs := func() int { return emu.Stats().Signatures }
	interrupt(t, home, nil, "review the message: confirm on your Ledger Flex…", sigs, signHello...)
	interrupt(t, home, nil, "review the typed data: confirm on your Ledger Flex…", sigs, signMail...)
	emu.SetConfirmDelay(0)
	if r := runMM(t, home, nil, nil, signHello...); r.code != 0 {
		t.Errorf("after Ctrl-C: %s %s", r.stdout, r.stderr)
	}
}
