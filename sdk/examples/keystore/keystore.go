// Package keystore is an example of a third-party mm signer: it signs with
// the key of one Ethereum keystore v3 file (the JSON files geth, clef and
// MetaMask export), decrypted with go-ethereum's accounts/keystore. Its
// binary, mm-signer-keystore (./cmd/mm-signer-keystore), is built apart from
// mm and installed with "mm signer install".
//
// Settings (Configure): {"keyFile": "/path/to/UTC--…json"}. The password
// is asked from the host through the Prompter (sdk.SecretPassword) on the
// first call that needs the key; the CLI answers from MM_PASSWORD or a
// terminal prompt. The file holds one account, index 0; it has no
// derivation paths, so any path is INVALID_DERIVATION_PATH. Typed data is
// signed hashed-only: the signer signs the domain separator and message
// hash the host computed, as a Trezor One does.
//
// # Writing a signer of your own
//
// Implement sdk.Signer (plus sdk.Configurer for settings), answer every
// capability you do not claim with UNSUPPORTED, and serve it from main:
//
//	package main
//
//	import (
//		"example.com/mysigner"
//		"github.com/mm-wallet/mm/sdk"
//	)
//
//	func main() { sdk.Serve(mysigner.New()) }
//
// Test it in process and as the binary users will install, with the
// conformance suite:
//
//	func TestConformance(t *testing.T) {
//		opts := signertest.Options{
//			Settings: map[string]string{"keyFile": "testdata/key.json"},
//			Prompter: signertest.Secrets{sdk.SecretPassword: "test password"},
//			NoPaths:  true,
//		}
//		signertest.Run(t, func(t *testing.T) sdk.Signer { return mysigner.New() }, opts)
//
//		bin := filepath.Join(t.TempDir(), "mm-signer-mine")
//		if out, err := exec.Command("go", "build", "-o", bin, "./cmd/mm-signer-mine").CombinedOutput(); err != nil {
//			t.Fatalf("%v\n%s", err, out)
//		}
//		signertest.RunBinary(t, bin, opts)
//	}
//
// keystore_test.go in this folder is exactly that, for this signer.
package keystore

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/ethereum/go-ethereum/accounts"
	ethkeystore "github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/mm-wallet/mm/sdk"
)

// Name and Version are reported by Info.
const (
	Name    = "keystore"
	Version = "1.0.0"
)

// maxFileSize bounds the keystore file read (real ones are under 1 KiB).
const maxFileSize = 64 << 10

// Signer signs with the key of one keystore v3 file. It is safe for
// concurrent use.
type Signer struct {
	// sem guards the fields below; waiting for it honours the context.
	sem     chan struct{}
	path    string
	file    []byte
	address common.Address
	key     *ecdsa.PrivateKey
}

var (
	_ sdk.Signer     = (*Signer)(nil)
	_ sdk.Configurer = (*Signer)(nil)
)

// New returns an unconfigured Signer.
func New() *Signer { return &Signer{sem: make(chan struct{}, 1)} }

// Info describes the signer.
func (s *Signer) Info(ctx context.Context, _ *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, canceled(err)
	}
	return &sdk.InfoResponse{
		Name: Name, Version: Version, ProtocolVersion: sdk.ProtocolVersion, Kind: sdk.KindSoftware,
		Capabilities: sdk.Capabilities{
			TxTypes:         []sdk.TxType{sdk.TxLegacy, sdk.TxEIP2930, sdk.TxEIP1559},
			TypedData:       sdk.TypedDataHashed,
			PersonalMessage: true,
		},
	}, nil
}

