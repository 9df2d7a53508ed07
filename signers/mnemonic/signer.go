package mnemonic

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"

	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/sdk/eip712"
	"github.com/mm-wallet/mm/sdk/hdpath"
)

// Name is the signer's name in Info.
const Name = "mnemonic"

// Version is the signer's version in Info.
const Version = "1.0.0"

// Settings accepted by Configure. None of them is a secret.
const (
	// SettingKeyFile is the path of the key file (required).
	SettingKeyFile = "keyFile"
	// SettingPassphraseFile is the path of a file holding the optional
	// BIP-39 passphrase (one trailing newline is ignored).
	SettingPassphraseFile = "passphraseFile"
	// SettingPassphrase set to "prompt" makes the signer ask the host for
	// the BIP-39 passphrase (SecretPassphrase) when it unlocks; "none", the
	// default, means no passphrase.
	SettingPassphrase = "passphrase"
	// SettingScryptWorkFactor is log2 of age's scrypt N used when the
	// signer encrypts the key file: MinScryptWorkFactor to
	// MaxScryptWorkFactor, default DefaultScryptWorkFactor (age's default).
	// Lower it only in tests.
	SettingScryptWorkFactor = "scryptWorkFactor"
	// SettingIndexPath is the template that turns an account index into a
	// path; "{index}" stands for the index. Default DefaultIndexPath.
	SettingIndexPath = "indexPath"
)

// DefaultIndexPath is the BIP-44 Ethereum scheme MetaMask uses.
const DefaultIndexPath = "m/44'/60'/0'/0/{index}"

// maxAccountsPerRequest bounds one Accounts call.
const maxAccountsPerRequest = 1000

// maxCachedKeys bounds the derived keys a signer keeps in memory.
const maxCachedKeys = 4096

// scanIndices is how many default-scheme indices an account without a path
// is looked up in.
const scanIndices = 20

// Signer is the BIP-39 mnemonic signer. Create it with New and Configure it
// with a key file, or with NewFromMnemonic for a mnemonic held in memory.
// It is safe for concurrent use.
type Signer struct {
	// sem is a one-slot semaphore guarding the fields below. Waiting for it
	// honours the caller's context, so a call queued behind a password
	// prompt can still be cancelled.
	sem chan struct{}

	cfg        config
	configured bool
	// memory is set for a signer created from an in-memory mnemonic: it has
	// no key file and cannot be configured or managed.
	memory bool
	wallet *wallet
}

type config struct {
	keyFile          string
	passphraseFile   string
	promptPassphrase bool
	workFactor       int
	indexPath        string
}

var (
	_ sdk.Signer     = (*Signer)(nil)
	_ sdk.Configurer = (*Signer)(nil)
	_ sdk.Manager    = (*Signer)(nil)
	_ sdk.Authorizer = (*Signer)(nil)
)

// New returns an unconfigured Signer: call Configure with at least
// SettingKeyFile before anything but Info.
func New() *Signer {
	return &Signer{
		sem: make(chan struct{}, 1),
		cfg: config{workFactor: DefaultScryptWorkFactor, indexPath: DefaultIndexPath},
	}
}

// NewFromMnemonic returns a Signer for a mnemonic and an optional BIP-39
// passphrase held in memory, with the default index scheme. It reads and
// writes no file; Configure and Manage answer UNSUPPORTED. A bad mnemonic is
// INVALID_MNEMONIC.
func NewFromMnemonic(mnemonic, passphrase string) (*Signer, error) {
	seed, err := seedFromMnemonic(mnemonic, passphrase)
	if err != nil {
		return nil, err
	}
	defer clear(seed)
	w, err := newWallet(seed, nil)
	if err != nil {
		return nil, err
	}
	s := New()
	s.memory = true
	s.configured = true
	s.wallet = w
	return s, nil
}

// wallet is an unlocked master key and the keys derived from it.
type wallet struct {
	master *extKey
	// file is the key file the wallet was read from, to notice when it is
	// replaced; nil for an in-memory wallet.
	file fs.FileInfo

	mu     sync.Mutex
	nodes  map[string]*extKey           // parent path → node, to derive siblings in one step
	keys   map[string]*ecdsa.PrivateKey // path → key
	byAddr map[common.Address]string    // address → path
}

