// Package hwtest holds mm's hardware-wallet test equipment: device emulators
// that speak the real wire protocols (hwtest/ledger, hwtest/trezor) and one
// scenario table that runs against an emulator by default and against a
// real device with -tags hwdevice and an environment variable naming it.
//
// A row says what the host asks, which device state to provoke first, and
// what must come back: a valid signature from the device's account, or a
// coded error with nothing signed. Rows are vendor-neutral where the
// behaviour is (the same names for Ledger and Trezor rows); each vendor's
// test file adds a Device implementation and its own rows.
package hwtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/sdk/eip712"
)

// Fault is a device state a row provokes before its call.
type Fault string

// Faults. A Device that cannot produce one (a real Ledger cannot be
// downgraded) says so, and the row is skipped on that tier with the reason.
const (
	FaultNone              Fault = ""
	FaultRejectNext        Fault = "reject-next"         // the user declines the next confirmation
	FaultLocked            Fault = "locked"              // PIN screen up
	FaultAppClosed         Fault = "app-closed"          // Ledger: dashboard, no Ethereum app
	FaultBlindSigningOff   Fault = "blind-signing-off"   // Ledger: "Blind signing" setting off
	FaultOldFirmware       Fault = "old-firmware"        // too old for EIP-1559 (Ledger app 1.8.8, Trezor One < 1.10.4)
	FaultDisconnectMidSign Fault = "disconnect-mid-sign" // unplugged while the confirmation is on screen
	FaultSlowUser          Fault = "slow-user"           // the user takes seconds to confirm (cancellation rows)
)

// Device is one device under test: an emulator, an external emulator or a
// real device.
type Device interface {
	// Signer returns a fresh signer configured to reach the device.
	Signer(t *testing.T) sdk.Signer
	// Apply provokes f. It returns "" once the device is in that state, or
	// the reason this device cannot be put in it.
	Apply(t *testing.T, f Fault) (unavailable string)
	// Reset returns the device to the default state: unlocked, app open,
	// blind signing on, approving confirmations promptly.
	Reset(t *testing.T)
	// KnownAddress returns the address at path when the device's seed is
	// known (emulators, or a real device loaded with a test seed).
	KnownAddress(path string) (common.Address, bool)
	// Signatures counts the signatures the device delivered, when it can
	// tell; rows check it does not move when a call fails.
	Signatures() (int, bool)
}

// Scenario is one row of the table.
type Scenario struct {
	// Name is stable and shared across vendors where the behaviour is.
	Name string
	// Fault is provoked before the call (after a Reset).
	Fault Fault
	// Call makes the request and checks a successful result; it returns
	// the call's error untouched.
	Call func(ctx context.Context, t *testing.T, s sdk.Signer, dev Device) error
	// WantCode is the error code the call must return; empty means success.
	WantCode sdk.Code
	// Timeout bounds the call (default one minute; real devices wait for a
	// human). Cancellation rows set their own deadline inside Call.
	Timeout time.Duration
}

