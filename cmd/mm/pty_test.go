package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// mmCmd is this test binary acting as mm, with a fresh MM_HOME.
func mmCmd(t *testing.T, home string, args ...string) *exec.Cmd {
	t.Helper()
	// testscript.Main put a copy of this binary named "mm" on PATH; run as
	// that name, it is mm (and so are the signer plugins it re-executes).
	exe, err := exec.LookPath("mm")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "MM_HOME="+home, "TERM=xterm")
	cmd.Env = filterEnv(cmd.Env, "MM_PASSWORD", "MM_MNEMONIC", "NO_COLOR")
	return cmd
}

func filterEnv(env []string, drop ...string) []string {
	out := env[:0:0]
	for _, kv := range env {
		keep := true
		for _, d := range drop {
			if strings.HasPrefix(kv, d+"=") {
				keep = false
			}
		}
		if keep {
			out = append(out, kv)
		}
	}
	return out
}

// console collects everything a pseudo-terminal prints.
type console struct {
	t   *testing.T
	f   *os.File
	mu  sync.Mutex
	buf bytes.Buffer
	all bytes.Buffer // everything, for secret searches
}

func newConsole(t *testing.T, f *os.File) *console {
	c := &console{t: t, f: f}
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := f.Read(b)
			c.mu.Lock()
			c.buf.Write(b[:n])
			c.all.Write(b[:n])
			c.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return c
}

// expect waits until the output since the last expect contains s.
func (c *console) expect(s string) string {
	c.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		out := c.buf.String()
		if i := strings.Index(out, s); i >= 0 {
			c.buf.Next(i + len(s))
			c.mu.Unlock()
			return out[:i+len(s)]
		}
		c.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t.Fatalf("timed out waiting for %q; terminal shows:\n%q", s, c.buf.String())
	return ""
}

func (c *console) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.f, s); err != nil {
		c.t.Fatal(err)
	}
}

// TestREPL drives the interactive shell through a pseudo-terminal: commands,
// tab completion of commands and flags, history kept in MM_HOME (0600) and
// recalled with the arrow key, a refused secret kept out of the history,
// and Ctrl-D to leave.
func TestREPL(t *testing.T) {
	t.Parallel()
	home := filepath.Join(t.TempDir(), "mm")
	cmd := mmCmd(t, home)
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 200})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := newConsole(t, f)
	c.expect("mm> ")

	c.send("config set env staging\r")
	c.expect("env = staging")
	c.expect("mm> ")

	// Tab completes a command name and a flag.
	c.send("conf\t")
	c.expect("config ")
	c.send("get walletTim\t")
	c.expect("walletTimeoutSeconds ")
	c.send("--js\t")
	c.expect("--json ")
	c.send("\r")
	c.expect(`"value": 120`)
	c.expect("mm> ")

	// Errors keep the shell alive.
	c.send("bogus\r")
	c.expect("COMMAND_NOT_FOUND")
	c.expect("mm> ")

	// A secret on the command line is refused and not remembered.
	c.send("config get --password hunter2\r")
	c.expect("SECRET_ON_COMMAND_LINE")
	c.expect("mm> ")

	// Up arrow recalls the previous remembered line.
	c.send("\x1b[A\r")
	c.expect("COMMAND_NOT_FOUND")
	c.expect("mm> ")

	c.send("\x04") // Ctrl-D
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("mm exited with %v", err)
		}
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("Ctrl-D did not end the REPL")
	}

	hist := filepath.Join(home, historyFile)
	fi, err := os.Stat(hist)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("history mode %v, want 0600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(hist)
	if !strings.Contains(string(data), "config set env staging\n") || !strings.Contains(string(data), "bogus\n") {
		t.Errorf("history lacks the commands:\n%s", data)
	}
	if strings.Contains(string(data), "hunter2") {
		t.Error("a refused secret was written to the history")
	}
}

// TestColor checks that errors are colored on a terminal and that NO_COLOR
// turns colors off.
func TestColor(t *testing.T) {
	t.Parallel()
	for _, noColor := range []bool{false, true} {
		home := filepath.Join(t.TempDir(), "mm")
		cmd := mmCmd(t, home, "bogus")
		if noColor {
			cmd.Env = append(cmd.Env, "NO_COLOR=1")
		}
		f, err := pty.Start(cmd)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(f)
		_ = cmd.Wait()
		f.Close()
		hasANSI := bytes.Contains(out, []byte("\x1b["))
		if !bytes.Contains(out, []byte("error:")) {
			t.Fatalf("no error line: %q", out)
		}
		if hasANSI == noColor {
			t.Errorf("NO_COLOR=%v: ANSI colors present = %v in %q", noColor, hasANSI, out)
		}
		if cmd.ProcessState.ExitCode() != exitUsage {
			t.Errorf("exit %d, want %d", cmd.ProcessState.ExitCode(), exitUsage)
		}
	}
}

