package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/mm-wallet/mm/core/chains"
	"github.com/mm-wallet/mm/core/devnet"
	"github.com/mm-wallet/mm/core/devnet/ready"
)

// goTool is the go command of the toolchain running the tests.
func goTool(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("no go command to build with: %v", err)
	}
	return p
}

// TestMMDoesNotLinkTheNode keeps go-ethereum's node out of mm: linking it
// would add milliseconds of package init to every mm call, so the dev
// chain lives in the mm-devnet binary.
func TestMMDoesNotLinkTheNode(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(goTool(t), "list", "-deps", "github.com/mm-wallet/mm/cmd/mm").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list printed %d packages; the check would prove nothing", len(deps))
	}
	for _, p := range deps {
		for _, banned := range []string{"github.com/mm-wallet/mm/core/devnet", "github.com/ethereum/go-ethereum/eth", "github.com/ethereum/go-ethereum/node", "github.com/ethereum/go-ethereum/miner"} {
			// core/devnet/ready is the dev chain's announcement document,
			// kept apart from the node for exactly this reason.
			if p == "github.com/mm-wallet/mm/core/devnet/ready" {
				continue
			}
			if p == banned || strings.HasPrefix(p, banned+"/") {
				t.Errorf("mm imports %s", p)
			}
		}
	}
}

// devnetBin builds cmd/mm-devnet into a temporary folder of t and returns
// the folder.
func devnetBin(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command(goTool(t), "build", "-o", filepath.Join(dir, devnetBinary), "github.com/mm-wallet/mm/cmd/mm-devnet").CombinedOutput()
	if err != nil {
		t.Fatalf("build mm-devnet: %v\n%s", err, out)
	}
	return dir
}

