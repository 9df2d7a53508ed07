package plugins_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/mm-wallet/mm/core/state"
	"github.com/mm-wallet/mm/plugins"
	"github.com/mm-wallet/mm/sdk"
)

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// A built-in signer runs as this very executable re-executed in serve mode,
// in another process, and signs.
func TestOpenBuiltin(t *testing.T) {
	t.Parallel()
	h := newHost(t, plugins.Options{})
	ctx := context.Background()
	c, err := h.Open(ctx, "testsigner")
	if err != nil {
		t.Fatal(err)
	}
	if c.Pid() == os.Getpid() || c.ProtocolVersion() != sdk.ProtocolVersion {
		t.Fatalf("pid %d protocol %d", c.Pid(), c.ProtocolVersion())
	}
	r, err := c.SignMessage(ctx, &sdk.SignMessageRequest{Message: []byte("built in")})
	if err != nil {
		t.Fatal(err)
	}
	sig := bytes.Clone(r.Signature)
	sig[64] -= 27
	pub, err := crypto.SigToPub(accounts.TextHash([]byte("built in")), sig)
	if err != nil || crypto.PubkeyToAddress(*pub) != newTestSigner().addr {
		t.Fatal("built-in signature does not recover")
	}
	info, err := h.Inspect(ctx, "testsigner")
	if err != nil || info.Name != "testsigner" || info.ProtocolVersion != sdk.ProtocolVersion {
		t.Fatalf("inspect: %+v %v", info, err)
	}
	if got := plugins.Builtins(); len(got) != 1 || got[0] != "testsigner" {
		t.Fatalf("builtins %v", got)
	}
}

// A built-in signer starts on one P (it would shrink to one anyway), unless
// the user's GOMAXPROCS says otherwise.
func TestBuiltinGOMAXPROCS(t *testing.T) {
	for _, c := range []struct{ host, want string }{{"", "1"}, {"3", "3"}} {
		t.Setenv("GOMAXPROCS", c.host)
		h := newHost(t, plugins.Options{})
		p, err := h.Open(context.Background(), "testsigner")
		if err != nil {
			t.Fatal(err)
		}
		r, err := p.Manage(context.Background(), &sdk.ManageRequest{Op: "gomaxprocs"})
		if err != nil {
			t.Fatal(err)
		}
		if r.Result["value"] != c.want {
			t.Fatalf("host GOMAXPROCS=%q: the built-in signer has %q, want %q", c.host, r.Result["value"], c.want)
		}
	}
}

