package sdk_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// protocVersionLine matches the header lines naming protoc's own version,
// the one thing that may differ between two faithful regenerations.
var protocVersionLine = regexp.MustCompile(`(?m)^//\s+(-\s+)?protoc\s+v\S+\n`)

// The committed generated code is what `make proto` produces from the
// committed .proto files.
func TestGeneratedProtoIsCurrent(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("protoc"); err != nil {
		t.Fatal("protoc is not on PATH, so the committed generated code cannot be checked: run `make tools` (it installs Debian's protobuf-compiler)")
	}
	out := t.TempDir()
	cmd := exec.Command("sh", filepath.Join("internal", "proto", "genprotoc.sh"), out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("regenerate: %v\n%s", err, b)
	}
	for _, v := range []string{"v1", "v2"} {
		for _, f := range []string{"signer.pb.go", "signer_grpc.pb.go"} {
			rel := filepath.Join("mm", "signer", v, f)
			committed, err := os.ReadFile(filepath.Join("internal", "proto", rel))
			if err != nil {
				t.Fatal(err)
			}
			fresh, err := os.ReadFile(filepath.Join(out, rel))
			if err != nil {
				t.Fatal(err)
			}
			if protocVersionLine.ReplaceAllString(string(committed), "") != protocVersionLine.ReplaceAllString(string(fresh), "") {
				t.Errorf("%s is stale: run `make proto` and commit the result", rel)
			}
		}
	}
}
