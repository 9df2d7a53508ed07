package plugins

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mm-wallet/mm/core/state"
	"github.com/mm-wallet/mm/sdk"
)

// LockFile is the file under MM_HOME that pins installed plugins.
const LockFile = "plugins.lock"

// lockVersion is the format version of LockFile.
const lockVersion = 1

// lockFile is the content of LockFile:
//
//	{"version": 1, "plugins": {"keystore": {"path": "…/plugins/mm-signer-keystore",
//	  "sha256": "<64 hex>", "source": "/where/it/came/from", "installedAt": "…"}}}
type lockFile struct {
	Version int                  `json:"version"`
	Plugins map[string]lockEntry `json:"plugins"`
}

type lockEntry struct {
	Path        string    `json:"path"`
	SHA256      string    `json:"sha256"`
	Source      string    `json:"source,omitempty"`
	InstalledAt time.Time `json:"installedAt"`
}

// Plugin describes a signer the host knows of.
type Plugin struct {
	// Name is what Open takes.
	Name string `json:"name"`
	// Builtin is set for signers compiled into mm.
	Builtin bool `json:"builtin"`
	// Path is the executable (empty for built-ins).
	Path string `json:"path,omitempty"`
	// Pinned is set for installed plugins; an unpinned one was found on
	// MM_PLUGIN_PATH or in the plugins folder and will not be run.
	Pinned bool `json:"pinned"`
	// SHA256 is the pinned checksum, hex.
	SHA256 string `json:"sha256,omitempty"`
	// Matches reports whether the file still has the pinned checksum
	// (always true for built-ins, false for unpinned or missing files).
	Matches bool `json:"matches"`
	// Source is where Install copied the plugin from.
	Source string `json:"source,omitempty"`
	// InstalledAt is when it was installed.
	InstalledAt time.Time `json:"installedAt,omitzero"`
}

func (h *Host) store() (*state.Store, error) {
	if h.opts.Store == nil {
		return nil, sdk.NewError(sdk.CodeInternal, "plugins: no state folder configured", "")
	}
	return h.opts.Store, nil
}

// readLock reads and checks the lock file; absent is empty.
func (h *Host) readLock() (*lockFile, error) {
	s, err := h.store()
	if err != nil {
		return nil, err
	}
	lf := &lockFile{}
	if _, err := s.ReadJSON(LockFile, lf); err != nil {
		return nil, err
	}
	if err := checkLock(lf); err != nil {
		return nil, state.Corrupt(s.Path(LockFile), err)
	}
	return lf, nil
}

func checkLock(lf *lockFile) error {
	if lf.Plugins == nil {
		lf.Plugins = map[string]lockEntry{}
		if lf.Version == 0 {
			lf.Version = lockVersion
		}
	}
	if lf.Version != lockVersion {
		return fmt.Errorf("version %d, want %d", lf.Version, lockVersion)
	}
	for name, e := range lf.Plugins {
		if ValidateName(name) != nil {
			return fmt.Errorf("invalid plugin name %q", clipName(name))
		}
		if sum, err := hex.DecodeString(e.SHA256); err != nil || len(sum) != sha256.Size {
			return fmt.Errorf("plugin %s: sha256 is not 64 hex digits", name)
		}
		if !filepath.IsAbs(e.Path) {
			return fmt.Errorf("plugin %s: path %q is not absolute", name, e.Path)
		}
	}
	return nil
}

// Install copies the executable at path into <MM_HOME>/plugins/ as
// mm-signer-<name>, checks that it speaks the plugin protocol (it is
// launched once, pinned, and asked for its Info), and pins its SHA-256 in
// the lock file. The name is the file name without its mm-signer- prefix.
// Installing a name again replaces the plugin and its pin. On any failure
// nothing changes.
func (h *Host) Install(ctx context.Context, path string) (*Plugin, error) {
	s, err := h.store()
	if err != nil {
		return nil, err
	}
	src, err := filepath.Abs(path)
	if err != nil {
		return nil, sdk.Errorf(sdk.CodeInvalidRequest, "plugins: install: %w", err)
	}
	name := strings.TrimPrefix(filepath.Base(src), ExecutablePrefix)
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	if builtin(name) != nil {
		return nil, &sdk.Error{
			Code:    sdk.CodeInvalidPluginName,
			Message: fmt.Sprintf("%s is the name of a built-in signer", name),
			Hint:    "rename the executable to mm-signer-<another name>",
		}
	}
	fi, err := os.Stat(src)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, &sdk.Error{Code: sdk.CodePluginNotFound, Message: fmt.Sprintf("plugins: install: %s does not exist", src), Err: err}
	case err != nil:
		return nil, sdk.Errorf(sdk.CodeInvalidRequest, "plugins: install: %w", err)
	case !fi.Mode().IsRegular():
		return nil, sdk.NewError(sdk.CodeInvalidRequest, fmt.Sprintf("plugins: install: %s is not a regular file", src), "")
	}
	dir := s.Path(PluginsDir)
	if err := os.MkdirAll(dir, state.DirPerm); err != nil {
		return nil, sdk.Errorf(state.CodeStateIO, "plugins: install: %w", err)
	}
	tmp, sum, err := copyExecutable(src, dir, name)
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp) // gone already after the rename below
	// Launch the copy, pinned, before anything else changes.
	if err := h.probe(ctx, name, tmp, sum); err != nil {
		return nil, err
	}
	unlock, err := s.Lock(ctx, LockFile)
	if err != nil {
		return nil, err
	}
	defer unlock()
	lf, err := h.readLock()
	if err != nil {
		return nil, err
	}
	dst := filepath.Join(dir, ExecutablePrefix+name)
	if err := os.Rename(tmp, dst); err != nil {
		return nil, sdk.Errorf(state.CodeStateIO, "plugins: install: %w", err)
	}
	e := lockEntry{Path: dst, SHA256: hex.EncodeToString(sum), Source: src, InstalledAt: time.Now().UTC().Truncate(time.Second)}
	lf.Plugins[name] = e
	if err := writeLock(s, lf); err != nil {
		return nil, err
	}
	return &Plugin{Name: name, Path: dst, Pinned: true, SHA256: e.SHA256, Matches: true, Source: src, InstalledAt: e.InstalledAt}, nil
}

