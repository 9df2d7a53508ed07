package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/mm-wallet/mm/sdk"
)

// The benchmarks time whole processes of a real, freshly built mm binary
// (not the test binary) and print medians beside a baseline measured in the
// same run: `make bench` runs them with -benchtime 200x.

var (
	benchOnce  sync.Once
	benchDir   string
	benchMM    string
	benchHello string
	benchErr   error
)

// benchBinaries builds mm and a hello-world Go program once per run.
func benchBinaries(b *testing.B) (mm, hello string) {
	b.Helper()
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mm-bench-")
		if err != nil {
			benchErr = err
			return
		}
		benchDir = dir
		gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
		benchMM = filepath.Join(dir, "mm")
		if out, err := exec.Command(gobin, "build", "-trimpath", "-o", benchMM, ".").CombinedOutput(); err != nil {
			benchErr = fmt.Errorf("build mm: %v\n%s", err, out)
			return
		}
		src := filepath.Join(dir, "hello")
		if err := os.MkdirAll(src, 0o755); err == nil {
			_ = os.WriteFile(filepath.Join(src, "go.mod"), []byte("module hello\n\ngo 1.22\n"), 0o644)
			_ = os.WriteFile(filepath.Join(src, "main.go"), []byte("package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello\") }\n"), 0o644)
		}
		benchHello = filepath.Join(dir, "hello-bin")
		cmd := exec.Command(gobin, "build", "-trimpath", "-o", benchHello, ".")
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			benchErr = fmt.Errorf("build hello: %v\n%s", err, out)
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchMM, benchHello
}

// timeProcess runs a command to completion and returns its wall time.
func timeProcess(b *testing.B, env []string, name string, args ...string) time.Duration {
	b.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		b.Fatalf("%s %v: %v\n%s", name, args, err, out.Bytes())
	}
	return d
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func benchEnv(home string, extra ...string) []string {
	env := filterEnv(os.Environ(), "MM_PASSWORD", "MM_MNEMONIC", "MM_HOME", "MM_SCRYPT_WORK_FACTOR", "NO_COLOR")
	return append(append(env, "MM_HOME="+home), extra...)
}

// BenchmarkVersion: `mm --version`, whole process, median, next to a
// hello-world Go binary started in the same run (target ≤ 6 ms).
func BenchmarkVersion(b *testing.B) {
	mm, hello := benchBinaries(b)
	env := benchEnv(b.TempDir())
	var mmT, helloT []time.Duration
	for i := 0; i < b.N; i++ {
		mmT = append(mmT, timeProcess(b, env, mm, "--version"))
		helloT = append(helloT, timeProcess(b, env, hello))
	}
	b.ReportMetric(initMillis(b, mm), "ms/package-init")
	b.ReportMetric(ms(median(mmT)), "ms/mm-version-median")
	b.ReportMetric(ms(median(helloT)), "ms/hello-median")
	b.ReportMetric(float64(median(mmT))/float64(median(helloT)), "x-hello")
	b.ReportMetric(0, "ns/op")
}

// initMillis sums the package initialization time of one `mm --version`
// (GODEBUG=inittrace=1), the part of start-up that imports cost.
func initMillis(b *testing.B, mm string) float64 {
	cmd := exec.Command(mm, "--version")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		b.Fatal(err)
	}
	total := 0.0
	for _, line := range strings.Split(errb.String(), "\n") {
		// init <pkg> @<t> ms, <clock> ms clock, …
		f := strings.Fields(line)
		if len(f) > 6 && f[0] == "init" && f[6] == "clock," {
			if v, err := strconv.ParseFloat(f[4], 64); err == nil {
				total += v
			}
		}
	}
	return total
}

// signHome initializes a byok state folder with the built mm.
func signHome(b *testing.B, mm string, password string) string {
	b.Helper()
	home := filepath.Join(b.TempDir(), "mm")
	env := benchEnv(home, "MM_MNEMONIC="+testMnemonic)
	if password != "" {
		env = append(env, "MM_PASSWORD="+password)
	}
	timeProcess(b, env, mm, "init", "--wallet", "byok", "--mode", "guard")
	return home
}