// Run runs rows in order against dev. Each row starts from Reset, provokes
// its fault, makes its call and checks the outcome; a failing call must not
// produce a signature.
func Run(t *testing.T, dev Device, rows []Scenario) {
	t.Helper()
	for _, row := range rows {
		t.Run(row.Name, func(t *testing.T) {
			dev.Reset(t)
			if row.Fault != FaultNone {
				if why := dev.Apply(t, row.Fault); why != "" {
					t.Skipf("this device cannot be put in state %q: %s", row.Fault, why)
				}
			}
			timeout := row.Timeout
			if timeout == 0 {
				timeout = time.Minute
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			before, counted := dev.Signatures()
			err := row.Call(ctx, t, dev.Signer(t), dev)
			if row.WantCode == "" {
				if err != nil {
					t.Fatalf("want success, got %v (code %s, hint %q)", err, sdk.CodeOf(err), hintOf(err))
				}
				return
			}
			if got := sdk.CodeOf(err); got != row.WantCode {
				t.Fatalf("want code %s, got %v (code %q)", row.WantCode, err, got)
			}
			if e := sdk.AsError(err); e.Hint == "" && row.WantCode != sdk.CodeCanceled {
				t.Errorf("error %s has no hint", row.WantCode)
			}
			if after, ok := dev.Signatures(); counted && ok && after != before {
				t.Errorf("the device delivered %d signature(s) on a failed call (%d -> %d)", after-before, before, after)
			}
		})
	}
}

func hintOf(err error) string {
	if e := sdk.AsError(err); e != nil {
		return e.Hint
	}
	return ""
}

// account asks the signer for the account at path and checks it against
// the device's known address, when there is one.
func account(ctx context.Context, t *testing.T, s sdk.Signer, dev Device, path string) (sdk.Account, error) {
	resp, err := s.Accounts(ctx, &sdk.AccountsRequest{Paths: []string{path}})
	if err != nil {
		return sdk.Account{}, err
	}
	if len(resp.Accounts) != 1 {
		t.Fatalf("Accounts returned %d accounts for one path", len(resp.Accounts))
	}
	a := resp.Accounts[0]
	if want, ok := dev.KnownAddress(path); ok && a.Address != want {
		t.Fatalf("address at %s: %s, want %s", path, a.Address.Hex(), want.Hex())
	}
	return a, nil
}

// DefaultPath is the account the signing rows use.
const DefaultPath = "m/44'/60'/0'/0/0"

// AddressRow checks the address at path (and that a second call agrees).
func AddressRow(path string) Scenario {
	return Scenario{Name: "address/" + path, Call: func(ctx context.Context, t *testing.T, s sdk.Signer, dev Device) error {
		a, err := account(ctx, t, s, dev, path)
		if err != nil {
			return err
		}
		b, err := account(ctx, t, s, dev, path)
		if err != nil {
			return err
		}
		if a.Address != b.Address || a.Path != path {
			t.Fatalf("unstable account: %+v then %+v", a, b)
		}
		return nil
	}}
}

// VerifyAddressRow shows the address on the device and waits for the user.
func VerifyAddressRow(path string) Scenario {
	return Scenario{Name: "address-verify/" + path, Call: func(ctx context.Context, t *testing.T, s sdk.Signer, dev Device) error {
		silent, err := account(ctx, t, s, dev, path)
		if err != nil {
			return err
		}
		resp, err := s.Accounts(ctx, &sdk.AccountsRequest{Paths: []string{path}, Verify: true})
		if err != nil {
			return err
		}
		if resp.Accounts[0].Address != silent.Address {
			t.Fatalf("verified address %s differs from %s", resp.Accounts[0].Address.Hex(), silent.Address.Hex())
		}
		return nil
	}}
}

// signTx signs tx for chainID with the default account and checks the
// signed transaction: same fields, sender = account, signature consistent.
func signTx(ctx context.Context, t *testing.T, s sdk.Signer, dev Device, chainID *big.Int, tx *types.Transaction) error {
	a, err := account(ctx, t, s, dev, DefaultPath)
	if err != nil {
		return err
	}
	unsigned, err := tx.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.SignTransaction(ctx, &sdk.SignTransactionRequest{Account: a, ChainID: chainID, Transaction: unsigned})
	if err != nil {
		if resp != nil && (len(resp.SignedTransaction) > 0 || len(resp.Signature) > 0) {
			t.Fatal("a signature came back with an error")
		}
		return err
	}
	signed := new(types.Transaction)
	if err := signed.UnmarshalBinary(resp.SignedTransaction); err != nil {
		t.Fatalf("signed transaction does not decode: %v", err)
	}
	signer := types.LatestSignerForChainID(chainID)
	if signed.Hash() == tx.Hash() || signer.Hash(signed) != signer.Hash(tx) {
		t.Fatal("the signed transaction is not the one asked for")
	}
	from, err := types.Sender(signer, signed)
	if err != nil || from != a.Address {
		t.Fatalf("sender %s (%v), want %s", from.Hex(), err, a.Address.Hex())
	}
	v, r, ss := signed.RawSignatureValues()
	if len(resp.Signature) != 65 || new(big.Int).SetBytes(resp.Signature[:32]).Cmp(r) != 0 || new(big.Int).SetBytes(resp.Signature[32:64]).Cmp(ss) != 0 {
		t.Fatalf("Signature %x does not match the signed transaction", resp.Signature)
	}
	if tx.Type() == types.LegacyTxType {
		want := new(big.Int).Add(new(big.Int).Mul(chainID, big.NewInt(2)), big.NewInt(35+int64(resp.Signature[64])))
		if v.Cmp(want) != 0 {
			t.Fatalf("legacy v = %s, want %s", v, want)
		}
	}
	return nil
}

var scenarioTo = common.HexToAddress("0x8eA7a3fccC211ED48b763b4164884DDbcF3b0A98")

// LegacyRow signs an EIP-155 transaction on chainID; the v byte of a Ledger
// overflows above chain id 109, of a Trezor above 2^31-19.
func LegacyRow(name string, chainID *big.Int) Scenario {
	return Scenario{Name: "legacy/" + name, Call: func(ctx context.Context, t *testing.T, s sdk.Signer, dev Device) error {
		return signTx(ctx, t, s, dev, chainID, types.NewTx(&types.LegacyTx{
			Nonce: 7, GasPrice: big.NewInt(20_000_000_000), Gas: 21000, To: &scenarioTo, Value: big.NewInt(10_000_000_000),
		}))
	}}
}

// EIP1559Row signs a dynamic-fee transaction with dataLen bytes of calldata
// (which needs blind signing on a Ledger).
func EIP1559Row(name string, dataLen int) Scenario {
	return Scenario{Name: "eip1559/" + name, Call: func(ctx context.Context, t *testing.T, s sdk.Signer, dev Device) error {
		return signTx(ctx, t, s, dev, big.NewInt(1), eip1559Tx(dataLen))
	}}
}

func eip1559Tx(dataLen int) *types.Transaction {
	data := make([]byte, dataLen)
	for i := range data {
		data[i] = byte(i*31 + 7)
	}
	return types.NewTx(&types.DynamicFeeTx{
		ChainID: big.NewInt(1), Nonce: 3, GasTipCap: big.NewInt(1_000_000_000), GasFeeCap: big.NewInt(30_000_000_000),
		Gas: 200_000, To: &scenarioTo, Value: big.NewInt(12345), Data: data,
	})
}

// EIP2930Row signs an access-list transaction.
func EIP2930Row() Scenario {
	return Scenario{Name: "eip2930/access-list", Call: func(ctx context.Context, t *testing.T, s sdk.Signer, dev Device) error {
		return signTx(ctx, t, s, dev, big.NewInt(137), types.NewTx(&types.AccessListTx{
			ChainID: big.NewInt(137), Nonce: 1, GasPrice: big.NewInt(30_000_000_000), Gas: 50_000, To: &scenarioTo,
			AccessList: types.AccessList{{Address: scenarioTo, StorageKeys: []common.Hash{{1}, {2}}}},
		}))
	}}
}

// PersonalRow signs an EIP-191 message.
func PersonalRow(name string, msg []byte) Scenario {
	return Scenario{Name: "personal-sign/" + name, Call: func(ctx context.Context, t *testing.T, s sdk.Signer, dev Device) error {
		return signMessage(ctx, t, s, dev, msg)
	}}
}

func signMessage(ctx context.Context, t *testing.T, s sdk.Signer, dev Device, msg []byte) error {
	a, err := account(ctx, t, s, dev, DefaultPath)
	if err != nil {
		return err
	}
	resp, err := s.SignMessage(ctx, &sdk.SignMessageRequest{Account: a, Message: msg})
	if err != nil {
		return err
	}
	checkSig(t, accounts.TextHash(msg), resp.Signature, a.Address)
	return nil
}

// checkSig checks r‖s‖v (v 27/28) recovers to want.
func checkSig(t *testing.T, digest, sig []byte, want common.Address) {
	t.Helper()
	if len(sig) != 65 || (sig[64] != 27 && sig[64] != 28) {
		t.Fatalf("signature %x: want 65 bytes ending in 27 or 28", sig)
	}
	rsv := append(append([]byte(nil), sig[:64]...), sig[64]-27)
	pub, err := crypto.SigToPub(digest, rsv)
	if err != nil || crypto.PubkeyToAddress(*pub) != want {
		t.Fatalf("signature does not recover to %s", want.Hex())
	}
}

// TypedDataRow signs an EIP-712 document.
func TypedDataRow(name, doc string) Scenario {
	return Scenario{Name: "eip712/" + name, Call: func(ctx context.Context, t *testing.T, s sdk.Signer, dev Device) error {
		return signTyped(ctx, t, s, dev, doc)
	}}
}

func signTyped(ctx context.Context, t *testing.T, s sdk.Signer, dev Device, doc string) error {
	a, err := account(ctx, t, s, dev, DefaultPath)
	if err != nil {
		return err
	}
	d, err := eip712.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.SignTypedData(ctx, &sdk.SignTypedDataRequest{Account: a, TypedData: []byte(doc), DomainSeparator: d.DomainSeparator, MessageHash: d.MessageHash})
	if err != nil {
		return err
	}
	checkSig(t, d.Digest(), resp.Signature, a.Address)
	return nil
}

// MailDoc is the EIP-712 "Ether Mail" example with nested structs and an
// array, which a device in full mode shows field by field.
const MailDoc = `{
 "types": {
  "EIP712Domain": [{"name":"name","type":"string"},{"name":"version","type":"string"},{"name":"chainId","type":"uint256"},{"name":"verifyingContract","type":"address"}],
  "Mail": [{"name":"from","type":"Person"},{"name":"to","type":"Person"},{"name":"contents","type":"string"}],
  "Person": [{"name":"name","type":"string"},{"name":"wallets","type":"address[]"}]
 },
 "primaryType": "Mail",
 "domain": {"name":"Ether Mail","version":"1","chainId":5,"verifyingContract":"0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"},
 "message": {
  "from": {"name":"Cow","wallets":["0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826","0xDeaDbeefdEAdbeefdEadbEEFdeadbeEFdEaDbeeF"]},
  "to": {"name":"Bob","wallets":["0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"]},
  "contents": "Hello, Bob!"
 }
}`

// LongListDoc has an array of 300 addresses: more than a Ledger takes in
// full mode (255 elements), so a Ledger signs it in the hashed mode.
func LongListDoc() string {
	addrs := make([]string, 300)
	for i := range addrs {
		addrs[i] = fmt.Sprintf("%q", common.BigToAddress(big.NewInt(int64(i+1))).Hex())
	}
	return `{
 "types": {
  "EIP712Domain": [{"name":"name","type":"string"},{"name":"chainId","type":"uint256"}],
  "Airdrop": [{"name":"recipients","type":"address[]"},{"name":"note","type":"string"}]
 },
 "primaryType": "Airdrop",
 "domain": {"name":"mm hwtest","chainId":1},
 "message": {"recipients": [` + strings.Join(addrs, ",") + `], "note": "hashed mode"}
}`
}

// CancelRow starts a signature, lets the user dawdle, and cancels the call
// as Ctrl-C would: CANCELED, nothing signed.
func CancelRow() Scenario {
	return Scenario{Name: "canceled-while-confirming", Fault: FaultSlowUser, WantCode: sdk.CodeCanceled,
		Call: func(ctx context.Context, t *testing.T, s sdk.Signer, dev Device) error {
			a, err := account(ctx, t, s, dev, DefaultPath)
			if err != nil {
				return err
			}
			short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			defer cancel()
			resp, err := s.SignMessage(short, &sdk.SignMessageRequest{Account: a, Message: []byte("never signed")})
			if resp != nil {
				t.Fatal("a response came back from a cancelled call")
			}
			if err == nil {
				return errors.New("the call was not cancelled")
			}
			return err
		}}
}

// CommonScenarios are the rows every signing device must pass.
func CommonScenarios() []Scenario {
	rows := []Scenario{
		AddressRow("m/44'/60'/0'/0/0"),
		AddressRow("m/44'/60'/0'/0/1"),
		AddressRow("m/44'/60'/1'/0/0"),
		AddressRow("m/44'/60'/0'/0'/0"),
		VerifyAddressRow("m/44'/60'/0'/0/0"),
		LegacyRow("chain-1", big.NewInt(1)),
		LegacyRow("chain-137", big.NewInt(137)),
		LegacyRow("chain-11155111", big.NewInt(11155111)),
		LegacyRow("chain-4294967311", big.NewInt(4294967311)), // above 2^32
		EIP1559Row("4KiB-calldata", 4096),
		EIP2930Row(),
		PersonalRow("ascii", []byte("hello from mm")),
		PersonalRow("binary-1KiB", bytes.Repeat([]byte{0x00, 0xff, 0x10, 0x80}, 256)),
		TypedDataRow("full", MailDoc),
		{Name: "rejected", Fault: FaultRejectNext, WantCode: sdk.CodeUserRejected,
			Call: func(ctx context.Context, t *testing.T, s sdk.Signer, dev Device) error {
				return signMessage(ctx, t, s, dev, []byte("rejected on the device"))
			}},
		{Name: "locked", Fault: FaultLocked, WantCode: sdk.CodeDeviceLocked,
			Call: func(ctx context.Context, t *testing.T, s sdk.Signer, dev Device) error {
				return signMessage(ctx, t, s, dev, []byte("locked"))
			}},
		{Name: "old-firmware/eip1559", Fault: FaultOldFirmware, WantCode: sdk.CodeTxTypeUnsupported,
			Call: func(ctx context.Context, t *testing.T, s sdk.Signer, dev Device) error {
				return signTx(ctx, t, s, dev, big.NewInt(1), eip1559Tx(0))
			}},
		{Name: "disconnect-mid-sign", Fault: FaultDisconnectMidSign, WantCode: sdk.CodeDeviceDisconnected,
			Call: func(ctx context.Context, t *testing.T, s sdk.Signer, dev Device) error {
				return signTx(ctx, t, s, dev, big.NewInt(1), eip1559Tx(0))
			}},
		CancelRow(),
	}
	return rows
}
