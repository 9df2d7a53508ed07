package plugins

import (
	"fmt"

	"github.com/mm-wallet/mm/sdk"
)

// Codes of this package.
const (
	// CodePluginNotPinned: an mm-signer-<name> executable was found but
	// was never installed (pinned), so it is not run.
	CodePluginNotPinned sdk.Code = "PLUGIN_NOT_PINNED"
)

// ExecutablePrefix starts the file name of every third-party signer.
const ExecutablePrefix = "mm-signer-"

// maxNameLen bounds plugin names.
const maxNameLen = 64

// ValidateName checks a plugin name: 1 to 64 lower-case letters, digits,
// '-' and '_', starting with a letter or digit. Anything else, in
// particular a path separator or "..", is INVALID_PLUGIN_NAME.
func ValidateName(name string) error {
	ok := name != "" && len(name) <= maxNameLen
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '-' || c == '_') && i > 0:
		default:
			ok = false
		}
	}
	if ok {
		return nil
	}
	return &sdk.Error{
		Code:    sdk.CodeInvalidPluginName,
		Message: fmt.Sprintf("invalid plugin name %q", clipName(name)),
		Hint:    "plugin names are 1-64 lower-case letters, digits, '-' and '_', starting with a letter or digit",
	}
}

func clipName(s string) string {
	r := []rune(s)
	if len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}
