package core_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"

	"github.com/mm-wallet/mm/core"
	"github.com/mm-wallet/mm/core/chains"
	"github.com/mm-wallet/mm/core/coretest"
	"github.com/mm-wallet/mm/core/devnet"
	"github.com/mm-wallet/mm/core/txn"
	"github.com/mm-wallet/mm/sdk"
)

var bob = common.HexToAddress("0x52908400098527886E0F7030069857D2E4169EE7")

func run(t *testing.T, e *coretest.Env, s *coretest.KeySigner, req *core.Request) (*core.Result, error) {
	t.Helper()
	req.Account = s.Account()
	if req.ChainID == nil {
		req.ChainID = e.ChainID()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return e.Pipeline.Run(ctx, req)
}

func fresh(t *testing.T) common.Address {
	t.Helper()
	// Hash the name with a random salt: names may share their last 20 bytes,
	// and -count=N reruns a test against the same node.
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		t.Fatal(err)
	}
	return common.BytesToAddress(crypto.Keccak256([]byte(t.Name()), salt))
}

func TestETHTransferChangesBalancesExactly(t *testing.T) {
	t.Parallel()
	s := signer("eth")
	e := coretest.NewEnv(t, node, coretest.EnvOptions{Signer: s})
	to := fresh(t)
	before := e.Balance(t, s.Address())
	var progress []core.Progress
	res, err := run(t, e, s, &core.Request{Transfer: &core.Transfer{To: to.Hex(), Amount: "1.25", Token: "ETH"}, Wait: true, Progress: func(p core.Progress) { progress = append(progress, p) }})
	if err != nil {
		t.Fatal(err)
	}
	want := new(big.Int).Div(new(big.Int).Mul(big.NewInt(125), big.NewInt(params.Ether)), big.NewInt(100))
	if got := e.Balance(t, to); got.Cmp(want) != 0 {
		t.Errorf("recipient balance %v, want %v", got, want)
	}
	r, err := e.Client.TransactionReceipt(context.Background(), *res.TxHash)
	if err != nil || r == nil {
		t.Fatalf("receipt: %v %v", r, err)
	}
	fee := new(big.Int).Mul(new(big.Int).SetUint64(r.GasUsed), r.EffectiveGasPrice)
	spent := new(big.Int).Sub(before, e.Balance(t, s.Address()))
	if spent.Cmp(new(big.Int).Add(want, fee)) != 0 {
		t.Errorf("sender spent %v, want value %v + fee %v", spent, want, fee)
	}
	if res.Status != core.StatusConfirmed || res.Receipt == nil || res.Receipt.BlockNumber != r.BlockNumber.Uint64() || res.Receipt.GasUsed != 21000 {
		t.Errorf("result = %+v receipt %+v", res, res.Receipt)
	}
	if res.Intent != "Transfer 1.25 ETH to "+to.Hex() || res.Kind != core.KindTransfer || res.From != s.Address() || *res.To != to {
		t.Errorf("result intent/kind/from/to = %q %s %s %s", res.Intent, res.Kind, res.From.Hex(), res.To.Hex())
	}
	if len(progress) == 0 || !progress[len(progress)-1].Mined {
		t.Errorf("progress = %+v, want a final mined report", progress)
	}
	for _, st := range []core.Stage{core.StagePrepare, core.StageSign, core.StageSubmit, core.StageWait} {
		if res.Timings[st] <= 0 {
			t.Errorf("no timing for stage %s", st)
		}
	}
	j, err := e.Journal.Get(context.Background(), *res.TxHash)
	if err != nil {
		t.Fatal(err)
	}
	if j.Status != "confirmed" || j.BlockNumber == nil || *j.BlockNumber != r.BlockNumber.Uint64() || j.Value != want.String() || j.From != s.Address() || *j.To != to || j.Intent != res.Intent {
		t.Errorf("journal entry = %+v", j)
	}
}

