package ledger

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/accounts"

	emu "github.com/mm-wallet/mm/hwtest/ledger"
	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/signers/transport"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// vectorFile is testdata/ledger-speculos.json.
type vectorFile struct {
	Derived  map[string]struct{ Address, ChainCode string } `json:"derived_speculos_seed"`
	Computed []computedVector                               `json:"computed_speculos_seed"`
	Recorded []struct {
		Name     string          `json:"name"`
		Exchange [][2]string     `json:"exchange"`
		Decoded  json.RawMessage `json:"decoded"`
		Seed     string          `json:"seed"`
		Use      string          `json:"use"`
	} `json:"recorded_hw_app_eth"`
}

type computedVector struct {
	Name      string   `json:"name"`
	Path      string   `json:"path"`
	APDU      string   `json:"apdu"`
	APDUs     []string `json:"apdus"`
	Response  string   `json:"response"`
	Address   string   `json:"address"`
	ChainCode string   `json:"chain_code"`
	Message   string   `json:"message_ascii"`
	ChainID   uint64   `json:"chain_id"`
	FullV     string   `json:"full_v"`
	Domain    string   `json:"domain_separator"`
	MsgHash   string   `json:"message_hash"`
	Tx        *struct {
		Nonce    uint64 `json:"nonce"`
		GasPrice string `json:"gas_price"`
		GasLimit string `json:"gas_limit"`
		To       string `json:"to"`
		Value    string `json:"value"`
		Data     string `json:"data"`
	} `json:"tx"`
	UnsignedTyped string `json:"unsigned_typed_payload"`
}

func loadVectors(t *testing.T) vectorFile {
	t.Helper()
	b, err := os.ReadFile("testdata/ledger-speculos.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectorFile
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func (v vectorFile) computed(t *testing.T, name string) computedVector {
	t.Helper()
	for _, c := range v.Computed {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("vector %q missing", name)
	return computedVector{}
}

// tap records every APDU a signer sends through a tap:// URI, which wraps
// the real tcp:// transport to an emulator.
type tapLog struct {
	mu    sync.Mutex
	apdus [][]byte
	resps [][]byte
}

var (
	tapMu   sync.Mutex
	tapLogs = map[string]*tapLog{}
)

func init() {
	transport.Register("tap", func(ctx context.Context, u *url.URL) (transport.Transport, error) {
		tr, err := transport.Dial(ctx, "tcp://"+u.Host+"?model=nanosp")
		if err != nil {
			return nil, err
		}
		tapMu.Lock()
		l := tapLogs[u.Host]
		tapMu.Unlock()
		return &tapped{Transport: tr, log: l}, nil
	})
}

type tapped struct {
	transport.Transport
	log *tapLog
}

func (t *tapped) Exchange(ctx context.Context, apdu []byte) ([]byte, error) {
	resp, err := t.Transport.Exchange(ctx, apdu)
	if t.log != nil {
		t.log.mu.Lock()
		t.log.apdus = append(t.log.apdus, append([]byte(nil), apdu...))
		t.log.resps = append(t.log.resps, append([]byte(nil), resp...))
		t.log.mu.Unlock()
	}
	return resp, err
}

func (t *tapped) Describe() transport.DeviceInfo {
	return t.Transport.(transport.Describer).Describe()
}

func (l *tapLog) take() ([][]byte, [][]byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	a, r := l.apdus, l.resps
	l.apdus, l.resps = nil, nil
	return a, r
}

// newEmulator starts an emulator on loopback TCP.
func newEmulator(t *testing.T, opts emu.Options) (*emu.Emulator, string) {
	t.Helper()
	e, err := emu.NewEmulator(opts)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := e.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e, addr
}

// newSigner returns a signer configured for device.
func newSigner(t *testing.T, device string, extra ...string) *Signer {
	t.Helper()
	s := New()
	settings := map[string]string{SettingDevice: device}
	for i := 0; i+1 < len(extra); i += 2 {
		settings[extra[i]] = extra[i+1]
	}
	if _, err := s.Configure(context.Background(), &sdk.ConfigureRequest{Settings: settings}); err != nil {
		t.Fatal(err)
	}
	return s
}

// recorder is a Prompter that remembers what it was told.
type recorder struct {
	mu       sync.Mutex
	waits    []sdk.WaitingRequest
	notices  []sdk.NotifyRequest
	onWait   func()
	canceled bool
}

func (r *recorder) Notify(_ context.Context, req *sdk.NotifyRequest) (*sdk.NotifyResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notices = append(r.notices, *req)
	return &sdk.NotifyResponse{}, nil
}

func (r *recorder) RequestSecret(context.Context, *sdk.SecretRequest) (*sdk.SecretResponse, error) {
	return nil, sdk.NewError(sdk.CodeNonInteractive, "no secrets here", "")
}

func (r *recorder) Confirm(context.Context, *sdk.ConfirmRequest) (*sdk.ConfirmResponse, error) {
	return &sdk.ConfirmResponse{Confirmed: true}, nil
}

func (r *recorder) WaitingForUser(_ context.Context, req *sdk.WaitingRequest) (*sdk.WaitingResponse, error) {
	r.mu.Lock()
	r.waits = append(r.waits, *req)
	f := r.onWait
	r.mu.Unlock()
	if f != nil && !req.Done {
		f()
	}
	return &sdk.WaitingResponse{}, nil
}

// replay is a Transport that checks each APDU against a script and answers
// with the recorded reply: it feeds recorded device answers to the driver.
type replay struct {
	t      *testing.T
	script [][2][]byte // APDU (nil: any), reply
	i      int
}

func (r *replay) Exchange(_ context.Context, apdu []byte) ([]byte, error) {
	r.t.Helper()
	if r.i >= len(r.script) {
		r.t.Fatalf("unexpected APDU %x after the script", apdu)
	}
	s := r.script[r.i]
	r.i++
	if s[0] != nil && !bytes.Equal(apdu, s[0]) {
		r.t.Fatalf("APDU %d:\n got %x\nwant %x", r.i-1, apdu, s[0])
	}
	return s[1], nil
}

func (r *replay) Close() error { return nil }

func (r *replay) done() {
	r.t.Helper()
	if r.i != len(r.script) {
		r.t.Fatalf("driver sent %d of %d scripted APDUs", r.i, len(r.script))
	}
}

func accountsTextHash(s string) []byte { return accounts.TextHash([]byte(s)) }