// probe launches a candidate plugin once and asks for its Info.
func (h *Host) probe(ctx context.Context, name, path string, sum []byte) error {
	c, err := sdk.Launch(ctx, exec.Command(path), h.pluginOptions(name, sum))
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Info(ctx, &sdk.InfoRequest{}); err != nil {
		return err
	}
	return nil
}

// copyExecutable copies src into a temporary file in dir (mode 0700),
// hashing what it writes, and returns the temporary path and the SHA-256.
func copyExecutable(src, dir, name string) (string, []byte, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", nil, sdk.Errorf(sdk.CodeInvalidRequest, "plugins: install: %w", err)
	}
	defer in.Close()
	out, err := os.CreateTemp(dir, "."+ExecutablePrefix+name+".tmp-*")
	if err != nil {
		return "", nil, sdk.Errorf(state.CodeStateIO, "plugins: install: %w", err)
	}
	tmp := out.Name()
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(out, h), in)
	if err == nil {
		err = out.Chmod(0o700)
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return "", nil, sdk.Errorf(state.CodeStateIO, "plugins: install: copy: %w", err)
	}
	return tmp, h.Sum(nil), nil
}

func writeLock(s *state.Store, lf *lockFile) error {
	data, err := json.MarshalIndent(lf, "", "  ")
	if err != nil {
		return sdk.Errorf(sdk.CodeInternal, "plugins: encode lock file: %w", err)
	}
	return s.WriteFileLocked(LockFile, append(data, '\n'))
}

// Remove uninstalls the plugin name: it drops its pin and deletes its
// executable from <MM_HOME>/plugins/. Built-ins cannot be removed;
// an unknown name is PLUGIN_NOT_FOUND.
func (h *Host) Remove(ctx context.Context, name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	if builtin(name) != nil {
		return &sdk.Error{Code: sdk.CodeInvalidPluginName, Message: fmt.Sprintf("%s is a built-in signer and cannot be removed", name)}
	}
	s, err := h.store()
	if err != nil {
		return err
	}
	unlock, err := s.Lock(ctx, LockFile)
	if err != nil {
		return err
	}
	defer unlock()
	lf, err := h.readLock()
	if err != nil {
		return err
	}
	e, ok := lf.Plugins[name]
	if !ok {
		return &sdk.Error{Code: sdk.CodePluginNotFound, Message: fmt.Sprintf("plugin %s is not installed", name), Hint: "`mm signer list` shows the installed plugins"}
	}
	delete(lf.Plugins, name)
	if err := writeLock(s, lf); err != nil {
		return err
	}
	// Delete the executable only when it is ours to delete.
	if filepath.Dir(e.Path) == s.Path(PluginsDir) {
		if err := os.Remove(e.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return sdk.Errorf(state.CodeStateIO, "plugins: remove %s: %w", e.Path, err)
		}
	}
	return nil
}

// List returns the built-in signers, the installed plugins (with whether
// each file still matches its pin) and the unpinned mm-signer-* executables
// found in the search folders, sorted by name.
func (h *Host) List(ctx context.Context) ([]Plugin, error) {
	var out []Plugin
	seen := map[string]bool{}
	for _, n := range Builtins() {
		out = append(out, Plugin{Name: n, Builtin: true, Pinned: true, Matches: true})
		seen[n] = true
	}
	if h.opts.Store != nil {
		lf, err := h.readLock()
		if err != nil {
			return nil, err
		}
		for n, e := range lf.Plugins {
			if seen[n] {
				continue
			}
			seen[n] = true
			p := Plugin{Name: n, Path: e.Path, Pinned: true, SHA256: e.SHA256, Source: e.Source, InstalledAt: e.InstalledAt}
			if got, err := fileSHA256(e.Path); err == nil && got == e.SHA256 {
				p.Matches = true
			}
			out = append(out, p)
		}
	}
	for _, d := range h.searchDirs() {
		entries, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, de := range entries {
			n, ok := strings.CutPrefix(de.Name(), ExecutablePrefix)
			if !ok || seen[n] || ValidateName(n) != nil || !de.Type().IsRegular() {
				continue
			}
			seen[n] = true
			out = append(out, Plugin{Name: n, Path: filepath.Join(d, de.Name())})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