func TestUSDCTransferChangesBalancesExactly(t *testing.T) {
	t.Parallel()
	s := signer("usdc")
	e := coretest.NewEnv(t, node, coretest.EnvOptions{Signer: s})
	to := fresh(t)
	before := e.USDC(t, s.Address())
	ethBefore := e.Balance(t, to)
	res, err := run(t, e, s, &core.Request{Transfer: &core.Transfer{To: to.Hex(), Amount: "12.5", Token: "usdc"}, Wait: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.USDC(t, to); got.Int64() != 12_500_000 {
		t.Errorf("recipient USDC %v, want 12500000", got)
	}
	if diff := new(big.Int).Sub(before, e.USDC(t, s.Address())); diff.Int64() != 12_500_000 {
		t.Errorf("sender USDC down by %v, want 12500000", diff)
	}
	if e.Balance(t, to).Cmp(ethBefore) != 0 {
		t.Error("a token transfer moved ether")
	}
	if res.Intent != "Transfer 12.5 USDC to "+to.Hex() || res.FunctionName != "transfer" || *res.To != node.Contracts().USDC {
		t.Errorf("result = %q %s %s", res.Intent, res.FunctionName, res.To.Hex())
	}
	if j, err := e.Journal.Get(context.Background(), *res.TxHash); err != nil || j.Status != "confirmed" || j.FunctionName != "transfer" {
		t.Errorf("journal = %+v, %v", j, err)
	}
}

func TestSendTransactionPayloadDecodesIntent(t *testing.T) {
	t.Parallel()
	s := signer("payload")
	e := coretest.NewEnv(t, node, coretest.EnvOptions{Signer: s})
	usdc := node.Contracts().USDC
	spender := node.Contracts().Spender
	data := "0x095ea7b3" + strings.Repeat("0", 24) + strings.ToLower(spender.Hex()[2:]) + strings.Repeat("f", 64)
	payload := `{"to":"` + usdc.Hex() + `","data":"` + data + `","value":"0x0"}`
	res, err := run(t, e, s, &core.Request{Payload: []byte(payload), Intent: "let the spender pull", Wait: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Intent != "Approve UNLIMITED USDC for "+spender.Hex() || res.Risk != core.RiskHigh || res.UserIntent != "let the spender pull" {
		t.Errorf("intent %q risk %s user %q", res.Intent, res.Risk, res.UserIntent)
	}
	out, err := e.Client.CallContract(context.Background(), callAllowance(usdc, s.Address(), spender))
	if err != nil || new(big.Int).SetBytes(out).Cmp(new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))) != 0 {
		t.Errorf("allowance = %x, %v", out, err)
	}
	// A legacy-priced payload is sent as a legacy transaction.
	res, err = run(t, e, s, &core.Request{Payload: []byte(`{"to":"` + bob.Hex() + `","value":"0x1","gasPrice":"0x77359400"}`), Wait: true})
	if err != nil {
		t.Fatal(err)
	}
	tx, _, err := e.Client.TransactionByHash(context.Background(), *res.TxHash)
	if err != nil || tx.Type() != types.LegacyTxType || tx.GasPrice().Int64() != 2_000_000_000 {
		t.Errorf("legacy payload mined as type %d price %v (%v)", tx.Type(), tx.GasPrice(), err)
	}
}

func TestFiftyConcurrentSubmissionsFormOneGapFreeSequence(t *testing.T) {
	t.Parallel()
	s := signer("concurrent")
	e := coretest.NewEnv(t, node, coretest.EnvOptions{Signer: s})
	ctx := context.Background()
	start, err := e.Client.PendingNonceAt(ctx, s.Address())
	if err != nil {
		t.Fatal(err)
	}
	const n = 50
	var wg sync.WaitGroup
	results := make([]*core.Result, n)
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			// Each goroutine has its own Preparer/Submitter/Pipeline, as
			// separate mm processes would; they share only the state folder.
			pe := coretest.NewEnvWithStore(t, node, e.Store, coretest.EnvOptions{Signer: s})
			results[i], errs[i] = pe.Pipeline.Run(ctx, &core.Request{ChainID: e.ChainID(), Account: s.Account(), Transfer: &core.Transfer{To: fresh(t).Hex(), Amount: "0.001", Token: "ETH"}})
		}(i)
	}
	wg.Wait()
	var nonces []uint64
	for i := 0; i < n; i++ {
		if errs[i] != nil {
			t.Fatalf("submission %d: %v", i, errs[i])
		}
		nonces = append(nonces, results[i].Nonce)
	}
	slices.Sort(nonces)
	for i, x := range nonces {
		if x != start+uint64(i) {
			t.Fatalf("nonces %v: not one gap-free sequence from %d", nonces, start)
		}
	}
	for _, r := range results {
		rc, err := e.Submitter.WaitReceipt(ctx, &core.WaitRequest{Hash: *r.TxHash, Timeout: 30 * time.Second})
		if err != nil || rc.Status != "success" {
			t.Fatalf("tx %s: %+v %v", r.TxHash.Hex(), rc, err)
		}
	}
	if got, _ := e.Client.NonceAt(ctx, s.Address()); got != start+n {
		t.Errorf("account nonce after all mined = %d, want %d", got, start+n)
	}
	if l := ledger(t, e, s.Address()); len(l.Reserved) != 0 || len(l.Released) != 0 || l.Next != start+n {
		t.Errorf("nonce ledger after the run = %+v", l)
	}
	hist, err := e.Journal.List(ctx, submitFilter())
	if err != nil || len(hist) != n {
		t.Errorf("journal holds %d entries (%v), want %d", len(hist), err, n)
	}
}

