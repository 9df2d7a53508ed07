package ledger

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mm-wallet/mm/hwtest/emulator"
	"github.com/mm-wallet/mm/signers/transport"
)

// Status words, as app-ethereum and the Ledger OS send them.
const (
	SWOK                 uint16 = 0x9000
	SWUserRejected       uint16 = 0x6985 // conditions not satisfied: every reject callback
	SWLocked             uint16 = 0x5515 // current OS while the PIN screen is up
	SWInvalidData        uint16 = 0x6A80 // e.g. calldata while blind signing is off
	SWWrongLength        uint16 = 0x6700
	SWWrongP1P2          uint16 = 0x6B00
	SWInsNotSupported    uint16 = 0x6D00
	SWClaNotSupported    uint16 = 0x6E00
	SWNoAppOpen          uint16 = 0x6E01 // current OS on the dashboard
	SWTxTypeUnsupported  uint16 = 0x6501
	SWCommandNotAllowed  uint16 = 0x6986 // EIP-7702 disabled in the app settings
	claEthereum          byte   = 0xE0
	claOS                byte   = 0xB0
	insGetAddress        byte   = 0x02
	insSignTx            byte   = 0x04
	insGetConfig         byte   = 0x06
	insSignPersonal      byte   = 0x08
	insSignEIP712        byte   = 0x0C
	insEIP712StructDef   byte   = 0x1A
	insEIP712StructImpl  byte   = 0x1C
	insSignAuthorization byte   = 0x34
	insGetAppAndVersion  byte   = 0x01
)

// DefaultAppVersion is the Ethereum app version the emulator reports unless
// told otherwise.
const DefaultAppVersion = "1.19.1"

// Options configure an Emulator. The zero value is a Nano S Plus with the
// Speculos seed, the Ethereum app open and unlocked, blind signing and
// EIP-7702 enabled, approving every confirmation at once.
type Options struct {
	// Mnemonic is the device seed; empty means SpeculosMnemonic.
	Mnemonic string
	// Model is a model slug (nanos, nanox, nanosp, stax, flex, apex).
	Model string
	// AppVersion is the Ethereum app version, e.g. "1.8.8" (which refuses
	// typed transactions with 0x6501). Empty means DefaultAppVersion.
	AppVersion string
	// DisableBlindSigning starts with the "Blind signing" setting off, as a
	// freshly installed app has it.
	DisableBlindSigning bool
	// Disable7702 starts with EIP-7702 authorizations disabled.
	Disable7702 bool
	// Locked starts with the PIN screen up.
	Locked bool
	// AppClosed starts on the dashboard.
	AppClosed bool
	// ConfirmDelay is how long the simulated user takes to confirm.
	ConfirmDelay time.Duration
	// Logf, when set, receives one line per APDU exchanged (no key material).
	Logf func(format string, args ...any)
}

// Emulator is a Ledger device running the Ethereum app. It processes APDUs
// exactly as app-ethereum lays them out (chunking, status words, response
// layouts, the 8-bit legacy v byte) and signs with go-ethereum's RFC 6979
// secp256k1, so its signatures equal a real device's with the same seed.
//
// Serve it over the Speculos TCP protocol (Listen) or the 64-byte HID framing
// on an in-memory stream (PipeHID); drive its state with the fault controls.
// An Emulator is safe for concurrent use; like a device it processes one APDU
// at a time.
type Emulator struct {
	keys  *emulator.Keyring
	model transport.LedgerModel
	logf  func(string, ...any)

	ctl             sync.Mutex
	version         [3]int
	blind           bool
	eip7702         bool
	locked          bool
	appOpen         bool
	delay           time.Duration
	rejectNext      bool
	disconnectNext  bool
	disconnectAfter int
	confirmations   int
	signatures      int

	dev  sync.Mutex // one APDU at a time, like the device
	tx   txState    // the flow registers of the connection being served
	msg  msgState
	e712 *eip712State
	gen  uint64 // bumped when the app closes: every saved flow is dropped
	own  flows  // flows of direct Exchange calls

	srv servers
}

