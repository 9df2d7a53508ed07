// Package testsigner is a small, complete signer with a fixed, publicly
// known key, for the plugin wire's tests and benchmarks. It signs with
// go-ethereum's crypto and answers a few magic messages that make it fail,
// crash, ask the user or wait, so tests can drive every path of the wire
// from the host. Never use its key for anything of value.
package testsigner

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"

	"github.com/mm-wallet/mm/sdk"
)

// KeyHex is the test key (go-ethereum's well-known test key).
const KeyHex = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291"

// Magic messages for SignMessage.
const (
	// MsgFailPrefix + "CODE|message|hint" fails with that coded error.
	MsgFailPrefix = "fail:"
	// MsgPrompt asks the host: Notify, WaitingForUser, Confirm, then a
	// password; it signs the password as the message, so the host can check
	// the secret arrived without it ever being echoed back.
	MsgPrompt = "prompt"
	// MsgSleep waits until the call is cancelled and counts it.
	MsgSleep = "sleep"
	// MsgCrash panics in the middle of the call, which kills the process.
	MsgCrash = "crash"
	// MsgStderr writes a line to stderr before signing.
	MsgStderr = "stderr"
)

// Signer is the test signer.
type Signer struct {
	key      *ecdsa.PrivateKey
	addr     common.Address
	canceled atomic.Int64

	mu       sync.Mutex
	settings map[string]string
}

var (
	_ sdk.Signer     = (*Signer)(nil)
	_ sdk.Configurer = (*Signer)(nil)
	_ sdk.Manager    = (*Signer)(nil)
	_ sdk.Authorizer = (*Signer)(nil)
	_ sdk.JobPoller  = (*Signer)(nil)
)

// New returns the test signer.
func New() *Signer {
	key, err := crypto.HexToECDSA(KeyHex)
	if err != nil {
		panic(err)
	}
	return &Signer{key: key, addr: crypto.PubkeyToAddress(key.PublicKey)}
}

// Address is the signer's only account.
func (s *Signer) Address() common.Address { return s.addr }

// Info implements sdk.Signer.
func (s *Signer) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{
		Name:            "testsigner",
		Version:         "1.0.0",
		ProtocolVersion: sdk.ProtocolVersion,
		Kind:            sdk.KindSoftware,
		Capabilities: sdk.Capabilities{
			TxTypes:         []sdk.TxType{sdk.TxLegacy, sdk.TxEIP2930, sdk.TxEIP1559, sdk.TxEIP7702},
			TypedData:       sdk.TypedDataHashed,
			PersonalMessage: true,
			AsyncJobs:       true,
		},
	}, nil
}

// Accounts implements sdk.Signer: the one address, once per path or index.
func (s *Signer) Accounts(_ context.Context, req *sdk.AccountsRequest) (*sdk.AccountsResponse, error) {
	out := &sdk.AccountsResponse{}
	for _, p := range req.Paths {
		out.Accounts = append(out.Accounts, sdk.Account{Address: s.addr, Path: p})
	}
	for i := range req.Indices {
		out.Accounts = append(out.Accounts, sdk.Account{Address: s.addr, Path: fmt.Sprintf("m/44'/60'/0'/0/%d", req.Indices[i])})
	}
	return out, nil
}

func (s *Signer) own(a sdk.Account) error {
	if a.Address != s.addr {
		return sdk.Errorf(sdk.CodeUnknownAccount, "testsigner: account %s is not held", a.Address.Hex())
	}
	return nil
}