// Configure reads the keystore file named by the "keyFile" setting. It does
// not decrypt it.
func (s *Signer) Configure(ctx context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, canceled(err)
	}
	path := ""
	for k, v := range req.Settings {
		if k != "keyFile" {
			return nil, sdk.Errorf(sdk.CodeInvalidRequest, "keystore: configure: unknown setting %q", k)
		}
		path = v
	}
	if path == "" {
		return nil, sdk.NewError(sdk.CodeInvalidRequest, "keystore: configure: the keyFile setting is required", "pass the path of a keystore v3 JSON file")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, sdk.Errorf(sdk.CodeNotConfigured, "keystore: open key file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil || len(data) > maxFileSize {
		return nil, sdk.NewError(sdk.CodeNotConfigured, "keystore: "+path+" is not a keystore file", "")
	}
	var head struct {
		Address string `json:"address"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil || head.Version != 3 || !common.IsHexAddress(head.Address) {
		return nil, sdk.NewError(sdk.CodeNotConfigured, "keystore: "+path+" is not a keystore v3 file with an address", "")
	}
	if err := s.acquire(ctx); err != nil {
		return nil, err
	}
	defer s.release()
	s.path, s.file, s.address, s.key = path, data, common.HexToAddress(head.Address), nil
	return &sdk.ConfigureResponse{}, nil
}

// Accounts returns the file's address for index 0.
func (s *Signer) Accounts(ctx context.Context, req *sdk.AccountsRequest) (*sdk.AccountsResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, canceled(err)
	}
	if len(req.Paths) > 0 {
		return nil, noPaths(req.Paths[0])
	}
	addr, err := s.configured(ctx)
	if err != nil {
		return nil, err
	}
	out := &sdk.AccountsResponse{}
	for _, i := range req.Indices {
		if i != 0 {
			return nil, sdk.Errorf(sdk.CodeUnknownAccount, "keystore: a keystore file holds one account (index 0), not index %d", i)
		}
		out.Accounts = append(out.Accounts, sdk.Account{Address: addr})
	}
	return out, nil
}

// SignTransaction signs a legacy (EIP-155), EIP-2930 or EIP-1559 transaction.
func (s *Signer) SignTransaction(ctx context.Context, req *sdk.SignTransactionRequest) (*sdk.SignTransactionResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, canceled(err)
	}
	if req.ChainID == nil || req.ChainID.Sign() <= 0 {
		return nil, sdk.NewError(sdk.CodeInvalidRequest, "keystore: sign transaction: the chain id must be positive", "")
	}
	tx := new(types.Transaction)
	if len(req.Transaction) == 0 || tx.UnmarshalBinary(req.Transaction) != nil {
		return nil, sdk.NewError(sdk.CodeInvalidTransaction, "keystore: sign transaction: the transaction does not decode", "")
	}
	switch tx.Type() {
	case types.LegacyTxType, types.AccessListTxType, types.DynamicFeeTxType:
	default:
		return nil, sdk.Errorf(sdk.CodeUnsupported, "keystore: sign transaction: type %d transactions are not supported", tx.Type())
	}
	if tx.Type() != types.LegacyTxType && tx.ChainId().Cmp(req.ChainID) != 0 {
		return nil, sdk.Errorf(sdk.CodeInvalidTransaction, "keystore: sign transaction: chain id %s in the transaction, %s in the request", tx.ChainId(), req.ChainID)
	}
	if v, r, ss := tx.RawSignatureValues(); v.Sign() != 0 || r.Sign() != 0 || ss.Sign() != 0 {
		return nil, sdk.NewError(sdk.CodeInvalidTransaction, "keystore: sign transaction: the transaction is already signed", "")
	}
	key, err := s.unlock(ctx, req.Account)
	if err != nil {
		return nil, err
	}
	signer := types.LatestSignerForChainID(req.ChainID)
	h := signer.Hash(tx)
	sig, err := crypto.Sign(h[:], key)
	if err != nil {
		return nil, sdk.Errorf(sdk.CodeInternal, "keystore: sign transaction: %w", err)
	}
	signed, err := tx.WithSignature(signer, sig)
	if err != nil {
		return nil, sdk.Errorf(sdk.CodeInvalidTransaction, "keystore: sign transaction: %w", err)
	}
	raw, err := signed.MarshalBinary()
	if err != nil {
		return nil, sdk.Errorf(sdk.CodeInternal, "keystore: sign transaction: %w", err)
	}
	return &sdk.SignTransactionResponse{SignedTransaction: raw, Signature: sig}, nil
}

// SignTypedData signs the host's EIP-712 hashes (hashed-only mode).
func (s *Signer) SignTypedData(ctx context.Context, req *sdk.SignTypedDataRequest) (*sdk.SignTypedDataResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, canceled(err)
	}
	key, err := s.unlock(ctx, req.Account)
	if err != nil {
		return nil, err
	}
	msg := append([]byte{0x19, 0x01}, req.DomainSeparator[:]...)
	if req.MessageHash != nil {
		msg = append(msg, req.MessageHash[:]...)
	}
	return signDigest(crypto.Keccak256(msg), key, func(sig []byte) *sdk.SignTypedDataResponse {
		return &sdk.SignTypedDataResponse{Signature: sig}
	})
}

// SignMessage signs an EIP-191 personal message.
func (s *Signer) SignMessage(ctx context.Context, req *sdk.SignMessageRequest) (*sdk.SignMessageResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, canceled(err)
	}
	key, err := s.unlock(ctx, req.Account)
	if err != nil {
		return nil, err
	}
	return signDigest(accounts.TextHash(req.Message), key, func(sig []byte) *sdk.SignMessageResponse {
		return &sdk.SignMessageResponse{Signature: sig}
	})
}

func signDigest[R any](digest []byte, key *ecdsa.PrivateKey, wrap func([]byte) R) (R, error) {
	sig, err := crypto.Sign(digest, key)
	if err != nil {
		var zero R
		return zero, sdk.Errorf(sdk.CodeInternal, "keystore: sign: %w", err)
	}
	sig[64] += 27
	return wrap(sig), nil
}

// Close forgets the decrypted key; sdk.Serve calls it when the plugin ends.
func (s *Signer) Close() error {
	s.sem <- struct{}{}
	defer s.release()
	s.key = nil
	return nil
}

func (s *Signer) acquire(ctx context.Context) error {
	select {
	case s.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return canceled(ctx.Err())
	}
}

func (s *Signer) release() { <-s.sem }

func (s *Signer) configured(ctx context.Context) (common.Address, error) {
	if err := s.acquire(ctx); err != nil {
		return common.Address{}, err
	}
	defer s.release()
	if s.file == nil {
		return common.Address{}, sdk.NewError(sdk.CodeNotConfigured, "keystore: not configured", "the host must call Configure with a keyFile setting")
	}
	return s.address, nil
}

// unlock checks that a names the file's account and returns its key,
// asking the host for the password on first use.
func (s *Signer) unlock(ctx context.Context, a sdk.Account) (*ecdsa.PrivateKey, error) {
	if a.Path != "" {
		return nil, noPaths(a.Path)
	}
	if err := s.acquire(ctx); err != nil {
		return nil, err
	}
	defer s.release()
	if s.file == nil {
		return nil, sdk.NewError(sdk.CodeNotConfigured, "keystore: not configured", "the host must call Configure with a keyFile setting")
	}
	if a.Address != s.address {
		return nil, sdk.Errorf(sdk.CodeUnknownAccount, "keystore: account %s is not the keystore's %s", a.Address.Hex(), s.address.Hex())
	}
	if s.key != nil {
		return s.key, nil
	}
	resp, err := sdk.PrompterFrom(ctx).RequestSecret(ctx, &sdk.SecretRequest{Kind: sdk.SecretPassword, Prompt: "Password of keystore " + s.address.Hex()})
	if ctx.Err() != nil {
		return nil, canceled(ctx.Err())
	}
	if err != nil {
		return nil, fmt.Errorf("keystore: ask for the password: %w", err)
	}
	k, err := ethkeystore.DecryptKey(s.file, string(resp.Secret))
	clear(resp.Secret)
	if errors.Is(err, ethkeystore.ErrDecrypt) {
		return nil, sdk.NewError(sdk.CodeWrongPassword, "keystore: wrong password", "check MM_PASSWORD or type the password again")
	}
	if err != nil {
		return nil, sdk.Errorf(sdk.CodeNotConfigured, "keystore: %s does not decrypt: %w", s.path, err)
	}
	if k.Address != s.address {
		return nil, sdk.NewError(sdk.CodeNotConfigured, "keystore: the key in "+s.path+" is not the address the file names", "")
	}
	s.key = k.PrivateKey
	return s.key, nil
}

func noPaths(p string) error {
	return sdk.Errorf(sdk.CodeInvalidDerivationPath, "keystore: derivation path %q: a keystore file has no derivation paths", p)
}

func canceled(err error) error {
	return &sdk.Error{Code: sdk.CodeCanceled, Message: "keystore: " + err.Error(), Err: err}
}
