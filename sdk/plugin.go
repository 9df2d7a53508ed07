package sdk

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/runner"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pbv1 "github.com/mm-wallet/mm/sdk/internal/proto/mm/signer/v1"
	pbv2 "github.com/mm-wallet/mm/sdk/internal/proto/mm/signer/v2"
)

// Codes of the plugin machinery beyond those in errors.go.
const (
	// CodePluginProtocolError: the other side broke the wire contract (a
	// malformed response, a failed TLS handshake).
	CodePluginProtocolError Code = "PLUGIN_PROTOCOL_ERROR"
	// CodePluginNotRunning: a detached signer process is gone (its deadline
	// passed, it was stopped, or the machine restarted).
	CodePluginNotRunning Code = "PLUGIN_NOT_RUNNING"
)

// ErrPluginNotRunning is the sentinel of CodePluginNotRunning.
var ErrPluginNotRunning = &Error{Code: CodePluginNotRunning, Message: "detached signer not running"}

// PluginOptions configures a plugin launch or reattach.
type PluginOptions struct {
	// Name is the plugin's name, for error messages and stderr prefixes.
	// Empty: the executable's base name.
	Name string
	// Prompter answers the plugin's questions (secrets, confirmations). A
	// Prompter carried by a call's context (WithPrompter) takes precedence
	// for that call. Nil refuses every question with NON_INTERACTIVE.
	Prompter Prompter
	// Stderr receives the plugin's standard error (and anything it writes
	// to stdout after the handshake), line by line, each line prefixed with
	// "<name>: ". Nil discards it.
	Stderr io.Writer
	// Checksum is the SHA-256 the executable must have; a mismatch fails
	// with PLUGIN_CHECKSUM_MISMATCH before the program runs. Nil: not
	// checked.
	Checksum []byte
}

// PluginClient is a signer running in another process, reached over the
// plugin wire. It implements Signer and every optional interface
// (Configurer, Manager, Authorizer, JobPoller); a method the plugin or the
// negotiated protocol lacks answers UNSUPPORTED.
//
// A PluginClient is safe for concurrent use. Errors keep their identity:
// errors.Is(err, ErrUserRejected) holds when the signer rejected. A plugin
// that dies during a call yields PLUGIN_CRASHED; a cancelled context
// cancels the call in the plugin and yields CANCELED.
type PluginClient struct {
	name     string
	version  int
	pid      int
	prompter Prompter

	v1       pbv1.SignerClient
	v2       pbv2.SignerClient
	detached pbv2.DetachedClient

	// launched plugins
	gp    *plugin.Client
	gpCfg *plugin.ClientConfig
	proc  *pluginProcess
	// reattached plugins
	conn         *grpc.ClientConn
	prompterAddr string
	cleanup      []func()

	seq   atomic.Uint64
	mu    sync.Mutex
	calls map[string]*hostCall
	// prompterConns counts the plugin's connections to the Prompter.
	prompterConns atomic.Int32

	closeOnce sync.Once
	closed    atomic.Bool
}

var (
	_ Signer     = (*PluginClient)(nil)
	_ Configurer = (*PluginClient)(nil)
	_ Manager    = (*PluginClient)(nil)
	_ Authorizer = (*PluginClient)(nil)
	_ JobPoller  = (*PluginClient)(nil)
)

// hostCall is a call in flight, so that the plugin's questions reach the
// Prompter and the context of the call that asked.
type hostCall struct {
	ctx      context.Context
	prompter Prompter
}

// ProtocolVersion returns the negotiated plugin protocol version.
func (c *PluginClient) ProtocolVersion() int { return c.version }

// Pid returns the plugin's process id.
func (c *PluginClient) Pid() int { return c.pid }

// Name returns the plugin's name as given in PluginOptions.
func (c *PluginClient) Name() string { return c.name }

// Close ends the plugin: a launched plugin is asked to exit and killed if it
// does not within two seconds; a reattached detached signer is only
// disconnected (it keeps running until its deadline or StopDetached). Close
// is idempotent; calls after it fail.
func (c *PluginClient) Close() error {
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		if c.gp != nil {
			c.gp.Kill()
		}
		if c.conn != nil {
			_ = c.conn.Close()
		}
		if c.proc != nil {
			c.proc.release()
			if c.proc.socketDir != "" {
				_ = os.RemoveAll(c.proc.socketDir)
			}
		}
		for i := len(c.cleanup) - 1; i >= 0; i-- {
			c.cleanup[i]()
		}
	})
	return nil
}

// Launch starts cmd as a signer plugin and connects to it: checksum check
// (when opts.Checksum is set), process start, go-plugin handshake with
// protocol negotiation, mutual TLS, and a health check. ctx bounds the start
// only; the plugin then lives until Close.
//
// Launch takes cmd over: it sets its standard streams, extra files,
// environment additions and process attributes. When cmd.Env is nil the
// plugin gets only an allow-list of the host's environment (PluginEnv);
// when cmd.Dir is empty it runs in a fresh private temporary folder,
// removed on Close. On Linux the plugin is killed if the host dies, even by SIGKILL.
func Launch(ctx context.Context, cmd *exec.Cmd, opts PluginOptions) (*PluginClient, error) {
	return launch(ctx, cmd, opts, launchConfig{})
}