// startMM starts a long-running mm (mm devnet) with MM_HOME=home and the
// extra environment; stdout is returned for reading.
func startMM(t *testing.T, home string, env []string, args ...string) (*exec.Cmd, *bufio.Reader, *strings.Builder) {
	t.Helper()
	exe, err := exec.LookPath("mm")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(filterEnv(os.Environ(), "MM_HOME"), "MM_HOME="+home)
	cmd.Env = append(cmd.Env, env...)
	var stderr strings.Builder
	cmd.Stderr = &lockedWriter{w: &stderr}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd, bufio.NewReader(out), &stderr
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestDevnetCommand runs `mm devnet` with the real mm-devnet binary: the
// wallets of wallets.json and --fund addresses are funded, the fixtures
// deployed, the ready document printed (JSON and text), mm can transact on
// it, and SIGTERM (or Ctrl-C) stops both processes cleanly with status 0.
func TestDevnetCommand(t *testing.T) {
	t.Parallel()
	bin := devnetBin(t)
	path := "PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH")
	home := filepath.Join(t.TempDir(), "mm")
	mmOK(t, home, []string{"MM_MNEMONIC=" + seedMnemonic("devnet-cmd")}, nil, "init", "--wallet", "byok", "--mode", "guard")
	mmOK(t, home, nil, nil, "wallet", "create")
	var wl walletList
	mmOK(t, home, nil, &wl, "wallet", "list")
	extra := recipient("devnet-extra")

	cmd, out, stderr := startMM(t, home, []string{path}, "devnet", "--port", "0", "--json", "--fund", extra.Hex())
	var doc ready.Document
	if err := json.NewDecoder(out).Decode(&doc); err != nil {
		t.Fatalf("no ready document: %v\nstderr: %s", err, stderr.String())
	}
	if doc.ChainID != 1337 || doc.Name != "devnet" || !strings.HasPrefix(doc.RPCURL, "http://127.0.0.1:") ||
		doc.Contracts.USDC != chains.DevnetUSDC.Hex() || doc.Contracts.Spender != chains.DevnetSpender.Hex() {
		t.Fatalf("ready document: %+v", doc)
	}
	c, err := chains.Dial(context.Background(), doc.RPCURL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want := []common.Address{extra}
	for _, w := range wl.Wallets {
		want = append(want, common.HexToAddress(w.Address))
	}
	if len(doc.Funded) != len(want) {
		t.Errorf("funded %v, want %d addresses", doc.Funded, len(want))
	}
	for _, a := range want {
		if b := balanceOf(t, c, a); b.Cmp(devnet.DefaultFundWei) != 0 {
			t.Errorf("%s holds %s wei, want 10000 ETH", a.Hex(), b)
		}
		if b := usdcOf(t, c, a); b.Cmp(devnet.DefaultFundUSDC) != 0 {
			t.Errorf("%s holds %s USDC units, want 1000000 USDC", a.Hex(), b)
		}
	}
	// mm uses the chain it started.
	var s sent
	mmOK(t, home, []string{chains.EnvRPC + "1337=" + doc.RPCURL}, &s, "transfer", "--to", extra.Hex(), "--amount", "1", "--chain-id", "1337", "--wait")
	if s.Status != "confirmed" {
		t.Errorf("transfer on mm devnet's chain: %+v", s)
	}

	// SIGTERM to mm stops the chain and both exit 0.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := waitExit(cmd, 30*time.Second); err != nil {
		t.Fatalf("mm devnet after SIGTERM: %v\nstderr: %s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "mm-devnet: stopped") {
		t.Errorf("the chain did not report a clean stop:\n%s", stderr.String())
	}
	if syscall.Kill(doc.PID, 0) == nil {
		t.Errorf("mm-devnet (pid %d) outlived mm devnet", doc.PID)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	r := runMM(t, filepath.Join(t.TempDir(), "mm"), []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH")}, nil, "devnet", "--port", port)
	if errCode(r) != "DEVNET_PORT_IN_USE" || r.code != exitError || !strings.Contains(string(r.stdout), "--port") {
		t.Errorf("port in use: exit %d %s %s", r.code, r.stdout, r.stderr)
	}

	// Text mode, stopped with Ctrl-C (SIGINT).
	cmd, out, stderr = startMM(t, home, []string{path}, "devnet", "--port", "0", "-f", "text")
	first, err := out.ReadString('\n')
	if err != nil || !strings.HasPrefix(first, `dev chain 1337 "devnet" is running`) {
		t.Fatalf("text mode: %q %v\nstderr: %s", first, err, stderr.String())
	}
	rest := readUntil(t, out, "Stop it with Ctrl-C.")
	if !strings.Contains(rest, chains.DevnetUSDC.Hex()) || !strings.Contains(rest, "MM_RPC_1337=") {
		t.Errorf("text mode:\n%s%s", first, rest)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := waitExit(cmd, 30*time.Second); err != nil {
		t.Fatalf("mm devnet after SIGINT: %v\nstderr: %s", err, stderr.String())
	}
}

func readUntil(t *testing.T, r *bufio.Reader, marker string) string {
	t.Helper()
	var b strings.Builder
	for !strings.Contains(b.String(), marker) {
		line, err := r.ReadString('\n')
		b.WriteString(line)
		if err != nil {
			break
		}
	}
	return b.String()
}

func waitExit(cmd *exec.Cmd, d time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		_ = cmd.Process.Kill()
		return <-done
	}
}

// TestDevnetCommandErrors: no mm-devnet anywhere, a bad --fund address and
// a bad --block-time are coded errors, and change nothing. (A port in use
// is in TestDevnetCommand, which builds mm-devnet.)
func TestDevnetCommandErrors(t *testing.T) {
	t.Parallel()
	home := filepath.Join(t.TempDir(), "mm")
	// PATH holds mm itself but no mm-devnet.
	exe, err := exec.LookPath("mm")
	if err != nil {
		t.Fatal(err)
	}
	r := runMM(t, home, []string{"PATH=" + filepath.Dir(exe)}, nil, "devnet", "--port", "0")
	if errCode(r) != string(codeDevnetNotInstalled) || r.code != exitError || !strings.Contains(string(r.stdout), "make build") {
		t.Errorf("without mm-devnet: exit %d %s", r.code, r.stdout)
	}
	r = runMM(t, home, nil, nil, "devnet", "--fund", "0x1234")
	if errCode(r) != "INVALID_EVM_ADDRESS" || r.code != exitError {
		t.Errorf("bad --fund: exit %d %s", r.code, r.stdout)
	}
	r = runMM(t, home, nil, nil, "devnet", "--block-time", "1500ms")
	if errCode(r) != string(codeInvalidInput) || r.code != exitUsage {
		t.Errorf("bad --block-time: exit %d %s", r.code, r.stdout)
	}

	if _, err := os.Stat(home); err == nil {
		t.Errorf("mm devnet created the state folder %s", home)
	}
}
