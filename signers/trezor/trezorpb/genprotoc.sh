#!/bin/sh
# Regenerates messages.pb.go from messages.proto. `make proto` runs it
# through the go:generate line in gen.go.
#
# Usage: genprotoc.sh [OUTDIR]    (default: this folder)
#
# protoc comes from Debian's protobuf-compiler (.ci/tools.sh installs it);
# protoc-gen-go is built at the google.golang.org/protobuf version go.mod
# pins.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
if ! command -v protoc >/dev/null 2>&1; then
	echo "genprotoc: protoc not found on PATH; install Debian's protobuf-compiler (make tools does it)" >&2
	exit 1
fi
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
cd "$here"
go build -o "$bin/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go
mkdir -p "$out"
protoc -I "$here" --plugin=protoc-gen-go="$bin/protoc-gen-go" \
	--go_out="$out" --go_opt=paths=source_relative messages.proto
