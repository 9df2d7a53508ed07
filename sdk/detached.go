package sdk

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	pbv2 "github.com/mm-wallet/mm/sdk/internal/proto/mm/signer/v2"
)

// Detached signers: "unlock once, sign many".
//
// A detached signer process serves protocol 2 on a unix socket in a private
// (0700) folder, with no host attached, until its deadline or until told to
// stop. Whoever started it receives a ReattachInfo — socket address, pid,
// protocol version, deadline, and the TLS material of a client identity —
// and keeps it in a 0600 file; later processes Reattach with it over mutual
// TLS. Because go-plugin's broker lives and dies with one connection, a
// reattached host serves its Prompter on a unix socket of its own and names
// it in each call's "mm-prompter-addr" metadata; the signer dials it back
// with the same mutual TLS. PROTOCOL.md, "Detached signers", has the wire.

// DefaultDetachedTTL is how long a detached signer lives when
// DetachedOptions.TTL is zero.
const DefaultDetachedTTL = 15 * time.Minute

// maxUnixPath is the longest unix socket path that works everywhere.
const maxUnixPath = 100

// DetachedOptions configures a detached signer process.
type DetachedOptions struct {
	// Dir is the private folder for the socket, created 0700 when missing
	// (and tightened to 0700 when it exists). Empty: a new folder under the
	// system temporary folder, removed on exit. Socket paths are limited
	// to about 100 bytes, so keep it short.
	Dir string
	// TTL is how long the process serves before it exits on its own. Zero:
	// DefaultDetachedTTL.
	TTL time.Duration
	// Ready receives the reattach information once the socket listens. Nil
	// writes it as one JSON line to standard output. StartDetached sets it
	// for the child and ignores this field.
	Ready func(*ReattachInfo) error
}

// ReattachInfo is what a host needs to reach a detached signer. It is
// JSON-serializable; ClientKey is a private key, so store it only in a file
// of mode 0600 in a private folder, and never print it.
type ReattachInfo struct {
	// Name is the signer's name, for messages.
	Name string `json:"name,omitempty"`
	// Network is "unix"; Address is the socket path.
	Network string `json:"network"`
	Address string `json:"address"`
	// Pid is the signer process id.
	Pid int `json:"pid"`
	// ProtocolVersion is the plugin protocol it serves (2).
	ProtocolVersion int `json:"protocolVersion"`
	// Deadline is when the process exits on its own.
	Deadline time.Time `json:"deadline"`
	// ServerCert is the signer's certificate (DER), pinned by the host.
	ServerCert []byte `json:"serverCert"`
	// ClientCert and ClientKey (DER, PKCS#8) are the identity a host
	// presents; the signer accepts no other.
	ClientCert []byte `json:"clientCert"`
	ClientKey  []byte `json:"clientKey"`
}

// String describes the signer without its key material.
func (r *ReattachInfo) String() string {
	return fmt.Sprintf("detached signer %s (pid %d, %s, until %s)", r.Name, r.Pid, r.Address, r.Deadline.Format(time.RFC3339))
}

func msDuration(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }

// ServeDetached serves s as a detached signer until ctx ends, the deadline
// passes, or a host calls StopDetached; then it stops accepting calls, lets
// calls in flight finish (at most five seconds), closes s when it is an
// io.Closer, removes its socket and returns.
//
// Plugins do not call it: Serve does when the host used StartDetached. It is
// exported for programs that manage detached signers themselves.
func ServeDetached(ctx context.Context, s Signer, opts DetachedOptions) error {
	if s == nil {
		return NewError(CodeInvalidRequest, "sdk: serve detached: nil signer", "")
	}
	ttl := opts.TTL
	if ttl <= 0 {
		ttl = DefaultDetachedTTL
	}
	deadline := time.Now().Add(ttl)
	dir, created, err := privateDir(opts.Dir)
	if err != nil {
		return err
	}
	if created {
		defer os.RemoveAll(dir)
	}
	sock := filepath.Join(dir, "signer-"+strconv.Itoa(os.Getpid())+".sock")
	if len(sock) > maxUnixPath {
		return NewError(CodeInvalidRequest, fmt.Sprintf("sdk: serve detached: socket path %s is too long", sock), "use a shorter folder")
	}
	_ = os.Remove(sock)
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return NewError(CodeInternal, fmt.Sprintf("sdk: serve detached: listen: %v", err), "")
	}
	defer ln.Close()
	if err := os.Chmod(sock, 0o600); err != nil {
		return NewError(CodeInternal, fmt.Sprintf("sdk: serve detached: chmod socket: %v", err), "")
	}
	notAfter := deadline.Add(time.Hour)
	server, err := newIdentity(notAfter)
	if err != nil {
		return NewError(CodeInternal, err.Error(), "")
	}
	client, err := newIdentity(notAfter)
	if err != nil {
		return NewError(CodeInternal, err.Error(), "")
	}
	clientKey, err := client.keyDER()
	if err != nil {
		return NewError(CodeInternal, err.Error(), "")
	}
	serverTLS, err := mutualConfig(server, client.der)
	if err != nil {
		return NewError(CodeInternal, err.Error(), "")
	}

	stopCh := make(chan struct{})
	var stopOnce sync.Once
	stop := func() { stopOnce.Do(func() { close(stopCh) }) }

	gs := grpc.NewServer(append(serverOptions(), grpc.Creds(credentials.NewTLS(serverTLS)))...)
	pbv2.RegisterSignerServer(gs, &v2Server{signer: s, prompts: &dialBackPrompter{tls: serverTLS}})
	pbv2.RegisterDetachedServer(gs, &detachedServer{deadline: deadline, stop: stop})
	served := make(chan error, 1)
	go func() { served <- gs.Serve(ln) }()

	info := &ReattachInfo{
		Network:         "unix",
		Address:         sock,
		Pid:             os.Getpid(),
		ProtocolVersion: ProtocolVersion,
		Deadline:        deadline.UTC().Truncate(time.Millisecond),
		ServerCert:      server.der,
		ClientCert:      client.der,
		ClientKey:       clientKey,
	}
	ready := opts.Ready
	if ready == nil {
		ready = func(info *ReattachInfo) error {
			line, err := json.Marshal(info)
			if err != nil {
				return err
			}
			_, err = os.Stdout.Write(append(line, '\n'))
			return err
		}
	}
	if err := ready(info); err != nil {
		gs.Stop()
		return NewError(CodeInternal, fmt.Sprintf("sdk: serve detached: hand over reattach info: %v", err), "")
	}

	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	var serveErr error
	select {
	case <-ctx.Done():
	case <-timer.C:
	case <-stopCh:
	case serveErr = <-served:
	}
	graceful := make(chan struct{})
	go func() {
		gs.GracefulStop()
		close(graceful)
	}()
	select {
	case <-graceful:
	case <-time.After(5 * time.Second):
		gs.Stop()
	}
	closeSigner(s)
	if serveErr != nil && !errors.Is(serveErr, grpc.ErrServerStopped) {
		return NewError(CodeInternal, fmt.Sprintf("sdk: serve detached: %v", serveErr), "")
	}
	return nil
}

// privateDir returns dir (created or tightened to 0700), or a new temporary
// folder when dir is empty.
func privateDir(dir string) (string, bool, error) {
	if dir == "" {
		d, err := os.MkdirTemp(socketTempDir(), "mm-signer-")
		if err != nil {
			return "", false, NewError(CodeInternal, fmt.Sprintf("sdk: serve detached: folder: %v", err), "")
		}
		return d, true, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", false, NewError(CodeInternal, fmt.Sprintf("sdk: serve detached: folder %s: %v", dir, err), "")
	}
	fi, err := os.Lstat(dir)
	if err != nil || !fi.IsDir() {
		return "", false, NewError(CodeInvalidRequest, fmt.Sprintf("sdk: serve detached: %s is not a folder", dir), "")
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return "", false, NewError(CodeInvalidRequest, fmt.Sprintf("sdk: serve detached: folder %s is not private and cannot be made so: %v", dir, err), "")
		}
	}
	return dir, false, nil
}

