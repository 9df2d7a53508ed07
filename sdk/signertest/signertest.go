package signertest

import (
	"context"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/mm-wallet/mm/sdk"
)

// Options tunes the suite to a signer. The zero value suits a signer that
// needs no settings, no secrets and has derivation paths.
type Options struct {
	// Settings are passed to Configure on every fresh instance. A signer
	// that takes settings must implement sdk.Configurer.
	Settings map[string]string
	// Paths are the derivation paths whose accounts the suite signs with.
	// Empty means DefaultPaths; set NoPaths for a signer without
	// derivation paths (a keystore file), whose account is Accounts index 0.
	Paths []string
	// NoPaths marks a signer without derivation paths.
	NoPaths bool
	// Expect maps a path (or "" for a NoPaths signer) to the address it must
	// give. Paths named here are also exercised.
	Expect map[string]common.Address
	// Prompter answers the signer's questions (a keystore password, a
	// passphrase). Nil means a host that cannot ask (NON_INTERACTIVE).
	Prompter sdk.Prompter
	// PromptsOnUnlock says a fresh instance asks the Prompter for a secret
	// before its first signature or address. The suite then also cancels a
	// call while the signer waits for the answer.
	PromptsOnUnlock bool
	// Timeout bounds each signer call the suite makes; default one minute.
	// It only turns a hung signer into a failure: no check depends on time.
	Timeout time.Duration
	// Limits declares the cases this signer cannot pass because the device
	// or service it drives cannot do what they ask, each with the coded
	// refusal the signer gives instead. The suite then demands exactly that
	// refusal, with no signature, wherever the case comes up (including
	// the concurrency calls): a declared limit is still a checked case, and
	// a signer that signs it anyway, or answers another code, fails. Only
	// the cases named by the Case constants can be declared.
	Limits []Limit
}

// Case names a conformance case that a signer may declare as a Limit.
type Case string

// The cases a signer may declare as limits. They are the ones real
// hardware cannot do whatever its driver does; everything else in the
// suite is within reach of every signer.
const (
	// CaseTypedDataDomainPrimary is EIP-712 typed data whose primary type
	// is EIP712Domain, which signs keccak256(0x1901 ‖ domain separator)
	// with no message hash. The Ledger Ethereum app refuses a missing
	// message hash.
	CaseTypedDataDomainPrimary Case = "typed-data-eip712domain-primary-type"
	// CaseAuthorizationWideChainID is an EIP-7702 authorization for a
	// chain id above 2^64-1 (EIP-7702 allows 256 bits). The Ledger
	// Ethereum app reads the chain id as 64 bits.
	CaseAuthorizationWideChainID Case = "authorization-chain-id-above-2^64-1"
)

// knownCases are the cases a Limit may name.
var knownCases = []Case{CaseTypedDataDomainPrimary, CaseAuthorizationWideChainID}

// Limit is one case a signer cannot pass, declared in Options.Limits.
type Limit struct {
	// Case is the case, one of the Case constants.
	Case Case
	// Code is the code the signer answers for it instead of a signature,
	// e.g. UNSUPPORTED or INVALID_REQUEST.
	Code sdk.Code
	// Reason says why the signer cannot do it; the suite logs it.
	Reason string
}

// DefaultPaths are the paths exercised when Options.Paths is empty.
var DefaultPaths = []string{"m/44'/60'/0'/0/0", "m/44'/60'/0'/0/1"}

// Secrets is a Prompter that answers RequestSecret from a map (and refuses
// other kinds with NON_INTERACTIVE), approves Confirm and accepts
// notifications.
type Secrets map[sdk.SecretKind]string

var _ sdk.Prompter = Secrets(nil)

// Notify implements sdk.Prompter.
func (Secrets) Notify(context.Context, *sdk.NotifyRequest) (*sdk.NotifyResponse, error) {
	return &sdk.NotifyResponse{}, nil
}

// RequestSecret implements sdk.Prompter.
func (s Secrets) RequestSecret(_ context.Context, req *sdk.SecretRequest) (*sdk.SecretResponse, error) {
	v, ok := s[req.Kind]
	if !ok {
		return nil, sdk.NewError(sdk.CodeNonInteractive, "signertest: no "+string(req.Kind)+" configured", "")
	}
	return &sdk.SecretResponse{Secret: []byte(v)}, nil
}

