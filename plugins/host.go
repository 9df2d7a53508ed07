package plugins

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/mm-wallet/mm/core/state"
	"github.com/mm-wallet/mm/sdk"
)

// EnvPluginPath names the environment variable listing, colon-separated,
// folders searched for mm-signer-<name> executables.
const EnvPluginPath = "MM_PLUGIN_PATH"

// PluginsDir is the folder under MM_HOME that holds installed plugins.
const PluginsDir = "plugins"

// Options configures a Host.
type Options struct {
	// Store is the mm state folder (MM_HOME): installed plugins live in its
	// plugins/ folder, their pins in plugins.lock. Nil limits the host to
	// built-in signers.
	Store *state.Store
	// Verbose relays each plugin's stderr to Stderr, line by line, prefixed
	// with its name; otherwise it is discarded.
	Verbose bool
	// Stderr receives relayed plugin output. Nil: os.Stderr.
	Stderr io.Writer
	// Prompter answers plugins' questions (PIN, password, confirmations).
	// Nil refuses every question with NON_INTERACTIVE.
	Prompter sdk.Prompter
	// PluginPath lists folders to search for mm-signer-<name>
	// executables. Nil: $MM_PLUGIN_PATH, split at ':'.
	PluginPath []string
}

// Host launches and tracks signer plugins. It is safe for concurrent use.
type Host struct {
	opts Options

	mu      sync.Mutex
	clients map[*sdk.PluginClient]struct{}
	closed  bool
}

// New returns a Host.
func New(opts Options) *Host {
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if opts.PluginPath == nil {
		for _, d := range filepath.SplitList(os.Getenv(EnvPluginPath)) {
			if d != "" {
				opts.PluginPath = append(opts.PluginPath, d)
			}
		}
	}
	return &Host{opts: opts, clients: map[*sdk.PluginClient]struct{}{}}
}

// Open launches the signer name and returns it connected: a built-in
// signer, or an installed plugin whose pin is verified before it runs.
// Errors: INVALID_PLUGIN_NAME, PLUGIN_NOT_FOUND (with where the host
// looked), PLUGIN_NOT_PINNED, PLUGIN_CHECKSUM_MISMATCH, PLUGIN_INCOMPATIBLE,
// PLUGIN_CRASHED, STATE_CORRUPT for a damaged lock file. Close the client
// when done (Host.Close closes every client still open).
func (h *Host) Open(ctx context.Context, name string) (*sdk.PluginClient, error) {
	cmd, sum, err := h.resolve(name)
	if err != nil {
		return nil, err
	}
	c, err := sdk.Launch(ctx, cmd, h.pluginOptions(name, sum))
	if err != nil {
		return nil, err
	}
	return h.track(c)
}

// Inspect launches the signer name and returns its Info.
func (h *Host) Inspect(ctx context.Context, name string) (*sdk.InfoResponse, error) {
	c, err := h.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	defer h.release(c)
	return c.Info(ctx, &sdk.InfoRequest{})
}

// StartDetached starts the signer name as a detached process that outlives
// this one (see sdk.StartDetached), after the same resolution and pin check
// as Open, and returns what Reattach needs. The caller stores it in a 0600
// file.
func (h *Host) StartDetached(ctx context.Context, name string, opts sdk.DetachedOptions) (*sdk.ReattachInfo, error) {
	cmd, sum, err := h.resolve(name)
	if err != nil {
		return nil, err
	}
	po := h.pluginOptions(name, sum)
	po.Stderr = nil // a detached process outlives any pipe to this one
	return sdk.StartDetached(ctx, cmd, opts, po)
}

// Reattach connects to a detached signer started by StartDetached, with
// this host's Prompter. Closing the client only disconnects;
// sdk.StopDetached ends the signer.
func (h *Host) Reattach(ctx context.Context, info *sdk.ReattachInfo) (*sdk.PluginClient, error) {
	c, err := sdk.Reattach(ctx, info, sdk.PluginOptions{Name: info.Name, Prompter: h.opts.Prompter})
	if err != nil {
		return nil, err
	}
	return h.track(c)
}

// Close closes every client Open or Reattach returned that is still open;
// launched plugins exit. Later Opens fail.
func (h *Host) Close() error {
	h.mu.Lock()
	h.closed = true
	cs := make([]*sdk.PluginClient, 0, len(h.clients))
	for c := range h.clients {
		cs = append(cs, c)
	}
	h.clients = map[*sdk.PluginClient]struct{}{}
	h.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Add(1)
		go func(c *sdk.PluginClient) {
			defer wg.Done()
			c.Close()
		}(c)
	}
	wg.Wait()
	return nil
}

