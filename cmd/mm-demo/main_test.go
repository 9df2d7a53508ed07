package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
)

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
	buildOut  []byte
)

// binaries builds mm, mm-devnet and ledger-emulator once, as make demo
// does, into a folder removed when the tests end.
func binaries(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		buildDir, buildErr = os.MkdirTemp("", "mm-demo-test-bin-")
		if buildErr != nil {
			return
		}
		for name, pkg := range map[string]string{"mm": "./cmd/mm", "mm-devnet": "./cmd/mm-devnet", "ledger-emulator": "./hwtest/cmd/ledger-emulator"} {
			cmd := exec.Command(goTool, "build", "-o", filepath.Join(buildDir, name), pkg)
			cmd.Dir = filepath.Join("..", "..")
			if buildOut, buildErr = cmd.CombinedOutput(); buildErr != nil {
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatalf("build the demo's binaries: %v\n%s", buildErr, buildOut)
	}
	return buildDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// alive reports whether a process with pid exists.
func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

// TestDemoEndToEnd runs the whole tour against the real binaries: every
// step succeeds, its output reads as a tour, and nothing it started
// survives it, nor its state folder.
func TestDemoEndToEnd(t *testing.T) {
	bin := binaries(t)
	var out strings.Builder
	var pids []int
	tr := &tour{bin: bin, out: &out, started: func(pid int) { pids = append(pids, pid) }}
	if err := tr.run(context.Background()); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{
		"1. Start an emulated Ledger", "listening tcp://127.0.0.1:",
		`MM_MNEMONIC="test test … junk" mm init --wallet byok`, "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
		"mm init --wallet ledger --mode guard --device tcp://",
		`dev chain 1337 "devnet" is running`, "1337      USDC   1000000",
		"Transfer 1.5 ETH to ", "Transfer 25 USDC to ", "Transfer 0.5 ETH to 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
		"$ mm tx history -f text", "1337      USDC   999975", "1337      USDC   1000025",
		"mm devnet stopped", "ledger-emulator stopped", "Done in",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the tour lacks %q", want)
		}
	}
	if strings.Contains(text, DemoMnemonic) {
		t.Error("the tour prints the whole mnemonic; it names it by its first and last words only")
	}
	if n := strings.Count(text, "\n     confirmed 0x"); n != 3 {
		t.Errorf("%d confirmed transfers shown, want 3", n)
	}
	if len(pids) != 2 {
		t.Fatalf("started %d background processes, want 2 (emulator, dev chain)", len(pids))
	}
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("process %d outlived the demo", pid)
		}
	}
	if _, err := os.Stat(filepath.Dir(tr.home)); !os.IsNotExist(err) {
		t.Errorf("the demo's state folder %s is still there", tr.home)
	}
	if t.Failed() {
		t.Log(text)
	}
}

// TestDemoCleansUpOnFailureAndInterrupt: a failing step and a Ctrl-C
// (context cancelled) both stop what was started and remove the state.
func TestDemoCleansUpOnFailureAndInterrupt(t *testing.T) {
	bin := binaries(t)
	t.Run("failure", func(t *testing.T) {
		var out strings.Builder
		var pids []int
		tr := &tour{bin: bin, out: &out, failAt: "Send ETH and USDC from the BYOK wallet to the Ledger", started: func(pid int) { pids = append(pids, pid) }}
		err := tr.run(context.Background())
		if err == nil || !strings.Contains(err.Error(), "on purpose") {
			t.Fatalf("run: %v", err)
		}
		if len(pids) != 2 || !strings.Contains(out.String(), "mm devnet stopped") {
			t.Fatalf("pids %v\n%s", pids, out.String())
		}
		for _, pid := range pids {
			if alive(pid) {
				t.Errorf("process %d outlived the failed demo", pid)
			}
		}
		if _, err := os.Stat(filepath.Dir(tr.home)); !os.IsNotExist(err) {
			t.Errorf("state folder %s left behind", tr.home)
		}
	})
	t.Run("interrupt", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var out strings.Builder
		var pids []int
		// Ctrl-C while the dev chain starts.
		tr := &tour{bin: bin, out: &out, started: func(pid int) {
			pids = append(pids, pid)
			if len(pids) == 2 {
				cancel()
			}
		}}
		if err := tr.run(ctx); err == nil || !errors.Is(err, context.Canceled) {
			t.Fatalf("run: %v", err)
		}
		for _, pid := range pids {
			if alive(pid) {
				t.Errorf("process %d outlived the interrupted demo", pid)
			}
		}
		if _, err := os.Stat(filepath.Dir(tr.home)); !os.IsNotExist(err) {
			t.Errorf("state folder %s left behind", tr.home)
		}
	})
}

// TestDemoNeedsItsBinaries: without them it says how to get them.
func TestDemoNeedsItsBinaries(t *testing.T) {
	var out strings.Builder
	err := (&tour{bin: t.TempDir(), out: &out}).run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "make demo") {
		t.Fatalf("run without binaries: %v", err)
	}
}
