package sdk

import (
	"context"
	"errors"
	"sync"
	"time"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	pbv1 "github.com/mm-wallet/mm/sdk/internal/proto/mm/signer/v1"
	pbv2 "github.com/mm-wallet/mm/sdk/internal/proto/mm/signer/v2"
)

// The plugin half of the wire: gRPC servers that decode requests, call the
// Signer and encode its answers, and the Prompter a signer reaches through
// PrompterFrom(ctx).

// prompterSource gives the plugin side a Prompter client for one call.
type prompterSource interface {
	// prompter returns a client for the host's Prompter and a function to
	// call when done with it, or an error when there is none. addr is the
	// Prompter socket the Signer call being served named, if any.
	prompter(ctx context.Context, addr string) (pbv2.PrompterClient, func(), error)
}

// v2Server serves protocol 2 for one Signer.
type v2Server struct {
	pbv2.UnimplementedSignerServer
	signer  Signer
	prompts prompterSource
}

var _ pbv2.SignerServer = (*v2Server)(nil)

// callContext gives the signer a Prompter that reaches the host, tagged with
// the host's call id so the host can tie questions to the call that asked.
// done releases the Prompter's connection when the call ends.
func (v *v2Server) callContext(ctx context.Context) (_ context.Context, done func()) {
	reclaimStdio()
	p := &remotePrompter{src: v.prompts}
	if vals := metadata.ValueFromIncomingContext(ctx, callIDKey); len(vals) > 0 {
		p.callID = vals[0]
	}
	if vals := metadata.ValueFromIncomingContext(ctx, prompterAddrKey); len(vals) > 0 {
		p.prompterAddr = vals[0]
	}
	return WithPrompter(ctx, p), p.close
}

func reqDecoder() *wireDecoder { return &wireDecoder{code: CodeInvalidRequest} }

func noResponse() error {
	return toStatus(NewError(CodeInternal, "signer returned neither a response nor an error", ""))
}

// handle runs one Signer call for a gRPC handler. withCtx prepares the
// signer's context (the host's Prompter for protocol 2); decErr reports a
// request the decoder refused, which never reaches the signer; a coded error,
// or a nil answer without one, becomes a gRPC status; enc encodes the rest.
func handle[Q, R, P any](ctx context.Context, withCtx func(context.Context) (context.Context, func()), in *Q, decErr error,
	call func(context.Context, *Q) (*R, error), enc func(*R) (*P, error)) (*P, error) {
	cctx, done := withCtx(ctx)
	defer done()
	if decErr != nil {
		return nil, toStatus(decErr)
	}
	r, err := call(cctx, in)
	if err != nil {
		return nil, toStatus(err)
	}
	if r == nil {
		return nil, noResponse()
	}
	return enc(r)
}

// always adapts an encoder that cannot fail to handle's shape.
func always[R, P any](f func(*R) *P) func(*R) (*P, error) {
	return func(r *R) (*P, error) { return f(r), nil }
}

func unsupported(what string) error {
	return toStatus(NewError(CodeUnsupported, "this signer does not support "+what, ""))
}

// Info implements pbv2.SignerServer.
func (v *v2Server) Info(ctx context.Context, _ *pbv2.InfoRequest) (*pbv2.InfoResponse, error) {
	return handle(ctx, v.callContext, &InfoRequest{}, nil, v.signer.Info, always(infoToV2))
}

// Accounts implements pbv2.SignerServer.
func (v *v2Server) Accounts(ctx context.Context, req *pbv2.AccountsRequest) (*pbv2.AccountsResponse, error) {
	return handle(ctx, v.callContext, accountsReqFromV2(req), nil, v.signer.Accounts, always(accountsRespToV2))
}

// SignTransaction implements pbv2.SignerServer.
func (v *v2Server) SignTransaction(ctx context.Context, req *pbv2.SignTransactionRequest) (*pbv2.SignTransactionResponse, error) {
	d := reqDecoder()
	in := d.signTxReqFromV2(req)
	return handle(ctx, v.callContext, in, d.failed(), v.signer.SignTransaction, always(signTxRespToV2))
}

