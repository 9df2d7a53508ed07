package trezor

import (
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/mm-wallet/mm/hwtest/emulator"
	"github.com/mm-wallet/mm/signers/transport"
	"github.com/mm-wallet/mm/signers/trezor/trezorpb"
)

type mt = trezorpb.MessageType

// Message type ids used below.
const (
	tInitialize        = trezorpb.MessageType_MessageType_Initialize
	tPing              = trezorpb.MessageType_MessageType_Ping
	tGetFeatures       = trezorpb.MessageType_MessageType_GetFeatures
	tCancel            = trezorpb.MessageType_MessageType_Cancel
	tLockDevice        = trezorpb.MessageType_MessageType_LockDevice
	tEndSession        = trezorpb.MessageType_MessageType_EndSession
	tButtonAck         = trezorpb.MessageType_MessageType_ButtonAck
	tPinMatrixAck      = trezorpb.MessageType_MessageType_PinMatrixAck
	tPassphraseAck     = trezorpb.MessageType_MessageType_PassphraseAck
	tGetAddress        = trezorpb.MessageType_MessageType_EthereumGetAddress
	tSignTx            = trezorpb.MessageType_MessageType_EthereumSignTx
	tSignTx1559        = trezorpb.MessageType_MessageType_EthereumSignTxEIP1559
	tTxAck             = trezorpb.MessageType_MessageType_EthereumTxAck
	tSignMessage       = trezorpb.MessageType_MessageType_EthereumSignMessage
	tSignTypedData     = trezorpb.MessageType_MessageType_EthereumSignTypedData
	tTypedStructAck    = trezorpb.MessageType_MessageType_EthereumTypedDataStructAck
	tTypedValueAck     = trezorpb.MessageType_MessageType_EthereumTypedDataValueAck
	tSignTypedHash     = trezorpb.MessageType_MessageType_EthereumSignTypedHash
	failUnexpected     = trezorpb.Failure_Failure_UnexpectedMessage
	failDataError      = trezorpb.Failure_Failure_DataError
	failCancelled      = trezorpb.Failure_Failure_ActionCancelled
	failPinCancelled   = trezorpb.Failure_Failure_PinCancelled
	failPinInvalid     = trezorpb.Failure_Failure_PinInvalid
	failNotInitialized = trezorpb.Failure_Failure_NotInitialized
	failProcessError   = trezorpb.Failure_Failure_ProcessError
)

// failure ends a flow with a Failure message.
type failure struct {
	code trezorpb.Failure_FailureType
	msg  string
}

// Error implements error.
func (f *failure) Error() string { return fmt.Sprintf("%s: %s", f.code, f.msg) }

func fail(code trezorpb.Failure_FailureType, format string, args ...any) error {
	return &failure{code: code, msg: fmt.Sprintf(format, args...)}
}

// restart: a new message interrupted the running flow. Core firmware drops
// the flow without a reply and handles the new message.
type restart struct{ in inbound }

// Error implements error.
func (r *restart) Error() string { return "interrupted by " + trezorpb.Name(r.in.typ) }

// errUnplugged: the device is gone.
var errUnplugged = errors.New("trezor emulator: unplugged")

// deliver hands one frame from a server to the firmware; reply receives the
// frames of the answer. It drops frames once the emulator is closed.
func (e *Emulator) deliver(frame []byte, reply func([]byte)) {
	typ, payload, err := transport.ParseTrezorFrame(frame)
	if err != nil {
		return
	}
	select {
	case <-e.closed:
	case e.inbox <- inbound{typ: mt(typ), payload: payload, reply: reply}:
	}
}

func (e *Emulator) recv() (inbound, error) {
	select {
	case <-e.closed:
		return inbound{}, errUnplugged
	case in := <-e.inbox:
		e.route = in.reply
		e.ctl.Lock()
		e.stats.Messages++
		e.ctl.Unlock()
		e.logf("trezor emulator: <- %s", trezorpb.Name(in.typ))
		return in, nil
	}
}

func (e *Emulator) send(m proto.Message) {
	typ, payload, err := trezorpb.Marshal(m)
	if err != nil {
		typ, payload, _ = trezorpb.Marshal(&trezorpb.Failure{Code: failProcessError.Enum(), Message: proto.String("encode error")})
	}
	e.logf("trezor emulator: -> %s", trezorpb.Name(typ))
	if e.route != nil {
		e.route(transport.TrezorFrame(uint16(typ), payload))
	}
}

