package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"

	emu "github.com/mm-wallet/mm/hwtest/ledger"
	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/sdk/hdpath"
)

var speculos0 = common.HexToAddress("0xDad77910DbDFdE764fC21FCD4E74D71bBACA6D8D")

func TestParsePath(t *testing.T) {
	for in, want := range map[string]string{
		"m/44'/60'/0'/0/0":       "m/44'/60'/0'/0/0",
		"m/44h/60H/1'/0/7":       "m/44'/60'/1'/0/7",
		"m/0":                    "m/0",
		"m/2147483647'":          "m/2147483647'",
		"m/1/2/3/4/5/6/7/8/9/10": "m/1/2/3/4/5/6/7/8/9/10",
	} {
		p, err := ParsePath(in)
		if err != nil || p.String() != want {
			t.Errorf("%s: %v %v", in, p, err)
		}
	}
	for _, in := range []string{"", "m", "m/", "44'/60'", "m/-1", "m/1''", "m/0x10", "m/ 1", "M/44'"} {
		if _, err := ParsePath(in); sdk.CodeOf(err) != sdk.CodeInvalidDerivationPath {
			t.Errorf("%q: %v, want INVALID_DERIVATION_PATH", in, err)
		}
	}
}

func TestDerivations(t *testing.T) {
	v := loadVectors(t)
	_, addr := newEmulator(t, emu.Options{})
	for _, c := range []struct {
		deriv hdpath.Scheme
		index uint32
		path  string
	}{
		{hdpath.BIP44, 1, "m/44'/60'/0'/0/1"},
		{hdpath.Live, 1, "m/44'/60'/1'/0/0"},
		{hdpath.Live, 0, "m/44'/60'/0'/0/0"},
		{hdpath.Legacy, 0, "m/44'/60'/0'/0"},
	} {
		s := newSigner(t, "tcp://"+addr, SettingDerivation, string(c.deriv))
		resp, err := s.Accounts(context.Background(), &sdk.AccountsRequest{Indices: []uint32{c.index}})
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.Accounts[0]; got.Path != c.path {
			t.Errorf("%s index %d: path %s, want %s", c.deriv, c.index, got.Path, c.path)
		} else if want, ok := v.Derived[c.path]; ok && got.Address != common.HexToAddress(want.Address) {
			t.Errorf("%s: %s, want %s", c.path, got.Address.Hex(), want.Address)
		}
	}
}

// TestIssue409 signs legacy transactions whose calldata ends on every
// offset around the chunk boundaries. The emulator reproduces app-ethereum
// #409 (a chunk ending right after the calldata makes the app sign early,
// with chain id 0), so a driver that let a chunk end there would fail here.
func TestIssue409(t *testing.T) {
	_, addr := newEmulator(t, emu.Options{})
	s := newSigner(t, "tcp://"+addr)
	acct := sdk.Account{Address: speculos0, Path: "m/44'/60'/0'/0/0"}
	to := common.HexToAddress("0x8eA7a3fccC211ED48b763b4164884DDbcF3b0A98")
	for n := 60; n <= 330; n++ {
		unsigned, _ := types.NewTx(&types.LegacyTx{Nonce: 1, GasPrice: big.NewInt(1e9), Gas: 100000, To: &to, Data: make([]byte, n)}).MarshalBinary()
		if _, err := s.SignTransaction(context.Background(), &sdk.SignTransactionRequest{Account: acct, ChainID: big.NewInt(1), Transaction: unsigned}); err != nil {
			t.Fatalf("%d bytes of calldata: %v", n, err)
		}
	}

	// The quirk itself: cut the same kind of payload right after the
	// calldata and the emulator answers the first chunk with a signature.
	tx := types.NewTx(&types.LegacyTx{Nonce: 1, GasPrice: big.NewInt(1e9), Gas: 100000, To: &to, Data: make([]byte, 80)})
	unsigned, _ := tx.MarshalBinary()
	_, payload, tail, err := signingPayload(&sdk.SignTransactionRequest{ChainID: big.NewInt(1), Transaction: unsigned})
	if err != nil {
		t.Fatal(err)
	}
	d, err := Open(context.Background(), "tcp://"+addr)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	path := mustPath(t, "m/44'/60'/0'/0/0")
	cut := len(payload) - tail
	first := append(encodePath(path), payload[:cut]...)
	data, sw, err := d.exchange(context.Background(), "naive", claEth, insSignTx, p1First, 0, first)
	if err != nil || sw != swOK || len(data) != 65 {
		t.Fatalf("naive chunking: %x %04x %v — the emulator no longer reproduces #409", data, sw, err)
	}
	// And the driver's chunking never cuts there.
	off := 0
	for i, blk := range chunks(path, nil, payload, tail) {
		if i == 0 {
			off += len(blk) - len(encodePath(path))
		} else {
			off += len(blk)
		}
		if off == cut {
			t.Fatalf("chunk %d ends right after the calldata", i)
		}
	}
}

