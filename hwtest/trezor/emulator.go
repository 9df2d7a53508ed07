package trezor

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mm-wallet/mm/hwtest/emulator"
	"github.com/mm-wallet/mm/signers/trezor/trezorpb"
)

// Model names an emulated device model.
type Model string

// Model profiles.
const (
	// ModelOne is the Trezor One (T1B1) on legacy firmware.
	ModelOne Model = "one"
	// ModelT is the Trezor Model T (T2T1) on Core firmware.
	ModelT Model = "t"
	// ModelSafe3 is the Trezor Safe 3 (T2B1) on Core firmware.
	ModelSafe3 Model = "safe3"
	// ModelSafe5 is the Trezor Safe 5 (T3T1) on Core firmware.
	ModelSafe5 Model = "safe5"
)

// Models lists the profiles.
var Models = []Model{ModelOne, ModelT, ModelSafe3, ModelSafe5}

type profile struct {
	model    string // Features.model
	internal string // Features.internal_model
	name     string // what people call it
	core     bool   // Core firmware (else legacy)
	firmware [3]uint32
}

var profiles = map[Model]profile{
	ModelOne:   {model: "1", internal: "T1B1", name: "Trezor Model One", firmware: [3]uint32{1, 12, 1}},
	ModelT:     {model: "T", internal: "T2T1", name: "Trezor Model T", core: true, firmware: [3]uint32{2, 8, 7}},
	ModelSafe3: {model: "Safe 3", internal: "T2B1", name: "Trezor Safe 3", core: true, firmware: [3]uint32{2, 8, 7}},
	ModelSafe5: {model: "Safe 5", internal: "T3T1", name: "Trezor Safe 5", core: true, firmware: [3]uint32{2, 8, 7}},
}

// Options configures an Emulator. The zero value is a Model T on recent
// firmware with the SLIP-14 seed, no PIN and no passphrase, approving every
// confirmation.
type Options struct {
	// Model picks the profile (default ModelT).
	Model Model
	// Firmware is the version the device reports, "major.minor.patch"
	// (default: a recent release of the model's firmware family).
	Firmware string
	// Mnemonic is the BIP-39 seed (default DefaultMnemonic).
	Mnemonic string
	// PIN turns PIN protection on: digits 1–9. The device starts locked.
	PIN string
	// PassphraseProtection makes the device ask for a BIP-39 passphrase
	// once per session; the passphrase changes every derived key.
	PassphraseProtection bool
	// DevicePassphrase is what the simulated user types on a Core device
	// when the host asks for on-device passphrase entry.
	DevicePassphrase string
	// Seed seeds the random source that scrambles the PIN matrix and makes
	// session ids, so tests can predict both.
	Seed uint64
	// BitcoinOnly emulates a bitcoin-only firmware build: no Ethereum
	// capability; every Ethereum message fails with UnexpectedMessage.
	BitcoinOnly bool
	// Uninitialized emulates a device without a seed: Ethereum messages
	// fail with NotInitialized.
	Uninitialized bool
	// Label is the device label (default "mm emulator").
	Label string
	// MaxMessageSize bounds EthereumSignMessage payloads (0: no bound).
	MaxMessageSize int
	// Logf receives one line per message in and out (nil: silent). Secrets
	// (PIN, passphrase) are never logged.
	Logf func(format string, args ...any)
	// Events receives what a person at the device would see: "waiting
	// for the user: confirm_output", the scrambled PIN matrix (nil: none).
	Events func(event string)
}

