package trezor

import (
	"context"
	"errors"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"google.golang.org/protobuf/proto"

	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/signers/transport"
	"github.com/mm-wallet/mm/signers/trezor/trezorpb"
)

// Name and Version of the signer, as Info reports them.
const (
	Name    = "trezor"
	Version = "1.0.0"
)

// Setting keys of Configure.
const (
	SettingDevice     = "device"
	SettingDerivation = "derivation"
	SettingPassphrase = "passphrase"
)

// Passphrase entry modes (setting "passphrase").
const (
	PassphraseHost   = "host"
	PassphraseDevice = "device"
)

// Signer drives one Trezor. It is safe for concurrent use: requests to the
// device are serialized. The zero value is not usable; call New.
type Signer struct {
	mu         sync.Mutex
	uri        string
	derivation string
	passphrase string
	fixed      transport.Transport // NewWithTransport
	dev        *device
	sessionID  []byte
	token      string // names this instance in device lock files
}

var (
	_ sdk.Signer     = (*Signer)(nil)
	_ sdk.Configurer = (*Signer)(nil)
)

// New returns an unconfigured Trezor signer: it finds the first Trezor
// connected until Configure names one.
func New() *Signer {
	return &Signer{derivation: DerivationBIP44, passphrase: PassphraseHost, token: newToken()}
}

// NewWithTransport returns a signer that talks to the device behind t and
// never dials (the device setting is then ignored). For tests and tools
// that open the transport themselves.
func NewWithTransport(t transport.Transport) *Signer {
	s := New()
	s.fixed = t
	return s
}

// Configure implements sdk.Configurer. Settings: device (a transport URI),
// derivation (bip44, live, legacy), passphrase (host, device).
func (s *Signer) Configure(ctx context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	if req == nil {
		return nil, invalid(sdk.CodeInvalidRequest, "", "configure: nil request")
	}
	uri, derivation, passphrase := "", DerivationBIP44, PassphraseHost
	keys := make([]string, 0, len(req.Settings))
	for k := range req.Settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := strings.TrimSpace(req.Settings[k])
		switch k {
		case SettingDevice:
			if v != "" {
				if err := checkURI(v); err != nil {
					return nil, err
				}
			}
			uri = v
		case SettingDerivation:
			if v == "" {
				v = DerivationBIP44
			}
			if _, err := indexPath(v, 0); err != nil {
				return nil, invalid(sdk.CodeInvalidRequest, "use bip44 (m/44'/60'/0'/0/x), live (m/44'/60'/x'/0/0) or legacy (m/44'/60'/0'/x)", "configure: unknown derivation %q", clip(v, 32))
			}
			derivation = v
		case SettingPassphrase:
			if v == "" {
				v = PassphraseHost
			}
			if v != PassphraseHost && v != PassphraseDevice {
				// The value is not repeated: a user who put the
				// passphrase itself here must not see it in an error.
				return nil, invalid(sdk.CodeInvalidRequest, "use host (typed in mm) or device (typed on the Trezor)", "configure: the passphrase setting takes host or device, never the passphrase itself")
			}
			passphrase = v
		default:
			return nil, invalid(sdk.CodeInvalidRequest, "known settings: device, derivation, passphrase", "configure: unknown setting %q", clip(k, 32))
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if uri != s.uri {
		s.dev.close()
		s.dev, s.sessionID = nil, nil
	}
	s.uri, s.derivation, s.passphrase = uri, derivation, passphrase
	return &sdk.ConfigureResponse{}, nil
}

// checkURI accepts the URIs of the Trezor transports (a secret never
// belongs in one: userinfo is refused).
func checkURI(uri string) error {
	u, err := url.Parse(uri)
	if err != nil || u.User != nil {
		return invalid(sdk.CodeInvalidRequest, "use udp://HOST:PORT (emulator), bridge://HOST:PORT[/PATH] (Trezor Bridge) or hid://trezor", "configure: bad device URI")
	}
	switch {
	case u.Scheme == transport.TrezorUDPScheme, u.Scheme == transport.TrezorBridgeScheme:
	case u.Scheme == "hid" && u.Host == "trezor":
	default:
		return invalid(sdk.CodeInvalidRequest, "use udp://HOST:PORT (emulator), bridge://HOST:PORT[/PATH] (Trezor Bridge) or hid://trezor", "configure: %q is not a Trezor device URI", u.Redacted())
	}
	return nil
}

// withDevice runs f on an open device, opening it first if needed, while
// holding the device's lock; a transport failure drops the connection so
// the next call reconnects.
func (s *Signer) withDevice(ctx context.Context, f func(d *device) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return transportError("connect", err)
	}
	if s.fixed != nil {
		if s.dev == nil {
			d, err := openOn(ctx, s.fixed, "", s.sessionID)
			if err != nil {
				return err
			}
			s.dev, s.sessionID = d, d.sessionID
		}
		return s.run(ctx, f)
	}
	if s.dev == nil {
		t, uri, err := dial(ctx, s.uri)
		if err != nil {
			return transportError("connect", err)
		}
		lock, _, err := lockDevice(ctx, uri, s.token)
		if err != nil {
			t.Close()
			return transportError("connect", err)
		}
		defer lock.release(s.token)
		d, err := openOn(ctx, t, uri, s.sessionID)
		if err != nil {
			t.Close()
			return err
		}
		s.dev, s.sessionID = d, d.sessionID
		return s.run(ctx, f)
	}
	lock, mine, err := lockDevice(ctx, s.dev.uri, s.token)
	if err != nil {
		return transportError("connect", err)
	}
	defer lock.release(s.token)
	if !mine {
		// Another instance spoke to the device since: resume our session
		// (the device keeps its passphrase when the id still matches).
		if err := s.dev.resume(ctx, s.sessionID); err != nil {
			s.drop()
			return err
		}
		s.sessionID = s.dev.sessionID
	}
	return s.run(ctx, f)
}

