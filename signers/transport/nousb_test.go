package transport

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestBuiltWithoutUSB builds and runs a small program with CGO_ENABLED=0: the
// hid scheme must still exist and answer ErrNoUSB, as must enumeration.
func TestBuiltWithoutUSB(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	prog := `package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/mm-wallet/mm/signers/transport"
)

func main() {
	_, err := transport.Dial(context.Background(), "hid://ledger")
	_, err2 := transport.EnumerateLedgers()
	fmt.Println(errors.Is(err, transport.ErrNoUSB), errors.Is(err2, transport.ErrNoUSB), transport.HIDSupported(), err)
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(prog), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "run", filepath.Join(dir, "main.go"))
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go run: %v\n%s", err, out)
	}
	if !strings.HasPrefix(string(out), "true true false ") || !strings.Contains(string(out), "built without USB support") {
		t.Fatalf("without cgo: %s", out)
	}
}