// launchConfig holds knobs that are not public: the go-plugin AutoMTLS
// baseline the benchmarks compare against.
// checkCommand names the plugin (opts.Name, else the executable's file
// name) and checks the command before anything runs: it was resolved, and
// the executable has the pinned checksum if one is given.
func checkCommand(cmd *exec.Cmd, opts PluginOptions) (string, error) {
	name := opts.Name
	if name == "" {
		name = filepath.Base(cmd.Path)
	}
	if cmd.Err != nil {
		return "", startError(name, cmd.Err)
	}
	if opts.Checksum != nil {
		if err := verifyChecksum(name, cmd.Path, opts.Checksum); err != nil {
			return "", err
		}
	}
	return name, nil
}

type launchConfig struct {
	autoMTLS bool
}

func launch(ctx context.Context, cmd *exec.Cmd, opts PluginOptions, lc launchConfig) (*PluginClient, error) {
	if cmd == nil || cmd.Path == "" {
		return nil, NewError(CodeInvalidRequest, "sdk: launch: no command", "")
	}
	if cmd.Process != nil {
		return nil, NewError(CodeInvalidRequest, "sdk: launch: command already started", "")
	}
	name, err := checkCommand(cmd, opts)
	if err != nil {
		return nil, err
	}
	c := &PluginClient{name: name, prompter: opts.Prompter, calls: make(map[string]*hostCall)}
	if c.prompter == nil {
		c.prompter = noPrompter{}
	}
	relay := newLineRelay(opts.Stderr, name)
	proc := &pluginProcess{cmd: cmd, name: name, exited: make(chan struct{})}
	c.proc = proc

	cfg := &plugin.ClientConfig{
		HandshakeConfig:  handshake,
		VersionedPlugins: clientPlugins(c),
		RunnerFunc:       proc.runnerFunc,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           hclog.NewNullLogger(),
		Stderr:           relay,
		SyncStdout:       relay,
		SyncStderr:       relay,
		SkipHostEnv:      true,
		StartTimeout:     time.Minute,
		GRPCDialOptions:  clientDialOptions(),
		UnixSocketConfig: &plugin.UnixSocketConfig{TempDir: hostSocketDir()},
	}
	if lc.autoMTLS {
		cfg.AutoMTLS = true
	} else {
		ht, err := newHostTLS()
		if err != nil {
			return nil, NewError(CodeInternal, err.Error(), "")
		}
		cfg.TLSConfig = ht.config
		proc.tls = ht
	}
	c.gpCfg = cfg
	c.gp = plugin.NewClient(cfg)

	type started struct {
		cp  plugin.ClientProtocol
		err error
	}
	done := make(chan started, 1)
	go func() {
		cp, err := c.gp.Client()
		done <- started{cp, err}
	}()
	var st started
	select {
	case st = <-done:
	case <-ctx.Done():
		proc.kill()
		<-done
		c.Close()
		return nil, &Error{Code: CodeCanceled, Message: fmt.Sprintf("plugin %s: launch canceled", name), Err: ctx.Err()}
	}
	if st.err != nil {
		err := proc.startFailure(st.err)
		c.Close()
		return nil, err
	}
	if err := st.cp.Ping(); err != nil {
		c.Close()
		if proc.hasExited() {
			return nil, proc.crashed("the handshake")
		}
		return nil, &Error{Code: CodePluginProtocolError, Message: fmt.Sprintf("plugin %s: cannot connect: %s", name, cleanText(status.Convert(err).Message())), Hint: "the plugin may not implement the mm plugin protocol or its mutual TLS", Err: err}
	}
	raw, err := st.cp.Dispense(pluginSetKey)
	if err != nil {
		c.Close()
		return nil, &Error{Code: CodePluginProtocolError, Message: fmt.Sprintf("plugin %s: %v", name, err), Err: err}
	}
	c.version = c.gp.NegotiatedVersion()
	c.pid = proc.pid
	switch cl := raw.(type) {
	case pbv2.SignerClient:
		c.v2 = cl
	case pbv1.SignerClient:
		c.v1 = cl
	default:
		c.Close()
		return nil, NewError(CodePluginProtocolError, fmt.Sprintf("plugin %s: unexpected client type %T", name, raw), "")
	}
	return c, nil
}

// verifyChecksum checks path against the pinned SHA-256 with go-plugin's
// SecureConfig before anything runs.
func verifyChecksum(name, path string, want []byte) error {
	sc := &plugin.SecureConfig{Checksum: want, Hash: sha256.New()}
	ok, err := sc.Check(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return &Error{Code: CodePluginNotFound, Message: fmt.Sprintf("plugin %s: %s does not exist", name, path), Hint: "reinstall it with `mm signer install <path>`", Err: err}
		}
		return &Error{Code: CodePluginChecksumMismatch, Message: fmt.Sprintf("plugin %s: cannot verify %s: %v", name, path, err), Err: err}
	}
	if ok {
		return nil
	}
	got := "unreadable"
	if f, err := os.Open(path); err == nil {
		h := sha256.New()
		if _, err := io.Copy(h, f); err == nil {
			got = hex.EncodeToString(h.Sum(nil))
		}
		f.Close()
	}
	return &Error{
		Code:    CodePluginChecksumMismatch,
		Message: fmt.Sprintf("plugin %s: %s has SHA-256 %s, but %s is pinned; refusing to run it", name, path, got, hex.EncodeToString(want)),
		Hint:    "the file changed since it was installed; if you trust the new version, run `mm signer install <path>` again",
	}
}

