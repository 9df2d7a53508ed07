// Package trezorpb holds the Trezor wire messages mm uses, generated from
// messages.proto, and the table that maps wire message type ids to them.
//
// It is shared by the driver (signers/trezor) and the emulator
// (hwtest/trezor) so the two cannot drift. Regenerate with `make proto`;
// protoc-gen-go is built from the google.golang.org/protobuf version pinned
// in go.mod.
package trezorpb

//go:generate sh -c "d=$(mktemp -d) && go build -o $d/protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go && protoc --plugin=protoc-gen-go=$d/protoc-gen-go --go_out=. --go_opt=paths=source_relative messages.proto; rc=$?; rm -rf $d; exit $rc"
