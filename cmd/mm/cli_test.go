package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	testMnemonic = "test test test test test test test test test test test junk"
	testAddr0    = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
)

// result is one finished mm process.
type result struct {
	stdout, stderr []byte
	code           int
}

// runMM runs mm (the copy testscript.Main put on PATH) with MM_HOME=home and
// extra environment entries ("K=V"; "K" alone unsets K).
func runMM(t testing.TB, home string, env []string, stdin []byte, args ...string) result {
	t.Helper()
	exe, err := exec.LookPath("mm")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = filterEnv(os.Environ(), "MM_PASSWORD", "MM_MNEMONIC", "MM_NEW_PASSWORD", "MM_HOME", "MM_SCRYPT_WORK_FACTOR")
	cmd.Env = append(cmd.Env, "MM_HOME="+home, "MM_SCRYPT_WORK_FACTOR=10")
	for _, kv := range env {
		if !strings.Contains(kv, "=") {
			cmd.Env = filterEnv(cmd.Env, kv)
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err = cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.Bytes(), errb.Bytes(), code}
}

func errCode(r result) string {
	var doc struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(r.stdout, &doc)
	return doc.Error.Code
}

var (
	templatesOnce sync.Once
	templates     map[string]string
	templatesErr  error
	templatesRoot string // removed by TestMain after the tests
)

// template returns a state folder prepared once per test binary: "empty",
// "plain" (byok, unencrypted) or "encrypted" (byok, password "correct-horse").
func template(t *testing.T, kind string) string {
	t.Helper()
	templatesOnce.Do(func() {
		root, err := os.MkdirTemp("", "mm-templates-")
		if err != nil {
			templatesErr = err
			return
		}
		templatesRoot = root
		templates = map[string]string{"empty": filepath.Join(root, "empty")}
		for _, k := range []string{"plain", "encrypted"} {
			home := filepath.Join(root, k)
			env := []string{"MM_MNEMONIC=" + testMnemonic}
			if k == "encrypted" {
				env = append(env, "MM_PASSWORD=correct-horse")
			}
			r := runMM(t, home, env, nil, "init", "--wallet", "byok", "--mode", "guard")
			if r.code != 0 {
				templatesErr = fmt.Errorf("init %s: %s %s", k, r.stdout, r.stderr)
				return
			}
			templates[k] = home
		}
	})
	if templatesErr != nil {
		t.Fatal(templatesErr)
	}
	dst := filepath.Join(t.TempDir(), "mm")
	if err := copyTree(templates[kind], dst); err != nil {
		t.Fatal(err)
	}
	return dst
}

func copyTree(src, dst string) error {
	if _, err := os.Stat(src); os.IsNotExist(err) {
		return nil
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(target, fi.Mode().Perm())
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, fi.Mode().Perm())
	})
}

