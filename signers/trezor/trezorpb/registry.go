package trezorpb

import (
	"fmt"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// byType maps a wire type id to a constructor of its message.
var byType = map[MessageType]func() proto.Message{
	MessageType_MessageType_Initialize:                     func() proto.Message { return new(Initialize) },
	MessageType_MessageType_Ping:                           func() proto.Message { return new(Ping) },
	MessageType_MessageType_Success:                        func() proto.Message { return new(Success) },
	MessageType_MessageType_Failure:                        func() proto.Message { return new(Failure) },
	MessageType_MessageType_Features:                       func() proto.Message { return new(Features) },
	MessageType_MessageType_PinMatrixRequest:               func() proto.Message { return new(PinMatrixRequest) },
	MessageType_MessageType_PinMatrixAck:                   func() proto.Message { return new(PinMatrixAck) },
	MessageType_MessageType_Cancel:                         func() proto.Message { return new(Cancel) },
	MessageType_MessageType_LockDevice:                     func() proto.Message { return new(LockDevice) },
	MessageType_MessageType_ButtonRequest:                  func() proto.Message { return new(ButtonRequest) },
	MessageType_MessageType_ButtonAck:                      func() proto.Message { return new(ButtonAck) },
	MessageType_MessageType_PassphraseRequest:              func() proto.Message { return new(PassphraseRequest) },
	MessageType_MessageType_PassphraseAck:                  func() proto.Message { return new(PassphraseAck) },
	MessageType_MessageType_GetFeatures:                    func() proto.Message { return new(GetFeatures) },
	MessageType_MessageType_EthereumGetAddress:             func() proto.Message { return new(EthereumGetAddress) },
	MessageType_MessageType_EthereumAddress:                func() proto.Message { return new(EthereumAddress) },
	MessageType_MessageType_EthereumSignTx:                 func() proto.Message { return new(EthereumSignTx) },
	MessageType_MessageType_EthereumTxRequest:              func() proto.Message { return new(EthereumTxRequest) },
	MessageType_MessageType_EthereumTxAck:                  func() proto.Message { return new(EthereumTxAck) },
	MessageType_MessageType_EthereumSignMessage:            func() proto.Message { return new(EthereumSignMessage) },
	MessageType_MessageType_EthereumMessageSignature:       func() proto.Message { return new(EthereumMessageSignature) },
	MessageType_MessageType_EndSession:                     func() proto.Message { return new(EndSession) },
	MessageType_MessageType_EthereumSignTxEIP1559:          func() proto.Message { return new(EthereumSignTxEIP1559) },
	MessageType_MessageType_EthereumSignTypedData:          func() proto.Message { return new(EthereumSignTypedData) },
	MessageType_MessageType_EthereumTypedDataStructRequest: func() proto.Message { return new(EthereumTypedDataStructRequest) },
	MessageType_MessageType_EthereumTypedDataStructAck:     func() proto.Message { return new(EthereumTypedDataStructAck) },
	MessageType_MessageType_EthereumTypedDataValueRequest:  func() proto.Message { return new(EthereumTypedDataValueRequest) },
	MessageType_MessageType_EthereumTypedDataValueAck:      func() proto.Message { return new(EthereumTypedDataValueAck) },
	MessageType_MessageType_EthereumTypedDataSignature:     func() proto.Message { return new(EthereumTypedDataSignature) },
	MessageType_MessageType_EthereumSignTypedHash:          func() proto.Message { return new(EthereumSignTypedHash) },
}

// byName maps a message's full protobuf name to its wire type id. It is
// built on first use: package variables are initialized before the
// generated code registers the descriptors.
var byName = sync.OnceValue(func() map[protoreflect.FullName]MessageType {
	m := make(map[protoreflect.FullName]MessageType, len(byType))
	for t, f := range byType {
		m[f().ProtoReflect().Descriptor().FullName()] = t
	}
	return m
})

// TypeOf returns the wire type id of m.
func TypeOf(m proto.Message) (MessageType, error) {
	t, ok := byName()[m.ProtoReflect().Descriptor().FullName()]
	if !ok {
		return 0, fmt.Errorf("trezorpb: %s has no wire type id", m.ProtoReflect().Descriptor().FullName())
	}
	return t, nil
}

// New returns an empty message for wire type id t.
func New(t MessageType) (proto.Message, bool) {
	f, ok := byType[t]
	if !ok {
		return nil, false
	}
	return f(), true
}

// Name returns the message name of wire type id t, or "MessageType(<id>)"
// for ids this package does not know.
func Name(t MessageType) string {
	if f, ok := byType[t]; ok {
		return string(f().ProtoReflect().Descriptor().Name())
	}
	return fmt.Sprintf("MessageType(%d)", uint16(t))
}

// Marshal encodes m as proto2 (repeated scalars unpacked, fields in number
// order) and returns its wire type id.
func Marshal(m proto.Message) (MessageType, []byte, error) {
	t, err := TypeOf(m)
	if err != nil {
		return 0, nil, err
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return 0, nil, fmt.Errorf("trezorpb: encode %s: %w", Name(t), err)
	}
	return t, b, nil
}

// Unmarshal decodes payload as the message of wire type id t. Unknown ids
// and malformed payloads are errors; unknown fields are kept and ignored.
func Unmarshal(t MessageType, payload []byte) (proto.Message, error) {
	m, ok := New(t)
	if !ok {
		return nil, fmt.Errorf("trezorpb: unknown message type %d", uint16(t))
	}
	if err := proto.Unmarshal(payload, m); err != nil {
		return nil, fmt.Errorf("trezorpb: decode %s: %w", Name(t), err)
	}
	return m, nil
}
