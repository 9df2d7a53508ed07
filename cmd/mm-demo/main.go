// Command mm-demo is `make demo`: a short, self-running tour of mm on
// embedded defaults. It starts an emulated Ledger and mm's dev chain in the
// background, creates a BYOK wallet from a public test mnemonic and a
// Ledger wallet in a temporary state folder (the user's ~/.metamask is
// never touched), funds both, transfers ETH and USDC, signs a message on
// the emulated Ledger, shows the history, and stops everything it started
// — also on Ctrl-C or when a step fails.
//
//	mm-demo [--bin DIR]
//
// DIR holds mm, mm-devnet and ledger-emulator (default: the folder of
// mm-demo itself; `make demo` builds all four into ./bin/demo).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DemoMnemonic is the public test mnemonic of Hardhat and Foundry. Its keys
// are known to everyone: never send real funds to them.
const DemoMnemonic = "test test test test test test test test test test test junk"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fs := flag.NewFlagSet("mm-demo", flag.ContinueOnError)
	bin := fs.String("bin", "", "folder holding mm, mm-devnet and ledger-emulator (default: next to mm-demo)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if *bin == "" {
		exe, err := os.Executable()
		if err != nil {
			fmt.Fprintln(os.Stderr, "mm-demo:", err)
			os.Exit(1)
		}
		*bin = filepath.Dir(exe)
	}
	t := &tour{bin: *bin, out: os.Stdout}
	if err := t.run(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "\nmm-demo: %v\n", err)
		if errors.Is(err, context.Canceled) {
			os.Exit(130)
		}
		os.Exit(1)
	}
}

// tour runs the demo. Fields set by tests: failAt makes the step of that
// title fail (to test the clean-up), started reports the pids of the
// background processes.
type tour struct {
	bin string
	out io.Writer

	home      string
	env       []string
	device    string
	rpc       string
	byokAddr  string
	ledgerAdr string

	mu      sync.Mutex
	bg      []*background
	failAt  string
	started func(pid int)
	step    int
}

// background is a process the tour started and must stop.
type background struct {
	name string
	cmd  *exec.Cmd
	done chan error
	// stderr keeps the process's messages for a failure report.
	stderr *strings.Builder
	mu     sync.Mutex
}

func (t *tour) run(ctx context.Context) (err error) {
	start := time.Now()
	for _, name := range []string{"mm", "mm-devnet", "ledger-emulator"} {
		if fi, err := os.Stat(filepath.Join(t.bin, name)); err != nil || fi.IsDir() {
			return fmt.Errorf("%s is missing in %s; run `make demo` (it builds mm, mm-devnet and ledger-emulator first)", name, t.bin)
		}
	}
	home, err := os.MkdirTemp("", "mm-demo-")
	if err != nil {
		return err
	}
	t.home = filepath.Join(home, "metamask")
	defer func() {
		t.stopAll()
		_ = os.RemoveAll(home)
		if err == nil {
			t.say("\nDone in %.1f s. Everything the demo started is stopped and its state folder removed.\n", time.Since(start).Seconds())
			t.say("Next: `make build`, then `mm devnet` in one terminal and try the commands above in another (README: \"Transactions and the dev chain\").\n")
		}
	}()
	t.env = demoEnv(t.home, t.bin)

	t.say("mm demo: a short tour of mm on embedded defaults.\n")
	t.say("Everything runs on this machine: an emulated Ledger, mm's dev chain and a temporary\n")
	t.say("state folder (%s); your own ~/.metamask is not touched.\n", t.home)

	steps := []struct {
		title string
		fn    func(context.Context) error
	}{
		{"Start an emulated Ledger", t.startLedger},
		{"Create a BYOK wallet", t.byokWallet},
		{"Add the Ledger as a second wallet", t.ledgerWallet},
		{"Start the dev chain, which funds both wallets", t.startChain},
		{"Send ETH and USDC from the BYOK wallet to the Ledger", t.transfers},
		{"Sign a message and send ETH back on the emulated Ledger", t.ledgerSigns},
		{"Look at the history", t.history},
	}
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		t.step++
		t.say("\n%d. %s\n", t.step, s.title)
		if t.failAt == s.title {
			return fmt.Errorf("step %d failed on purpose (test)", t.step)
		}
		if err := s.fn(ctx); err != nil {
			return fmt.Errorf("step %d (%s): %w", t.step, s.title, err)
		}
	}
	return nil
}

// demoEnv is the environment of every mm the tour runs: the temporary state
// folder, the demo's binaries first on PATH, and none of the user's mm
// settings (secrets, endpoints) leaking in.
func demoEnv(home, bin string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "MM_") || k == "PATH" || k == "NO_COLOR" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "MM_HOME="+home, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "NO_COLOR=1", "MM_PLUGIN_PATH=")
}

