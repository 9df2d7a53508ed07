// Package signertest is the conformance suite every mm signer must pass,
// built-in or third-party, in process or as a plugin binary.
//
//	func TestConformance(t *testing.T) {
//		signertest.Run(t, func(t *testing.T) sdk.Signer { return mysigner.New() }, signertest.Options{
//			Settings: map[string]string{"keyFile": "testdata/key.json"},
//			Prompter: signertest.Secrets{sdk.SecretPassword: "test password"},
//		})
//	}
//
// Run calls the factory for each fresh instance it needs (at least two, to
// check that addresses are stable across instances); RunBinary and
// RunPlugin start a new plugin process for each instance, through the same
// host code mm uses, so the suite then also covers the plugin wire.
//
// # What it checks
//
//   - Info is consistent with behaviour: every claimed capability (a
//     transaction type, the typed-data mode full or hashed-only, personal
//     messages, EIP-7702 authorizations through sdk.Authorizer) works, and
//     every unclaimed one answers UNSUPPORTED. Blob (type 3) transactions,
//     which no capability names, are always UNSUPPORTED.
//   - Addresses are non-zero, EIP-55 when printed, distinct per path, equal
//     to Options.Expect, and stable across calls and instances.
//   - Every signature recovers to its account: transactions with
//     go-ethereum's types.Sender, messages with the EIP-191 hash, typed
//     data with hashStruct per EIP-712 v4; s is in the lower half (EIP-2);
//     v is 27/28 for messages and typed data and the y-parity (0/1) in
//     SignTransactionResponse.Signature.
//   - Legacy EIP-155 v for chain ids 1, 137, 11155111, 2147483629,
//     3125659152 and 2^64-1; EIP-2930 and EIP-1559 envelopes with 4 KiB of
//     calldata and contract creation; EIP-712 with nested structs, arrays of
//     structs, bytes, string, a bare-minimum domain and a primary type of
//     EIP712Domain; EIP-191 messages that are empty, binary and 64 KiB.
//   - Malformed requests get coded errors, never a panic and never a
//     signature (table below).
//   - A cancelled context is honoured (CANCELED), also while the signer
//     waits for the Prompter when Options.PromptsOnUnlock is set; 32
//     concurrent calls, on a warm and on a fresh instance, are safe.
//
// # The codes it expects
//
//	transaction bytes empty, garbage, truncated or with trailing bytes  INVALID_TRANSACTION
//	typed transaction whose chain id differs from the request's          INVALID_TRANSACTION
//	transaction that already carries v, r, s (e.g. a 33-byte r)          INVALID_TRANSACTION
//	no chain id for a transaction                                        INVALID_REQUEST
//	typed data not JSON / without types / hashes not matching (full)     INVALID_TYPED_DATA
//	account the signer does not hold                                     UNKNOWN_ACCOUNT
//	malformed derivation path (also for signers without paths)           INVALID_DERIVATION_PATH
//	capability not claimed in Info                                       UNSUPPORTED
//	context cancelled                                                    CANCELED
//
// # Device limits
//
// A hardware signer may be unable to pass a case whatever its driver does:
// the Ledger Ethereum app cannot sign typed data whose primary type is
// EIP712Domain, nor an EIP-7702 authorization for a chain id above 2^64-1.
// Such a signer declares each limit in Options.Limits with the code it
// answers instead:
//
//	Limits: []signertest.Limit{
//		{Case: signertest.CaseTypedDataDomainPrimary, Code: sdk.CodeUnsupported, Reason: "the app needs a message hash"},
//	},
//
// The case is not skipped: the suite sends it and demands that coded
// refusal with no signature, and logs the reason. Only the cases named by
// the Case constants can be declared; anything else is a test failure.
//
// The suite computes the EIP-712 hashes it sends with sdk/eip712, as mm's
// host does (go-ethereum's signer/core/apitypes underneath, integers read
// exactly, an empty domain allowed).
package signertest
