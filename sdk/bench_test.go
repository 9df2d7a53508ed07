package sdk_test

import (
	"context"
	"os/exec"
	"runtime"
	"sort"
	"testing"
	"time"

	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/sdk/internal/benchsigner"
)

var tiny = benchsigner.New()

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

type launcher func(context.Context, *exec.Cmd, sdk.PluginOptions) (*sdk.PluginClient, error)

// launchToFirstSignature times spawn, handshake, mutual TLS and the first
// signature; closing the plugin is not timed.
func launchToFirstSignature(b *testing.B, l launcher) time.Duration {
	b.Helper()
	ctx := context.Background()
	req := &sdk.SignMessageRequest{Account: account(), Message: []byte("first signature")}
	start := time.Now()
	c, err := l(ctx, exec.Command(benchPlugin), sdk.PluginOptions{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	r, err := c.SignMessage(ctx, req)
	d := time.Since(start)
	if err != nil || len(r.Signature) != 65 {
		b.Fatalf("first signature: %v", err)
	}
	c.Close()
	return d
}

// BenchmarkPluginLaunch: plugin launch (spawn, handshake, mutual TLS) to
// first signature (target: median ≤ 10 ms), beside go-plugin's default
// AutoMTLS launch of the same plugin, alternating in the same run. The
// plugin is benchsigner: a fixed key and crypto.Sign, nothing else.
func BenchmarkPluginLaunch(b *testing.B) {
	ours := make([]time.Duration, 0, b.N)
	base := make([]time.Duration, 0, b.N)
	for i := 0; i < b.N; i++ {
		ours = append(ours, launchToFirstSignature(b, sdk.Launch))
		base = append(base, launchToFirstSignature(b, sdk.LaunchAutoMTLS))
	}
	m, mb := median(ours), median(base)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(m)/1e6, "ms/launch-median")
	b.ReportMetric(float64(mb)/1e6, "ms/automtls-launch-median")
	b.ReportMetric(float64(m)/float64(mb), "launch/automtls")
}

// BenchmarkWarmSignature: signature round trip through a running plugin
// (target: median ≤ 150 µs), beside the same signer in process, in the same
// run. The round trip is measured twice: with the host's GOMAXPROCS as it
// is, and with the host on one P (as a CLI host may run), because on a
// small, busy machine a host's idle Ps spin and take the CPU the plugin
// needs.
func BenchmarkWarmSignature(b *testing.B) {
	ctx := context.Background()
	c, err := sdk.Launch(ctx, exec.Command(benchPlugin), sdk.PluginOptions{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	req := &sdk.SignMessageRequest{Account: account(), Message: []byte("a warm signature")}
	measure := func() (warm, inproc []time.Duration) {
		for i := 0; i < 20; i++ { // connection and caches warm
			if _, err := c.SignMessage(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
		for i := 0; i < b.N; i++ {
			start := time.Now()
			if _, err := c.SignMessage(ctx, req); err != nil {
				b.Fatal(err)
			}
			warm = append(warm, time.Since(start))
			start = time.Now()
			if _, err := tiny.SignMessage(ctx, req); err != nil {
				b.Fatal(err)
			}
			inproc = append(inproc, time.Since(start))
		}
		return warm, inproc
	}
	b.ResetTimer()
	warm, inproc := measure()
	prev := runtime.GOMAXPROCS(1)
	warm1, _ := measure()
	runtime.GOMAXPROCS(prev)
	m, mi, m1 := median(warm), median(inproc), median(warm1)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(m)/1e3, "µs/warm-median")
	b.ReportMetric(float64(m1)/1e3, "µs/warm-median-host1P")
	b.ReportMetric(float64(mi)/1e3, "µs/inprocess-median")
	b.ReportMetric(float64(m)/float64(mi), "warm/inprocess")
}
