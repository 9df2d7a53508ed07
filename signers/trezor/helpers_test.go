package trezor_test

import (
	"context"
	"encoding/json"
	"math/big"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	emu "github.com/mm-wallet/mm/hwtest/trezor"
	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/sdk/eip712"
	"github.com/mm-wallet/mm/signers/trezor"
)

// startEmulator runs an emulator on a free UDP port for the test.
func startEmulator(t testing.TB, opts emu.Options) (*emu.Emulator, string) {
	t.Helper()
	e, err := emu.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := e.ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e, emu.URI(addr)
}

// newSigner returns a signer configured for uri.
func newSigner(t testing.TB, uri string, extra ...string) *trezor.Signer {
	t.Helper()
	s := trezor.New()
	settings := map[string]string{trezor.SettingDevice: uri}
	for i := 0; i+1 < len(extra); i += 2 {
		settings[extra[i]] = extra[i+1]
	}
	if _, err := s.Configure(context.Background(), &sdk.ConfigureRequest{Settings: settings}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func ctxFor(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// recorder is a Prompter that records what it was told and answers
// secrets from a map.
type recorder struct {
	mu      sync.Mutex
	secrets map[sdk.SecretKind]func(*sdk.SecretRequest) (string, error)
	asked   []sdk.SecretRequest
	waits   []sdk.WaitingRequest
}

func (r *recorder) Notify(context.Context, *sdk.NotifyRequest) (*sdk.NotifyResponse, error) {
	return &sdk.NotifyResponse{}, nil
}

func (r *recorder) RequestSecret(_ context.Context, req *sdk.SecretRequest) (*sdk.SecretResponse, error) {
	r.mu.Lock()
	r.asked = append(r.asked, *req)
	f := r.secrets[req.Kind]
	r.mu.Unlock()
	if f == nil {
		return nil, sdk.NewError(sdk.CodeNonInteractive, "no answer", "")
	}
	s, err := f(req)
	if err != nil {
		return nil, err
	}
	return &sdk.SecretResponse{Secret: []byte(s)}, nil
}

func (r *recorder) Confirm(context.Context, *sdk.ConfirmRequest) (*sdk.ConfirmResponse, error) {
	return &sdk.ConfirmResponse{Confirmed: true}, nil
}

func (r *recorder) WaitingForUser(_ context.Context, req *sdk.WaitingRequest) (*sdk.WaitingResponse, error) {
	r.mu.Lock()
	r.waits = append(r.waits, *req)
	r.mu.Unlock()
	return &sdk.WaitingResponse{}, nil
}

func (r *recorder) waitMessages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, w := range r.waits {
		if !w.Done {
			out = append(out, w.Message)
		}
	}
	return out
}

// ---- fixtures ----

type fixtures struct {
	Wire struct {
		GetAddress struct {
			Protobuf string   `json:"protobuf_hex"`
			Packets  []string `json:"packets"`
		} `json:"EthereumGetAddress_type56_m44h_60h_0h_0_0"`
		Address struct {
			Protobuf string   `json:"protobuf_hex"`
			Packets  []string `json:"packets"`
		} `json:"EthereumAddress_type57_response_all_all_seed"`
	} `json:"wire_examples"`
	GetAddress struct {
		Mnemonic string `json:"mnemonic"`
		Cases    []struct {
			Path    string `json:"path"`
			Address string `json:"address"`
		} `json:"cases"`
	} `json:"getaddress"`
	SignTx      txFile `json:"sign_tx"`
	SignTx155   txFile `json:"sign_tx_eip155"`
	SignTx1559  txFile `json:"sign_tx_eip1559"`
	SignMessage struct {
		Mnemonic string `json:"mnemonic"`
		Cases    []struct {
			Path    string `json:"path"`
			Msg     string `json:"msg"`
			Address string `json:"address"`
			Sig     string `json:"sig"`
		} `json:"cases"`
	} `json:"signmessage"`
	Typed struct {
		Mnemonic string `json:"mnemonic"`
		Cases    []struct {
			Name    string          `json:"name"`
			Path    string          `json:"path"`
			V4      bool            `json:"metamask_v4_compat"`
			Domain  string          `json:"domain_separator_hash"`
			Message *string         `json:"message_hash"`
			Data    json.RawMessage `json:"data"`
			Address string          `json:"address"`
			Sig     string          `json:"sig"`
		} `json:"cases"`
	} `json:"sign_typed_data"`
}

type txFile struct {
	Mnemonic string   `json:"mnemonic"`
	Cases    []txCase `json:"cases"`
}

type txCase struct {
	Name           string      `json:"name"`
	Path           string      `json:"path"`
	ChainID        json.Number `json:"chain_id"`
	Nonce          string      `json:"nonce"`
	GasPrice       string      `json:"gas_price"`
	MaxGasFee      string      `json:"max_gas_fee"`
	MaxPriorityFee string      `json:"max_priority_fee"`
	GasLimit       string      `json:"gas_limit"`
	To             string      `json:"to_address"`
	Value          string      `json:"value"`
	Data           string      `json:"data"`
	SigV           json.Number `json:"sig_v"`
	SigR           string      `json:"sig_r"`
	SigS           string      `json:"sig_s"`
}

func loadFixtures(t testing.TB) *fixtures {
	t.Helper()
	raw, err := os.ReadFile("testdata/trezor-fixtures.json")
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var f fixtures
	if err := dec.Decode(&f); err != nil {
		t.Fatal(err)
	}
	return &f
}

func hexBig(t testing.TB, s string) *big.Int {
	t.Helper()
	s = strings.TrimPrefix(s, "0x")
	if s == "" {
		return new(big.Int)
	}
	v, ok := new(big.Int).SetString(s, 16)
	if !ok {
		t.Fatalf("bad hex integer %q", s)
	}
	return v
}

func decBig(t testing.TB, n json.Number) *big.Int {
	t.Helper()
	v, ok := new(big.Int).SetString(string(n), 10)
	if !ok {
		t.Fatalf("bad integer %q", n)
	}
	return v
}

// hostHashes computes EIP-712 hashes as a host does.
func hostHashes(doc []byte) (common.Hash, *common.Hash, error) {
	d, err := eip712.Parse(doc)
	if err != nil {
		return common.Hash{}, nil, err
	}
	return d.DomainSeparator, d.MessageHash, nil
}
