package signertest

import (
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"github.com/mm-wallet/mm/sdk/eip712"
)

// TypedDataHashes returns the EIP-712 v4 domain separator and message hash
// of a typed-data JSON document, as a host sends them in
// sdk.SignTypedDataRequest: the message hash is nil when the primary type
// is EIP712Domain. It is eip712.Parse, which mm's host and built-in signers
// use too: exact integers, an empty domain allowed, strict checks, and an
// INVALID_TYPED_DATA *sdk.Error for a document it refuses.
func TypedDataHashes(doc []byte) (domain common.Hash, message *common.Hash, err error) {
	d, err := eip712.Parse(doc)
	if err != nil {
		return common.Hash{}, nil, err
	}
	return d.DomainSeparator, d.MessageHash, nil
}

// TypedDataDigest is what an EIP-712 signature signs:
// keccak256(0x19 0x01 ‖ domain ‖ message), without message when it is nil.
// It is eip712.Digest.
func TypedDataDigest(domain common.Hash, message *common.Hash) []byte {
	return eip712.Digest(domain, message)
}

// typedDoc is one EIP-712 document the suite signs.
type typedDoc struct {
	name string
	json string
	// limit is the case a signer may declare it cannot sign this
	// document as (Options.Limits).
	limit Case
}

// typedDocs covers nested structs, arrays of structs, bytes, string, a
// bare-minimum domain and EIP712Domain as the primary type.
var typedDocs = []typedDoc{
	{"nested structs (the EIP-712 Mail example)", `{
	"types": {
		"EIP712Domain": [{"name":"name","type":"string"},{"name":"version","type":"string"},{"name":"chainId","type":"uint256"},{"name":"verifyingContract","type":"address"}],
		"Person": [{"name":"name","type":"string"},{"name":"wallet","type":"address"}],
		"Mail": [{"name":"from","type":"Person"},{"name":"to","type":"Person"},{"name":"contents","type":"string"}]
	},
	"primaryType": "Mail",
	"domain": {"name":"Ether Mail","version":"1","chainId":1,"verifyingContract":"0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"},
	"message": {
		"from": {"name":"Cow","wallet":"0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
		"to": {"name":"Bob","wallet":"0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},
		"contents": "Hello, Bob!"
	}
}`, ""},
	{"arrays of structs, bytes, bytes32, string[], uint256 and int8", `{
	"types": {
		"EIP712Domain": [{"name":"name","type":"string"},{"name":"chainId","type":"uint256"},{"name":"salt","type":"bytes32"}],
		"Person": [{"name":"name","type":"string"},{"name":"wallet","type":"address"}],
		"Group": [{"name":"name","type":"string"},{"name":"members","type":"Person[]"},{"name":"tags","type":"string[]"},{"name":"payload","type":"bytes"},{"name":"digest","type":"bytes32"},{"name":"nonce","type":"uint256"},{"name":"delta","type":"int8"}]
	},
	"primaryType": "Group",
	"domain": {"name":"mm conformance","chainId":"0x89","salt":"0xf2d857f4a3edcb9b78b4d503bfe733db1e3f6cdc2b7971ee739626c97e86a558"},
	"message": {
		"name": "signers",
		"members": [
			{"name":"Alice","wallet":"0x00000000000000000000000000000000000000A1"},
			{"name":"Bob","wallet":"0x00000000000000000000000000000000000000b2"}
		],
		"tags": ["alpha", "", "ω"],
		"payload": "0x00ff1080",
		"digest": "0x1111111111111111111111111111111111111111111111111111111111111111",
		"nonce": "115792089237316195423570985008687907853269984665640564039457584007913129639935",
		"delta": -5
	}
}`, ""},
	{"bytes and string, empty and long", `{
	"types": {
		"EIP712Domain": [{"name":"name","type":"string"},{"name":"version","type":"string"}],
		"Note": [{"name":"title","type":"string"},{"name":"body","type":"bytes"},{"name":"empty","type":"bytes"},{"name":"text","type":"string"}]
	},
	"primaryType": "Note",
	"domain": {"name":"mm","version":"2"},
	"message": {
		"title": "",
		"body": "0x` + strings.Repeat("0123456789abcdef", 40) + `",
		"empty": "0x",
		"text": "h\u00e9llo \u2713 \ud83d\ude80 ` + strings.Repeat("long text ", 100) + `"
	}
}`, ""},
	{"bare-minimum domain", `{
	"types": {"EIP712Domain": [], "Message": [{"name":"element","type":"Element[]"}], "Element": [{"name":"foo","type":"int8"}]},
	"primaryType": "Message",
	"domain": {},
	"message": {"element": [{"foo": 1}, {"foo": -2}]}
}`, ""},
	{"EIP712Domain as the primary type", `{
	"types": {"EIP712Domain": [{"name":"name","type":"string"},{"name":"chainId","type":"uint256"}]},
	"primaryType": "EIP712Domain",
	"domain": {"name":"mm","chainId":1},
	"message": {}
}`, CaseTypedDataDomainPrimary},
	{"bare-minimum EIP712Domain primary type", `{"types":{"EIP712Domain":[]},"primaryType":"EIP712Domain","domain":{},"message":{}}`, CaseTypedDataDomainPrimary},
}

// badTypedDocs are documents a full-mode signer must refuse with
// INVALID_TYPED_DATA whatever hashes come with them.
var badTypedDocs = []typedDoc{
	{"empty", ``, ""},
	{"not JSON", `{"types": {"EIP712Domain": [`, ""},
	{"a JSON array", `[1, 2, 3]`, ""},
	{"a JSON string", `"typed data"`, ""},
	{"no types", `{"primaryType":"Mail","domain":{"name":"x"},"message":{"a":"b"}}`, ""},
	{"primary type not among the types", `{"types":{"EIP712Domain":[{"name":"name","type":"string"}]},"primaryType":"Mail","domain":{"name":"x"},"message":{}}`, ""},
	{"undefined field type", `{"types":{"EIP712Domain":[{"name":"name","type":"string"}],"Mail":[{"name":"to","type":"Nobody"}]},"primaryType":"Mail","domain":{"name":"x"},"message":{"to":{}}}`, ""},
	{"uint8 out of range", `{"types":{"EIP712Domain":[{"name":"name","type":"string"}],"M":[{"name":"v","type":"uint8"}]},"primaryType":"M","domain":{"name":"x"},"message":{"v":300}}`, ""},
	{"null inside an array of structs", `{"types":{"EIP712Domain":[{"name":"name","type":"string"}],"P":[{"name":"n","type":"string"}],"M":[{"name":"to","type":"P[]"}]},"primaryType":"M","domain":{"name":"x"},"message":{"to":[null]}}`, ""},
	{"string where an address belongs", `{"types":{"EIP712Domain":[{"name":"name","type":"string"}],"M":[{"name":"a","type":"address"}]},"primaryType":"M","domain":{"name":"x"},"message":{"a":"not an address"}}`, ""},
}
