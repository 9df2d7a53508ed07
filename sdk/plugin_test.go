package sdk_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/sdk/internal/testsigner"
)

var local = testsigner.New()

func account() sdk.Account { return sdk.Account{Address: local.Address(), Path: "m/44'/60'/0'/0/0"} }

func legacyTx(t testing.TB, data []byte) []byte {
	t.Helper()
	to := common.HexToAddress("0x00000000000000000000000000000000000000aa")
	raw, err := types.NewTx(&types.LegacyTx{Nonce: 7, GasPrice: big.NewInt(2e9), Gas: 21000 + 16*uint64(len(data)), To: &to, Value: big.NewInt(1), Data: data}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func dynamicTx(t testing.TB, chainID *big.Int, data []byte) []byte {
	t.Helper()
	to := common.HexToAddress("0x00000000000000000000000000000000000000bb")
	raw, err := types.NewTx(&types.DynamicFeeTx{ChainID: chainID, Nonce: 1, GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(3e9), Gas: 100000, To: &to, Value: big.NewInt(5), Data: data}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// The plugin answers exactly what the same signer answers in process:
// every operation, byte for byte (signatures are deterministic).
func TestPluginSignsLikeInProcess(t *testing.T) {
	t.Parallel()
	c := launch(t, sdk.PluginOptions{})
	ctx := context.Background()
	if c.ProtocolVersion() != 2 || c.Pid() <= 0 || c.Pid() == os.Getpid() {
		t.Fatalf("protocol %d pid %d", c.ProtocolVersion(), c.Pid())
	}

	info, err := c.Info(ctx, &sdk.InfoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := local.Info(ctx, &sdk.InfoRequest{})
	if !reflect.DeepEqual(info, want) {
		t.Fatalf("info over the wire\n got %+v\nwant %+v", info, want)
	}

	acc, err := c.Accounts(ctx, &sdk.AccountsRequest{Paths: []string{"m/44'/60'/0'/0/5"}, Indices: []uint32{3}})
	if err != nil {
		t.Fatal(err)
	}
	if len(acc.Accounts) != 2 || acc.Accounts[0].Address != local.Address() || acc.Accounts[0].Path != "m/44'/60'/0'/0/5" || acc.Accounts[1].Path != "m/44'/60'/0'/0/3" {
		t.Fatalf("accounts %+v", acc.Accounts)
	}

	for _, msg := range [][]byte{nil, []byte("hello"), {0, 1, 2, 0xff}, bytes.Repeat([]byte{'x'}, 64<<10)} {
		got, err := c.SignMessage(ctx, &sdk.SignMessageRequest{Account: account(), Message: msg, Display: &sdk.Display{Intent: "sign"}})
		if err != nil {
			t.Fatal(err)
		}
		exp, _ := local.SignMessage(ctx, &sdk.SignMessageRequest{Account: account(), Message: msg})
		if !bytes.Equal(got.Signature, exp.Signature) {
			t.Fatalf("message signature %x, in process %x", got.Signature, exp.Signature)
		}
		h := accounts.TextHash(msg)
		sig := bytes.Clone(got.Signature)
		sig[64] -= 27
		pub, err := crypto.SigToPub(h, sig)
		if err != nil || crypto.PubkeyToAddress(*pub) != local.Address() {
			t.Fatalf("message signature does not recover: %v", err)
		}
	}

	maxU64 := new(big.Int).SetUint64(^uint64(0))
	txs := []struct {
		name    string
		chainID *big.Int
		raw     []byte
	}{
		{"legacy chain 1", big.NewInt(1), legacyTx(t, nil)},
		{"legacy chain 3125659152", big.NewInt(3125659152), legacyTx(t, nil)},
		{"legacy chain 2^64-1", maxU64, legacyTx(t, []byte{1, 2, 3})},
		{"eip1559 4 KiB calldata", big.NewInt(137), dynamicTx(t, big.NewInt(137), bytes.Repeat([]byte{0xab}, 4096))},
	}
	for _, tc := range txs {
		req := &sdk.SignTransactionRequest{Account: account(), ChainID: tc.chainID, Transaction: tc.raw, Display: &sdk.Display{Intent: tc.name, Fields: []sdk.DisplayField{{Label: "to", Value: "x"}}}}
		got, err := c.SignTransaction(ctx, req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		exp, err := local.SignTransaction(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.SignedTransaction, exp.SignedTransaction) || !bytes.Equal(got.Signature, exp.Signature) {
			t.Fatalf("%s: plugin and in-process signatures differ", tc.name)
		}
		tx := new(types.Transaction)
		if err := tx.UnmarshalBinary(got.SignedTransaction); err != nil {
			t.Fatal(err)
		}
		from, err := types.Sender(types.LatestSignerForChainID(tc.chainID), tx)
		if err != nil || from != local.Address() {
			t.Fatalf("%s: sender %s, %v", tc.name, from.Hex(), err)
		}
	}

	ds := common.HexToHash("0x1111111111111111111111111111111111111111111111111111111111111111")
	mh := common.HexToHash("0x2222222222222222222222222222222222222222222222222222222222222222")
	for _, h := range []*common.Hash{&mh, nil} {
		req := &sdk.SignTypedDataRequest{Account: account(), TypedData: []byte(`{}`), DomainSeparator: ds, MessageHash: h}
		got, err := c.SignTypedData(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		exp, _ := local.SignTypedData(ctx, req)
		if !bytes.Equal(got.Signature, exp.Signature) {
			t.Fatalf("typed data (message hash %v): signatures differ", h != nil)
		}
	}

	authReq := &sdk.SignAuthorizationRequest{Account: account(), ChainID: big.NewInt(1), Delegate: common.HexToAddress("0xcc"), Nonce: 9}
	auth, err := c.SignAuthorization(ctx, authReq)
	if err != nil {
		t.Fatal(err)
	}
	expAuth, _ := local.SignAuthorization(ctx, authReq)
	if !bytes.Equal(auth.Signature, expAuth.Signature) {
		t.Fatal("authorization signatures differ")
	}

	if _, err := c.Configure(ctx, &sdk.ConfigureRequest{Settings: map[string]string{"device": "tcp://127.0.0.1:9999"}}); err != nil {
		t.Fatal(err)
	}
	m, err := c.Manage(ctx, &sdk.ManageRequest{Op: "settings"})
	if err != nil || m.Result["device"] != "tcp://127.0.0.1:9999" {
		t.Fatalf("settings after Configure: %v %v", m, err)
	}

	job, err := c.PollJob(ctx, &sdk.PollJobRequest{ID: "j1"})
	if err != nil {
		t.Fatal(err)
	}
	expJob, _ := local.PollJob(ctx, &sdk.PollJobRequest{ID: "j1"})
	if job.Job != expJob.Job || job.Message == nil || !bytes.Equal(job.Message.Signature, expJob.Message.Signature) {
		t.Fatalf("poll job %+v", job)
	}
}

// allSentinels lists every exported *sdk.Error sentinel.
var allSentinels = []*sdk.Error{
	sdk.ErrUnsupported, sdk.ErrInvalidRequest, sdk.ErrCanceled, sdk.ErrUserRejected,
	sdk.ErrUnknownAccount, sdk.ErrInvalidDerivationPath, sdk.ErrInvalidMnemonic,
	sdk.ErrWrongPassword, sdk.ErrDeviceNotFound, sdk.ErrDeviceLocked,
	sdk.ErrDeviceDisconnected, sdk.ErrPluginNotFound, sdk.ErrPluginChecksum,
	sdk.ErrPluginIncompatible, sdk.ErrPluginCrashed, sdk.ErrPluginNotRunning,
}

// A signer's coded error keeps its identity, message and hint across the
// wire, over both protocol versions.
func TestErrorIdentityAcrossWire(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{nil, {"-versions", "1"}} {
		c := launch(t, sdk.PluginOptions{}, args...)
		for _, s := range allSentinels {
			msg := "it went wrong: " + strings.ToLower(string(s.Code))
			hint := "try " + string(s.Code)
			_, err := c.SignMessage(context.Background(), &sdk.SignMessageRequest{
				Account: account(),
				Message: []byte(testsigner.MsgFailPrefix + string(s.Code) + "|" + msg + "|" + hint),
			})
			if !errors.Is(err, s) {
				t.Fatalf("protocol %d: errors.Is(%v, %s) is false", c.ProtocolVersion(), err, s.Code)
			}
			for _, other := range allSentinels {
				if other != s && errors.Is(err, other) {
					t.Fatalf("protocol %d: %s also matches %s", c.ProtocolVersion(), s.Code, other.Code)
				}
			}
			e := sdk.AsError(err)
			if e.Message != msg || e.Hint != hint {
				t.Fatalf("protocol %d: %s arrived as %q / %q", c.ProtocolVersion(), s.Code, e.Message, e.Hint)
			}
		}
		// A code no sentinel names passes through untouched.
		_, err := c.SignMessage(context.Background(), &sdk.SignMessageRequest{Account: account(), Message: []byte(testsigner.MsgFailPrefix + "SIGNER_SPECIFIC|special|")})
		if sdk.CodeOf(err) != "SIGNER_SPECIFIC" {
			t.Fatalf("custom code arrived as %v", err)
		}
		// Terminal escape sequences from a plugin never reach the host's text.
		_, err = c.SignMessage(context.Background(), &sdk.SignMessageRequest{Account: account(), Message: []byte(testsigner.MsgFailPrefix + "DEVICE_ERROR|bad\x1b[2Jthing|hint\x07")})
		if e := sdk.AsError(err); e == nil || strings.ContainsAny(e.Message+e.Hint, "\x1b\x07") {
			t.Fatalf("control characters passed: %q", err)
		}
		// A malformed code is a protocol error, not a code.
		_, err = c.SignMessage(context.Background(), &sdk.SignMessageRequest{Account: account(), Message: []byte(testsigner.MsgFailPrefix + "lower case|x|")})
		wantCode(t, err, sdk.CodePluginProtocolError)
	}
}

// The plugin's PrompterFrom(ctx) reaches the host's Prompter: notify,
// waiting-for-user, confirm and a secret, which arrives intact and is
// never printed.
func TestPrompterRoundTrip(t *testing.T) {
	t.Parallel()
	secret := []byte("correct horse battery staple")
	rec := &recorder{secret: secret, confirm: true}
	var stderr syncBuffer
	c := launch(t, sdk.PluginOptions{Prompter: rec, Stderr: &stderr})
	ctx := context.Background()
	got, err := c.SignMessage(ctx, &sdk.SignMessageRequest{Account: account(), Message: []byte(testsigner.MsgPrompt)})
	if err != nil {
		t.Fatal(err)
	}
	// The plugin signed the secret it received.
	sig := bytes.Clone(got.Signature)
	sig[64] -= 27
	pub, err := crypto.SigToPub(accounts.TextHash(secret), sig)
	if err != nil || crypto.PubkeyToAddress(*pub) != local.Address() {
		t.Fatal("the plugin did not receive the secret intact")
	}
	wantEvents := []string{
		"notify:info:testsigner wants a password",
		"waiting:Test Device:confirm on your Test Device:false",
		"confirm:Sign with the test key?",
		"waiting:Test Device::true",
		"secret:password:Test password",
	}
	if ev := rec.Events(); !reflect.DeepEqual(ev, wantEvents) {
		t.Fatalf("prompter saw %q, want %q", ev, wantEvents)
	}
	if strings.Contains(stderr.String(), string(secret)) {
		t.Fatal("the secret appeared in the plugin's output")
	}

	// The user says no.
	no := &recorder{secret: secret, confirm: false}
	_, err = c.SignMessage(sdk.WithPrompter(ctx, no), &sdk.SignMessageRequest{Account: account(), Message: []byte(testsigner.MsgPrompt)})
	if !errors.Is(err, sdk.ErrUserRejected) {
		t.Fatalf("rejected confirmation gave %v", err)
	}
	if len(no.Events()) == 0 || len(rec.Events()) != len(wantEvents) {
		t.Fatal("a Prompter in the call's context must take precedence over the client's")
	}

	// A host without a prompter refuses questions; so does protocol 1.
	for _, args := range [][]string{nil, {"-versions", "1"}} {
		bare := launch(t, sdk.PluginOptions{}, args...)
		_, err = bare.SignMessage(ctx, &sdk.SignMessageRequest{Account: account(), Message: []byte(testsigner.MsgPrompt)})
		wantCode(t, err, sdk.CodeNonInteractive)
	}
}

// The Prompter connection costs a second mutual-TLS handshake on both sides,
// so a plugin opens it at its first question, not while the host waits for
// its first answers. A plugin that stays idle claims the host's offer after
// PrompterClaimDelay, so a question asked after go-plugin's broker would
// have forgotten the offer (five seconds) still reaches the host.
func TestPrompterConnectedWhenNeeded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ask := func(t *testing.T, c *sdk.PluginClient, rec *recorder) {
		t.Helper()
		before := len(rec.Events())
		if _, err := c.SignMessage(ctx, &sdk.SignMessageRequest{Account: account(), Message: []byte(testsigner.MsgPrompt)}); err != nil {
			t.Fatalf("a question: %v", err)
		}
		if len(rec.Events()) == before {
			t.Fatal("the question did not reach the host's Prompter")
		}
	}
	t.Run("at the first question", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{secret: []byte("pw"), confirm: true}
		c := launch(t, sdk.PluginOptions{Prompter: rec}, "-prompter-claim-delay", "1h")
		for i := 0; i < 3; i++ {
			if _, err := c.SignMessage(ctx, &sdk.SignMessageRequest{Account: account(), Message: []byte("no question")}); err != nil {
				t.Fatal(err)
			}
		}
		if n := sdk.PrompterConnections(c); n != 0 {
			t.Fatalf("the plugin connected to the Prompter %d times without a question", n)
		}
		ask(t, c, rec)
		ask(t, c, rec)
		if n := sdk.PrompterConnections(c); n != 1 {
			t.Fatalf("two questions made %d Prompter connections, want 1", n)
		}
	})
	t.Run("after the broker forgot its offer", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{secret: []byte("pw"), confirm: true}
		c := launch(t, sdk.PluginOptions{Prompter: rec}, "-prompter-claim-delay", "100ms")
		waitFor(t, "the idle plugin to claim the Prompter", time.Minute, func() bool { return sdk.PrompterConnections(c) == 1 })
		time.Sleep(5500 * time.Millisecond) // past go-plugin's five seconds
		ask(t, c, rec)
		if n := sdk.PrompterConnections(c); n != 1 {
			t.Fatalf("%d Prompter connections, want 1", n)
		}
	})
}

// Host and plugin agree on the newest common version; a v1-only plugin is
// spoken to through the adapter; no common version is PLUGIN_INCOMPATIBLE
// naming both sides' versions.
func TestVersionNegotiation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("N", func(t *testing.T) {
		t.Parallel()
		c := launch(t, sdk.PluginOptions{})
		if c.ProtocolVersion() != 2 {
			t.Fatalf("negotiated %d", c.ProtocolVersion())
		}
	})
	t.Run("N-1", func(t *testing.T) {
		t.Parallel()
		c := launch(t, sdk.PluginOptions{}, "-versions", "1")
		if c.ProtocolVersion() != 1 {
			t.Fatalf("negotiated %d", c.ProtocolVersion())
		}
		info, err := c.Info(ctx, &sdk.InfoRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if info.ProtocolVersion != 1 || info.Capabilities.SupportsTx(sdk.TxEIP7702) || info.Capabilities.AsyncJobs || !info.Capabilities.SupportsTx(sdk.TxEIP1559) {
			t.Fatalf("v1 info %+v", info)
		}
		got, err := c.SignMessage(ctx, &sdk.SignMessageRequest{Account: account(), Message: []byte("v1")})
		if err != nil {
			t.Fatal(err)
		}
		exp, _ := local.SignMessage(ctx, &sdk.SignMessageRequest{Account: account(), Message: []byte("v1")})
		if !bytes.Equal(got.Signature, exp.Signature) {
			t.Fatal("v1 signature differs")
		}
		tx, err := c.SignTransaction(ctx, &sdk.SignTransactionRequest{Account: account(), ChainID: big.NewInt(1), Transaction: legacyTx(t, nil)})
		if err != nil || len(tx.SignedTransaction) == 0 {
			t.Fatalf("v1 transaction: %v", err)
		}
		_, err = c.Configure(ctx, &sdk.ConfigureRequest{})
		wantCode(t, err, sdk.CodeUnsupported)
		_, err = c.Manage(ctx, &sdk.ManageRequest{Op: "settings"})
		wantCode(t, err, sdk.CodeUnsupported)
		_, err = c.SignAuthorization(ctx, &sdk.SignAuthorizationRequest{Account: account(), ChainID: big.NewInt(1)})
		wantCode(t, err, sdk.CodeUnsupported)
		_, err = c.PollJob(ctx, &sdk.PollJobRequest{ID: "x"})
		wantCode(t, err, sdk.CodeUnsupported)
	})
	t.Run("none in common", func(t *testing.T) {
		t.Parallel()
		_, err := sdk.Launch(ctx, exec.Command(testPlugin, "-fake-version", "7"), sdk.PluginOptions{Name: "future"})
		e := wantCode(t, err, sdk.CodePluginIncompatible)
		if !strings.Contains(e.Message, "7") || !strings.Contains(e.Message, "1, 2") || !strings.Contains(e.Message, "future") {
			t.Fatalf("message should name the plugin and both sides' versions: %q", e.Message)
		}
	})
}

// Cancelling the host's context cancels the call inside the plugin.
func TestContextCancellation(t *testing.T) {
	t.Parallel()
	c := launch(t, sdk.PluginOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.SignMessage(ctx, &sdk.SignMessageRequest{Account: account(), Message: []byte(testsigner.MsgSleep)})
		errc <- err
	}()
	time.Sleep(100 * time.Millisecond)
	cancel()
	var err error
	select {
	case err = <-errc:
	case <-time.After(30 * time.Second):
		t.Fatal("cancelled call did not return")
	}
	if !errors.Is(err, sdk.ErrCanceled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled call gave %v", err)
	}
	waitFor(t, "the plugin to see the cancellation", 30*time.Second, func() bool {
		m, err := c.Manage(context.Background(), &sdk.ManageRequest{Op: "canceled"})
		return err == nil && m.Result["count"] == "1"
	})
	// A context that is already done never reaches the plugin.
	_, err = c.SignMessage(ctx, &sdk.SignMessageRequest{Account: account(), Message: []byte("x")})
	wantCode(t, err, sdk.CodeCanceled)
}

// 32 concurrent calls through one plugin all succeed and are each right.
func TestConcurrentCalls(t *testing.T) {
	t.Parallel()
	c := launch(t, sdk.PluginOptions{Prompter: &recorder{secret: []byte("pw"), confirm: true}})
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			msg := []byte(fmt.Sprintf("message %d", i))
			if i%8 == 0 {
				msg = []byte(testsigner.MsgPrompt) // some calls talk to the host meanwhile
			}
			r, err := c.SignMessage(context.Background(), &sdk.SignMessageRequest{Account: account(), Message: msg})
			if err != nil {
				errs <- err
				return
			}
			if i%8 == 0 {
				msg = []byte("pw")
			}
			exp, _ := local.SignMessage(context.Background(), &sdk.SignMessageRequest{Account: account(), Message: msg})
			if !bytes.Equal(r.Signature, exp.Signature) {
				errs <- fmt.Errorf("call %d: wrong signature", i)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A plugin that dies mid-call yields PLUGIN_CRASHED and no signature, and
// so does every later call.
func TestCrashMidCall(t *testing.T) {
	t.Parallel()
	var stderr syncBuffer
	c := launch(t, sdk.PluginOptions{Stderr: &stderr, Name: "crashy"})
	r, err := c.SignMessage(context.Background(), &sdk.SignMessageRequest{Account: account(), Message: []byte(testsigner.MsgCrash)})
	if r != nil {
		t.Fatal("a crashed call returned a response")
	}
	e := wantCode(t, err, sdk.CodePluginCrashed)
	if !errors.Is(err, sdk.ErrPluginCrashed) || !strings.Contains(e.Message, "crashy") || !strings.Contains(e.Message, "exit status 2") {
		t.Fatalf("crash error %q", e.Message)
	}
	r, err = c.SignMessage(context.Background(), &sdk.SignMessageRequest{Account: account(), Message: []byte("after")})
	if r != nil {
		t.Fatal("a call after the crash returned a response")
	}
	wantCode(t, err, sdk.CodePluginCrashed)
	waitFor(t, "the relayed stderr", 10*time.Second, func() bool {
		return strings.Contains(stderr.String(), "crashy: panic: testsigner: crashing as asked\n")
	})
}

// A checksum pin is verified before the program runs.
func TestLaunchChecksum(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(testPlugin)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	c := launch(t, sdk.PluginOptions{Checksum: sum[:]})
	if _, err := c.Info(context.Background(), &sdk.InfoRequest{}); err != nil {
		t.Fatal(err)
	}
	bad := sum
	bad[0] ^= 1
	_, err = sdk.Launch(context.Background(), exec.Command(testPlugin), sdk.PluginOptions{Checksum: bad[:]})
	e := wantCode(t, err, sdk.CodePluginChecksumMismatch)
	if !errors.Is(err, sdk.ErrPluginChecksum) || e.Hint == "" {
		t.Fatalf("mismatch error %+v", e)
	}
	_, err = sdk.Launch(context.Background(), exec.Command(testPlugin+".missing"), sdk.PluginOptions{Checksum: sum[:]})
	wantCode(t, err, sdk.CodePluginNotFound)
	_, err = sdk.Launch(context.Background(), exec.Command(testPlugin+".missing"), sdk.PluginOptions{})
	wantCode(t, err, sdk.CodePluginNotFound)
}

// The plugin gets an allow-listed environment (no secrets), runs in a
// temporary folder removed on Close, and its stderr is relayed with its
// name.
func TestPluginProcessHygiene(t *testing.T) {
	t.Setenv("MM_PASSWORD", "not-a-real-secret")
	t.Setenv("MM_HOME", t.TempDir())
	t.Setenv("SOME_RANDOM_VARIABLE", "x")
	var stderr syncBuffer
	c, err := sdk.Launch(context.Background(), exec.Command(testPlugin), sdk.PluginOptions{Name: "hygiene", Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	m, err := c.Manage(context.Background(), &sdk.ManageRequest{Op: "env"})
	if err != nil {
		t.Fatal(err)
	}
	names := "," + m.Result["names"] + ","
	for _, secret := range []string{"MM_PASSWORD", "SOME_RANDOM_VARIABLE"} {
		if strings.Contains(names, ","+secret+",") {
			t.Fatalf("plugin environment has %s", secret)
		}
	}
	if !strings.Contains(names, ",MM_HOME,") || !strings.Contains(names, ",PATH,") {
		t.Fatalf("plugin environment lacks MM_HOME or PATH: %s", names)
	}
	if m.Result["pid"] != fmt.Sprint(c.Pid()) {
		t.Fatalf("Pid() %d, plugin says %s", c.Pid(), m.Result["pid"])
	}
	cwd := m.Result["cwd"]
	here, _ := os.Getwd()
	if cwd == "" || cwd == here {
		t.Fatalf("plugin working folder %q", cwd)
	}
	if _, err := c.SignMessage(context.Background(), &sdk.SignMessageRequest{Account: account(), Message: []byte(testsigner.MsgStderr)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the stderr line", 10*time.Second, func() bool {
		return strings.Contains(stderr.String(), "hygiene: testsigner: a line on stderr\n")
	})
	c.Close()
	if _, err := os.Stat(cwd); !os.IsNotExist(err) {
		t.Fatalf("working folder %s survives Close: %v", cwd, err)
	}
	if _, err := c.Info(context.Background(), &sdk.InfoRequest{}); err == nil {
		t.Fatal("call after Close succeeded")
	}
}

// A cancelled launch kills the process and says CANCELED.
func TestLaunchCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := sdk.Launch(ctx, exec.Command(testPlugin), sdk.PluginOptions{})
	wantCode(t, err, sdk.CodeCanceled)
}

// Running a plugin by hand explains itself instead of hanging.
func TestServeRefusesWithoutHost(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(testPlugin).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "mm starts it") {
		t.Fatalf("direct run: %v %s", err, out)
	}
	cmd := exec.Command(testPlugin)
	cmd.Env = append(os.Environ(), sdk.MagicCookieKey+"="+sdk.MagicCookieValue)
	out, err = cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "mutual TLS") {
		t.Fatalf("run without TLS: %v %s", err, out)
	}
}

// A plugin that ignores the TLS pipe — as one written in another language
// would — negotiates go-plugin's standard AutoMTLS with the host's offered
// certificate and still works, prompter included.
func TestStandardAutoMTLSPlugin(t *testing.T) {
	t.Parallel()
	rec := &recorder{secret: []byte("s3cret"), confirm: true}
	c := launch(t, sdk.PluginOptions{Prompter: rec}, "-automtls")
	r, err := c.SignMessage(context.Background(), &sdk.SignMessageRequest{Account: account(), Message: []byte(testsigner.MsgPrompt)})
	if err != nil {
		t.Fatal(err)
	}
	exp, _ := local.SignMessage(context.Background(), &sdk.SignMessageRequest{Account: account(), Message: rec.secret})
	if !bytes.Equal(r.Signature, exp.Signature) {
		t.Fatal("signature differs")
	}
}

// Closing the client while a call is in flight ends the call with CANCELED,
// not PLUGIN_CRASHED, and ends the plugin.
func TestCloseDuringCall(t *testing.T) {
	t.Parallel()
	c, err := sdk.Launch(context.Background(), exec.Command(testPlugin), sdk.PluginOptions{})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := c.SignMessage(context.Background(), &sdk.SignMessageRequest{Account: account(), Message: []byte(testsigner.MsgSleep)})
		errc <- err
	}()
	time.Sleep(100 * time.Millisecond)
	c.Close()
	select {
	case err := <-errc:
		wantCode(t, err, sdk.CodeCanceled)
	case <-time.After(30 * time.Second):
		t.Fatal("the call outlived Close")
	}
}

// A program that exits at once, before reading its TLS material, is a plugin
// that crashed or does not speak the protocol, never an internal error.
func TestLaunchNotAPlugin(t *testing.T) {
	t.Parallel()
	for i := 0; i < 5; i++ {
		_, err := sdk.Launch(context.Background(), exec.Command("/bin/true"), sdk.PluginOptions{Name: "true"})
		if c := sdk.CodeOf(err); c != sdk.CodePluginCrashed && c != sdk.CodePluginIncompatible {
			t.Fatalf("launching /bin/true: %v (code %q)", err, c)
		}
	}
}

// A plugin cannot send the host to connect anywhere but a local socket.
func TestHandshakeAddressRefused(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"tcp|127.0.0.1:1", "tcp|192.0.2.1:443", "udp|127.0.0.1:1", "unix|"} {
		_, err := sdk.Launch(context.Background(), exec.Command(testPlugin, "-fake-address", addr), sdk.PluginOptions{Name: "liar"})
		e := wantCode(t, err, sdk.CodePluginProtocolError)
		if !strings.Contains(e.Message, "only a local socket") {
			t.Fatalf("%s: %q", addr, e.Message)
		}
	}
}

// A long-lived host (the REPL) launches and closes plugins many times:
// nothing of them stays behind in the host.
func TestLaunchCloseLeavesNothing(t *testing.T) {
	// Not parallel: it counts the process's goroutines.
	ctx := context.Background()
	cycle := func() {
		c, err := sdk.Launch(ctx, exec.Command(benchPlugin), sdk.PluginOptions{Prompter: &recorder{}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.SignMessage(ctx, &sdk.SignMessageRequest{Account: account(), Message: []byte("x")}); err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	cycle() // first-use goroutines (the spawner thread) start here
	time.Sleep(100 * time.Millisecond)
	before := runtime.NumGoroutine()
	for i := 0; i < 10; i++ {
		cycle()
	}
	waitFor(t, "goroutines to settle", 20*time.Second, func() bool { return runtime.NumGoroutine() <= before+1 })
}

// A SIGKILLed host cannot remove its plugins' socket folders; the next host
// removes the folders of hosts that are gone, and only those.
func TestSweepDeadHosts(t *testing.T) {
	parent := t.TempDir()
	done := exec.Command("true")
	if err := done.Run(); err != nil {
		t.Fatal(err)
	}
	live := exec.Command("sleep", "30")
	if err := live.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { live.Process.Kill(); live.Wait() }()
	mk := func(name string) string {
		p := filepath.Join(parent, name)
		if err := os.MkdirAll(filepath.Join(p, "plugin-dir1"), 0o700); err != nil {
			t.Fatal(err)
		}
		return p
	}
	dead := mk(fmt.Sprintf("host-%d", done.Process.Pid))
	alive := mk(fmt.Sprintf("host-%d", live.Process.Pid))
	self := mk(fmt.Sprintf("host-%d", os.Getpid()))
	other := mk("not-a-host")
	sdk.SweepDeadHosts(parent)
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("the folder of a dead host is still there (%v)", err)
	}
	for _, p := range []string{alive, self, other} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed: %v", filepath.Base(p), err)
		}
	}
}

// Plugin sockets are made in this host's own private folder.
func TestPluginSocketsInHostFolder(t *testing.T) {
	c := launch(t, sdk.PluginOptions{})
	if _, err := c.Info(context.Background(), &sdk.InfoRequest{}); err != nil {
		t.Fatal(err)
	}
	dir := sdk.HostSocketDir()
	if filepath.Base(dir) != fmt.Sprintf("host-%d", os.Getpid()) {
		t.Fatalf("socket folder %s is not this host's", dir)
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("host folder: %v %v", fi, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) == 0 {
		t.Fatal("the running plugin's socket folder is not in the host folder")
	}
}