// PluginEnv returns the part of the host environment a plugin gets when its
// command has no Env of its own: HOME, USER, LOGNAME, PATH, TMPDIR, TZ,
// locale (LANG, LANGUAGE, LC_*), MM_HOME, the XDG base folders,
// TLS trust settings (SSL_CERT_FILE, SSL_CERT_DIR) and proxy settings
// (HTTP_PROXY, HTTPS_PROXY, NO_PROXY, any case) for remote signers, and
// GOMAXPROCS and GOCOVERDIR for Go plugins. Secrets
// such as MM_PASSWORD or MM_MNEMONIC never pass: a signer asks the Prompter.
func PluginEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, ok := strings.Cut(kv, "=")
		if ok && envAllowed(k) {
			out = append(out, kv)
		}
	}
	return out
}

func envAllowed(k string) bool {
	switch k {
	case "HOME", "USER", "LOGNAME", "PATH", "TMPDIR", "TZ", "LANG", "LANGUAGE",
		"MM_HOME", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME",
		"SSL_CERT_FILE", "SSL_CERT_DIR", "GOCOVERDIR", "GOMAXPROCS":
		return true
	}
	if strings.HasPrefix(k, "LC_") {
		return true
	}
	switch strings.ToUpper(k) {
	case "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY":
		return true
	}
	return false
}

// pluginProcess runs one plugin process for go-plugin (runner.Runner) with
// what go-plugin's own runner lacks: the TLS pipe, the stdin lifeline, the
// parent-death signal, a temporary working folder, and a copy of the
// handshake line for precise errors.
type pluginProcess struct {
	cmd  *exec.Cmd
	name string
	tls  *hostTLS
	// socketDir is go-plugin's folder for this plugin's sockets, which
	// go-plugin does not remove when the process never started.
	socketDir string

	stdout   io.ReadCloser
	stderr   io.ReadCloser
	lifeline *os.File // write end of the plugin's stdin; closed on release
	pid      int

	handshake lineCapture

	mu      sync.Mutex
	process *os.Process
	killed  bool

	exitOnce sync.Once
	exited   chan struct{}
	exitErr  error
}

var _ runner.Runner = (*pluginProcess)(nil)