// NewEmulator returns an emulator configured by opts.
func NewEmulator(opts Options) (*Emulator, error) {
	mn := opts.Mnemonic
	if mn == "" {
		mn = SpeculosMnemonic
	}
	keys, err := emulator.NewKeyring(mn, "")
	if err != nil {
		return nil, err
	}
	slug := opts.Model
	if slug == "" {
		slug = "nanosp"
	}
	model, ok := transport.LedgerModelBySlug(slug)
	if !ok {
		return nil, fmt.Errorf("ledger emulator: unknown model %q", slug)
	}
	e := &Emulator{
		keys: keys, model: model, logf: opts.Logf,
		blind: !opts.DisableBlindSigning, eip7702: !opts.Disable7702,
		locked: opts.Locked, appOpen: !opts.AppClosed, delay: opts.ConfirmDelay,
	}
	v := opts.AppVersion
	if v == "" {
		v = DefaultAppVersion
	}
	if err := e.SetAppVersion(v); err != nil {
		return nil, err
	}
	return e, nil
}

// Model returns the emulated model.
func (e *Emulator) Model() transport.LedgerModel { return e.model }

// --- fault controls ---------------------------------------------------------

// RejectNext makes the simulated user reject the next on-device confirmation
// (the device answers 0x6985).
func (e *Emulator) RejectNext() { e.ctl.Lock(); e.rejectNext = true; e.ctl.Unlock() }

// ApproveAll returns to auto-approval and clears pending faults.
func (e *Emulator) ApproveAll() {
	e.ctl.Lock()
	e.rejectNext, e.disconnectNext, e.disconnectAfter = false, false, 0
	e.ctl.Unlock()
}

// SetLocked puts the PIN screen up (every APDU answers 0x5515) or unlocks.
func (e *Emulator) SetLocked(locked bool) { e.ctl.Lock(); e.locked = locked; e.ctl.Unlock() }

// SetAppOpen opens the Ethereum app or closes it to the dashboard (Ethereum
// APDUs answer 0x6E01 there). Closing the app drops any flow in progress.
func (e *Emulator) SetAppOpen(open bool) {
	e.ctl.Lock()
	e.appOpen = open
	e.ctl.Unlock()
	e.dev.Lock()
	e.gen++
	e.dev.Unlock()
}

// SetBlindSigning switches the app's "Blind signing" setting.
func (e *Emulator) SetBlindSigning(on bool) { e.ctl.Lock(); e.blind = on; e.ctl.Unlock() }

// Set7702 switches the app's EIP-7702 setting.
func (e *Emulator) Set7702(on bool) { e.ctl.Lock(); e.eip7702 = on; e.ctl.Unlock() }

// SetAppVersion sets the Ethereum app version ("1.8.8").
func (e *Emulator) SetAppVersion(v string) error {
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return fmt.Errorf("ledger emulator: app version %q is not MAJOR.MINOR.PATCH", v)
	}
	var out [3]int
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 255 {
			return fmt.Errorf("ledger emulator: app version %q is not MAJOR.MINOR.PATCH", v)
		}
		out[i] = n
	}
	e.ctl.Lock()
	e.version = out
	e.ctl.Unlock()
	return nil
}

// AppVersion returns the app version as "MAJOR.MINOR.PATCH".
func (e *Emulator) AppVersion() string {
	e.ctl.Lock()
	defer e.ctl.Unlock()
	return fmt.Sprintf("%d.%d.%d", e.version[0], e.version[1], e.version[2])
}

// SetConfirmDelay sets how long the simulated user takes to confirm.
func (e *Emulator) SetConfirmDelay(d time.Duration) { e.ctl.Lock(); e.delay = d; e.ctl.Unlock() }

// DisconnectNext unplugs the device at the next on-device confirmation: the
// connection closes and no answer (and no signature) is sent.
func (e *Emulator) DisconnectNext() { e.ctl.Lock(); e.disconnectNext = true; e.ctl.Unlock() }

// DisconnectAfter unplugs the device when it receives the n-th APDU from now
// (n ≥ 1), e.g. in the middle of a chunked transaction.
func (e *Emulator) DisconnectAfter(n int) { e.ctl.Lock(); e.disconnectAfter = n; e.ctl.Unlock() }

// Stats counts what the device did.
type Stats struct {
	// Confirmations is the number of on-device reviews started.
	Confirmations int `json:"confirmations"`
	// Signatures is the number of signatures the device produced and sent.
	Signatures int `json:"signatures"`
}

// Stats returns the counters.
func (e *Emulator) Stats() Stats {
	e.ctl.Lock()
	defer e.ctl.Unlock()
	return Stats{Confirmations: e.confirmations, Signatures: e.signatures}
}

