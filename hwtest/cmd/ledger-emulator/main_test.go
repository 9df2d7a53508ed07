package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mm-wallet/mm/signers/transport"
)

// TestRun starts the command with a seed file and a control endpoint, talks
// to it over the Speculos protocol, flips a state over HTTP, and checks that
// the mnemonic never reaches the output.
func TestRun(t *testing.T) {
	seed := "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
	seedFile := filepath.Join(t.TempDir(), "seed")
	if err := os.WriteFile(seedFile, []byte(seed+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-listen", "127.0.0.1:0", "-control", "127.0.0.1:0", "-model", "nanox", "-seed-file", seedFile, "-v"}, pw, &stderr)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var apduURI, control string
	for (apduURI == "" || control == "") && sc.Scan() {
		line := sc.Text()
		if u, ok := strings.CutPrefix(line, "listening "); ok {
			apduURI = u
		}
		if u, ok := strings.CutPrefix(line, "control "); ok {
			control = u
		}
	}
	go io.Copy(io.Discard, pr)
	if apduURI == "" || control == "" {
		t.Fatalf("no addresses printed (stderr: %s)", stderr.String())
	}
	tr, err := transport.Dial(ctx, apduURI)
	if err != nil {
		t.Fatal(err)
	}
	// m/44'/60'/0'/0/0 of the "abandon … about" seed.
	r, err := tr.Exchange(ctx, []byte{0xe0, 0x02, 0, 0, 0x15, 0x05, 0x80, 0, 0, 0x2c, 0x80, 0, 0, 0x3c, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	if err != nil || !bytes.Contains(r, []byte("9858EfFD232B4033E47d90003D41EC34EcaEda94")) {
		t.Fatalf("address: %s %v", r, err)
	}
	resp, err := http.Post(control+"/lock", "", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("lock: %v", err)
	}
	resp.Body.Close()
	if r, err := tr.Exchange(ctx, []byte{0xe0, 0x06, 0, 0, 0}); err != nil || !bytes.Equal(r, []byte{0x55, 0x15}) {
		t.Fatalf("locked: %x %v", r, err)
	}
	tr.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the emulator did not stop")
	}
	if !strings.Contains(stderr.String(), "WARNING: test equipment only") {
		t.Errorf("no warning printed: %s", stderr.String())
	}
	if strings.Contains(stderr.String(), "abandon") {
		t.Error("the mnemonic reached the output")
	}
}

func TestRunBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-model", "nanoz"}, {"-app-version", "one"}, {"-seed-file", "/nonexistent"}, {"extra"}} {
		if err := run(context.Background(), append([]string{"-listen", "127.0.0.1:0"}, args...), io.Discard, io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