// runnerFunc prepares the process. socketDir is the private (0700)
// temporary folder go-plugin made for this plugin's sockets and removes
// when the plugin ends; it doubles as the plugin's working folder.
func (p *pluginProcess) runnerFunc(_ hclog.Logger, spec *exec.Cmd, socketDir string) (runner.Runner, error) {
	p.socketDir = socketDir
	cmd := p.cmd
	env := cmd.Env
	if env == nil {
		env = PluginEnv()
	}
	env = append(env, spec.Env...) // go-plugin's: cookie, versions, socket folder
	env = append(env, envLifeline+"=1")
	if cmd.Dir == "" {
		cmd.Dir = socketDir
	}
	var tlsR, tlsW *os.File
	if p.tls != nil {
		var err error
		if tlsR, tlsW, err = os.Pipe(); err != nil {
			return nil, fmt.Errorf("sdk: tls pipe: %w", err)
		}
		cmd.ExtraFiles = append(cmd.ExtraFiles, tlsR)
		env = append(env,
			envTLSFD+"="+strconv.Itoa(2+len(cmd.ExtraFiles)),
			envClientCert+"="+string(p.tls.certPEM))
	}
	// Without p.tls (the AutoMTLS baseline) go-plugin put PLUGIN_CLIENT_CERT
	// in spec.Env itself.
	cmd.Env = env
	lifeR, lifeW, err := os.Pipe()
	if err != nil {
		closeAll(tlsR, tlsW)
		return nil, fmt.Errorf("sdk: lifeline pipe: %w", err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		closeAll(tlsR, tlsW, lifeR, lifeW)
		return nil, fmt.Errorf("sdk: stdout pipe: %w", err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		closeAll(tlsR, tlsW, lifeR, lifeW, outR, outW)
		return nil, fmt.Errorf("sdk: stderr pipe: %w", err)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = lifeR, outW, errW
	p.lifeline = lifeW
	p.handshake.r = outR
	p.stdout = &p.handshake
	p.stderr = errR
	// Close the child's ends in this process once it has them (or failed).
	childEnds := []*os.File{lifeR, outW, errW}
	if tlsR != nil {
		childEnds = append(childEnds, tlsR)
	}
	return &startCloser{pluginProcess: p, childEnds: childEnds, tlsW: tlsW}, nil
}

// closeAll closes the files that are not nil.
func closeAll(fs ...*os.File) {
	for _, f := range fs {
		if f != nil {
			f.Close()
		}
	}
}

// startCloser closes the child's pipe ends after Start, and hands the
// plugin its TLS material once it runs.
type startCloser struct {
	*pluginProcess
	childEnds []*os.File
	tlsW      *os.File // this side of the TLS material pipe
}

// Start implements runner.Runner. The plugin's TLS identity is made after
// the process started, while the plugin initializes (it reads the pipe only
// when it serves), and before go-plugin connects: the host's configuration
// trusts the plugin's certificate from then on.
func (s *startCloser) Start(ctx context.Context) error {
	err := s.pluginProcess.Start(ctx)
	for _, f := range s.childEnds {
		f.Close()
	}
	if s.tlsW == nil {
		return err
	}
	defer s.tlsW.Close()
	if err != nil {
		return err
	}
	material, err := s.tls.pluginMaterial()
	if err != nil {
		_ = s.kill()
		return fmt.Errorf("sdk: tls material: %w", err)
	}
	// A plugin that does not read the pipe (it exited already, or it uses
	// go-plugin's AutoMTLS and closed it) breaks it: the handshake that
	// follows, or its absence, tells what happened.
	_, _ = s.tlsW.Write(material)
	return nil
}

// Start implements runner.Runner.
func (p *pluginProcess) Start(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.killed {
		err := errors.New("launch canceled")
		p.markExited(err)
		return err
	}
	if err := startAttached(p.cmd); err != nil {
		p.markExited(err)
		return err
	}
	p.process = p.cmd.Process
	p.pid = p.process.Pid
	return nil
}

// Wait implements runner.Runner; go-plugin calls it once stdout and stderr
// reached their end.
func (p *pluginProcess) Wait(context.Context) error {
	err := p.cmd.Wait()
	p.markExited(err)
	return err
}

func (p *pluginProcess) markExited(err error) {
	p.exitOnce.Do(func() {
		p.exitErr = err
		close(p.exited)
	})
}

func (p *pluginProcess) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// Kill implements runner.Runner.
func (p *pluginProcess) Kill(context.Context) error { return p.kill() }

func (p *pluginProcess) kill() error {
	p.mu.Lock()
	p.killed = true
	proc := p.process
	p.mu.Unlock()
	if proc == nil {
		return nil
	}
	return proc.Kill()
}

// Stdout implements runner.Runner.
func (p *pluginProcess) Stdout() io.ReadCloser { return p.stdout }

// Stderr implements runner.Runner.
func (p *pluginProcess) Stderr() io.ReadCloser { return p.stderr }

// Name implements runner.Runner.
func (p *pluginProcess) Name() string { return p.name }

// ID implements runner.Runner.
func (p *pluginProcess) ID() string {
	if p.pid == 0 {
		return ""
	}
	return strconv.Itoa(p.pid)
}

// Diagnose implements runner.Runner.
func (p *pluginProcess) Diagnose(context.Context) string { return "" }

// PluginToHost implements runner.AddrTranslator. The address comes from the
// plugin: only a unix socket is accepted (a TCP address on loopback where
// there are none, on Windows), so a plugin cannot point the host elsewhere.
func (p *pluginProcess) PluginToHost(n, a string) (string, string, error) {
	switch {
	case n == "unix" && a != "":
		return n, a, nil
	case n == "tcp" && runtime.GOOS == "windows":
		if host, _, err := net.SplitHostPort(a); err == nil && net.ParseIP(host).IsLoopback() {
			return n, a, nil
		}
	}
	return "", "", fmt.Errorf("plugin %s offered the address %s %q; only a local socket is accepted", p.name, clip(cleanText(n), 16), clip(cleanText(a), 120))
}

// HostToPlugin implements runner.AddrTranslator.
func (p *pluginProcess) HostToPlugin(n, a string) (string, string, error) { return n, a, nil }

// release frees what the process held in the host once it is gone.
func (p *pluginProcess) release() {
	if p.lifeline != nil {
		p.lifeline.Close()
	}
}

// socketTempDir is where plugin sockets (and working folders) are made: a
// memory file system when there is one — $XDG_RUNTIME_DIR, else /dev/shm —
// because creating and deleting inodes on a busy disk file system costs a
// plugin launch milliseconds; otherwise the system temporary folder. Every
// folder made there is private (0700).
var socketTempDir = sync.OnceValue(findSocketTempDir)

func findSocketTempDir() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" && writableDir(d) {
		return d
	}
	if d := "/dev/shm"; writableDir(d) {
		return d
	}
	return ""
}

// hostSocketDir is the folder this host process makes its plugins' socket
// folders in: <socketTempDir>/mm-<uid>/host-<pid>, all 0700. go-plugin
// removes a plugin's folder when the plugin is closed, but nothing can after
// a SIGKILL of the host, and in a memory file system such leftovers last until
// reboot. So each host keeps its folders under its own pid, and the first
// launch of every host removes the folders of hosts that are no longer alive.
// On any failure it falls back to socketTempDir itself.
var hostSocketDir = sync.OnceValue(func() string {
	base := socketTempDir()
	if base == "" {
		base = os.TempDir()
	}
	parent := filepath.Join(base, fmt.Sprintf("mm-%d", os.Getuid()))
	if err := os.Mkdir(parent, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return socketTempDir()
	}
	// Only a private folder of our own is used: another user could have
	// made it first in a shared /tmp.
	if fi, err := os.Lstat(parent); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 || !ownedByUs(fi) {
		return socketTempDir()
	}
	sweepDeadHosts(parent)
	dir := filepath.Join(parent, fmt.Sprintf("host-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return socketTempDir()
	}
	return dir
})

// sweepDeadHosts removes the host-<pid> folders in parent whose process is
// gone, with whatever sockets they still hold.
func sweepDeadHosts(parent string) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, e := range entries {
		pid, ok := strings.CutPrefix(e.Name(), "host-")
		if n, err := strconv.Atoi(pid); ok && err == nil && e.IsDir() && n > 0 && n != os.Getpid() && !processAlive(n) {
			_ = os.RemoveAll(filepath.Join(parent, e.Name()))
		}
	}
}

func writableDir(d string) bool {
	fi, err := os.Stat(d)
	if err != nil || !fi.IsDir() {
		return false
	}
	f, err := os.CreateTemp(d, ".mm-probe-")
	if err != nil {
		return false
	}
	f.Close()
	os.Remove(f.Name())
	return true
}

// waitExit waits up to d for the process to end.
func (p *pluginProcess) waitExit(d time.Duration) bool {
	select {
	case <-p.exited:
		return true
	case <-time.After(d):
		return false
	}
}

func (p *pluginProcess) exitDescription() string {
	if p.exitErr == nil {
		return "exit status 0"
	}
	return cleanText(p.exitErr.Error())
}

// crashed is the PLUGIN_CRASHED error for a plugin that died during what.
func (p *pluginProcess) crashed(what string) *Error {
	return &Error{
		Code:    CodePluginCrashed,
		Message: fmt.Sprintf("plugin %s exited during %s (%s)", p.name, what, p.exitDescription()),
		Hint:    "run with --verbose to see the plugin's output, and report the crash to its author",
	}
}

// startFailure maps an error of go-plugin's Start to a coded error, using
// the handshake line the plugin printed, if any.
func (p *pluginProcess) startFailure(err error) error {
	if e := AsError(err); e != nil {
		return e
	}
	if line := p.handshake.line(); line != "" {
		parts := strings.Split(line, "|")
		if len(parts) >= 4 {
			if parts[0] != strconv.Itoa(plugin.CoreProtocolVersion) {
				return &Error{
					Code:    CodePluginIncompatible,
					Message: fmt.Sprintf("plugin %s speaks go-plugin core protocol %s; mm speaks %d", p.name, clip(cleanText(parts[0]), 16), plugin.CoreProtocolVersion),
					Hint:    "rebuild the plugin against a current mm sdk",
				}
			}
			if v, aerr := strconv.Atoi(parts[1]); aerr != nil || !supportedVersion(v) {
				return &Error{
					Code: CodePluginIncompatible,
					Message: fmt.Sprintf("plugin %s speaks signer protocol version %s; this mm speaks versions %s",
						p.name, clip(cleanText(parts[1]), 16), versionList(SupportedProtocolVersions())),
					Hint: "install a version of the plugin built for protocol " + strconv.Itoa(ProtocolVersion) + ", or update mm",
				}
			}
		} else {
			return &Error{
				Code:    CodePluginIncompatible,
				Message: fmt.Sprintf("plugin %s did not answer with the mm plugin handshake", p.name),
				Hint:    "is it an mm signer plugin? run with --verbose to see its output",
			}
		}
	}
	p.mu.Lock()
	proc := p.process
	p.mu.Unlock()
	if proc == nil {
		return startError(p.name, err)
	}
	// go-plugin kills the process when the start fails; it only crashed if
	// it never completed its handshake.
	if p.handshake.line() == "" && p.waitExit(2*time.Second) {
		return p.crashed("start-up")
	}
	return &Error{Code: CodePluginProtocolError, Message: fmt.Sprintf("plugin %s: %s", p.name, cleanText(err.Error())), Err: err}
}

func startError(name string, err error) *Error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, exec.ErrNotFound) {
		return &Error{Code: CodePluginNotFound, Message: fmt.Sprintf("plugin %s: executable not found", name), Err: err}
	}
	return &Error{Code: CodePluginCrashed, Message: fmt.Sprintf("plugin %s: cannot start: %v", name, err), Err: err}
}