// Confirm implements sdk.Prompter.
func (Secrets) Confirm(context.Context, *sdk.ConfirmRequest) (*sdk.ConfirmResponse, error) {
	return &sdk.ConfirmResponse{Confirmed: true}, nil
}

// WaitingForUser implements sdk.Prompter.
func (Secrets) WaitingForUser(context.Context, *sdk.WaitingRequest) (*sdk.WaitingResponse, error) {
	return &sdk.WaitingResponse{}, nil
}

// Run runs the conformance suite against signers made by factory, in
// process. The factory returns a new, unconfigured instance each time; the
// suite configures it with opts.Settings.
func Run(t *testing.T, factory func(t *testing.T) sdk.Signer, opts Options) {
	t.Helper()
	t.Run("conformance", func(t *testing.T) {
		h := newHarness(t, factory, opts)
		t.Run("Info", h.testInfo)
		t.Run("Accounts", h.testAccounts)
		t.Run("Transactions", h.testTransactions)
		t.Run("Authorization", h.testAuthorization)
		t.Run("TypedData", h.testTypedData)
		t.Run("Messages", h.testMessages)
		t.Run("Malformed", h.testMalformed)
		t.Run("Cancellation", h.testCancellation)
		t.Run("Concurrency", h.testConcurrency)
	})
}

// harness holds one configured instance shared by the subtests, its Info
// and its accounts.
type harness struct {
	factory func(t *testing.T) sdk.Signer
	opts    Options
	s       sdk.Signer
	info    *sdk.InfoResponse
	paths   []string
	accts   []sdk.Account
	limits  map[Case]Limit
}

func newHarness(t *testing.T, factory func(t *testing.T) sdk.Signer, opts Options) *harness {
	t.Helper()
	if opts.Timeout <= 0 {
		opts.Timeout = time.Minute
	}
	h := &harness{factory: factory, opts: opts, limits: map[Case]Limit{}}
	for _, l := range opts.Limits {
		if !containsCase(knownCases, l.Case) {
			t.Fatalf("signertest: Options.Limits: unknown case %q (known: %v)", l.Case, knownCases)
		}
		if !codeRe.MatchString(string(l.Code)) {
			t.Fatalf("signertest: Options.Limits: case %q: %q is not an error code", l.Case, l.Code)
		}
		if _, dup := h.limits[l.Case]; dup {
			t.Fatalf("signertest: Options.Limits: case %q declared twice", l.Case)
		}
		h.limits[l.Case] = l
	}
	if !opts.NoPaths {
		h.paths = append(h.paths, opts.Paths...)
		if len(h.paths) == 0 {
			h.paths = append(h.paths, DefaultPaths...)
		}
		for p := range opts.Expect {
			if !contains(h.paths, p) {
				h.paths = append(h.paths, p)
			}
		}
	}
	h.s = h.fresh(t)
	ctx, cancel := h.ctx(t)
	defer cancel()
	info, err := h.s.Info(ctx, &sdk.InfoRequest{})
	if err != nil || info == nil {
		t.Fatalf("Info: %v", err)
	}
	h.info = info
	h.accts = h.accounts(t, h.s)
	return h
}

// fresh returns a new configured instance.
func (h *harness) fresh(t *testing.T) sdk.Signer {
	t.Helper()
	s := h.factory(t)
	if s == nil {
		t.Fatal("the factory returned a nil signer")
	}
	ctx, cancel := h.ctx(t)
	defer cancel()
	c, ok := s.(sdk.Configurer)
	switch {
	case ok:
		_, err := c.Configure(ctx, &sdk.ConfigureRequest{Settings: h.opts.Settings})
		if err != nil && !(len(h.opts.Settings) == 0 && sdk.CodeOf(err) == sdk.CodeUnsupported) {
			t.Fatalf("Configure: %v", err)
		}
	case len(h.opts.Settings) > 0:
		t.Fatal("Options.Settings given but the signer does not implement sdk.Configurer")
	}
	return s
}

// ctx returns a context carrying the Prompter and the call timeout.
func (h *harness) ctx(t *testing.T) (context.Context, context.CancelFunc) {
	ctx := context.Background()
	if h.opts.Prompter != nil {
		ctx = sdk.WithPrompter(ctx, h.opts.Prompter)
	}
	return context.WithTimeout(ctx, h.opts.Timeout)
}

