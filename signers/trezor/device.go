package trezor

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"google.golang.org/protobuf/proto"

	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/signers/transport"
	"github.com/mm-wallet/mm/signers/trezor/trezorpb"
)

// device is one open connection to a Trezor and what its Features said.
type device struct {
	t         transport.Transport
	uri       string
	features  *trezorpb.Features
	sessionID []byte
	// onDevicePassphrase: answer PassphraseRequest with on_device.
	onDevicePassphrase bool
	// addrs caches path → address for this session (a passphrase changes
	// every address, so a new session starts empty).
	addrs map[string]common.Address
}

// modelNames maps Features.internal_model to the name people use.
var modelNames = map[string]string{
	"T1B1": "Model One",
	"T2T1": "Model T",
	"T2B1": "Safe 3",
	"T3B1": "Safe 3",
	"T3T1": "Safe 5",
	"T3W1": "Safe 7",
}

// model returns the model name ("Model T", "Safe 5").
func (d *device) model() string {
	if n, ok := modelNames[d.features.GetInternalModel()]; ok {
		return n
	}
	switch m := d.features.GetModel(); m {
	case "1", "":
		return "Model One"
	case "T":
		return "Model T"
	default:
		return m
	}
}

// name returns "Trezor <model>".
func (d *device) name() string { return "Trezor " + d.model() }

// isOne reports a Trezor One (legacy firmware).
func (d *device) isOne() bool { return d.model() == "Model One" }

func (d *device) version() [3]uint32 {
	f := d.features
	return [3]uint32{f.GetMajorVersion(), f.GetMinorVersion(), f.GetPatchVersion()}
}

func (d *device) firmware() string {
	v := d.version()
	return fmt.Sprintf("%d.%d.%d", v[0], v[1], v[2])
}

// atLeast compares the firmware version with the minimum for the model
// family: one for the Trezor One, core for the others.
func (d *device) atLeast(one, core [3]uint32) bool {
	min := core
	if d.isOne() {
		min = one
	}
	v := d.version()
	for i := range v {
		if v[i] != min[i] {
			return v[i] > min[i]
		}
	}
	return true
}

func (d *device) bitcoinOnly() bool {
	caps := d.features.GetCapabilities()
	if len(caps) == 0 {
		return false // old firmware does not report capabilities
	}
	for _, c := range caps {
		if c == trezorpb.Features_Capability_Ethereum {
			return false
		}
	}
	return true
}

// hostPIN reports whether the PIN is typed on the host (the One's matrix).
func (d *device) hostPIN() bool { return d.isOne() }

// Minimum firmware versions (Trezor One, Core).
var (
	minEIP1559     = [2][3]uint32{{1, 10, 4}, {2, 4, 2}}
	minChainID64   = [2][3]uint32{{1, 10, 4}, {2, 4, 3}}
	minTypedHash   = [3]uint32{1, 10, 5} // Trezor One only
	minTypedData   = [3]uint32{2, 4, 3}  // Core only
	maxUint32Chain = uint64(1<<32 - 1)
)

func vstr(v [3]uint32) string { return fmt.Sprintf("%d.%d.%d", v[0], v[1], v[2]) }

// tooOld is FIRMWARE_TOO_OLD for a feature that needs one/core.
func (d *device) tooOld(op, what string, one, core [3]uint32) error {
	need := core
	if d.isOne() {
		need = one
	}
	return errorf(sdk.CodeFirmwareTooOld, hintUpdate, "%s: %s needs %s firmware %s or newer; this one has %s", op, what, d.name(), vstr(need), d.firmware())
}

// dial opens uri, or the first Trezor found when uri is empty.
func dial(ctx context.Context, uri string) (transport.Transport, string, error) {
	if uri == "" {
		return discover(ctx)
	}
	t, err := transport.Dial(ctx, uri)
	return t, uri, err
}