func supportedVersion(v int) bool {
	for _, s := range SupportedProtocolVersions() {
		if s == v {
			return true
		}
	}
	return false
}

// lineCapture passes a reader through and keeps its first line (at most
// 1 KiB): the plugin's handshake.
type lineCapture struct {
	r    io.ReadCloser
	mu   sync.Mutex
	buf  []byte
	done bool
}

func (l *lineCapture) Read(b []byte) (int, error) {
	n, err := l.r.Read(b)
	if n > 0 {
		l.mu.Lock()
		if !l.done {
			chunk := b[:n]
			if i := bytes.IndexByte(chunk, '\n'); i >= 0 {
				chunk = chunk[:i]
				l.done = true
			}
			l.buf = append(l.buf, chunk...)
			if len(l.buf) >= 1024 {
				l.buf = l.buf[:1024]
				l.done = true
			}
		}
		l.mu.Unlock()
	}
	return n, err
}

func (l *lineCapture) Close() error { return l.r.Close() }

func (l *lineCapture) line() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.TrimSpace(string(l.buf))
}

// lineRelay writes a plugin's output line by line, each prefixed with the
// plugin's name and cleaned of terminal control sequences.
type lineRelay struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte
}

func newLineRelay(w io.Writer, name string) io.Writer {
	if w == nil {
		return io.Discard
	}
	return &lineRelay{w: w, prefix: name + ": "}
}

func (l *lineRelay) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, b...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			if len(l.buf) >= 8192 {
				l.emit(l.buf)
				l.buf = l.buf[:0]
			}
			return len(b), nil
		}
		l.emit(l.buf[:i])
		l.buf = l.buf[i+1:]
	}
}

func (l *lineRelay) emit(line []byte) {
	_, _ = io.WriteString(l.w, l.prefix+cleanText(strings.TrimRight(string(line), "\r"))+"\n")
}

// ---- calls ----

