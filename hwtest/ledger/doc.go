// Package ledger is a Ledger device running the Ethereum app, in Go, for
// tests and demos: CI has no Ledger, so mm's Ledger driver talks to this
// emulator over the real wire protocols instead.
//
// It speaks the app-ethereum APDUs (addresses, app configuration, SIGN TX in
// chunks with the app's streaming parser, personal messages, EIP-712 in both
// the v0 hashed mode and the full struct-definition/value mode, EIP-7702
// authorizations, the OS "get app and version") with their status words and
// response layouts, including the legacy v byte truncated to 8 bits and the
// premature-signing quirk of app-ethereum issue #409. Keys come from a BIP-39
// mnemonic (default: the public Speculos seed) through BIP-32, and signatures
// use go-ethereum's deterministic (RFC 6979) secp256k1, so they equal a real
// device's byte for byte.
//
// Transports: Listen serves the Speculos raw APDU TCP protocol (what
// tcp://127.0.0.1:9999 reaches); PipeHID and HIDURI ("memhid://…") carry the
// 64-byte Ledger HID framing over an in-memory stream.
//
// Fault controls (RejectNext, SetLocked, SetAppOpen, SetBlindSigning,
// SetAppVersion, SetConfirmDelay, DisconnectNext, DisconnectAfter) and the
// HTTP ControlHandler let tests and demos provoke every device state.
//
// Simplifications, stated so nobody relies on them: no PIN entry (locked is
// a switch), no EIP-712 filtering (INS 0x1E) or clear-signing metadata, no
// ERC-20/NFT/plugin provisioning APDUs, EIP-7702 delegates are not checked
// against Ledger's whitelist, and the review screens are not rendered.
package ledger
