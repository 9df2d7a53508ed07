package eip712

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/signer/core/apitypes"
)

// BenchmarkParse reports what one reading of a document costs a host or a
// signer, beside the baseline the five former copies shared: decode with
// exact numbers and two apitypes HashStruct calls, no other check. Both run
// in turn in every iteration, so a busy machine slows them alike.
func BenchmarkParse(b *testing.B) {
	for _, c := range []struct{ name, path string }{
		{"mail", "testdata/mail.json"},
		{"vectors", "testdata/eip712-vectors.json"},
	} {
		b.Run(c.name, func(b *testing.B) {
			docs := benchDocs(b, c.path)
			var parse, bare time.Duration
			b.ReportAllocs()
			for b.Loop() {
				for _, doc := range docs {
					t0 := time.Now()
					if _, err := Parse(doc); err != nil {
						b.Fatal(err)
					}
					t1 := time.Now()
					if err := bareHashes(doc); err != nil {
						b.Fatal(err)
					}
					parse += t1.Sub(t0)
					bare += time.Since(t1)
				}
			}
			n := float64(b.N * len(docs))
			b.ReportMetric(float64(parse.Nanoseconds())/n, "parse-ns/doc")
			b.ReportMetric(float64(bare.Nanoseconds())/n, "baseline-apitypes-ns/doc")
			b.ReportMetric(float64(parse)/float64(bare), "parse/baseline")
		})
	}
}

// benchDocs reads one document, or the "data" of each vector in a list.
func benchDocs(b *testing.B, path string) [][]byte {
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	if !bytes.HasPrefix(bytes.TrimSpace(data), []byte("[")) {
		return [][]byte{data}
	}
	var vs []struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(data, &vs); err != nil {
		b.Fatal(err)
	}
	out := make([][]byte, len(vs))
	for i, v := range vs {
		out[i] = v.Data
	}
	return out
}

// bareHashes is the baseline: what every former copy did at the least.
func bareHashes(doc []byte) error {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var d struct {
		Types       apitypes.Types `json:"types"`
		PrimaryType string         `json:"primaryType"`
		Domain      map[string]any `json:"domain"`
		Message     map[string]any `json:"message"`
	}
	if err := dec.Decode(&d); err != nil {
		return err
	}
	if _, ok := d.Types[DomainType]; !ok {
		d.Types[DomainType] = []apitypes.Type{}
	}
	for _, m := range []map[string]any{d.Domain, d.Message} {
		if _, err := exactNumbers(m); err != nil {
			return err
		}
	}
	td := apitypes.TypedData{Types: d.Types, PrimaryType: d.PrimaryType, Domain: apitypes.TypedDataDomain{Name: "-"}}
	if _, err := td.HashStruct(DomainType, d.Domain); err != nil {
		return err
	}
	if d.PrimaryType != DomainType {
		if _, err := td.HashStruct(d.PrimaryType, d.Message); err != nil {
			return err
		}
	}
	return nil
}
