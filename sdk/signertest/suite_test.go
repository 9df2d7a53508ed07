package signertest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"

	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/sdk/eip712"
)

// refSigner is a small signer written only to test the suite itself: its
// key for a path is keccak256 of the path. A fault, when set, breaks one
// rule so that a test can check the suite notices.
type refSigner struct {
	fault string
	salt  string

	mu   sync.Mutex
	keys map[common.Address]*ecdsa.PrivateKey
}

var _ sdk.Authorizer = (*refSigner)(nil)

func newRef(fault string) *refSigner {
	r := &refSigner{fault: fault, keys: map[common.Address]*ecdsa.PrivateKey{}}
	if fault == "unstable-addresses" {
		r.salt = fmt.Sprintf("%p", r) // differs per instance
	}
	return r
}

var refPathRe = regexp.MustCompile(`^m(/(0|[1-9][0-9]*)'?)+$`)

func (r *refSigner) keyAt(path string) (*ecdsa.PrivateKey, error) {
	if !refPathRe.MatchString(path) {
		return nil, sdk.NewError(sdk.CodeInvalidDerivationPath, "ref: bad path", "")
	}
	for _, lv := range strings.Split(path, "/")[1:] {
		if v, err := strconv.ParseUint(strings.TrimSuffix(lv, "'"), 10, 32); err != nil || v >= 1<<31 {
			return nil, sdk.NewError(sdk.CodeInvalidDerivationPath, "ref: bad path", "")
		}
	}
	k, err := crypto.ToECDSA(crypto.Keccak256([]byte("ref:" + r.salt + path)))
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.keys[crypto.PubkeyToAddress(k.PublicKey)] = k
	r.mu.Unlock()
	return k, nil
}

func (r *refSigner) key(ctx context.Context, a sdk.Account) (*ecdsa.PrivateKey, error) {
	if err := ctx.Err(); err != nil && r.fault != "ignores-cancel" {
		return nil, &sdk.Error{Code: sdk.CodeCanceled, Message: err.Error()}
	}
	if a.Path != "" {
		k, err := r.keyAt(a.Path)
		if err != nil {
			return nil, err
		}
		if a.Address != (common.Address{}) && a.Address != crypto.PubkeyToAddress(k.PublicKey) {
			return nil, sdk.NewError(sdk.CodeUnknownAccount, "ref: address not at path", "")
		}
		return k, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if k, ok := r.keys[a.Address]; ok {
		return k, nil
	}
	return nil, sdk.NewError(sdk.CodeUnknownAccount, "ref: unknown account", "")
}

func (r *refSigner) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	caps := sdk.Capabilities{
		TxTypes:         []sdk.TxType{sdk.TxLegacy, sdk.TxEIP2930, sdk.TxEIP1559, sdk.TxEIP7702},
		TypedData:       sdk.TypedDataFull,
		PersonalMessage: r.fault != "unclaimed-messages-signed",
	}
	return &sdk.InfoResponse{Name: "ref", Version: "0", ProtocolVersion: sdk.ProtocolVersion, Kind: sdk.KindSoftware, Capabilities: caps}, nil
}

func (r *refSigner) Accounts(ctx context.Context, req *sdk.AccountsRequest) (*sdk.AccountsResponse, error) {
	if err := ctx.Err(); err != nil && r.fault != "ignores-cancel" {
		return nil, &sdk.Error{Code: sdk.CodeCanceled, Message: err.Error()}
	}
	out := &sdk.AccountsResponse{}
	paths := append([]string(nil), req.Paths...)
	for _, i := range req.Indices {
		paths = append(paths, fmt.Sprintf("m/44'/60'/0'/0/%d", i))
	}
	for _, p := range paths {
		k, err := r.keyAt(p)
		if err != nil {
			return nil, err
		}
		out.Accounts = append(out.Accounts, sdk.Account{Address: crypto.PubkeyToAddress(k.PublicKey), Path: p})
	}
	return out, nil
}