// detachedServer answers a reattached host's status and stop requests.
type detachedServer struct {
	pbv2.UnimplementedDetachedServer
	deadline time.Time
	stop     func()
}

var _ pbv2.DetachedServer = (*detachedServer)(nil)

// Status implements pbv2.DetachedServer.
func (d *detachedServer) Status(context.Context, *pbv2.DetachedStatusRequest) (*pbv2.DetachedStatusResponse, error) {
	return &pbv2.DetachedStatusResponse{Pid: int64(os.Getpid()), DeadlineUnix: d.deadline.Unix()}, nil
}

// Stop implements pbv2.DetachedServer: the process exits once this call and
// any other in flight have finished.
func (d *detachedServer) Stop(context.Context, *pbv2.DetachedStopRequest) (*pbv2.DetachedStopResponse, error) {
	d.stop()
	return &pbv2.DetachedStopResponse{}, nil
}

// dialBackPrompter reaches a reattached host's Prompter on the unix socket
// the call names, with the detached signer's mutual TLS.
type dialBackPrompter struct {
	tls *tls.Config
}

func (d *dialBackPrompter) prompter(_ context.Context, addr string) (pbv2.PrompterClient, func(), error) {
	if addr == "" || !filepath.IsAbs(addr) || len(addr) > maxUnixPath {
		return nil, nil, NewError(CodeNonInteractive, "the host offers no prompter", "")
	}
	conn, err := grpc.NewClient("passthrough:///mm-prompter",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			var nd net.Dialer
			return nd.DialContext(ctx, "unix", addr)
		}),
		grpc.WithTransportCredentials(credentials.NewTLS(d.tls)),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMsgSize)))
	if err != nil {
		return nil, nil, err
	}
	return pbv2.NewPrompterClient(conn), func() { conn.Close() }, nil
}

// StartDetached starts cmd — a plugin built on this SDK, which serves
// detached when started this way — in a session of its own that outlives
// the caller, and returns its ReattachInfo once it listens. opts.Checksum is
// verified first; opts.Stderr is passed on only when it is an *os.File (the
// process outlives any pipe to this one); opts.Prompter is not used.
func StartDetached(ctx context.Context, cmd *exec.Cmd, dopts DetachedOptions, opts PluginOptions) (*ReattachInfo, error) {
	if cmd == nil || cmd.Path == "" {
		return nil, NewError(CodeInvalidRequest, "sdk: start detached: no command", "")
	}
	name, err := checkCommand(cmd, opts)
	if err != nil {
		return nil, err
	}
	ttl := dopts.TTL
	if ttl <= 0 {
		ttl = DefaultDetachedTTL
	}
	raw, err := json.Marshal(detachedConfig{Dir: dopts.Dir, TTLMilli: ttl.Milliseconds()})
	if err != nil {
		return nil, NewError(CodeInternal, err.Error(), "")
	}
	cfgR, cfgW, err := os.Pipe()
	if err != nil {
		return nil, NewError(CodeInternal, fmt.Sprintf("sdk: start detached: %v", err), "")
	}
	_, werr := cfgW.Write(raw)
	cfgW.Close()
	defer cfgR.Close()
	if werr != nil {
		return nil, NewError(CodeInternal, fmt.Sprintf("sdk: start detached: %v", werr), "")
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, NewError(CodeInternal, fmt.Sprintf("sdk: start detached: %v", err), "")
	}
	defer outR.Close()
	env := cmd.Env
	if env == nil {
		env = PluginEnv()
	}
	cmd.ExtraFiles = append(cmd.ExtraFiles, cfgR)
	cmd.Env = append(env,
		MagicCookieKey+"="+MagicCookieValue,
		envDetachedFD+"="+strconv.Itoa(2+len(cmd.ExtraFiles)))
	cmd.Stdin = nil
	cmd.Stdout = outW
	cmd.Stderr = nil
	if f, ok := opts.Stderr.(*os.File); ok {
		cmd.Stderr = f
	}
	if cmd.Dir == "" {
		cmd.Dir = os.TempDir()
	}
	err = startDetached(cmd)
	outW.Close()
	if err != nil {
		return nil, startError(name, err)
	}
	type result struct {
		line []byte
		err  error
	}
	got := make(chan result, 1)
	go func() {
		br := bufio.NewReaderSize(outR, 64<<10)
		line, err := br.ReadSlice('\n')
		got <- result{append([]byte(nil), line...), err}
	}()
	exited := make(chan error, 1)
	var res result
	select {
	case res = <-got:
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		go func() { exited <- cmd.Wait() }()
		return nil, &Error{Code: CodeCanceled, Message: fmt.Sprintf("plugin %s: detached start canceled", name), Err: ctx.Err()}
	}
	if res.err != nil {
		_ = cmd.Process.Kill()
		werr := cmd.Wait()
		msg := "exited before it was ready"
		if werr != nil {
			msg += " (" + cleanText(werr.Error()) + ")"
		}
		return nil, &Error{Code: CodePluginCrashed, Message: fmt.Sprintf("plugin %s %s", name, msg), Hint: "is it an mm signer plugin? check its standard error"}
	}
	go func() { exited <- cmd.Wait() }() // reap it when it exits while we live
	var info ReattachInfo
	if err := json.Unmarshal(res.line, &info); err != nil || info.Pid != cmd.Process.Pid || info.Network != "unix" {
		_ = cmd.Process.Kill()
		return nil, NewError(CodePluginProtocolError, fmt.Sprintf("plugin %s: malformed reattach information", name), "")
	}
	info.Name = name
	return &info, nil
}