// begin registers a call so the plugin's questions reach ctx's Prompter (or
// the client's), and tags the outgoing call with its id.
func (c *PluginClient) begin(ctx context.Context) (context.Context, func(), error) {
	if c.closed.Load() {
		return nil, nil, NewError(CodeInternal, fmt.Sprintf("plugin %s: client is closed", c.name), "")
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, &Error{Code: CodeCanceled, Message: "canceled", Err: err}
	}
	if c.version < 2 {
		return ctx, func() {}, nil
	}
	p := c.prompter
	if cp, ok := ctx.Value(prompterKey{}).(Prompter); ok && cp != nil {
		p = cp
	}
	id := strconv.FormatUint(c.seq.Add(1), 10)
	c.mu.Lock()
	c.calls[id] = &hostCall{ctx: ctx, prompter: p}
	c.mu.Unlock()
	kv := []string{callIDKey, id}
	if c.prompterAddr != "" {
		kv = append(kv, prompterAddrKey, c.prompterAddr)
	}
	return metadata.AppendToOutgoingContext(ctx, kv...), func() {
		c.mu.Lock()
		delete(c.calls, id)
		c.mu.Unlock()
	}, nil
}

// callErr maps an error of a call to the plugin to a coded error: the
// signer's own *Error rebuilt, CANCELED, PLUGIN_CRASHED, UNSUPPORTED for a
// method the plugin does not implement, PLUGIN_PROTOCOL_ERROR otherwise.
func (c *PluginClient) callErr(ctx context.Context, method string, err error) error {
	if e := fromStatus(err); e != nil {
		return e
	}
	if e := AsError(err); e != nil {
		return e
	}
	if c.closed.Load() {
		return &Error{Code: CodeCanceled, Message: fmt.Sprintf("plugin %s: %s interrupted: the client was closed", c.name, method), Err: err}
	}
	st := status.Convert(err)
	switch st.Code() {
	case codes.Canceled, codes.DeadlineExceeded:
		return &Error{Code: CodeCanceled, Message: fmt.Sprintf("plugin %s: %s canceled", c.name, method), Err: ctx.Err()}
	case codes.Unavailable:
		if ctx.Err() != nil {
			return &Error{Code: CodeCanceled, Message: fmt.Sprintf("plugin %s: %s canceled", c.name, method), Err: ctx.Err()}
		}
		if c.proc != nil {
			if c.proc.waitExit(2 * time.Second) {
				return c.proc.crashed(method)
			}
		}
		return &Error{
			Code:    CodePluginCrashed,
			Message: fmt.Sprintf("plugin %s: lost the connection during %s", c.name, method),
			Hint:    "run with --verbose to see the plugin's output",
			Err:     err,
		}
	case codes.Unimplemented:
		return &Error{Code: CodeUnsupported, Message: fmt.Sprintf("plugin %s does not implement %s", c.name, method), Err: err}
	}
	return &Error{Code: CodePluginProtocolError, Message: fmt.Sprintf("plugin %s: %s: %s", c.name, method, cleanText(st.Message())), Err: err}
}

func (c *PluginClient) badResponse(method string, e *Error) error {
	e.Message = fmt.Sprintf("plugin %s: %s: malformed response: %s", c.name, method, e.Message)
	return e
}

func (c *PluginClient) v1Unsupported(what string) error {
	return NewError(CodeUnsupported,
		fmt.Sprintf("plugin %s speaks protocol 1, which has no %s", c.name, what),
		"update the plugin to one built for protocol "+strconv.Itoa(ProtocolVersion))
}

func nilRequest(method string) error {
	return NewError(CodeInvalidRequest, "sdk: "+method+": nil request", "")
}

func respDecoder() *wireDecoder { return &wireDecoder{code: CodePluginProtocolError} }

// roundTrip makes one call to the plugin: it registers the call (begin),
// sends it, maps a failed call to a coded error (callErr), and decodes the
// reply, refusing a malformed one (PLUGIN_PROTOCOL_ERROR).
func roundTrip[P, R any](ctx context.Context, c *PluginClient, method string, send func(context.Context) (P, error), decode func(*wireDecoder, P) *R) (*R, error) {
	ctx, end, err := c.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	r, err := send(ctx)
	if err != nil {
		return nil, c.callErr(ctx, method, err)
	}
	d := respDecoder()
	out := decode(d, r)
	if d.err != nil {
		return nil, c.badResponse(method, d.err)
	}
	return out, nil
}

// Info implements Signer. ProtocolVersion is the negotiated version.
func (c *PluginClient) Info(ctx context.Context, _ *InfoRequest) (*InfoResponse, error) {
	var out *InfoResponse
	var err error
	if c.v2 != nil {
		out, err = roundTrip(ctx, c, "Info", func(ctx context.Context) (*pbv2.InfoResponse, error) {
			return c.v2.Info(ctx, &pbv2.InfoRequest{})
		}, (*wireDecoder).infoFromV2)
	} else {
		out, err = roundTrip(ctx, c, "Info", func(ctx context.Context) (*pbv1.InfoResponse, error) {
			return c.v1.Info(ctx, &pbv1.InfoRequest{})
		}, (*wireDecoder).infoFromV1)
	}
	if err != nil {
		return nil, err
	}
	out.ProtocolVersion = c.version
	return out, nil
}

// Accounts implements Signer.
func (c *PluginClient) Accounts(ctx context.Context, req *AccountsRequest) (*AccountsResponse, error) {
	if req == nil {
		return nil, nilRequest("Accounts")
	}
	if c.v2 != nil {
		return roundTrip(ctx, c, "Accounts", func(ctx context.Context) (*pbv2.AccountsResponse, error) {
			return c.v2.Accounts(ctx, accountsReqToV2(req))
		}, (*wireDecoder).accountsRespFromV2)
	}
	return roundTrip(ctx, c, "Accounts", func(ctx context.Context) (*pbv1.AccountsResponse, error) {
		return c.v1.Accounts(ctx, &pbv1.AccountsRequest{Paths: req.Paths, Indices: req.Indices})
	}, (*wireDecoder).accountsRespFromV1)
}