func (r *refSigner) SignTransaction(ctx context.Context, req *sdk.SignTransactionRequest) (*sdk.SignTransactionResponse, error) {
	bad := func(msg string) error {
		if r.fault == "uncoded-errors" {
			return errors.New(msg)
		}
		return sdk.NewError(sdk.CodeInvalidTransaction, msg, "")
	}
	if req.ChainID == nil || req.ChainID.Sign() <= 0 {
		return nil, sdk.NewError(sdk.CodeInvalidRequest, "ref: chain id", "")
	}
	tx := new(types.Transaction)
	if len(req.Transaction) == 0 || tx.UnmarshalBinary(req.Transaction) != nil {
		return nil, bad("ref: does not decode")
	}
	switch tx.Type() {
	case types.LegacyTxType, types.AccessListTxType, types.SetCodeTxType:
	case types.DynamicFeeTxType:
		if r.fault == "claimed-1559-unsupported" {
			return nil, sdk.NewError(sdk.CodeUnsupported, "ref: no 1559", "")
		}
	default:
		return nil, sdk.NewError(sdk.CodeUnsupported, "ref: type", "")
	}
	if tx.Type() != types.LegacyTxType && tx.ChainId().Cmp(req.ChainID) != 0 {
		return nil, bad("ref: chain id mismatch")
	}
	if v, rr, s := tx.RawSignatureValues(); v.Sign() != 0 || rr.Sign() != 0 || s.Sign() != 0 {
		return nil, bad("ref: signed")
	}
	k, err := r.key(ctx, req.Account)
	if err != nil {
		return nil, err
	}
	var signer types.Signer = types.LatestSignerForChainID(req.ChainID)
	if r.fault == "legacy-without-eip155" && tx.Type() == types.LegacyTxType {
		signer = types.HomesteadSigner{}
	}
	h := signer.Hash(tx)
	sig, err := crypto.Sign(h[:], k)
	if err != nil {
		return nil, err
	}
	signed, err := tx.WithSignature(signer, sig)
	if err != nil {
		return nil, err
	}
	raw, _ := signed.MarshalBinary()
	return &sdk.SignTransactionResponse{SignedTransaction: raw, Signature: sig}, nil
}

func (r *refSigner) SignTypedData(ctx context.Context, req *sdk.SignTypedDataRequest) (*sdk.SignTypedDataResponse, error) {
	ds, mh := req.DomainSeparator, req.MessageHash
	if r.fault != "typed-data-trusts-hashes" {
		cds, cmh, err := TypedDataHashes(req.TypedData)
		if err != nil || cds != ds || (cmh == nil) != (mh == nil) || (cmh != nil && *cmh != *mh) {
			return nil, sdk.NewError(sdk.CodeInvalidTypedData, "ref: typed data", "")
		}
	}
	if r.fault == "device-limits" && mh == nil {
		return nil, sdk.NewError(sdk.CodeUnsupported, "ref: no message hash", "")
	}
	k, err := r.key(ctx, req.Account)
	if err != nil {
		return nil, err
	}
	sig, err := r.sign(TypedDataDigest(ds, mh), k)
	if err != nil {
		return nil, err
	}
	return &sdk.SignTypedDataResponse{Signature: sig}, nil
}

func (r *refSigner) SignMessage(ctx context.Context, req *sdk.SignMessageRequest) (*sdk.SignMessageResponse, error) {
	k, err := r.key(ctx, req.Account)
	if err != nil {
		if r.fault == "signature-with-error" {
			return &sdk.SignMessageResponse{Signature: make([]byte, 65)}, err
		}
		return nil, err
	}
	sig, err := r.sign(accounts.TextHash(req.Message), k)
	if err != nil {
		return nil, err
	}
	return &sdk.SignMessageResponse{Signature: sig}, nil
}

// sign returns r ‖ s ‖ v with v = 27 or 28.
func (r *refSigner) sign(digest []byte, k *ecdsa.PrivateKey) ([]byte, error) {
	sig, err := crypto.Sign(digest, k)
	if err != nil {
		return nil, err
	}
	if r.fault == "high-s" {
		// The same signature with s' = n - s and the other parity: valid
		// for ecrecover, refused by EIP-2.
		s := new(big.Int).SetBytes(sig[32:64])
		s.Sub(crypto.S256().Params().N, s)
		s.FillBytes(sig[32:64])
		sig[64] ^= 1
	}
	sig[64] += 27
	return sig, nil
}

