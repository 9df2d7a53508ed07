#!/bin/sh
# Regenerates the Go code of the mm signer plugin protocol from its .proto
# files. `make proto` runs it through the go:generate line in sdk/protocol.go.
#
# Usage: genprotoc.sh [OUTDIR]    (default: next to the .proto files)
#
# protoc comes from Debian's protobuf-compiler (.ci/tools.sh installs it);
# protoc-gen-go and protoc-gen-go-grpc are built at the versions pinned by the
# `tool` directives of go.mod.
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
go build -o "$bin/protoc-gen-go-grpc" google.golang.org/grpc/cmd/protoc-gen-go-grpc
for v in v1 v2; do
	mkdir -p "$out/mm/signer/$v"
	protoc -I "$here" \
		--plugin=protoc-gen-go="$bin/protoc-gen-go" \
		--plugin=protoc-gen-go-grpc="$bin/protoc-gen-go-grpc" \
		--go_out="$out" --go_opt=paths=source_relative \
		--go-grpc_out="$out" --go-grpc_opt=paths=source_relative \
		"mm/signer/$v/signer.proto"
done
