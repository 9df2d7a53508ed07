package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/holiman/uint256"

	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/sdk/eip712"
	"github.com/mm-wallet/mm/sdk/hdpath"
	"github.com/mm-wallet/mm/signers/transport"
)

// Name is the signer's name; Version its version.
const (
	Name    = "ledger"
	Version = "0.1.0"
)

// DefaultDevice is the device URI used until Configure names one: the first
// Ledger on USB.
const DefaultDevice = "hid://ledger"

// Settings keys understood by Configure.
const (
	// SettingDevice is the device URI: hid://ledger[/<model>][?path=…] for
	// USB, tcp://HOST:PORT[?model=<slug>] for Speculos or hwtest's emulator.
	SettingDevice = "device"
	// SettingDerivation is the scheme that resolves AccountsRequest.Indices:
	// bip44 (default) m/44'/60'/0'/0/x, live m/44'/60'/x'/0/0, legacy
	// m/44'/60'/0'/x.
	SettingDerivation = "derivation"
)

// Signer is the Ledger Ethereum-app signer. Every call opens the device,
// checks which app is open and its version, does its work and closes the
// device again, so an app opened or closed between calls (which makes a
// Ledger re-enumerate on USB) is always seen. Calls on one device are
// serialised across the process: a Ledger answers one command at a time.
type Signer struct {
	cfgMu      sync.RWMutex
	uri        string
	derivation hdpath.Scheme
}

var (
	_ sdk.Signer     = (*Signer)(nil)
	_ sdk.Configurer = (*Signer)(nil)
	_ sdk.Authorizer = (*Signer)(nil)
)

// New returns a Ledger signer reaching DefaultDevice with the bip44 scheme
// until configured otherwise. It is the built-in plugin factory.
func New() *Signer {
	return &Signer{uri: DefaultDevice, derivation: hdpath.BIP44}
}

// Configure takes the settings "device" and "derivation". It does not touch
// the device, which may not be connected yet.
func (s *Signer) Configure(_ context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	if req == nil {
		return nil, sdk.NewError(sdk.CodeInvalidRequest, "ledger: configure: nil request", "")
	}
	uri, deriv := "", hdpath.Scheme("")
	for k, v := range req.Settings {
		switch k {
		case SettingDevice:
			if err := checkURI(v); err != nil {
				return nil, err
			}
			uri = v
		case SettingDerivation:
			d, err := hdpath.ParseScheme(v)
			if err != nil {
				return nil, err
			}
			deriv = d
		default:
			return nil, sdk.NewError(sdk.CodeInvalidRequest, fmt.Sprintf("ledger: configure: unknown setting %q", k),
				"the Ledger signer takes the settings device and derivation")
		}
	}
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	if uri != "" {
		s.uri = uri
	}
	if deriv != "" {
		s.derivation = deriv
	}
	return &sdk.ConfigureResponse{}, nil
}

func checkURI(v string) error {
	u, err := url.Parse(v)
	ok := err == nil && u.Scheme != ""
	if ok {
		ok = false
		for _, s := range transport.Schemes() {
			ok = ok || s == u.Scheme
		}
	}
	if !ok {
		return sdk.NewError(sdk.CodeInvalidRequest, fmt.Sprintf("ledger: configure: bad device URI %q", v),
			"use hid://ledger[/<model>] for USB, or tcp://HOST:PORT for Speculos or the emulator")
	}
	return nil
}

func (s *Signer) config() (string, hdpath.Scheme) {
	s.cfgMu.RLock()
	defer s.cfgMu.RUnlock()
	return s.uri, s.derivation
}

// session opens the device, makes sure the Ethereum app is open, reads its
// configuration and runs fn. The device is closed afterwards.
func (s *Signer) session(ctx context.Context, what string, fn func(d *Device, cfg AppConfig) error) error {
	if err := ctx.Err(); err != nil {
		return &sdk.Error{Code: sdk.CodeCanceled, Message: "ledger: " + what + ": canceled; nothing was signed", Err: err}
	}
	uri, _ := s.config()
	unlock := lockDevice(uri)
	defer unlock()
	d, err := Open(ctx, uri)
	if err != nil {
		return err
	}
	defer d.Close()
	cfg, err := d.checkApp(ctx)
	if err != nil {
		return err
	}
	return fn(d, cfg)
}