// Reattach connects to a detached signer over mutual TLS and checks that it
// answers. Close on the returned client only disconnects. A signer that is
// gone (deadline passed, stopped, rebooted) yields PLUGIN_NOT_RUNNING.
func Reattach(ctx context.Context, info *ReattachInfo, opts PluginOptions) (*PluginClient, error) {
	if info == nil || info.Network != "unix" || info.Address == "" {
		return nil, NewError(CodeInvalidRequest, "sdk: reattach: incomplete reattach information", "")
	}
	name := opts.Name
	if name == "" {
		name = info.Name
	}
	if info.ProtocolVersion != ProtocolVersion {
		return nil, NewError(CodePluginIncompatible,
			fmt.Sprintf("detached signer %s speaks protocol %d; reattaching needs protocol %d", name, info.ProtocolVersion, ProtocolVersion), "")
	}
	notRunning := func(why string) error {
		return &Error{Code: CodePluginNotRunning, Message: fmt.Sprintf("detached signer %s is not running (%s)", name, why), Hint: "start it again (e.g. mm wallet unlock)"}
	}
	if !info.Deadline.IsZero() && time.Now().After(info.Deadline) {
		return nil, notRunning("its deadline passed")
	}
	if !processAlive(info.Pid) {
		return nil, notRunning("its process is gone")
	}
	id, err := parseIdentity(info.ClientCert, info.ClientKey)
	if err != nil {
		return nil, NewError(CodeInvalidRequest, "sdk: reattach: damaged client identity: "+err.Error(), "")
	}
	cliTLS, err := mutualConfig(id, info.ServerCert)
	if err != nil {
		return nil, NewError(CodeInvalidRequest, "sdk: reattach: damaged server certificate: "+err.Error(), "")
	}
	c := &PluginClient{name: name, version: ProtocolVersion, pid: info.Pid, prompter: opts.Prompter, calls: make(map[string]*hostCall)}
	if c.prompter == nil {
		c.prompter = noPrompter{}
	}
	// The Prompter socket the signer dials back, set up while the
	// connection is made (it is needed only once a call is sent).
	type served struct {
		addr string
		stop func()
		err  error
	}
	pch := make(chan served, 1)
	go func() {
		addr, stop, err := servePrompterSocket(c, cliTLS)
		pch <- served{addr, stop, err}
	}()
	prompterReady := func() error {
		p := <-pch
		if p.stop != nil {
			c.cleanup = append(c.cleanup, p.stop)
		}
		c.prompterAddr = p.addr
		return p.err
	}

	addr := info.Address
	conn, err := grpc.NewClient("passthrough:///mm-signer", append(clientDialOptions(),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			var nd net.Dialer
			return nd.DialContext(ctx, "unix", addr)
		}),
		grpc.WithTransportCredentials(credentials.NewTLS(cliTLS)))...)
	if err != nil {
		_ = prompterReady()
		c.Close()
		return nil, NewError(CodeInternal, fmt.Sprintf("sdk: reattach: %v", err), "")
	}
	c.conn = conn
	c.v2 = pbv2.NewSignerClient(conn)
	c.detached = pbv2.NewDetachedClient(conn)
	err = awaitReady(ctx, conn, c.detached)
	if perr := prompterReady(); perr != nil && err == nil {
		c.Close()
		return nil, perr
	}
	if err != nil {
		c.Close()
		if ctx.Err() != nil {
			return nil, &Error{Code: CodeCanceled, Message: "reattach canceled", Err: ctx.Err()}
		}
		if status.Code(err) == codes.Unavailable {
			if _, serr := os.Stat(info.Address); serr != nil || !processAlive(info.Pid) {
				return nil, notRunning("its socket is gone")
			}
			return nil, &Error{
				Code:    CodePluginProtocolError,
				Message: fmt.Sprintf("detached signer %s refused the connection: %s", name, cleanText(status.Convert(err).Message())),
				Hint:    "the reattach information does not match the running signer; start it again",
				Err:     err,
			}
		}
		return nil, c.callErr(ctx, "Status", err)
	}
	return c, nil
}