// SignTransaction implements Signer.
func (c *PluginClient) SignTransaction(ctx context.Context, req *SignTransactionRequest) (*SignTransactionResponse, error) {
	if req == nil {
		return nil, nilRequest("SignTransaction")
	}
	if c.v2 != nil {
		in, err := signTxReqToV2(req)
		if err != nil {
			return nil, err
		}
		return roundTrip(ctx, c, "SignTransaction", func(ctx context.Context) (*pbv2.SignTransactionResponse, error) {
			return c.v2.SignTransaction(ctx, in)
		}, (*wireDecoder).signTxRespFromV2)
	}
	cid, err := chainIDString(req.ChainID)
	if err != nil {
		return nil, err
	}
	in := &pbv1.SignTransactionRequest{Account: accountToV1(req.Account), ChainId: cid, Transaction: req.Transaction}
	return roundTrip(ctx, c, "SignTransaction", func(ctx context.Context) (*pbv1.SignTransactionResponse, error) {
		return c.v1.SignTransaction(ctx, in)
	}, func(_ *wireDecoder, r *pbv1.SignTransactionResponse) *SignTransactionResponse {
		return &SignTransactionResponse{SignedTransaction: r.GetSignedTransaction(), Signature: r.GetSignature()}
	})
}

// SignTypedData implements Signer.
func (c *PluginClient) SignTypedData(ctx context.Context, req *SignTypedDataRequest) (*SignTypedDataResponse, error) {
	if req == nil {
		return nil, nilRequest("SignTypedData")
	}
	if c.v2 != nil {
		return roundTrip(ctx, c, "SignTypedData", func(ctx context.Context) (*pbv2.SignTypedDataResponse, error) {
			return c.v2.SignTypedData(ctx, signTypedReqToV2(req))
		}, (*wireDecoder).signTypedRespFromV2)
	}
	return roundTrip(ctx, c, "SignTypedData", func(ctx context.Context) (*pbv1.SignTypedDataResponse, error) {
		return c.v1.SignTypedData(ctx, signTypedReqToV1(req))
	}, func(_ *wireDecoder, r *pbv1.SignTypedDataResponse) *SignTypedDataResponse {
		return &SignTypedDataResponse{Signature: r.GetSignature()}
	})
}

// SignMessage implements Signer.
func (c *PluginClient) SignMessage(ctx context.Context, req *SignMessageRequest) (*SignMessageResponse, error) {
	if req == nil {
		return nil, nilRequest("SignMessage")
	}
	if c.v2 != nil {
		return roundTrip(ctx, c, "SignMessage", func(ctx context.Context) (*pbv2.SignMessageResponse, error) {
			return c.v2.SignMessage(ctx, signMsgReqToV2(req))
		}, (*wireDecoder).signMsgRespFromV2)
	}
	return roundTrip(ctx, c, "SignMessage", func(ctx context.Context) (*pbv1.SignMessageResponse, error) {
		return c.v1.SignMessage(ctx, &pbv1.SignMessageRequest{Account: accountToV1(req.Account), Message: req.Message})
	}, func(_ *wireDecoder, r *pbv1.SignMessageResponse) *SignMessageResponse {
		return &SignMessageResponse{Signature: r.GetSignature()}
	})
}

// SignAuthorization implements Authorizer (protocol 2 only).
func (c *PluginClient) SignAuthorization(ctx context.Context, req *SignAuthorizationRequest) (*SignAuthorizationResponse, error) {
	if req == nil {
		return nil, nilRequest("SignAuthorization")
	}
	if c.v2 == nil {
		return nil, c.v1Unsupported("EIP-7702 authorizations")
	}
	in, err := signAuthReqToV2(req)
	if err != nil {
		return nil, err
	}
	return roundTrip(ctx, c, "SignAuthorization", func(ctx context.Context) (*pbv2.SignAuthorizationResponse, error) {
		return c.v2.SignAuthorization(ctx, in)
	}, func(_ *wireDecoder, r *pbv2.SignAuthorizationResponse) *SignAuthorizationResponse {
		return &SignAuthorizationResponse{Signature: r.GetSignature()}
	})
}

// Configure implements Configurer (protocol 2 only).
func (c *PluginClient) Configure(ctx context.Context, req *ConfigureRequest) (*ConfigureResponse, error) {
	if req == nil {
		return nil, nilRequest("Configure")
	}
	if c.v2 == nil {
		return nil, c.v1Unsupported("Configure")
	}
	return roundTrip(ctx, c, "Configure", func(ctx context.Context) (*pbv2.ConfigureResponse, error) {
		return c.v2.Configure(ctx, &pbv2.ConfigureRequest{Settings: req.Settings})
	}, func(*wireDecoder, *pbv2.ConfigureResponse) *ConfigureResponse { return &ConfigureResponse{} })
}

// Manage implements Manager (protocol 2 only).
func (c *PluginClient) Manage(ctx context.Context, req *ManageRequest) (*ManageResponse, error) {
	if req == nil {
		return nil, nilRequest("Manage")
	}
	if c.v2 == nil {
		return nil, c.v1Unsupported("Manage")
	}
	return roundTrip(ctx, c, "Manage", func(ctx context.Context) (*pbv2.ManageResponse, error) {
		return c.v2.Manage(ctx, &pbv2.ManageRequest{Op: req.Op, Params: req.Params})
	}, func(_ *wireDecoder, r *pbv2.ManageResponse) *ManageResponse {
		return &ManageResponse{Result: r.GetResult()}
	})
}

