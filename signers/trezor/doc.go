// Package trezor is mm's Trezor signer: an sdk.Signer (and sdk.Configurer)
// that drives a Trezor over a transport.Transport — the Trezor Bridge
// (bridge://), USB HID for old Trezor One firmware (hid://trezor), or an
// emulator's UDP port (udp://) — speaking Trezor's protobuf messages
// (package trezorpb) framed by codec v1.
//
// Keys never leave the device. Every request runs the host side of
// Trezor's message loop: ButtonRequest → ButtonAck while the user confirms
// on the device (the host's Prompter hears WaitingForUser "confirm on your
// Trezor <model>"), PinMatrixRequest → the PIN as scrambled-matrix
// positions asked through Prompter.RequestSecret(kind "pin"), and
// PassphraseRequest → the passphrase asked through
// Prompter.RequestSecret(kind "passphrase") or entered on the device
// (setting passphrase=device, Core models only).
//
// What the connected firmware can do decides what Info claims and what is
// refused up front: EIP-1559 needs Trezor One ≥ 1.10.4 or Core ≥ 2.4.2
// (FIRMWARE_TOO_OLD otherwise); typed data is signed in full
// (EthereumSignTypedData, struct and value requests answered from the JSON)
// on Core models ≥ 2.4.3 and as hashes (EthereumSignTypedHash) on the
// Trezor One ≥ 1.10.5. Legacy transactions with chain ids above 2147483629
// get only the parity from the device; the driver completes v. Device
// Failures become coded errors (ActionCancelled, PinCancelled →
// USER_REJECTED; PinInvalid → PIN_INVALID; NotInitialized →
// DEVICE_NOT_INITIALIZED; UnexpectedMessage → UNSUPPORTED with a hint for
// the model; others → DEVICE_ERROR with the device's message). Every
// signature is checked to recover to the account before it is returned.
//
// Settings (Configure):
//
//	device      transport URI; empty: the first Trezor found (Bridge, then
//	            the emulator on udp://127.0.0.1:21324, then USB HID)
//	derivation  how AccountsRequest.Indices become paths: bip44 (default,
//	            m/44'/60'/0'/0/x), live (m/44'/60'/x'/0/0), legacy (m/44'/60'/0'/x)
//	passphrase  host (default: asked through the Prompter) or device
//
// List and DeviceStatus serve `mm hw list`.
package trezor