func (e *Emulator) run() {
	var pending *inbound
	for {
		var in inbound
		if pending != nil {
			in, pending = *pending, nil
		} else {
			var err error
			if in, err = e.recv(); err != nil {
				return
			}
		}
		resp, err := e.dispatch(in)
		var f *failure
		var r *restart
		switch {
		case errors.As(err, &r):
			pending = &r.in
		case errors.As(err, &f):
			e.send(&trezorpb.Failure{Code: f.code.Enum(), Message: proto.String(f.msg)})
		case err != nil:
			return // unplugged
		default:
			e.send(resp)
		}
	}
}

// call sends reply and returns the host's next message.
func (e *Emulator) call(reply proto.Message) (inbound, error) {
	e.send(reply)
	return e.recv()
}

// expect sends reply and decodes the host's answer into out, which must be
// of type want. Cancel ends the flow with cancelCode; a message that starts
// another flow interrupts this one; anything else is UnexpectedMessage.
func (e *Emulator) expect(reply proto.Message, want mt, out proto.Message, cancelCode trezorpb.Failure_FailureType) error {
	in, err := e.call(reply)
	if err != nil {
		return err
	}
	return e.accept(in, want, out, cancelCode)
}

func (e *Emulator) accept(in inbound, want mt, out proto.Message, cancelCode trezorpb.Failure_FailureType) error {
	switch {
	case in.typ == want:
		if err := proto.Unmarshal(in.payload, out); err != nil {
			return fail(failDataError, "Failed to decode message")
		}
		return nil
	case in.typ == tCancel:
		return fail(cancelCode, "Cancelled")
	case startsFlow(in.typ):
		return &restart{in: in}
	}
	return fail(failUnexpected, "Unexpected message")
}

func startsFlow(t mt) bool {
	switch t {
	case tInitialize, tGetFeatures, tPing, tLockDevice, tEndSession, tGetAddress, tSignTx, tSignTx1559,
		tSignMessage, tSignTypedData, tSignTypedHash:
		return true
	}
	return false
}

func (e *Emulator) dispatch(in inbound) (proto.Message, error) {
	m, ok := trezorpb.New(in.typ)
	if !ok || !startsFlow(in.typ) {
		if in.typ == tCancel {
			return nil, fail(failCancelled, "Cancelled")
		}
		return nil, fail(failUnexpected, "Unexpected message")
	}
	if err := proto.Unmarshal(in.payload, m); err != nil {
		return nil, fail(failDataError, "Failed to decode message")
	}
	switch msg := m.(type) {
	case *trezorpb.Initialize:
		if len(msg.SessionId) == 0 || string(msg.SessionId) != string(e.sessionID) {
			e.sessionID = e.newSessionID()
			e.passphraseReady, e.passphrase = false, ""
		}
		return e.features(), nil
	case *trezorpb.GetFeatures:
		return e.features(), nil
	case *trezorpb.Ping:
		if msg.GetButtonProtection() {
			if err := e.confirm(trezorpb.ButtonRequest_ButtonRequest_ProtectCall, "ping"); err != nil {
				return nil, err
			}
		}
		return &trezorpb.Success{Message: proto.String(msg.GetMessage())}, nil
	case *trezorpb.LockDevice:
		e.Lock()
		e.passphraseReady, e.passphrase = false, ""
		return &trezorpb.Success{Message: proto.String("Device locked")}, nil
	case *trezorpb.EndSession:
		e.sessionID = e.newSessionID()
		e.passphraseReady, e.passphrase = false, ""
		return &trezorpb.Success{Message: proto.String("Session ended")}, nil
	}
	// Ethereum.
	if e.opts.BitcoinOnly {
		return nil, fail(failUnexpected, "Unexpected message")
	}
	switch msg := m.(type) {
	case *trezorpb.EthereumSignTypedData:
		if !e.prof.core || !e.versionAtLeast(2, 4, 3) {
			return nil, fail(failUnexpected, "Unexpected message")
		}
		return e.guarded(func(k *emulator.Keyring) (proto.Message, error) { return e.signTypedData(k, msg) })
	case *trezorpb.EthereumSignTypedHash:
		if e.prof.core || !e.versionAtLeast(1, 10, 5) {
			return nil, fail(failUnexpected, "Unexpected message")
		}
		return e.guarded(func(k *emulator.Keyring) (proto.Message, error) { return e.signTypedHash(k, msg) })
	case *trezorpb.EthereumSignTxEIP1559:
		if (e.prof.core && !e.versionAtLeast(2, 4, 2)) || (!e.prof.core && !e.versionAtLeast(1, 10, 4)) {
			return nil, fail(failUnexpected, "Unexpected message")
		}
		return e.guarded(func(k *emulator.Keyring) (proto.Message, error) { return e.signTx1559(k, msg) })
	case *trezorpb.EthereumSignTx:
		return e.guarded(func(k *emulator.Keyring) (proto.Message, error) { return e.signTx(k, msg) })
	case *trezorpb.EthereumSignMessage:
		return e.guarded(func(k *emulator.Keyring) (proto.Message, error) { return e.signMessage(k, msg) })
	case *trezorpb.EthereumGetAddress:
		return e.guarded(func(k *emulator.Keyring) (proto.Message, error) { return e.getAddress(k, msg) })
	}
	return nil, fail(failUnexpected, "Unexpected message")
}