// awaitReady connects conn and waits until it is ready: the TLS handshake
// is done and the signer's gRPC server has greeted us, which it does only
// after accepting our client certificate. That proves it answers without a
// round trip of its own; when connecting fails, one Status call fetches the
// reason.
func awaitReady(ctx context.Context, conn *grpc.ClientConn, d pbv2.DetachedClient) error {
	conn.Connect()
	for {
		switch s := conn.GetState(); s {
		case connectivity.Ready:
			return nil
		case connectivity.TransientFailure, connectivity.Shutdown:
			if _, err := d.Status(ctx, &pbv2.DetachedStatusRequest{}); err != nil {
				return err
			}
			return nil // it recovered meanwhile
		default:
			if !conn.WaitForStateChange(ctx, s) {
				return ctx.Err()
			}
		}
	}
}

// servePrompterSocket serves c's Prompter, for a detached signer to dial
// back, on a unix socket in a new private folder, with the mutual TLS of
// cfg. It returns the socket's path and what stops it and removes it.
func servePrompterSocket(c *PluginClient, cfg *tls.Config) (string, func(), error) {
	pdir, err := os.MkdirTemp(socketTempDir(), "mm-prompter-")
	if err != nil {
		return "", nil, NewError(CodeInternal, fmt.Sprintf("sdk: reattach: %v", err), "")
	}
	pln, err := net.Listen("unix", filepath.Join(pdir, "p.sock"))
	if err != nil {
		os.RemoveAll(pdir)
		return "", nil, NewError(CodeInternal, fmt.Sprintf("sdk: reattach: prompter socket: %v", err), "")
	}
	ln := &countingListener{Listener: pln, n: &c.prompterConns}
	ps := grpc.NewServer(grpc.Creds(credentials.NewTLS(cfg)), grpc.MaxRecvMsgSize(maxMsgSize))
	pbv2.RegisterPrompterServer(ps, &hostPrompter{c: c})
	go ps.Serve(ln)
	return pln.Addr().String(), func() { ps.Stop(); os.RemoveAll(pdir) }, nil
}

// StopDetached asks the detached signer described by info to exit and waits
// (within ctx, at most five seconds) until it has. A signer that is already
// gone is not an error.
func StopDetached(ctx context.Context, info *ReattachInfo) error {
	c, err := Reattach(ctx, info, PluginOptions{})
	if err != nil {
		if errors.Is(err, ErrPluginNotRunning) {
			return nil
		}
		return err
	}
	defer c.Close()
	if _, err := c.detached.Stop(ctx, &pbv2.DetachedStopRequest{}); err != nil {
		return c.callErr(ctx, "Stop", err)
	}
	wait, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for processAlive(info.Pid) {
		select {
		case <-wait.Done():
			return nil
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}