// SignTypedData implements pbv2.SignerServer.
func (v *v2Server) SignTypedData(ctx context.Context, req *pbv2.SignTypedDataRequest) (*pbv2.SignTypedDataResponse, error) {
	d := reqDecoder()
	in := d.signTypedReqFromV2(req)
	return handle(ctx, v.callContext, in, d.failed(), v.signer.SignTypedData, always(signTypedRespToV2))
}

// SignMessage implements pbv2.SignerServer.
func (v *v2Server) SignMessage(ctx context.Context, req *pbv2.SignMessageRequest) (*pbv2.SignMessageResponse, error) {
	d := reqDecoder()
	in := d.signMsgReqFromV2(req)
	return handle(ctx, v.callContext, in, d.failed(), v.signer.SignMessage, always(signMsgRespToV2))
}

// SignAuthorization implements pbv2.SignerServer.
func (v *v2Server) SignAuthorization(ctx context.Context, req *pbv2.SignAuthorizationRequest) (*pbv2.SignAuthorizationResponse, error) {
	a, ok := v.signer.(Authorizer)
	if !ok {
		return nil, unsupported("EIP-7702 authorizations")
	}
	d := reqDecoder()
	in := d.signAuthReqFromV2(req)
	return handle(ctx, v.callContext, in, d.failed(), a.SignAuthorization, always(func(r *SignAuthorizationResponse) *pbv2.SignAuthorizationResponse {
		return &pbv2.SignAuthorizationResponse{Signature: r.Signature}
	}))
}

// Configure implements pbv2.SignerServer. A signer may answer Configure with
// a nil response.
func (v *v2Server) Configure(ctx context.Context, req *pbv2.ConfigureRequest) (*pbv2.ConfigureResponse, error) {
	c, ok := v.signer.(Configurer)
	if !ok {
		return nil, unsupported("Configure")
	}
	configure := func(ctx context.Context, in *ConfigureRequest) (*ConfigureResponse, error) {
		_, err := c.Configure(ctx, in)
		return &ConfigureResponse{}, err
	}
	return handle(ctx, v.callContext, &ConfigureRequest{Settings: req.GetSettings()}, nil, configure, always(func(*ConfigureResponse) *pbv2.ConfigureResponse {
		return &pbv2.ConfigureResponse{}
	}))
}

// Manage implements pbv2.SignerServer.
func (v *v2Server) Manage(ctx context.Context, req *pbv2.ManageRequest) (*pbv2.ManageResponse, error) {
	m, ok := v.signer.(Manager)
	if !ok {
		return nil, unsupported("Manage")
	}
	return handle(ctx, v.callContext, &ManageRequest{Op: req.GetOp(), Params: req.GetParams()}, nil, m.Manage, always(func(r *ManageResponse) *pbv2.ManageResponse {
		return &pbv2.ManageResponse{Result: r.Result}
	}))
}

// PollJob implements pbv2.SignerServer.
func (v *v2Server) PollJob(ctx context.Context, req *pbv2.PollJobRequest) (*pbv2.PollJobResponse, error) {
	p, ok := v.signer.(JobPoller)
	if !ok {
		return nil, unsupported("asynchronous jobs")
	}
	return handle(ctx, v.callContext, &PollJobRequest{ID: req.GetId()}, nil, p.PollJob, always(pollRespToV2))
}

// v1Server serves protocol 1 for one Signer: no prompter (PrompterFrom
// refuses every question), no display context, no jobs.
type v1Server struct {
	pbv1.UnimplementedSignerServer
	signer Signer
}

var _ pbv1.SignerServer = (*v1Server)(nil)

// v1Context is the signer's context under protocol 1: the call's own, with
// no Prompter.
func v1Context(ctx context.Context) (context.Context, func()) {
	reclaimStdio()
	return ctx, func() {}
}

// noJob refuses an answer that is an asynchronous job, which protocol 1
// cannot carry, and encodes any other with enc.
func noJob[R, P any](job func(*R) *Job, enc func(*R) *P) func(*R) (*P, error) {
	return func(r *R) (*P, error) {
		if job(r) != nil {
			return nil, toStatus(NewError(CodeUnsupported, "this signer answered with an asynchronous job, which protocol 1 cannot carry", "update mm to a version that speaks plugin protocol 2"))
		}
		return enc(r), nil
	}
}