// Emulator is an emulated Trezor. Its firmware runs in one goroutine that
// handles messages in order, like the device; servers (UDP, HID stream,
// Bridge) feed it frames. Control methods are safe for concurrent use.
type Emulator struct {
	opts     Options
	prof     profile
	version  [3]uint32
	deviceID string

	inbox  chan inbound
	closed chan struct{}
	once   sync.Once

	// firmware state, owned by the firmware goroutine
	route           func([]byte)
	sessionID       []byte
	passphraseReady bool
	passphrase      string
	keys            map[string]*emulator.Keyring

	ctl            sync.Mutex
	rng            *rand.Rand
	locked         bool
	rejectNext     int
	rejectAll      bool
	manual         bool
	delay          time.Duration
	disconnectNext bool
	pinEntry       PINEntry
	matrix         [9]byte
	waiting        string // name of the confirmation the user is asked for
	decide         chan bool
	stats          Stats
	onDisconnect   []func()
}

// PINEntry is what the simulated user does when a Core device asks for the
// PIN on its own screen.
type PINEntry string

// PIN entry outcomes.
const (
	PINCorrect PINEntry = "correct" // type the configured PIN (default)
	PINWrong   PINEntry = "wrong"   // type a wrong PIN: Failure PinInvalid
	PINCancel  PINEntry = "cancel"  // cancel on the device: Failure PinCancelled
)

// Stats counts what the emulator did.
type Stats struct {
	// Messages is the number of host messages handled.
	Messages int `json:"messages"`
	// Signatures is the number of signatures the device returned.
	Signatures int `json:"signatures"`
	// Rejected is the number of confirmations the user rejected.
	Rejected int `json:"rejected"`
	// SigningTime is the time spent deriving keys, hashing and signing:
	// the device's own cost, without the transport.
	SigningTime time.Duration `json:"signingTimeNs"`
}

// State is a snapshot for tests and the control endpoint.
type State struct {
	Model          string `json:"model"`
	InternalModel  string `json:"internalModel"`
	Name           string `json:"name"`
	Firmware       string `json:"firmware"`
	Locked         bool   `json:"locked"`
	PINProtection  bool   `json:"pinProtection"`
	Passphrase     bool   `json:"passphraseProtection"`
	BitcoinOnly    bool   `json:"bitcoinOnly"`
	Initialized    bool   `json:"initialized"`
	Manual         bool   `json:"manual"`
	RejectAll      bool   `json:"rejectAll"`
	RejectNext     int    `json:"rejectNext"`
	ConfirmDelayMs int64  `json:"confirmDelayMs"`
	Waiting        string `json:"waiting,omitempty"`
	// PinMatrix is the scrambled keypad the One shows while it asks for
	// the PIN, top row first (positions 7 8 9 / 4 5 6 / 1 2 3).
	PinMatrix string `json:"pinMatrix,omitempty"`
	Stats     Stats  `json:"stats"`
}

type inbound struct {
	typ     trezorpb.MessageType
	payload []byte
	reply   func([]byte)
}

// New returns an emulator; serve it with ListenUDP, HIDStream or a Bridge.
func New(opts Options) (*Emulator, error) {
	if opts.Model == "" {
		opts.Model = ModelT
	}
	prof, ok := profiles[opts.Model]
	if !ok {
		return nil, fmt.Errorf("trezor emulator: unknown model %q (known: %v)", opts.Model, Models)
	}
	if opts.Mnemonic == "" {
		opts.Mnemonic = DefaultMnemonic
	}
	if opts.Label == "" {
		opts.Label = "mm emulator"
	}
	for _, c := range opts.PIN {
		if c < '1' || c > '9' {
			return nil, errors.New("trezor emulator: the PIN may hold only the digits 1-9")
		}
	}
	if len(opts.PIN) > 50 {
		return nil, errors.New("trezor emulator: the PIN is longer than 50 digits")
	}
	version := prof.firmware
	if opts.Firmware != "" {
		v, err := ParseVersion(opts.Firmware)
		if err != nil {
			return nil, err
		}
		version = v
	}
	if _, err := emulator.NewKeyring(opts.Mnemonic, ""); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x7472657a6f72))
	e := &Emulator{
		opts:     opts,
		prof:     prof,
		version:  version,
		deviceID: fmt.Sprintf("%024X", rng.Uint64()),
		inbox:    make(chan inbound, 64),
		closed:   make(chan struct{}),
		keys:     map[string]*emulator.Keyring{},
		rng:      rng,
		locked:   opts.PIN != "",
		pinEntry: PINCorrect,
		decide:   make(chan bool, 1),
	}
	e.sessionID = e.newSessionID()
	go e.run()
	return e, nil
}