// deviceLocks serialises sessions on one device across every Signer of the
// process: a Ledger has a single set of flow registers, so two signers
// interleaving their APDUs would corrupt each other's transactions.
var deviceLocks sync.Map // URI → *sync.Mutex

func lockDevice(uri string) func() {
	m, _ := deviceLocks.LoadOrStore(uri, new(sync.Mutex))
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

// checkApp asks the OS which app is open (the dashboard answers "BOLOS"),
// then reads the app configuration.
func (d *Device) checkApp(ctx context.Context) (AppConfig, error) {
	info, err := d.AppAndVersion(ctx)
	if err == nil && info.Name == "BOLOS" {
		return AppConfig{}, &sdk.Error{Code: sdk.CodeAppNotOpen,
			Message: fmt.Sprintf("ledger: the %s shows its dashboard: the Ethereum app is not open", d.deviceName()), Hint: hintAppNotOpen}
	}
	if err != nil && sdk.CodeOf(err) != sdk.CodeAppNotOpen {
		return AppConfig{}, err // locked, disconnected…; an old OS without B0 01 falls through
	}
	cfg, err := d.AppConfiguration(ctx)
	if err != nil {
		if sdk.CodeOf(err) == sdk.CodeAppNotOpen && info.Name != "" {
			return AppConfig{}, &sdk.Error{Code: sdk.CodeAppNotOpen,
				Message: fmt.Sprintf("ledger: the %q app is open on the %s, not Ethereum", info.Name, d.deviceName()), Hint: hintAppNotOpen}
		}
		return AppConfig{}, err
	}
	return cfg, nil
}

// Info describes the signer. With the device reachable, the capabilities
// are those of its Ethereum app version; without it, those of a current app.
func (s *Signer) Info(ctx context.Context, _ *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	resp := &sdk.InfoResponse{Name: Name, Version: Version, ProtocolVersion: sdk.ProtocolVersion, Kind: sdk.KindHardware}
	version := AppVersion{255, 0, 0}
	probe, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_ = s.session(probe, "info", func(d *Device, cfg AppConfig) error {
		version = cfg.Version
		resp.Model = d.Model
		return nil
	})
	resp.Capabilities = capabilities(version)
	return resp, nil
}

func capabilities(v AppVersion) sdk.Capabilities {
	c := sdk.Capabilities{TxTypes: []sdk.TxType{sdk.TxLegacy}, PersonalMessage: true, TypedData: sdk.TypedDataNone}
	if v.AtLeast(minTypedTx.Major, minTypedTx.Minor, minTypedTx.Patch) {
		c.TxTypes = append(c.TxTypes, sdk.TxEIP2930, sdk.TxEIP1559)
	}
	if v.AtLeast(minEIP7702.Major, minEIP7702.Minor, minEIP7702.Patch) {
		c.TxTypes = append(c.TxTypes, sdk.TxEIP7702)
	}
	switch {
	case v.AtLeast(minEIP712Full.Major, minEIP712Full.Minor, minEIP712Full.Patch):
		c.TypedData = sdk.TypedDataFull
	case v.AtLeast(minEIP712Hash.Major, minEIP712Hash.Minor, minEIP712Hash.Patch):
		c.TypedData = sdk.TypedDataHashed
	}
	return c
}

// Accounts returns the addresses at the requested paths, then at the
// requested indices under the configured derivation scheme. With Verify,
// each address is shown on the device and must be confirmed there.
func (s *Signer) Accounts(ctx context.Context, req *sdk.AccountsRequest) (*sdk.AccountsResponse, error) {
	if req == nil {
		return nil, sdk.NewError(sdk.CodeInvalidRequest, "ledger: accounts: nil request", "")
	}
	_, deriv := s.config()
	var paths []Path
	for _, ps := range req.Paths {
		p, err := ParsePath(ps)
		if err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	for _, i := range req.Indices {
		p, err := deriv.Path(i)
		if err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	out := &sdk.AccountsResponse{Accounts: []sdk.Account{}}
	if len(paths) == 0 {
		return out, nil
	}
	err := s.session(ctx, "accounts", func(d *Device, _ AppConfig) error {
		for _, p := range paths {
			ai, err := d.Address(ctx, p, req.Verify, false)
			if err != nil {
				return err
			}
			out.Accounts = append(out.Accounts, sdk.Account{Address: ai.Address, Path: p.String()})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// accountPath checks the request's account before the device is touched.
func accountPath(a sdk.Account) (Path, error) {
	if a.Path == "" {
		return nil, sdk.NewError(sdk.CodeUnknownAccount,
			fmt.Sprintf("ledger: account %s has no derivation path", a.Address.Hex()),
			"sign with an account listed by the Ledger signer: it carries its derivation path")
	}
	return ParsePath(a.Path)
}

// resolve asks the device for the address at path and checks it is the
// account's.
func resolve(ctx context.Context, d *Device, a sdk.Account, path Path) (common.Address, error) {
	ai, err := d.Address(ctx, path, false, false)
	if err != nil {
		return common.Address{}, err
	}
	if a.Address != (common.Address{}) && a.Address != ai.Address {
		return common.Address{}, sdk.NewError(sdk.CodeUnknownAccount,
			fmt.Sprintf("ledger: account %s is not at %s on this device (it holds %s there)", a.Address.Hex(), path, ai.Address.Hex()),
			"check that the right Ledger (and passphrase) is connected, or list the accounts again")
	}
	return ai.Address, nil
}

// SignTransaction signs a legacy (EIP-155), EIP-2930, EIP-1559 or EIP-7702
// transaction. The device's v is turned into the y-parity by recovering the
// signer, which must be the account; for legacy transactions the full v is
// then chainId*2+35+parity in big integers, whatever the chain id.
func (s *Signer) SignTransaction(ctx context.Context, req *sdk.SignTransactionRequest) (*sdk.SignTransactionResponse, error) {
	if req == nil {
		return nil, sdk.NewError(sdk.CodeInvalidRequest, "ledger: sign tx: nil request", "")
	}
	path, err := accountPath(req.Account)
	if err != nil {
		return nil, err
	}
	tx, payload, tail, err := signingPayload(req)
	if err != nil {
		return nil, err
	}
	chainID := new(big.Int).Set(req.ChainID)
	signer := types.LatestSignerForChainID(chainID)
	hash := crypto.Keccak256(payload)
	if !bytes.Equal(hash, signer.Hash(tx).Bytes()) {
		return nil, sdk.NewError(sdk.CodeInternal, "ledger: sign tx: signing payload does not hash like the transaction", "")
	}
	var resp *sdk.SignTransactionResponse
	err = s.session(ctx, "sign tx", func(d *Device, cfg AppConfig) error {
		if err := checkTxVersion(tx.Type(), cfg.Version); err != nil {
			return err
		}
		from, err := resolve(ctx, d, req.Account, path)
		if err != nil {
			return err
		}
		raw, err := d.SignTx(ctx, path, payload, tail, !cfg.BlindSigning())
		if err != nil {
			return err
		}
		parity, err := recoverParity(hash, raw, from)
		if err != nil {
			return err
		}
		if want := deviceV(tx.Type(), chainID, parity); raw[0] != want {
			return badReply("sign tx", "v byte %#x, expected %#x for parity %d", raw[0], want, parity)
		}
		sig := append(append([]byte(nil), raw[1:65]...), parity)
		signed, err := tx.WithSignature(signer, sig)
		if err != nil {
			return sdk.Errorf(sdk.CodeInternal, "ledger: sign tx: attach signature: %w", err)
		}
		if got, err := types.Sender(signer, signed); err != nil || got != from {
			return badReply("sign tx", "signed transaction does not recover to %s", from.Hex())
		}
		enc, err := signed.MarshalBinary()
		if err != nil {
			return sdk.Errorf(sdk.CodeInternal, "ledger: sign tx: encode: %w", err)
		}
		resp = &sdk.SignTransactionResponse{SignedTransaction: enc, Signature: sig}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// signingPayload decodes the unsigned transaction and builds the bytes the
// device hashes: rlp(nonce, gasPrice, gas, to, value, data, chainId, 0, 0)
// for legacy transactions, type ‖ rlp(fields) for typed ones. tail is the
// length of the legacy chainId,0,0 tail (0 for typed transactions).
func signingPayload(req *sdk.SignTransactionRequest) (*types.Transaction, []byte, int, error) {
	invalid := func(format string, args ...any) error {
		return sdk.NewError(sdk.CodeInvalidTransaction, "ledger: sign tx: "+fmt.Sprintf(format, args...),
			"pass the unsigned transaction as go-ethereum's MarshalBinary encodes it")
	}
	if req.ChainID == nil || req.ChainID.Sign() <= 0 {
		return nil, nil, 0, sdk.NewError(sdk.CodeInvalidRequest, "ledger: sign tx: chain id missing or not positive",
			"give the chain id the transaction is for; mm never signs replayable (pre-EIP-155) transactions")
	}
	if len(req.Transaction) == 0 {
		return nil, nil, 0, invalid("empty transaction")
	}
	tx := new(types.Transaction)
	if err := tx.UnmarshalBinary(req.Transaction); err != nil {
		return nil, nil, 0, invalid("cannot decode: %v", err)
	}
	if v, r, s := tx.RawSignatureValues(); v.Sign() != 0 || r.Sign() != 0 || s.Sign() != 0 {
		return nil, nil, 0, invalid("the transaction is already signed")
	}
	switch tx.Type() {
	case types.LegacyTxType:
		to := []byte{}
		if tx.To() != nil {
			to = tx.To().Bytes()
		}
		payload, err := rlp.EncodeToBytes([]any{tx.Nonce(), tx.GasPrice(), tx.Gas(), to, tx.Value(), tx.Data(), req.ChainID, uint(0), uint(0)})
		if err != nil {
			return nil, nil, 0, invalid("encode: %v", err)
		}
		idEnc, _ := rlp.EncodeToBytes(req.ChainID)
		return tx, payload, len(idEnc) + 2, nil
	case types.AccessListTxType, types.DynamicFeeTxType, types.SetCodeTxType:
		if tx.ChainId().Cmp(req.ChainID) != 0 {
			return nil, nil, 0, sdk.NewError(sdk.CodeInvalidTransaction,
				fmt.Sprintf("ledger: sign tx: the transaction is for chain %s, the request for chain %s", tx.ChainId(), req.ChainID),
				"build the transaction for the chain you sign for")
		}
		var items []rlp.RawValue
		if err := rlp.DecodeBytes(req.Transaction[1:], &items); err != nil || len(items) < 3 {
			return nil, nil, 0, invalid("bad typed envelope")
		}
		body, err := rlp.EncodeToBytes(items[:len(items)-3])
		if err != nil {
			return nil, nil, 0, invalid("encode: %v", err)
		}
		return tx, append([]byte{tx.Type()}, body...), 0, nil
	}
	return nil, nil, 0, sdk.NewError(sdk.CodeUnsupported,
		fmt.Sprintf("ledger: sign tx: transaction type %d is not supported by the Ledger Ethereum app", tx.Type()),
		"use a legacy, EIP-2930, EIP-1559 or EIP-7702 transaction")
}

func checkTxVersion(typ byte, v AppVersion) error {
	need, what := AppVersion{}, ""
	switch typ {
	case types.AccessListTxType, types.DynamicFeeTxType:
		need, what = minTypedTx, "EIP-2930 and EIP-1559 transactions"
	case types.SetCodeTxType:
		need, what = minEIP7702, "EIP-7702 transactions"
	default:
		return nil
	}
	if v.AtLeast(need.Major, need.Minor, need.Patch) {
		return nil
	}
	return &sdk.Error{Code: sdk.CodeTxTypeUnsupported,
		Message: fmt.Sprintf("ledger: sign tx: Ethereum app %s cannot sign %s (needs %s or newer)", v, what, need),
		Hint:    hintUpdateApp}
}

// deviceV is the v byte the app sends for a given parity: the parity for
// typed transactions; for legacy ones the low 8 bits of chainId32*2+35+parity
// computed in uint32, chainId32 being the first (most significant) four bytes
// of the chain id (ui_common_sign_tx.c).
func deviceV(typ byte, chainID *big.Int, parity byte) byte {
	if typ != types.LegacyTxType {
		return parity
	}
	b := chainID.Bytes()
	if len(b) > 4 {
		b = b[:4]
	}
	var c uint32
	for _, x := range b {
		c = c<<8 | uint32(x)
	}
	return byte(c*2 + 35 + uint32(parity))
}

// recoverParity finds the y-parity for which the device's r and s recover
// to want. It never trusts the v byte alone: chain ids above 109 overflow
// it, and a wrong answer would produce a transaction from someone else.
func recoverParity(hash, vrs []byte, want common.Address) (byte, error) {
	if len(vrs) != 65 {
		return 0, badReply("sign", "signature of %d bytes", len(vrs))
	}
	sig := make([]byte, 65)
	copy(sig, vrs[1:65])
	for p := byte(0); p < 2; p++ {
		sig[64] = p
		pub, err := crypto.SigToPub(hash, sig)
		if err == nil && crypto.PubkeyToAddress(*pub) == want {
			return p, nil
		}
	}
	return 0, &sdk.Error{Code: sdk.CodeDeviceError,
		Message: fmt.Sprintf("ledger: the device's signature does not recover to %s; it was discarded", want.Hex()),
		Hint:    "update the Ethereum app; the device may have signed something else"}
}

// SignMessage signs an EIP-191 personal message.
func (s *Signer) SignMessage(ctx context.Context, req *sdk.SignMessageRequest) (*sdk.SignMessageResponse, error) {
	if req == nil {
		return nil, sdk.NewError(sdk.CodeInvalidRequest, "ledger: sign message: nil request", "")
	}
	path, err := accountPath(req.Account)
	if err != nil {
		return nil, err
	}
	var out []byte
	err = s.session(ctx, "sign message", func(d *Device, _ AppConfig) error {
		from, err := resolve(ctx, d, req.Account, path)
		if err != nil {
			return err
		}
		raw, err := d.SignPersonal(ctx, path, req.Message)
		if err != nil {
			return err
		}
		out, err = finish27("sign message", accounts.TextHash(req.Message), raw, from)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &sdk.SignMessageResponse{Signature: out}, nil
}

// finish27 checks a v(27/28) ‖ r ‖ s reply against hash and account and
// returns r ‖ s ‖ v.
func finish27(what string, hash, raw []byte, from common.Address) ([]byte, error) {
	parity, err := recoverParity(hash, raw, from)
	if err != nil {
		return nil, err
	}
	if raw[0] != 27+parity {
		return nil, badReply(what, "v byte %#x, expected %#x", raw[0], 27+parity)
	}
	return append(append([]byte(nil), raw[1:65]...), 27+parity), nil
}

// SignTypedData signs EIP-712 v4 typed data: in the full mode, where the
// device receives the structs and shows the fields, when the app supports it
// (1.9.19+); otherwise in the hashed mode, after a warning through the
// prompter that the device can only show hashes.
func (s *Signer) SignTypedData(ctx context.Context, req *sdk.SignTypedDataRequest) (*sdk.SignTypedDataResponse, error) {
	if req == nil {
		return nil, sdk.NewError(sdk.CodeInvalidRequest, "ledger: sign typed data: nil request", "")
	}
	path, err := accountPath(req.Account)
	if err != nil {
		return nil, err
	}
	doc, err := eip712.Parse(req.TypedData)
	if err != nil {
		return nil, err
	}
	if err := doc.CheckHashes(req.DomainSeparator, req.MessageHash); err != nil {
		return nil, err
	}
	enc, err := encodeDocument(doc)
	if err != nil && !errors.Is(err, errTooBig) {
		return nil, err
	}
	if enc.Message == nil {
		return nil, sdk.NewError(sdk.CodeUnsupported,
			"ledger: sign typed data: the Ledger Ethereum app cannot sign typed data whose primary type is EIP712Domain",
			"sign it with a software signer, or give the message a primary type of its own")
	}
	var out []byte
	err = s.session(ctx, "sign typed data", func(d *Device, cfg AppConfig) error {
		v := cfg.Version
		full := enc.APDUs != nil && v.AtLeast(minEIP712Full.Major, minEIP712Full.Minor, minEIP712Full.Patch)
		if !full && !v.AtLeast(minEIP712Hash.Major, minEIP712Hash.Minor, minEIP712Hash.Patch) {
			return &sdk.Error{Code: sdk.CodeUnsupported,
				Message: fmt.Sprintf("ledger: sign typed data: Ethereum app %s cannot sign EIP-712 data (needs %s or newer)", v, minEIP712Hash),
				Hint:    hintUpdateApp}
		}
		from, err := resolve(ctx, d, req.Account, path)
		if err != nil {
			return err
		}
		var raw []byte
		if full {
			raw, err = d.SignTypedFull(ctx, path, enc)
		} else {
			why := fmt.Sprintf("Ethereum app %s cannot show EIP-712 fields (1.9.19+ can)", v)
			if enc.APDUs == nil {
				why = "this document is beyond what the device can show field by field"
			}
			_, _ = sdk.PrompterFrom(ctx).Notify(ctx, &sdk.NotifyRequest{Level: sdk.LevelWarning,
				Message: fmt.Sprintf("%s: the %s will only show hashes; check domain hash %s and message hash %s on its screen",
					why, d.deviceName(), enc.Domain.Hex(), enc.Message.Hex())})
			raw, err = d.SignTypedHashes(ctx, path, enc.Domain, *enc.Message, !cfg.BlindSigning())
		}
		if err != nil {
			return err
		}
		digest := doc.Digest()
		out, err = finish27("sign typed data", digest, raw, from)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &sdk.SignTypedDataResponse{Signature: out}, nil
}

// SignAuthorization signs an EIP-7702 authorization (app 1.17.0+). The app
// takes 64-bit chain ids and nonces.
func (s *Signer) SignAuthorization(ctx context.Context, req *sdk.SignAuthorizationRequest) (*sdk.SignAuthorizationResponse, error) {
	if req == nil {
		return nil, sdk.NewError(sdk.CodeInvalidRequest, "ledger: sign authorization: nil request", "")
	}
	path, err := accountPath(req.Account)
	if err != nil {
		return nil, err
	}
	if req.ChainID == nil || req.ChainID.Sign() < 0 || !req.ChainID.IsUint64() {
		return nil, sdk.NewError(sdk.CodeInvalidRequest, "ledger: sign authorization: chain id missing, negative or above 2^64-1",
			"the Ledger Ethereum app takes 64-bit chain ids (0 authorizes every chain)")
	}
	auth := types.SetCodeAuthorization{ChainID: *uint256.MustFromBig(req.ChainID), Address: req.Delegate, Nonce: req.Nonce}
	hash := auth.SigHash()
	var out []byte
	err = s.session(ctx, "sign authorization", func(d *Device, cfg AppConfig) error {
		if !cfg.Version.AtLeast(minEIP7702.Major, minEIP7702.Minor, minEIP7702.Patch) {
			return &sdk.Error{Code: sdk.CodeUnsupported,
				Message: fmt.Sprintf("ledger: sign authorization: Ethereum app %s cannot sign EIP-7702 authorizations (needs %s or newer)", cfg.Version, minEIP7702),
				Hint:    hintUpdateApp}
		}
		from, err := resolve(ctx, d, req.Account, path)
		if err != nil {
			return err
		}
		raw, err := d.SignAuthorization(ctx, path, req.ChainID.Uint64(), req.Delegate, req.Nonce)
		if err != nil {
			return err
		}
		parity, err := recoverParity(hash[:], raw, from)
		if err != nil {
			return err
		}
		if raw[0] != parity {
			return badReply("sign authorization", "v byte %#x, expected %d", raw[0], parity)
		}
		out = append(append([]byte(nil), raw[1:65]...), parity)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &sdk.SignAuthorizationResponse{Signature: out}, nil
}
