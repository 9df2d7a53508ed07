package trezor_test

import (
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	emu "github.com/mm-wallet/mm/hwtest/trezor"
	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/signers/trezor"
)

// BenchmarkDriverOverhead measures what the driver adds to each signature:
// a personal message and a legacy transaction with 4 KiB of calldata
// (EthereumTxRequest/Ack rounds), signed through the whole driver and
// transport against the emulator — over UDP as with the official emulator,
// and over the emulator's in-process transport to separate the driver's
// own cost from the socket's — next to the emulator's own signing time
// (key lookup, hashing, RFC 6979 signature) measured in the same run.
//
// Reported per signature: total µs, device µs, overhead µs (total −
// device) and the ratio total/device.
func BenchmarkDriverOverhead(b *testing.B) {
	to := common.HexToAddress("0x1d1c328764a41bda0492b66baa30c4a339ff85ef")
	data := make([]byte, 4096)
	for i := range data {
		data[i] = byte(i)
	}
	rawTx, err := types.NewTx(&types.LegacyTx{Nonce: 1, GasPrice: big.NewInt(1e9), Gas: 100000, To: &to, Data: data}).MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	acct := sdk.Account{Path: "m/44'/60'/0'/0/0", Address: common.HexToAddress("0x73d0385F4d8E00C5e6504C6030F47BF6212736A8")}
	ops := map[string]func(s *trezor.Signer) error{
		"message": func(s *trezor.Signer) error {
			_, err := s.SignMessage(ctxFor(b), &sdk.SignMessageRequest{Account: acct, Message: []byte("benchmark")})
			return err
		},
		"tx-4KiB": func(s *trezor.Signer) error {
			_, err := s.SignTransaction(ctxFor(b), &sdk.SignTransactionRequest{Account: acct, ChainID: big.NewInt(1), Transaction: rawTx})
			return err
		},
	}
	for _, opName := range []string{"message", "tx-4KiB"} {
		for _, wire := range []string{"udp", "memory"} {
			b.Run(opName+"/"+wire, func(b *testing.B) {
				e, uri := startEmulator(b, emu.Options{})
				s := newSigner(b, uri)
				if wire == "memory" {
					s = trezor.NewWithTransport(e.Transport())
				}
				op := ops[opName]
				if err := op(s); err != nil { // connect, Initialize, address check
					b.Fatal(err)
				}
				before := e.Stats()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := op(s); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				after := e.Stats()
				n := after.Signatures - before.Signatures
				if n != b.N {
					b.Fatalf("%d signatures for %d calls", n, b.N)
				}
				total := b.Elapsed() / time.Duration(b.N)
				device := (after.SigningTime - before.SigningTime) / time.Duration(b.N)
				us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
				b.ReportMetric(us(total), "µs/sig")
				b.ReportMetric(us(device), "device-µs/sig")
				b.ReportMetric(us(total-device), "overhead-µs/sig")
				if device > 0 {
					b.ReportMetric(float64(total)/float64(device), "total/device")
				}
			})
		}
	}
}
