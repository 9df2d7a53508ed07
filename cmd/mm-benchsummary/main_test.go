package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func readSample(t *testing.T) (*report, int, string) {
	t.Helper()
	f, err := os.Open("testdata/bench.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := newReport()
	var echo bytes.Buffer
	status := r.read(f, &echo)
	return r, status, echo.String()
}

// The summary reads go test's output: benchmarks per package, go test's
// exit status, failures and the notes benchmarks logged.
func TestRead(t *testing.T) {
	r, status, echo := readSample(t)
	if status != 1 {
		t.Errorf("exit status %d, want go test's 1", status)
	}
	if len(r.results) != 9 {
		t.Errorf("%d benchmarks, want 9", len(r.results))
	}
	if v, ok := r.metric("sdk", "WarmSignature", "µs/warm-median-host1P"); !ok || v != 147.7 {
		t.Errorf("sdk WarmSignature host1P = %v %v", v, ok)
	}
	if v, ok := r.metric("cmd/mm", "WarmSignature", "µs/repl-sign-median"); !ok || v != 151.7 {
		t.Errorf("cmd/mm WarmSignature = %v %v (same name in another package)", v, ok)
	}
	if _, ok := r.metric("signers/ledger", "SignatureOverhead/tcp", "µs/sig-overhead"); !ok {
		t.Error("sub-benchmark not read")
	}
	if len(r.failed) != 2 || !strings.Contains(strings.Join(r.failed, "|"), "BenchmarkBroken") {
		t.Errorf("failures %q", r.failed)
	}
	if len(r.notes) != 1 || r.notes[0] != "ethers baseline: none (node is not installed)" {
		t.Errorf("notes %q", r.notes)
	}
	for _, noise := range []string{"no test files", "goos:", "\nPASS\n", "mm-benchsummary: exit", "cmd/mm/internal/config"} {
		if strings.Contains(echo, noise) {
			t.Errorf("echoed %q", noise)
		}
	}
	if !strings.Contains(echo, "BenchmarkStart-2") || !strings.Contains(echo, "ok  \tgithub.com/mm-wallet/mm/sdk") {
		t.Error("benchmark and ok lines must be echoed")
	}
}

// The summary sets each figure beside its baseline, ratio and target, says
// whether the target is met, and lists the other benchmarks by area.
func TestPrint(t *testing.T) {
	r, _, _ := readSample(t)
	r.load = [2]string{"0.50 0.40 0.30", "1.50 1.00 0.50"}
	var out bytes.Buffer
	r.print(&out)
	s := out.String()
	lineWith := func(what string) string {
		for _, l := range strings.Split(s, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), what) {
				return l
			}
		}
		t.Fatalf("no line for %q in:\n%s", what, s)
		return ""
	}
	for what, want := range map[string][]string{
		"plugin launch → first signature":          {"7.63 ms", "go-plugin AutoMTLS 41.8 ms", "0.18×", "≤ 10 ms  met"},
		"warm plugin round trip, host on 1 P":      {"148 µs", "in process 25.9 µs", "5.70×", "≤ 150 µs  met"},
		"warm plugin round trip, host on all CPUs": {"158 µs", "≤ 150 µs  NOT MET"},
		"mm --version ":                          {"4.60 ms", "hello-world Go 1.81 ms", "2.54×", "≤ 6 ms  met"},
		"sign-message, BYOK unencrypted (plugin": {"21.1 ms", "node + ethers: none", "≤ 15 ms  NOT MET"},
		"unlocked signing cost over `mm wallet":  {"3.91 ms", "≤ 1 ms  NOT MET"},
		"REPL signature":                         {"152 µs", "≤ 1000 µs  met"},
	} {
		l := lineWith(what)
		for _, w := range want {
			if !strings.Contains(l, w) {
				t.Errorf("%q line lacks %q: %s", what, w, l)
			}
		}
	}
	for _, want := range []string{
		"before: 0.50 0.40 0.30, after: 1.50 1.00 0.50",
		"note: ethers baseline: none (node is not installed)",
		"core/devnet Start", "43.58 start-ms",
		"signers/ledger SignatureOverhead/tcp",
		"cmd/mm/internal/toon Encode", "3954 ns/op",
		"cmd/mm CLITransfer",
		"FAILED:",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "cmd/mm Version ") {
		t.Error("a benchmark with targets is repeated among the others")
	}
	if i, j := strings.Index(s, "Hardware"), strings.Index(s, "Chain"); i < 0 || j < 0 || i > j {
		t.Error("areas out of order")
	}
}