func newWallet(seed []byte, file fs.FileInfo) (*wallet, error) {
	m, err := masterKey(seed)
	if err != nil {
		return nil, sdk.Errorf(sdk.CodeInvalidMnemonic, "mnemonic: master key: %w", err)
	}
	return &wallet{
		master: m,
		file:   file,
		nodes:  map[string]*extKey{},
		keys:   map[string]*ecdsa.PrivateKey{},
		byAddr: map[common.Address]string{},
	}, nil
}

// wipe forgets the key material (best effort: big.Int copies inside
// ecdsa keys cannot be zeroed reliably).
func (w *wallet) wipe() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.master.wipe()
	for _, n := range w.nodes {
		n.wipe()
	}
	w.nodes = map[string]*extKey{}
	w.keys = map[string]*ecdsa.PrivateKey{}
	w.byAddr = map[common.Address]string{}
}

// key returns the private key and address at p.
func (w *wallet) key(p hdpath.Path) (*ecdsa.PrivateKey, common.Address, error) {
	ps := p.String()
	w.mu.Lock()
	defer w.mu.Unlock()
	if k, ok := w.keys[ps]; ok {
		return k, crypto.PubkeyToAddress(k.PublicKey), nil
	}
	parentPath := p[:len(p)-1].String()
	parent, ok := w.nodes[parentPath]
	if !ok {
		var err error
		parent, err = w.master.derive(p[:len(p)-1])
		if err != nil {
			return nil, common.Address{}, deriveErr(ps, err)
		}
		if len(w.nodes) < maxCachedKeys {
			w.nodes[parentPath] = parent
		}
	}
	leaf, err := parent.child(p[len(p)-1])
	if err != nil {
		return nil, common.Address{}, deriveErr(ps, err)
	}
	defer leaf.wipe()
	k, err := crypto.ToECDSA(leaf.key[:])
	if err != nil {
		return nil, common.Address{}, deriveErr(ps, err)
	}
	addr := crypto.PubkeyToAddress(k.PublicKey)
	if len(w.keys) < maxCachedKeys {
		w.keys[ps] = k
		w.byAddr[addr] = ps
	}
	return k, addr, nil
}

func (w *wallet) pathOf(a common.Address) (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	p, ok := w.byAddr[a]
	return p, ok
}

func deriveErr(path string, err error) *sdk.Error {
	return &sdk.Error{
		Code:    sdk.CodeInvalidDerivationPath,
		Message: fmt.Sprintf("mnemonic: derive %s: %v", path, err),
		Hint:    "use another index or path",
	}
}

// Info describes the signer.
func (s *Signer) Info(ctx context.Context, _ *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	return &sdk.InfoResponse{
		Name:            Name,
		Version:         Version,
		ProtocolVersion: sdk.ProtocolVersion,
		Kind:            sdk.KindSoftware,
		Capabilities: sdk.Capabilities{
			TxTypes:         []sdk.TxType{sdk.TxLegacy, sdk.TxEIP2930, sdk.TxEIP1559, sdk.TxEIP7702},
			TypedData:       sdk.TypedDataFull,
			PersonalMessage: true,
		},
	}, nil
}

