package trezor

import (
	"context"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"google.golang.org/protobuf/proto"

	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/signers/trezor/trezorpb"
)

const (
	// maxChainIDFullV is the largest chain id whose full EIP-155 v fits
	// the firmware's uint32 signature_v; above it the device returns the
	// parity only (trezor-mcu #399).
	maxChainIDFullV = 2147483629
	// chunkSize is the most calldata one message carries.
	chunkSize = 1024
)

// SignTransaction implements sdk.Signer: legacy (EIP-155) transactions
// through EthereumSignTx and EIP-1559 ones through EthereumSignTxEIP1559,
// calldata fed in the pieces the device asks for.
func (s *Signer) SignTransaction(ctx context.Context, req *sdk.SignTransactionRequest) (*sdk.SignTransactionResponse, error) {
	const op = "sign tx"
	if req == nil {
		return nil, invalid(sdk.CodeInvalidRequest, "", "%s: nil request", op)
	}
	path, err := resolvePath(op, req.Account)
	if err != nil {
		return nil, err
	}
	tx, err := decodeUnsigned(op, req.Transaction)
	if err != nil {
		return nil, err
	}
	chainID := req.ChainID
	if chainID == nil || chainID.Sign() <= 0 {
		return nil, invalid(sdk.CodeInvalidRequest, "a Trezor signs replay-protected transactions only: give the chain id", "%s: no chain id", op)
	}
	if !chainID.IsUint64() {
		return nil, invalid(sdk.CodeInvalidRequest, "a Trezor signs chain ids up to 2^64-1", "%s: chain id %s is too large for a Trezor", op, chainID)
	}
	switch tx.Type() {
	case types.LegacyTxType:
	case types.DynamicFeeTxType:
		if tx.ChainId().Cmp(chainID) != 0 {
			return nil, invalid(sdk.CodeInvalidTransaction, "the request's chain id must equal the transaction's", "%s: chain id %s does not match the transaction's %s", op, chainID, tx.ChainId())
		}
	default:
		return nil, invalid(sdk.CodeUnsupported, "Trezor firmware signs legacy and EIP-1559 transactions only", "%s: transaction type %d is not supported by Trezor", op, tx.Type())
	}
	var out *sdk.SignTransactionResponse
	err = s.withDevice(ctx, func(d *device) error {
		if err := d.ethereumCheck(op); err != nil {
			return err
		}
		if tx.Type() == types.DynamicFeeTxType && !d.atLeast(minEIP1559[0], minEIP1559[1]) {
			return d.tooOld(op, "EIP-1559 signing", minEIP1559[0], minEIP1559[1])
		}
		if chainID.Uint64() > maxUint32Chain && !d.atLeast(minChainID64[0], minChainID64[1]) {
			return d.tooOld(op, "a chain id above 2^32-1", minChainID64[0], minChainID64[1])
		}
		if err := d.expectAccount(ctx, op, path, req.Account.Address); err != nil {
			return err
		}
		var err error
		out, err = d.signTx(ctx, path, tx, chainID.Uint64(), req.Account.Address)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// decodeUnsigned parses the MarshalBinary form of an unsigned transaction.
func decodeUnsigned(op string, raw []byte) (*types.Transaction, error) {
	if len(raw) == 0 {
		return nil, invalid(sdk.CodeInvalidTransaction, "pass the unsigned transaction in go-ethereum's MarshalBinary form", "%s: empty transaction", op)
	}
	tx := new(types.Transaction)
	if err := tx.UnmarshalBinary(raw); err != nil {
		return nil, invalid(sdk.CodeInvalidTransaction, "pass the unsigned transaction in go-ethereum's MarshalBinary form", "%s: cannot decode the transaction: %v", op, err)
	}
	v, r, sv := tx.RawSignatureValues()
	if v.Sign() != 0 || r.Sign() != 0 || sv.Sign() != 0 {
		return nil, invalid(sdk.CodeInvalidTransaction, "pass the transaction unsigned (v, r and s zero)", "%s: the transaction is already signed", op)
	}
	return tx, nil
}

func intBytes(v *big.Int) []byte {
	if v == nil {
		return nil
	}
	return v.Bytes()
}

func u64Bytes(v uint64) []byte { return new(big.Int).SetUint64(v).Bytes() }

func toString(a *common.Address) *string {
	if a == nil {
		return proto.String("")
	}
	return proto.String(a.Hex())
}

func (d *device) signTx(ctx context.Context, path []uint32, tx *types.Transaction, chainID uint64, want common.Address) (*sdk.SignTransactionResponse, error) {
	const op = "sign tx"
	data := tx.Data()
	first := data[:min(len(data), chunkSize)]
	var req proto.Message
	if tx.Type() == types.DynamicFeeTxType {
		m := &trezorpb.EthereumSignTxEIP1559{
			AddressN:       path,
			Nonce:          u64Bytes(tx.Nonce()),
			MaxGasFee:      intBytes(tx.GasFeeCap()),
			MaxPriorityFee: intBytes(tx.GasTipCap()),
			GasLimit:       u64Bytes(tx.Gas()),
			To:             toString(tx.To()),
			Value:          intBytes(tx.Value()),
			DataLength:     proto.Uint32(uint32(len(data))),
			ChainId:        proto.Uint64(chainID),
		}
		// proto2 presence: an empty non-nil slice is sent as an empty
		// field, which the firmware requires for nonce and value.
		if m.Nonce == nil {
			m.Nonce = []byte{}
		}
		if m.Value == nil {
			m.Value = []byte{}
		}
		if m.MaxGasFee == nil {
			m.MaxGasFee = []byte{}
		}
		if m.MaxPriorityFee == nil {
			m.MaxPriorityFee = []byte{}
		}
		if m.GasLimit == nil {
			m.GasLimit = []byte{}
		}
		if len(first) > 0 {
			m.DataInitialChunk = first
		}
		for _, a := range tx.AccessList() {
			e := &trezorpb.EthereumAccessList{Address: proto.String(a.Address.Hex())}
			for _, k := range a.StorageKeys {
				e.StorageKeys = append(e.StorageKeys, k.Bytes())
			}
			m.AccessList = append(m.AccessList, e)
		}
		req = m
	} else {
		m := &trezorpb.EthereumSignTx{
			AddressN: path,
			Nonce:    u64Bytes(tx.Nonce()),
			GasPrice: intBytes(tx.GasPrice()),
			GasLimit: u64Bytes(tx.Gas()),
			To:       toString(tx.To()),
			Value:    intBytes(tx.Value()),
			ChainId:  proto.Uint64(chainID),
		}
		if m.GasPrice == nil {
			m.GasPrice = []byte{}
		}
		if m.GasLimit == nil {
			m.GasLimit = []byte{}
		}
		if len(data) > 0 {
			m.DataInitialChunk = first
			m.DataLength = proto.Uint32(uint32(len(data)))
		}
		req = m
	}
	if uint64(len(data)) > 1<<32-1 {
		return nil, invalid(sdk.CodeInvalidTransaction, "", "%s: calldata too large", op)
	}
	rest := data[len(first):]
	resp, err := d.call(ctx, op, req)
	for err == nil {
		r, ok := resp.(*trezorpb.EthereumTxRequest)
		if !ok {
			return nil, unexpected(op, resp)
		}
		if r.DataLength == nil || r.GetDataLength() == 0 {
			return d.finishTx(op, tx, chainID, r, path, want)
		}
		n := int(r.GetDataLength())
		if n > len(rest) || n > chunkSize {
			d.cancel()
			return nil, errorf(sdk.CodeDeviceError, "reconnect the Trezor and retry", "%s: the device asked for %d more calldata bytes, %d remain", op, n, len(rest))
		}
		chunk := rest[:n]
		rest = rest[n:]
		resp, err = d.call(ctx, op, &trezorpb.EthereumTxAck{DataChunk: chunk})
	}
	return nil, err
}

// finishTx turns the device's signature into the signed transaction,
// completing v for large chain ids, and checks it recovers to the account.
func (d *device) finishTx(op string, tx *types.Transaction, chainID uint64, r *trezorpb.EthereumTxRequest, path []uint32, want common.Address) (*sdk.SignTransactionResponse, error) {
	if r.SignatureV == nil || len(r.SignatureR) == 0 || len(r.SignatureR) > 32 || len(r.SignatureS) == 0 || len(r.SignatureS) > 32 {
		return nil, errorf(sdk.CodeDeviceError, "reconnect the Trezor and retry", "%s: the device returned no valid signature", op)
	}
	v := uint64(r.GetSignatureV())
	var parity uint64
	switch {
	case tx.Type() == types.DynamicFeeTxType && v <= 1:
		parity = v
	case tx.Type() == types.LegacyTxType && chainID > maxChainIDFullV && v <= 1:
		parity = v // the device returns only the parity; v = 2·chainId + 35 + parity
	case tx.Type() == types.LegacyTxType && chainID <= maxChainIDFullV && (v == 2*chainID+35 || v == 2*chainID+36):
		parity = v - (2*chainID + 35)
	default:
		return nil, errorf(sdk.CodeDeviceError, "reconnect the Trezor and retry", "%s: the device returned v=%d, which does not fit chain id %d", op, v, chainID)
	}
	sig := make([]byte, 65)
	copy(sig[32-len(r.SignatureR):32], r.SignatureR)
	copy(sig[64-len(r.SignatureS):64], r.SignatureS)
	sig[64] = byte(parity)
	signer := types.LatestSignerForChainID(new(big.Int).SetUint64(chainID))
	signed, err := tx.WithSignature(signer, sig)
	if err != nil {
		return nil, errorf(sdk.CodeDeviceError, "reconnect the Trezor and retry", "%s: the device's signature is invalid: %v", op, err)
	}
	from, err := types.Sender(signer, signed)
	if err != nil {
		return nil, errorf(sdk.CodeDeviceError, "reconnect the Trezor and retry", "%s: the device's signature does not verify: %v", op, err)
	}
	if err := checkSigner(op, want, from, path); err != nil {
		return nil, err
	}
	raw, err := signed.MarshalBinary()
	if err != nil {
		return nil, errorf(sdk.CodeInternal, "", "%s: encode: %v", op, err)
	}
	return &sdk.SignTransactionResponse{SignedTransaction: raw, Signature: sig}, nil
}