func TestInfoFollowsAppVersion(t *testing.T) {
	for _, c := range []struct {
		version string
		txs     []sdk.TxType
		typed   sdk.TypedDataMode
	}{
		{"1.19.1", []sdk.TxType{sdk.TxLegacy, sdk.TxEIP2930, sdk.TxEIP1559, sdk.TxEIP7702}, sdk.TypedDataFull},
		{"1.10.0", []sdk.TxType{sdk.TxLegacy, sdk.TxEIP2930, sdk.TxEIP1559}, sdk.TypedDataFull},
		{"1.9.18", []sdk.TxType{sdk.TxLegacy, sdk.TxEIP2930, sdk.TxEIP1559}, sdk.TypedDataHashed},
		{"1.8.8", []sdk.TxType{sdk.TxLegacy}, sdk.TypedDataHashed},
		{"1.4.0", []sdk.TxType{sdk.TxLegacy}, sdk.TypedDataNone},
	} {
		_, addr := newEmulator(t, emu.Options{AppVersion: c.version, Model: "stax"})
		info, err := newSigner(t, "tcp://"+addr+"?model=stax").Info(context.Background(), &sdk.InfoRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if info.Kind != sdk.KindHardware || info.Model != "Stax" || info.Name != Name ||
			info.Capabilities.TypedData != c.typed || len(info.Capabilities.TxTypes) != len(c.txs) {
			t.Errorf("app %s: %+v", c.version, info)
		}
		for _, tt := range c.txs {
			if !info.Capabilities.SupportsTx(tt) {
				t.Errorf("app %s: missing %s", c.version, tt)
			}
		}
	}
}

func TestEIP7702(t *testing.T) {
	e, addr := newEmulator(t, emu.Options{})
	s := newSigner(t, "tcp://"+addr)
	acct := sdk.Account{Address: speculos0, Path: "m/44'/60'/0'/0/0"}
	delegate := common.HexToAddress("0x63c0c19a282a1B52b07dD5a65b58948A07DAE32B")
	for _, chain := range []*big.Int{big.NewInt(0), big.NewInt(1), new(big.Int).SetUint64(^uint64(0))} {
		resp, err := s.SignAuthorization(context.Background(), &sdk.SignAuthorizationRequest{Account: acct, ChainID: chain, Delegate: delegate, Nonce: 9})
		if err != nil {
			t.Fatal(err)
		}
		auth := types.SetCodeAuthorization{ChainID: *uint256.MustFromBig(chain), Address: delegate, Nonce: 9,
			V: resp.Signature[64], R: *new(uint256.Int).SetBytes(resp.Signature[:32]), S: *new(uint256.Int).SetBytes(resp.Signature[32:64])}
		if who, err := auth.Authority(); err != nil || who != speculos0 {
			t.Fatalf("chain %s: authority %s, %v", chain, who.Hex(), err)
		}
	}
	// A set-code transaction carrying such an authorization.
	to := common.HexToAddress("0x8eA7a3fccC211ED48b763b4164884DDbcF3b0A98")
	tx := types.NewTx(&types.SetCodeTx{ChainID: uint256.NewInt(1), Nonce: 2, GasTipCap: uint256.NewInt(1), GasFeeCap: uint256.NewInt(2), Gas: 90000, To: to,
		Value: uint256.NewInt(0), AuthList: []types.SetCodeAuthorization{{ChainID: *uint256.NewInt(1), Address: delegate, Nonce: 3}}})
	unsigned, _ := tx.MarshalBinary()
	resp, err := s.SignTransaction(context.Background(), &sdk.SignTransactionRequest{Account: acct, ChainID: big.NewInt(1), Transaction: unsigned})
	if err != nil {
		t.Fatal(err)
	}
	signed := new(types.Transaction)
	if err := signed.UnmarshalBinary(resp.SignedTransaction); err != nil {
		t.Fatal(err)
	}
	if from, err := types.Sender(types.LatestSignerForChainID(big.NewInt(1)), signed); err != nil || from != speculos0 {
		t.Fatalf("sender %s, %v", from.Hex(), err)
	}
	// The app setting off: EIP7702_DISABLED, nothing signed.
	e.Set7702(false)
	before := e.Stats().Signatures
	_, err = s.SignAuthorization(context.Background(), &sdk.SignAuthorizationRequest{Account: acct, ChainID: big.NewInt(1), Delegate: delegate})
	if sdk.CodeOf(err) != CodeEIP7702Disabled || e.Stats().Signatures != before {
		t.Fatalf("setting off: %v", err)
	}
	// An app too old: UNSUPPORTED before anything reaches the device.
	if err := e.SetAppVersion("1.16.0"); err != nil {
		t.Fatal(err)
	}
	_, err = s.SignAuthorization(context.Background(), &sdk.SignAuthorizationRequest{Account: acct, ChainID: big.NewInt(1), Delegate: delegate})
	if sdk.CodeOf(err) != sdk.CodeUnsupported {
		t.Fatalf("old app: %v", err)
	}
}

func TestDeviceStatus(t *testing.T) {
	e, addr := newEmulator(t, emu.Options{Model: "flex"})
	uri := "tcp://" + addr + "?model=flex"
	ctx := context.Background()
	check := func(what string, want Status) {
		t.Helper()
		got, err := DeviceStatus(ctx, uri)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		want.Vendor, want.Model, want.Transport, want.URI = "Ledger", "Flex", "tcp", uri
		if *got != want {
			t.Errorf("%s:\n got %+v\nwant %+v", what, *got, want)
		}
	}
	check("open", Status{App: "Ethereum", AppVersion: emu.DefaultAppVersion, BlindSigning: true})
	e.SetBlindSigning(false)
	check("blind off", Status{App: "Ethereum", AppVersion: emu.DefaultAppVersion})
	e.SetAppOpen(false)
	check("dashboard", Status{App: "BOLOS", AppVersion: "1.1.2"})
	e.SetLocked(true)
	check("locked", Status{Locked: true})

	list, err := ListDevices(ctx, uri, "tcp://127.0.0.1:1")
	if sdk.CodeOf(err) != sdk.CodeDeviceNotFound || len(list) != 1 || !list[0].Locked {
		t.Fatalf("ListDevices: %+v, %v", list, err)
	}
}

func TestNotFoundAndBadURI(t *testing.T) {
	ctx := context.Background()
	s := newSigner(t, "tcp://127.0.0.1:1")
	_, err := s.Accounts(ctx, &sdk.AccountsRequest{Indices: []uint32{0}})
	if e := sdk.AsError(err); e == nil || e.Code != sdk.CodeDeviceNotFound || !strings.Contains(e.Hint, "ledger-emulator") {
		t.Fatalf("closed port: %v", err)
	}
	// Info still answers without a device.
	if info, err := s.Info(ctx, &sdk.InfoRequest{}); err != nil || info.Name != Name {
		t.Fatalf("Info without a device: %+v, %v", info, err)
	}
}

// TestCancelAtTheDevice cancels while the device waits for the user: the
// call ends at once with CANCELED and no signature reaches the host.
func TestCancelAtTheDevice(t *testing.T) {
	for _, wire := range []string{"tcp", "hid"} {
		e, addr := newEmulator(t, emu.Options{ConfirmDelay: 5 * time.Second})
		uri := "tcp://" + addr
		if wire == "hid" {
			uri = e.HIDURI()
		}
		s := newSigner(t, uri)
		p := &recorder{}
		ctx, cancel := context.WithCancel(sdk.WithPrompter(context.Background(), p))
		p.onWait = func() { time.AfterFunc(50*time.Millisecond, cancel) }
		start := time.Now()
		resp, err := s.SignMessage(ctx, &sdk.SignMessageRequest{Account: sdk.Account{Path: "m/44'/60'/0'/0/0"}, Message: []byte("ctrl-c")})
		if resp != nil || sdk.CodeOf(err) != sdk.CodeCanceled || !errors.Is(err, sdk.ErrCanceled) {
			t.Fatalf("%s: %v", wire, err)
		}
		if time.Since(start) > 4*time.Second {
			t.Fatalf("%s: cancellation waited for the device", wire)
		}
		time.Sleep(100 * time.Millisecond) // let the emulator notice the host left
		if st := e.Stats(); st.Signatures != 0 || st.Confirmations != 1 {
			t.Fatalf("%s: %+v", wire, st)
		}
		p.mu.Lock()
		if len(p.waits) != 2 || p.waits[0].Done || !p.waits[1].Done || !strings.Contains(p.waits[0].Message, "confirm on your Ledger") {
			t.Errorf("%s: prompts %+v", wire, p.waits)
		}
		p.mu.Unlock()
	}
}

// TestTypedDataModes: full mode on a current app; the hashed mode with a
// warning on an app before 1.9.19; BLIND_SIGNING_DISABLED there when the
// setting is off (the v0 mode is blind signing).
func TestTypedDataModes(t *testing.T) {
	doc, err := os.ReadFile("testdata/eip712-mail.json")
	if err != nil {
		t.Fatal(err)
	}
	enc, err := EncodeTypedData(doc)
	if err != nil {
		t.Fatal(err)
	}
	req := &sdk.SignTypedDataRequest{Account: sdk.Account{Address: speculos0, Path: "m/44'/60'/0'/0/0"}, TypedData: doc, DomainSeparator: enc.Domain, MessageHash: enc.Message}
	digest := crypto.Keccak256([]byte{0x19, 0x01}, enc.Domain[:], enc.Message[:])
	for _, c := range []struct {
		version  string
		blind    bool
		warn     bool
		wantCode sdk.Code
	}{
		{"1.19.1", false, false, ""}, // full mode needs no blind signing
		{"1.9.18", true, true, ""},
		{"1.9.18", false, true, sdk.CodeBlindSigningDisabled},
		{"1.4.0", true, false, sdk.CodeUnsupported},
	} {
		_, addr := newEmulator(t, emu.Options{AppVersion: c.version, DisableBlindSigning: !c.blind})
		p := &recorder{}
		resp, err := newSigner(t, "tcp://"+addr).SignTypedData(sdk.WithPrompter(context.Background(), p), req)
		if sdk.CodeOf(err) != c.wantCode {
			t.Fatalf("app %s blind %v: %v", c.version, c.blind, err)
		}
		if err == nil {
			sig := append(append([]byte(nil), resp.Signature[:64]...), resp.Signature[64]-27)
			pub, err := crypto.SigToPub(digest, sig)
			if err != nil || crypto.PubkeyToAddress(*pub) != speculos0 {
				t.Fatalf("app %s: bad signature", c.version)
			}
		}
		warned := len(p.notices) == 1 && p.notices[0].Level == sdk.LevelWarning && strings.Contains(p.notices[0].Message, enc.Domain.Hex())
		if warned != c.warn {
			t.Errorf("app %s: notices %+v", c.version, p.notices)
		}
	}
}

// badCase is one file of testdata/bad: a request the signer must refuse
// with code, without a signature and without the device being asked to
// confirm anything.
type badCase struct {
	Call      string            `json:"call"`
	Paths     []string          `json:"paths"`
	Indices   []uint32          `json:"indices"`
	Settings  map[string]string `json:"settings"`
	ChainID   string            `json:"chainId"`
	Tx        string            `json:"tx"`
	Path      string            `json:"path"`
	Address   string            `json:"address"`
	TypedData string            `json:"typedData"`
	Domain    string            `json:"domain"`
	Message   string            `json:"message"`
	Hashes    string            `json:"hashes"`
	Code      sdk.Code          `json:"code"`
}

func TestBadInput(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.json")
	if err != nil || len(files) < 20 {
		t.Fatalf("%d bad-input files, %v", len(files), err)
	}
	e, addr := newEmulator(t, emu.Options{})
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var c badCase
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&c); err != nil || c.Code == "" {
				t.Fatalf("bad test file: %v", err)
			}
			s := newSigner(t, "tcp://"+addr)
			before := e.Stats()
			var resp any
			ctx := context.Background()
			acct := sdk.Account{Address: speculos0, Path: "m/44'/60'/0'/0/0"}
			if c.Path == "-" {
				acct.Path = ""
			}
			if c.Address != "" {
				acct.Address = common.HexToAddress(c.Address)
			}
			chain, _ := new(big.Int).SetString(c.ChainID, 10)
			switch c.Call {
			case "accounts":
				resp, err = s.Accounts(ctx, &sdk.AccountsRequest{Paths: c.Paths, Indices: c.Indices})
			case "configure":
				resp, err = s.Configure(ctx, &sdk.ConfigureRequest{Settings: c.Settings})
			case "signTransaction":
				tx, _ := hexutil.Decode(c.Tx)
				if c.Tx == "" {
					tx = nil
				}
				resp, err = s.SignTransaction(ctx, &sdk.SignTransactionRequest{Account: acct, ChainID: chain, Transaction: tx})
			case "signTypedData":
				req := &sdk.SignTypedDataRequest{Account: acct, TypedData: []byte(c.TypedData), DomainSeparator: common.HexToHash(c.Domain)}
				if c.Message != "" {
					h := common.HexToHash(c.Message)
					req.MessageHash = &h
				}
				if c.Hashes == "compute" {
					if enc, err := EncodeTypedData(req.TypedData); err == nil {
						req.DomainSeparator, req.MessageHash = enc.Domain, enc.Message
					}
				}
				resp, err = s.SignTypedData(ctx, req)
			case "signAuthorization":
				resp, err = s.SignAuthorization(ctx, &sdk.SignAuthorizationRequest{Account: acct, ChainID: chain})
			default:
				t.Fatalf("unknown call %q", c.Call)
			}
			if sdk.CodeOf(err) != c.Code {
				t.Fatalf("code %q (%v), want %s", sdk.CodeOf(err), err, c.Code)
			}
			if e := sdk.AsError(err); e.Message == "" || e.Hint == "" {
				t.Errorf("error without message or hint: %+v", e)
			}
			if !isNil(resp) {
				t.Fatalf("a response came back with the error: %+v", resp)
			}
			if after := e.Stats(); after.Confirmations != before.Confirmations || after.Signatures != before.Signatures {
				t.Fatalf("the device was asked to confirm or sign: %+v -> %+v", before, after)
			}
		})
	}
}

func isNil(v any) bool {
	switch r := v.(type) {
	case nil:
		return true
	case *sdk.AccountsResponse:
		return r == nil
	case *sdk.ConfigureResponse:
		return r == nil
	case *sdk.SignTransactionResponse:
		return r == nil
	case *sdk.SignTypedDataResponse:
		return r == nil
	case *sdk.SignAuthorizationResponse:
		return r == nil
	}
	return false
}