// guarded runs a flow that needs the seed: initialized, unlocked (PIN),
// passphrase known.
func (e *Emulator) guarded(flow func(*emulator.Keyring) (proto.Message, error)) (proto.Message, error) {
	if e.opts.Uninitialized {
		return nil, fail(failNotInitialized, "Device not initialized")
	}
	if err := e.unlock(); err != nil {
		return nil, err
	}
	k, err := e.sessionKeys()
	if err != nil {
		return nil, err
	}
	return flow(k)
}

// unlock asks for the PIN when the device is locked: on the host through
// the scrambled matrix (One), on the device's own screen (Core).
func (e *Emulator) unlock() error {
	e.ctl.Lock()
	locked := e.locked
	e.ctl.Unlock()
	if !locked {
		return nil
	}
	if e.prof.core {
		if err := e.expect(&trezorpb.ButtonRequest{Code: trezorpb.ButtonRequest_ButtonRequest_PinEntry.Enum(), Name: proto.String("pin_device")},
			tButtonAck, new(trezorpb.ButtonAck), failPinCancelled); err != nil {
			return err
		}
		e.ctl.Lock()
		entry := e.pinEntry
		e.pinEntry = PINCorrect
		e.ctl.Unlock()
		switch entry {
		case PINCancel:
			return fail(failPinCancelled, "PIN entry cancelled")
		case PINWrong:
			return fail(failPinInvalid, "PIN invalid")
		}
	} else {
		e.ctl.Lock()
		perm := e.rng.Perm(9)
		for i, p := range perm {
			e.matrix[i] = byte('1' + p)
		}
		e.ctl.Unlock()
		e.event("PIN matrix on screen (positions 789/456/123): %s", e.PinMatrix())
		var ack trezorpb.PinMatrixAck
		if err := e.expect(&trezorpb.PinMatrixRequest{Type: trezorpb.PinMatrixRequest_PinMatrixRequestType_Current.Enum()},
			tPinMatrixAck, &ack, failPinCancelled); err != nil {
			return err
		}
		e.ctl.Lock()
		pin, ok := decodePIN(e.matrix, ack.GetPin())
		e.ctl.Unlock()
		if !ok || pin != e.opts.PIN {
			return fail(failPinInvalid, "Invalid PIN")
		}
	}
	e.ctl.Lock()
	e.locked = false
	e.ctl.Unlock()
	return nil
}

// decodePIN maps matrix positions (keypad layout, '1'–'9') to digits.
func decodePIN(matrix [9]byte, positions string) (string, bool) {
	if positions == "" || len(positions) > 50 {
		return "", false
	}
	out := make([]byte, len(positions))
	for i := 0; i < len(positions); i++ {
		c := positions[i]
		if c < '1' || c > '9' {
			return "", false
		}
		out[i] = matrix[c-'1']
	}
	return string(out), true
}

// sessionKeys returns the keys of the session, asking for the passphrase
// first when protection is on and the session has none yet.
func (e *Emulator) sessionKeys() (*emulator.Keyring, error) {
	if e.opts.PassphraseProtection && !e.passphraseReady {
		var ack trezorpb.PassphraseAck
		if err := e.expect(&trezorpb.PassphraseRequest{}, tPassphraseAck, &ack, failCancelled); err != nil {
			return nil, err
		}
		switch {
		case ack.GetOnDevice() && ack.Passphrase != nil:
			return nil, fail(failDataError, "Passphrase provided when it should not be")
		case ack.GetOnDevice() && !e.prof.core:
			return nil, fail(failDataError, "This firmware is incapable of passphrase entry on the device.")
		case ack.GetOnDevice():
			if err := e.confirm(trezorpb.ButtonRequest_ButtonRequest_PassphraseEntry, "passphrase_device"); err != nil {
				return nil, err
			}
			e.passphrase = e.opts.DevicePassphrase
		default:
			if len(ack.GetPassphrase()) > 50 {
				return nil, fail(failDataError, "Maximum passphrase length is 50 bytes")
			}
			e.passphrase = ack.GetPassphrase()
		}
		e.passphraseReady = true
	}
	key := e.passphrase
	if !e.opts.PassphraseProtection {
		key = ""
	}
	if k, ok := e.keys[key]; ok {
		return k, nil
	}
	k, err := emulator.NewKeyring(e.opts.Mnemonic, key)
	if err != nil {
		return nil, fail(failProcessError, "Seed error")
	}
	e.keys[key] = k
	return k, nil
}

