// Package trezorpb holds the Trezor wire messages mm uses, generated from
// messages.proto, and the table that maps wire message type ids to them.
//
// It is shared by the driver (signers/trezor) and the emulator
// (hwtest/trezor) so the two cannot drift. Regenerate with `make proto`;
// protoc-gen-go is built from the google.golang.org/protobuf version pinned
// in go.mod.
package trezorpb

//go:generate sh genprotoc.sh
