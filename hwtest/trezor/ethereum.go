package trezor

import (
	"strconv"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
	"google.golang.org/protobuf/proto"

	"github.com/mm-wallet/mm/hwtest/emulator"
	"github.com/mm-wallet/mm/signers/trezor/trezorpb"
)

const (
	// maxChainID is the largest chain id for which the firmware returns the
	// full EIP-155 v; above it, only the parity (trezor-mcu #399).
	maxChainID = 2147483629
	// chunkSize is the most calldata one EthereumTxRequest asks for.
	chunkSize = 1024

	btnOther       = trezorpb.ButtonRequest_ButtonRequest_Other
	btnSignTx      = trezorpb.ButtonRequest_ButtonRequest_SignTx
	btnOutput      = trezorpb.ButtonRequest_ButtonRequest_ConfirmOutput
	btnAddress     = trezorpb.ButtonRequest_ButtonRequest_Address
	btnProtectCall = trezorpb.ButtonRequest_ButtonRequest_ProtectCall
)

// sign signs a 32-byte digest and accounts the time as the device's own.
func (e *Emulator) sign(k *emulator.Keyring, path []uint32, digest []byte) ([]byte, *emulator.Key, error) {
	start := time.Now()
	key, err := k.Derive(path)
	if err != nil {
		return nil, nil, fail(failDataError, "Invalid path")
	}
	sig, err := crypto.Sign(digest, key.Priv)
	if err != nil {
		return nil, nil, fail(failProcessError, "Signing failed")
	}
	e.ctl.Lock()
	e.stats.Signatures++
	e.stats.SigningTime += time.Since(start)
	e.ctl.Unlock()
	return sig, key, nil
}

func (e *Emulator) getAddress(k *emulator.Keyring, msg *trezorpb.EthereumGetAddress) (proto.Message, error) {
	key, err := k.Derive(msg.AddressN)
	if err != nil {
		return nil, fail(failDataError, "Invalid path")
	}
	if msg.GetShowDisplay() {
		if err := e.confirm(btnAddress, "show_address"); err != nil {
			return nil, err
		}
	}
	return &trezorpb.EthereumAddress{Address: proto.String(key.Address.Hex())}, nil
}

// checkInt checks a big-endian integer field (at most 32 bytes).
func checkInt(name string, b []byte) error {
	if len(b) > 32 {
		return fail(failDataError, "Invalid %s", name)
	}
	return nil
}

// toField turns the `to` string into its RLP bytes (empty: contract
// creation).
func toField(to string) ([]byte, error) {
	if to == "" {
		return nil, nil
	}
	if !common.IsHexAddress(to) || len(to) != 42 {
		return nil, fail(failDataError, "Invalid address")
	}
	return common.HexToAddress(to).Bytes(), nil
}

// collectData gathers the calldata: the initial chunk, then
// EthereumTxRequest{data_length: min(left, 1024)} / EthereumTxAck rounds.
func (e *Emulator) collectData(initial []byte, total uint32) ([]byte, error) {
	if total == 0 {
		if len(initial) != 0 {
			return nil, fail(failDataError, "Invalid size of initial chunk")
		}
		return nil, nil
	}
	if len(initial) == 0 {
		return nil, fail(failDataError, "Data length provided, but no initial chunk")
	}
	if len(initial) > chunkSize || uint32(len(initial)) > total {
		return nil, fail(failDataError, "Invalid size of initial chunk")
	}
	data := make([]byte, 0, total)
	data = append(data, initial...)
	for uint32(len(data)) < total {
		want := min(total-uint32(len(data)), chunkSize)
		var ack trezorpb.EthereumTxAck
		if err := e.expect(&trezorpb.EthereumTxRequest{DataLength: proto.Uint32(want)}, tTxAck, &ack, failCancelled); err != nil {
			return nil, err
		}
		if len(ack.DataChunk) == 0 || uint32(len(ack.DataChunk)) > want {
			return nil, fail(failDataError, "Invalid data chunk size")
		}
		data = append(data, ack.DataChunk...)
	}
	return data, nil
}

// confirmTx shows the output, the data when there is some, and the fee.
func (e *Emulator) confirmTx(hasData bool) error {
	if err := e.confirm(btnOutput, "confirm_output"); err != nil {
		return err
	}
	if hasData {
		if err := e.confirm(btnSignTx, "confirm_data"); err != nil {
			return err
		}
	}
	return e.confirm(btnSignTx, "confirm_total")
}

func (e *Emulator) signTx(k *emulator.Keyring, msg *trezorpb.EthereumSignTx) (proto.Message, error) {
	if msg.GasPrice == nil || msg.GasLimit == nil || msg.ChainId == nil {
		return nil, fail(failDataError, "Missing required field")
	}
	for name, v := range map[string][]byte{"nonce": msg.Nonce, "gas price": msg.GasPrice, "gas limit": msg.GasLimit, "value": msg.Value} {
		if err := checkInt(name, v); err != nil {
			return nil, err
		}
	}
	if msg.GetTxType() != 0 {
		return nil, fail(failDataError, "Wanchain transaction types are not supported")
	}
	to, err := toField(msg.GetTo())
	if err != nil {
		return nil, err
	}
	if _, err := k.Derive(msg.AddressN); err != nil {
		return nil, fail(failDataError, "Invalid path")
	}
	if err := e.confirmTx(msg.GetDataLength() > 0); err != nil {
		return nil, err
	}
	data, err := e.collectData(msg.DataInitialChunk, msg.GetDataLength())
	if err != nil {
		return nil, err
	}
	chainID := msg.GetChainId()
	enc, err := rlp.EncodeToBytes([]any{
		msg.Nonce, msg.GasPrice, msg.GasLimit, to, msg.Value, data, chainID, uint(0), uint(0),
	})
	if err != nil {
		return nil, fail(failProcessError, "Encoding failed")
	}
	sig, _, err := e.sign(k, msg.AddressN, keccak(enc))
	if err != nil {
		return nil, err
	}
	v := uint32(sig[64])
	if chainID <= maxChainID {
		v += uint32(2*chainID + 35)
	}
	return &trezorpb.EthereumTxRequest{SignatureV: proto.Uint32(v), SignatureR: sig[:32], SignatureS: sig[32:64]}, nil
}