// Configure applies settings (see the Setting* constants). Unknown settings
// and bad values are INVALID_REQUEST. Changing the key file or passphrase
// source locks the signer.
func (s *Signer) Configure(ctx context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if req == nil {
		return nil, invalidRequest("configure: no request")
	}
	if s.memory {
		return nil, sdk.NewError(sdk.CodeUnsupported, "mnemonic: configure: this signer holds an in-memory mnemonic", "")
	}
	cfg := config{workFactor: DefaultScryptWorkFactor, indexPath: DefaultIndexPath}
	for k, v := range req.Settings {
		switch k {
		case SettingKeyFile:
			if v == "" {
				return nil, invalidRequest("configure: keyFile is empty")
			}
			cfg.keyFile = v
		case SettingPassphraseFile:
			cfg.passphraseFile = v
		case SettingPassphrase:
			switch v {
			case "prompt":
				cfg.promptPassphrase = true
			case "none", "":
			default:
				return nil, invalidRequest(`configure: passphrase must be "prompt" or "none"`)
			}
		case SettingScryptWorkFactor:
			n, err := strconv.Atoi(v)
			if err != nil || n < MinScryptWorkFactor || n > MaxScryptWorkFactor {
				return nil, invalidRequest(fmt.Sprintf("configure: scryptWorkFactor must be an integer from %d to %d", MinScryptWorkFactor, MaxScryptWorkFactor))
			}
			cfg.workFactor = n
		case SettingIndexPath:
			if _, err := indexPath(v, 0); err != nil {
				return nil, err
			}
			cfg.indexPath = v
		default:
			return nil, invalidRequest(fmt.Sprintf("configure: unknown setting %q", clip(k, 64)))
		}
	}
	if cfg.keyFile == "" {
		return nil, invalidRequest("configure: the keyFile setting is required")
	}
	if cfg.promptPassphrase && cfg.passphraseFile != "" {
		return nil, invalidRequest("configure: set passphrase=prompt or passphraseFile, not both")
	}
	if err := s.acquire(ctx); err != nil {
		return nil, err
	}
	defer s.release()
	if s.wallet != nil && (cfg.keyFile != s.cfg.keyFile || cfg.passphraseFile != s.cfg.passphraseFile ||
		cfg.promptPassphrase != s.cfg.promptPassphrase || cfg.indexPath != s.cfg.indexPath) {
		s.wallet.wipe()
		s.wallet = nil
	}
	s.cfg = cfg
	s.configured = true
	return &sdk.ConfigureResponse{}, nil
}

// indexPath turns index into a path with the template tmpl.
func indexPath(tmpl string, index uint32) (hdpath.Path, error) {
	if strings.Count(tmpl, "{index}") != 1 {
		return nil, hdpath.Invalid(tmpl, `an index path template holds "{index}" exactly once`)
	}
	return hdpath.Parse(strings.Replace(tmpl, "{index}", strconv.FormatUint(uint64(index), 10), 1))
}

