package main

// section is a group of figures with targets.
type section struct {
	title   string
	figures []figure
}

// figure is one performance target: the benchmark metric that measures it,
// the baseline metric of the same benchmark, and the target (0: none; in
// the metric's unit).
type figure struct {
	what       string
	pkg        string // package path under the module
	bench      string // benchmark name without "Benchmark"
	metric     string
	base       string // what the baseline is
	baseMetric string
	target     float64
}

// sections are the figures issues 2 (plugin framework) and 3 (command line)
// ask `make bench` to print.
var sections = []section{
	{
		title: "Plugin framework (issue 2)",
		figures: []figure{
			{what: "plugin launch → first signature (tiny plugin)", pkg: "sdk", bench: "PluginLaunch",
				metric: "ms/launch-median", base: "go-plugin AutoMTLS", baseMetric: "ms/automtls-launch-median", target: 10},
			{what: "warm plugin round trip, host on 1 P (as the REPL)", pkg: "sdk", bench: "WarmSignature",
				metric: "µs/warm-median-host1P", base: "in process", baseMetric: "µs/inprocess-median", target: 150},
			{what: "warm plugin round trip, host on all CPUs", pkg: "sdk", bench: "WarmSignature",
				metric: "µs/warm-median", base: "in process", baseMetric: "µs/inprocess-median", target: 150},
		},
	},
	{
		title: "Command line (issue 3), release build of mm",
		figures: []figure{
			{what: "mm --version", pkg: "cmd/mm", bench: "Version",
				metric: "ms/version-median", base: "hello-world Go", baseMetric: "ms/hello-median", target: 6},
			{what: "mm --version, `go build` binary", pkg: "cmd/mm", bench: "Version",
				metric: "ms/version-gobuild-median", base: "hello-world Go", baseMetric: "ms/hello-median", target: 6},
			{what: "  of which package initialization", pkg: "cmd/mm", bench: "Version",
				metric: "ms/package-init"},
			{what: "sign-message, BYOK unencrypted (plugin launch)", pkg: "cmd/mm", bench: "SignMessage",
				metric: "ms/sign-plain-median", base: "node + ethers", baseMetric: "ms/node-ethers-median", target: 15},
			{what: "sign-message, BYOK unencrypted, `go build` binary", pkg: "cmd/mm", bench: "SignMessage",
				metric: "ms/sign-plain-gobuild-median", base: "node + ethers", baseMetric: "ms/node-ethers-median", target: 15},
			{what: "sign-message, BYOK encrypted and unlocked", pkg: "cmd/mm", bench: "SignMessage",
				metric: "ms/sign-unlocked-median", base: "node + ethers", baseMetric: "ms/node-ethers-median", target: 15},
			{what: "unlocked signing cost over `mm wallet address`", pkg: "cmd/mm", bench: "SignMessage",
				metric: "ms/unlocked-over-address", target: 1},
			{what: "unlocked signing cost over `mm --version`", pkg: "cmd/mm", bench: "SignMessage",
				metric: "ms/unlocked-over-version", target: 1},
			{what: "REPL signature (warm byok signer, host on 1 P)", pkg: "cmd/mm", bench: "WarmSignature",
				metric: "µs/repl-sign-median", base: "in process", baseMetric: "µs/inprocess-median", target: 1000},
			{what: "signature through the unlocked signer, connected", pkg: "cmd/mm", bench: "WarmSignature",
				metric: "µs/unlocked-sign-median", base: "in process", baseMetric: "µs/inprocess-median", target: 1000},
		},
	},
}