func (e *Emulator) signTx1559(k *emulator.Keyring, msg *trezorpb.EthereumSignTxEIP1559) (proto.Message, error) {
	if msg.MaxGasFee == nil || msg.MaxPriorityFee == nil || msg.GasLimit == nil || msg.ChainId == nil || msg.Nonce == nil || msg.Value == nil || msg.DataLength == nil {
		return nil, fail(failDataError, "Missing required field")
	}
	for name, v := range map[string][]byte{"nonce": msg.Nonce, "max gas fee": msg.MaxGasFee, "max priority fee": msg.MaxPriorityFee, "gas limit": msg.GasLimit, "value": msg.Value} {
		if err := checkInt(name, v); err != nil {
			return nil, err
		}
	}
	to, err := toField(msg.GetTo())
	if err != nil {
		return nil, err
	}
	type entry struct {
		Address []byte
		Keys    [][]byte
	}
	access := make([]entry, 0, len(msg.AccessList))
	for _, a := range msg.AccessList {
		addr, err := toField(a.GetAddress())
		if err != nil || addr == nil {
			return nil, fail(failDataError, "Invalid access list address")
		}
		for _, key := range a.StorageKeys {
			if len(key) != 32 {
				return nil, fail(failDataError, "Invalid access list storage key")
			}
		}
		keys := a.StorageKeys
		if keys == nil {
			keys = [][]byte{}
		}
		access = append(access, entry{Address: addr, Keys: keys})
	}
	if _, err := k.Derive(msg.AddressN); err != nil {
		return nil, fail(failDataError, "Invalid path")
	}
	if err := e.confirmTx(msg.GetDataLength() > 0); err != nil {
		return nil, err
	}
	data, err := e.collectData(msg.DataInitialChunk, msg.GetDataLength())
	if err != nil {
		return nil, err
	}
	enc, err := rlp.EncodeToBytes([]any{
		msg.GetChainId(), msg.Nonce, msg.MaxPriorityFee, msg.MaxGasFee, msg.GasLimit, to, msg.Value, data, access,
	})
	if err != nil {
		return nil, fail(failProcessError, "Encoding failed")
	}
	sig, _, err := e.sign(k, msg.AddressN, keccak(append([]byte{0x02}, enc...)))
	if err != nil {
		return nil, err
	}
	return &trezorpb.EthereumTxRequest{SignatureV: proto.Uint32(uint32(sig[64])), SignatureR: sig[:32], SignatureS: sig[32:64]}, nil
}

func (e *Emulator) signMessage(k *emulator.Keyring, msg *trezorpb.EthereumSignMessage) (proto.Message, error) {
	if msg.Message == nil {
		return nil, fail(failDataError, "Missing required field")
	}
	if e.opts.MaxMessageSize > 0 && len(msg.Message) > e.opts.MaxMessageSize {
		return nil, fail(failDataError, "Message too long")
	}
	if _, err := k.Derive(msg.AddressN); err != nil {
		return nil, fail(failDataError, "Invalid path")
	}
	if err := e.confirm(btnProtectCall, "sign_message"); err != nil {
		return nil, err
	}
	prefixed := append([]byte("\x19Ethereum Signed Message:\n"+strconv.Itoa(len(msg.Message))), msg.Message...)
	sig, key, err := e.sign(k, msg.AddressN, keccak(prefixed))
	if err != nil {
		return nil, err
	}
	sig[64] += 27
	return &trezorpb.EthereumMessageSignature{Signature: sig, Address: proto.String(key.Address.Hex())}, nil
}

func (e *Emulator) signTypedHash(k *emulator.Keyring, msg *trezorpb.EthereumSignTypedHash) (proto.Message, error) {
	if len(msg.DomainSeparatorHash) != 32 {
		return nil, fail(failDataError, "Invalid domain separator hash")
	}
	if msg.MessageHash != nil && len(msg.MessageHash) != 32 {
		return nil, fail(failDataError, "Invalid message hash")
	}
	if _, err := k.Derive(msg.AddressN); err != nil {
		return nil, fail(failDataError, "Invalid path")
	}
	if err := e.confirm(btnProtectCall, "confirm_domain_hash"); err != nil {
		return nil, err
	}
	if msg.MessageHash != nil {
		if err := e.confirm(btnProtectCall, "confirm_message_hash"); err != nil {
			return nil, err
		}
	}
	digest := keccak([]byte{0x19, 0x01}, msg.DomainSeparatorHash, msg.MessageHash)
	sig, key, err := e.sign(k, msg.AddressN, digest)
	if err != nil {
		return nil, err
	}
	sig[64] += 27
	return &trezorpb.EthereumTypedDataSignature{Signature: sig, Address: proto.String(key.Address.Hex())}, nil
}

func keccak(parts ...[]byte) []byte { return crypto.Keccak256(parts...) }
