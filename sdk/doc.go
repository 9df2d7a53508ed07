// Package sdk is the public contract between mm and its signers.
//
// A signer holds keys and signs; mm never does. Built-in signers (a BIP-39
// mnemonic, Ledger, Trezor, the server wallet) and third-party signers (an
// HSM, a KMS, an MPC service) implement the same Signer interface and run as
// separate processes that mm talks to over hashicorp/go-plugin gRPC.
//
// Every method takes a context and a request struct and returns a response
// struct, so fields can be added without breaking plugins. Optional
// capabilities (Configurer, Manager, Authorizer, JobPoller) are small extra
// interfaces found by type assertion. Errors are *Error values with a stable
// Code whose identity survives the plugin wire.
//
// To ship a signer, implement Signer and call Serve from main; test it with
// the conformance suite in sdk/signertest.
//
// Hosts launch a plugin with Launch (or reach a detached signer started with
// StartDetached through Reattach) and get a *PluginClient, which is itself a
// Signer. Both halves of the wire live in this package; PROTOCOL.md
// documents it for plugins written in other languages.
package sdk
