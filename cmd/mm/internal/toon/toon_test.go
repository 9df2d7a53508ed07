package toon

import (
	"encoding/json"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

type fixtureFile struct {
	Version string `json:"version"`
	Tests   []struct {
		Name     string          `json:"name"`
		Input    json.RawMessage `json:"input"`
		Expected string          `json:"expected"`
		Options  *struct {
			Delimiter  string `json:"delimiter"`
			IndentSize int    `json:"indentSize"`
		} `json:"options"`
		ShouldError bool `json:"shouldError"`
	} `json:"tests"`
}

// TestConformance runs every official encode fixture (spec 4.0) byte for byte.
func TestConformance(t *testing.T) {
	files, err := filepath.Glob("testdata/encode/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 9 {
		t.Fatalf("want 9 fixture files, found %d", len(files))
	}
	total := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var ff fixtureFile
		if err := json.Unmarshal(data, &ff); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if ff.Version != "4.0" {
			t.Fatalf("%s: fixture version %q, want 4.0", f, ff.Version)
		}
		for _, tc := range ff.Tests {
			total++
			t.Run(filepath.Base(f)+"/"+tc.Name, func(t *testing.T) {
				in, err := FromJSON(tc.Input)
				if err != nil {
					t.Fatal(err)
				}
				var opts Options
				if tc.Options != nil {
					opts.IndentSize = tc.Options.IndentSize
					if tc.Options.Delimiter != "" {
						opts.Delimiter = tc.Options.Delimiter[0]
					}
				}
				got, err := Encode(in, opts)
				if tc.ShouldError {
					if err == nil {
						t.Fatalf("want an error, got %q", got)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != tc.Expected {
					t.Errorf("input %s\n got: %q\nwant: %q", tc.Input, got, tc.Expected)
				}
			})
		}
	}
	if total != 173 {
		t.Errorf("ran %d cases, want 173", total)
	}
}

func enc(t *testing.T, v any, opts Options) string {
	t.Helper()
	b, err := Encode(v, opts)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestHostValues covers what the fixtures cannot: Go types, NaN/Inf, numbers
// outside the canonical range, bad UTF-8 and big integers.
func TestHostValues(t *testing.T) {
	type inner struct {
		ID   int    `json:"id"`
		Name string `json:"name,omitempty"`
	}
	type Embedded struct {
		Shared string `json:"shared"`
	}
	type outer struct {
		Embedded
		Addr    common.Address    `json:"address"`
		Wei     *big.Int          `json:"wei"`
		Huge    *big.Int          `json:"huge"`
		Nan     float64           `json:"nan"`
		Inf     float64           `json:"inf"`
		Tiny    float64           `json:"tiny"`
		Big     float64           `json:"big"`
		Neg0    float64           `json:"neg0"`
		Third   float64           `json:"third"`
		F32     float32           `json:"f32"`
		U64     uint64            `json:"u64"`
		Raw     []byte            `json:"raw"`
		Bad     string            `json:"bad"`
		When    time.Time         `json:"when"`
		Skip    string            `json:"-"`
		Empty   string            `json:"empty,omitempty"`
		NilPtr  *inner            `json:"nilPtr"`
		Items   []inner           `json:"items"`
		Labels  map[string]string `json:"labels"`
		private int
	}
	v := outer{
		Embedded: Embedded{Shared: "s"},
		Addr:     common.HexToAddress("0x00000000000000000000000000000000000000aB"),
		Wei:      big.NewInt(1_000_000_000_000_000_000),
		Huge:     new(big.Int).Mul(big.NewInt(1_000_000_000_000), big.NewInt(1_000_000_000_000)),
		Nan:      math.NaN(),
		Inf:      math.Inf(-1),
		Tiny:     2.5e-7,
		Big:      1e21,
		Neg0:     math.Copysign(0, -1),
		Third:    1.0 / 3,
		F32:      0.1,
		U64:      math.MaxUint64,
		Raw:      []byte{1, 2, 3},
		Bad:      "a\xffb",
		When:     time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Skip:     "x",
		Items:    []inner{{ID: 1, Name: "a"}, {ID: 2, Name: "b"}},
		Labels:   map[string]string{"z": "1", "a": "x y"},
	}
	want := `shared: s
address: 0x00000000000000000000000000000000000000ab
wei: 1000000000000000000
huge: "1000000000000000000000000"
nan: null
inf: null
tiny: 2.5e-7
big: 1e+21
neg0: 0
third: 0.3333333333333333
f32: 0.1
u64: 18446744073709551615
raw: AQID
bad: a` + "\uFFFD" + `b
when: "2026-01-02T03:04:05Z"
nilPtr: null
items[2]{id,name}:
  1,a
  2,b
labels:
  a: x y
  z: "1"`
	_ = v.private
	if got := enc(t, v, Options{}); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestRootsAndErrors(t *testing.T) {
	cases := []struct {
		in   any
		want string
	}{
		{math.NaN(), "null"},
		{"hello world", "hello world"},
		{map[string]int{}, ""},
		{[]int{}, "[]"},
		{nil, "null"},
		{json.Number("1e400"), `"1e400"`},
		{json.Number("-0"), "0"},
		{json.Number("1.50"), "1.5"},
		{json.Number("0.000001"), "0.000001"},
		{json.Number("12345678901234567890"), "12345678901234567890"},
	}
	for _, c := range cases {
		if got := enc(t, c.in, Options{}); got != c.want {
			t.Errorf("%v: got %q want %q", c.in, got, c.want)
		}
	}
	if _, err := Encode(make(chan int), Options{}); err == nil {
		t.Error("a channel must be an error")
	}
	if _, err := Encode(1, Options{Delimiter: ';'}); err == nil {
		t.Error("delimiter ';' must be an error")
	}
	// E11 of the brief: tab delimiter.
	in, _ := FromJSON([]byte(`{"t":["a b","c\td"]}`))
	if got := enc(t, in, Options{Delimiter: '\t'}); got != "t[2\t]: a b\t\"c\\td\"" {
		t.Errorf("tab: got %q", got)
	}
}

func BenchmarkEncode(b *testing.B) {
	in, _ := FromJSON([]byte(`{"wallets":[{"name":"a","address":"0x1","index":0,"active":true},{"name":"b","address":"0x2","index":1,"active":false}],"meta":{"x":{"id":1},"y":{"id":2}}}`))
	for b.Loop() {
		if _, err := Encode(in, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