func (r *refSigner) SignAuthorization(ctx context.Context, req *sdk.SignAuthorizationRequest) (*sdk.SignAuthorizationResponse, error) {
	id, overflow := uint256.FromBig(req.ChainID)
	if req.ChainID.Sign() < 0 || overflow || (r.fault == "device-limits" && !req.ChainID.IsUint64()) {
		return nil, sdk.NewError(sdk.CodeInvalidRequest, "ref: chain id", "")
	}
	k, err := r.key(ctx, req.Account)
	if err != nil {
		return nil, err
	}
	a, err := types.SignSetCode(k, types.SetCodeAuthorization{ChainID: *id, Address: req.Delegate, Nonce: req.Nonce})
	if err != nil {
		return nil, err
	}
	sig := make([]byte, 65)
	a.R.PutUint256(sig[:32])
	a.S.PutUint256(sig[32:64])
	sig[64] = a.V
	return &sdk.SignAuthorizationResponse{Signature: sig}, nil
}

// TestReferenceSignerPasses shows the suite accepts a correct signer.
func TestReferenceSignerPasses(t *testing.T) {
	Run(t, func(t *testing.T) sdk.Signer { return newRef("") }, Options{})
}

// refLimits declares what a reference signer with the "device-limits"
// fault cannot do, the way a Ledger does.
var refLimits = []Limit{
	{Case: CaseTypedDataDomainPrimary, Code: sdk.CodeUnsupported, Reason: "no message hash"},
	{Case: CaseAuthorizationWideChainID, Code: sdk.CodeInvalidRequest, Reason: "64-bit chain ids"},
}

// TestDeclaredLimitsPass shows that a signer refusing exactly what it
// declares in Options.Limits, with the declared codes, passes the suite.
// TestSuiteCatchesFaults shows the other side: the same signer without the
// declaration fails, and so does a declaration the signer does not keep.
func TestDeclaredLimitsPass(t *testing.T) {
	Run(t, func(t *testing.T) sdk.Signer { return newRef("device-limits") }, Options{Limits: refLimits})
}

const envFault = "SIGNERTEST_FAULT"

// TestFaultySignerHelper runs the suite against a faulty reference signer
// when started by TestSuiteCatchesFaults; otherwise it has nothing to do.
// A few faults are in the options rather than the signer.
func TestFaultySignerHelper(t *testing.T) {
	fault := os.Getenv(envFault)
	if fault == "" {
		return
	}
	signerFault, opts := fault, Options{}
	switch fault {
	case "limits-declared-but-signed":
		signerFault, opts.Limits = "", refLimits
	case "limit-with-another-code":
		signerFault = "device-limits"
		opts.Limits = []Limit{{Case: CaseTypedDataDomainPrimary, Code: sdk.CodeInvalidTypedData}, refLimits[1]}
	case "limit-of-an-unknown-case":
		signerFault = ""
		opts.Limits = []Limit{{Case: "legacy transactions", Code: sdk.CodeUnsupported}}
	case "limit-without-a-code":
		signerFault = "device-limits"
		opts.Limits = []Limit{{Case: CaseTypedDataDomainPrimary}, refLimits[1]}
	}
	Run(t, func(t *testing.T) sdk.Signer { return newRef(signerFault) }, opts)
}

