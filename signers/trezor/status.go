package trezor

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/signers/transport"
	"github.com/mm-wallet/mm/signers/trezor/trezorpb"
)

// Status describes one Trezor for `mm hw list`.
type Status struct {
	Vendor        string `json:"vendor"`                  // "Trezor"
	Model         string `json:"model"`                   // "Trezor Model T"
	InternalModel string `json:"internalModel,omitempty"` // "T2T1"
	Firmware      string `json:"firmware,omitempty"`      // "2.8.7"
	Transport     string `json:"transport"`               // "bridge", "udp" (emulator) or "hid"
	// URI opens this device (the --device flag, the "device" setting).
	URI         string `json:"uri"`
	Label       string `json:"label,omitempty"`
	DeviceID    string `json:"deviceId,omitempty"`
	Initialized bool   `json:"initialized"`
	// Unlocked is false while the device waits for its PIN.
	Unlocked             bool `json:"unlocked"`
	PINProtection        bool `json:"pinProtection"`
	PassphraseProtection bool `json:"passphraseProtection"`
	// BitcoinOnly marks firmware without Ethereum support.
	BitcoinOnly bool `json:"bitcoinOnly,omitempty"`
	// Capabilities is what the signer can do with this device.
	Capabilities sdk.Capabilities `json:"capabilities"`
	// Error says why the device could not be asked (it may be in use).
	Error string `json:"error,omitempty"`
}

// DeviceStatus asks the Trezor at uri for its Features (GetFeatures, which
// leaves the device's session alone) and describes it.
func DeviceStatus(ctx context.Context, uri string) (*Status, error) {
	st := &Status{Vendor: "Trezor", URI: uri, Transport: schemeOf(uri)}
	if err := checkURI(uri); err != nil {
		return nil, err
	}
	t, err := transport.Dial(ctx, uri)
	if err != nil {
		return nil, transportError("status", err)
	}
	defer t.Close()
	lock, _, err := lockDevice(ctx, uri, "status")
	if err != nil {
		return nil, transportError("status", err)
	}
	defer lock.release("status")
	d := &device{t: t, uri: uri}
	resp, err := d.roundTrip(ctx, &trezorpb.GetFeatures{})
	if f, ok := resp.(*trezorpb.Failure); err == nil && ok && f.GetCode() == trezorpb.Failure_Failure_UnexpectedMessage {
		// Firmware older than GetFeatures.
		resp, err = d.roundTrip(ctx, &trezorpb.Initialize{})
	}
	if err != nil {
		return nil, err
	}
	f, ok := resp.(*trezorpb.Features)
	if !ok {
		return nil, unexpected("status", resp)
	}
	d.features = f
	st.fill(d)
	return st, nil
}

func (st *Status) fill(d *device) {
	f := d.features
	st.Model = d.name()
	st.InternalModel = f.GetInternalModel()
	st.Firmware = d.firmware()
	st.Label = f.GetLabel()
	st.DeviceID = f.GetDeviceId()
	st.Initialized = f.GetInitialized()
	st.Unlocked = f.Unlocked == nil || f.GetUnlocked()
	st.PINProtection = f.GetPinProtection()
	st.PassphraseProtection = f.GetPassphraseProtection()
	st.BitcoinOnly = d.bitcoinOnly()
	st.Capabilities = d.capabilities()
}

func schemeOf(uri string) string {
	if u, err := url.Parse(uri); err == nil && u.Scheme != "" {
		return u.Scheme
	}
	return strings.SplitN(uri, ":", 2)[0]
}

// List finds the Trezors reachable from this host (Trezor Bridge on
// 127.0.0.1:21325, the emulator on udp://127.0.0.1:21324, Trezor One units
// on USB HID) and describes each. A device that cannot be asked is listed
// with Error set. It returns an empty list, not an error, when none is
// found.
func List(ctx context.Context) ([]Status, error) {
	return ListWith(ctx, transport.TrezorEnumerateOptions{})
}

// ListWith is List looking where opts says.
func ListWith(ctx context.Context, opts transport.TrezorEnumerateOptions) ([]Status, error) {
	devs, err := transport.EnumerateTrezors(ctx, opts)
	out := make([]Status, 0, len(devs))
	for _, dv := range devs {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		st, serr := DeviceStatus(sctx, dv.URI)
		cancel()
		if serr != nil {
			st = &Status{Vendor: "Trezor", Model: dv.Model, Transport: dv.Transport, URI: dv.URI, Error: serr.Error()}
		}
		out = append(out, *st)
	}
	if err != nil && len(out) == 0 {
		return nil, transportError("list", err)
	}
	return out, nil
}
