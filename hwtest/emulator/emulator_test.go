package emulator

import (
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

const hardened = 0x80000000

var ethPath = []uint32{44 | hardened, 60 | hardened, hardened, 0, 0} // m/44'/60'/0'/0/0

// TestKeyringAddresses derives the first Ethereum account of both default
// seeds, whose addresses Ledger's and Trezor's own fixtures publish.
func TestKeyringAddresses(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		mnemonic string
		want     common.Address
	}{
		{"glory promote mansion idle axis finger extra february uncover one trip resource lawn turtle enact monster seven myth punch hobby comfort wild raise skin",
			common.HexToAddress("0xDad77910DbDFdE764fC21FCD4E74D71bBACA6D8D")},
		{"all all all all all all all all all all all all", common.HexToAddress("0x73d0385F4d8E00C5e6504C6030F47BF6212736A8")},
	} {
		k, err := NewKeyring(c.mnemonic, "")
		if err != nil {
			t.Fatal(err)
		}
		d, err := k.Derive(ethPath)
		if err != nil {
			t.Fatal(err)
		}
		if d.Address != c.want || crypto.PubkeyToAddress(d.Priv.PublicKey) != c.want {
			t.Errorf("%s…: address %s, want %s", c.mnemonic[:10], d.Address, c.want)
		}
		if len(d.Pub) != 65 || d.Pub[0] != 4 || len(d.ChainCode) != 32 {
			t.Errorf("public key %x, chain code %x", d.Pub, d.ChainCode)
		}
		again, _ := k.Derive(ethPath)
		if again != d {
			t.Error("a second derivation of the same path is not the cached key")
		}
	}
}

func TestKeyringRefusals(t *testing.T) {
	t.Parallel()
	if _, err := NewKeyring("all all all all all all all all all all all", ""); err == nil {
		t.Error("an 11-word mnemonic was accepted")
	}
	k, err := NewKeyring("all all all all all all all all all all all all", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Derive(make([]uint32, MaxPathDepth+1)); err == nil {
		t.Errorf("a path of %d levels was derived", MaxPathDepth+1)
	}
	if _, err := k.Derive(make([]uint32, MaxPathDepth)); err != nil {
		t.Errorf("a path of %d levels: %v", MaxPathDepth, err)
	}
	other, err := NewKeyring("all all all all all all all all all all all all", "TREZOR")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := k.Derive(ethPath)
	b, _ := other.Derive(ethPath)
	if a.Address == b.Address {
		t.Error("the passphrase did not change the keys")
	}
}

// TestControl drives an endpoint over real HTTP: reads, actions, a bad
// parameter that changes nothing, and methods that are not allowed.
func TestControl(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	st := struct {
		Locked bool
		Delay  time.Duration
	}{}
	c := NewControl(func() any { mu.Lock(); defer mu.Unlock(); return st })
	c.Do("/lock", func() { mu.Lock(); st.Locked = true; mu.Unlock() })
	c.HandleDelay(func(d time.Duration) { mu.Lock(); st.Delay = d; mu.Unlock() })
	srv := httptest.NewServer(c)
	defer srv.Close()
	call := func(method, path string, want int) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, b, want)
		}
		var out map[string]any
		if want == http.StatusOK {
			if err := json.Unmarshal(b, &out); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
		}
		return out
	}
	if s := call("GET", "/state", 200); s["Locked"] != false {
		t.Errorf("state %v", s)
	}
	if s := call("POST", "/lock", 200); s["Locked"] != true {
		t.Errorf("after /lock: %v", s)
	}
	if s := call("POST", "/delay?ms=1500", 200); s["Delay"] != float64(1500*time.Millisecond) {
		t.Errorf("after /delay: %v", s)
	}
	for _, bad := range []string{"/delay?ms=-1", "/delay?ms=600001", "/delay?ms=x", "/delay"} {
		call("POST", bad, http.StatusBadRequest)
	}
	if s := call("GET", "/state", 200); s["Delay"] != float64(1500*time.Millisecond) {
		t.Errorf("a refused /delay changed the state: %v", s)
	}
	call("GET", "/lock", http.StatusMethodNotAllowed)
	call("POST", "/state", http.StatusMethodNotAllowed)
	call("POST", "/nothing", http.StatusNotFound)
}

func TestServeControl(t *testing.T) {
	t.Parallel()
	c := NewControl(func() any { return "up" })
	addr, shutdown, err := ServeControl("127.0.0.1:0", c, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr.String() + "/state")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.TrimSpace(string(b)) != `"up"` {
		t.Errorf("state %q", b)
	}
	shutdown()
	if resp, err := http.Get("http://" + addr.String() + "/state"); err == nil {
		resp.Body.Close()
		t.Error("the endpoint still answers after shutdown")
	}
	if _, _, err := ServeControl(addr.String()+"0", c, io.Discard); err == nil {
		t.Error("a bad address was accepted")
	}
}

func TestSecretFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	seed := filepath.Join(dir, "seed")
	if err := os.WriteFile(seed, []byte("  all all\tall all all all\nall all all all all all \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if m, err := ReadMnemonicFile(seed); err != nil || m != "all all all all all all all all all all all all" {
		t.Errorf("mnemonic %q, %v", m, err)
	}
	pass := filepath.Join(dir, "pass")
	if err := os.WriteFile(pass, []byte("correct  horse\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if p, err := ReadSecretFile(pass); err != nil || p != "correct  horse" {
		t.Errorf("passphrase %q, %v (inner spaces are part of it)", p, err)
	}
	if p, err := ReadSecretFile(""); p != "" || err != nil {
		t.Errorf("no file: %q, %v", p, err)
	}
	if _, err := ReadMnemonicFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing file gave no error")
	}
}

func TestParseArgs(t *testing.T) {
	t.Parallel()
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	v := fs.Bool("v", false, "")
	if err := ParseArgs(fs, []string{"-v"}); err != nil || !*v {
		t.Fatalf("-v: %v", err)
	}
	fs = flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if err := ParseArgs(fs, []string{"stray"}); err == nil || !strings.Contains(err.Error(), "stray") {
		t.Errorf("a positional argument: %v", err)
	}
}
