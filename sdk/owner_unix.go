//go:build unix

package sdk

import (
	"io/fs"
	"os"
	"syscall"
)

// ownedByUs reports whether the file belongs to this process's user.
func ownedByUs(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid()
}
