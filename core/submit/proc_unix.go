//go:build unix

package submit

import (
	"errors"
	"syscall"
)

// processAlive reports whether pid still runs (EPERM: it runs as another
// user, which still counts).
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
