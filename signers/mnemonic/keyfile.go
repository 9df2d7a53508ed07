package mnemonic

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"filippo.io/age"

	"github.com/mm-wallet/mm/core/state"
	"github.com/mm-wallet/mm/sdk"
)

// ageMagic starts every binary age file.
const ageMagic = "age-encryption.org/v1\n"

// maxKeyFileSize bounds what is read from a key file: a mnemonic of 24
// words is under 250 bytes, encrypted well under 1 KiB.
const maxKeyFileSize = 64 << 10

// Scrypt work factors (log2 of the scrypt N parameter) accepted by the
// scryptWorkFactor setting. DefaultScryptWorkFactor is age's own default.
const (
	DefaultScryptWorkFactor = 18
	MinScryptWorkFactor     = 1
	MaxScryptWorkFactor     = 22
)

// Codes this package adds to the sdk ones.
const (
	// CodeMnemonicExists is returned by the import operation when a key file
	// already exists and Params["replace"] is not "true".
	CodeMnemonicExists sdk.Code = "MNEMONIC_EXISTS"
)

// readKeyFile reads the key file at path. A missing file is MISSING_MNEMONIC.
func readKeyFile(path string) ([]byte, fs.FileInfo, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, &sdk.Error{
			Code:    sdk.CodeMissingMnemonic,
			Message: fmt.Sprintf("mnemonic: no mnemonic stored at %s", path),
			Hint:    "run mm init --wallet byok with MM_MNEMONIC set to import one",
		}
	}
	if err != nil {
		return nil, nil, sdk.Errorf(state.CodeStateIO, "mnemonic: open key file: %w", err).WithHint("check the permissions of the mm state folder (MM_HOME)")
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, sdk.Errorf(state.CodeStateIO, "mnemonic: stat key file: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, nil, sdk.Errorf(state.CodeStateIO, "mnemonic: read key file: %w", err)
	}
	if len(data) > maxKeyFileSize {
		return nil, nil, state.Corrupt(path, errors.New("larger than any mnemonic key file"))
	}
	return data, fi, nil
}

// isEncrypted reports whether a key file holds an age file rather than a
// plaintext mnemonic.
func isEncrypted(data []byte) bool {
	return bytes.HasPrefix(data, []byte(ageMagic))
}

// decryptKeyFile opens an age scrypt-encrypted key file. A wrong password
// is WRONG_PASSWORD; a damaged file is STATE_CORRUPT.
func decryptKeyFile(path string, data, password []byte) ([]byte, error) {
	if len(password) == 0 {
		return nil, emptyPassword()
	}
	id, err := age.NewScryptIdentity(string(password))
	if err != nil {
		return nil, emptyPassword()
	}
	id.SetMaxWorkFactor(MaxScryptWorkFactor)
	r, err := age.Decrypt(bytes.NewReader(data), id)
	if err != nil {
		var nomatch *age.NoIdentityMatchError
		if errors.As(err, &nomatch) || errors.Is(err, age.ErrIncorrectIdentity) {
			return nil, &sdk.Error{
				Code:    sdk.CodeWrongPassword,
				Message: "mnemonic: wrong password for the stored mnemonic",
				Hint:    "check MM_PASSWORD or type the password again",
			}
		}
		return nil, state.Corrupt(path, fmt.Errorf("not a readable age file: %w", err))
	}
	plain, err := io.ReadAll(io.LimitReader(r, maxKeyFileSize+1))
	if err != nil || len(plain) > maxKeyFileSize {
		clear(plain)
		return nil, state.Corrupt(path, errors.New("the encrypted payload is damaged"))
	}
	return plain, nil
}

// encryptKeyFile encrypts plain to an age file for password with the scrypt
// work factor logN.
func encryptKeyFile(plain, password []byte, logN int) ([]byte, error) {
	if len(password) == 0 {
		return nil, emptyPassword()
	}
	rcpt, err := age.NewScryptRecipient(string(password))
	if err != nil {
		return nil, emptyPassword()
	}
	rcpt.SetWorkFactor(logN)
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, rcpt)
	if err != nil {
		return nil, sdk.Errorf(sdk.CodeInternal, "mnemonic: encrypt: %w", err)
	}
	if _, err := w.Write(plain); err != nil {
		return nil, sdk.Errorf(sdk.CodeInternal, "mnemonic: encrypt: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, sdk.Errorf(sdk.CodeInternal, "mnemonic: encrypt: %w", err)
	}
	return buf.Bytes(), nil
}

func emptyPassword() *sdk.Error {
	return &sdk.Error{
		Code:    sdk.CodeEmptyPassword,
		Message: "mnemonic: the password is empty",
		Hint:    "choose a non-empty password, or store the mnemonic without one",
	}
}

// sameFile reports whether the key file at path is still the one described
// by fi (same inode, size and modification time). Every atomic rewrite
// renames a new inode into place, so any change is seen.
func sameFile(path string, fi fs.FileInfo) bool {
	cur, err := os.Stat(path)
	if err != nil {
		return false
	}
	return os.SameFile(cur, fi) && cur.Size() == fi.Size() && cur.ModTime().Equal(fi.ModTime())
}
