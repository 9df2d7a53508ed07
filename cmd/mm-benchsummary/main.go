// Command mm-benchsummary reads the output of `go test -bench` on standard
// input, as `make bench` pipes it, passes it through while it runs (less the
// noise: packages without benchmarks, PASS and platform lines), and then prints a
// summary: every figure the performance targets ask for, each beside the
// baseline measured in the same run with their ratio, the target and
// whether it is met; then every other benchmark, one line each, grouped by
// area; and the machine's load before and after, since every figure is a
// wall-clock median on a shared machine.
//
//	{ go test -run '^$' -bench . -benchtime 200x ./... 2>&1; echo "mm-benchsummary: exit $?"; } | go run ./cmd/mm-benchsummary
//
// The last line, when present, carries go test's exit status, which the
// command then exits with (a pipeline in make's sh cannot report it).
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

func main() {
	start := loadAverage()
	r := newReport()
	status := r.read(os.Stdin, os.Stdout)
	r.load = [2]string{start, loadAverage()}
	r.when = time.Now()
	r.print(os.Stdout)
	os.Exit(status)
}

// exitPrefix starts the line the Makefile appends with go test's status.
const exitPrefix = "mm-benchsummary: exit "

// result is one benchmark's reported metrics.
type result struct {
	pkg     string
	name    string // without the -GOMAXPROCS suffix
	n       int
	metrics map[string]float64
	order   []string // units in reported order
}

// report is everything read from go test.
type report struct {
	results []*result
	byKey   map[string]*result // pkg + " " + name
	notes   []string           // lines the benchmarks logged that the summary repeats
	failed  []string           // packages or benchmarks that failed
	cpu     string
	load    [2]string
	when    time.Time
}

func newReport() *report { return &report{byKey: map[string]*result{}} }

// read consumes go test's output, echoing the useful part to echo, and
// returns go test's exit status (0 when the input does not say).
func (r *report) read(in io.Reader, echo io.Writer) int {
	status := 0
	pkg := ""
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, exitPrefix):
			if n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, exitPrefix))); err == nil {
				status = n
			}
			continue
		case strings.HasPrefix(line, "pkg: "):
			pkg = strings.TrimPrefix(line, "pkg: ")
			continue
		case strings.HasPrefix(line, "cpu: "):
			r.cpu = strings.TrimPrefix(line, "cpu: ")
			continue
		case strings.HasPrefix(line, "goos: "), strings.HasPrefix(line, "goarch: "), trimmed == "PASS",
			strings.HasPrefix(line, "?") && strings.Contains(line, "[no test files]"):
			continue
		case strings.HasPrefix(line, "ok  "):
			if pkg == "" {
				continue // a package without benchmarks
			}
			pkg = ""
		case strings.HasPrefix(line, "FAIL"), strings.HasPrefix(trimmed, "--- FAIL"):
			r.failed = append(r.failed, strings.TrimSpace(strings.TrimPrefix(trimmed, "--- ")))
		case strings.HasPrefix(line, "Benchmark"):
			if res := parseBenchLine(pkg, line); res != nil {
				r.add(res)
			}
		case strings.Contains(line, "ethers baseline:"), strings.HasPrefix(line, "mm-bench: "):
			r.notes = append(r.notes, trimNote(trimmed))
		}
		fmt.Fprintln(echo, line)
	}
	return status
}

// trimNote drops a test log's "file.go:123: " prefix.
func trimNote(s string) string {
	if i := strings.Index(s, ".go:"); i >= 0 {
		if j := strings.Index(s[i+4:], ": "); j >= 0 {
			return s[i+4+j+2:]
		}
	}
	return s
}

func (r *report) add(res *result) {
	key := res.pkg + " " + res.name
	if old, ok := r.byKey[key]; ok { // -count > 1: keep the last
		*old = *res
		return
	}
	r.byKey[key] = res
	r.results = append(r.results, res)
}

// parseBenchLine parses "BenchmarkX-2  200  1.5 ms/foo  3 x-bar …".
func parseBenchLine(pkg, line string) *result {
	f := strings.Fields(line)
	if len(f) < 2 {
		return nil
	}
	n, err := strconv.Atoi(f[1])
	if err != nil {
		return nil // a name line of a benchmark that logs
	}
	name := strings.TrimPrefix(f[0], "Benchmark")
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			name = name[:i]
		}
	}
	res := &result{pkg: pkg, name: name, n: n, metrics: map[string]float64{}}
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return nil
		}
		unit := f[i+1]
		if _, dup := res.metrics[unit]; !dup {
			res.order = append(res.order, unit)
		}
		res.metrics[unit] = v
	}
	return res
}

// metric returns a benchmark's metric, if it was reported.
func (r *report) metric(pkg, bench, unit string) (float64, bool) {
	res, ok := r.byKey[modulePath+pkg+" "+bench]
	if !ok {
		return 0, false
	}
	v, ok := res.metrics[unit]
	return v, ok
}

const modulePath = "github.com/mm-wallet/mm/"