func readBad(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "bad", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestBadInput is the table of rejected inputs: each must produce its code
// and exit status, print no secret, and change no file.
func TestBadInput(t *testing.T) {
	t.Parallel()
	big := filepath.Join(t.TempDir(), "big.txt")
	if err := os.WriteFile(big, bytes.Repeat([]byte("a"), maxMessage+1), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := func(name string) string { p, _ := filepath.Abs(filepath.Join("testdata", "bad", name)); return p }
	cases := []struct {
		name  string
		home  string // template
		env   []string
		args  []string
		setup func(t *testing.T, home string)
		code  string
		exit  int
	}{
		{"unknown flag", "plain", nil, []string{"wallet", "list", "--frobnicate"}, nil, "UNKNOWN_FLAG", 2},
		{"unknown command", "plain", nil, []string{"walet", "list"}, nil, "COMMAND_NOT_FOUND", 2},
		{"unknown subcommand", "plain", nil, []string{"wallet", "lits"}, nil, "COMMAND_NOT_FOUND", 2},
		{"mnemonic wrong word", "empty", []string{"MM_MNEMONIC=" + readBad(t, "mnemonic-wrong-word.txt")}, []string{"init", "--wallet", "byok", "--mode", "guard"}, nil, "INVALID_MNEMONIC", 1},
		{"mnemonic bad checksum", "empty", []string{"MM_MNEMONIC=" + readBad(t, "mnemonic-bad-checksum.txt")}, []string{"init", "--wallet", "byok", "--mode", "guard"}, nil, "INVALID_MNEMONIC", 1},
		{"mnemonic 11 words", "empty", []string{"MM_MNEMONIC=" + readBad(t, "mnemonic-11-words.txt")}, []string{"init", "--wallet", "byok", "--mode", "guard"}, nil, "INVALID_MNEMONIC", 1},
		{"mnemonic on the command line", "empty", nil, []string{"init", "--wallet", "byok", "--mode", "guard", "--mnemonic", testMnemonic}, nil, "SECRET_ON_COMMAND_LINE", 2},
		{"password on the command line", "plain", nil, []string{"wallet", "password", "set", "--password=hunter2"}, nil, "SECRET_ON_COMMAND_LINE", 2},
		{"empty password at init", "empty", []string{"MM_MNEMONIC=" + testMnemonic, "MM_PASSWORD="}, []string{"init", "--wallet", "byok", "--mode", "guard"}, nil, "EMPTY_PASSWORD", 1},
		{"empty password set", "plain", []string{"MM_PASSWORD="}, []string{"wallet", "password", "set"}, nil, "EMPTY_PASSWORD", 1},
		{"wrong password", "encrypted", []string{"MM_PASSWORD=xyzzy-plugh-9"}, []string{"wallet", "sign-message", "--message", "hi", "--chain-id", "1"}, nil, "WRONG_PASSWORD", 1},
		{"typed data not JSON", "plain", nil, []string{"wallet", "sign-typed-data", "--chain-id", "1", "--payload-file", bad("typed-not-json.json")}, nil, "INVALID_TYPED_DATA", 1},
		{"typed data without types", "plain", nil, []string{"wallet", "sign-typed-data", "--chain-id", "1", "--payload-file", bad("typed-no-types.json")}, nil, "INVALID_TYPED_DATA", 1},
		{"typed data type cycle", "plain", nil, []string{"wallet", "sign-typed-data", "--chain-id", "1", "--payload-file", bad("typed-cycle.json")}, nil, "INVALID_TYPED_DATA", 1},
		{"typed data chain mismatch", "plain", nil, []string{"wallet", "sign-typed-data", "--chain-id", "1", "--payload-file", bad("typed-chain-mismatch.json")}, nil, "CHAIN_ID_MISMATCH", 1},
		{"typed data uint out of range", "plain", nil, []string{"wallet", "sign-typed-data", "--chain-id", "1", "--payload-file", bad("typed-uint-range.json")}, nil, "INVALID_TYPED_DATA", 1},
		{"message longer than 1 MiB", "plain", nil, []string{"wallet", "sign-message", "--chain-id", "1", "--message-file", big}, nil, "MESSAGE_TOO_LONG", 1},
		{"missing chain id", "plain", nil, []string{"wallet", "sign-message", "--message", "hi"}, nil, "MISSING_FLAG", 2},
		{"bad chain id", "plain", nil, []string{"wallet", "sign-message", "--message", "hi", "--chain-id", "0x"}, nil, "INVALID_CHAIN", 1},
		{"config key unknown", "plain", nil, []string{"config", "set", "colour", "red"}, nil, "INVALID_CONFIG_KEY", 1},
		{"config value out of range", "plain", nil, []string{"config", "set", "walletTimeoutSeconds", "0"}, nil, "INVALID_CONFIG_VALUE", 1},
		{"damaged wallets.json", "plain", nil, []string{"wallet", "create"}, func(t *testing.T, home string) {
			if err := os.WriteFile(filepath.Join(home, walletsFile), []byte(readBad(t, "wallets-damaged.json")), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "STATE_CORRUPT", 1},
		{"not initialized", "empty", nil, []string{"wallet", "sign-message", "--message", "hi", "--chain-id", "1"}, nil, "NOT_INITIALIZED", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			home := template(t, c.home)
			if c.setup != nil {
				c.setup(t, home)
			}
			before, err := treeDigest(home)
			if err != nil {
				t.Fatal(err)
			}
			r := runMM(t, home, c.env, nil, c.args...)
			if got := errCode(r); got != c.code || r.code != c.exit {
				t.Errorf("got %s exit %d, want %s exit %d\nstdout: %s\nstderr: %s", got, r.code, c.code, c.exit, r.stdout, r.stderr)
			}
			after, err := treeDigest(home)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(before) != fmt.Sprint(after) {
				t.Errorf("files changed:\nbefore %v\nafter  %v", before, after)
			}
			for _, secret := range []string{testMnemonic, "junk", "hunter2", "xyzzy-plugh-9", "correct-horse"} {
				if bytes.Contains(r.stdout, []byte(secret)) || bytes.Contains(r.stderr, []byte(secret)) {
					t.Errorf("output contains the secret %q", secret)
				}
			}
		})
	}
}

// TestParallelCreate runs 20 `mm wallet create` at once: 20 distinct
// accounts, consecutive indices, an intact wallets.json.
func TestParallelCreate(t *testing.T) {
	t.Parallel()
	home := template(t, "plain")
	const n = 20
	var wg sync.WaitGroup
	results := make([]result, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i] = runMM(t, home, nil, nil, "wallet", "create")
		}(i)
	}
	wg.Wait()
	created := map[string]bool{}
	for i, r := range results {
		if r.code != 0 {
			t.Fatalf("create %d: exit %d\n%s%s", i, r.code, r.stdout, r.stderr)
		}
		var w walletView
		if err := json.Unmarshal(r.stdout, &w); err != nil {
			t.Fatal(err)
		}
		if created[w.Address] {
			t.Errorf("address %s created twice", w.Address)
		}
		created[w.Address] = true
	}
	data, err := os.ReadFile(filepath.Join(home, walletsFile))
	if err != nil {
		t.Fatal(err)
	}
	var d walletsDoc
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("wallets.json damaged: %v", err)
	}
	if len(d.Wallets) != n+1 {
		t.Fatalf("wallets.json holds %d wallets, want %d", len(d.Wallets), n+1)
	}
	seen := map[uint32]bool{}
	for _, w := range d.Wallets {
		if seen[w.Index] {
			t.Errorf("index %d used twice", w.Index)
		}
		seen[w.Index] = true
		if w.Index > 0 && !created[w.Address] {
			t.Errorf("wallet %s in the file was not reported by any create", w.Address)
		}
	}
	for i := uint32(0); i <= n; i++ {
		if !seen[i] {
			t.Errorf("index %d missing", i)
		}
	}
}