// resume re-initializes the device on sessionID after another instance used
// it; a session the device no longer knows starts empty.
func (d *device) resume(ctx context.Context, sessionID []byte) error {
	resp, err := d.roundTrip(ctx, &trezorpb.Initialize{SessionId: sessionID})
	if err != nil {
		return err
	}
	f, ok := resp.(*trezorpb.Features)
	if !ok {
		return unexpected("resume", resp)
	}
	d.features = f
	if string(f.SessionId) != string(d.sessionID) {
		d.addrs = map[string]common.Address{}
	}
	d.sessionID = f.SessionId
	return nil
}

// discover finds the first reachable Trezor: Bridge devices, then the
// emulator's UDP port, then USB HID.
func discover(ctx context.Context) (transport.Transport, string, error) {
	devs, _ := transport.EnumerateTrezors(ctx, transport.TrezorEnumerateOptions{})
	for _, dv := range devs {
		t, err := transport.Dial(ctx, dv.URI)
		if err == nil {
			return t, dv.URI, nil
		}
	}
	return nil, "", fmt.Errorf("no Trezor found: %w", transport.ErrDeviceNotFound)
}

func msgName(m proto.Message) string { return string(m.ProtoReflect().Descriptor().Name()) }

// roundTrip sends one message and decodes the reply, without any of the
// ButtonRequest/PIN/passphrase handling.
func (d *device) roundTrip(ctx context.Context, m proto.Message) (proto.Message, error) {
	typ, payload, err := trezorpb.Marshal(m)
	if err != nil {
		return nil, errorf(sdk.CodeInternal, "", "encode %s: %w", msgName(m), err)
	}
	frame, err := d.t.Exchange(ctx, transport.TrezorFrame(uint16(typ), payload))
	if err != nil {
		return nil, transportError(strings.ToLower(msgName(m)), err)
	}
	rtyp, rpayload, err := transport.ParseTrezorFrame(frame)
	if err != nil {
		return nil, transportError(strings.ToLower(msgName(m)), err)
	}
	resp, err := trezorpb.Unmarshal(trezorpb.MessageType(rtyp), rpayload)
	if err != nil {
		return nil, errorf(sdk.CodeDeviceError, "reconnect the Trezor and retry", "the device answered %s with an unreadable message: %w", msgName(m), err)
	}
	return resp, nil
}

// cancel tells the device to abandon its current flow and reads its
// Failure. Best effort: used when the host gives up between exchanges.
func (d *device) cancel() {
	ctx, stop := context.WithTimeout(context.Background(), 2*time.Second)
	defer stop()
	_, _ = d.roundTrip(ctx, &trezorpb.Cancel{})
}

// call sends req and runs the host side of the message loop until the
// device answers with a result: ButtonRequest → ButtonAck (telling the
// Prompter the user must act on the device), PinMatrixRequest → PIN from
// the Prompter, PassphraseRequest → passphrase from the Prompter or on the
// device. A Failure becomes a coded error.
func (d *device) call(ctx context.Context, op string, req proto.Message) (proto.Message, error) {
	p := sdk.PrompterFrom(ctx)
	msg := req
	for {
		resp, err := d.roundTrip(ctx, msg)
		if _, acked := msg.(*trezorpb.ButtonAck); acked {
			// The device answered: the user is done with that screen.
			_, _ = p.WaitingForUser(context.WithoutCancel(ctx), &sdk.WaitingRequest{Device: d.name(), Done: true})
		}
		if err != nil {
			return nil, err
		}
		switch r := resp.(type) {
		case *trezorpb.ButtonRequest:
			text := "confirm on your " + d.name()
			switch r.GetCode() {
			case trezorpb.ButtonRequest_ButtonRequest_PinEntry:
				text = "enter your PIN on your " + d.name()
			case trezorpb.ButtonRequest_ButtonRequest_PassphraseEntry:
				text = "enter your passphrase on your " + d.name()
			}
			_, _ = p.WaitingForUser(ctx, &sdk.WaitingRequest{Device: d.name(), Message: text})
			msg = &trezorpb.ButtonAck{}
		case *trezorpb.PinMatrixRequest:
			pin, err := d.askPIN(ctx, p)
			if err != nil {
				d.cancel()
				return nil, err
			}
			msg = &trezorpb.PinMatrixAck{Pin: proto.String(pin)}
		case *trezorpb.PassphraseRequest:
			ack, err := d.askPassphrase(ctx, p)
			if err != nil {
				d.cancel()
				return nil, err
			}
			msg = ack
		case *trezorpb.Failure:
			return nil, d.failureError(op, r)
		default:
			return resp, nil
		}
	}
}

