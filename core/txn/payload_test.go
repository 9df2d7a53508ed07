package txn

import (
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/mm-wallet/mm/core"
	"github.com/mm-wallet/mm/sdk"
)

func TestParsePayloadAcceptsEveryField(t *testing.T) {
	p, err := ParsePayload([]byte(`{
		"from": "0x52908400098527886E0F7030069857D2E4169EE7",
		"chainId": "0x539",
		"to": "0xde709f2102306220921060314715629080e2fb77",
		"value": "0xde0b6b3a7640000",
		"data": "0xa9059cbb",
		"gas": 60000,
		"nonce": "0x7",
		"maxFeePerGas": "0x77359400",
		"maxPriorityFeePerGas": "0x3b9aca00",
		"type": "0x2",
		"accessList": [{"address": "0xde709f2102306220921060314715629080e2fb77", "storageKeys": ["0x0000000000000000000000000000000000000000000000000000000000000001"]}]
	}`))
	if err != nil {
		t.Fatal(err)
	}
	if p.ChainID.Int64() != 1337 || p.Value.String() != "1000000000000000000" || *p.Gas != 60000 || *p.Nonce != 7 || *p.Type != 2 ||
		p.MaxFeePerGas.Int64() != 2_000_000_000 || p.MaxPriorityFeePerGas.Int64() != 1_000_000_000 || len(p.Data) != 4 ||
		len(p.AccessList) != 1 || len(p.AccessList[0].StorageKeys) != 1 || p.To != common.HexToAddress("0xde709f2102306220921060314715629080e2fb77") {
		t.Errorf("parsed %+v", p)
	}
	// "input" is the same as "data"; legacy pricing parses.
	p, err = ParsePayload([]byte(`{"to":"0xde709f2102306220921060314715629080e2fb77","input":"0x00ff","gasPrice":"0x1","type":0}`))
	if err != nil || len(p.Data) != 2 || p.GasPrice.Int64() != 1 {
		t.Errorf("input/gasPrice: %+v %v", p, err)
	}
	// The largest value is accepted.
	max := "0x" + "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
	if p, err := ParsePayload([]byte(`{"to":"0xde709f2102306220921060314715629080e2fb77","value":"` + max + `"}`)); err != nil || p.Value.BitLen() != 256 {
		t.Errorf("2^256-1: %v", err)
	}
}

func TestParsePayloadRejections(t *testing.T) {
	// The full table (with the dev chain) is core/testdata/bad; these are
	// the parser's corner cases.
	to := `"to":"0xde709f2102306220921060314715629080e2fb77"`
	for in, want := range map[string]sdk.Code{
		`{` + to + `,"data":"0x00","input":"0x01"}`:       core.CodeInvalidPayload,
		`{` + to + `,"gas":"0x5208","gasLimit":"0x5208"}`: core.CodeInvalidPayload,
		`{` + to + `,"gas":-1}`:                           core.CodeInvalidQuantity,
		`{` + to + `,"gas":1.5}`:                          core.CodeInvalidQuantity,
		`{` + to + `,"type":"0x2","gasPrice":"0x1"}`:      core.CodeInvalidPayload,
		`{` + to + `,"type":"0x0","accessList":[]}`:       core.CodeInvalidPayload,
		`{` + to + `,"accessList":[{"address":"0xde709f2102306220921060314715629080e2fb77","storageKeys":["0x01"]}]}`: core.CodeInvalidPayload,
		`{` + to + `,"accessList":[{"address":"0xde709f2102306220921060314715629080e2fb77","extra":1}]}`:              core.CodeInvalidPayload,
		`{` + to + `} {}`:             core.CodeInvalidPayload,
		`{` + to + `,"value":"0X1g"}`: core.CodeInvalidQuantity,
		`{"to":null}`:                 core.CodeMissingTo,
		`   `:                         core.CodeMissingPayload,
	} {
		_, err := ParsePayload([]byte(in))
		if got := sdk.CodeOf(err); got != want {
			t.Errorf("%s: %v, want %s", in, err, want)
		}
	}
}

func TestIntrinsicGas(t *testing.T) {
	ff := make([]byte, 100)
	for i := range ff {
		ff[i] = 0xff
	}
	al := types.AccessList{{Address: common.Address{}, StorageKeys: []common.Hash{{}, {}}}}
	for _, c := range []struct {
		data []byte
		al   types.AccessList
		want uint64
	}{
		{nil, nil, 21000},
		{[]byte{0, 1}, nil, 21000 + (1+4)*10}, // floor (10 per token) above 4+16
		{ff, nil, 21000 + 100*4*10},           // the EIP-7623 floor exceeds 21000 + 1600
		{nil, al, 21000 + 2400 + 2*1900},
	} {
		if got := IntrinsicGas(c.data, c.al); got != c.want {
			t.Errorf("IntrinsicGas(%d bytes, %d tuples) = %d, want %d", len(c.data), len(c.al), got, c.want)
		}
	}
}

func FuzzParsePayload(f *testing.F) {
	f.Add([]byte(`{"to":"0xde709f2102306220921060314715629080e2fb77","value":"0x1"}`))
	f.Add([]byte(`{"to":"0xde709f2102306220921060314715629080e2fb77","accessList":[{"address":"0x00","storageKeys":[]}]}`))
	f.Add([]byte(`{"gas":"0x","nonce":1e99}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := ParsePayload(in)
		if (p == nil) == (err == nil) {
			t.Fatalf("ParsePayload(%q) = %v, %v", in, p, err)
		}
		if err != nil && sdk.CodeOf(err) == "" {
			t.Fatalf("uncoded error %v", err)
		}
	})
}