func (h *Host) track(c *sdk.PluginClient) (*sdk.PluginClient, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		c.Close()
		return nil, sdk.NewError(sdk.CodeCanceled, "plugins: the host is closed", "")
	}
	h.clients[c] = struct{}{}
	return c, nil
}

func (h *Host) release(c *sdk.PluginClient) {
	c.Close()
	h.mu.Lock()
	delete(h.clients, c)
	h.mu.Unlock()
}

func (h *Host) pluginOptions(name string, sum []byte) sdk.PluginOptions {
	o := sdk.PluginOptions{Name: name, Prompter: h.opts.Prompter, Checksum: sum}
	if h.opts.Verbose {
		o.Stderr = h.opts.Stderr
	}
	return o
}

// resolve finds what to run for name, and the checksum it must have (nil
// for built-ins, which are this very executable).
func (h *Host) resolve(name string) (*exec.Cmd, []byte, error) {
	if err := ValidateName(name); err != nil {
		return nil, nil, err
	}
	if builtin(name) != nil {
		exe, err := selfExecutable()
		if err != nil {
			return nil, nil, sdk.Errorf(sdk.CodeInternal, "plugins: cannot find the mm executable: %w", err)
		}
		cmd := exec.Command(exe, BuiltinArgs(name)...)
		if os.Getenv("GOMAXPROCS") == "" {
			// A built-in signer is an sdk plugin, which runs on one P
			// anyway (sdk.Serve); told so in its environment, its runtime
			// starts that way, which makes every launch measurably
			// shorter (about 0.4 ms of mm wallet sign-message).
			cmd.Env = append(sdk.PluginEnv(), "GOMAXPROCS=1")
		}
		return cmd, nil, nil
	}
	if h.opts.Store != nil {
		lock, err := h.readLock()
		if err != nil {
			return nil, nil, err
		}
		if e, ok := lock.Plugins[name]; ok {
			sum, err := hex.DecodeString(e.SHA256)
			if err != nil || len(sum) != 32 {
				return nil, nil, state.Corrupt(h.opts.Store.Path(LockFile), fmt.Errorf("plugin %s: bad sha256 %q", name, e.SHA256))
			}
			if _, err := os.Stat(e.Path); err != nil {
				return nil, nil, &sdk.Error{
					Code:    sdk.CodePluginNotFound,
					Message: fmt.Sprintf("plugin %s is pinned to %s, which is missing", name, e.Path),
					Hint:    fmt.Sprintf("reinstall it with `mm signer install <path>`, or forget it with `mm signer remove %s`", name),
					Err:     err,
				}
			}
			return exec.Command(e.Path), sum, nil
		}
	}
	if p := h.findUnpinned(name); p != "" {
		return nil, nil, &sdk.Error{
			Code:    CodePluginNotPinned,
			Message: fmt.Sprintf("plugin %s at %s is not installed, so mm will not run it", name, p),
			Hint:    fmt.Sprintf("if you trust it, install it (this pins its SHA-256): mm signer install %s", p),
		}
	}
	return nil, nil, &sdk.Error{
		Code:    sdk.CodePluginNotFound,
		Message: fmt.Sprintf("no signer named %s", name),
		Hint:    h.lookedIn(name),
	}
}

// searchDirs lists the folders searched for executables, in order.
func (h *Host) searchDirs() []string {
	var dirs []string
	if h.opts.Store != nil {
		dirs = append(dirs, h.opts.Store.Path(PluginsDir))
	}
	return append(dirs, h.opts.PluginPath...)
}

func (h *Host) findUnpinned(name string) string {
	for _, d := range h.searchDirs() {
		p := filepath.Join(d, ExecutablePrefix+name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			if abs, err := filepath.Abs(p); err == nil {
				return abs
			}
			return p
		}
	}
	return ""
}

func (h *Host) lookedIn(name string) string {
	var b strings.Builder
	b.WriteString("looked for a built-in signer")
	if bs := Builtins(); len(bs) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(bs, ", "))
	}
	if h.opts.Store != nil {
		b.WriteString(", an installed plugin in " + h.opts.Store.Path(LockFile))
	}
	for _, d := range h.searchDirs() {
		b.WriteString(", " + filepath.Join(d, ExecutablePrefix+name))
	}
	if len(h.opts.PluginPath) == 0 {
		b.WriteString(" (" + EnvPluginPath + " is empty)")
	}
	b.WriteString("; install a plugin with `mm signer install <path>`")
	return b.String()
}

// selfExecutable is what re-executes this very binary: /proc/self/exe on
// Linux, which names the running file even if it was replaced on disk since
// (an upgrade never mixes two versions in one command).
func selfExecutable() (string, error) {
	if runtime.GOOS == "linux" {
		if _, err := os.Stat("/proc/self/exe"); err == nil {
			return "/proc/self/exe", nil
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(exe); errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	return exe, nil
}