func (t *tour) say(format string, args ...any) { fmt.Fprintf(t.out, format, args...) }

// explain prints a step's explanation, wrapped in the tour's indentation.
func (t *tour) explain(text string) {
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		t.say("   %s\n", strings.TrimSpace(line))
	}
}

// mm runs one mm command, shows it and its output, and returns the output.
func (t *tour) mm(ctx context.Context, shown string, extraEnv []string, args ...string) (string, error) {
	if shown == "" {
		shown = "mm " + strings.Join(args, " ")
	}
	t.say("   $ %s\n", shown)
	cmd := exec.CommandContext(ctx, filepath.Join(t.bin, "mm"), args...)
	cmd.Env = append(append([]string(nil), t.env...), extraEnv...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	for _, line := range strings.Split(strings.TrimRight(stdout.String(), "\n"), "\n") {
		t.say("     %s\n", line)
	}
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", fmt.Errorf("mm %s: %v\n%s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// startBackground starts a long-running process and waits until a line of
// its stdout matches ready; the lines up to it are shown.
func (t *tour) startBackground(ctx context.Context, name, shown string, ready *regexp.Regexp, args ...string) ([]string, error) {
	t.say("   $ %s &\n", shown)
	cmd := exec.Command(filepath.Join(t.bin, args[0]), args[1:]...)
	cmd.Env = t.env
	// Its own process group: a Ctrl-C in the terminal reaches the tour,
	// which then stops it in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	b := &background{name: name, cmd: cmd, done: make(chan error, 1), stderr: &strings.Builder{}}
	cmd.Stderr = writerFunc(func(p []byte) (int, error) {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.stderr.Len() < 64<<10 {
			b.stderr.Write(p)
		}
		return len(p), nil
	})
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.bg = append(t.bg, b)
	t.mu.Unlock()
	if t.started != nil {
		t.started(cmd.Process.Pid)
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		b.done <- cmd.Wait()
	}()
	var got []string
	timeout := time.After(time.Minute)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				b.mu.Lock()
				msg := strings.TrimSpace(b.stderr.String())
				b.mu.Unlock()
				return nil, fmt.Errorf("%s exited before it was ready:\n%s", name, msg)
			}
			t.say("     %s\n", line)
			got = append(got, line)
			if ready.MatchString(line) {
				// Keep draining its stdout so it never blocks.
				go func() {
					for range lines {
					}
				}()
				return got, nil
			}
		case <-timeout:
			return nil, fmt.Errorf("%s was not ready within a minute", name)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// stopAll stops the background processes, newest first: SIGTERM, then
// SIGKILL after 15 s.
func (t *tour) stopAll() {
	t.mu.Lock()
	bg := t.bg
	t.bg = nil
	t.mu.Unlock()
	if len(bg) > 0 {
		t.say("\nStopping what the demo started:\n")
	}
	for i := len(bg) - 1; i >= 0; i-- {
		b := bg[i]
		_ = b.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-b.done:
			t.say("   %s stopped\n", b.name)
		case <-time.After(15 * time.Second):
			_ = b.cmd.Process.Kill()
			<-b.done
			t.say("   %s killed (it did not stop within 15 s)\n", b.name)
		}
	}
}

var (
	listeningRE = regexp.MustCompile(`^listening (tcp://\S+)$`)
	stopRE      = regexp.MustCompile(`^Stop it with Ctrl-C\.$`)
	rpcRE       = regexp.MustCompile(`RPC\s+(http://\S+)`)
	addressRE   = regexp.MustCompile(`0x[0-9a-fA-F]{40}`)
)

func (t *tour) startLedger(ctx context.Context) error {
	t.explain(`
The emulator speaks the Ledger Ethereum app's real APDU protocol over TCP
(Speculos framing) and signs like a device with the public Speculos seed.
It approves every request on its own; a real Ledger would ask you on its
screen. mm talks to it exactly as to a USB Ledger.`)
	lines, err := t.startBackground(ctx, "ledger-emulator", "ledger-emulator -listen 127.0.0.1:0", listeningRE, "ledger-emulator", "-listen", "127.0.0.1:0")
	if err != nil {
		return err
	}
	t.device = listeningRE.FindStringSubmatch(lines[len(lines)-1])[1]
	return nil
}

func (t *tour) byokWallet(ctx context.Context) error {
	t.explain(`
"Bring your own key": a BIP-39 mnemonic, read only from the MM_MNEMONIC
environment variable (never from the command line), kept by mm's byok signer
plugin in its own process. The demo uses the public test mnemonic
"test test … junk" of Hardhat and Foundry: everyone knows its keys, so never
send real funds to them.`)
	out, err := t.mm(ctx, `MM_MNEMONIC="test test … junk" mm init --wallet byok --mode guard -f text`, []string{"MM_MNEMONIC=" + DemoMnemonic},
		"init", "--wallet", "byok", "--mode", "guard", "-f", "text")
	if err != nil {
		return err
	}
	t.byokAddr = addressRE.FindString(out)
	if t.byokAddr == "" {
		return fmt.Errorf("mm init printed no address")
	}
	return nil
}

func (t *tour) ledgerWallet(ctx context.Context) error {
	t.explain(`
Switching the wallet mode to ledger derives the device's first account;
wallets.json keeps both wallets (it holds addresses and key references,
never a secret).`)
	out, err := t.mm(ctx, "", nil, "init", "--wallet", "ledger", "--mode", "guard", "--device", t.device, "-f", "text")
	if err != nil {
		return err
	}
	t.ledgerAdr = addressRE.FindString(out)
	if t.ledgerAdr == "" {
		return fmt.Errorf("mm init printed no address")
	}
	_, err = t.mm(ctx, "", nil, "wallet", "list", "-f", "text")
	return err
}

func (t *tour) startChain(ctx context.Context) error {
	t.explain(`
mm devnet runs go-ethereum's own node in dev mode (chain 1337) in its own
process. It gives every wallet in wallets.json 10000 ETH and 1000000 of its
fixture USDC, and deploys the fixture contracts. On its default port 8545 mm
needs no configuration; the demo takes a free port and tells mm with
MM_RPC_1337.`)
	lines, err := t.startBackground(ctx, "mm devnet", "mm devnet --port 0 -f text", stopRE, "mm", "devnet", "--port", "0", "-f", "text")
	if err != nil {
		return err
	}
	for _, l := range lines {
		if m := rpcRE.FindStringSubmatch(l); m != nil {
			t.rpc = m[1]
		}
	}
	if t.rpc == "" {
		return fmt.Errorf("mm devnet printed no RPC endpoint")
	}
	t.env = append(t.env, "MM_RPC_1337="+t.rpc)
	t.say("   $ export MM_RPC_1337=%s\n", t.rpc)
	for _, w := range []string{"byok-0", "ledger-0"} {
		if _, err := t.mm(ctx, "", nil, "wallet", "balance", "--chain-ids", "1337", "--wallet", w, "-f", "text"); err != nil {
			return err
		}
	}
	return nil
}

func (t *tour) transfers(ctx context.Context) error {
	t.explain(`
Back to the BYOK wallet (its stored mnemonic is reused). mm transfer parses
the amount exactly in the token's decimals, checks the balance, takes a
nonce from its ledger (safe with many mm processes at once), estimates gas
and fees, has the signer plugin sign, broadcasts and, with --wait, waits for
the receipt.`)
	if _, err := t.mm(ctx, "", nil, "init", "--wallet", "byok", "--mode", "guard", "-f", "text"); err != nil {
		return err
	}
	if _, err := t.mm(ctx, "", nil, "transfer", "--to", t.ledgerAdr, "--amount", "1.5", "--token", "ETH", "--chain-id", "1337", "--wait", "-f", "text"); err != nil {
		return err
	}
	_, err := t.mm(ctx, "", nil, "transfer", "--to", t.ledgerAdr, "--amount", "25", "--token", "USDC", "--chain-id", "1337", "--wait", "-f", "text")
	return err
}

func (t *tour) ledgerSigns(ctx context.Context) error {
	t.explain(`
With the Ledger active, every signature is made on the (emulated) device:
first an EIP-191 message, then a transaction whose decoded intent mm hands
to the signer for its screen.`)
	if _, err := t.mm(ctx, "", nil, "init", "--wallet", "ledger", "--mode", "guard", "--device", t.device, "-f", "text"); err != nil {
		return err
	}
	if _, err := t.mm(ctx, `mm wallet sign-message --message "Hello from the mm demo" --chain-id 1337 -f text`, nil,
		"wallet", "sign-message", "--message", "Hello from the mm demo", "--chain-id", "1337", "-f", "text"); err != nil {
		return err
	}
	_, err := t.mm(ctx, "", nil, "transfer", "--to", t.byokAddr, "--amount", "0.5", "--chain-id", "1337", "--wait", "-f", "text")
	return err
}

func (t *tour) history(ctx context.Context) error {
	t.explain(`
mm keeps a journal of everything it sent; mm tx history refreshes the
statuses from the chain, and mm tx <hash> shows one transaction.`)
	out, err := t.mm(ctx, "", nil, "tx", "history", "-f", "text")
	if err != nil {
		return err
	}
	if n := strings.Count(out, "confirmed"); n < 3 {
		return fmt.Errorf("mm tx history shows %d confirmed transactions, want 3", n)
	}
	for _, w := range []string{"byok-0", "ledger-0"} {
		if _, err := t.mm(ctx, "", nil, "wallet", "balance", "--chain-ids", "1337", "--wallet", w, "-f", "text"); err != nil {
			return err
		}
	}
	return nil
}