// TestKillWriter kills mm writers at random points of their update and
// checks after each kill that wallets.json is a complete file: the previous
// one or the next one, never a mix or a truncation.
func TestKillWriter(t *testing.T) {
	t.Parallel()
	home := template(t, "plain")
	exe, err := exec.LookPath("mm")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(home, walletsFile)
	read := func() walletsDoc {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var d walletsDoc
		if err := json.Unmarshal(data, &d); err != nil {
			t.Fatalf("wallets.json damaged after a kill: %v\n%s", err, data)
		}
		return d
	}
	prev := len(read().Wallets)
	killed := 0
	for i := 0; i < 30; i++ {
		cmd := exec.Command(exe, "wallet", "create")
		cmd.Env = append(filterEnv(os.Environ(), "MM_HOME"), "MM_HOME="+home)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Spread the kills over the life of the process (start-up, plugin
		// launch, derivation under the lock, the write itself).
		time.Sleep(time.Duration(i%15) * time.Millisecond)
		if cmd.Process.Signal(syscall.SIGKILL) == nil {
			killed++
		}
		_ = cmd.Wait()
		d := read()
		if n := len(d.Wallets); n != prev && n != prev+1 {
			t.Fatalf("kill %d: %d wallets after %d", i, n, prev)
		}
		prev = len(d.Wallets)
	}
	if killed == 0 {
		t.Fatal("no writer was killed")
	}
	// The lock is free again: a normal create still works.
	if r := runMM(t, home, nil, nil, "wallet", "create"); r.code != 0 {
		t.Fatalf("create after kills: %s %s", r.stdout, r.stderr)
	}
	if len(read().Wallets) != prev+1 {
		t.Fatal("create after kills did not add a wallet")
	}
}

// TestNoSecretLeaks runs the whole BYOK flow with MM_PASSWORD set and
// --verbose, and searches every byte mm printed, and every file it left,
// for the mnemonic and the password.
func TestNoSecretLeaks(t *testing.T) {
	t.Parallel()
	home := filepath.Join(t.TempDir(), "mm")
	tmp := t.TempDir() // mm's and its plugins' temporary files
	const password = "Tr0ub4dor&3-unique"
	env := []string{"MM_MNEMONIC=" + testMnemonic, "MM_PASSWORD=" + password, "TMPDIR=" + tmp}
	var printed bytes.Buffer
	steps := [][]string{
		{"init", "--wallet", "byok", "--mode", "guard", "--verbose"},
		{"wallet", "create", "--verbose"},
		{"wallet", "list", "--verbose", "--format", "text"},
		{"wallet", "sign-message", "--message", "hello", "--chain-id", "1", "--verbose"},
		{"wallet", "sign-typed-data", "--chain-id", "1", "--payload-file", "testdata/mail.json", "--verbose", "--toon"},
		{"doctor", "--verbose"},
		{"wallet", "unlock", "--for", "1m", "--verbose"},
		{"wallet", "sign-message", "--message", "hello", "--chain-id", "1", "--verbose", "--format", "text"},
		{"wallet", "lock", "--verbose"},
		{"wallet", "password", "change", "--verbose"},
		{"wallet", "sign-message", "--message", "x", "--chain-id", "1", "--verbose"}, // wrong password now
		{"init", "--wallet", "byok", "--mode", "guard", "--verbose"},                 // ALREADY_INITIALIZED
		{"config", "get", "--verbose", "--password", password},                       // refused
	}
	for _, s := range steps {
		e := env
		if s[0] == "wallet" && len(s) > 1 && s[1] == "password" {
			e = append(e, "MM_NEW_PASSWORD="+password+"-2")
		}
		r := runMM(t, home, e, nil, s...)
		printed.Write(r.stdout)
		printed.Write(r.stderr)
	}
	words := strings.Fields(testMnemonic)
	needles := []string{testMnemonic, password, strings.Join(words[9:], " ")}
	for _, n := range needles {
		if bytes.Contains(printed.Bytes(), []byte(n)) {
			t.Errorf("mm printed a secret (%d bytes of output searched)", printed.Len())
		}
	}
	if !bytes.Contains(printed.Bytes(), []byte("mm: ")) {
		t.Error("--verbose printed no log line; the search would prove nothing")
	}
	// No plaintext mnemonic on disk: not in MM_HOME, not in the temp folder.
	for _, dir := range []string{home, tmp} {
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			if fi, err := d.Info(); err != nil || fi.Size() > 1<<20 || !fi.Mode().IsRegular() {
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return nil
			}
			for _, n := range needles {
				if bytes.Contains(data, []byte(n)) {
					t.Errorf("%s holds a secret in plaintext", p)
				}
			}
			return nil
		})
	}
}
