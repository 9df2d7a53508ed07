package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the test binary act as mm: testscript puts an "mm" program
// on PATH that re-executes this binary into run(), so the scripts drive the
// real command line without a pre-built binary.
func TestMain(m *testing.M) {
	// mm re-executes itself (/proc/self/exe) as `mm plugin serve <name>` to
	// run a built-in signer; in the tests that binary is this one.
	if len(os.Args) > 2 && os.Args[1] == "plugin" && os.Args[2] == "serve" {
		os.Exit(run())
	}
	testscript.Main(cleanupM{m}, map[string]func(){
		"mm": func() { os.Exit(run()) },
		// mm-status N args… runs mm and fails unless it exits with status N.
		"mm-status": func() {
			want, err := strconv.Atoi(os.Args[1])
			if err != nil {
				fmt.Fprintln(os.Stderr, "mm-status: the first argument is the expected exit status")
				os.Exit(100)
			}
			// testscript cannot unset a variable: MM_TEST_UNSET lists the
			// ones this mm must not see at all.
			for _, v := range strings.Fields(os.Getenv("MM_TEST_UNSET")) {
				os.Unsetenv(v)
			}
			os.Unsetenv("MM_TEST_UNSET")
			os.Args = append([]string{"mm"}, os.Args[2:]...)
			got := run()
			if got != want {
				fmt.Fprintf(os.Stderr, "mm-status: mm exited with %d, want %d\n", got, want)
				os.Exit(101)
			}
			os.Exit(0)
		},
	})
}

// cleanupM removes the state templates after the tests.
type cleanupM struct{ m *testing.M }

func (c cleanupM) Run() int {
	// Plugin and prompter sockets go under $XDG_RUNTIME_DIR (else
	// /dev/shm). Tests that SIGKILL mm leave go-plugin's socket folders
	// behind — nothing can clean up after SIGKILL — so give the whole run a
	// private runtime folder and remove it at the end.
	base := ""
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		base = "/dev/shm"
	}
	if rt, err := os.MkdirTemp(base, "mm-cmd-test-run-"); err == nil {
		os.Setenv("XDG_RUNTIME_DIR", rt)
		defer os.RemoveAll(rt)
	}
	code := c.m.Run()
	if templatesRoot != "" {
		os.RemoveAll(templatesRoot)
	}
	return code
}

// TestScripts runs testdata/script/*.txtar, each with a fresh MM_HOME.
func TestScripts(t *testing.T) {
	t.Parallel()
	testscript.Run(t, scriptParams("testdata/script"))
}

func scriptParams(dir string) testscript.Params {
	return testscript.Params{
		Dir:                 dir,
		RequireExplicitExec: false,
		Setup: func(env *testscript.Env) error {
			env.Setenv("MM_HOME", filepath.Join(env.WorkDir, ".metamask"))
			env.Setenv("HOME", filepath.Join(env.WorkDir, "home"))
			env.Setenv("MM_PLUGIN_PATH", "")
			env.Setenv("XDG_RUNTIME_DIR", os.Getenv("XDG_RUNTIME_DIR"))
			env.Setenv("NO_COLOR", "")
			// A mnemonic many tools use for tests; never for real funds.
			env.Setenv("TEST_MNEMONIC", "test test test test test test test test test test test junk")
			env.Setenv("TEST_ADDR0", "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266")
			env.Setenv("TEST_ADDR1", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"perm":      cmdPerm,
			"snapshot":  cmdSnapshot,
			"unchanged": cmdUnchanged,
			"jsonfield": cmdJSONField,
			"nosecret":  cmdNoSecret,
			"sleep": func(ts *testscript.TestScript, neg bool, args []string) {
				d, err := time.ParseDuration(args[0])
				ts.Check(err)
				time.Sleep(d)
			},
		},
	}
}

// perm path mode: the file's permission bits equal mode (octal).
func cmdPerm(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: perm path mode")
	}
	fi, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	want, err := strconv.ParseUint(args[1], 8, 32)
	ts.Check(err)
	got := fi.Mode().Perm()
	if (got == fs.FileMode(want)) == neg {
		ts.Fatalf("%s has mode %#o, want %s%#o", args[0], got, map[bool]string{true: "not ", false: ""}[neg], want)
	}
}

