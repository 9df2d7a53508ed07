package ledger

import (
	"context"
	"sort"
	"testing"
	"time"

	emu "github.com/mm-wallet/mm/hwtest/ledger"
	"github.com/mm-wallet/mm/sdk"
)

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// BenchmarkSignatureOverhead measures what the driver adds to a signature:
// a whole SignMessage through the signer (open the transport, app check,
// account check, the chunked signing APDU, parsing, recovery check) over
// loopback TCP and over the in-memory HID framing, next to the emulator's own
// time to process the signing APDU (key lookup, hashing, secp256k1 signing)
// measured in the same run. Reported as medians per signature.
func BenchmarkSignatureOverhead(b *testing.B) {
	for _, wire := range []string{"tcp", "hid"} {
		b.Run(wire, func(b *testing.B) {
			e, err := emu.NewEmulator(emu.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			uri := e.HIDURI()
			if wire == "tcp" {
				addr, err := e.Listen("127.0.0.1:0")
				if err != nil {
					b.Fatal(err)
				}
				uri = "tcp://" + addr
			}
			s := New()
			if _, err := s.Configure(context.Background(), &sdk.ConfigureRequest{Settings: map[string]string{SettingDevice: uri}}); err != nil {
				b.Fatal(err)
			}
			msg := []byte("benchmark message signed by the Ledger emulator")
			path := mustPathB(b, "m/44'/60'/0'/0/0")
			apdu := APDU{INS: insSignPersonal, P1: p1First, Data: chunks(path, []byte{0, 0, 0, byte(len(msg))}, msg, 0)[0]}.Bytes()
			req := &sdk.SignMessageRequest{Account: sdk.Account{Address: speculos0, Path: path.String()}, Message: msg}
			ctx := context.Background()
			// Warm both paths (key derivation is cached by the emulator, as
			// a device keeps its seed).
			if _, err := e.Exchange(apdu); err != nil {
				b.Fatal(err)
			}
			if _, err := s.SignMessage(ctx, req); err != nil {
				b.Fatal(err)
			}
			driver := make([]time.Duration, 0, b.N)
			device := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				if _, err := e.Exchange(apdu); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if _, err := s.SignMessage(ctx, req); err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				device = append(device, t1.Sub(t0))
				driver = append(driver, t2.Sub(t1))
			}
			b.StopTimer()
			md, me := median(driver), median(device)
			b.ReportMetric(float64(md.Microseconds()), "µs/sig-driver")
			b.ReportMetric(float64(me.Microseconds()), "µs/sig-emulator")
			b.ReportMetric(float64((md - me).Microseconds()), "µs/sig-overhead")
			b.ReportMetric(float64(md)/float64(me), "driver/emulator")
		})
	}
}

func mustPathB(b *testing.B, s string) Path {
	p, err := ParsePath(s)
	if err != nil {
		b.Fatal(err)
	}
	return p
}