func (s *Signer) run(ctx context.Context, f func(d *device) error) error {
	s.dev.onDevicePassphrase = s.passphrase == PassphraseDevice
	err := f(s.dev)
	if c := sdk.CodeOf(err); c == sdk.CodeDeviceDisconnected || c == sdk.CodeDeviceBusy || c == sdk.CodeDeviceError && isTransport(err) {
		s.drop()
	}
	return err
}

// drop forgets the connection (closing it unless the caller owns it).
func (s *Signer) drop() {
	if s.fixed == nil {
		s.dev.close()
	}
	s.dev = nil
}

func isTransport(err error) bool {
	return errors.Is(err, transport.ErrFraming) || errors.Is(err, transport.ErrDisconnected)
}

// openOn initializes a session on an already open transport.
func openOn(ctx context.Context, t transport.Transport, uri string, sessionID []byte) (*device, error) {
	d := &device{t: t, uri: uri}
	resp, err := d.roundTrip(ctx, &trezorpb.Initialize{SessionId: sessionID})
	if err != nil {
		return nil, err
	}
	f, ok := resp.(*trezorpb.Features)
	if !ok {
		return nil, errorf(sdk.CodeDeviceError, "reconnect the Trezor and retry", "connect: the device answered Initialize with %s", msgName(resp))
	}
	d.features = f
	if f.GetBootloaderMode() {
		return nil, errorf(sdk.CodeDeviceError, "the Trezor is in bootloader mode: reconnect it without touching the screen (or install firmware with Trezor Suite)", "connect: the device is in bootloader mode")
	}
	if f.Initialized != nil && !f.GetInitialized() {
		return nil, errorf(sdk.CodeDeviceNotInitialized, "set up the Trezor (create or recover a wallet) with Trezor Suite first", "connect: the %s has no wallet", d.name())
	}
	d.sessionID = f.SessionId
	d.addrs = map[string]common.Address{}
	return d, nil
}

// Close drops the connection to the device.
func (s *Signer) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dev != nil {
		s.drop()
	}
	return nil
}

// Info implements sdk.Signer. With a device reachable, Model and
// Capabilities describe it (what its firmware can sign); without one,
// Capabilities are what any supported Trezor signs (legacy and EIP-1559
// transactions, personal messages, typed data as hashes).
func (s *Signer) Info(ctx context.Context, _ *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	info := &sdk.InfoResponse{
		Name: Name, Version: Version, ProtocolVersion: sdk.ProtocolVersion, Kind: sdk.KindHardware,
		Capabilities: sdk.Capabilities{TxTypes: []sdk.TxType{sdk.TxLegacy, sdk.TxEIP1559}, TypedData: sdk.TypedDataHashed, PersonalMessage: true},
	}
	_ = s.withDevice(ctx, func(d *device) error {
		if resp, err := d.roundTrip(ctx, &trezorpb.GetFeatures{}); err == nil {
			if f, ok := resp.(*trezorpb.Features); ok {
				d.features = f
			}
		}
		info.Model = d.model()
		info.Capabilities = d.capabilities()
		return nil
	})
	return info, nil
}

func (d *device) capabilities() sdk.Capabilities {
	if d.bitcoinOnly() {
		return sdk.Capabilities{TxTypes: []sdk.TxType{}, TypedData: sdk.TypedDataNone}
	}
	c := sdk.Capabilities{TxTypes: []sdk.TxType{sdk.TxLegacy}, TypedData: sdk.TypedDataNone, PersonalMessage: true}
	if d.atLeast(minEIP1559[0], minEIP1559[1]) {
		c.TxTypes = append(c.TxTypes, sdk.TxEIP1559)
	}
	switch {
	case d.isOne() && d.atLeast(minTypedHash, minTypedHash):
		c.TypedData = sdk.TypedDataHashed
	case !d.isOne() && d.atLeast(minTypedData, minTypedData):
		c.TypedData = sdk.TypedDataFull
	}
	return c
}