const pinHint = "Your Trezor shows the digits 1-9 in a scrambled 3×3 grid. Type the POSITIONS of your PIN's digits, " +
	"using this keypad layout: 7 8 9 (top row) / 4 5 6 (middle) / 1 2 3 (bottom) — not the digits themselves. " +
	"The grid changes every time."

func (d *device) askPIN(ctx context.Context, p sdk.Prompter) (string, error) {
	resp, err := p.RequestSecret(ctx, &sdk.SecretRequest{Kind: sdk.SecretPIN, Prompt: "PIN of your " + d.name() + " (positions on the scrambled grid)", Hint: pinHint})
	if sdk.CodeOf(err) == sdk.CodeNonInteractive {
		return "", errorf(sdk.CodeDeviceLocked, "the Trezor is locked and mm cannot ask for its PIN here: run mm in a terminal to enter it", "the %s is locked", d.name())
	}
	if err != nil {
		return "", promptError("PIN", err)
	}
	if resp == nil {
		return "", errorf(sdk.CodeUserRejected, "nothing was signed", "PIN entry cancelled")
	}
	defer clear(resp.Secret)
	pin := strings.TrimSpace(string(resp.Secret))
	if pin == "" || len(pin) > 50 || strings.IndexFunc(pin, func(r rune) bool { return r < '1' || r > '9' }) >= 0 {
		return "", errorf(sdk.CodePinInvalid, "type only the positions 1-9 of your PIN's digits on the device's grid (7 8 9 / 4 5 6 / 1 2 3)", "the PIN must be positions 1-9 on the scrambled grid")
	}
	return pin, nil
}

func (d *device) askPassphrase(ctx context.Context, p sdk.Prompter) (*trezorpb.PassphraseAck, error) {
	if d.onDevicePassphrase && !d.isOne() {
		return &trezorpb.PassphraseAck{OnDevice: proto.Bool(true)}, nil
	}
	resp, err := p.RequestSecret(ctx, &sdk.SecretRequest{
		Kind:   sdk.SecretPassphrase,
		Prompt: "Passphrase for your " + d.name(),
		Hint:   "the passphrase opens a hidden wallet: a different passphrase gives different addresses; leave it empty for the standard wallet",
	})
	if err != nil {
		return nil, promptError("passphrase", err)
	}
	var secret []byte
	if resp != nil {
		secret = resp.Secret
	}
	defer clear(secret)
	if len(secret) > 50 {
		return nil, errorf(sdk.CodeInvalidRequest, "a Trezor passphrase has at most 50 bytes", "the passphrase is too long")
	}
	return &trezorpb.PassphraseAck{Passphrase: proto.String(string(secret))}, nil
}

// promptError keeps the Prompter's own coded error (USER_REJECTED,
// NON_INTERACTIVE, CANCELED) and names what was asked.
func promptError(what string, err error) error {
	if se := sdk.AsError(err); se != nil {
		c := *se
		c.Message = "trezor: " + what + ": " + se.Message
		if c.Hint == "" {
			c.Hint = "nothing was signed"
		}
		return &c
	}
	return transportError(what, err)
}

func (d *device) close() {
	if d != nil && d.t != nil {
		d.t.Close()
	}
}