// confirm shows a confirmation: ButtonRequest, the host's ButtonAck, then
// the simulated user's decision. The host may Cancel meanwhile.
func (e *Emulator) confirm(code trezorpb.ButtonRequest_ButtonRequestType, name string) error {
	if err := e.expect(&trezorpb.ButtonRequest{Code: code.Enum(), Name: proto.String(name)}, tButtonAck, new(trezorpb.ButtonAck), failCancelled); err != nil {
		return err
	}
	e.ctl.Lock()
	if e.disconnectNext {
		e.disconnectNext = false
		e.ctl.Unlock()
		e.unplug()
		return errUnplugged
	}
	reject := e.rejectAll || e.rejectNext > 0
	if e.rejectNext > 0 {
		e.rejectNext--
	}
	manual, delay := e.manual, e.delay
	e.waiting = name
	e.ctl.Unlock()
	defer func() {
		e.ctl.Lock()
		e.waiting = ""
		e.ctl.Unlock()
	}()
	// Drop a stale answer from an earlier confirmation.
	select {
	case <-e.decide:
	default:
	}
	var timer <-chan time.Time
	switch {
	case manual:
		e.event("waiting for the user: %s (approve or reject through the control endpoint)", name)
	case delay > 0:
		t := time.NewTimer(delay)
		defer t.Stop()
		timer = t.C
	default:
		return e.decided(!reject)
	}
	select {
	case <-e.closed:
		return errUnplugged
	case <-timer:
		return e.decided(!reject)
	case ok := <-e.decide:
		return e.decided(ok)
	case in := <-e.inbox:
		e.route = in.reply
		if in.typ == tCancel {
			return fail(failCancelled, "Cancelled")
		}
		if startsFlow(in.typ) {
			return &restart{in: in}
		}
		return fail(failUnexpected, "Unexpected message")
	}
}

func (e *Emulator) decided(ok bool) error {
	if ok {
		return nil
	}
	e.ctl.Lock()
	e.stats.Rejected++
	e.ctl.Unlock()
	return fail(failCancelled, "Cancelled")
}

func (e *Emulator) features() *trezorpb.Features {
	e.ctl.Lock()
	locked := e.locked
	e.ctl.Unlock()
	caps := []trezorpb.Features_Capability{
		trezorpb.Features_Capability_Bitcoin, trezorpb.Features_Capability_Crypto, trezorpb.Features_Capability_U2F,
	}
	if !e.opts.BitcoinOnly {
		caps = append(caps, trezorpb.Features_Capability_Bitcoin_like, trezorpb.Features_Capability_Ethereum)
	}
	if e.prof.core {
		caps = append(caps, trezorpb.Features_Capability_Shamir, trezorpb.Features_Capability_ShamirGroups, trezorpb.Features_Capability_PassphraseEntry)
	}
	return &trezorpb.Features{
		Vendor:               proto.String("trezor.io"),
		MajorVersion:         proto.Uint32(e.version[0]),
		MinorVersion:         proto.Uint32(e.version[1]),
		PatchVersion:         proto.Uint32(e.version[2]),
		BootloaderMode:       proto.Bool(false),
		DeviceId:             proto.String(e.deviceID),
		PinProtection:        proto.Bool(e.opts.PIN != ""),
		PassphraseProtection: proto.Bool(e.opts.PassphraseProtection),
		Language:             proto.String("en-US"),
		Label:                proto.String(e.opts.Label),
		Initialized:          proto.Bool(!e.opts.Uninitialized),
		Unlocked:             proto.Bool(!locked),
		Model:                proto.String(e.prof.model),
		Capabilities:         caps,
		SessionId:            e.sessionID,
		Busy:                 proto.Bool(false),
		InternalModel:        proto.String(e.prof.internal),
	}
}

func (e *Emulator) newSessionID() []byte {
	e.ctl.Lock()
	defer e.ctl.Unlock()
	id := make([]byte, 32)
	for i := 0; i < 32; i += 8 {
		v := e.rng.Uint64()
		for j := 0; j < 8; j++ {
			id[i+j] = byte(v >> (8 * j))
		}
	}
	return id
}