// Accounts implements sdk.Signer: the address of each path (then each
// index under the derivation setting), shown on the device for the user to
// compare when req.Verify is set.
func (s *Signer) Accounts(ctx context.Context, req *sdk.AccountsRequest) (*sdk.AccountsResponse, error) {
	if req == nil {
		return nil, invalid(sdk.CodeInvalidRequest, "", "accounts: nil request")
	}
	s.mu.Lock()
	scheme := s.derivation
	s.mu.Unlock()
	paths := make([][]uint32, 0, len(req.Paths)+len(req.Indices))
	for _, p := range req.Paths {
		path, err := parsePath(p)
		if err != nil {
			return nil, invalid(sdk.CodeInvalidDerivationPath, "write paths like m/44'/60'/0'/0/0", "accounts: path %q: %v", clip(p, 80), err)
		}
		paths = append(paths, path)
	}
	for _, i := range req.Indices {
		path, err := indexPath(scheme, i)
		if err != nil {
			return nil, invalid(sdk.CodeInvalidDerivationPath, "indices are below 2^31", "accounts: %v", err)
		}
		paths = append(paths, path)
	}
	out := &sdk.AccountsResponse{Accounts: make([]sdk.Account, 0, len(paths))}
	err := s.withDevice(ctx, func(d *device) error {
		if err := d.ethereumCheck("accounts"); err != nil {
			return err
		}
		for _, path := range paths {
			addr, err := d.address(ctx, path, req.Verify)
			if err != nil {
				return err
			}
			out.Accounts = append(out.Accounts, sdk.Account{Address: addr, Path: formatPath(path)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ethereumCheck refuses up front on bitcoin-only firmware.
func (d *device) ethereumCheck(op string) error {
	if d.bitcoinOnly() {
		return errorf(sdk.CodeUnsupported, d.unsupportedHint(), "%s: the %s runs bitcoin-only firmware", op, d.name())
	}
	return nil
}

func (d *device) address(ctx context.Context, path []uint32, show bool) (common.Address, error) {
	key := formatPath(path)
	if a, ok := d.addrs[key]; ok && !show {
		return a, nil
	}
	a, err := d.fetchAddress(ctx, path, show)
	if err == nil {
		d.addrs[key] = a
	}
	return a, err
}

// expectAccount checks, before anything is signed, that the device holds
// want at path (when the request names an address), so the user is never
// asked to confirm for an account the request did not mean: another
// device, or the wrong passphrase.
func (d *device) expectAccount(ctx context.Context, op string, path []uint32, want common.Address) error {
	if want == (common.Address{}) {
		return nil
	}
	got, err := d.address(ctx, path, false)
	if err != nil {
		return err
	}
	return checkSigner(op, want, got, path)
}

func (d *device) fetchAddress(ctx context.Context, path []uint32, show bool) (common.Address, error) {
	req := &trezorpb.EthereumGetAddress{AddressN: path}
	if show {
		req.ShowDisplay = proto.Bool(true)
	}
	resp, err := d.call(ctx, "get address", req)
	if err != nil {
		return common.Address{}, err
	}
	a, ok := resp.(*trezorpb.EthereumAddress)
	if !ok {
		return common.Address{}, unexpected("get address", resp)
	}
	switch {
	case a.Address != nil && common.IsHexAddress(a.GetAddress()) && strings.HasPrefix(strings.ToLower(a.GetAddress()), "0x"):
		return common.HexToAddress(a.GetAddress()), nil
	case len(a.OldAddress) == common.AddressLength:
		return common.BytesToAddress(a.OldAddress), nil
	}
	return common.Address{}, errorf(sdk.CodeDeviceError, "reconnect the Trezor and retry", "get address: the device sent no valid address")
}

func unexpected(op string, m proto.Message) error {
	return errorf(sdk.CodeDeviceError, "reconnect the Trezor and retry", "%s: unexpected reply %s from the device", op, msgName(m))
}

// resolve checks an account of a Sign* request and returns its path.
func resolvePath(op string, a sdk.Account) ([]uint32, error) {
	if a.Path == "" {
		return nil, invalid(sdk.CodeUnknownAccount, "give the account's derivation path (mm stores it with the wallet)", "%s: the account has no derivation path", op)
	}
	p, err := parsePath(a.Path)
	if err != nil {
		return nil, invalid(sdk.CodeInvalidDerivationPath, "write paths like m/44'/60'/0'/0/0", "%s: path %q: %v", op, clip(a.Path, 80), err)
	}
	return p, nil
}

// checkSigner compares the address a signature recovers to with the
// account's (when the request names one).
func checkSigner(op string, want, got common.Address, path []uint32) error {
	if want != (common.Address{}) && want != got {
		return errorf(sdk.CodeUnknownAccount, "connect the Trezor that holds this account, with the same passphrase", "%s: this Trezor holds %s at %s, not %s", op, got.Hex(), formatPath(path), want.Hex())
	}
	return nil
}