// accounts asks s for the suite's accounts and checks them.
func (h *harness) accounts(t *testing.T, s sdk.Signer) []sdk.Account {
	t.Helper()
	ctx, cancel := h.ctx(t)
	defer cancel()
	req := &sdk.AccountsRequest{Paths: h.paths}
	if h.opts.NoPaths {
		req = &sdk.AccountsRequest{Indices: []uint32{0}}
	}
	resp, err := s.Accounts(ctx, req)
	if err != nil {
		t.Fatalf("Accounts(%v): %v", req, err)
	}
	want := len(req.Paths) + len(req.Indices)
	if resp == nil || len(resp.Accounts) != want {
		t.Fatalf("Accounts returned %d accounts, want %d", lenAccounts(resp), want)
	}
	seen := map[common.Address]bool{}
	for i, a := range resp.Accounts {
		key := ""
		if !h.opts.NoPaths {
			key = h.paths[i]
		}
		if a.Address == (common.Address{}) {
			t.Fatalf("account %q: zero address", key)
		}
		if !IsEIP55(a.Address.Hex()) {
			t.Fatalf("account %q: %s is not EIP-55", key, a.Address.Hex())
		}
		if exp, ok := h.opts.Expect[key]; ok && exp != a.Address {
			t.Fatalf("account %q: got %s, want %s", key, a.Address.Hex(), exp.Hex())
		}
		if seen[a.Address] {
			t.Fatalf("account %q: address %s repeats for a different path", key, a.Address.Hex())
		}
		seen[a.Address] = true
		if !h.opts.NoPaths && a.Path == "" {
			resp.Accounts[i].Path = h.paths[i]
		}
	}
	return resp.Accounts
}

func lenAccounts(r *sdk.AccountsResponse) int {
	if r == nil {
		return 0
	}
	return len(r.Accounts)
}

