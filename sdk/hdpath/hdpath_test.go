package hdpath

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/mm-wallet/mm/sdk"
)

func TestParsePath(t *testing.T) {
	t.Parallel()
	good := map[string]string{
		"m/44'/60'/0'/0/0":          "m/44'/60'/0'/0/0",
		"m/44h/60h/0h/0/0":          "m/44'/60'/0'/0/0",
		"m/44H/60'/0h/0/7":          "m/44'/60'/0'/0/7",
		"m/0":                       "m/0",
		"m/2147483647'/2147483647":  "m/2147483647'/2147483647",
		"m/44'/60'/0'/0/1000000000": "m/44'/60'/0'/0/1000000000",
	}
	for in, want := range good {
		p, err := Parse(in)
		if err != nil {
			t.Errorf("Parse(%q): %v", in, err)
			continue
		}
		if p.String() != want {
			t.Errorf("Parse(%q) = %s, want %s", in, p, want)
		}
	}
	p, _ := Parse("m/44'/60'/0'/0/5")
	if want := (Path{44 + Hardened, 60 + Hardened, Hardened, 0, 5}); !equalPath(p, want) {
		t.Errorf("ParsePath levels = %v, want %v", p, want)
	}
}

func equalPath(a, b Path) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"m/44'/60'/0'/0/0", "m/44h/60h", "m", "", "m/2147483648", "m/0''", "m/01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			if sdk.CodeOf(err) != sdk.CodeInvalidDerivationPath {
				t.Fatalf("Parse(%q): %v", s, err)
			}
			return
		}
		// A parsed path prints back to itself up to the hardened notation.
		norm := strings.NewReplacer("h", "'", "H", "'").Replace(s)
		if p.String() != norm {
			t.Fatalf("Parse(%q).String() = %q", s, p.String())
		}
	})
}

// TestBadPaths: every path in testdata/bad/paths.json is refused with its
// code.
func TestBadPaths(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/bad/paths.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Path string   `json:"path"`
		Code sdk.Code `json:"code"`
		Why  string   `json:"why"`
	}
	if err := json.Unmarshal(data, &cases); err != nil || len(cases) < 10 {
		t.Fatalf("bad paths: %d cases, %v", len(cases), err)
	}
	for _, c := range cases {
		p, err := Parse(c.Path)
		if sdk.CodeOf(err) != c.Code || p != nil {
			t.Errorf("Parse(%q) (%s) = %v, %v; want %s", c.Path, c.Why, p, err, c.Code)
		}
		if e := sdk.AsError(err); e != nil && (e.Hint == "" || !strings.Contains(e.Message, "invalid derivation path")) {
			t.Errorf("Parse(%q): message or hint missing: %+v", c.Path, e)
		}
	}
	deep := "m" + strings.Repeat("/0", MaxDepth+1)
	if _, err := Parse(deep); sdk.CodeOf(err) != sdk.CodeInvalidDerivationPath {
		t.Errorf("a path of %d levels: %v", MaxDepth+1, err)
	}
	if _, err := Parse("m" + strings.Repeat("/0", MaxDepth)); err != nil {
		t.Errorf("a path of %d levels: %v", MaxDepth, err)
	}
}

func TestSchemes(t *testing.T) {
	t.Parallel()
	want := map[Scheme]string{
		BIP44:  "m/44'/60'/0'/0/7",
		Live:   "m/44'/60'/7'/0/0",
		Legacy: "m/44'/60'/0'/7",
		"":     "m/44'/60'/0'/0/7",
	}
	for s, w := range want {
		p, err := s.Path(7)
		if err != nil || p.String() != w {
			t.Errorf("%q.Path(7) = %v, %v; want %s", s, p, err, w)
		}
	}
	for _, name := range Schemes() {
		if s, err := ParseScheme(name); err != nil || string(s) != name {
			t.Errorf("ParseScheme(%q) = %q, %v", name, s, err)
		}
	}
	if s, err := ParseScheme(""); err != nil || s != BIP44 {
		t.Errorf(`ParseScheme("") = %q, %v`, s, err)
	}
	if _, err := ParseScheme("ledger"); sdk.CodeOf(err) != sdk.CodeInvalidRequest {
		t.Errorf("unknown scheme: %v", err)
	}
	if _, err := Scheme("nope").Path(0); sdk.CodeOf(err) != sdk.CodeInvalidRequest {
		t.Errorf("unknown scheme's path: %v", err)
	}
	if _, err := BIP44.Path(Hardened); sdk.CodeOf(err) != sdk.CodeInvalidDerivationPath {
		t.Errorf("index 2^31: %v", err)
	}
}

func TestSchemeIndex(t *testing.T) {
	t.Parallel()
	for _, name := range Schemes() {
		s := Scheme(name)
		for _, i := range []uint32{0, 1, 7, Hardened - 1} {
			p, err := s.Path(i)
			if err != nil {
				t.Fatal(err)
			}
			if got, ok := s.Index(p); !ok || got != i {
				t.Errorf("%s.Index(%s) = %d, %v; want %d", s, p, got, ok, i)
			}
		}
	}
	for _, c := range []struct {
		s    Scheme
		path string
	}{
		{BIP44, "m/44'/60'/1'/0/0"}, // another account level: not BIP44's
		{Live, "m/44'/60'/0'/0/3"},
		{Legacy, "m/44'/60'/0'/0/3"},
		{BIP44, "m/44'/60'/0'/0/3'"}, // hardened index
		{Live, "m/44'/61'/2'/0/0"},   // another coin
	} {
		p, err := Parse(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if i, ok := c.s.Index(p); ok {
			t.Errorf("%s.Index(%s) = %d, want none", c.s, c.path, i)
		}
	}
}
