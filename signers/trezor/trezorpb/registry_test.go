package trezorpb_test

import (
	"encoding/hex"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/mm-wallet/mm/signers/trezor/trezorpb"
)

// TestWireEncoding checks Trezor's type ids and proto2 encoding against the
// recorded wire examples (address_n unpacked: one tag per element).
func TestWireEncoding(t *testing.T) {
	const h = 1 << 31
	typ, b, err := trezorpb.Marshal(&trezorpb.EthereumGetAddress{AddressN: []uint32{44 | h, 60 | h, h, 0, 0}})
	if err != nil || typ != 56 || hex.EncodeToString(b) != "08ac8080800808bc8080800808808080800808000800" {
		t.Fatalf("EthereumGetAddress: type %d, %x, %v", typ, b, err)
	}
	raw, _ := hex.DecodeString("122a307837336430333835463464384530304335653635303443363033304634374246363231323733364138")
	m, err := trezorpb.Unmarshal(57, raw)
	if a, ok := m.(*trezorpb.EthereumAddress); err != nil || !ok || a.GetAddress() != "0x73d0385F4d8E00C5e6504C6030F47BF6212736A8" {
		t.Fatalf("EthereumAddress: %v, %v", m, err)
	}
	for id, want := range map[trezorpb.MessageType]string{0: "Initialize", 17: "Features", 26: "ButtonRequest", 27: "ButtonAck", 58: "EthereumSignTx", 452: "EthereumSignTxEIP1559", 464: "EthereumSignTypedData", 470: "EthereumSignTypedHash"} {
		if got := trezorpb.Name(id); got != want {
			t.Errorf("type %d is %s, want %s", id, got, want)
		}
	}
	if _, err := trezorpb.Unmarshal(9999, nil); err == nil {
		t.Fatal("unknown type decoded")
	}
	if _, err := trezorpb.Unmarshal(57, []byte{0x12, 0x05, 'a'}); err == nil {
		t.Fatal("truncated payload decoded")
	}
	// proto2 default: metamask_v4_compat is true when absent.
	if !new(trezorpb.EthereumSignTypedData).GetMetamaskV4Compat() {
		t.Fatal("metamask_v4_compat default lost")
	}
	if _, _, err := trezorpb.Marshal(proto.Message(&trezorpb.EthereumAccessList{})); err == nil {
		t.Fatal("a message without a wire id marshalled")
	}
}