// treeDigest hashes every file (path, mode, content) under dir, lock files
// excluded (taking a lock may create one without changing any state).
func treeDigest(dir string) (map[string]string, error) {
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() || strings.HasSuffix(p, ".lock") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fi, _ := d.Info()
		sum := sha256.Sum256(data)
		out[rel] = fi.Mode().String() + " " + hex.EncodeToString(sum[:])
		return nil
	})
	return out, err
}

// snapshot [dir]: remember the content of dir (default $MM_HOME).
func cmdSnapshot(ts *testscript.TestScript, neg bool, args []string) {
	dir := ts.Getenv("MM_HOME")
	if len(args) > 0 {
		dir = ts.MkAbs(args[0])
	}
	d, err := treeDigest(dir)
	ts.Check(err)
	b, _ := json.Marshal(d)
	ts.Setenv("MM_SNAPSHOT", string(b))
}

// unchanged [dir]: the content of dir equals the last snapshot.
func cmdUnchanged(ts *testscript.TestScript, neg bool, args []string) {
	dir := ts.Getenv("MM_HOME")
	if len(args) > 0 {
		dir = ts.MkAbs(args[0])
	}
	d, err := treeDigest(dir)
	ts.Check(err)
	var before map[string]string
	ts.Check(json.Unmarshal([]byte(ts.Getenv("MM_SNAPSHOT")), &before))
	var diffs []string
	for k, v := range d {
		if before[k] != v {
			diffs = append(diffs, "changed or added: "+k)
		}
	}
	for k := range before {
		if _, ok := d[k]; !ok {
			diffs = append(diffs, "removed: "+k)
		}
	}
	sort.Strings(diffs)
	if (len(diffs) == 0) == neg {
		if neg {
			ts.Fatalf("%s did not change", dir)
		}
		ts.Fatalf("%s changed:\n%s", dir, strings.Join(diffs, "\n"))
	}
}

// jsonfield file path want: the JSON value at a dotted path (e.g.
// error.code, wallets.1.name) in file ("stdout" for the last command's
// output) equals want.
func cmdJSONField(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: jsonfield file|stdout path want")
	}
	var data string
	if args[0] == "stdout" {
		data = ts.ReadFile("stdout")
	} else {
		data = ts.ReadFile(args[0])
	}
	var v any
	if err := json.Unmarshal([]byte(data), &v); err != nil {
		ts.Fatalf("not JSON: %v\n%s", err, data)
	}
	for _, part := range strings.Split(args[1], ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[part]
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(x) {
				ts.Fatalf("%s: no element %s", args[1], part)
			}
			v = x[i]
		default:
			ts.Fatalf("%s: %q is not inside an object or array", args[1], part)
		}
	}
	got := fmt.Sprint(v)
	if v == nil {
		got = "null"
	}
	if (got == args[2]) == neg {
		ts.Fatalf("%s = %q, want %s%q", args[1], got, map[bool]string{true: "not ", false: ""}[neg], args[2])
	}
}

// nosecret file…: none of the files contains $TEST_MNEMONIC (also its
// first three words in a row) or $MM_PASSWORD.
func cmdNoSecret(ts *testscript.TestScript, neg bool, args []string) {
	secrets := []string{}
	if m := ts.Getenv("TEST_MNEMONIC"); m != "" {
		w := strings.Fields(m)
		secrets = append(secrets, m, strings.Join(w[len(w)-3:], " "))
	}
	if p := ts.Getenv("MM_PASSWORD"); p != "" {
		secrets = append(secrets, p)
	}
	for _, f := range args {
		var data string
		if f == "stdout" || f == "stderr" {
			data = ts.ReadFile(f)
		} else {
			b, err := os.ReadFile(ts.MkAbs(f))
			ts.Check(err)
			data = string(b)
		}
		for _, s := range secrets {
			if strings.Contains(data, s) {
				ts.Fatalf("%s contains a secret", f)
			}
		}
	}
}
