package trezor_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	emu "github.com/mm-wallet/mm/hwtest/trezor"
	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/signers/transport"
	"github.com/mm-wallet/mm/signers/trezor"
)

// The two firmware families: legacy (Trezor One) and Core (Model T).
var profiles = []emu.Model{emu.ModelOne, emu.ModelT}

func TestVectorsAddresses(t *testing.T) {
	f := loadFixtures(t)
	for _, m := range profiles {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			_, uri := startEmulator(t, emu.Options{Model: m, Mnemonic: f.GetAddress.Mnemonic})
			s := newSigner(t, uri)
			req := &sdk.AccountsRequest{}
			for _, c := range f.GetAddress.Cases {
				req.Paths = append(req.Paths, c.Path)
			}
			if len(req.Paths) == 0 {
				t.Fatal("no address cases")
			}
			resp, err := s.Accounts(ctxFor(t), req)
			if err != nil {
				t.Fatal(err)
			}
			for i, c := range f.GetAddress.Cases {
				if got := resp.Accounts[i].Address.Hex(); got != c.Address {
					t.Errorf("%s: got %s, want %s", c.Path, got, c.Address)
				}
				if resp.Accounts[i].Path != c.Path {
					t.Errorf("path %q came back as %q", c.Path, resp.Accounts[i].Path)
				}
			}
		})
	}
}

// buildTx makes the unsigned transaction of a fixture case.
func buildTx(t *testing.T, c txCase, dynamic bool) (*types.Transaction, []byte) {
	t.Helper()
	data, err := hex.DecodeString(c.Data)
	if err != nil {
		t.Fatal(err)
	}
	var to *common.Address
	if c.To != "" {
		a := common.HexToAddress(c.To)
		to = &a
	}
	var tx *types.Transaction
	if dynamic {
		tx = types.NewTx(&types.DynamicFeeTx{
			ChainID: decBig(t, c.ChainID), Nonce: hexBig(t, c.Nonce).Uint64(),
			GasTipCap: hexBig(t, c.MaxPriorityFee), GasFeeCap: hexBig(t, c.MaxGasFee),
			Gas: hexBig(t, c.GasLimit).Uint64(), To: to, Value: hexBig(t, c.Value), Data: data,
		})
	} else {
		tx = types.NewTx(&types.LegacyTx{
			Nonce: hexBig(t, c.Nonce).Uint64(), GasPrice: hexBig(t, c.GasPrice), Gas: hexBig(t, c.GasLimit).Uint64(),
			To: to, Value: hexBig(t, c.Value), Data: data,
		})
	}
	raw, err := tx.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return tx, raw
}

func runTxVectors(t *testing.T, file txFile, dynamic bool) {
	if len(file.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, m := range profiles {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			e, uri := startEmulator(t, emu.Options{Model: m, Mnemonic: file.Mnemonic})
			s := newSigner(t, uri)
			for _, c := range file.Cases {
				_, raw := buildTx(t, c, dynamic)
				before := e.Stats().Signatures
				resp, err := s.SignTransaction(ctxFor(t), &sdk.SignTransactionRequest{
					Account: sdk.Account{Path: c.Path}, ChainID: decBig(t, c.ChainID), Transaction: raw,
				})
				if err != nil {
					t.Fatalf("%s: %v", c.Name, err)
				}
				signed := new(types.Transaction)
				if err := signed.UnmarshalBinary(resp.SignedTransaction); err != nil {
					t.Fatalf("%s: %v", c.Name, err)
				}
				v, r, sv := signed.RawSignatureValues()
				if v.Cmp(decBig(t, c.SigV)) != 0 || r.Cmp(hexBig(t, c.SigR)) != 0 || sv.Cmp(hexBig(t, c.SigS)) != 0 {
					t.Errorf("%s: got v=%s r=%x s=%x, want v=%s r=%s s=%s", c.Name, v, r, sv, c.SigV, c.SigR, c.SigS)
				}
				if len(resp.Signature) != 65 || resp.Signature[64] > 1 {
					t.Errorf("%s: Signature %x is not r‖s‖parity", c.Name, resp.Signature)
				}
				if got := e.Stats().Signatures - before; got != 1 {
					t.Errorf("%s: the device signed %d times", c.Name, got)
				}
			}
		})
	}
}

func TestVectorsSignTx(t *testing.T)        { runTxVectors(t, loadFixtures(t).SignTx, false) }
func TestVectorsSignTxEIP155(t *testing.T)  { runTxVectors(t, loadFixtures(t).SignTx155, false) }
func TestVectorsSignTxEIP1559(t *testing.T) { runTxVectors(t, loadFixtures(t).SignTx1559, true) }