// Accounts returns the addresses at req.Paths, then at req.Indices.
func (s *Signer) Accounts(ctx context.Context, req *sdk.AccountsRequest) (*sdk.AccountsResponse, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if req == nil {
		return nil, invalidRequest("accounts: no request")
	}
	if len(req.Paths)+len(req.Indices) > maxAccountsPerRequest {
		return nil, invalidRequest(fmt.Sprintf("accounts: at most %d accounts per request", maxAccountsPerRequest))
	}
	paths := make([]hdpath.Path, 0, len(req.Paths)+len(req.Indices))
	for _, ps := range req.Paths {
		p, err := hdpath.Parse(ps)
		if err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	w, cfg, err := s.unlock(ctx)
	if err != nil {
		return nil, err
	}
	for _, i := range req.Indices {
		p, err := indexPath(cfg.indexPath, i)
		if err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	out := &sdk.AccountsResponse{Accounts: make([]sdk.Account, 0, len(paths))}
	for _, p := range paths {
		if err := ctxErr(ctx); err != nil {
			return nil, err
		}
		_, addr, err := w.key(p)
		if err != nil {
			return nil, err
		}
		out.Accounts = append(out.Accounts, sdk.Account{Address: addr, Path: p.String()})
	}
	return out, nil
}

// account resolves a to its private key: by path when it has one (and the
// address, when given, must match), else by address among the keys derived
// so far and the first indices of the configured scheme.
func (s *Signer) account(ctx context.Context, a sdk.Account) (*ecdsa.PrivateKey, common.Address, error) {
	var p hdpath.Path
	if a.Path != "" {
		var err error
		if p, err = hdpath.Parse(a.Path); err != nil {
			return nil, common.Address{}, err
		}
	} else if a.Address == (common.Address{}) {
		return nil, common.Address{}, invalidRequest("no account: give an address, a path or both")
	}
	w, cfg, err := s.unlock(ctx)
	if err != nil {
		return nil, common.Address{}, err
	}
	if p != nil {
		k, addr, err := w.key(p)
		if err != nil {
			return nil, common.Address{}, err
		}
		if a.Address != (common.Address{}) && a.Address != addr {
			return nil, common.Address{}, unknownAccount(a.Address, fmt.Sprintf("it is not the address at %s", p))
		}
		return k, addr, nil
	}
	if ps, ok := w.pathOf(a.Address); ok {
		p, _ := hdpath.Parse(ps)
		return w.key(p)
	}
	for i := uint32(0); i < scanIndices; i++ {
		if err := ctxErr(ctx); err != nil {
			return nil, common.Address{}, err
		}
		p, err := indexPath(cfg.indexPath, i)
		if err != nil {
			return nil, common.Address{}, err
		}
		k, addr, err := w.key(p)
		if err == nil && addr == a.Address {
			return k, addr, nil
		}
	}
	return nil, common.Address{}, unknownAccount(a.Address, fmt.Sprintf("it is not among the first %d accounts and no path was given", scanIndices))
}

func unknownAccount(a common.Address, why string) *sdk.Error {
	return &sdk.Error{
		Code:    sdk.CodeUnknownAccount,
		Message: fmt.Sprintf("mnemonic: account %s is not held by this mnemonic: %s", a.Hex(), why),
		Hint:    "select an account of this wallet (mm wallet list), or give its derivation path",
	}
}

// SignTransaction signs a legacy (EIP-155), EIP-2930, EIP-1559 or EIP-7702
// transaction.
func (s *Signer) SignTransaction(ctx context.Context, req *sdk.SignTransactionRequest) (*sdk.SignTransactionResponse, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if req == nil {
		return nil, invalidRequest("sign transaction: no request")
	}
	if req.ChainID == nil || req.ChainID.Sign() <= 0 {
		return nil, invalidRequest("sign transaction: the chain id must be positive (unprotected legacy signing is refused)")
	}
	if len(req.Transaction) == 0 {
		return nil, invalidTx("the transaction is empty")
	}
	tx := new(types.Transaction)
	if err := tx.UnmarshalBinary(req.Transaction); err != nil {
		return nil, invalidTx("it does not decode: " + clip(err.Error(), 200))
	}
	switch tx.Type() {
	case types.LegacyTxType, types.AccessListTxType, types.DynamicFeeTxType, types.SetCodeTxType:
	default:
		return nil, &sdk.Error{
			Code:    sdk.CodeUnsupported,
			Message: fmt.Sprintf("mnemonic: sign transaction: type %d transactions are not supported", tx.Type()),
			Hint:    "this signer signs legacy, EIP-2930, EIP-1559 and EIP-7702 transactions",
		}
	}
	if tx.Type() != types.LegacyTxType && tx.ChainId().Cmp(req.ChainID) != 0 {
		return nil, invalidTx(fmt.Sprintf("its chain id %s differs from the requested chain id %s", tx.ChainId(), req.ChainID))
	}
	if v, r, ss := tx.RawSignatureValues(); v.Sign() != 0 || r.Sign() != 0 || ss.Sign() != 0 {
		return nil, invalidTx("it already carries signature values (v, r and s must be zero)")
	}
	key, _, err := s.account(ctx, req.Account)
	if err != nil {
		return nil, err
	}
	signer := types.LatestSignerForChainID(req.ChainID)
	h := signer.Hash(tx)
	sig, err := crypto.Sign(h[:], key)
	if err != nil {
		return nil, sdk.Errorf(sdk.CodeInternal, "mnemonic: sign transaction: %w", err)
	}
	signed, err := tx.WithSignature(signer, sig)
	if err != nil {
		return nil, invalidTx(clip(err.Error(), 200))
	}
	raw, err := signed.MarshalBinary()
	if err != nil {
		return nil, sdk.Errorf(sdk.CodeInternal, "mnemonic: sign transaction: encode: %w", err)
	}
	return &sdk.SignTransactionResponse{SignedTransaction: raw, Signature: sig}, nil
}

// SignTypedData signs EIP-712 v4 typed data after checking that the
// request's hashes match the JSON.
func (s *Signer) SignTypedData(ctx context.Context, req *sdk.SignTypedDataRequest) (*sdk.SignTypedDataResponse, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if req == nil {
		return nil, invalidRequest("sign typed data: no request")
	}
	doc, err := eip712.Parse(req.TypedData)
	if err != nil {
		return nil, err
	}
	if err := doc.CheckHashes(req.DomainSeparator, req.MessageHash); err != nil {
		return nil, err
	}
	key, _, err := s.account(ctx, req.Account)
	if err != nil {
		return nil, err
	}
	sig, err := crypto.Sign(doc.Digest(), key)
	if err != nil {
		return nil, sdk.Errorf(sdk.CodeInternal, "mnemonic: sign typed data: %w", err)
	}
	sig[64] += 27
	return &sdk.SignTypedDataResponse{Signature: sig}, nil
}

// SignMessage signs an EIP-191 personal message.
func (s *Signer) SignMessage(ctx context.Context, req *sdk.SignMessageRequest) (*sdk.SignMessageResponse, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if req == nil {
		return nil, invalidRequest("sign message: no request")
	}
	key, _, err := s.account(ctx, req.Account)
	if err != nil {
		return nil, err
	}
	sig, err := crypto.Sign(accounts.TextHash(req.Message), key)
	if err != nil {
		return nil, sdk.Errorf(sdk.CodeInternal, "mnemonic: sign message: %w", err)
	}
	sig[64] += 27
	return &sdk.SignMessageResponse{Signature: sig}, nil
}

// SignAuthorization signs an EIP-7702 authorization with go-ethereum's
// types.SignSetCode.
func (s *Signer) SignAuthorization(ctx context.Context, req *sdk.SignAuthorizationRequest) (*sdk.SignAuthorizationResponse, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if req == nil {
		return nil, invalidRequest("sign authorization: no request")
	}
	if req.ChainID == nil || req.ChainID.Sign() < 0 {
		return nil, invalidRequest("sign authorization: the chain id must be zero (any chain) or positive")
	}
	chainID, overflow := uint256.FromBig(req.ChainID)
	if overflow {
		return nil, invalidRequest("sign authorization: the chain id does not fit 256 bits")
	}
	key, _, err := s.account(ctx, req.Account)
	if err != nil {
		return nil, err
	}
	auth, err := types.SignSetCode(key, types.SetCodeAuthorization{ChainID: *chainID, Address: req.Delegate, Nonce: req.Nonce})
	if err != nil {
		return nil, sdk.Errorf(sdk.CodeInternal, "mnemonic: sign authorization: %w", err)
	}
	sig := make([]byte, 65)
	auth.R.PutUint256(sig[:32])
	auth.S.PutUint256(sig[32:64])
	sig[64] = auth.V
	return &sdk.SignAuthorizationResponse{Signature: sig}, nil
}

// Close forgets the unlocked key. sdk.Serve calls it when the plugin ends.
// The signer unlocks again on its next use.
func (s *Signer) Close() error {
	s.sem <- struct{}{}
	defer s.release()
	if s.wallet != nil && !s.memory {
		s.wallet.wipe()
		s.wallet = nil
	}
	return nil
}

// acquire takes the signer's semaphore, or fails with CANCELED when ctx ends
// first.
func (s *Signer) acquire(ctx context.Context) error {
	select {
	case s.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return canceled(ctx.Err())
	}
}

func (s *Signer) release() { <-s.sem }

// unlock returns the unlocked wallet, reading (and, when it is encrypted,
// decrypting) the key file on first use or after the file changed.
func (s *Signer) unlock(ctx context.Context) (*wallet, config, error) {
	if err := s.acquire(ctx); err != nil {
		return nil, config{}, err
	}
	defer s.release()
	if !s.configured {
		return nil, config{}, &sdk.Error{
			Code:    sdk.CodeNotConfigured,
			Message: "mnemonic: the signer is not configured",
			Hint:    "the host must call Configure with a keyFile setting first",
		}
	}
	if s.wallet != nil && (s.memory || sameFile(s.cfg.keyFile, s.wallet.file)) {
		return s.wallet, s.cfg, nil
	}
	if s.wallet != nil {
		s.wallet.wipe()
		s.wallet = nil
	}
	data, fi, err := readKeyFile(s.cfg.keyFile)
	if err != nil {
		return nil, config{}, err
	}
	defer clear(data)
	plain := data
	if isEncrypted(data) {
		pw, err := s.askSecret(ctx, sdk.SecretPassword, "Password of the mm mnemonic", true)
		if err != nil {
			return nil, config{}, err
		}
		plain, err = decryptKeyFile(s.cfg.keyFile, data, pw)
		clear(pw)
		if err != nil {
			return nil, config{}, err
		}
		defer clear(plain)
	} else if fi.Mode().Perm()&0o077 != 0 {
		_, _ = sdk.PrompterFrom(ctx).Notify(ctx, &sdk.NotifyRequest{
			Level:   sdk.LevelWarning,
			Message: fmt.Sprintf("the unencrypted mnemonic at %s is readable by other users (mode %v); run chmod 600 on it or set a password", s.cfg.keyFile, fi.Mode().Perm()),
		})
	}
	w, err := s.walletFrom(ctx, s.cfg, plain, fi)
	if err != nil {
		return nil, config{}, err
	}
	s.wallet = w
	return w, s.cfg, nil
}

// walletFrom builds a wallet from key-file contents, asking for or reading
// the BIP-39 passphrase as configured.
func (s *Signer) walletFrom(ctx context.Context, cfg config, plain []byte, fi fs.FileInfo) (*wallet, error) {
	var passphrase []byte
	switch {
	case cfg.passphraseFile != "":
		b, err := os.ReadFile(cfg.passphraseFile)
		if err != nil {
			return nil, sdk.Errorf(sdk.CodeNotConfigured, "mnemonic: read the passphrase file: %w", errors.Unwrap(err)).WithHint("check the passphraseFile setting")
		}
		passphrase = trimNewline(b)
	case cfg.promptPassphrase:
		var err error
		passphrase, err = s.askSecret(ctx, sdk.SecretPassphrase, "BIP-39 passphrase of the mm mnemonic", false)
		if err != nil {
			return nil, err
		}
	}
	defer clear(passphrase)
	seed, err := seedFromMnemonic(string(plain), string(passphrase))
	if err != nil {
		if sdk.CodeOf(err) == sdk.CodeInvalidMnemonic && fi != nil {
			return nil, &sdk.Error{
				Code:    sdk.CodeInvalidMnemonic,
				Message: fmt.Sprintf("mnemonic: the key file %s does not hold a valid mnemonic", cfg.keyFile),
				Hint:    "import the mnemonic again (mm init --wallet byok)",
			}
		}
		return nil, err
	}
	defer clear(seed)
	return newWallet(seed, fi)
}

func trimNewline(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}

// askSecret asks the host's Prompter for a secret. When the host cannot
// ask and unlocking needs the secret, the error is MNEMONIC_LOCKED; a
// cancelled context is CANCELED.
func (s *Signer) askSecret(ctx context.Context, kind sdk.SecretKind, prompt string, unlocking bool) ([]byte, error) {
	resp, err := sdk.PrompterFrom(ctx).RequestSecret(ctx, &sdk.SecretRequest{Kind: kind, Prompt: prompt})
	if ctx.Err() != nil {
		if resp != nil {
			clear(resp.Secret)
		}
		return nil, canceled(ctx.Err())
	}
	if err != nil {
		if unlocking && sdk.CodeOf(err) == sdk.CodeNonInteractive {
			return nil, &sdk.Error{
				Code:    sdk.CodeMnemonicLocked,
				Message: "mnemonic: the stored mnemonic is encrypted and no password could be asked for",
				Hint:    "set MM_PASSWORD, run mm in a terminal, or unlock it with mm wallet unlock",
				Err:     err,
			}
		}
		return nil, fmt.Errorf("mnemonic: ask for the %s: %w", kind, err)
	}
	if resp == nil {
		return nil, nil
	}
	return resp.Secret, nil
}

func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return canceled(err)
	}
	return nil
}

func canceled(cause error) *sdk.Error {
	return &sdk.Error{Code: sdk.CodeCanceled, Message: "mnemonic: " + cause.Error(), Err: cause}
}

func invalidRequest(msg string) *sdk.Error {
	return &sdk.Error{Code: sdk.CodeInvalidRequest, Message: "mnemonic: " + msg}
}

func invalidTx(why string) *sdk.Error {
	return &sdk.Error{
		Code:    sdk.CodeInvalidTransaction,
		Message: "mnemonic: invalid transaction: " + why,
		Hint:    "pass the unsigned transaction as go-ethereum's MarshalBinary encodes it, with v, r and s zero",
	}
}
