// Package trezor is a Trezor emulator for tests: it speaks Trezor's wire
// protocol (codec v1 packets, protobuf messages with Trezor's type ids and
// field numbers) over UDP like the official emulator — one 64-byte
// datagram per packet, PINGPING/PONGPONG liveness — and signs exactly like
// the firmware (BIP-39 seed, BIP-32 keys, RFC 6979 signatures through
// go-ethereum's crypto.Sign), so its signatures equal a real device's byte
// for byte.
//
// Model profiles follow the two firmware families: the Trezor One runs the
// legacy firmware (no EthereumSignTypedData: Failure UnexpectedMessage;
// EthereumSignTypedHash from 1.10.5; EIP-1559 from 1.10.4; PIN entered on
// the host through a scrambled matrix), the Core models (Model T, Safe 3,
// Safe 5) run Core firmware (full EIP-712 from 2.4.3, no
// EthereumSignTypedHash; EIP-1559 from 2.4.2; PIN and, optionally, the
// passphrase entered on the device). Firmware versions are configurable, and
// a bitcoin-only build answers every Ethereum message with UnexpectedMessage.
//
// A protected device asks for its PIN (the One's matrix is scrambled from a
// seeded random source, so tests can compute positions with PinPositions)
// and, with passphrase protection, for a passphrase that changes the derived
// keys as BIP-39 passphrases do. Every confirmation is a ButtonRequest the
// host must ButtonAck; the simulated user then approves (default), rejects
// (RejectNext, RejectAll), waits (SetConfirmDelay) or leaves it to a person
// (SetManual + Approve/Reject, or the HTTP control endpoint). Calldata is
// requested in pieces of min(left, 1024) bytes.
//
// The same emulator also serves the 64-byte report stream of the USB HID
// transport (HIDStream) and a Trezor Bridge HTTP API (NewBridge), so every
// transport of signers/transport is exercised end to end. The command
// hwtest/cmd/trezor-emulator runs it on its own.
//
// It is test equipment: the default mnemonic is the public SLIP-14 test
// seed ("all all … all"); never hold funds with it.
package trezor
