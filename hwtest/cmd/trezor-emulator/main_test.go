package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/signers/trezor"
)

// TestRun starts the command with a PIN and passphrase protection, signs
// through its UDP port and its Bridge, and reads its control endpoint.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	pinFile := filepath.Join(dir, "pin")
	if err := os.WriteFile(pinFile, []byte("2589\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outR, outW := io.Pipe()
	var stderr lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-listen", "127.0.0.1:0", "-control", "127.0.0.1:0", "-bridge", "127.0.0.1:0",
			"-model", "one", "-firmware", "1.11.2", "-pin-file", pinFile, "-matrix-seed", "5"}, outW, &stderr)
		outW.Close()
	}()
	lines := map[string]string{}
	sc := bufio.NewScanner(outR)
	for len(lines) < 3 && sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		lines[k] = v
	}
	go io.Copy(io.Discard, outR)
	if len(lines) != 3 {
		cancel()
		t.Fatalf("stdout gave %v (run: %v; stderr: %s)", lines, <-done, stderr.String())
	}

	// The user reads the matrix off the control endpoint (as from the
	// screen) and types positions.
	control := strings.TrimPrefix(lines["control"], "http://")
	prompter := &matrixUser{control: control, pin: "2589"}
	for _, uri := range []string{lines["listening"], lines["bridge"]} {
		s := trezor.New()
		if _, err := s.Configure(ctx, &sdk.ConfigureRequest{Settings: map[string]string{"device": uri}}); err != nil {
			t.Fatal(err)
		}
		cctx, ccancel := context.WithTimeout(sdk.WithPrompter(ctx, prompter), 20*time.Second)
		resp, err := s.Accounts(cctx, &sdk.AccountsRequest{Paths: []string{"m/44'/60'/0'/0/0"}})
		ccancel()
		s.Close()
		if err != nil {
			t.Fatalf("%s: %v", uri, err)
		}
		if got := resp.Accounts[0].Address.Hex(); got != "0x73d0385F4d8E00C5e6504C6030F47BF6212736A8" {
			t.Fatalf("%s: address %s", uri, got)
		}
	}
	var st struct {
		Name     string `json:"name"`
		Firmware string `json:"firmware"`
		Locked   bool   `json:"locked"`
	}
	resp, err := http.Get("http://" + control + "/state")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if st.Name != "Trezor Model One" || st.Firmware != "1.11.2" || st.Locked {
		t.Fatalf("state %+v", st)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stderr.String(), "2589") {
		t.Fatal("the PIN appeared on stderr")
	}
	if !strings.Contains(stderr.String(), "TEST DEVICE") || !strings.Contains(stderr.String(), "PIN matrix on screen") {
		t.Fatalf("stderr lacks the test-device warning or the matrix: %s", stderr.String())
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-confirm", "maybe"}, {"-model", "nano"}, {"-firmware", "two"}, {"extra"}, {"-pin-file", "/nonexistent/pin"}} {
		err := run(context.Background(), append([]string{"-listen", "127.0.0.1:0"}, args...), io.Discard, io.Discard)
		if err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

// lockedBuffer is a strings.Builder safe for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// matrixUser answers the PIN prompt by reading the matrix from /state.
type matrixUser struct {
	control, pin string
}

func (m *matrixUser) Notify(context.Context, *sdk.NotifyRequest) (*sdk.NotifyResponse, error) {
	return &sdk.NotifyResponse{}, nil
}
func (m *matrixUser) Confirm(context.Context, *sdk.ConfirmRequest) (*sdk.ConfirmResponse, error) {
	return &sdk.ConfirmResponse{Confirmed: true}, nil
}
func (m *matrixUser) WaitingForUser(context.Context, *sdk.WaitingRequest) (*sdk.WaitingResponse, error) {
	return &sdk.WaitingResponse{}, nil
}
func (m *matrixUser) RequestSecret(ctx context.Context, r *sdk.SecretRequest) (*sdk.SecretResponse, error) {
	resp, err := http.Get("http://" + m.control + "/state")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var st struct {
		PinMatrix string `json:"pinMatrix"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return nil, err
	}
	pos, err := positions(st.PinMatrix, m.pin)
	if err != nil {
		return nil, err
	}
	return &sdk.SecretResponse{Secret: []byte(pos)}, nil
}

func positions(matrix, pin string) (string, error) {
	keypad := []string{"789", "456", "123"}
	rows := strings.Split(matrix, "/")
	var out []byte
	for _, d := range pin {
		for r, row := range rows {
			if i := strings.IndexRune(row, d); i >= 0 {
				out = append(out, keypad[r][i])
			}
		}
	}
	return string(out), nil
}
