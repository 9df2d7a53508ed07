// Package state keeps mm's files under ~/.metamask (MM_HOME overrides it).
//
// The folder is 0700 and every file 0600. Every write is atomic — a temp file
// in the same folder, fsync, rename, fsync of the folder — and serialized by an
// advisory file lock, so parallel mm processes never lose an update and a
// crash mid-write leaves the previous file intact. A file that does not parse
// is reported as STATE_CORRUPT with its path and is never overwritten
// silently.
package state

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"

	"github.com/mm-wallet/mm/sdk"
)

// Error codes of this package.
const (
	CodeStateCorrupt sdk.Code = "STATE_CORRUPT"
	CodeStateIO      sdk.Code = "STATE_IO"
)

// Permissions of the state folder and its files.
const (
	DirPerm  fs.FileMode = 0o700
	FilePerm fs.FileMode = 0o600
)

// EnvHome names the environment variable that overrides the state folder.
const EnvHome = "MM_HOME"

// HomeDir returns the state folder path: $MM_HOME, else ~/.metamask. It does
// not create it.
func HomeDir() (string, error) {
	if h := os.Getenv(EnvHome); h != "" {
		return filepath.Abs(h)
	}
	u, err := os.UserHomeDir()
	if err != nil {
		return "", sdk.Errorf(CodeStateIO, "state: no home folder: %w", err).WithHint("set MM_HOME to a folder mm may use")
	}
	return filepath.Join(u, ".metamask"), nil
}

// Store is the state folder.
type Store struct {
	dir string
}

// Open returns the Store at dir, creating the folder 0700 if needed. An
// existing folder with looser permissions is tightened to 0700.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, DirPerm); err != nil {
		return nil, ioErr("create folder", dir, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, ioErr("stat folder", dir, err)
	}
	if fi.Mode().Perm() != DirPerm {
		if err := os.Chmod(dir, DirPerm); err != nil {
			return nil, ioErr("chmod folder", dir, err)
		}
	}
	return &Store{dir: dir}, nil
}

// OpenHome opens the Store at HomeDir().
func OpenHome() (*Store, error) {
	dir, err := HomeDir()
	if err != nil {
		return nil, err
	}
	return Open(dir)
}

// Dir returns the folder path.
func (s *Store) Dir() string { return s.dir }

// Path returns the path of the named file (or sub-path) inside the folder.
func (s *Store) Path(name string) string { return filepath.Join(s.dir, name) }

// Lock takes the exclusive advisory lock that guards name (a sibling file
// "<name>.lock"), waiting until ctx ends. Call the returned function to
// release it.
func (s *Store) Lock(ctx context.Context, name string) (unlock func(), err error) {
	p := s.Path(name) + ".lock"
	if err := os.MkdirAll(filepath.Dir(p), DirPerm); err != nil {
		return nil, ioErr("create folder", filepath.Dir(p), err)
	}
	fl := flock.New(p, flock.SetPermissions(FilePerm))
	ok, err := fl.TryLockContext(ctx, 2*time.Millisecond)
	if err != nil {
		return nil, ioErr("lock", p, err)
	}
	if !ok {
		return nil, ioErr("lock", p, errors.New("not acquired"))
	}
	return func() { _ = fl.Unlock() }, nil
}

// ReadFile returns the named file's bytes; exists is false when it is absent.
func (s *Store) ReadFile(name string) (data []byte, exists bool, err error) {
	data, err = os.ReadFile(s.Path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, ioErr("read", s.Path(name), err)
	}
	return data, true, nil
}

// ReadJSON decodes the named file into v. exists is false (and v untouched)
// when the file is absent. A file that is not valid JSON for v yields
// STATE_CORRUPT naming the file.
func (s *Store) ReadJSON(name string, v any) (exists bool, err error) {
	data, exists, err := s.ReadFile(name)
	if err != nil || !exists {
		return exists, err
	}
	if err := decodeStrict(data, v); err != nil {
		return true, Corrupt(s.Path(name), err)
	}
	return true, nil
}

// WriteFile atomically replaces the named file with data (mode 0600) under its
// lock.
func (s *Store) WriteFile(ctx context.Context, name string, data []byte) error {
	unlock, err := s.Lock(ctx, name)
	if err != nil {
		return err
	}
	defer unlock()
	return s.WriteFileLocked(name, data)
}

// WriteFileLocked atomically replaces the named file; the caller holds its
// lock.
func (s *Store) WriteFileLocked(name string, data []byte) error {
	return WriteAtomic(s.Path(name), data, FilePerm)
}

// UpdateJSON runs a read-modify-write of the named JSON file under its lock:
// it decodes the file into v (leaving v as given when the file is absent),
// calls fn, and, if fn returns nil, writes v back atomically. A damaged file
// stops the update with STATE_CORRUPT before fn runs.
func (s *Store) UpdateJSON(ctx context.Context, name string, v any, fn func() error) error {
	unlock, err := s.Lock(ctx, name)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := s.ReadJSON(name, v); err != nil {
		return err
	}
	if err := fn(); err != nil {
		return err
	}
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("state: encode %s: %w", name, err)
	}
	return s.WriteFileLocked(name, append(data, '\n'))
}

// Remove deletes the named file (and its lock file) if present.
func (s *Store) Remove(name string) error {
	for _, p := range []string{s.Path(name), s.Path(name) + ".lock"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return ioErr("remove", p, err)
		}
	}
	return nil
}

// WriteAtomic writes data to path through a temp file in the same folder,
// fsyncs it, renames it over path and fsyncs the folder, so readers see the
// old or the new content, never a mix, even across a crash.
func WriteAtomic(path string, data []byte, perm fs.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return ioErr("create temp file in", dir, err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err := f.Chmod(perm); err != nil {
		return ioErr("chmod", tmp, err)
	}
	if _, err := f.Write(data); err != nil {
		return ioErr("write", tmp, err)
	}
	if err := f.Sync(); err != nil {
		return ioErr("fsync", tmp, err)
	}
	if err := f.Close(); err != nil {
		return ioErr("close", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return ioErr("rename", path, err)
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// Corrupt returns the STATE_CORRUPT error for the file at path.
func Corrupt(path string, cause error) *sdk.Error {
	return &sdk.Error{
		Code:    CodeStateCorrupt,
		Message: fmt.Sprintf("state file %s is damaged: %v", path, cause),
		Hint:    "mm will not overwrite it; repair or move the file away (mm reset removes all state)",
		Err:     cause,
	}
}

func ioErr(op, path string, err error) *sdk.Error {
	return &sdk.Error{
		Code:    CodeStateIO,
		Message: fmt.Sprintf("state: %s %s: %v", op, path, err),
		Hint:    "check the permissions and free space of the mm state folder (MM_HOME)",
		Err:     err,
	}
}

func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}
