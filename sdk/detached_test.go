//go:build linux

package sdk_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/sdk/internal/testsigner"
)

// alive reports whether pid is a live, non-zombie process.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || (b[i+2] != 'Z' && b[i+2] != 'X')
}

// shortDir is a temporary folder with a path short enough for sockets.
func shortDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "mmd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// A detached signer outlives its starter, serves two hosts one after the
// other (keeping its state), talks to each host's prompter, refuses a
// stranger, and exits on its own at its deadline.
func TestDetachedServeAndReattach(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	run := filepath.Join(shortDir(t), "run")
	const ttl = 4 * time.Second
	info, err := sdk.StartDetached(ctx, exec.Command(testPlugin), sdk.DetachedOptions{Dir: run, TTL: ttl}, sdk.PluginOptions{Name: "byok"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(info.Pid, syscall.SIGKILL) })
	if info.Network != "unix" || !strings.HasPrefix(info.Address, run+"/") || info.ProtocolVersion != 2 || info.Name != "byok" ||
		len(info.ClientKey) == 0 || len(info.ServerCert) == 0 || !alive(info.Pid) {
		t.Fatalf("reattach info %s", info)
	}
	if time.Until(info.Deadline) > ttl || time.Until(info.Deadline) < 0 {
		t.Fatalf("deadline %s is not within %s", info.Deadline, ttl)
	}
	if strings.Contains(info.String(), "clientKey") || strings.Contains(info.String(), string(info.ClientKey)) {
		t.Fatal("String() shows key material")
	}
	for path, want := range map[string]os.FileMode{run: 0o700, info.Address: 0o600} {
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != want {
			t.Fatalf("%s: mode %v (%v), want %v", path, fi.Mode().Perm(), err, want)
		}
	}
	// The CLI keeps it as JSON in a 0600 file.
	raw, err := json.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	var stored sdk.ReattachInfo
	if err := json.Unmarshal(raw, &stored); err != nil {
		t.Fatal(err)
	}

	first, err := sdk.Reattach(ctx, &stored, sdk.PluginOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if first.Pid() != info.Pid || first.ProtocolVersion() != 2 {
		t.Fatalf("pid %d protocol %d", first.Pid(), first.ProtocolVersion())
	}
	got, err := first.SignMessage(ctx, &sdk.SignMessageRequest{Account: account(), Message: []byte("detached")})
	if err != nil {
		t.Fatal(err)
	}
	exp, _ := local.SignMessage(ctx, &sdk.SignMessageRequest{Account: account(), Message: []byte("detached")})
	if !bytes.Equal(got.Signature, exp.Signature) {
		t.Fatal("detached signature differs")
	}
	if _, err := first.Configure(ctx, &sdk.ConfigureRequest{Settings: map[string]string{"unlocked": "yes"}}); err != nil {
		t.Fatal(err)
	}
	if n := sdk.PrompterConnections(first); n != 0 {
		t.Fatalf("the detached signer dialed the host's Prompter %d times without a question", n)
	}
	first.Close()
	if !alive(info.Pid) {
		t.Fatal("closing a reattached client ended the detached signer")
	}

	rec := &recorder{secret: []byte("pw of the second host"), confirm: true}
	second, err := sdk.Reattach(ctx, &stored, sdk.PluginOptions{Prompter: rec})
	if err != nil {
		t.Fatal(err)
	}
	m, err := second.Manage(ctx, &sdk.ManageRequest{Op: "settings"})
	if err != nil || m.Result["unlocked"] != "yes" {
		t.Fatalf("state did not survive between hosts: %v %v", m, err)
	}
	p, err := second.SignMessage(ctx, &sdk.SignMessageRequest{Account: account(), Message: []byte(testsigner.MsgPrompt)})
	if err != nil {
		t.Fatal(err)
	}
	sig := bytes.Clone(p.Signature)
	sig[64] -= 27
	if pub, err := crypto.SigToPub(accounts.TextHash(rec.secret), sig); err != nil || crypto.PubkeyToAddress(*pub) != local.Address() {
		t.Fatal("the secret did not reach the detached signer through the reattached host's prompter")
	}
	if len(rec.Events()) != 5 || sdk.PrompterConnections(second) != 1 {
		t.Fatalf("prompter events %q over %d connections", rec.Events(), sdk.PrompterConnections(second))
	}
	second.Close()

	// Someone with the address but not the client key gets nowhere.
	stranger := stored
	stranger.ClientCert, stranger.ClientKey = selfSigned(t)
	c, err := sdk.Reattach(ctx, &stranger, sdk.PluginOptions{})
	if err == nil {
		c.Close()
		t.Fatal("reattached without the client key")
	}
	wantCode(t, err, sdk.CodePluginProtocolError)
	// The right certificate with another key is refused before any
	// connection.
	mixed := stored
	_, mixed.ClientKey = selfSigned(t)
	_, err = sdk.Reattach(ctx, &mixed, sdk.PluginOptions{})
	if e := wantCode(t, err, sdk.CodeInvalidRequest); !strings.Contains(e.Message, "does not match") {
		t.Fatalf("mismatched key: %v", e)
	}

	waitFor(t, "the detached signer to exit at its deadline", 60*time.Second, func() bool { return !alive(info.Pid) })
	if time.Now().Before(info.Deadline) {
		t.Fatalf("exited before its deadline %s", info.Deadline)
	}
	if _, err := os.Stat(info.Address); !os.IsNotExist(err) {
		t.Fatalf("socket left behind: %v", err)
	}
	_, err = sdk.Reattach(ctx, &stored, sdk.PluginOptions{})
	wantCode(t, err, sdk.CodePluginNotRunning)
}

// StopDetached ends a detached signer long before its deadline; stopping
// one that is gone is not an error.
func TestStopDetached(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	info, err := sdk.StartDetached(ctx, exec.Command(testPlugin), sdk.DetachedOptions{Dir: filepath.Join(shortDir(t), "run"), TTL: time.Hour}, sdk.PluginOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(info.Pid, syscall.SIGKILL) })
	if err := sdk.StopDetached(ctx, info); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the stopped signer to exit", 30*time.Second, func() bool { return !alive(info.Pid) })
	if err := sdk.StopDetached(ctx, info); err != nil {
		t.Fatalf("stopping a stopped signer: %v", err)
	}
	_, err = sdk.Reattach(ctx, info, sdk.PluginOptions{})
	wantCode(t, err, sdk.CodePluginNotRunning)
}

// A program that is not a plugin fails StartDetached cleanly.
func TestStartDetachedNotAPlugin(t *testing.T) {
	t.Parallel()
	_, err := sdk.StartDetached(context.Background(), exec.Command("/bin/true"), sdk.DetachedOptions{}, sdk.PluginOptions{})
	wantCode(t, err, sdk.CodePluginCrashed)
}

func selfSigned(t *testing.T) (certDER, keyDER []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth}}
	certDER, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err = x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return certDER, keyDER
}