// Info implements pbv1.SignerServer.
func (v *v1Server) Info(ctx context.Context, _ *pbv1.InfoRequest) (*pbv1.InfoResponse, error) {
	return handle(ctx, v1Context, &InfoRequest{}, nil, v.signer.Info, always(infoToV1))
}

// Accounts implements pbv1.SignerServer.
func (v *v1Server) Accounts(ctx context.Context, req *pbv1.AccountsRequest) (*pbv1.AccountsResponse, error) {
	in := &AccountsRequest{Paths: req.GetPaths(), Indices: req.GetIndices()}
	return handle(ctx, v1Context, in, nil, v.signer.Accounts, always(accountsRespToV1))
}

// SignTransaction implements pbv1.SignerServer.
func (v *v1Server) SignTransaction(ctx context.Context, req *pbv1.SignTransactionRequest) (*pbv1.SignTransactionResponse, error) {
	d := reqDecoder()
	in := &SignTransactionRequest{
		Account:     d.accountFromV1(req.GetAccount()),
		ChainID:     d.chainID(req.GetChainId()),
		Transaction: req.GetTransaction(),
	}
	return handle(ctx, v1Context, in, d.failed(), v.signer.SignTransaction, noJob(
		func(r *SignTransactionResponse) *Job { return r.Job },
		func(r *SignTransactionResponse) *pbv1.SignTransactionResponse {
			return &pbv1.SignTransactionResponse{SignedTransaction: r.SignedTransaction, Signature: r.Signature}
		}))
}

// SignTypedData implements pbv1.SignerServer.
func (v *v1Server) SignTypedData(ctx context.Context, req *pbv1.SignTypedDataRequest) (*pbv1.SignTypedDataResponse, error) {
	d := reqDecoder()
	in := d.signTypedReqFromV1(req)
	return handle(ctx, v1Context, in, d.failed(), v.signer.SignTypedData, noJob(
		func(r *SignTypedDataResponse) *Job { return r.Job },
		func(r *SignTypedDataResponse) *pbv1.SignTypedDataResponse {
			return &pbv1.SignTypedDataResponse{Signature: r.Signature}
		}))
}

// SignMessage implements pbv1.SignerServer.
func (v *v1Server) SignMessage(ctx context.Context, req *pbv1.SignMessageRequest) (*pbv1.SignMessageResponse, error) {
	d := reqDecoder()
	in := &SignMessageRequest{Account: d.accountFromV1(req.GetAccount()), Message: req.GetMessage()}
	return handle(ctx, v1Context, in, d.failed(), v.signer.SignMessage, noJob(
		func(r *SignMessageResponse) *Job { return r.Job },
		func(r *SignMessageResponse) *pbv1.SignMessageResponse {
			return &pbv1.SignMessageResponse{Signature: r.Signature}
		}))
}

// brokerPrompter dials the host's Prompter through the go-plugin broker.
//
// Dialing costs a second mutual-TLS handshake on both sides, and most
// plugin lives (one CLI call) never ask anything: paid eagerly, it would
// compete with the host's first calls. So the plugin claims the host's
// connection info at its first question. go-plugin forgets that info five
// seconds after it arrives unless someone claims it, so the plugin also
// claims it after prompterClaimDelay at the latest, when it has lived that
// long (a REPL's warm signer), and keeps trying while nothing arrives (a
// host of another make may never serve one).
type brokerPrompter struct {
	ready    chan struct{}
	conn     *grpc.ClientConn
	wanted   chan struct{}
	wantOnce sync.Once
}

// prompterClaimDelay is how long a plugin that has asked nothing waits
// before it claims the host's Prompter: well inside go-plugin's five
// seconds.
const prompterClaimDelay = 2 * time.Second

func newBrokerPrompter(broker *plugin.GRPCBroker, claimDelay time.Duration) *brokerPrompter {
	if claimDelay <= 0 {
		claimDelay = prompterClaimDelay
	}
	b := &brokerPrompter{ready: make(chan struct{}), wanted: make(chan struct{})}
	go func() {
		select {
		case <-b.wanted:
		case <-time.After(claimDelay):
		}
		for {
			conn, err := broker.DialWithOptions(prompterBrokerID, grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMsgSize)))
			if err == nil {
				b.conn = conn
				close(b.ready)
				return
			}
		}
	}()
	return b
}