// Every name in testdata/bad/plugin-names.json is refused everywhere a name
// is taken, before anything is looked up or run.
func TestInvalidPluginNames(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/bad/plugin-names.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Cases []struct {
			Name string   `json:"name"`
			Code sdk.Code `json:"code"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	h := newHost(t, plugins.Options{})
	ctx := context.Background()
	dir := t.TempDir()
	for _, tc := range file.Cases {
		_, err := h.Open(ctx, tc.Name)
		wantCode(t, err, tc.Code)
		_, err = h.Inspect(ctx, tc.Name)
		wantCode(t, err, tc.Code)
		wantCode(t, h.Remove(ctx, tc.Name), tc.Code)
		_, err = h.StartDetached(ctx, tc.Name, sdk.DetachedOptions{})
		wantCode(t, err, tc.Code)
		if tc.Name != "" && !strings.ContainsAny(tc.Name, "/\x00") {
			p := filepath.Join(dir, plugins.ExecutablePrefix+tc.Name)
			if err := os.WriteFile(p, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			_, err = h.Install(ctx, p)
			wantCode(t, err, tc.Code)
		}
		if e := sdk.AsError(plugins.ValidateName(tc.Name)); e == nil || e.Hint == "" || strings.ContainsRune(e.Message, '\x1b') {
			t.Fatalf("%q: %+v", tc.Name, e)
		}
	}
	for _, ok := range []string{"ledger", "keystore", "my-kms_2", "0x"} {
		if err := plugins.ValidateName(ok); err != nil {
			t.Fatalf("%q refused: %v", ok, err)
		}
	}
	if list, _ := h.List(ctx); len(list) != 1 {
		t.Fatalf("refused installs left plugins behind: %+v", list)
	}
}

// An unknown name is PLUGIN_NOT_FOUND with a hint that says where the host
// looked.
func TestPluginNotFound(t *testing.T) {
	t.Parallel()
	pathDir := t.TempDir()
	h := newHost(t, plugins.Options{}, pathDir)
	_, err := h.Open(context.Background(), "nosuch")
	e := wantCode(t, err, sdk.CodePluginNotFound)
	for _, want := range []string{"testsigner", filepath.Join(pathDir, "mm-signer-nosuch"), plugins.LockFile, "mm signer install"} {
		if !strings.Contains(e.Hint, want) {
			t.Fatalf("hint %q lacks %q", e.Hint, want)
		}
	}
	if !errors.Is(err, sdk.ErrPluginNotFound) {
		t.Fatal("errors.Is(ErrPluginNotFound) false")
	}
}

// Install copies and pins a plugin (0700 file, 0600 lock file); List shows
// it; Open and Inspect run it; Remove forgets it and deletes the copy.
func TestInstallListOpenRemove(t *testing.T) {
	t.Parallel()
	h := newHost(t, plugins.Options{})
	ctx := context.Background()
	p, err := h.Install(ctx, extraPlugin)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(extraPlugin)
	sum := sha256.Sum256(raw)
	if p.Name != "extra" || p.SHA256 != hex.EncodeToString(sum[:]) || !p.Pinned || !p.Matches || p.Source != extraPlugin {
		t.Fatalf("installed %+v", p)
	}
	fi, err := os.Stat(p.Path)
	if err != nil || fi.Mode().Perm() != 0o700 || filepath.Base(filepath.Dir(p.Path)) != plugins.PluginsDir {
		t.Fatalf("installed file %s: %v %v", p.Path, fi.Mode(), err)
	}
	lockPath := filepath.Join(filepath.Dir(filepath.Dir(p.Path)), plugins.LockFile)
	lfi, err := os.Stat(lockPath)
	if err != nil || lfi.Mode().Perm() != 0o600 {
		t.Fatalf("lock file: %v %v", lfi, err)
	}
	lockRaw, _ := os.ReadFile(lockPath)
	if !strings.Contains(string(lockRaw), p.SHA256) {
		t.Fatalf("lock file lacks the pin: %s", lockRaw)
	}
	list, err := h.List(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "extra" || !list[0].Matches || !list[1].Builtin {
		t.Fatalf("list %+v %v", list, err)
	}
	info, err := h.Inspect(ctx, "extra")
	if err != nil || info.Name != "testsigner" {
		t.Fatalf("inspect %+v %v", info, err)
	}
	c, err := h.Open(ctx, "extra")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SignMessage(ctx, &sdk.SignMessageRequest{Account: sdk.Account{Address: newTestSigner().addr}, Message: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	c.Close()
	// Installing again replaces the pin (same bytes, same sum) without fuss.
	if _, err := h.Install(ctx, extraPlugin); err != nil {
		t.Fatal(err)
	}
	if err := h.Remove(ctx, "extra"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p.Path); !os.IsNotExist(err) {
		t.Fatalf("removed plugin still on disk: %v", err)
	}
	_, err = h.Open(ctx, "extra")
	wantCode(t, err, sdk.CodePluginNotFound)
	wantCode(t, h.Remove(ctx, "extra"), sdk.CodePluginNotFound)
	wantCode(t, h.Remove(ctx, "testsigner"), sdk.CodeInvalidPluginName)
}

// A tampered installed plugin is refused with PLUGIN_CHECKSUM_MISMATCH and
// never runs: the replacement would leave a marker file, and none appears.
func TestTamperedPluginNeverRuns(t *testing.T) {
	t.Parallel()
	h := newHost(t, plugins.Options{})
	ctx := context.Background()
	p, err := h.Install(ctx, extraPlugin)
	if err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(t.TempDir(), "it-ran")
	evil := fmt.Sprintf("#!/bin/sh\ntouch %s\nexit 0\n", marker)
	if err := os.WriteFile(p.Path, []byte(evil), 0o700); err != nil {
		t.Fatal(err)
	}
	_, err = h.Open(ctx, "extra")
	e := wantCode(t, err, sdk.CodePluginChecksumMismatch)
	if !strings.Contains(e.Message, p.SHA256) || e.Hint == "" {
		t.Fatalf("mismatch error %+v", e)
	}
	_, err = h.Inspect(ctx, "extra")
	wantCode(t, err, sdk.CodePluginChecksumMismatch)
	_, err = h.StartDetached(ctx, "extra", sdk.DetachedOptions{})
	wantCode(t, err, sdk.CodePluginChecksumMismatch)
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Fatal("the tampered plugin ran")
	}
	list, _ := h.List(ctx)
	for _, pl := range list {
		if pl.Name == "extra" && pl.Matches {
			t.Fatal("List says the tampered file matches its pin")
		}
	}
	// Control: the replacement does leave a marker when it runs.
	if err := exec.Command(p.Path).Run(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Fatal("the control run left no marker, so the check above proves nothing")
	}
}

// An executable on MM_PLUGIN_PATH that was never installed is found but
// refused, with a hint to install it; once installed it runs.
func TestUnpinnedPluginRefused(t *testing.T) {
	t.Parallel()
	pathDir := t.TempDir()
	onPath := filepath.Join(pathDir, "mm-signer-extra")
	copyFile(t, extraPlugin, onPath)
	h := newHost(t, plugins.Options{}, pathDir)
	ctx := context.Background()
	_, err := h.Open(ctx, "extra")
	e := wantCode(t, err, plugins.CodePluginNotPinned)
	if !strings.Contains(e.Hint, "mm signer install "+onPath) {
		t.Fatalf("hint %q", e.Hint)
	}
	list, _ := h.List(ctx)
	found := false
	for _, p := range list {
		if p.Name == "extra" {
			found = !p.Pinned && p.Path == onPath
		}
	}
	if !found {
		t.Fatalf("List does not show the unpinned plugin: %+v", list)
	}
	if _, err := h.Install(ctx, onPath); err != nil {
		t.Fatal(err)
	}
	c, err := h.Open(ctx, "extra")
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

// Installing something that is not a plugin fails and changes nothing; so
// does installing over a built-in's name.
func TestInstallRefusals(t *testing.T) {
	t.Parallel()
	s, err := state.Open(filepath.Join(t.TempDir(), "home"))
	if err != nil {
		t.Fatal(err)
	}
	h := newHost(t, plugins.Options{Store: s})
	ctx := context.Background()
	dir := t.TempDir()
	notPlugin := filepath.Join(dir, "mm-signer-notaplugin")
	if err := os.WriteFile(notPlugin, []byte("#!/bin/sh\necho hello\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = h.Install(ctx, notPlugin)
	if err == nil {
		t.Fatal("installed a program that is not a plugin")
	}
	if c := sdk.CodeOf(err); c != sdk.CodePluginIncompatible && c != sdk.CodePluginCrashed {
		t.Fatalf("not a plugin: %v", err)
	}
	shadow := filepath.Join(dir, "mm-signer-testsigner")
	copyFile(t, extraPlugin, shadow)
	_, err = h.Install(ctx, shadow)
	wantCode(t, err, sdk.CodeInvalidPluginName)
	_, err = h.Install(ctx, filepath.Join(dir, "mm-signer-missing"))
	wantCode(t, err, sdk.CodePluginNotFound)
	list, err := h.List(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("refused installs changed the list: %+v %v", list, err)
	}
	entries, _ := os.ReadDir(s.Path(plugins.PluginsDir))
	if len(entries) != 0 {
		t.Fatalf("refused installs left files: %v", entries)
	}
	if _, err := os.Stat(s.Path(plugins.LockFile)); !os.IsNotExist(err) {
		t.Fatalf("refused installs wrote a lock file: %v", err)
	}
}

// A damaged lock file is reported, never silently replaced.
func TestCorruptLockFile(t *testing.T) {
	t.Parallel()
	s, err := state.Open(filepath.Join(t.TempDir(), "home"))
	if err != nil {
		t.Fatal(err)
	}
	h := newHost(t, plugins.Options{Store: s})
	ctx := context.Background()
	for _, bad := range []string{
		`{not json`,
		`{"version": 1, "plugins": {"x": {"path": "/p", "sha256": "abc"}}}`,
		`{"version": 1, "plugins": {"../x": {"path": "/p", "sha256": "` + strings.Repeat("ab", 32) + `"}}}`,
		`{"version": 1, "plugins": {"x": {"path": "rel", "sha256": "` + strings.Repeat("ab", 32) + `"}}}`,
		`{"version": 9, "plugins": {}}`,
	} {
		if err := os.WriteFile(s.Path(plugins.LockFile), []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := h.Open(ctx, "x")
		wantCode(t, err, state.CodeStateCorrupt)
		_, err = h.List(ctx)
		wantCode(t, err, state.CodeStateCorrupt)
		_, err = h.Install(ctx, extraPlugin)
		wantCode(t, err, state.CodeStateCorrupt)
		if got, _ := os.ReadFile(s.Path(plugins.LockFile)); string(got) != bad {
			t.Fatal("the damaged lock file was overwritten")
		}
		// Built-ins do not depend on it.
		c, err := h.Open(ctx, "testsigner")
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
}

// With Verbose, plugin stderr is relayed line by line with the plugin's
// name; without, it is discarded.
func TestVerboseStderrRelay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, verbose := range []bool{true, false} {
		var out syncBuffer
		h := newHost(t, plugins.Options{Verbose: verbose, Stderr: &out})
		c, err := h.Open(ctx, "testsigner")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.SignMessage(ctx, &sdk.SignMessageRequest{Message: []byte("stderr")}); err != nil {
			t.Fatal(err)
		}
		c.Close() // flushes the plugin's output
		got := out.String()
		if verbose && !strings.Contains(got, "testsigner: testsigner: hello from stderr\n") {
			t.Fatalf("verbose relay: %q", got)
		}
		if !verbose && got != "" {
			t.Fatalf("quiet host relayed %q", got)
		}
	}
}

// A plugin that crashes mid-sign gives PLUGIN_CRASHED and no signature.
func TestCrashMidSign(t *testing.T) {
	t.Parallel()
	h := newHost(t, plugins.Options{})
	c, err := h.Open(context.Background(), "testsigner")
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.SignMessage(context.Background(), &sdk.SignMessageRequest{Message: []byte("crash")})
	if r != nil {
		t.Fatal("a signature came back from a crashed plugin")
	}
	wantCode(t, err, sdk.CodePluginCrashed)
	if !errors.Is(err, sdk.ErrPluginCrashed) {
		t.Fatal("errors.Is(ErrPluginCrashed) false")
	}
	waitFor(t, "the crashed plugin to be gone", 10*time.Second, func() bool { return !alive(c.Pid()) })
}

// Killing the host — SIGINT, which mm handles by cancelling and closing,
// or SIGKILL, which nothing handles — leaves no plugin process behind.
func TestNoPluginOutlivesHost(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			home := filepath.Join(t.TempDir(), "home")
			s, err := state.Open(home)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := plugins.New(plugins.Options{Store: s, PluginPath: []string{}}).Install(context.Background(), extraPlugin); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), helperEnv+"=host", state.EnvHome+"="+home)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr syncBuffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			br := bufio.NewReader(out)
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("helper host: %v; stderr: %s", err, stderr.String())
			}
			var a, b int
			if _, err := fmt.Sscanf(line, "pids %d %d", &a, &b); err != nil || !alive(a) || !alive(b) {
				t.Fatalf("helper said %q (%v)", line, err)
			}
			time.Sleep(50 * time.Millisecond) // let the call reach the plugin
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			rest, _ := io.ReadAll(br)
			werr := cmd.Wait()
			if sig == syscall.SIGINT {
				if werr != nil || !strings.Contains(string(rest), "call ended: CANCELED") {
					t.Fatalf("host did not shut down cleanly on SIGINT: %v, %q, stderr %s", werr, rest, stderr.String())
				}
			}
			for _, pid := range []int{a, b} {
				waitFor(t, fmt.Sprintf("plugin %d to die with its host", pid), 20*time.Second, func() bool { return !alive(pid) })
			}
		})
	}
}

// The host starts a built-in signer detached, reattaches to it, and stops
// it.
func TestDetachedThroughHost(t *testing.T) {
	t.Parallel()
	h := newHost(t, plugins.Options{})
	ctx := context.Background()
	run, err := os.MkdirTemp("", "mmp")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(run)
	info, err := h.StartDetached(ctx, "testsigner", sdk.DetachedOptions{Dir: run, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(info.Pid, syscall.SIGKILL)
	c, err := h.Reattach(ctx, info)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SignMessage(ctx, &sdk.SignMessageRequest{Message: []byte("again")}); err != nil {
		t.Fatal(err)
	}
	h.Close()
	if !alive(info.Pid) {
		t.Fatal("closing the host ended the detached signer")
	}
	if err := sdk.StopDetached(ctx, info); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the detached signer to stop", 20*time.Second, func() bool { return !alive(info.Pid) })
}
