package trezor_test

import (
	"context"
	"encoding/hex"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	emu "github.com/mm-wallet/mm/hwtest/trezor"
	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/signers/transport"
	"github.com/mm-wallet/mm/signers/trezor"
)

// transportsFor returns signers reaching e over each transport: the UDP
// port, a Trezor Bridge in front of it, and the 64-byte HID report stream.
func transportsFor(t *testing.T, e *emu.Emulator, udpURI string) map[string]*trezor.Signer {
	t.Helper()
	addr := udpURI[len("udp://"):]
	br := emu.NewBridge(addr)
	baddr, err := br.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { br.Close() })
	hid := transport.NewTrezorHID(transport.NewStreamReportDevice(e.HIDStream(), transport.TrezorPacketSize), "hid://trezor-emulator")
	t.Cleanup(func() { hid.Close() })
	return map[string]*trezor.Signer{
		"udp":    newSigner(t, udpURI),
		"bridge": newSigner(t, transport.TrezorBridgeURI(baddr, "")),
		"hid":    trezor.NewWithTransport(hid),
	}
}

// TestTransportsAndCancel signs over every transport, cancels a signature
// while the device waits for the user (the transport sends Cancel: nothing
// is signed, the device leaves its screen) and signs again on the same
// connection.
func TestTransportsAndCancel(t *testing.T) {
	f := loadFixtures(t)
	c := f.SignMessage.Cases[0]
	acct := sdk.Account{Path: c.Path, Address: common.HexToAddress(c.Address)}
	for _, m := range profiles {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			e, uri := startEmulator(t, emu.Options{Model: m})
			for name, s := range transportsFor(t, e, uri) {
				sign := func(ctx context.Context) (*sdk.SignMessageResponse, error) {
					return s.SignMessage(ctx, &sdk.SignMessageRequest{Account: acct, Message: []byte(c.Msg)})
				}
				resp, err := sign(ctxFor(t))
				if err != nil || hex.EncodeToString(resp.Signature) != c.Sig {
					t.Fatalf("%s: %v", name, err)
				}
				before := e.Stats().Signatures
				e.SetConfirmDelay(10 * time.Second)
				ctx, cancel := context.WithTimeout(ctxFor(t), 300*time.Millisecond)
				resp, err = sign(ctx)
				cancel()
				if sdk.CodeOf(err) != sdk.CodeCanceled || resp != nil {
					t.Fatalf("%s: cancelled call gave %v, %v", name, resp, err)
				}
				e.SetConfirmDelay(0)
				deadline := time.Now().Add(3 * time.Second)
				for e.Waiting() != "" && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
				if w := e.Waiting(); w != "" {
					t.Fatalf("%s: the device still shows %q after Cancel", name, w)
				}
				if n := e.Stats().Signatures - before; n != 0 {
					t.Fatalf("%s: %d signatures after a cancelled call", name, n)
				}
				if resp, err = sign(ctxFor(t)); err != nil || hex.EncodeToString(resp.Signature) != c.Sig {
					t.Fatalf("%s: after cancel: %v", name, err)
				}
			}
		})
	}
}

