package trezor

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
)

// A Trezor serves one conversation at a time, but several signer instances
// (several mm processes, or several signers in one process) may share it.
// Each flow therefore holds a lock file per device URI, and the file names
// the instance that spoke to the device last: an instance that finds
// another's name there resumes its own session (Initialize with its
// session id) before it goes on.

// lockDir returns the per-user folder of device lock files.
func lockDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "mm", "trezor-locks")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	return dir, nil
}

// deviceLock is a held lock on one device.
type deviceLock struct {
	fl *flock.Flock
	f  *os.File
}

// newToken names a signer instance in lock files.
func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// lockDevice waits (honouring ctx) for the lock of uri and reports whether
// token was the last instance to use the device.
func lockDevice(ctx context.Context, uri, token string) (*deviceLock, bool, error) {
	dir, err := lockDir()
	if err != nil {
		return nil, false, fmt.Errorf("device lock: %w", err)
	}
	sum := sha256.Sum256([]byte(uri))
	path := filepath.Join(dir, hex.EncodeToString(sum[:8])+".lock")
	fl := flock.New(path, flock.SetPermissions(0o600))
	ok, err := fl.TryLockContext(ctx, 20*time.Millisecond)
	if err != nil || !ok {
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		return nil, false, fmt.Errorf("device lock: %v", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0o600)
	if err != nil {
		fl.Unlock()
		return nil, false, fmt.Errorf("device lock: %w", err)
	}
	last := make([]byte, 64)
	n, _ := io.ReadFull(f, last)
	mine := string(last[:n]) == token
	return &deviceLock{fl: fl, f: f}, mine, nil
}

// release records token as the last user and unlocks.
func (l *deviceLock) release(token string) {
	if l == nil {
		return
	}
	if err := l.f.Truncate(0); err == nil {
		_, _ = l.f.WriteAt([]byte(token), 0)
	}
	l.f.Close()
	_ = l.fl.Unlock()
}
