package sdk

import (
	"context"
	"fmt"
	"sort"
	"time"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pbv1 "github.com/mm-wallet/mm/sdk/internal/proto/mm/signer/v1"
	pbv2 "github.com/mm-wallet/mm/sdk/internal/proto/mm/signer/v2"
)

//go:generate sh internal/proto/genprotoc.sh

// The plugin wire, shared by both halves so that host and plugin cannot
// drift: the go-plugin handshake, the plugin set per protocol version, and
// the names both sides agree on. PROTOCOL.md documents all of it.

// Handshake values of the go-plugin handshake. A plugin started without the
// magic cookie in its environment refuses to run.
const (
	MagicCookieKey   = "MM_SIGNER_PLUGIN"
	MagicCookieValue = "7f3c1e0a-mm-signer"
)

// SupportedProtocolVersions returns the plugin protocol versions this SDK
// speaks, newest first: ProtocolVersion (N) and N-1.
func SupportedProtocolVersions() []int { return []int{ProtocolVersion, ProtocolVersion - 1} }

// Names on the wire.
const (
	// pluginSetKey is the key of the signer in go-plugin's plugin set.
	pluginSetKey = "signer"
	// prompterBrokerID is the go-plugin broker service id under which a
	// protocol-2 host serves the Prompter.
	prompterBrokerID uint32 = 1
	// callIDKey is the gRPC metadata key carrying the host's id of a Signer
	// call; the plugin repeats it on Prompter calls made for that call.
	callIDKey = "mm-call-id"
	// prompterAddrKey is the gRPC metadata key by which a host reattached
	// to a detached signer names the unix socket of its Prompter.
	prompterAddrKey = "mm-prompter-addr"

	// envTLSFD names the environment variable holding the file descriptor
	// number of the pipe that carries the plugin's TLS material.
	envTLSFD = "MM_PLUGIN_TLS_FD"
	// envLifeline, when "1", tells the plugin that its stdin is a pipe the
	// host holds open for its whole life: end of file means the host died.
	envLifeline = "MM_PLUGIN_LIFELINE"
	// envDetachedFD names the file descriptor of the pipe that carries a
	// detached signer's options (see StartDetached).
	envDetachedFD = "MM_PLUGIN_DETACHED_FD"
	// envClientCert is go-plugin's AutoMTLS variable: the host certificate
	// (PEM) for plugins that negotiate TLS the standard go-plugin way.
	envClientCert = "PLUGIN_CLIENT_CERT"
)

// handshake is the go-plugin handshake configuration; versions are
// negotiated through VersionedPlugins.
var handshake = plugin.HandshakeConfig{
	MagicCookieKey:   MagicCookieKey,
	MagicCookieValue: MagicCookieValue,
}

// serverPlugins returns the plugin sets a plugin serves for s, restricted to
// versions (all supported ones when empty).
func serverPlugins(s Signer, opts ServeOptions) (map[int]plugin.PluginSet, error) {
	versions := opts.Versions
	if len(versions) == 0 {
		versions = SupportedProtocolVersions()
	}
	out := make(map[int]plugin.PluginSet, len(versions))
	for _, v := range versions {
		switch v {
		case 1:
			out[1] = plugin.PluginSet{pluginSetKey: &v1Plugin{signer: s}}
		case 2:
			out[2] = plugin.PluginSet{pluginSetKey: &v2Plugin{signer: s, claimDelay: opts.PrompterClaimDelay}}
		default:
			return nil, fmt.Errorf("sdk: protocol version %d is not one this SDK speaks (%s)", v, versionList(SupportedProtocolVersions()))
		}
	}
	return out, nil
}

// clientPlugins returns the plugin sets a host offers for c.
func clientPlugins(c *PluginClient) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		1: {pluginSetKey: &v1Plugin{}},
		2: {pluginSetKey: &v2Plugin{host: c}},
	}
}

func versionList(vs []int) string {
	s := append([]int(nil), vs...)
	sort.Ints(s)
	out := ""
	for i, v := range s {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprint(v)
	}
	return out
}

// v2Plugin is protocol 2 for go-plugin: the plugin half registers the
// Signer service and dials the host's Prompter through the broker; the host
// half serves the Prompter and returns the Signer client.
type v2Plugin struct {
	plugin.NetRPCUnsupportedPlugin
	signer Signer
	host   *PluginClient
	// claimDelay is the plugin's prompterClaimDelay (zero: the default).
	claimDelay time.Duration
}

var _ plugin.GRPCPlugin = (*v2Plugin)(nil)

// GRPCServer implements plugin.GRPCPlugin (plugin side).
func (p *v2Plugin) GRPCServer(broker *plugin.GRPCBroker, s *grpc.Server) error {
	src := newBrokerPrompter(broker, p.claimDelay)
	pbv2.RegisterSignerServer(s, &v2Server{signer: p.signer, prompts: src})
	return nil
}

// GRPCClient implements plugin.GRPCPlugin (host side). It serves the
// Prompter under prompterBrokerID until the plugin process ends (doneCtx).
// The broker's own AcceptAndServe is not used: it logs through the standard
// logger when the plugin is already gone, and the host's stderr is the
// user's.
func (p *v2Plugin) GRPCClient(doneCtx context.Context, broker *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	if p.host != nil {
		go p.host.servePrompter(doneCtx, broker)
	}
	return pbv2.NewSignerClient(conn), nil
}

// v1Plugin is protocol 1 for go-plugin: no broker, no prompter.
type v1Plugin struct {
	plugin.NetRPCUnsupportedPlugin
	signer Signer
}

var _ plugin.GRPCPlugin = (*v1Plugin)(nil)

// GRPCServer implements plugin.GRPCPlugin (plugin side).
func (p *v1Plugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pbv1.RegisterSignerServer(s, &v1Server{signer: p.signer})
	return nil
}

// GRPCClient implements plugin.GRPCPlugin (host side).
func (p *v1Plugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return pbv1.NewSignerClient(conn), nil
}

// maxMsgSize bounds every message either side accepts: far above any real
// request (64 KiB messages, large typed data), far below what would let a
// misbehaving peer exhaust memory.
const maxMsgSize = 16 << 20

// Fixed HTTP/2 flow-control windows. Setting them turns off gRPC's
// bandwidth-delay estimator, whose pings add frames and wake-ups to every
// call on what is a local socket with nothing to estimate.
const (
	streamWindow = 1 << 20
	connWindow   = 1 << 21
)

func clientDialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMsgSize)),
		grpc.WithInitialWindowSize(streamWindow),
		grpc.WithInitialConnWindowSize(connWindow),
	}
}

// serverOptions are the plugin side's gRPC server options. A stream worker
// runs calls on a goroutine whose stack has already grown, instead of a
// fresh goroutine per call.
func serverOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.NumStreamWorkers(1),
		grpc.MaxRecvMsgSize(maxMsgSize),
		grpc.InitialWindowSize(streamWindow),
		grpc.InitialConnWindowSize(connWindow),
	}
}