// TestManualConfirmation has a person approve on the device (the control
// API), while the prompter is told to look at the device.
func TestManualConfirmation(t *testing.T) {
	t.Parallel()
	e, uri := startEmulator(t, emu.Options{Model: emu.ModelT})
	e.SetManual(true)
	s := newSigner(t, uri)
	p := &recorder{}
	done := make(chan error, 1)
	go func() {
		_, err := s.SignMessage(sdk.WithPrompter(ctxFor(t), p), &sdk.SignMessageRequest{Account: sdk.Account{Path: "m/44'/60'/0'/0/0"}, Message: []byte("approve me")})
		done <- err
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !e.Approve() {
		if time.Now().After(deadline) {
			t.Fatal("no confirmation appeared")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	msgs := p.waitMessages()
	if len(msgs) == 0 || msgs[0] != "confirm on your Trezor Model T" {
		t.Fatalf("prompter heard %q", msgs)
	}
	// Manual rejection.
	go func() {
		_, err := s.SignMessage(sdk.WithPrompter(ctxFor(t), p), &sdk.SignMessageRequest{Account: sdk.Account{Path: "m/44'/60'/0'/0/0"}, Message: []byte("reject me")})
		done <- err
	}()
	for !e.Reject() {
		time.Sleep(5 * time.Millisecond)
	}
	if err := <-done; sdk.CodeOf(err) != sdk.CodeUserRejected {
		t.Fatalf("rejected: %v", err)
	}
}

func TestDeviceStatusAndList(t *testing.T) {
	t.Parallel()
	_, uri := startEmulator(t, emu.Options{Model: emu.ModelOne, PIN: "1234", Firmware: "1.10.3", Label: "desk"})
	st, err := trezor.DeviceStatus(ctxFor(t), uri)
	if err != nil {
		t.Fatal(err)
	}
	if st.Model != "Trezor Model One" || st.Firmware != "1.10.3" || st.Unlocked || !st.PINProtection || !st.Initialized || st.Transport != "udp" || st.Label != "desk" {
		t.Fatalf("status %+v", st)
	}
	// 1.10.3 predates EIP-1559 and EIP-712 hashes on the One.
	if st.Capabilities.SupportsTx(sdk.TxEIP1559) || st.Capabilities.TypedData != sdk.TypedDataNone {
		t.Fatalf("capabilities %+v", st.Capabilities)
	}

	e2, uri2 := startEmulator(t, emu.Options{Model: emu.ModelSafe5, BitcoinOnly: true})
	br := emu.NewBridge(uri2[len("udp://"):])
	baddr, err := br.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	list, err := trezor.ListWith(ctxFor(t), transport.TrezorEnumerateOptions{BridgeAddr: baddr, EmulatorAddrs: []string{uri[len("udp://"):], "127.0.0.1:1"}, ProbeTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("listed %+v", list)
	}
	byTransport := map[string]trezor.Status{}
	for _, s := range list {
		byTransport[s.Transport] = s
	}
	b := byTransport["bridge"]
	if b.Model != "Trezor Safe 5" || !b.BitcoinOnly || b.URI != transport.TrezorBridgeURI(baddr, "1") || b.Error != "" {
		t.Fatalf("bridge entry %+v", b)
	}
	if u := byTransport["udp"]; u.Model != "Trezor Model One" || u.URI != uri {
		t.Fatalf("udp entry %+v", u)
	}
	_ = e2
	// Info reflects the connected model.
	info, err := newSigner(t, transport.TrezorBridgeURI(baddr, "1")).Info(ctxFor(t), &sdk.InfoRequest{})
	if err != nil || info.Model != "Safe 5" || len(info.Capabilities.TxTypes) != 0 || info.Capabilities.PersonalMessage {
		t.Fatalf("Info %+v, %v", info, err)
	}
}

// TestZeroFields signs transactions whose integers are all zero: proto2
// required fields must still be present (as empty byte strings).
func TestZeroFields(t *testing.T) {
	for _, m := range profiles {
		_, uri := startEmulator(t, emu.Options{Model: m})
		s := newSigner(t, uri)
		for name, tx := range map[string]*types.Transaction{
			"legacy":  types.NewTx(&types.LegacyTx{GasPrice: new(big.Int), Value: new(big.Int)}),
			"eip1559": types.NewTx(&types.DynamicFeeTx{ChainID: big.NewInt(1), GasTipCap: new(big.Int), GasFeeCap: new(big.Int), Value: new(big.Int)}),
		} {
			raw, _ := tx.MarshalBinary()
			resp, err := s.SignTransaction(ctxFor(t), &sdk.SignTransactionRequest{Account: sdk.Account{Path: "m/44'/60'/0'/0/0"}, ChainID: big.NewInt(1), Transaction: raw})
			if err != nil {
				t.Fatalf("%s/%s: %v", m, name, err)
			}
			signed := new(types.Transaction)
			if err := signed.UnmarshalBinary(resp.SignedTransaction); err != nil {
				t.Fatal(err)
			}
			from, err := types.Sender(types.LatestSignerForChainID(big.NewInt(1)), signed)
			if err != nil || from != common.HexToAddress("0x73d0385F4d8E00C5e6504C6030F47BF6212736A8") {
				t.Fatalf("%s/%s: sender %s, %v", m, name, from.Hex(), err)
			}
		}
	}
}
