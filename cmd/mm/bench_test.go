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

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/signers/mnemonic"
)

// The benchmarks time whole processes of a real, freshly built mm binary
// (not the test binary) and print medians beside a baseline measured in the
// same run: `make bench` runs them with -benchtime 200x, and
// cmd/mm-benchsummary sets the figures beside their targets.
//
// mm is built twice: as `go build` makes it (what `go install` gives), and
// with releaseBuildFlags, a static binary where the toolchain can link one,
// which skips the dynamic loader at every start of mm and of each signer
// process. The figures of record use the release build; BenchmarkVersion
// and BenchmarkSignMessage also time the `go build` one.

// releaseBuildFlags link mm statically (cgo included: USB HID and
// libsecp256k1), with Go's own DNS resolver and user lookup, which a static
// glibc cannot load at run time.
var releaseBuildFlags = []string{"-tags", "netgo,osusergo", "-ldflags", "-linkmode external -extldflags -static"}

var (
	benchOnce   sync.Once
	benchMM     string // release build
	benchPlain  string // go build
	benchHello  string
	benchStatic bool
	benchErr    error
)

// benchBinaries builds mm (release and plain) and a hello-world Go program
// once per run, into the user's cache folder (mm-bench/bin), where each run
// replaces the previous run's.
func benchBinaries(b *testing.B) (release, plain, hello string) {
	b.Helper()
	benchOnce.Do(func() {
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		dir := filepath.Join(cache, "mm-bench", "bin")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			benchErr = err
			return
		}
		gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
		build := func(out string, flags ...string) error {
			args := append([]string{"build", "-trimpath"}, flags...)
			cmd := exec.Command(gobin, append(args, "-o", out, ".")...)
			if b, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("%v\n%s", err, b)
			}
			return nil
		}
		benchPlain = filepath.Join(dir, "mm-plain")
		if err := build(benchPlain); err != nil {
			benchErr = fmt.Errorf("build mm: %w", err)
			return
		}
		benchMM = filepath.Join(dir, "mm")
		if runtime.GOOS == "linux" {
			if err := build(benchMM, releaseBuildFlags...); err == nil {
				benchStatic = true
			} else {
				fmt.Fprintf(os.Stderr, "mm-bench: no static build (%v); the release figures use the go build binary\n", firstLine(err.Error()))
			}
		}
		if !benchStatic {
			benchMM = benchPlain
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
	return benchMM, benchPlain, benchHello
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
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
func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func benchEnv(home string, extra ...string) []string {
	env := filterEnv(os.Environ(), "MM_PASSWORD", "MM_MNEMONIC", "MM_HOME", "MM_SCRYPT_WORK_FACTOR", "NO_COLOR", "GOMAXPROCS", "GODEBUG")
	return append(append(env, "MM_HOME="+home), extra...)
}

// BenchmarkVersion: `mm --version`, whole process, median, next to a
// hello-world Go binary started in the same run (target ≤ 6 ms); also the
// `go build` binary, and the package initialization time of one start.
func BenchmarkVersion(b *testing.B) {
	mm, plain, hello := benchBinaries(b)
	env := benchEnv(b.TempDir())
	var mmT, plainT, helloT []time.Duration
	for i := 0; i < b.N; i++ {
		mmT = append(mmT, timeProcess(b, env, mm, "--version"))
		plainT = append(plainT, timeProcess(b, env, plain, "--version"))
		helloT = append(helloT, timeProcess(b, env, hello))
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(initMillis(b, mm), "ms/package-init")
	b.ReportMetric(ms(median(mmT)), "ms/version-median")
	b.ReportMetric(ms(median(plainT)), "ms/version-gobuild-median")
	b.ReportMetric(ms(median(helloT)), "ms/hello-median")
	b.ReportMetric(float64(median(mmT))/float64(median(helloT)), "x-hello")
	if benchStatic {
		b.ReportMetric(1, "static-build")
	}
}

// initMillis is the median, over a few starts, of the summed package
// initialization time of `mm --version` (GODEBUG=inittrace=1): the part of
// start-up that imports cost.
func initMillis(b *testing.B, mm string) float64 {
	var totals []float64
	for i := 0; i < 9; i++ {
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
		totals = append(totals, total)
	}
	sort.Float64s(totals)
	return totals[len(totals)/2]
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
// reattach (encrypted and unlocked) — target ≤ 15 ms — beside, from the
// same run: a Node script signing one message with ethers from the same
// mnemonic (when node and npm work), `mm --version`, and `mm wallet
// address` on the unlocked wallet (the same start, command tree and state
// files as the signing command, without a signer). The signing cost of an
// unlocked wallet (target ≤ 1 ms) is reported over both.
func BenchmarkSignMessage(b *testing.B) {
	mm, plainMM, _ := benchBinaries(b)
	plain := signHome(b, mm, "")
	enc := signHome(b, mm, "bench-password")
	unlockEnv := benchEnv(enc, "MM_PASSWORD=bench-password")
	timeProcess(b, unlockEnv, mm, "wallet", "unlock", "--for", "10m")
	defer timeProcess(b, unlockEnv, mm, "wallet", "lock")
	args := []string{"wallet", "sign-message", "--message", "hello", "--chain-id", "1"}
	var plainT, gobuildT, unlockedT, addressT, versionT []time.Duration
	plainEnv, encEnv := benchEnv(plain), benchEnv(enc)
	for i := 0; i < b.N; i++ {
		plainT = append(plainT, timeProcess(b, plainEnv, mm, args...))
		gobuildT = append(gobuildT, timeProcess(b, plainEnv, plainMM, args...))
		unlockedT = append(unlockedT, timeProcess(b, encEnv, mm, args...))
		addressT = append(addressT, timeProcess(b, encEnv, mm, "wallet", "address"))
		versionT = append(versionT, timeProcess(b, plainEnv, mm, "--version"))
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(ms(median(plainT)), "ms/sign-plain-median")
	b.ReportMetric(ms(median(gobuildT)), "ms/sign-plain-gobuild-median")
	b.ReportMetric(ms(median(unlockedT)), "ms/sign-unlocked-median")
	b.ReportMetric(ms(median(addressT)), "ms/address-median")
	b.ReportMetric(ms(median(versionT)), "ms/version-median")
	b.ReportMetric(ms(median(unlockedT)-median(addressT)), "ms/unlocked-over-address")
	b.ReportMetric(ms(median(unlockedT)-median(versionT)), "ms/unlocked-over-version")
	if node, why := nodeBaseline(b); node > 0 {
		b.ReportMetric(ms(node), "ms/node-ethers-median")
		b.ReportMetric(float64(node)/float64(median(plainT)), "x-faster-than-ethers")
	} else {
		b.Logf("ethers baseline: none (%s)", why)
	}
}

// BenchmarkWarmSignature: one signature through a warm signer, as in the
// REPL (target ≤ 1 ms): the byok signer launched as mm launches it (`mm
// plugin serve byok`, configured with the wallet's key file) and reached
// from a host on one P, as the REPL runs (replProcs); beside the same
// signer in process, and a signature through the unlocked (detached)
// signer, which every mm call reattaches to.
func BenchmarkWarmSignature(b *testing.B) {
	mm, _, _ := benchBinaries(b)
	home := signHome(b, mm, "")
	ctx := context.Background()
	keyFile := filepath.Join(home, keyFileName)
	settings := map[string]string{mnemonic.SettingKeyFile: keyFile}
	req := &sdk.SignMessageRequest{Account: sdk.Account{Address: common.HexToAddress(testAddr0), Path: "m/44'/60'/0'/0/0"}, Message: []byte("hello")}

	cmd := exec.Command(mm, "plugin", "serve", "byok")
	cmd.Env = benchEnv(home, "GOMAXPROCS=1") // as plugins.Host starts built-ins
	c, err := sdk.Launch(ctx, cmd, sdk.PluginOptions{Name: "byok"})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	local := mnemonic.New()
	for _, s := range []sdk.Configurer{c, local} {
		if _, err := s.Configure(ctx, &sdk.ConfigureRequest{Settings: settings}); err != nil {
			b.Fatal(err)
		}
	}

	enc := signHome(b, mm, "bench-password")
	env := benchEnv(enc, "MM_PASSWORD=bench-password")
	timeProcess(b, env, mm, "wallet", "unlock", "--for", "10m")
	defer timeProcess(b, env, mm, "wallet", "lock")
	data, err := os.ReadFile(filepath.Join(enc, unlockFile))
	if err != nil {
		b.Fatal(err)
	}
	var rec unlockSession
	if err := json.Unmarshal(data, &rec); err != nil {
		b.Fatal(err)
	}
	d, err := sdk.Reattach(ctx, rec.Reattach, sdk.PluginOptions{Name: "byok"})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()

	prev := runtime.GOMAXPROCS(0)
	replProcs(func(string) (string, bool) { return "", false })
	defer runtime.GOMAXPROCS(prev)
	sign := func(s sdk.Signer) time.Duration {
		start := time.Now()
		r, err := s.SignMessage(ctx, req)
		t := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if err := signedBy(r.Signature, req); err != nil {
			b.Fatal(err)
		}
		return t
	}
	for i := 0; i < 20; i++ { // connections and caches warm
		sign(c)
		sign(d)
		sign(local)
	}
	var warm, detached, inproc []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		warm = append(warm, sign(c))
		detached = append(detached, sign(d))
		inproc = append(inproc, sign(local))
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(us(median(warm)), "µs/repl-sign-median")
	b.ReportMetric(us(median(detached)), "µs/unlocked-sign-median")
	b.ReportMetric(us(median(inproc)), "µs/inprocess-median")
	b.ReportMetric(float64(median(warm))/float64(median(inproc)), "repl/inprocess")
}

// signedBy checks that sig is the account's EIP-191 signature of the
// request's message.
func signedBy(sig []byte, req *sdk.SignMessageRequest) error {
	if len(sig) != 65 {
		return fmt.Errorf("signature of %d bytes", len(sig))
	}
	s := bytes.Clone(sig)
	s[64] -= 27
	pub, err := crypto.SigToPub(accounts.TextHash(req.Message), s)
	if err != nil {
		return err
	}
	if got := crypto.PubkeyToAddress(*pub); got != req.Account.Address {
		return fmt.Errorf("signature recovers to %s, want %s", got.Hex(), req.Account.Address.Hex())
	}
	return nil
}

// nodeBaseline times `node sign.js` (ethers v6, fromPhrase + signMessage)
// over a few runs. ethers is installed from the npm registry into the user
// cache folder once. Without node or npm, or when the install fails, it
// returns 0 and why.
func nodeBaseline(b *testing.B) (time.Duration, string) {
	node, err := exec.LookPath("node")
	if err != nil {
		return 0, "node is not installed"
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return 0, "npm is not installed"
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
			return 0, fmt.Sprintf("npm install ethers@6 failed: %v: %s", err, firstLine(string(out)))
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
	return median(ts), ""
}