func TestVectorsSignMessage(t *testing.T) {
	f := loadFixtures(t)
	for _, m := range profiles {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			_, uri := startEmulator(t, emu.Options{Model: m, Mnemonic: f.SignMessage.Mnemonic})
			s := newSigner(t, uri)
			for _, c := range f.SignMessage.Cases {
				resp, err := s.SignMessage(ctxFor(t), &sdk.SignMessageRequest{
					Account: sdk.Account{Path: c.Path, Address: common.HexToAddress(c.Address)}, Message: []byte(c.Msg),
				})
				if err != nil {
					t.Fatalf("%q: %v", c.Msg, err)
				}
				if got := hex.EncodeToString(resp.Signature); got != c.Sig {
					t.Errorf("%q: got %s, want %s", c.Msg, got, c.Sig)
				}
			}
		})
	}
}

// TestVectorsTypedData signs every typed-data case: in full on the Core
// profile, as hashes on the Trezor One; the signature is the same.
func TestVectorsTypedData(t *testing.T) {
	f := loadFixtures(t)
	if len(f.Typed.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, m := range profiles {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			e, uri := startEmulator(t, emu.Options{Model: m, Mnemonic: f.Typed.Mnemonic})
			s := newSigner(t, uri)
			info, err := s.Info(ctxFor(t), &sdk.InfoRequest{})
			if err != nil {
				t.Fatal(err)
			}
			wantMode := sdk.TypedDataFull
			if m == emu.ModelOne {
				wantMode = sdk.TypedDataHashed
			}
			if info.Capabilities.TypedData != wantMode {
				t.Fatalf("Info says typed data %q, want %q", info.Capabilities.TypedData, wantMode)
			}
			for _, c := range f.Typed.Cases {
				req := &sdk.SignTypedDataRequest{
					Account:         sdk.Account{Path: c.Path, Address: common.HexToAddress(c.Address)},
					TypedData:       c.Data,
					DomainSeparator: common.HexToHash(c.Domain),
				}
				if c.Message != nil {
					h := common.HexToHash(*c.Message)
					req.MessageHash = &h
				}
				before := e.Stats().Messages
				resp, err := s.SignTypedDataWith(ctxFor(t), req, trezor.TypedDataOptions{NonV4Arrays: !c.V4})
				if err != nil {
					t.Fatalf("%s: %v", c.Name, err)
				}
				if got := "0x" + hex.EncodeToString(resp.Signature); got != c.Sig {
					t.Errorf("%s: got %s, want %s", c.Name, got, c.Sig)
				}
				// Core reads the whole document through struct and value
				// requests; the One gets one message with the hashes.
				exchanged := e.Stats().Messages - before
				if m == emu.ModelOne && exchanged > 4 || m != emu.ModelOne && exchanged < 6 {
					t.Errorf("%s: %d messages exchanged on %s", c.Name, exchanged, m)
				}
			}
		})
	}
}

// recording wraps a transport and keeps every request frame.
type recording struct {
	transport.Transport
	mu   sync.Mutex
	reqs [][]byte
}

func (r *recording) Exchange(ctx context.Context, req []byte) ([]byte, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, append([]byte(nil), req...))
	r.mu.Unlock()
	return r.Transport.Exchange(ctx, req)
}

// TestWireExamples checks that the driver puts exactly the recorded packets
// on the wire for EthereumGetAddress m/44'/60'/0'/0/0 and that the
// emulator answers with exactly the recorded EthereumAddress packets.
func TestWireExamples(t *testing.T) {
	f := loadFixtures(t)
	e, uri := startEmulator(t, emu.Options{})
	tr, err := transport.Dial(ctxFor(t), uri)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recording{Transport: tr}
	s := trezor.NewWithTransport(rec)
	defer tr.Close()
	resp, err := s.Accounts(ctxFor(t), &sdk.AccountsRequest{Paths: []string{"m/44'/60'/0'/0/0"}})
	if err != nil {
		t.Fatal(err)
	}
	var sent []byte
	for _, r := range rec.reqs {
		if typ, _, _ := transport.ParseTrezorFrame(r); typ == 56 {
			sent = r
		}
	}
	packets, err := transport.TrezorPackets(sent)
	if err != nil || len(packets) != len(f.Wire.GetAddress.Packets) {
		t.Fatalf("driver sent %d packets (%v), want %d", len(packets), err, len(f.Wire.GetAddress.Packets))
	}
	for i, p := range packets {
		if want, _ := hex.DecodeString(f.Wire.GetAddress.Packets[i]); !bytes.Equal(p, want) {
			t.Fatalf("packet %d\n got %x\nwant %x", i, p, want)
		}
	}
	// The emulator's reply, framed as packets.
	reply, err := tr.Exchange(ctxFor(t), sent)
	if err != nil {
		t.Fatal(err)
	}
	rp, _ := transport.TrezorPackets(reply)
	for i, p := range rp {
		if want, _ := hex.DecodeString(f.Wire.Address.Packets[i]); !bytes.Equal(p, want) {
			t.Fatalf("reply packet %d\n got %x\nwant %x", i, p, want)
		}
	}
	if resp.Accounts[0].Address.Hex() != "0x73d0385F4d8E00C5e6504C6030F47BF6212736A8" {
		t.Fatalf("address %s", resp.Accounts[0].Address.Hex())
	}
	_ = e
	_ = json.Valid
}
