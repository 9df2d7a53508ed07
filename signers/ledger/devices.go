package ledger

import (
	"context"
	"errors"
	"net/url"

	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/signers/transport"
)

// Status is what `mm hw list` shows for one Ledger.
type Status struct {
	Vendor    string `json:"vendor"`    // "Ledger"
	Model     string `json:"model"`     // "Nano S Plus"; empty when the transport cannot tell
	Transport string `json:"transport"` // "hid", "tcp"
	URI       string `json:"uri"`       // what --device takes
	// App is the open app as the OS names it: "Ethereum", "BOLOS" for the
	// dashboard, another app's name, or empty when the device is locked.
	App        string `json:"app"`
	AppVersion string `json:"appVersion"`
	Locked     bool   `json:"locked"`
	// BlindSigning is the Ethereum app's setting (false when another app
	// or the dashboard is open).
	BlindSigning bool `json:"blindSigning"`
}

// DeviceStatus opens the device at uri and reports its state. A locked
// device or a closed app is a state, not an error; an unreachable device is
// an error (DEVICE_NOT_FOUND, DEVICE_BUSY, UNSUPPORTED without USB support).
func DeviceStatus(ctx context.Context, uri string) (*Status, error) {
	d, err := Open(ctx, uri)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	st := &Status{Vendor: "Ledger", Model: d.Model, URI: uri}
	if u, err := url.Parse(uri); err == nil {
		st.Transport = u.Scheme
	}
	if desc, ok := d.t.(transport.Describer); ok {
		if t := desc.Describe().Transport; t != "" {
			st.Transport = t
		}
	}
	info, err := d.AppAndVersion(ctx)
	switch {
	case sdk.CodeOf(err) == sdk.CodeDeviceLocked:
		st.Locked = true
		return st, nil
	case err != nil && sdk.CodeOf(err) != sdk.CodeAppNotOpen:
		return nil, err
	}
	st.App, st.AppVersion = info.Name, info.Version
	if info.Name == "BOLOS" {
		return st, nil
	}
	cfg, err := d.AppConfiguration(ctx)
	switch {
	case sdk.CodeOf(err) == sdk.CodeDeviceLocked:
		st.Locked = true
	case sdk.CodeOf(err) == sdk.CodeAppNotOpen:
		// another app is open: keep what the OS said
	case err != nil:
		return nil, err
	default:
		if st.App == "" {
			st.App = "Ethereum"
		}
		st.AppVersion = cfg.Version.String()
		st.BlindSigning = cfg.BlindSigning()
	}
	return st, nil
}

// ListDevices reports every Ledger connected over USB, then each of the
// extra URIs (configured devices such as tcp://127.0.0.1:9999). A device
// that cannot be reached is left out of the list; the first such error is
// returned with the devices that could be reached. Without USB support
// (CGO_ENABLED=0) only the extra URIs are listed.
func ListDevices(ctx context.Context, extra ...string) ([]Status, error) {
	var uris []string
	var firstErr error
	devs, err := transport.EnumerateLedgers()
	if err != nil && !errors.Is(err, transport.ErrNoUSB) {
		firstErr = transportError(ctx, "list USB devices", err)
	}
	for _, d := range devs {
		uris = append(uris, d.URI)
	}
	uris = append(uris, extra...)
	out := []Status{}
	for _, uri := range uris {
		st, err := DeviceStatus(ctx, uri)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		out = append(out, *st)
	}
	return out, firstErr
}