// PollJob implements JobPoller (protocol 2 only).
func (c *PluginClient) PollJob(ctx context.Context, req *PollJobRequest) (*PollJobResponse, error) {
	if req == nil {
		return nil, nilRequest("PollJob")
	}
	if c.v2 == nil {
		return nil, c.v1Unsupported("asynchronous jobs")
	}
	return roundTrip(ctx, c, "PollJob", func(ctx context.Context) (*pbv2.PollJobResponse, error) {
		return c.v2.PollJob(ctx, &pbv2.PollJobRequest{Id: req.ID})
	}, (*wireDecoder).pollRespFromV2)
}

// ---- the host's Prompter service ----

// servePrompter serves the Prompter to a launched plugin through the
// go-plugin broker, with the connection's mutual TLS, until done.
func (c *PluginClient) servePrompter(done context.Context, broker *plugin.GRPCBroker) {
	bl, err := broker.Accept(prompterBrokerID)
	if err != nil {
		return // the plugin is already gone
	}
	defer bl.Close()
	ln := &countingListener{Listener: bl, n: &c.prompterConns}
	opts := []grpc.ServerOption{grpc.MaxRecvMsgSize(maxMsgSize)}
	if c.gpCfg != nil && c.gpCfg.TLSConfig != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(c.gpCfg.TLSConfig)))
	}
	s := grpc.NewServer(opts...)
	pbv2.RegisterPrompterServer(s, &hostPrompter{c: c})
	go func() {
		<-done.Done()
		s.Stop()
	}()
	_ = s.Serve(ln)
}

// countingListener counts the connections it accepts.
type countingListener struct {
	net.Listener
	n *atomic.Int32
}

// Accept implements net.Listener.
func (l *countingListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return conn, err
}

// hostPrompter serves the Prompter to the plugin, routing each question to
// the Prompter and context of the call that asked.
type hostPrompter struct {
	pbv2.UnimplementedPrompterServer
	c *PluginClient
}

var _ pbv2.PrompterServer = (*hostPrompter)(nil)

// route finds the call a question belongs to. The returned context ends
// when either the call or the question ends.
func (h *hostPrompter) route(ctx context.Context) (context.Context, Prompter, func(), error) {
	md, _ := metadata.FromIncomingContext(ctx)
	ids := md.Get(callIDKey)
	if len(ids) == 0 {
		return ctx, h.c.prompter, func() {}, nil
	}
	h.c.mu.Lock()
	call := h.c.calls[ids[0]]
	h.c.mu.Unlock()
	if call == nil {
		return nil, nil, nil, NewError(CodeCanceled, "the call that asked has ended", "")
	}
	cctx, cancel := context.WithCancel(call.ctx)
	stop := context.AfterFunc(ctx, cancel)
	return cctx, call.prompter, func() { stop(); cancel() }, nil
}

// Notify implements pbv2.PrompterServer.
func (h *hostPrompter) Notify(ctx context.Context, req *pbv2.NotifyRequest) (*pbv2.NotifyResponse, error) {
	pctx, p, done, err := h.route(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	defer done()
	if _, err := p.Notify(pctx, &NotifyRequest{Level: Level(cleanText(req.GetLevel())), Message: cleanText(req.GetMessage())}); err != nil {
		return nil, toStatus(err)
	}
	return &pbv2.NotifyResponse{}, nil
}

// RequestSecret implements pbv2.PrompterServer. The secret is never logged.
func (h *hostPrompter) RequestSecret(ctx context.Context, req *pbv2.SecretRequest) (*pbv2.SecretResponse, error) {
	pctx, p, done, err := h.route(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	defer done()
	r, err := p.RequestSecret(pctx, &SecretRequest{
		Kind:   SecretKind(cleanText(req.GetKind())),
		Prompt: cleanText(req.GetPrompt()),
		Hint:   cleanText(req.GetHint()),
	})
	if err != nil {
		return nil, toStatus(err)
	}
	if r == nil {
		return &pbv2.SecretResponse{}, nil
	}
	return &pbv2.SecretResponse{Secret: r.Secret}, nil
}

// Confirm implements pbv2.PrompterServer.
func (h *hostPrompter) Confirm(ctx context.Context, req *pbv2.ConfirmRequest) (*pbv2.ConfirmResponse, error) {
	pctx, p, done, err := h.route(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	defer done()
	r, err := p.Confirm(pctx, &ConfirmRequest{Prompt: cleanText(req.GetPrompt())})
	if err != nil {
		return nil, toStatus(err)
	}
	return &pbv2.ConfirmResponse{Confirmed: r != nil && r.Confirmed}, nil
}

// WaitingForUser implements pbv2.PrompterServer.
func (h *hostPrompter) WaitingForUser(ctx context.Context, req *pbv2.WaitingRequest) (*pbv2.WaitingResponse, error) {
	pctx, p, done, err := h.route(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	defer done()
	if _, err := p.WaitingForUser(pctx, &WaitingRequest{Device: cleanText(req.GetDevice()), Message: cleanText(req.GetMessage()), Done: req.GetDone()}); err != nil {
		return nil, toStatus(err)
	}
	return &pbv2.WaitingResponse{}, nil
}