func (b *brokerPrompter) prompter(ctx context.Context, _ string) (pbv2.PrompterClient, func(), error) {
	b.wantOnce.Do(func() { close(b.wanted) })
	select {
	case <-b.ready:
		return pbv2.NewPrompterClient(b.conn), func() {}, nil
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	case <-time.After(10 * time.Second):
		return nil, nil, NewError(CodeNonInteractive, "the host offers no prompter", "")
	}
}

// remotePrompter is the Prompter a signer gets from PrompterFrom(ctx) when
// it runs as a plugin: each question is a call to the host.
type remotePrompter struct {
	src          prompterSource
	callID       string
	prompterAddr string

	mu      sync.Mutex
	cl      pbv2.PrompterClient // connected at the first question
	release func()
	closed  bool
}

var _ Prompter = (*remotePrompter)(nil)

// client returns the host's Prompter, connecting at the call's first
// question; later questions of the call reuse the connection.
func (p *remotePrompter) client(ctx context.Context) (context.Context, pbv2.PrompterClient, error) {
	if p.src == nil {
		return nil, nil, NewError(CodeNonInteractive, "no prompter on this connection", "")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, nil, NewError(CodeCanceled, "the call that asked has ended", "")
	}
	if p.cl == nil {
		cl, release, err := p.src.prompter(ctx, p.prompterAddr)
		if err != nil {
			return nil, nil, prompterErr(ctx, err)
		}
		p.cl, p.release = cl, release
	}
	if p.callID != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, callIDKey, p.callID)
	}
	return ctx, p.cl, nil
}

// close releases the Prompter connection when the call has ended.
func (p *remotePrompter) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.release != nil {
		p.release()
		p.cl, p.release = nil, nil
	}
}

// prompterErr turns an error of a call to the host's Prompter into a coded
// error for the signer.
func prompterErr(ctx context.Context, err error) error {
	if e := fromStatus(err); e != nil {
		return e
	}
	if e := AsError(err); e != nil {
		return e
	}
	if ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &Error{Code: CodeCanceled, Message: "canceled while asking the user", Err: ctx.Err()}
	}
	return &Error{Code: CodeNonInteractive, Message: "cannot reach the host's prompter", Err: err}
}

// Notify implements Prompter.
func (p *remotePrompter) Notify(ctx context.Context, req *NotifyRequest) (*NotifyResponse, error) {
	cctx, cl, err := p.client(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := cl.Notify(cctx, &pbv2.NotifyRequest{Level: string(req.Level), Message: req.Message}); err != nil {
		return nil, prompterErr(ctx, err)
	}
	return &NotifyResponse{}, nil
}

// RequestSecret implements Prompter.
func (p *remotePrompter) RequestSecret(ctx context.Context, req *SecretRequest) (*SecretResponse, error) {
	cctx, cl, err := p.client(ctx)
	if err != nil {
		return nil, err
	}
	r, err := cl.RequestSecret(cctx, &pbv2.SecretRequest{Kind: string(req.Kind), Prompt: req.Prompt, Hint: req.Hint})
	if err != nil {
		return nil, prompterErr(ctx, err)
	}
	return &SecretResponse{Secret: r.GetSecret()}, nil
}

// Confirm implements Prompter.
func (p *remotePrompter) Confirm(ctx context.Context, req *ConfirmRequest) (*ConfirmResponse, error) {
	cctx, cl, err := p.client(ctx)
	if err != nil {
		return nil, err
	}
	r, err := cl.Confirm(cctx, &pbv2.ConfirmRequest{Prompt: req.Prompt})
	if err != nil {
		return nil, prompterErr(ctx, err)
	}
	return &ConfirmResponse{Confirmed: r.GetConfirmed()}, nil
}

// WaitingForUser implements Prompter.
func (p *remotePrompter) WaitingForUser(ctx context.Context, req *WaitingRequest) (*WaitingResponse, error) {
	cctx, cl, err := p.client(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := cl.WaitingForUser(cctx, &pbv2.WaitingRequest{Device: req.Device, Message: req.Message, Done: req.Done}); err != nil {
		return nil, prompterErr(ctx, err)
	}
	return &WaitingResponse{}, nil
}
