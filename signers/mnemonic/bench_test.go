package mnemonic

import (
	"context"
	"encoding/hex"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/mm-wallet/mm/plugins"
	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/sdk/hdpath"
)

// Environment of the cold-start child process (the test binary re-executed).
const (
	envChild   = "MM_MNEMONIC_BENCH_CHILD"
	envKeyFile = "MM_MNEMONIC_BENCH_KEYFILE"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(envChild); mode != "" {
		os.Exit(coldChild(mode, os.Getenv(envKeyFile)))
	}
	plugins.RegisterBuiltin(builtinName, func() sdk.Signer { return New() })
	if slices.Equal(os.Args[1:], plugins.BuiltinArgs(builtinName)) {
		// The test binary re-executed by the plugin host as "mm plugin
		// serve byok".
		if err := plugins.ServeBuiltin(builtinName); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if os.Getenv(envServe) != "" {
		// The test binary re-executed as a plugin serving this signer.
		sdk.Serve(New())
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// coldChild is one cold process: it derives m/44'/60'/0'/0/0 from the key
// file and signs one message, the way mode says, and prints the signature.
func coldChild(mode, keyFile string) int {
	msg := accounts.TextHash([]byte("cold start"))
	var sig []byte
	switch mode {
	case "noop":
		return 0
	case "signer":
		s := New()
		ctx := context.Background()
		if _, err := s.Configure(ctx, &sdk.ConfigureRequest{Settings: map[string]string{SettingKeyFile: keyFile}}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		resp, err := s.SignMessage(ctx, &sdk.SignMessageRequest{Account: sdk.Account{Path: "m/44'/60'/0'/0/0"}, Message: []byte("cold start")})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		sig = resp.Signature
		sig[64] -= 27
	case "hdkeychain":
		// The same work through a BIP-32 library built on btcec.
		data, err := os.ReadFile(keyFile)
		if err != nil {
			return 1
		}
		seed, err := seedFromMnemonic(string(data), "")
		if err != nil {
			return 1
		}
		k, err := hdkeychain.NewMaster(seed, &chaincfg.MainNetParams)
		if err != nil {
			return 1
		}
		for _, i := range []uint32{44 + hdpath.Hardened, 60 + hdpath.Hardened, hdpath.Hardened, 0, 0} {
			if k, err = k.Derive(i); err != nil {
				return 1
			}
		}
		pk, err := k.ECPrivKey()
		if err != nil {
			return 1
		}
		key, err := crypto.ToECDSA(pk.Serialize())
		if err != nil {
			return 1
		}
		if sig, err = crypto.Sign(msg, key); err != nil {
			return 1
		}
	default:
		return 2
	}
	fmt.Println(hex.EncodeToString(sig))
	return 0
}

// BenchmarkColdStart measures a new signer process from exec to its first
// signature: process start, reading the key file, BIP-39 seed, BIP-32
// derivation and one signature. It reports medians beside two baselines
// from the same run: the same binary doing nothing (the price of any
// process), and the same work with btcsuite's hdkeychain, whose btcec
// curve decodes its base-point table on first use.
func BenchmarkColdStart(b *testing.B) {
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	keyFile := filepath.Join(b.TempDir(), "mnemonic")
	if err := os.WriteFile(keyFile, []byte(fixtureMnemonic+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	run := func(mode string) (time.Duration, string) {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), envChild+"="+mode, envKeyFile+"="+keyFile)
		start := time.Now()
		out, err := cmd.Output()
		d := time.Since(start)
		if err != nil {
			b.Fatalf("%s child: %v", mode, err)
		}
		return d, string(out)
	}
	// Both ways must sign the same bytes.
	_, a := run("signer")
	_, c := run("hdkeychain")
	if a != c || len(a) != 131 {
		b.Fatalf("the two children disagree: %q vs %q", a, c)
	}
	var noop, ours, lib []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d, _ := run("noop")
		noop = append(noop, d)
		d, _ = run("signer")
		ours = append(ours, d)
		d, _ = run("hdkeychain")
		lib = append(lib, d)
	}
	b.StopTimer()
	ms := func(d []time.Duration) float64 { return float64(median(d).Microseconds()) / 1000 }
	b.ReportMetric(ms(ours), "cold-first-sig-ms")
	b.ReportMetric(ms(noop), "baseline-empty-process-ms")
	b.ReportMetric(ms(ours)-ms(noop), "signer-work-ms")
	b.ReportMetric(ms(lib), "baseline-hdkeychain-cold-ms")
	b.ReportMetric(ms(lib)/ms(ours), "hdkeychain/ours")
	b.ReportMetric(0, "ns/op")
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkSignMessage is one in-process EIP-191 signature by a warm
// signer, beside go-ethereum's bare crypto.Sign measured in the same run.
func BenchmarkSignMessage(b *testing.B) {
	s, err := NewFromMnemonic(fixtureMnemonic, "")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	req := &sdk.SignMessageRequest{Account: sdk.Account{Path: "m/44'/60'/0'/0/0"}, Message: []byte("benchmark message")}
	if _, err := s.SignMessage(ctx, req); err != nil {
		b.Fatal(err)
	}
	key, _ := crypto.GenerateKey()
	hash := accounts.TextHash(req.Message)
	const baselineRounds = 200
	start := time.Now()
	for i := 0; i < baselineRounds; i++ {
		if _, err := crypto.Sign(hash, key); err != nil {
			b.Fatal(err)
		}
	}
	base := time.Since(start) / baselineRounds
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.SignMessage(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	per := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(per.Nanoseconds())/1000, "µs/sig")
	b.ReportMetric(float64(base.Nanoseconds())/1000, "baseline-crypto.Sign-µs")
	b.ReportMetric(float64(per)/float64(base), "signer/crypto.Sign")
}

// BenchmarkSignTransaction is one in-process EIP-1559 signature by a warm
// signer, beside go-ethereum's types.SignTx in the same run.
func BenchmarkSignTransaction(b *testing.B) {
	s, err := NewFromMnemonic(fixtureMnemonic, "")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	chainID := big.NewInt(1)
	to := common.HexToAddress("0x1d1c328764a41bda0492b66baa30c4a339ff85ef")
	tx := types.NewTx(&types.DynamicFeeTx{ChainID: chainID, Nonce: 1, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(100), Gas: 21000, To: &to, Value: big.NewInt(1)})
	raw, _ := tx.MarshalBinary()
	req := &sdk.SignTransactionRequest{Account: sdk.Account{Path: "m/44'/60'/0'/0/0"}, ChainID: chainID, Transaction: raw}
	if _, err := s.SignTransaction(ctx, req); err != nil {
		b.Fatal(err)
	}
	key, _ := crypto.GenerateKey()
	signer := types.LatestSignerForChainID(chainID)
	const baselineRounds = 200
	start := time.Now()
	for i := 0; i < baselineRounds; i++ {
		if _, err := types.SignTx(tx, signer, key); err != nil {
			b.Fatal(err)
		}
	}
	base := time.Since(start) / baselineRounds
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.SignTransaction(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	per := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(per.Nanoseconds())/1000, "µs/sig")
	b.ReportMetric(float64(base.Nanoseconds())/1000, "baseline-types.SignTx-µs")
	b.ReportMetric(float64(per)/float64(base), "signer/SignTx")
}
