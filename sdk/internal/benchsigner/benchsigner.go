// Package benchsigner is the tiny signer the plugin wire's benchmarks
// launch: a fixed, publicly known key and go-ethereum's crypto.Sign for
// EIP-191 personal messages, nothing else, so that what the benchmarks
// measure is the wire and not a signer's own start-up.
package benchsigner

import (
	"context"
	"crypto/ecdsa"
	"strconv"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/mm-wallet/mm/sdk"
)

// KeyHex is go-ethereum's well-known test key; never use it for value.
const KeyHex = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291"

// Signer signs personal messages with KeyHex.
type Signer struct {
	key *ecdsa.PrivateKey
}

var _ sdk.Signer = (*Signer)(nil)

// New returns the signer.
func New() *Signer {
	k, err := crypto.HexToECDSA(KeyHex)
	if err != nil {
		panic(err)
	}
	return &Signer{key: k}
}

// Info implements sdk.Signer.
func (s *Signer) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{Name: "benchsigner", Version: "1", ProtocolVersion: sdk.ProtocolVersion, Kind: sdk.KindSoftware,
		Capabilities: sdk.Capabilities{TypedData: sdk.TypedDataNone, PersonalMessage: true}}, nil
}

// Accounts implements sdk.Signer.
func (s *Signer) Accounts(context.Context, *sdk.AccountsRequest) (*sdk.AccountsResponse, error) {
	return &sdk.AccountsResponse{Accounts: []sdk.Account{{Address: crypto.PubkeyToAddress(s.key.PublicKey)}}}, nil
}

// SignTransaction implements sdk.Signer: unsupported.
func (s *Signer) SignTransaction(context.Context, *sdk.SignTransactionRequest) (*sdk.SignTransactionResponse, error) {
	return nil, sdk.ErrUnsupported
}

// SignTypedData implements sdk.Signer: unsupported.
func (s *Signer) SignTypedData(context.Context, *sdk.SignTypedDataRequest) (*sdk.SignTypedDataResponse, error) {
	return nil, sdk.ErrUnsupported
}

// SignMessage implements sdk.Signer: an EIP-191 personal-message
// signature, v = 27 or 28.
func (s *Signer) SignMessage(_ context.Context, req *sdk.SignMessageRequest) (*sdk.SignMessageResponse, error) {
	prefix := "\x19Ethereum Signed Message:\n" + strconv.Itoa(len(req.Message))
	sig, err := crypto.Sign(crypto.Keccak256([]byte(prefix), req.Message), s.key)
	if err != nil {
		return nil, sdk.Errorf(sdk.CodeInternal, "benchsigner: %v", err)
	}
	sig[64] += 27
	return &sdk.SignMessageResponse{Signature: sig}, nil
}