// State is the device state the HTTP control endpoint reports.
type State struct {
	Model        string `json:"model"`
	AppVersion   string `json:"appVersion"`
	AppOpen      bool   `json:"appOpen"`
	Locked       bool   `json:"locked"`
	BlindSigning bool   `json:"blindSigning"`
	EIP7702      bool   `json:"eip7702"`
	RejectNext   bool   `json:"rejectNext"`
	DelayMillis  int64  `json:"confirmDelayMs"`
	Stats
}

// State returns the current device state.
func (e *Emulator) State() State {
	e.ctl.Lock()
	defer e.ctl.Unlock()
	return State{
		Model: e.model.Name, AppVersion: fmt.Sprintf("%d.%d.%d", e.version[0], e.version[1], e.version[2]),
		AppOpen: e.appOpen, Locked: e.locked, BlindSigning: e.blind, EIP7702: e.eip7702,
		RejectNext: e.rejectNext, DelayMillis: e.delay.Milliseconds(),
		Stats: Stats{Confirmations: e.confirmations, Signatures: e.signatures},
	}
}

func (e *Emulator) versionAtLeast(major, minor, patch int) bool {
	e.ctl.Lock()
	defer e.ctl.Unlock()
	v := e.version
	if v[0] != major {
		return v[0] > major
	}
	if v[1] != minor {
		return v[1] > minor
	}
	return v[2] >= patch
}

// --- APDU processing -----------------------------------------------------------

// reply is the device's answer to one APDU.
type reply struct {
	data []byte
	sw   uint16
	// drop closes the connection without answering (unplugged).
	drop bool
	// signed marks a reply that carries a signature.
	signed bool
}

func (r reply) bytes() []byte {
	out := make([]byte, len(r.data)+2)
	copy(out, r.data)
	binary.BigEndian.PutUint16(out[len(r.data):], r.sw)
	return out
}

func sw(code uint16) reply { return reply{sw: code} }

// ErrUnplugged is returned by Exchange when a fault control unplugged the
// device instead of answering.
var ErrUnplugged = errors.New("ledger emulator: device unplugged")

// Exchange processes one APDU and returns response data followed by the
// status word, as the device would send it. It is the core that Listen and
// PipeHID serve; tests may call it directly.
func (e *Emulator) Exchange(apdu []byte) ([]byte, error) {
	r := e.process(context.Background(), &e.own, apdu)
	if r.drop {
		return nil, ErrUnplugged
	}
	e.delivered(r)
	return r.bytes(), nil
}

// delivered counts a signature once its reply reached the host.
func (e *Emulator) delivered(r reply) {
	if r.signed {
		e.ctl.Lock()
		e.signatures++
		e.ctl.Unlock()
	}
}

// undelivered takes back a signature whose reply could not be sent.
func (e *Emulator) undelivered(r reply) {
	if r.signed {
		e.ctl.Lock()
		e.signatures--
		e.ctl.Unlock()
	}
}

// flows is the multi-APDU state (a transaction, message or EIP-712 document
// being streamed) of one connection. A real device has a single set, so two
// programs interleaving their APDUs would corrupt each other's flows; the
// emulator keeps one per connection so that test processes can share it.
type flows struct {
	tx   txState
	msg  msgState
	e712 *eip712State
	gen  uint64
}

// process handles one APDU within the connection's flows f. ctx ends when the
// host goes away; a flow waiting for the user then stops without signing.
func (e *Emulator) process(ctx context.Context, f *flows, apdu []byte) reply {
	e.dev.Lock()
	defer e.dev.Unlock()
	if f.gen != e.gen {
		*f = flows{gen: e.gen}
	}
	e.tx, e.msg, e.e712 = f.tx, f.msg, f.e712
	defer func() { f.tx, f.msg, f.e712 = e.tx, e.msg, e.e712 }()
	e.ctl.Lock()
	if e.disconnectAfter > 0 {
		e.disconnectAfter--
		if e.disconnectAfter == 0 {
			e.ctl.Unlock()
			e.resetFlows()
			return reply{drop: true}
		}
	}
	locked, appOpen := e.locked, e.appOpen
	e.ctl.Unlock()

	r := e.dispatch(ctx, apdu, locked, appOpen)
	if e.logf != nil {
		e.logf("ledger emulator: => %x <= %x%04x", apdu, r.data, r.sw)
	}
	return r
}

