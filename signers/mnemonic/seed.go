package mnemonic

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tyler-smith/go-bip39"
	"golang.org/x/text/unicode/norm"

	"github.com/mm-wallet/mm/sdk"
)

// NormalizeMnemonic returns the canonical form of a BIP-39 English mnemonic
// (Unicode NFKD, lower case, words separated by single spaces) after
// checking its length, words and checksum. A bad mnemonic is
// INVALID_MNEMONIC; the error names the problem and the position of a bad
// word, never a word itself.
func NormalizeMnemonic(m string) (string, error) {
	words := strings.Fields(strings.ToLower(norm.NFKD.String(m)))
	switch len(words) {
	case 12, 15, 18, 21, 24:
	default:
		return "", invalidMnemonic(fmt.Sprintf("it has %d words; a BIP-39 mnemonic has 12, 15, 18, 21 or 24", len(words)))
	}
	for i, w := range words {
		if _, ok := bip39.GetWordIndex(w); !ok {
			return "", invalidMnemonic(fmt.Sprintf("word %d is not in the BIP-39 English word list", i+1))
		}
	}
	canon := strings.Join(words, " ")
	if _, err := bip39.EntropyFromMnemonic(canon); err != nil {
		if errors.Is(err, bip39.ErrChecksumIncorrect) {
			return "", invalidMnemonic("its checksum is wrong (a word is mistyped or out of order)")
		}
		// The library's other messages may quote a word: never pass them on.
		return "", invalidMnemonic("it does not decode")
	}
	return canon, nil
}

func invalidMnemonic(why string) *sdk.Error {
	return &sdk.Error{
		Code:    sdk.CodeInvalidMnemonic,
		Message: "mnemonic: invalid mnemonic: " + why,
		Hint:    "check the words against your backup; a BIP-39 mnemonic has 12 to 24 words from the English list",
	}
}

// seedFromMnemonic validates m and returns its BIP-39 seed for the
// passphrase (both NFKD-normalized, as BIP-39 requires).
func seedFromMnemonic(m, passphrase string) ([]byte, error) {
	canon, err := NormalizeMnemonic(m)
	if err != nil {
		return nil, err
	}
	return bip39.NewSeed(canon, norm.NFKD.String(passphrase)), nil
}
