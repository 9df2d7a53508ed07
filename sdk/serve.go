package sdk

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// ServeOptions tunes ServeWithOptions.
type ServeOptions struct {
	// Versions restricts the plugin protocol versions offered to the host.
	// Empty offers every version this SDK speaks (SupportedProtocolVersions()),
	// which is what plugins should do; tests set it to act as an older
	// plugin.
	Versions []int
	// PrompterClaimDelay is how long a plugin that has asked its host
	// nothing waits before it connects to the host's Prompter anyway (it
	// connects at its first question otherwise). Zero means two seconds;
	// it must stay under the five seconds after which go-plugin's broker
	// forgets the host's offer. Tests set it.
	PrompterClaimDelay time.Duration
}

// Serve runs s as an mm signer plugin. A plugin's main calls it and nothing
// else:
//
//	func main() { sdk.Serve(mysigner.New()) }
//
// Serve blocks until the host closes the plugin or goes away, then returns
// (after calling s.Close when s implements io.Closer, so a signer can wipe
// its keys). It must be started by a host (mm, or sdk.Launch): run directly,
// it prints why not to stderr and exits with status 1, as it does on any
// other setup error. A plugin must write nothing to stdout before Serve: the
// first line of stdout is the go-plugin handshake.
//
// When the host started it with StartDetached, Serve serves detached (see
// ServeDetached) instead; plugins need no code of their own for it.
//
// Serve sets GOMAXPROCS to 1 unless the environment sets GOMAXPROCS: calls
// still run concurrently, and round trips are faster (see PROTOCOL.md).
func Serve(s Signer) {
	if err := ServeWithOptions(s, ServeOptions{}); err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		if e := AsError(err); e != nil && e.Hint != "" {
			fmt.Fprintf(os.Stderr, "hint: %s\n", e.Hint)
		}
		os.Exit(1)
	}
}

// ServeWithOptions is Serve with options, returning setup errors instead of
// exiting.
func ServeWithOptions(s Signer, opts ServeOptions) error {
	if s == nil {
		return NewError(CodeInvalidRequest, "sdk: serve: nil signer", "")
	}
	if os.Getenv(MagicCookieKey) != MagicCookieValue {
		return NewError(CodeInvalidRequest,
			"sdk: serve: this program is an mm signer plugin; mm starts it, it is not run directly",
			"install it with `mm signer install <path>` and use it through mm")
	}
	singleProc()
	if fd := os.Getenv(envDetachedFD); fd != "" {
		return serveDetachedChild(s, fd)
	}
	sets, err := serverPlugins(s, opts)
	if err != nil {
		return NewError(CodeInvalidRequest, err.Error(), "")
	}
	var provider func() (*tls.Config, error)
	switch {
	case os.Getenv(envTLSFD) != "":
		raw, err := readInheritedFD(os.Getenv(envTLSFD))
		if err != nil {
			return NewError(CodeInvalidRequest, fmt.Sprintf("sdk: serve: read TLS material: %v", err), "")
		}
		cfg, err := pluginTLSConfig(raw)
		if err != nil {
			return NewError(CodeInvalidRequest, fmt.Sprintf("sdk: serve: %v", err), "")
		}
		provider = func() (*tls.Config, error) { return cfg, nil }
	case os.Getenv(envClientCert) != "":
		// go-plugin's standard AutoMTLS: it generates our certificate.
	default:
		return NewError(CodeInvalidRequest, "sdk: serve: the host offered no mutual TLS; refusing to serve in the clear", "use a host built on the mm sdk, or one with go-plugin AutoMTLS on")
	}
	if os.Getenv(envLifeline) == "1" {
		// stdin is a pipe the host holds open while it lives; its end means
		// the host died without closing us (Pdeathsig covers Linux too).
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			os.Exit(0)
		}()
	}
	reclaimStdioOnCall.Store(true)
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  handshake,
		VersionedPlugins: sets,
		TLSProvider:      provider,
		GRPCServer: func(o []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(o, serverOptions()...)...)
		},
		Logger: hclog.New(&hclog.LoggerOptions{Name: "plugin", Level: hclog.Error, Output: os.Stderr}),
	})
	closeSigner(s)
	return nil
}

// go-plugin points os.Stdout and os.Stderr at pipes it streams to the host
// over gRPC, which loses whatever a plugin writes just before it exits or is
// closed. At the first call (by then go-plugin has swapped them) the plugin
// side points both descriptors at the real stderr instead: the host relays
// that pipe line by line and drains it to the end, so a plugin's last words
// are never lost and nothing but the handshake is ever written to stdout.
// Only descriptors change, never the os.Stdout and os.Stderr variables.
var (
	reclaimStdioOnCall atomic.Bool
	reclaimStdioOnce   sync.Once
)

func reclaimStdio() {
	if !reclaimStdioOnCall.Load() {
		return
	}
	reclaimStdioOnce.Do(func() {
		if fd := int(os.Stderr.Fd()); fd > 2 {
			_ = dupOnto(2, fd)
		}
		if fd := int(os.Stdout.Fd()); fd > 2 {
			_ = dupOnto(2, fd)
		}
	})
}

// singleProc runs the plugin on one P unless GOMAXPROCS says otherwise. A
// signer serves one user; with a single P the gRPC reader, the call and the
// writer hand over on one thread, where more Ps would wake (and spin) other
// threads on every call — measurably slower round trips on a small, busy
// machine.
func singleProc() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
}

// closeSigner lets a signer wipe its secrets when serving ends.
func closeSigner(s Signer) {
	if c, ok := s.(io.Closer); ok {
		_ = c.Close()
	}
}

// readInheritedFD reads a pipe inherited from the host to its end (at most
// 64 KiB) and closes it.
func readInheritedFD(num string) ([]byte, error) {
	n, err := strconv.Atoi(num)
	if err != nil || n < 3 {
		return nil, fmt.Errorf("bad file descriptor %q", num)
	}
	f := os.NewFile(uintptr(n), "mm-host-pipe")
	if f == nil {
		return nil, fmt.Errorf("bad file descriptor %d", n)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return nil, err
	}
	return raw, nil
}

// detachedConfig is what StartDetached hands the child through the pipe
// named by MM_PLUGIN_DETACHED_FD.
type detachedConfig struct {
	Dir      string `json:"dir"`
	TTLMilli int64  `json:"ttlMs"`
}

// serveDetachedChild serves detached as StartDetached asked: it writes the
// ReattachInfo as one JSON line on stdout, then points stdout at /dev/null.
func serveDetachedChild(s Signer, fd string) error {
	raw, err := readInheritedFD(fd)
	if err != nil {
		return NewError(CodeInvalidRequest, fmt.Sprintf("sdk: serve detached: read options: %v", err), "")
	}
	var cfg detachedConfig
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return NewError(CodeInvalidRequest, fmt.Sprintf("sdk: serve detached: decode options: %v", err), "")
	}
	signal.Ignore(os.Interrupt, syscall.SIGHUP)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	return ServeDetached(ctx, s, DetachedOptions{
		Dir: cfg.Dir,
		TTL: msDuration(cfg.TTLMilli),
		Ready: func(info *ReattachInfo) error {
			line, err := json.Marshal(info)
			if err != nil {
				return err
			}
			if _, err := os.Stdout.Write(append(line, '\n')); err != nil {
				return err
			}
			return redirectStdoutToNull()
		},
	})
}