// BenchmarkSignMessage: `mm wallet sign-message` on a BYOK wallet, whole
// process including the plugin launch (unencrypted mnemonic) or the
// reattach (encrypted and unlocked) — target ≤ 15 ms — beside
// `mm --version` and, when node and npm work, an ethers script signing one
// message from the same mnemonic.
func BenchmarkSignMessage(b *testing.B) {
	mm, _ := benchBinaries(b)
	plain := signHome(b, mm, "")
	enc := signHome(b, mm, "bench-password")
	unlockEnv := benchEnv(enc, "MM_PASSWORD=bench-password")
	timeProcess(b, unlockEnv, mm, "wallet", "unlock", "--for", "10m")
	defer timeProcess(b, unlockEnv, mm, "wallet", "lock")
	args := []string{"wallet", "sign-message", "--message", "hello", "--chain-id", "1"}
	var plainT, unlockedT, versionT []time.Duration
	plainEnv, encEnv := benchEnv(plain), benchEnv(enc)
	for i := 0; i < b.N; i++ {
		plainT = append(plainT, timeProcess(b, plainEnv, mm, args...))
		unlockedT = append(unlockedT, timeProcess(b, encEnv, mm, args...))
		versionT = append(versionT, timeProcess(b, plainEnv, mm, "--version"))
	}
	b.ReportMetric(ms(median(plainT)), "ms/sign-plain-median")
	b.ReportMetric(ms(median(unlockedT)), "ms/sign-unlocked-median")
	b.ReportMetric(ms(median(versionT)), "ms/version-median")
	// The signing cost on top of a process start, when unlocked.
	b.ReportMetric(ms(median(unlockedT)-median(versionT)), "ms/unlocked-sign-over-start")
	if node := nodeBaseline(b); node > 0 {
		b.ReportMetric(ms(node), "ms/node-ethers-median")
		b.ReportMetric(float64(node)/float64(median(plainT)), "x-faster-than-ethers")
	}
	b.ReportMetric(0, "ns/op")
}

// BenchmarkWarmSignature: one signature through a warm signer — what the
// REPL and any command reattached to an unlocked signer pay on top of the
// process start (target ≤ 1 ms).
func BenchmarkWarmSignature(b *testing.B) {
	mm, _ := benchBinaries(b)
	home := signHome(b, mm, "bench-password")
	env := benchEnv(home, "MM_PASSWORD=bench-password")
	timeProcess(b, env, mm, "wallet", "unlock", "--for", "10m")
	defer timeProcess(b, env, mm, "wallet", "lock")
	data, err := os.ReadFile(filepath.Join(home, unlockFile))
	if err != nil {
		b.Fatal(err)
	}
	var rec unlockSession
	if err := json.Unmarshal(data, &rec); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	c, err := sdk.Reattach(ctx, rec.Reattach, sdk.PluginOptions{Name: "byok"})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	req := &sdk.SignMessageRequest{Account: sdk.Account{Address: common.HexToAddress(testAddr0)}, Message: []byte("hello")}
	var ts []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := c.SignMessage(ctx, req); err != nil {
			b.Fatal(err)
		}
		ts = append(ts, time.Since(start))
	}
	b.ReportMetric(float64(median(ts))/float64(time.Microsecond), "us/warm-sign-median")
}

// nodeBaseline times `node sign.js` (ethers v6, fromPhrase + signMessage)
// over a few runs. ethers is installed from npm into a cache folder once.
// It returns 0, after saying why, when node or npm is unavailable.
func nodeBaseline(b *testing.B) time.Duration {
	node, err := exec.LookPath("node")
	if err != nil {
		b.Log("node not found: no ethers baseline")
		return 0
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		b.Log("npm not found: no ethers baseline")
		return 0
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "mm-bench", "ethers6")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "ethers")); err != nil {
		_ = os.MkdirAll(dir, 0o755)
		cmd := exec.Command(npm, "install", "--no-audit", "--no-fund", "--silent", "--prefix", dir, "ethers@6")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Logf("npm install ethers failed (is the npm registry reachable?): %v\n%s", err, out)
			return 0
		}
	}
	script := filepath.Join(dir, "sign.js")
	_ = os.WriteFile(script, []byte(`const { Wallet } = require('ethers');
Wallet.fromPhrase(process.env.MNEMONIC).signMessage('hello').then(s => console.log(s));
`), 0o644)
	env := append(os.Environ(), "MNEMONIC="+testMnemonic)
	var ts []time.Duration
	for i := 0; i < 15; i++ {
		ts = append(ts, timeProcess(b, env, node, script))
	}
	return median(ts)
}