// loadAverage is the 1-, 5- and 15-minute load, where the system says.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// print writes the summary.
func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "\n==== mm performance summary — %s, %d CPUs", r.when.Format("2006-01-02 15:04"), runtime.NumCPU())
	if r.cpu != "" {
		fmt.Fprintf(w, " (%s)", r.cpu)
	}
	fmt.Fprintf(w, ", %s\n", runtime.Version())
	fmt.Fprintf(w, "     load average (1, 5, 15 min) before: %s, after: %s\n", r.load[0], r.load[1])
	fmt.Fprintln(w, "     medians of wall-clock times; every baseline is measured in the same run")
	used := map[string]bool{}
	for _, s := range sections {
		r.printSection(w, s, used)
	}
	for _, n := range r.notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	r.printOthers(w, used)
	if len(r.failed) > 0 {
		fmt.Fprintln(w, "\nFAILED:")
		for _, f := range r.failed {
			fmt.Fprintf(w, "  %s\n", f)
		}
	}
}

// col pads s to width (runes, not bytes: µ and × are one column each).
func col(s string, width int) string {
	if n := len([]rune(s)); n < width {
		return s + strings.Repeat(" ", width-n)
	}
	return s
}

func (r *report) printSection(w io.Writer, s section, used map[string]bool) {
	fmt.Fprintf(w, "\n%s\n", s.title)
	fmt.Fprintf(w, "  %s %s %s %s %s\n", col("figure", 52), col("median", 11), col("baseline (same run)", 34), col("ratio", 8), "target")
	for _, f := range s.figures {
		used[modulePath+f.pkg+" "+f.bench] = true
		v, ok := r.metric(f.pkg, f.bench, f.metric)
		if !ok {
			fmt.Fprintf(w, "  %s %s\n", col(f.what, 52), "— not measured ("+f.pkg+" "+f.bench+" did not report "+f.metric+")")
			continue
		}
		base, ratio := "", ""
		if f.base != "" {
			if bv, ok := r.metric(f.pkg, f.bench, f.baseMetric); ok {
				base = f.base + " " + format(bv, f.baseMetric)
				if bv != 0 {
					ratio = strconv.FormatFloat(v/bv, 'f', ratioDigits(v/bv), 64) + "×"
				}
			} else {
				base = f.base + ": none"
			}
		}
		target := ""
		if f.target > 0 {
			verdict := "met"
			if v > f.target {
				verdict = "NOT MET"
			}
			target = fmt.Sprintf("≤ %s %s", strconv.FormatFloat(f.target, 'f', -1, 64), unitOf(f.metric)) + "  " + verdict
		}
		line := fmt.Sprintf("  %s %s %s %s %s", col(f.what, 52), col(format(v, f.metric), 11), col(base, 34), col(ratio, 8), target)
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
}

func ratioDigits(x float64) int {
	if x >= 10 {
		return 1
	}
	return 2
}

// unitOf is the unit a metric name starts with ("ms" of "ms/launch-median").
func unitOf(metric string) string {
	u, _, _ := strings.Cut(metric, "/")
	if u == "us" {
		return "µs"
	}
	return u
}

func format(v float64, metric string) string {
	u := unitOf(metric)
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f %s", v, u)
	case v >= 10:
		return fmt.Sprintf("%.1f %s", v, u)
	default:
		return fmt.Sprintf("%.2f %s", v, u)
	}
}

// printOthers prints every benchmark not in a section, grouped by area.
func (r *report) printOthers(w io.Writer, used map[string]bool) {
	groups := map[string][]*result{}
	for _, res := range r.results {
		if used[res.pkg+" "+res.name] {
			continue
		}
		a := area(strings.TrimPrefix(res.pkg, modulePath))
		groups[a] = append(groups[a], res)
	}
	for _, a := range areas {
		if len(groups[a]) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s\n", a)
		for _, res := range groups[a] {
			var parts []string
			for _, u := range res.order {
				v := res.metrics[u]
				if u == "ns/op" && (v == 0 || len(res.order) > 1) {
					continue // a placeholder, or a figure that other metrics state better
				}
				parts = append(parts, strconv.FormatFloat(v, 'g', 4, 64)+" "+u)
			}
			fmt.Fprintf(w, "  %s %s\n", col(strings.TrimPrefix(res.pkg, modulePath)+" "+res.name, 48), strings.Join(parts, " · "))
		}
	}
}

// areas orders the groups of other benchmarks.
var areas = []string{
	"Signers and the plugin wire (other figures)",
	"Hardware (drivers against the emulators)",
	"Chain (dev chain, transaction pipeline, whole mm transfer processes)",
	"Other",
}

func area(pkg string) string {
	switch {
	case strings.HasPrefix(pkg, "signers/ledger"), strings.HasPrefix(pkg, "signers/trezor"), strings.HasPrefix(pkg, "signers/transport"), strings.HasPrefix(pkg, "hwtest"):
		return areas[1]
	case strings.HasPrefix(pkg, "signers/"), strings.HasPrefix(pkg, "sdk"), strings.HasPrefix(pkg, "plugins"):
		return areas[0]
	case strings.HasPrefix(pkg, "core"), pkg == "cmd/mm":
		return areas[2]
	}
	return areas[3]
}
