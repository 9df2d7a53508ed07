package mnemonic

import (
	"context"
	"encoding/hex"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/sdk/eip712"
)

// TestBadTransactions runs testdata/bad/transactions.json: each request
// gets its code and no signature.
func TestBadTransactions(t *testing.T) {
	t.Parallel()
	var cases []struct {
		Name    string   `json:"name"`
		Tx      string   `json:"tx"`
		ChainID string   `json:"chainId"`
		Code    sdk.Code `json:"code"`
	}
	readJSON(t, "testdata/bad/transactions.json", &cases)
	if len(cases) < 10 {
		t.Fatalf("only %d cases", len(cases))
	}
	s := memSigner(t, fixtureMnemonic, "")
	for _, c := range cases {
		raw, err := hex.DecodeString(c.Tx)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		var chainID *big.Int
		if c.ChainID != "" {
			chainID, _ = new(big.Int).SetString(c.ChainID, 10)
		}
		resp, err := s.SignTransaction(context.Background(), &sdk.SignTransactionRequest{Account: sdk.Account{Path: "m/44'/60'/0'/0/0"}, ChainID: chainID, Transaction: raw})
		if sdk.CodeOf(err) != c.Code || resp != nil {
			t.Errorf("%s: %v (response %v), want %s", c.Name, err, resp, c.Code)
		}
	}
}

// TestBadTypedData runs testdata/bad/typed-data.json: each document is
// refused with its code, whatever hashes come with it.
func TestBadTypedData(t *testing.T) {
	t.Parallel()
	var cases []struct {
		Name      string   `json:"name"`
		TypedData string   `json:"typedData"`
		Code      sdk.Code `json:"code"`
	}
	readJSON(t, "testdata/bad/typed-data.json", &cases)
	if len(cases) < 20 {
		t.Fatalf("only %d cases", len(cases))
	}
	s := memSigner(t, fixtureMnemonic, "")
	for _, c := range cases {
		if _, err := eip712.Parse([]byte(c.TypedData)); sdk.CodeOf(err) != c.Code {
			t.Errorf("%s: hashing gave %v, want %s", c.Name, err, c.Code)
		}
		resp, err := s.SignTypedData(context.Background(), &sdk.SignTypedDataRequest{Account: sdk.Account{Path: "m/44'/60'/0'/0/0"}, TypedData: []byte(c.TypedData)})
		if sdk.CodeOf(err) != c.Code || resp != nil {
			t.Errorf("%s: %v, want %s", c.Name, err, c.Code)
		}
	}
}

// TestSignedIntBoundaries: the range check refuses only values outside
// intN; both ends of the range are signed.
func TestSignedIntBoundaries(t *testing.T) {
	t.Parallel()
	doc := []byte(`{"types":{"EIP712Domain":[],"M":[{"name":"a","type":"int8"},{"name":"b","type":"int8[]"},{"name":"c","type":"int256"}]},"primaryType":"M","domain":{},
		"message":{"a":127,"b":[-128,"0x7f"],"c":"-57896044618658097711785492504343953926634992332820282019728792003956564819968"}}`)
	d, err := eip712.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	s := memSigner(t, fixtureMnemonic, "")
	resp, err := s.SignTypedData(context.Background(), &sdk.SignTypedDataRequest{Account: sdk.Account{Path: "m/44'/60'/0'/0/0"},
		TypedData: doc, DomainSeparator: d.DomainSeparator, MessageHash: d.MessageHash})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := crypto.SigToPub(d.Digest(), append(resp.Signature[:64:64], resp.Signature[64]-27))
	if err != nil || crypto.PubkeyToAddress(*pub) != fixtureAddress0(t) {
		t.Fatalf("signature does not recover to the account: %v", err)
	}
}
