package mnemonic

import (
	"context"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/sdk/eip712"
)

// Every byte a host sends is untrusted. These fuzz targets (run with
// go test -fuzz; their seeds run with every go test) check that the signer
// never panics and answers either a coded error without a signature or a
// signature.

func FuzzSignTransaction(f *testing.F) {
	to := common.HexToAddress("0x1d1c328764a41bda0492b66baa30c4a339ff85ef")
	for _, tx := range []*types.Transaction{
		types.NewTx(&types.LegacyTx{Nonce: 1, GasPrice: big.NewInt(1), Gas: 21000, To: &to, Value: big.NewInt(1)}),
		types.NewTx(&types.DynamicFeeTx{ChainID: big.NewInt(1), Nonce: 1, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(2), Gas: 21000, To: &to}),
		types.NewTx(&types.AccessListTx{ChainID: big.NewInt(1), Nonce: 1, GasPrice: big.NewInt(1), Gas: 21000, AccessList: types.AccessList{{Address: to}}}),
	} {
		b, _ := tx.MarshalBinary()
		f.Add(b, uint64(1))
		f.Add(b[:len(b)/2], uint64(1))
	}
	f.Add([]byte{}, uint64(0))
	f.Add([]byte{0x04, 0xc0}, uint64(1))
	f.Add([]byte{0x03}, uint64(1))
	f.Add([]byte{0xf8, 0xff}, uint64(5))
	s, err := NewFromMnemonic(fixtureMnemonic, "")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte, chainID uint64) {
		resp, err := s.SignTransaction(context.Background(), &sdk.SignTransactionRequest{
			Account: sdk.Account{Path: "m/44'/60'/0'/0/0"}, ChainID: new(big.Int).SetUint64(chainID), Transaction: raw,
		})
		checkAnswer(t, resp != nil && len(resp.Signature) > 0, err)
	})
}

func FuzzSignTypedData(f *testing.F) {
	f.Add([]byte(`{"types":{"EIP712Domain":[]},"primaryType":"EIP712Domain","domain":{},"message":{}}`))
	f.Add([]byte(`{"types":{"EIP712Domain":[{"name":"name","type":"string"}],"M":[{"name":"to","type":"P[]"}],"P":[{"name":"n","type":"string"}]},"primaryType":"M","domain":{"name":"x"},"message":{"to":[null, 1, "x", {}]}}`))
	f.Add([]byte(`{"types":{"EIP712Domain":[],"M":[{"name":"a","type":"uint8[2][]"}]},"primaryType":"M","domain":{},"message":{"a":[[1,2],[3]]}}`))
	f.Add([]byte(`{"types":{"EIP712Domain":[],"A":[{"name":"b","type":"B"}],"B":[{"name":"a","type":"A"}]},"primaryType":"A","domain":{},"message":{"b":{"a":{"b":{}}}}}`))
	f.Add([]byte(`{"types":{"EIP712Domain":[],"M":[{"name":"x","type":"bytes"}]},"primaryType":"M","domain":{},"message":{"x":12345678901234567890123456789}}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"types":null}`))
	s, err := NewFromMnemonic(fixtureMnemonic, "")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		var (
			ds common.Hash
			mh *common.Hash
		)
		d, herr := eip712.Parse(doc)
		if herr != nil && sdk.AsError(herr) == nil {
			t.Fatalf("uncoded error %v", herr)
		}
		if d != nil {
			ds, mh = d.DomainSeparator, d.MessageHash
		}
		resp, err := s.SignTypedData(context.Background(), &sdk.SignTypedDataRequest{
			Account: sdk.Account{Path: "m/44'/60'/0'/0/0"}, TypedData: doc, DomainSeparator: ds, MessageHash: mh,
		})
		checkAnswer(t, resp != nil && len(resp.Signature) > 0, err)
		if (herr == nil) != (err == nil) {
			t.Fatalf("hashing said %v, signing said %v", herr, err)
		}
	})
}

func FuzzNormalizeMnemonic(f *testing.F) {
	f.Add(fixtureMnemonic)
	f.Add("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about")
	f.Add("ALL all all all all all all all all all all all\n")
	f.Add("all all all")
	f.Fuzz(func(t *testing.T, m string) {
		canon, err := NormalizeMnemonic(m)
		if err != nil {
			if sdk.CodeOf(err) != sdk.CodeInvalidMnemonic {
				t.Fatalf("uncoded error %v", err)
			}
			return
		}
		if again, err := NormalizeMnemonic(canon); err != nil || again != canon {
			t.Fatalf("normal form is not stable: %q -> %q (%v)", canon, again, err)
		}
	})
}

// checkAnswer: exactly one of a signature and a coded error.
func checkAnswer(t *testing.T, signed bool, err error) {
	t.Helper()
	switch {
	case err != nil && signed:
		t.Fatalf("a signature came with the error %v", err)
	case err != nil && sdk.AsError(err) == nil:
		t.Fatalf("uncoded error %v", err)
	case err == nil && !signed:
		t.Fatal("neither a signature nor an error")
	}
}