// ParseVersion reads "major.minor.patch".
func ParseVersion(s string) ([3]uint32, error) {
	var v [3]uint32
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return v, fmt.Errorf("trezor emulator: firmware version %q is not major.minor.patch", s)
	}
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return v, fmt.Errorf("trezor emulator: firmware version %q is not major.minor.patch", s)
		}
		v[i] = uint32(n)
	}
	return v, nil
}

// Close stops the firmware; servers stop delivering.
func (e *Emulator) Close() error {
	e.once.Do(func() { close(e.closed) })
	return nil
}

// Name returns the model's name, e.g. "Trezor Model T".
func (e *Emulator) Name() string { return e.prof.name }

// Core reports whether the profile runs Core firmware.
func (e *Emulator) Core() bool { return e.prof.core }

// RejectNext makes the simulated user reject the next confirmation.
func (e *Emulator) RejectNext() { e.ctl.Lock(); e.rejectNext++; e.ctl.Unlock() }

// RejectAll makes the user reject every confirmation until ApproveAll.
func (e *Emulator) RejectAll() { e.ctl.Lock(); e.rejectAll = true; e.ctl.Unlock() }

// ApproveAll returns to approving every confirmation at once: it clears
// rejections, manual mode and the confirmation delay.
func (e *Emulator) ApproveAll() {
	e.ctl.Lock()
	e.rejectNext, e.rejectAll, e.manual, e.delay = 0, false, false, 0
	e.ctl.Unlock()
}

// SetManual makes every confirmation wait for Approve or Reject (or the
// host's Cancel).
func (e *Emulator) SetManual(on bool) { e.ctl.Lock(); e.manual = on; e.ctl.Unlock() }

// Approve approves the confirmation waiting in manual mode. It reports
// whether one was waiting.
func (e *Emulator) Approve() bool { return e.answer(true) }

// Reject rejects the confirmation waiting in manual mode. It reports
// whether one was waiting.
func (e *Emulator) Reject() bool { return e.answer(false) }

func (e *Emulator) answer(ok bool) bool {
	e.ctl.Lock()
	waiting := e.waiting != ""
	e.ctl.Unlock()
	if !waiting {
		return false
	}
	select {
	case e.decide <- ok:
		return true
	default:
		return false
	}
}

// Waiting returns the name of the confirmation the device currently shows
// ("" when none).
func (e *Emulator) Waiting() string { e.ctl.Lock(); defer e.ctl.Unlock(); return e.waiting }

// SetConfirmDelay sets how long the simulated user takes to confirm.
func (e *Emulator) SetConfirmDelay(d time.Duration) { e.ctl.Lock(); e.delay = d; e.ctl.Unlock() }

// SetPINEntry sets what the user does at the next on-device PIN entry of a
// Core model (the One asks the host instead).
func (e *Emulator) SetPINEntry(p PINEntry) { e.ctl.Lock(); e.pinEntry = p; e.ctl.Unlock() }

// Lock locks the device (as LockDevice or a timeout would): the PIN is
// asked again before the next protected call.
func (e *Emulator) Lock() {
	e.ctl.Lock()
	e.locked = e.opts.PIN != ""
	e.ctl.Unlock()
}

// DisconnectNext unplugs the device at the next confirmation: the servers
// stop and the exchange never completes.
func (e *Emulator) DisconnectNext() { e.ctl.Lock(); e.disconnectNext = true; e.ctl.Unlock() }

// Stats returns the counters.
func (e *Emulator) Stats() Stats { e.ctl.Lock(); defer e.ctl.Unlock(); return e.stats }

