package eip712

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"github.com/mm-wallet/mm/sdk"
)

func mustParse(t *testing.T, doc string) *Document {
	t.Helper()
	d, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// The "Mail" example of the EIP-712 specification, with its published hashes.
func TestMailExample(t *testing.T) {
	t.Parallel()
	d, err := Parse(mustRead(t, "testdata/mail.json"))
	if err != nil {
		t.Fatal(err)
	}
	if want := common.HexToHash("0xf2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f"); d.DomainSeparator != want {
		t.Errorf("domain separator %s, want %s", d.DomainSeparator, want)
	}
	if want := common.HexToHash("0xc52c0ee5d84264471806290a3f2c4cecfc5490626bf912d01f240d7a274b371e"); d.MessageHash == nil || *d.MessageHash != want {
		t.Errorf("message hash %v, want %s", d.MessageHash, want)
	}
	want := common.HexToHash("0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2")
	if got := common.BytesToHash(d.Digest()); got != want {
		t.Errorf("digest %s, want %s", got, want)
	}
	if got := common.BytesToHash(crypto.Keccak256([]byte{0x19, 0x01}, d.DomainSeparator[:], d.MessageHash[:])); got != want {
		t.Errorf("keccak of the parts %s", got)
	}
	if d.PrimaryType != "Mail" || d.ChainID.Cmp(big.NewInt(1)) != 0 {
		t.Errorf("primary type %q, chain id %v", d.PrimaryType, d.ChainID)
	}
	if err := d.CheckChainID(big.NewInt(1)); err != nil {
		t.Error(err)
	}
	err = d.CheckChainID(big.NewInt(137))
	if sdk.CodeOf(err) != CodeChainIDMismatch || !strings.Contains(sdk.AsError(err).Hint, "--chain-id 1") {
		t.Errorf("chain 137: %v", err)
	}
	if err := d.CheckHashes(d.DomainSeparator, d.MessageHash); err != nil {
		t.Error(err)
	}
}

// TestVectors checks the hashes against published values: the EIP-712
// specification's example and the Trezor firmware's v4 fixtures.
func TestVectors(t *testing.T) {
	t.Parallel()
	var vectors []struct {
		Name    string          `json:"name"`
		Doc     json.RawMessage `json:"data"`
		Domain  string          `json:"domain_separator_hash"`
		Message string          `json:"message_hash"`
		Digest  string          `json:"digest"`
	}
	b, err := os.ReadFile("testdata/eip712-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &vectors); err != nil {
		t.Fatal(err)
	}
	if len(vectors) < 6 {
		t.Fatalf("only %d vectors", len(vectors))
	}
	for _, v := range vectors {
		d, err := Parse(v.Doc)
		if err != nil {
			t.Errorf("%s: %v", v.Name, err)
			continue
		}
		if d.DomainSeparator.Hex() != v.Domain {
			t.Errorf("%s: domain separator %s, want %s", v.Name, d.DomainSeparator.Hex(), v.Domain)
		}
		got := ""
		if d.MessageHash != nil {
			got = d.MessageHash.Hex()
		}
		if got != v.Message {
			t.Errorf("%s: message hash %q, want %q", v.Name, got, v.Message)
		}
		if v.Digest != "" {
			if got := common.BytesToHash(d.Digest()).Hex(); got != v.Digest {
				t.Errorf("%s: digest %s, want %s", v.Name, got, v.Digest)
			}
		}
	}
}

func TestDomainOnly(t *testing.T) {
	t.Parallel()
	d := mustParse(t, `{"types":{"EIP712Domain":[{"name":"name","type":"string"}]},"primaryType":"EIP712Domain","domain":{"name":"x"},"message":{}}`)
	if d.MessageHash != nil || d.ChainID != nil {
		t.Errorf("domain-only document: %+v", d)
	}
	if got, want := d.Digest(), crypto.Keccak256([]byte{0x19, 0x01}, d.DomainSeparator[:]); !bytes.Equal(got, want) {
		t.Errorf("domain-only digest %x, want %x", got, want)
	}
	other := common.Hash{1}
	if err := d.CheckHashes(d.DomainSeparator, &other); sdk.CodeOf(err) != sdk.CodeInvalidTypedData {
		t.Errorf("message hash for an EIP712Domain primary type: %v", err)
	}
}

// TestEmptyDomain: a document without an EIP712Domain type, or with an
// empty one, has the empty domain (apitypes' own validation refuses it).
func TestEmptyDomain(t *testing.T) {
	t.Parallel()
	want := common.HexToHash("0x6192106f129ce05c9075d319c1fa6ea9b3ae37cbd0c1ef92e2be7137bb07baa1") // Trezor's bare_minimum fixture
	for _, doc := range []string{
		`{"types":{"EIP712Domain":[]},"primaryType":"EIP712Domain","domain":{},"message":{}}`,
		`{"types":{"M":[{"name":"a","type":"uint8"}]},"primaryType":"M","domain":null,"message":{"a":1}}`,
	} {
		d := mustParse(t, doc)
		if d.DomainSeparator != want {
			t.Errorf("%s: domain separator %s, want %s", doc, d.DomainSeparator, want)
		}
	}
	h, err := HashStruct(apitypes.Types{"EIP712Domain": {}}, "EIP712Domain", map[string]any{})
	if err != nil || h != want {
		t.Errorf("HashStruct of the empty domain: %s, %v", h, err)
	}
}

// TestOrder: the definitions keep the document's order; an absent domain
// type comes first.
func TestOrder(t *testing.T) {
	t.Parallel()
	d := mustParse(t, `{"types":{"Zed":[{"name":"a","type":"uint8"}],"Mail":[{"name":"z","type":"Zed"}],"Abc":[]},"primaryType":"Mail","domain":{},"message":{"z":{"a":1}}}`)
	if want := []string{"EIP712Domain", "Zed", "Mail", "Abc"}; !reflect.DeepEqual(d.Order, want) {
		t.Errorf("order %v, want %v", d.Order, want)
	}
	d = mustParse(t, `{"types":{"Mail":[],"EIP712Domain":[]},"primaryType":"Mail","domain":{},"message":{}}`)
	if want := []string{"Mail", "EIP712Domain"}; !reflect.DeepEqual(d.Order, want) {
		t.Errorf("order %v, want %v", d.Order, want)
	}
	if len(d.Types) != len(d.Order) {
		t.Errorf("%d types, %d names in order", len(d.Types), len(d.Order))
	}
}

// TestIntegers: integers come out as *big.Int whatever their spelling,
// both ends of every range are accepted, and a string spelling hashes as
// the number does.
func TestIntegers(t *testing.T) {
	t.Parallel()
	const types = `"types":{"EIP712Domain":[],"M":[{"name":"a","type":"int8"},{"name":"b","type":"int8[]"},{"name":"c","type":"int256"},{"name":"d","type":"uint256"},{"name":"e","type":"uint8[2]"}]},"primaryType":"M","domain":{}`
	d := mustParse(t, `{`+types+`,"message":{"a":127,"b":[-128,"0x7f","-0"],"c":"-57896044618658097711785492504343953926634992332820282019728792003956564819968","d":"0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff","e":[0,"255"]}}`)
	m := d.Message
	for _, v := range []any{m["a"], m["b"].([]any)[0], m["b"].([]any)[1], m["b"].([]any)[2], m["c"], m["d"], m["e"].([]any)[0], m["e"].([]any)[1]} {
		if _, ok := v.(*big.Int); !ok {
			t.Errorf("%v (%T) is not a *big.Int", v, v)
		}
	}
	if b := m["b"].([]any)[1].(*big.Int); b.Int64() != 127 {
		t.Errorf("0x7f read as %s", b)
	}
	numbers := mustParse(t, `{`+types+`,"message":{"a":1,"b":[],"c":-2,"d":16,"e":[3,4]}}`)
	strs := mustParse(t, `{`+types+`,"message":{"a":"1","b":[],"c":"-2","d":"0x10","e":["3","0x04"]}}`)
	if *numbers.MessageHash != *strs.MessageHash {
		t.Error("a string spelling hashes differently from the number")
	}
}

// TestDepth: structs nest MaxDepth levels below the root, not one more
// (testdata/bad/too-deep.json has one more).
func TestDepth(t *testing.T) {
	t.Parallel()
	types := map[string]any{"EIP712Domain": []any{}}
	msg := map[string]any{"v": 1}
	for i := MaxDepth; i >= 0; i-- {
		if i == MaxDepth {
			types[fmt.Sprint("S", i)] = []any{map[string]string{"name": "v", "type": "uint8"}}
			continue
		}
		types[fmt.Sprint("S", i)] = []any{map[string]string{"name": "x", "type": fmt.Sprint("S", i+1)}}
		if i > 0 {
			msg = map[string]any{"x": msg}
		}
	}
	doc, _ := json.Marshal(map[string]any{"types": types, "primaryType": "S0", "domain": map[string]any{}, "message": map[string]any{"x": msg}})
	if _, err := Parse(doc); err != nil {
		t.Fatalf("%d levels: %v", MaxDepth, err)
	}
}

func TestCheckHashes(t *testing.T) {
	t.Parallel()
	d, err := Parse(mustRead(t, "testdata/mail.json"))
	if err != nil {
		t.Fatal(err)
	}
	other := common.Hash{2}
	for name, c := range map[string]struct {
		ds common.Hash
		mh *common.Hash
	}{
		"other domain separator": {other, d.MessageHash},
		"other message hash":     {d.DomainSeparator, &other},
		"message hash missing":   {d.DomainSeparator, nil},
	} {
		err := d.CheckHashes(c.ds, c.mh)
		if e := sdk.AsError(err); e == nil || e.Code != sdk.CodeInvalidTypedData || e.Hint == "" {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestHashStructRecovers: a value apitypes panics on is an error.
func TestHashStructRecovers(t *testing.T) {
	t.Parallel()
	types := apitypes.Types{"EIP712Domain": {}, "M": {{Name: "to", Type: "P[]"}}, "P": {{Name: "n", Type: "string"}}}
	if _, err := HashStruct(types, "M", map[string]any{"to": []any{nil}}); err == nil {
		t.Fatal("no error for null inside an array of structs")
	}
}

// TestBad runs every input of testdata/bad against the code listed in
// CODES and the words its message must contain (the reason it is refused).
func TestBad(t *testing.T) {
	t.Parallel()
	f, err := os.Open("testdata/bad/CODES")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	listed := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.SplitN(line, " ", 3)
		if len(fields) < 3 {
			t.Fatalf("CODES line %q: want file, code and the words the message contains", line)
		}
		name, code, words := fields[0], fields[1], fields[2]
		listed[name] = true
		data := mustRead(t, filepath.Join("testdata/bad", name))
		d, err := Parse(data)
		e := sdk.AsError(err)
		if d != nil || e == nil || string(e.Code) != code || !strings.Contains(e.Message, words) || e.Hint == "" {
			t.Errorf("%s: got %v (%v), want %s with %q", name, d, err, code, words)
		}
	}
	files, _ := filepath.Glob("testdata/bad/*.json")
	for _, p := range files {
		if !listed[filepath.Base(p)] {
			t.Errorf("%s has no expected code in CODES", p)
		}
	}
}

func TestTooLarge(t *testing.T) {
	t.Parallel()
	doc := `{"types":{"EIP712Domain":[],"M":[{"name":"s","type":"string"}]},"primaryType":"M","domain":{},"message":{"s":"` + strings.Repeat("x", MaxSize) + `"}}`
	if _, err := Parse([]byte(doc)); sdk.CodeOf(err) != sdk.CodeInvalidTypedData || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("%d bytes: %v", len(doc), err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzParse: Parse never panics, returns either a document or a coded
// error, and a document's hashes are those apitypes gives for its values.
func FuzzParse(f *testing.F) {
	f.Add(mustReadF(f, "testdata/mail.json"))
	files, _ := filepath.Glob("testdata/bad/*.json")
	for _, p := range files {
		f.Add(mustReadF(f, p))
	}
	f.Add([]byte(`{"types":{"A":[{"name":"a","type":"A"}]},"primaryType":"A","domain":{},"message":{}}`))
	f.Add([]byte(`{"types":{"EIP712Domain":[],"M":[{"name":"a","type":"int8[2][]"},{"name":"b","type":"bytes"}]},"primaryType":"M","domain":{},"message":{"a":[[1,-2]],"b":"0x00"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Parse(b)
		if (d == nil) == (err == nil) {
			t.Fatalf("document %v with error %v", d, err)
		}
		if err != nil {
			if sdk.CodeOf(err) != sdk.CodeInvalidTypedData {
				t.Fatalf("error without INVALID_TYPED_DATA: %v", err)
			}
			return
		}
		ds, err := HashStruct(d.Types, DomainType, d.Domain)
		if err != nil || ds != d.DomainSeparator {
			t.Fatalf("domain rehashed to %s, %v", ds, err)
		}
		if (d.MessageHash == nil) != (d.PrimaryType == DomainType) {
			t.Fatalf("message hash %v for primary type %s", d.MessageHash, d.PrimaryType)
		}
		if err := d.CheckHashes(d.DomainSeparator, d.MessageHash); err != nil {
			t.Fatal(err)
		}
		if d.DomainSeparator != (common.Hash{}) && sdk.CodeOf(d.CheckHashes(common.Hash{}, d.MessageHash)) != sdk.CodeInvalidTypedData {
			t.Fatal("a zero domain separator passed")
		}
	})
}

func mustReadF(f *testing.F, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	return b
}
