// Package eip712 reads EIP-712 v4 typed-data documents and computes the two
// hashes a signature covers (the domain separator and the message hash),
// once, for every part of mm that needs them: the host, which hashes what a
// user passes so that hash-only signers can sign; full-mode signers, which
// recompute the hashes from the JSON and refuse a request whose hashes do not
// match; the conformance suite; and the device emulators.
//
// Both sides of the plugin wire must hash the same way, so there is one
// reading of a document here:
//
//   - JSON numbers are exact integers (read as *big.Int, never through
//     float64); a fraction or an exponent is refused.
//   - The domain is hashed exactly as its EIP712Domain type declares it; a
//     document without an EIP712Domain type has an empty domain.
//   - The checks are strict: type names, unknown and reserved types, type
//     cycles, fixed array lengths, integer ranges (signed ones too, which
//     go-ethereum's apitypes does not check), nesting depth and size. A
//     document that passes is one every built-in signer can encode.
//
// The encoding itself is go-ethereum's signer/core/apitypes. Nothing here
// panics on hostile input: every problem is an *sdk.Error with the code
// INVALID_TYPED_DATA.
package eip712
