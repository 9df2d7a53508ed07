package trezorpb_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedCodeIsFresh regenerates messages.pb.go into a temporary
// folder and compares it with the committed file: run `make proto` after
// editing messages.proto. It needs protoc (`make tools` installs it).
func TestGeneratedCodeIsFresh(t *testing.T) {
	if _, err := exec.LookPath("protoc"); err != nil {
		t.Fatal("protoc is not on PATH: install Debian's protobuf-compiler (make tools does it) to check the generated code")
	}
	out := t.TempDir()
	cmd := exec.Command("sh", "genprotoc.sh", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("genprotoc.sh: %v\n%s", err, b)
	}
	fresh, err := os.ReadFile(filepath.Join(out, "messages.pb.go"))
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile("messages.pb.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fresh, committed) {
		t.Fatal("messages.pb.go is stale: run `make proto`")
	}
}
