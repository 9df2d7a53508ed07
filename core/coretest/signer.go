// Package coretest helps test code built on core: an in-process signer with
// fixed, public test keys (KeySigner), and Env, which wires a real dev chain
// to a Preparer, a Submitter and a Pipeline over a temporary state folder.
//
// Test keys are derived from public seed strings; they protect nothing and
// must never hold value outside a dev chain.
package coretest

import (
	"context"
	"crypto/ecdsa"
	"math/big"
	"sync/atomic"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/mm-wallet/mm/sdk"
)

// KeySigner is an sdk.Signer holding one secp256k1 key in process. It
// counts its signatures so tests can prove that nothing was signed.
type KeySigner struct {
	key  *ecdsa.PrivateKey
	addr common.Address
	// TxTypes overrides the advertised transaction types (default legacy,
	// EIP-2930 and EIP-1559).
	TxTypes []sdk.TxType
	// Tamper, when set, may alter the signed bytes (to test the pipeline's
	// checks against a misbehaving signer).
	Tamper func(signed []byte) []byte

	signed atomic.Int64
}

var _ sdk.Signer = (*KeySigner)(nil)

// NewKeySigner derives a key from seed (keccak256 of it).
func NewKeySigner(seed string) *KeySigner {
	k, err := crypto.ToECDSA(crypto.Keccak256([]byte(seed)))
	if err != nil {
		panic("coretest: " + err.Error()) // keccak output is a valid key except with negligible probability
	}
	return &KeySigner{key: k, addr: crypto.PubkeyToAddress(k.PublicKey)}
}

// Address returns the signer's account address.
func (s *KeySigner) Address() common.Address { return s.addr }

// Account returns the signer's account.
func (s *KeySigner) Account() sdk.Account { return sdk.Account{Address: s.addr} }

// Signed returns how many signatures of any kind the signer produced.
func (s *KeySigner) Signed() int64 { return s.signed.Load() }

// Info implements sdk.Signer.
func (s *KeySigner) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	tt := s.TxTypes
	if tt == nil {
		tt = []sdk.TxType{sdk.TxLegacy, sdk.TxEIP2930, sdk.TxEIP1559}
	}
	return &sdk.InfoResponse{Name: "coretest", Version: "0", ProtocolVersion: sdk.ProtocolVersion, Kind: sdk.KindSoftware,
		Capabilities: sdk.Capabilities{TxTypes: tt, TypedData: sdk.TypedDataHashed, PersonalMessage: true}}, nil
}

// Accounts implements sdk.Signer: every index and path maps to the one key.
func (s *KeySigner) Accounts(_ context.Context, req *sdk.AccountsRequest) (*sdk.AccountsResponse, error) {
	n := len(req.Paths) + len(req.Indices)
	if n == 0 {
		n = 1
	}
	out := make([]sdk.Account, n)
	for i := range out {
		out[i] = sdk.Account{Address: s.addr}
	}
	return &sdk.AccountsResponse{Accounts: out}, nil
}

// SignTransaction implements sdk.Signer.
func (s *KeySigner) SignTransaction(ctx context.Context, req *sdk.SignTransactionRequest) (*sdk.SignTransactionResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, sdk.Errorf(sdk.CodeCanceled, "coretest: %w", err)
	}
	if req.Account.Address != s.addr {
		return nil, sdk.ErrUnknownAccount
	}
	if req.ChainID == nil || req.ChainID.Sign() <= 0 {
		return nil, sdk.NewError(sdk.CodeInvalidRequest, "coretest: chain id required", "")
	}
	tx := new(types.Transaction)
	if err := tx.UnmarshalBinary(req.Transaction); err != nil {
		return nil, sdk.Errorf(sdk.CodeInvalidRequest, "coretest: decode tx: %v", err)
	}
	if tx.Type() != types.LegacyTxType && tx.ChainId().Cmp(req.ChainID) != 0 {
		return nil, sdk.NewError(sdk.CodeInvalidRequest, "coretest: chain id mismatch", "")
	}
	signed, err := types.SignTx(tx, types.LatestSignerForChainID(new(big.Int).Set(req.ChainID)), s.key)
	if err != nil {
		return nil, sdk.Errorf(sdk.CodeInvalidRequest, "coretest: sign: %v", err)
	}
	raw, err := signed.MarshalBinary()
	if err != nil {
		return nil, sdk.Errorf(sdk.CodeInternal, "coretest: encode: %v", err)
	}
	if s.Tamper != nil {
		raw = s.Tamper(raw)
	}
	v, r, ss := signed.RawSignatureValues()
	sig := make([]byte, 65)
	r.FillBytes(sig[:32])
	ss.FillBytes(sig[32:64])
	if tx.Type() == types.LegacyTxType {
		// v = chainId*2 + 35 + yParity
		y := new(big.Int).Sub(v, new(big.Int).Add(new(big.Int).Mul(req.ChainID, big.NewInt(2)), big.NewInt(35)))
		sig[64] = byte(y.Uint64())
	} else {
		sig[64] = byte(v.Uint64())
	}
	s.signed.Add(1)
	return &sdk.SignTransactionResponse{SignedTransaction: raw, Signature: sig}, nil
}

// SignTypedData implements sdk.Signer (hash-only mode).
func (s *KeySigner) SignTypedData(_ context.Context, req *sdk.SignTypedDataRequest) (*sdk.SignTypedDataResponse, error) {
	if req.Account.Address != s.addr {
		return nil, sdk.ErrUnknownAccount
	}
	msg := []byte{0x19, 0x01}
	msg = append(msg, req.DomainSeparator[:]...)
	if req.MessageHash != nil {
		msg = append(msg, req.MessageHash[:]...)
	}
	sig, err := crypto.Sign(crypto.Keccak256(msg), s.key)
	if err != nil {
		return nil, sdk.Errorf(sdk.CodeInternal, "coretest: sign: %v", err)
	}
	sig[64] += 27
	s.signed.Add(1)
	return &sdk.SignTypedDataResponse{Signature: sig}, nil
}

// SignMessage implements sdk.Signer (EIP-191).
func (s *KeySigner) SignMessage(_ context.Context, req *sdk.SignMessageRequest) (*sdk.SignMessageResponse, error) {
	if req.Account.Address != s.addr {
		return nil, sdk.ErrUnknownAccount
	}
	sig, err := crypto.Sign(accounts.TextHash(req.Message), s.key)
	if err != nil {
		return nil, sdk.Errorf(sdk.CodeInternal, "coretest: sign: %v", err)
	}
	sig[64] += 27
	s.signed.Add(1)
	return &sdk.SignMessageResponse{Signature: sig}, nil
}
