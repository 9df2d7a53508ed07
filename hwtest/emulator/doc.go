// Package emulator holds what hwtest's device emulators (hwtest/ledger,
// hwtest/trezor) share, so that each keeps only its vendor's protocol: the
// BIP-32 keys a seed gives (Keyring), the HTTP control endpoint's plumbing
// (Control), and the command-line side of their commands (secret files,
// the control server, signals).
//
// It is test equipment: keys derived here are test keys, and nothing in
// production imports it.
package emulator