// SignTransaction implements sdk.Signer.
func (s *Signer) SignTransaction(_ context.Context, req *sdk.SignTransactionRequest) (*sdk.SignTransactionResponse, error) {
	if err := s.own(req.Account); err != nil {
		return nil, err
	}
	if req.ChainID == nil {
		return nil, sdk.NewError(sdk.CodeInvalidRequest, "testsigner: no chain id", "")
	}
	tx := new(types.Transaction)
	if err := tx.UnmarshalBinary(req.Transaction); err != nil {
		return nil, sdk.Errorf(sdk.CodeInvalidTransaction, "testsigner: decode transaction: %v", err)
	}
	signed, err := types.SignTx(tx, types.LatestSignerForChainID(req.ChainID), s.key)
	if err != nil {
		return nil, sdk.Errorf(sdk.CodeInvalidTransaction, "testsigner: sign: %v", err)
	}
	raw, err := signed.MarshalBinary()
	if err != nil {
		return nil, sdk.Errorf(sdk.CodeInternal, "testsigner: encode: %v", err)
	}
	v, r, ss := signed.RawSignatureValues()
	sig := make([]byte, 65)
	r.FillBytes(sig[:32])
	ss.FillBytes(sig[32:64])
	if tx.Type() == types.LegacyTxType {
		// EIP-155: v = chainID*2 + 35 + parity.
		base := new(big.Int).Add(new(big.Int).Lsh(req.ChainID, 1), big.NewInt(35))
		sig[64] = byte(new(big.Int).Sub(v, base).Uint64())
	} else {
		sig[64] = byte(v.Uint64())
	}
	return &sdk.SignTransactionResponse{SignedTransaction: raw, Signature: sig}, nil
}

// SignTypedData implements sdk.Signer (hashed-only).
func (s *Signer) SignTypedData(_ context.Context, req *sdk.SignTypedDataRequest) (*sdk.SignTypedDataResponse, error) {
	if err := s.own(req.Account); err != nil {
		return nil, err
	}
	data := append([]byte{0x19, 0x01}, req.DomainSeparator.Bytes()...)
	if req.MessageHash != nil {
		data = append(data, req.MessageHash.Bytes()...)
	}
	sig, err := crypto.Sign(crypto.Keccak256(data), s.key)
	if err != nil {
		return nil, sdk.Errorf(sdk.CodeInternal, "testsigner: sign: %v", err)
	}
	sig[64] += 27
	return &sdk.SignTypedDataResponse{Signature: sig}, nil
}

// SignMessage implements sdk.Signer, with the magic messages above.
func (s *Signer) SignMessage(ctx context.Context, req *sdk.SignMessageRequest) (*sdk.SignMessageResponse, error) {
	if err := s.own(req.Account); err != nil {
		return nil, err
	}
	msg := req.Message
	switch m := string(msg); {
	case strings.HasPrefix(m, MsgFailPrefix):
		parts := strings.SplitN(strings.TrimPrefix(m, MsgFailPrefix), "|", 3)
		for len(parts) < 3 {
			parts = append(parts, "")
		}
		return nil, sdk.NewError(sdk.Code(parts[0]), parts[1], parts[2])
	case m == MsgPrompt:
		secret, err := s.ask(ctx)
		if err != nil {
			return nil, err
		}
		msg = secret
	case m == MsgSleep:
		<-ctx.Done()
		s.canceled.Add(1)
		return nil, ctx.Err()
	case m == MsgCrash:
		panic("testsigner: crashing as asked")
	case m == MsgStderr:
		fmt.Fprintln(os.Stderr, "testsigner: a line on stderr")
	}
	sig, err := crypto.Sign(accounts.TextHash(msg), s.key)
	if err != nil {
		return nil, sdk.Errorf(sdk.CodeInternal, "testsigner: sign: %v", err)
	}
	sig[64] += 27
	return &sdk.SignMessageResponse{Signature: sig}, nil
}

// ask runs the MsgPrompt conversation with the host.
func (s *Signer) ask(ctx context.Context) ([]byte, error) {
	p := sdk.PrompterFrom(ctx)
	if _, err := p.Notify(ctx, &sdk.NotifyRequest{Level: sdk.LevelInfo, Message: "testsigner wants a password"}); err != nil {
		return nil, err
	}
	if _, err := p.WaitingForUser(ctx, &sdk.WaitingRequest{Device: "Test Device", Message: "confirm on your Test Device"}); err != nil {
		return nil, err
	}
	c, err := p.Confirm(ctx, &sdk.ConfirmRequest{Prompt: "Sign with the test key?"})
	if err != nil {
		return nil, err
	}
	if _, err := p.WaitingForUser(ctx, &sdk.WaitingRequest{Device: "Test Device", Done: true}); err != nil {
		return nil, err
	}
	if !c.Confirmed {
		return nil, sdk.ErrUserRejected
	}
	r, err := p.RequestSecret(ctx, &sdk.SecretRequest{Kind: sdk.SecretPassword, Prompt: "Test password"})
	if err != nil {
		return nil, err
	}
	return r.Secret, nil
}