func (e *Emulator) dispatch(ctx context.Context, apdu []byte, locked, appOpen bool) reply {
	if locked {
		return sw(SWLocked)
	}
	if len(apdu) < 5 {
		return sw(SWWrongLength)
	}
	cla, ins, p1, p2, lc := apdu[0], apdu[1], apdu[2], apdu[3], int(apdu[4])
	data := apdu[5:]
	if len(data) != lc {
		return sw(SWWrongLength)
	}
	if cla == claOS && ins == insGetAppAndVersion {
		return e.appAndVersion(appOpen)
	}
	if !appOpen {
		return sw(SWNoAppOpen)
	}
	if cla != claEthereum {
		return sw(SWClaNotSupported)
	}
	switch ins {
	case insGetAddress:
		return e.getAddress(ctx, p1, p2, data)
	case insGetConfig:
		return e.getConfig()
	case insSignTx:
		return e.signTx(ctx, p1, p2, data)
	case insSignPersonal:
		return e.signPersonal(ctx, p1, p2, data)
	case insSignEIP712:
		return e.signEIP712(ctx, p1, p2, data)
	case insEIP712StructDef:
		if !e.versionAtLeast(1, 9, 19) {
			return sw(SWInsNotSupported)
		}
		return e.eip712Def(p1, p2, data)
	case insEIP712StructImpl:
		if !e.versionAtLeast(1, 9, 19) {
			return sw(SWInsNotSupported)
		}
		return e.eip712Impl(p1, p2, data)
	case insSignAuthorization:
		if !e.versionAtLeast(1, 17, 0) {
			return sw(SWInsNotSupported)
		}
		return e.signAuthorization(ctx, p1, data)
	}
	return sw(SWInsNotSupported)
}

// resetFlows forgets every multi-APDU flow in progress. Callers hold e.dev.
func (e *Emulator) resetFlows() {
	e.tx = txState{}
	e.msg = msgState{}
	e.e712 = nil
}

// appAndVersion answers B0 01: format 1, name, version, flags.
func (e *Emulator) appAndVersion(appOpen bool) reply {
	name, version := "BOLOS", "1.1.2"
	if appOpen {
		name, version = "Ethereum", e.AppVersion()
	}
	out := []byte{0x01, byte(len(name))}
	out = append(out, name...)
	out = append(out, byte(len(version)))
	out = append(out, version...)
	out = append(out, 0x01, 0x00)
	return reply{data: out, sw: SWOK}
}

func (e *Emulator) getConfig() reply {
	e.ctl.Lock()
	defer e.ctl.Unlock()
	var flags byte
	if e.blind {
		flags |= 0x01
	}
	return reply{data: []byte{flags, byte(e.version[0]), byte(e.version[1]), byte(e.version[2])}, sw: SWOK}
}

// confirm simulates the user reviewing on the device. It returns a reply to
// send instead of the signature, or nil to go on and sign.
func (e *Emulator) confirm(ctx context.Context) *reply {
	e.ctl.Lock()
	e.confirmations++
	reject, disconnect, delay := e.rejectNext, e.disconnectNext, e.delay
	e.rejectNext, e.disconnectNext = false, false
	e.ctl.Unlock()
	if disconnect {
		return &reply{drop: true}
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			// The host went away while the review was on screen: the
			// simulated user never confirms, nothing is signed.
			return &reply{drop: true}
		}
	}
	if reject {
		r := sw(SWUserRejected)
		return &r
	}
	return nil
}

func (e *Emulator) getAddress(ctx context.Context, p1, p2 byte, data []byte) reply {
	if p1 > 1 || p2 > 1 {
		return sw(SWWrongP1P2)
	}
	path, rest, ok := parsePath(data)
	if !ok || (len(rest) != 0 && len(rest) != 8) {
		return sw(SWInvalidData)
	}
	k, err := e.keys.Derive(path)
	if err != nil {
		return sw(SWInvalidData)
	}
	if p1 == 1 {
		if r := e.confirm(ctx); r != nil {
			return *r
		}
	}
	out := make([]byte, 0, 1+65+1+40+32)
	out = append(out, byte(len(k.Pub)))
	out = append(out, k.Pub...)
	hexAddr := k.Address.Hex()[2:]
	out = append(out, byte(len(hexAddr)))
	out = append(out, hexAddr...)
	if p2 == 1 {
		out = append(out, k.ChainCode...)
	}
	return reply{data: out, sw: SWOK}
}