// TestSuiteCatchesFaults runs the suite, in a child process, against
// signers that each break one rule, and checks that it fails in the
// subtest that covers the rule.
func TestSuiteCatchesFaults(t *testing.T) {
	for fault, want := range map[string]struct{ subtest, text string }{
		"legacy-without-eip155":     {"conformance/Transactions/legacy", ""},
		"claimed-1559-unsupported":  {"conformance/Transactions/eip1559", ""},
		"unclaimed-messages-signed": {"conformance/Messages", ""},
		"typed-data-trusts-hashes":  {"conformance/TypedData/refusals", ""},
		"uncoded-errors":            {"conformance/Malformed/transactions", ""},
		"ignores-cancel":            {"conformance/Cancellation", ""},
		"high-s":                    {"conformance/Messages", ""},
		"unstable-addresses":        {"conformance/Accounts/stable_across_instances", ""},
		"signature-with-error":      {"conformance/Malformed/unknown_account", ""},
		// Device limits: undeclared, declared but not kept, declared with
		// another code than the signer answers, and malformed declarations.
		"device-limits":              {"conformance/TypedData/EIP712Domain_as_the_primary_type", "SignTypedData: ref: no message hash"},
		"limits-declared-but-signed": {"conformance/Authorization", "no error"},
		"limit-with-another-code":    {"conformance/Concurrency/warm_instance", "want INVALID_TYPED_DATA"},
		"limit-of-an-unknown-case":   {"conformance", `unknown case "legacy transactions"`},
		"limit-without-a-code":       {"conformance", "is not an error code"},
	} {
		t.Run(fault, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestFaultySignerHelper$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), envFault+"="+fault)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a signer with fault %q:\n%s", fault, tail(out))
			}
			if !strings.Contains(string(out), "--- FAIL: TestFaultySignerHelper/"+want.subtest+" ") {
				t.Fatalf("fault %q: want a failure in %s, got:\n%s", fault, want.subtest, tail(out))
			}
			if !strings.Contains(string(out), want.text) {
				t.Fatalf("fault %q: want %q in the output, got:\n%s", fault, want.text, tail(out))
			}
		})
	}
}

func tail(b []byte) string {
	s := string(b)
	if len(s) > 3000 {
		s = "…" + s[len(s)-3000:]
	}
	return s
}

// TestTypedDataHashes: the suite hashes as eip712.Parse does (whose tests
// hold it to published vectors), its first document is the EIP-712
// specification's Mail example with the published hashes, and every
// document it expects a full-mode signer to refuse is refused by Parse too.
func TestTypedDataHashes(t *testing.T) {
	t.Parallel()
	for _, d := range typedDocs {
		ds, mh, err := TypedDataHashes([]byte(d.json))
		if err != nil {
			t.Fatalf("%s: %v", d.name, err)
		}
		doc, err := eip712.Parse([]byte(d.json))
		if err != nil {
			t.Fatalf("%s: %v", d.name, err)
		}
		if ds != doc.DomainSeparator || (mh == nil) != (doc.MessageHash == nil) || (mh != nil && *mh != *doc.MessageHash) {
			t.Errorf("%s: hashes %s / %v, Parse gives %s / %v", d.name, ds, mh, doc.DomainSeparator, doc.MessageHash)
		}
		if !bytes.Equal(TypedDataDigest(ds, mh), doc.Digest()) {
			t.Errorf("%s: digest differs from Parse's", d.name)
		}
	}
	ds, mh, err := TypedDataHashes([]byte(typedDocs[0].json))
	if err != nil {
		t.Fatal(err)
	}
	if ds.Hex() != "0xf2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f" || mh == nil ||
		mh.Hex() != "0xc52c0ee5d84264471806290a3f2c4cecfc5490626bf912d01f240d7a274b371e" {
		t.Errorf("the suite's Mail document hashes to %s / %v", ds.Hex(), mh)
	}
	if d := common.BytesToHash(TypedDataDigest(ds, mh)).Hex(); d != "0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2" {
		t.Errorf("the Mail document's digest is %s", d)
	}
	for _, d := range badTypedDocs {
		if _, _, err := TypedDataHashes([]byte(d.json)); sdk.CodeOf(err) != sdk.CodeInvalidTypedData {
			t.Errorf("%s: %v, want INVALID_TYPED_DATA", d.name, err)
		}
	}
}

func TestIsEIP55(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"0x73d0385F4d8E00C5e6504C6030F47BF6212736A8": true,
		"0x73d0385f4d8e00c5e6504c6030f47bf6212736a8": false,
		"0x73D0385F4d8E00C5e6504C6030F47BF6212736A8": false,
		"0x73d0385F4d8E00C5e6504C6030F47BF6212736A":  false,
		"73d0385F4d8E00C5e6504C6030F47BF6212736A8aa": false,
		"0x73d0385F4d8E00C5e6504C6030F47BF6212736G8": false,
	} {
		if got := IsEIP55(s); got != want {
			t.Errorf("IsEIP55(%s) = %v, want %v", s, got, want)
		}
	}
}
