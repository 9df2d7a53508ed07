package eip712

import (
	"bufio"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/mm-wallet/mm/sdk"
)

// The "Mail" example of the EIP-712 specification, with its published hashes.
func TestMailExample(t *testing.T) {
	data, err := os.ReadFile("testdata/mail.json")
	if err != nil {
		t.Fatal(err)
	}
	d, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if want := common.HexToHash("0xf2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f"); d.DomainSeparator != want {
		t.Errorf("domain separator %s, want %s", d.DomainSeparator, want)
	}
	if want := common.HexToHash("0xc52c0ee5d84264471806290a3f2c4cecfc5490626bf912d01f240d7a274b371e"); d.MessageHash == nil || *d.MessageHash != want {
		t.Errorf("message hash %v, want %s", d.MessageHash, want)
	}
	digest := crypto.Keccak256(append(append([]byte{0x19, 0x01}, d.DomainSeparator[:]...), d.MessageHash[:]...))
	if want := common.HexToHash("0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2"); common.BytesToHash(digest) != want {
		t.Errorf("digest %x", digest)
	}
	if d.ChainID.Cmp(big.NewInt(1)) != 0 {
		t.Errorf("chain id %v", d.ChainID)
	}
	if err := d.CheckChainID(big.NewInt(1)); err != nil {
		t.Error(err)
	}
	if err := d.CheckChainID(big.NewInt(137)); sdk.CodeOf(err) != CodeChainIDMismatch {
		t.Errorf("chain 137: %v", err)
	}
}

func TestDomainOnly(t *testing.T) {
	d, err := Parse([]byte(`{"types":{"EIP712Domain":[{"name":"name","type":"string"}]},"primaryType":"EIP712Domain","domain":{"name":"x"},"message":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	if d.MessageHash != nil || d.ChainID != nil {
		t.Errorf("domain-only document: %+v", d)
	}
}

// TestBad runs every input of testdata/bad against the code listed in CODES.
func TestBad(t *testing.T) {
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
		name, code, _ := strings.Cut(line, " ")
		listed[name] = true
		data, err := os.ReadFile(filepath.Join("testdata/bad", name))
		if err != nil {
			t.Fatal(err)
		}
		_, err = Parse(data)
		if got := sdk.CodeOf(err); string(got) != code {
			t.Errorf("%s: got %q (%v), want %s", name, got, err, code)
		}
	}
	files, _ := filepath.Glob("testdata/bad/*.json")
	for _, p := range files {
		if !listed[filepath.Base(p)] {
			t.Errorf("%s has no expected code in CODES", p)
		}
	}
}

func FuzzParse(f *testing.F) {
	data, _ := os.ReadFile("testdata/mail.json")
	f.Add(data)
	f.Add([]byte(`{"types":{"A":[{"name":"a","type":"A"}]},"primaryType":"A","domain":{},"message":{}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Parse(b)
		if (d == nil) == (err == nil) {
			t.Fatalf("document %v with error %v", d, err)
		}
	})
}
