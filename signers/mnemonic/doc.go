// Package mnemonic is mm's BIP-39 software signer ("byok": bring your own
// key). It runs as its own plugin process (mm re-executed as
// "mm plugin serve byok"), so the mnemonic never enters the CLI process.
//
// # Keys
//
// A BIP-39 English mnemonic (12 to 24 words, checked with
// tyler-smith/go-bip39) and an optional BIP-39 passphrase give the seed;
// BIP-32 paths in "m/44'/60'/0'/0/0" or "m/44h/60h/0h/0/0" notation give the
// keys. An account index i means the path DefaultIndexPath with i in place
// of {index}, unless SettingIndexPath says otherwise. Signing is
// go-ethereum's: types.LatestSignerForChainID and crypto.Sign for
// transactions (legacy with EIP-155, EIP-2930, EIP-1559, EIP-7702),
// accounts.TextHash for EIP-191 messages, sdk/eip712 (go-ethereum's
// apitypes underneath) for EIP-712 v4 typed data, and types.SignSetCode for
// EIP-7702 authorizations.
//
// BIP-32 derivation is a few lines over well-kept primitives instead of a
// BIP-32 library, to keep a cold signer process fast; see extKey in
// bip32.go for the reason and its tests for the proof.
//
// # The key file
//
// The signer keeps its mnemonic in one file of its own, named by the
// keyFile setting (mm uses <MM_HOME>/mnemonic). The file holds either the
// mnemonic in plaintext (the normalized words and a newline, mode 0600), or
// that same text encrypted with filippo.io/age to a scrypt recipient (a
// binary age file) when the user chose a password. Files are always written
// atomically (core/state.WriteAtomic) under the key file's lock, and the
// plaintext is never written when a password is given.
//
// The signer unlocks lazily, on the first call that needs a key. For an
// encrypted file it asks the host's Prompter (sdk.PrompterFrom) for a
// SecretPassword; the CLI answers from MM_PASSWORD or a terminal prompt. A
// host that cannot ask gets MNEMONIC_LOCKED; a wrong password is
// WRONG_PASSWORD. The unlocked key stays in the process until the lock
// operation, a new Configure, or a change of the file on disk.
//
// # Settings (Configure)
//
//	keyFile           path of the key file (required)
//	passphraseFile    path of a file holding the BIP-39 passphrase (optional)
//	passphrase        "prompt" to ask the host for it (SecretPassphrase), or "none" (default)
//	scryptWorkFactor  log2 of age's scrypt N when encrypting, 1..22; default 18 (age's
//	                  default, about a second); tests lower it, production should not
//	indexPath         account index template, default "m/44'/60'/0'/0/{index}"
//
// Settings are never secrets. Unknown settings are INVALID_REQUEST.
//
// # Operations (Manage)
//
// Secrets reach these operations only through the Prompter; Params carry
// flags ("true" or "false") and never a secret. No result ever holds a
// secret.
//
//	status           → keyFile, exists, encrypted, unlocked ("true"/"false")
//	import           asks SecretMnemonic, then, with Params encrypt=true,
//	                 SecretNewPassword; writes the key file and unlocks.
//	                 → address and path of index 0, encrypted, keyFile.
//	                 MNEMONIC_EXISTS when a key file exists unless replace=true;
//	                 INVALID_MNEMONIC (wrong word, checksum or length);
//	                 EMPTY_PASSWORD
//	set-password     asks SecretNewPassword; encrypts a plaintext key file.
//	                 ALREADY_ENCRYPTED, MISSING_MNEMONIC, EMPTY_PASSWORD
//	change-password  asks SecretPassword (the current one, always), then
//	                 SecretNewPassword. NOT_ENCRYPTED, WRONG_PASSWORD, EMPTY_PASSWORD
//	remove-password  asks SecretPassword; writes the plaintext key file.
//	                 NOT_ENCRYPTED, WRONG_PASSWORD
//	unlock           unlocks now (asks SecretPassword if encrypted), so that a
//	                 warm signer process signs without asking again
//	lock             forgets the unlocked key
//	remove           deletes the key file and forgets the key → removed
//
// PASSWORD_MISMATCH (the two entries of a new password differ) belongs to
// the host, which asks twice for a SecretNewPassword.
//
// # Errors
//
// Every error is an *sdk.Error: INVALID_DERIVATION_PATH, INVALID_MNEMONIC,
// MISSING_MNEMONIC, MNEMONIC_LOCKED, WRONG_PASSWORD, EMPTY_PASSWORD,
// ALREADY_ENCRYPTED, NOT_ENCRYPTED, MNEMONIC_EXISTS, INVALID_TRANSACTION,
// INVALID_TYPED_DATA, INVALID_REQUEST, UNKNOWN_ACCOUNT, UNSUPPORTED,
// CANCELED, NOT_CONFIGURED and core/state's STATE_CORRUPT / STATE_IO. No
// error text contains a mnemonic word, a passphrase or a password.
package mnemonic