// PinMatrix returns the scrambled keypad shown during the current (or the
// last) PIN request, top row first: the digits at positions 7 8 9, 4 5 6,
// 1 2 3.
func (e *Emulator) PinMatrix() string {
	e.ctl.Lock()
	defer e.ctl.Unlock()
	return e.matrixString()
}

func (e *Emulator) matrixString() string {
	if e.matrix[0] == 0 {
		return ""
	}
	var b strings.Builder
	for i, pos := range []int{7, 8, 9, 4, 5, 6, 1, 2, 3} {
		if i > 0 && i%3 == 0 {
			b.WriteByte('/')
		}
		b.WriteByte(e.matrix[pos-1])
	}
	return b.String()
}

// PinPositions turns a PIN into what the host must send for a matrix as
// PinMatrix returns it: the keypad position (789/456/123) of each digit.
func PinPositions(matrix, pin string) (string, error) {
	rows := strings.Split(matrix, "/")
	if len(rows) != 3 {
		return "", fmt.Errorf("matrix %q is not three rows", matrix)
	}
	where := map[rune]byte{}
	positions := [][]byte{[]byte("789"), []byte("456"), []byte("123")}
	for r, row := range rows {
		if len(row) != 3 {
			return "", fmt.Errorf("matrix %q is not three rows of three", matrix)
		}
		for c, d := range row {
			where[d] = positions[r][c]
		}
	}
	out := make([]byte, 0, len(pin))
	for _, d := range pin {
		p, ok := where[d]
		if !ok {
			return "", fmt.Errorf("digit %q is not on the matrix", d)
		}
		out = append(out, p)
	}
	return string(out), nil
}

// State returns a snapshot.
func (e *Emulator) State() State {
	e.ctl.Lock()
	defer e.ctl.Unlock()
	return State{
		Model:          e.prof.model,
		InternalModel:  e.prof.internal,
		Name:           e.prof.name,
		Firmware:       e.versionString(),
		Locked:         e.locked,
		PINProtection:  e.opts.PIN != "",
		Passphrase:     e.opts.PassphraseProtection,
		BitcoinOnly:    e.opts.BitcoinOnly,
		Initialized:    !e.opts.Uninitialized,
		Manual:         e.manual,
		RejectAll:      e.rejectAll,
		RejectNext:     e.rejectNext,
		ConfirmDelayMs: e.delay.Milliseconds(),
		Waiting:        e.waiting,
		PinMatrix:      e.matrixString(),
		Stats:          e.stats,
	}
}

func (e *Emulator) versionString() string {
	return fmt.Sprintf("%d.%d.%d", e.version[0], e.version[1], e.version[2])
}

func (e *Emulator) versionAtLeast(major, minor, patch uint32) bool {
	v := e.version
	if v[0] != major {
		return v[0] > major
	}
	if v[1] != minor {
		return v[1] > minor
	}
	return v[2] >= patch
}

func (e *Emulator) event(format string, args ...any) {
	if e.opts.Events != nil {
		e.opts.Events(fmt.Sprintf(format, args...))
	}
}

func (e *Emulator) logf(format string, args ...any) {
	if e.opts.Logf != nil {
		e.opts.Logf(format, args...)
	}
}

// onUnplug registers what a disconnect stops (a server's socket).
func (e *Emulator) onUnplug(f func()) {
	e.ctl.Lock()
	e.onDisconnect = append(e.onDisconnect, f)
	e.ctl.Unlock()
}

func (e *Emulator) unplug() {
	e.ctl.Lock()
	fs := e.onDisconnect
	e.onDisconnect = nil
	e.ctl.Unlock()
	for _, f := range fs {
		f()
	}
	e.Close()
}

// Closed reports whether the emulator was closed or unplugged.
func (e *Emulator) Closed() bool {
	select {
	case <-e.closed:
		return true
	default:
		return false
	}
}
