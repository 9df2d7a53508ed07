package trezor

import (
	"context"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/signers/trezor/trezorpb"
)

// SignMessage implements sdk.Signer: EIP-191 personal messages through
// EthereumSignMessage (the device adds the prefix itself).
func (s *Signer) SignMessage(ctx context.Context, req *sdk.SignMessageRequest) (*sdk.SignMessageResponse, error) {
	const op = "sign message"
	if req == nil {
		return nil, invalid(sdk.CodeInvalidRequest, "", "%s: nil request", op)
	}
	path, err := resolvePath(op, req.Account)
	if err != nil {
		return nil, err
	}
	msg := req.Message
	if msg == nil {
		msg = []byte{}
	}
	var sig []byte
	err = s.withDevice(ctx, func(d *device) error {
		if err := d.ethereumCheck(op); err != nil {
			return err
		}
		if err := d.expectAccount(ctx, op, path, req.Account.Address); err != nil {
			return err
		}
		resp, err := d.call(ctx, op, &trezorpb.EthereumSignMessage{AddressN: path, Message: msg})
		if err != nil {
			return err
		}
		r, ok := resp.(*trezorpb.EthereumMessageSignature)
		if !ok {
			return unexpected(op, resp)
		}
		sig, err = checkSignature(op, r.Signature, accounts.TextHash(msg), req.Account.Address, path)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &sdk.SignMessageResponse{Signature: sig}, nil
}

// checkSignature validates a 65-byte r ‖ s ‖ v (v 27/28) signature of
// digest and that it recovers to want (when set).
func checkSignature(op string, sig, digest []byte, want common.Address, path []uint32) ([]byte, error) {
	if len(sig) != 65 || (sig[64] != 27 && sig[64] != 28) {
		return nil, errorf(sdk.CodeDeviceError, "reconnect the Trezor and retry", "%s: the device returned a malformed signature", op)
	}
	norm := append([]byte(nil), sig...)
	norm[64] -= 27
	pub, err := crypto.SigToPub(digest, norm)
	if err != nil {
		return nil, errorf(sdk.CodeDeviceError, "reconnect the Trezor and retry", "%s: the device's signature does not verify", op)
	}
	if err := checkSigner(op, want, crypto.PubkeyToAddress(*pub), path); err != nil {
		return nil, err
	}
	return append([]byte(nil), sig...), nil
}
