// Package ledger is mm's Ledger signer: a driver for the Ledger Ethereum app
// (app-ethereum) over any transport.Transport — USB HID (hid://ledger),
// Speculos or hwtest's emulator over TCP (tcp://127.0.0.1:9999) — exposed as
// an sdk.Signer with sdk.Configurer and sdk.Authorizer.
//
// Layers. Device sends exactly the APDUs the app expects (chunked as Ledger's
// own client does: 150-byte blocks, the legacy chainId,0,0 tail kept with the
// calldata before it to avoid app-ethereum issue #409) and returns raw
// replies. Signer adds the contract: app detection (the OS "get app and
// version" tells the dashboard from the app), minimum versions checked before
// anything is sent (EIP-2930/1559 1.9.0, EIP-712 hashes 1.5.0, EIP-712 full
// 1.9.19, EIP-7702 1.17.0), the account checked against the device, v
// recovered by recovering the signer (never trusting the 8-bit v byte, which
// overflows above chain id 109), and every status word mapped to a coded
// error with a hint (APP_NOT_OPEN, DEVICE_LOCKED, BLIND_SIGNING_DISABLED,
// USER_REJECTED, TX_TYPE_UNSUPPORTED, DEVICE_BUSY, DEVICE_NOT_FOUND,
// DEVICE_DISCONNECTED, EIP7702_DISABLED).
//
// Before each on-device confirmation the host's Prompter hears
// WaitingForUser("confirm on your Ledger <model>"), and again with Done when
// the wait is over. Cancelling the context (Ctrl-C) abandons the exchange:
// the call returns CANCELED and no signature.
//
// Settings (Configure): device (URI, default hid://ledger) and derivation
// (bip44 m/44'/60'/0'/0/x — the default —, live m/44'/60'/x'/0/0, legacy
// m/44'/60'/0'/x), which resolves AccountsRequest.Indices.
//
// For `mm hw list`: ListDevices and DeviceStatus.
package ledger