// IsEIP55 reports whether s is a 0x-prefixed address whose letter case is
// its EIP-55 checksum. It is computed here from the EIP's definition, not
// with go-ethereum's formatter.
func IsEIP55(s string) bool {
	if len(s) != 42 || s[:2] != "0x" {
		return false
	}
	body := s[2:]
	lower := strings.ToLower(body)
	for _, c := range lower {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	hash := crypto.Keccak256([]byte(lower))
	for i := 0; i < 40; i++ {
		c := body[i]
		if c >= '0' && c <= '9' {
			continue
		}
		nibble := hash[i/2]
		if i%2 == 0 {
			nibble >>= 4
		}
		upper := nibble&0xf >= 8
		if upper != (c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// codeRe is the shape of an error code (PROTOCOL.md §4).
var codeRe = regexp.MustCompile(`^[A-Z0-9_]{1,64}$`)

// limit returns the declared limit for c, if any.
func (h *harness) limit(c Case) (Limit, bool) {
	if c == "" {
		return Limit{}, false
	}
	l, ok := h.limits[c]
	return l, ok
}

func containsCase(list []Case, c Case) bool {
	for _, x := range list {
		if x == c {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

var secp256k1HalfN = new(big.Int).Rsh(crypto.S256().Params().N, 1)

// wantCode checks that err is a coded error with the wanted code and that
// no signature came with it.
func wantCode(t *testing.T, what string, err error, resp any, code sdk.Code) {
	t.Helper()
	if e := refusal(what, err, resp, code); e != nil {
		t.Fatal(e)
	}
}

// refusal returns nil when err is a coded error with the wanted code and
// no signature came with it, and says what is wrong otherwise.
func refusal(what string, err error, resp any, code sdk.Code) error {
	if err == nil {
		return fmt.Errorf("%s: no error (response %+v), want %s", what, resp, code)
	}
	e := sdk.AsError(err)
	if e == nil {
		return fmt.Errorf("%s: error %q carries no code, want %s", what, err, code)
	}
	if e.Code != code {
		return fmt.Errorf("%s: code %s (%q), want %s", what, e.Code, err, code)
	}
	if hasSignature(resp) {
		return fmt.Errorf("%s: a signature came with the error", what)
	}
	return nil
}

// wantLimit checks the refusal a declared limit promises and logs it.
func wantLimit(t *testing.T, what string, l Limit, err error, resp any) {
	t.Helper()
	wantCode(t, what+" (declared limit "+string(l.Case)+")", err, resp, l.Code)
	t.Logf("%s: refused with %s, as declared: %s", what, l.Code, l.Reason)
}

func hasSignature(resp any) bool {
	switch r := resp.(type) {
	case *sdk.SignTransactionResponse:
		return r != nil && (len(r.Signature) > 0 || len(r.SignedTransaction) > 0)
	case *sdk.SignTypedDataResponse:
		return r != nil && len(r.Signature) > 0
	case *sdk.SignMessageResponse:
		return r != nil && len(r.Signature) > 0
	case *sdk.SignAuthorizationResponse:
		return r != nil && len(r.Signature) > 0
	case *sdk.AccountsResponse:
		return r != nil && len(r.Accounts) > 0
	}
	return false
}

// poll completes an asynchronous answer: when job is set and the signer
// claims AsyncJobs, it polls until the job ends and returns its result.
func (h *harness) poll(t *testing.T, ctx context.Context, s sdk.Signer, job *sdk.Job) *sdk.PollJobResponse {
	t.Helper()
	if !h.info.Capabilities.AsyncJobs {
		t.Fatalf("the signer answered with job %+v but does not claim asyncJobs", job)
	}
	p, ok := s.(sdk.JobPoller)
	if !ok {
		t.Fatal("the signer claims asyncJobs but does not implement sdk.JobPoller")
	}
	for {
		r, err := p.PollJob(ctx, &sdk.PollJobRequest{ID: job.ID})
		if err != nil {
			t.Fatalf("PollJob(%s): %v", job.ID, err)
		}
		switch r.Job.Status {
		case sdk.JobCompleted:
			return r
		case sdk.JobPending, sdk.JobAwaitingMFA:
		default:
			t.Fatalf("job %s ended %s: %v", job.ID, r.Job.Status, r.Error)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("job %s: %v", job.ID, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// signTx signs and settles an async answer.
func (h *harness) signTx(t *testing.T, s sdk.Signer, req *sdk.SignTransactionRequest) *sdk.SignTransactionResponse {
	t.Helper()
	ctx, cancel := h.ctx(t)
	defer cancel()
	resp, err := s.SignTransaction(ctx, req)
	if err != nil {
		t.Fatalf("SignTransaction: %v", err)
	}
	if resp != nil && resp.Job != nil && len(resp.Signature) == 0 {
		resp = h.poll(t, ctx, s, resp.Job).Transaction
	}
	if resp == nil {
		t.Fatal("SignTransaction: no response")
	}
	return resp
}

func (h *harness) signTyped(t *testing.T, s sdk.Signer, req *sdk.SignTypedDataRequest) []byte {
	t.Helper()
	ctx, cancel := h.ctx(t)
	defer cancel()
	resp, err := s.SignTypedData(ctx, req)
	if err != nil {
		t.Fatalf("SignTypedData: %v", err)
	}
	if resp != nil && resp.Job != nil && len(resp.Signature) == 0 {
		resp = h.poll(t, ctx, s, resp.Job).TypedData
	}
	if resp == nil {
		t.Fatal("SignTypedData: no response")
	}
	return resp.Signature
}

func (h *harness) signMsg(t *testing.T, s sdk.Signer, req *sdk.SignMessageRequest) []byte {
	t.Helper()
	ctx, cancel := h.ctx(t)
	defer cancel()
	resp, err := s.SignMessage(ctx, req)
	if err != nil {
		t.Fatalf("SignMessage: %v", err)
	}
	if resp != nil && resp.Job != nil && len(resp.Signature) == 0 {
		resp = h.poll(t, ctx, s, resp.Job).Message
	}
	if resp == nil {
		t.Fatal("SignMessage: no response")
	}
	return resp.Signature
}

// errorCollector gathers failures from goroutines.
type errorCollector struct {
	mu   sync.Mutex
	errs []string
}

func (c *errorCollector) add(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errs = append(c.errs, fmt.Sprintf(format, args...))
}

func (c *errorCollector) report(t *testing.T) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.errs) > 0 {
		t.Fatalf("%d failures, first: %s", len(c.errs), c.errs[0])
	}
}