// SignAuthorization implements sdk.Authorizer.
func (s *Signer) SignAuthorization(_ context.Context, req *sdk.SignAuthorizationRequest) (*sdk.SignAuthorizationResponse, error) {
	if err := s.own(req.Account); err != nil {
		return nil, err
	}
	if req.ChainID == nil {
		return nil, sdk.NewError(sdk.CodeInvalidRequest, "testsigner: no chain id", "")
	}
	cid, overflow := uint256.FromBig(req.ChainID)
	if overflow {
		return nil, sdk.NewError(sdk.CodeInvalidRequest, "testsigner: chain id too large", "")
	}
	auth, err := types.SignSetCode(s.key, types.SetCodeAuthorization{ChainID: *cid, Address: req.Delegate, Nonce: req.Nonce})
	if err != nil {
		return nil, sdk.Errorf(sdk.CodeInternal, "testsigner: sign: %v", err)
	}
	sig := make([]byte, 65)
	auth.R.PutUint256(sig[:32])
	auth.S.PutUint256(sig[32:64])
	sig[64] = auth.V
	return &sdk.SignAuthorizationResponse{Signature: sig}, nil
}

// Configure implements sdk.Configurer: it keeps the settings.
func (s *Signer) Configure(_ context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settings = map[string]string{}
	for k, v := range req.Settings {
		s.settings[k] = v
	}
	return &sdk.ConfigureResponse{}, nil
}

// Manage implements sdk.Manager. Ops: "settings" (what Configure kept),
// "canceled" (how many MsgSleep calls saw their cancellation), "env"
// (whether chosen variables are set, and the working folder), "fail"
// (params code, message, hint).
func (s *Signer) Manage(_ context.Context, req *sdk.ManageRequest) (*sdk.ManageResponse, error) {
	out := map[string]string{}
	switch req.Op {
	case "settings":
		s.mu.Lock()
		for k, v := range s.settings {
			out[k] = v
		}
		s.mu.Unlock()
	case "canceled":
		out["count"] = fmt.Sprint(s.canceled.Load())
	case "env":
		var names []string
		for _, kv := range os.Environ() {
			k, _, _ := strings.Cut(kv, "=")
			names = append(names, k)
		}
		sort.Strings(names)
		out["names"] = strings.Join(names, ",")
		wd, _ := os.Getwd()
		out["cwd"] = wd
		out["pid"] = fmt.Sprint(os.Getpid())
	case "fail":
		return nil, sdk.NewError(sdk.Code(req.Params["code"]), req.Params["message"], req.Params["hint"])
	default:
		return nil, sdk.Errorf(sdk.CodeUnsupported, "testsigner: no op %q", req.Op)
	}
	return &sdk.ManageResponse{Result: out}, nil
}

// PollJob implements sdk.JobPoller: every job is complete, with a message
// signature over "job:<id>".
func (s *Signer) PollJob(ctx context.Context, req *sdk.PollJobRequest) (*sdk.PollJobResponse, error) {
	if req.ID == "" {
		return nil, sdk.NewError(sdk.CodeJobNotFound, "testsigner: no job id", "")
	}
	m, err := s.SignMessage(ctx, &sdk.SignMessageRequest{Account: sdk.Account{Address: s.addr}, Message: []byte("job:" + req.ID)})
	if err != nil {
		return nil, err
	}
	return &sdk.PollJobResponse{Job: sdk.Job{ID: req.ID, Status: sdk.JobCompleted}, Message: m}, nil
}

// SecretDigest is how tests compare secrets without printing them.
func SecretDigest(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}