func TestFailedSignatureLeavesNoGap(t *testing.T) {
	t.Parallel()
	s := signer("mismatch")
	e := coretest.NewEnv(t, node, coretest.EnvOptions{Signer: s})
	ctx := context.Background()
	first, _ := e.Client.PendingNonceAt(ctx, s.Address())
	// A signer that signs with another key than the account's.
	e.Pipeline.Signer = &wrongKey{KeySigner: s, other: coretest.NewKeySigner("someone else")}
	_, err := run(t, e, s, &core.Request{Transfer: &core.Transfer{To: bob.Hex(), Amount: "0.01", Token: "ETH"}})
	if sdk.CodeOf(err) != core.CodeSignatureMismatch {
		t.Fatalf("err = %v, want %s", err, core.CodeSignatureMismatch)
	}
	// A signer that alters what it signs.
	bad := coretest.NewKeySigner("core test mismatch")
	bad.Tamper = func(raw []byte) []byte {
		// Re-sign a transaction with a higher value: a valid signature by
		// the right key over something else.
		tx := new(types.Transaction)
		_ = tx.UnmarshalBinary(raw)
		inner := &types.DynamicFeeTx{ChainID: tx.ChainId(), Nonce: tx.Nonce(), GasTipCap: tx.GasTipCap(), GasFeeCap: tx.GasFeeCap(), Gas: tx.Gas(), To: tx.To(), Value: new(big.Int).Add(tx.Value(), big.NewInt(1)), Data: tx.Data()}
		honest := coretest.NewKeySigner("core test mismatch")
		other, err := honest.SignTransaction(context.Background(), &sdk.SignTransactionRequest{Account: bad.Account(), ChainID: tx.ChainId(), Transaction: mustBinary(types.NewTx(inner))})
		if err != nil {
			return raw
		}
		return other.SignedTransaction
	}
	e.Pipeline = &core.Pipeline{Preparer: e.Preparer, Signer: bad, Submitter: e.Submitter}
	if _, err := run(t, e, s, &core.Request{Transfer: &core.Transfer{To: bob.Hex(), Amount: "0.01", Token: "ETH"}}); sdk.CodeOf(err) != core.CodeSignatureMismatch {
		t.Fatalf("tampered: err = %v, want %s", err, core.CodeSignatureMismatch)
	}
	if l, _ := e.Journal.List(ctx, submitFilter()); len(l) != 0 {
		t.Errorf("journal has %d entries after failed signatures", len(l))
	}
	e.Pipeline = &core.Pipeline{Preparer: e.Preparer, Signer: s, Submitter: e.Submitter}
	res, err := run(t, e, s, &core.Request{Transfer: &core.Transfer{To: bob.Hex(), Amount: "0.01", Token: "ETH"}, Wait: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Nonce != first {
		t.Errorf("nonce after two failed signatures = %d, want %d (no gap)", res.Nonce, first)
	}
}

type wrongKey struct {
	*coretest.KeySigner
	other *coretest.KeySigner
}

func (w *wrongKey) SignTransaction(ctx context.Context, req *sdk.SignTransactionRequest) (*sdk.SignTransactionResponse, error) {
	r := *req
	r.Account = w.other.Account()
	return w.other.SignTransaction(ctx, &r)
}

func TestDryRunSignsAndSpendsNothing(t *testing.T) {
	t.Parallel()
	s := signer("dryrun")
	e := coretest.NewEnv(t, node, coretest.EnvOptions{Signer: s})
	ctx := context.Background()
	before, _ := e.Client.PendingNonceAt(ctx, s.Address())
	res, err := run(t, e, s, &core.Request{Transfer: &core.Transfer{To: bob.Hex(), Amount: "1", Token: "USDC"}, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != core.StatusDryRun || res.TxHash != nil || !strings.HasPrefix(res.UnsignedTx, "0x02") || res.Nonce != before {
		t.Errorf("dry run result = %+v", res)
	}
	if s.Signed() != 0 {
		t.Errorf("dry run signed %d times", s.Signed())
	}
	if l := ledger(t, e, s.Address()); len(l.Reserved) != 0 || l.Next != before {
		t.Errorf("dry run left the ledger at %+v", l)
	}
}

// TestBadInputTable runs every rejected input in testdata/bad through the
// whole stack against the dev chain and checks its code, and that nothing
// was signed, journaled, reserved or broadcast.
func TestBadInputTable(t *testing.T) {
	s := signer("bad")
	e := coretest.NewEnv(t, node, coretest.EnvOptions{Signer: s})
	ctx := context.Background()
	// One real transfer first, so nonce 0 is used and the ledger exists.
	if _, err := run(t, e, s, &core.Request{Transfer: &core.Transfer{To: bob.Hex(), Amount: "0.5", Token: "ETH"}, Wait: true}); err != nil {
		t.Fatal(err)
	}
	signedBefore := s.Signed()
	files, _ := filepath.Glob("testdata/bad/*.json")
	if len(files) < 25 {
		t.Fatalf("only %d bad inputs", len(files))
	}
	repl := strings.NewReplacer("$REVERTER", node.Contracts().Reverter.Hex(), "$USDC", node.Contracts().USDC.Hex())
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var c struct {
				Code       sdk.Code        `json:"code"`
				ChainID    uint64          `json:"chainId"`
				RPC        string          `json:"rpc"`
				Payload    json.RawMessage `json:"payload"`
				PayloadRaw *string         `json:"payloadRaw"`
				Transfer   *core.Transfer  `json:"transfer"`
			}
			if err := json.Unmarshal([]byte(repl.Replace(string(raw))), &c); err != nil {
				t.Fatal(err)
			}
			pendingBefore, _ := e.Client.PendingNonceAt(ctx, s.Address())
			poolBefore := txpool(t, e)
			ledgerBefore := ledger(t, e, s.Address())

			req := &core.Request{Transfer: c.Transfer}
			if c.Payload != nil {
				req.Payload = c.Payload
			}
			if c.PayloadRaw != nil {
				req.Payload = []byte(*c.PayloadRaw)
			}
			var err2 error
			if c.ChainID != 0 && c.ChainID != devnet.ChainID {
				err2 = runOnChain(t, e, s, c.ChainID, c.RPC != "none", req)
			} else {
				_, err2 = run(t, e, s, req)
			}
			if got := sdk.CodeOf(err2); got != c.Code {
				t.Fatalf("code %q (%v), want %q", got, err2, c.Code)
			}
			if se := sdk.AsError(err2); se.Message == "" || se.Hint == "" {
				t.Errorf("error lacks a message or a hint: %+v", se)
			}
			if s.Signed() != signedBefore {
				t.Errorf("signed %d times", s.Signed()-signedBefore)
			}
			if l, _ := e.Journal.List(ctx, submitFilter()); len(l) != 1 {
				t.Errorf("journal has %d entries, want only the setup transfer", len(l))
			}
			if after, _ := e.Client.PendingNonceAt(ctx, s.Address()); after != pendingBefore {
				t.Errorf("pending nonce moved %d → %d: something was broadcast", pendingBefore, after)
			}
			if txpool(t, e) != poolBefore {
				t.Errorf("tx pool changed")
			}
			if l := ledger(t, e, s.Address()); l.Next != ledgerBefore.Next || len(l.Reserved) != 0 || len(l.Released) != len(ledgerBefore.Released) {
				t.Errorf("nonce ledger %+v → %+v", ledgerBefore, l)
			}
		})
	}
}

// runOnChain resolves another chain id as the CLI would, pointing its RPC at
// the dev chain when withRPC is set.
func runOnChain(t *testing.T, e *coretest.Env, s *coretest.KeySigner, id uint64, withRPC bool, req *core.Request) error {
	settings := chains.Settings{Getenv: func(string) string { return "" }}
	if withRPC {
		settings.RPC = map[uint64]string{id: node.RPCURL()}
	}
	c, err := chains.Resolve(id, settings)
	if err != nil {
		return err
	}
	client, err := chains.Dial(context.Background(), c.RPCURL())
	if err != nil {
		return err
	}
	defer client.Close()
	p := &core.Pipeline{Preparer: &txn.Preparer{Chain: c, Client: client, Nonces: e.Nonces}, Signer: e.Pipeline.Signer, Submitter: e.Submitter}
	req.ChainID = new(big.Int).SetUint64(id)
	req.Account = s.Account()
	_, err = p.Run(context.Background(), req)
	return err
}

func TestProtectedRouteNeverTouchesThePublicEndpoint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// Control: without privateRpc the recording proxy does see the
	// broadcast, so the recorder works.
	pub := newRecordingProxy(t, node.RPCURL())
	s := signer("public")
	e := coretest.NewEnv(t, node, coretest.EnvOptions{Signer: s, RPC: pub.URL})
	res, err := run(t, e, s, &core.Request{Transfer: &core.Transfer{To: bob.Hex(), Amount: "0.1", Token: "ETH"}, Wait: true})
	if err != nil {
		t.Fatal(err)
	}
	if !pub.saw("eth_sendRawTransaction") || res.Route != "public" {
		t.Fatalf("control: proxy methods %v, route %s", pub.methods(), res.Route)
	}

	// With privateRpc: public endpoint behind the recorder, private direct.
	pub2 := newRecordingProxy(t, node.RPCURL())
	priv := newRecordingProxy(t, node.RPCURL())
	s2 := signer("private")
	e2 := coretest.NewEnv(t, node, coretest.EnvOptions{Signer: s2, RPC: pub2.URL, PrivateRPC: priv.URL})
	to := fresh(t)
	res, err = run(t, e2, s2, &core.Request{Transfer: &core.Transfer{To: to.Hex(), Amount: "0.2", Token: "ETH"}, Wait: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Route != "private" || res.Status != core.StatusConfirmed {
		t.Errorf("route %s status %s", res.Route, res.Status)
	}
	if pub2.saw("eth_sendRawTransaction") {
		t.Fatal("the public endpoint received the signed transaction")
	}
	if len(pub2.methods()) == 0 {
		t.Fatal("the public endpoint was not used at all (reads should go there)")
	}
	if !priv.saw("eth_sendRawTransaction") {
		t.Errorf("the private endpoint did not receive the transaction: %v", priv.methods())
	}
	if e2.Balance(t, to).Cmp(new(big.Int).Div(big.NewInt(params.Ether), big.NewInt(5))) != 0 {
		t.Errorf("recipient balance %v", e2.Balance(t, to))
	}
	if j, err := e2.Journal.Get(ctx, *res.TxHash); err != nil || j.Route != "private" {
		t.Errorf("journal route = %+v, %v", j, err)
	}
}

func TestSpeedUpReplacesAStuckTransaction(t *testing.T) {
	t.Parallel()
	testReplace(t, "replace", false)
}

func TestCancelReplacesAStuckTransaction(t *testing.T) {
	t.Parallel()
	testReplace(t, "cancel", true)
}

func testReplace(t *testing.T, seed string, cancel bool) {
	s := signer(seed)
	e := coretest.NewEnv(t, node, coretest.EnvOptions{Signer: s})
	ctx := context.Background()
	to := fresh(t)
	next, _ := e.Client.PendingNonceAt(ctx, s.Address())
	// A transaction one nonce ahead waits in the pool: stuck.
	stuck, err := run(t, e, s, &core.Request{Payload: []byte(`{"to":"` + to.Hex() + `","value":"0x3e8","nonce":"` + hexU(next+1) + `"}`)})
	if err != nil {
		t.Fatal(err)
	}
	res, err := run(t, e, s, &core.Request{Replace: &core.Replace{Hash: *stuck.TxHash, Cancel: cancel}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Nonce != next+1 || res.Replaces == nil || *res.Replaces != *stuck.TxHash {
		t.Fatalf("replacement nonce %d replaces %v", res.Nonce, res.Replaces)
	}
	orig, _, _ := e.Client.TransactionByHash(ctx, *stuck.TxHash)
	repl, _, err := e.Client.TransactionByHash(ctx, *res.TxHash)
	if err != nil || repl == nil {
		t.Fatalf("replacement not in the pool: %v", err)
	}
	if orig != nil {
		t.Error("the node still holds the original")
	}
	// Fill the gap; the replacement mines, the original never does.
	if _, err := run(t, e, s, &core.Request{Payload: []byte(`{"to":"` + bob.Hex() + `","value":"0x1","nonce":"` + hexU(next) + `"}`), Wait: true}); err != nil {
		t.Fatal(err)
	}
	rc, err := e.Submitter.WaitReceipt(ctx, &core.WaitRequest{Hash: *res.TxHash, Timeout: 20 * time.Second})
	if err != nil || rc.Status != "success" {
		t.Fatalf("replacement receipt %+v %v", rc, err)
	}
	if r, _ := e.Client.TransactionReceipt(ctx, *stuck.TxHash); r != nil {
		t.Error("the original was mined")
	}
	j, err := e.Journal.Get(ctx, *stuck.TxHash)
	if err != nil || j.Status != "replaced" || j.ReplacedBy == nil || *j.ReplacedBy != *res.TxHash {
		t.Errorf("original's journal entry = %+v, %v", j, err)
	}
	if cancel {
		if e.Balance(t, to).Sign() != 0 || *repl.To() != s.Address() || repl.Value().Sign() != 0 {
			t.Errorf("cancel: recipient got %v, replacement to %s value %v", e.Balance(t, to), repl.To().Hex(), repl.Value())
		}
		if res.Kind != core.KindCancel {
			t.Errorf("kind %s", res.Kind)
		}
	} else {
		if e.Balance(t, to).Int64() != 1000 || res.Kind != core.KindSpeedUp {
			t.Errorf("speed-up: recipient got %v, kind %s", e.Balance(t, to), res.Kind)
		}
	}
	// Fees rose by at least 10 %.
	o := new(types.Transaction)
	if err := o.UnmarshalBinary(j.Raw); err != nil {
		t.Fatal(err)
	}
	if repl.GasTipCap().Cmp(mulDiv(o.GasTipCap(), 110, 100)) < 0 || repl.GasFeeCap().Cmp(mulDiv(o.GasFeeCap(), 110, 100)) < 0 {
		t.Errorf("fees %v/%v not ≥ 110%% of the original's %v/%v", repl.GasTipCap(), repl.GasFeeCap(), o.GasTipCap(), o.GasFeeCap())
	}
	// Replacing a mined transaction is refused.
	if _, err := run(t, e, s, &core.Request{Replace: &core.Replace{Hash: *res.TxHash}}); sdk.CodeOf(err) != core.CodeReplaceNotPossible {
		t.Errorf("replace a mined tx: %v", err)
	}
}

func TestAmbiguousBroadcastRetriesTheSameBytes(t *testing.T) {
	t.Parallel()
	s := signer("ambiguous")
	// The proxy forwards the first eth_sendRawTransaction to the node but
	// drops the connection before answering: the broadcast is ambiguous.
	p := newRecordingProxy(t, node.RPCURL())
	p.dropFirstSend = true
	e := coretest.NewEnv(t, node, coretest.EnvOptions{Signer: s, RPC: p.URL})
	e.Submitter.RetryDelay = 10 * time.Millisecond
	res, err := run(t, e, s, &core.Request{Transfer: &core.Transfer{To: bob.Hex(), Amount: "0.01", Token: "ETH"}, Wait: true})
	if err != nil {
		t.Fatal(err)
	}
	sends := p.sends()
	if len(sends) < 2 {
		t.Fatalf("%d sends, want a retry", len(sends))
	}
	for _, b := range sends[1:] {
		if b != sends[0] {
			t.Fatal("a retry sent different bytes")
		}
	}
	if res.Status != core.StatusConfirmed {
		t.Errorf("status %s", res.Status)
	}
}

func TestUnknownBroadcastKeepsTheNonce(t *testing.T) {
	t.Parallel()
	s := signer("unknown")
	p := newRecordingProxy(t, node.RPCURL())
	p.blackholeSends = true // never forwards, always drops the connection
	e := coretest.NewEnv(t, node, coretest.EnvOptions{Signer: s, RPC: p.URL})
	e.Submitter.RetryDelay = 10 * time.Millisecond
	res, err := run(t, e, s, &core.Request{Transfer: &core.Transfer{To: bob.Hex(), Amount: "0.01", Token: "ETH"}})
	if sdk.CodeOf(err) != core.CodeBroadcastUnknown {
		t.Fatalf("err = %v, want %s", err, core.CodeBroadcastUnknown)
	}
	if res == nil || res.Status != core.StatusUnknown || res.TxHash == nil {
		t.Fatalf("result = %+v", res)
	}
	sends := p.sends()
	for _, b := range sends[1:] {
		if b != sends[0] {
			t.Fatal("a retry sent different bytes")
		}
	}
	j, err := e.Journal.Get(context.Background(), *res.TxHash)
	if err != nil || j.Status != "unknown" {
		t.Errorf("journal = %+v, %v", j, err)
	}
	// The nonce stays taken: the next transaction gets the following one.
	p.blackholeSends = false
	res2, err := run(t, e, s, &core.Request{Transfer: &core.Transfer{To: bob.Hex(), Amount: "0.01", Token: "ETH"}})
	if err != nil {
		t.Fatal(err)
	}
	if res2.Nonce != res.Nonce+1 {
		t.Errorf("nonce after an unknown broadcast = %d, want %d", res2.Nonce, res.Nonce+1)
	}
}

func TestHistoryRefreshesFromTheChain(t *testing.T) {
	t.Parallel()
	s := signer("history")
	e := coretest.NewEnv(t, node, coretest.EnvOptions{Signer: s})
	ctx := context.Background()
	var hashes []common.Hash
	for i := 0; i < 3; i++ {
		res, err := run(t, e, s, &core.Request{Transfer: &core.Transfer{To: bob.Hex(), Amount: "0.001", Token: "ETH"}})
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, *res.TxHash)
	}
	for _, h := range hashes {
		if _, err := e.Submitter.WaitReceipt(ctx, &core.WaitRequest{Hash: h, Timeout: 20 * time.Second}); err != nil {
			t.Fatal(err)
		}
	}
	// Mark them pending again, as a journal written by a process that did
	// not wait would be, then refresh.
	for _, h := range hashes {
		_ = e.Journal.Update(ctx, h, func(x *submitEntry) error { x.Status = "pending"; x.BlockNumber = nil; return nil })
	}
	list, err := e.Journal.List(ctx, submitFilter())
	if err != nil || len(list) != 3 {
		t.Fatalf("list: %d, %v", len(list), err)
	}
	if list[0].Nonce < list[2].Nonce {
		t.Errorf("history not newest first: %d … %d", list[0].Nonce, list[2].Nonce)
	}
	for _, x := range list {
		got, err := e.Submitter.Refresh(ctx, x)
		if err != nil || got.Status != "confirmed" || got.BlockNumber == nil {
			t.Errorf("refresh %s: %+v %v", x.Hash.Hex(), got, err)
		}
	}
	if _, err := e.Journal.Get(ctx, common.HexToHash("0x01")); sdk.CodeOf(err) != core.CodeTxNotFound {
		t.Errorf("unknown hash: %v", err)
	}
}

func hexU(n uint64) string { return "0x" + new(big.Int).SetUint64(n).Text(16) }

func mulDiv(x *big.Int, m, d int64) *big.Int {
	return new(big.Int).Div(new(big.Int).Mul(x, big.NewInt(m)), big.NewInt(d))
}