// TestInitInteractive runs mm init in a terminal: pickers for the missing
// choices, the mnemonic and the password typed with echo off (never shown),
// the password asked twice, and a mismatch refused with nothing written.
func TestInitInteractive(t *testing.T) {
	t.Parallel()
	const mnemonic = "test test test test test test test test test test test junk"
	run := func(t *testing.T, pw2 string) (string, *exec.Cmd, string) {
		home := filepath.Join(t.TempDir(), "mm")
		cmd := mmCmd(t, home, "init")
		cmd.Env = append(cmd.Env, "MM_SCRYPT_WORK_FACTOR=10")
		f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 200})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		c := newConsole(t, f)
		c.expect("Which wallet should mm sign with?")
		c.expect("Choose 1-4 [1]: ")
		c.send("1\r")
		c.expect("Which trading mode?")
		c.send("\r") // default: guard
		c.expect("Encrypt the stored mnemonic with a password? (recommended) [Y/n] ")
		c.send("\r")
		c.expect("mnemonic to import: ")
		c.send(mnemonic + "\r")
		c.expect("New password for the mm mnemonic: ")
		c.send("s3cret-pw\r")
		c.expect("Repeat new password for the mm mnemonic: ")
		c.send(pw2 + "\r")
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatal("mm init did not finish")
		}
		time.Sleep(50 * time.Millisecond)
		c.mu.Lock()
		rest, all := c.buf.String(), c.all.String()
		c.mu.Unlock()
		// Typed with echo off: neither secret was ever shown.
		if strings.Contains(all, "test junk") || strings.Contains(all, "s3cret-pw") || strings.Contains(all, pw2) {
			t.Errorf("the terminal showed a secret: %q", all)
		}
		return home, cmd, rest
	}
	t.Run("ok", func(t *testing.T) {
		t.Parallel()
		home, cmd, out := run(t, "s3cret-pw")
		if cmd.ProcessState.ExitCode() != 0 {
			t.Fatalf("exit %d: %s", cmd.ProcessState.ExitCode(), out)
		}
		if !strings.Contains(out, "address: "+testAddr0) || !strings.Contains(out, "encrypted: true") || !strings.Contains(out, "mode: guard") {
			t.Errorf("init output: %q", out)
		}
		data, err := os.ReadFile(filepath.Join(home, keyFileName))
		if err != nil || !bytes.HasPrefix(data, []byte("age-encryption.org/v1")) {
			t.Errorf("key file not age-encrypted: %v", err)
		}
	})
	t.Run("mismatch", func(t *testing.T) {
		t.Parallel()
		home, cmd, out := run(t, "something-else")
		if cmd.ProcessState.ExitCode() != exitError || !strings.Contains(out, "PASSWORD_MISMATCH") {
			t.Fatalf("exit %d: %q", cmd.ProcessState.ExitCode(), out)
		}
		for _, f := range []string{keyFileName, sessionFile, walletsFile} {
			if _, err := os.Stat(filepath.Join(home, f)); err == nil {
				t.Errorf("%s written despite the mismatch", f)
			}
		}
	})
}

// TestREPLWarmSigner checks that the REPL keeps the signer warm: with an
// encrypted mnemonic, the password is asked once (through the line editor,
// echo off), the plugin is launched once, and later signatures need neither.
func TestREPLWarmSigner(t *testing.T) {
	t.Parallel()
	home := template(t, "encrypted")
	cmd := mmCmd(t, home)
	cmd.Env = append(cmd.Env, "MM_SCRYPT_WORK_FACTOR=10")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 200})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := newConsole(t, f)
	c.expect("mm> ")
	c.send("wallet sign-message --message hello --chain-id 1 --verbose\r")
	out := c.expect("Password of the mm mnemonic: ")
	if n := strings.Count(out, "launched signer byok"); n != 1 {
		t.Fatalf("launches before the prompt: %d\n%s", n, out)
	}
	c.send("correct-horse\r")
	c.expect("0xf16ea9a3478698f695fd1401bfe27e9e4a7e8e3da94aa72b021125e31fa899cc573c48ea3fe1d4ab61a9db10c19032026e3ed2dbccba5a178235ac27f94504311c")
	c.expect("mm> ")
	c.send("wallet sign-message --message hello --chain-id 1 --verbose\r")
	out = c.expect("0xf16ea9a3")
	if strings.Contains(out, "launched signer") || strings.Contains(out, "Password") {
		t.Errorf("the second signature relaunched or asked again:\n%s", out)
	}
	c.expect("mm> ")
	c.send("exit\r")
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	all := c.all.String()
	c.mu.Unlock()
	if strings.Contains(all, "correct-horse") {
		t.Error("the password was echoed")
	}
}
