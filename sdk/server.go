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

// Info implements pbv2.SignerServer.
func (v *v2Server) Info(ctx context.Context, _ *pbv2.InfoRequest) (*pbv2.InfoResponse, error) {
	cctx, done := v.callContext(ctx)
	defer done()
	r, err := v.signer.Info(cctx, &InfoRequest{})
	if err != nil {
		return nil, toStatus(err)
	}
	if r == nil {
		return nil, noResponse()
	}
	return infoToV2(r), nil
}

// Accounts implements pbv2.SignerServer.
func (v *v2Server) Accounts(ctx context.Context, req *pbv2.AccountsRequest) (*pbv2.AccountsResponse, error) {
	cctx, done := v.callContext(ctx)
	defer done()
	r, err := v.signer.Accounts(cctx, accountsReqFromV2(req))
	if err != nil {
		return nil, toStatus(err)
	}
	if r == nil {
		return nil, noResponse()
	}
	return accountsRespToV2(r), nil
}

// SignTransaction implements pbv2.SignerServer.
func (v *v2Server) SignTransaction(ctx context.Context, req *pbv2.SignTransactionRequest) (*pbv2.SignTransactionResponse, error) {
	d := reqDecoder()
	in := d.signTxReqFromV2(req)
	if d.err != nil {
		return nil, toStatus(d.err)
	}
	cctx, done := v.callContext(ctx)
	defer done()
	r, err := v.signer.SignTransaction(cctx, in)
	if err != nil {
		return nil, toStatus(err)
	}
	if r == nil {
		return nil, noResponse()
	}
	return signTxRespToV2(r), nil
}

// SignTypedData implements pbv2.SignerServer.
func (v *v2Server) SignTypedData(ctx context.Context, req *pbv2.SignTypedDataRequest) (*pbv2.SignTypedDataResponse, error) {
	d := reqDecoder()
	in := d.signTypedReqFromV2(req)
	if d.err != nil {
		return nil, toStatus(d.err)
	}
	cctx, done := v.callContext(ctx)
	defer done()
	r, err := v.signer.SignTypedData(cctx, in)
	if err != nil {
		return nil, toStatus(err)
	}
	if r == nil {
		return nil, noResponse()
	}
	return signTypedRespToV2(r), nil
}

// SignMessage implements pbv2.SignerServer.
func (v *v2Server) SignMessage(ctx context.Context, req *pbv2.SignMessageRequest) (*pbv2.SignMessageResponse, error) {
	d := reqDecoder()
	in := d.signMsgReqFromV2(req)
	if d.err != nil {
		return nil, toStatus(d.err)
	}
	cctx, done := v.callContext(ctx)
	defer done()
	r, err := v.signer.SignMessage(cctx, in)
	if err != nil {
		return nil, toStatus(err)
	}
	if r == nil {
		return nil, noResponse()
	}
	return signMsgRespToV2(r), nil
}

func unsupported(what string) error {
	return toStatus(NewError(CodeUnsupported, "this signer does not support "+what, ""))
}

// SignAuthorization implements pbv2.SignerServer.
func (v *v2Server) SignAuthorization(ctx context.Context, req *pbv2.SignAuthorizationRequest) (*pbv2.SignAuthorizationResponse, error) {
	a, ok := v.signer.(Authorizer)
	if !ok {
		return nil, unsupported("EIP-7702 authorizations")
	}
	d := reqDecoder()
	in := d.signAuthReqFromV2(req)
	if d.err != nil {
		return nil, toStatus(d.err)
	}
	cctx, done := v.callContext(ctx)
	defer done()
	r, err := a.SignAuthorization(cctx, in)
	if err != nil {
		return nil, toStatus(err)
	}
	if r == nil {
		return nil, noResponse()
	}
	return &pbv2.SignAuthorizationResponse{Signature: r.Signature}, nil
}

// Configure implements pbv2.SignerServer.
func (v *v2Server) Configure(ctx context.Context, req *pbv2.ConfigureRequest) (*pbv2.ConfigureResponse, error) {
	c, ok := v.signer.(Configurer)
	if !ok {
		return nil, unsupported("Configure")
	}
	cctx, done := v.callContext(ctx)
	defer done()
	if _, err := c.Configure(cctx, &ConfigureRequest{Settings: req.GetSettings()}); err != nil {
		return nil, toStatus(err)
	}
	return &pbv2.ConfigureResponse{}, nil
}

// Manage implements pbv2.SignerServer.
func (v *v2Server) Manage(ctx context.Context, req *pbv2.ManageRequest) (*pbv2.ManageResponse, error) {
	m, ok := v.signer.(Manager)
	if !ok {
		return nil, unsupported("Manage")
	}
	cctx, done := v.callContext(ctx)
	defer done()
	r, err := m.Manage(cctx, &ManageRequest{Op: req.GetOp(), Params: req.GetParams()})
	if err != nil {
		return nil, toStatus(err)
	}
	if r == nil {
		return nil, noResponse()
	}
	return &pbv2.ManageResponse{Result: r.Result}, nil
}

// PollJob implements pbv2.SignerServer.
func (v *v2Server) PollJob(ctx context.Context, req *pbv2.PollJobRequest) (*pbv2.PollJobResponse, error) {
	p, ok := v.signer.(JobPoller)
	if !ok {
		return nil, unsupported("asynchronous jobs")
	}
	cctx, done := v.callContext(ctx)
	defer done()
	r, err := p.PollJob(cctx, &PollJobRequest{ID: req.GetId()})
	if err != nil {
		return nil, toStatus(err)
	}
	if r == nil {
		return nil, noResponse()
	}
	return pollRespToV2(r), nil
}

// v1Server serves protocol 1 for one Signer: no prompter (PrompterFrom
// refuses every question), no display context, no jobs.
type v1Server struct {
	pbv1.UnimplementedSignerServer
	signer Signer
}

var _ pbv1.SignerServer = (*v1Server)(nil)

func jobOverV1() error {
	return toStatus(NewError(CodeUnsupported, "this signer answered with an asynchronous job, which protocol 1 cannot carry", "update mm to a version that speaks plugin protocol 2"))
}

// Info implements pbv1.SignerServer.
func (v *v1Server) Info(ctx context.Context, _ *pbv1.InfoRequest) (*pbv1.InfoResponse, error) {
	reclaimStdio()
	r, err := v.signer.Info(ctx, &InfoRequest{})
	if err != nil {
		return nil, toStatus(err)
	}
	if r == nil {
		return nil, noResponse()
	}
	return infoToV1(r), nil
}

// Accounts implements pbv1.SignerServer.
func (v *v1Server) Accounts(ctx context.Context, req *pbv1.AccountsRequest) (*pbv1.AccountsResponse, error) {
	reclaimStdio()
	r, err := v.signer.Accounts(ctx, &AccountsRequest{Paths: req.GetPaths(), Indices: req.GetIndices()})
	if err != nil {
		return nil, toStatus(err)
	}
	if r == nil {
		return nil, noResponse()
	}
	return accountsRespToV1(r), nil
}

// SignTransaction implements pbv1.SignerServer.
func (v *v1Server) SignTransaction(ctx context.Context, req *pbv1.SignTransactionRequest) (*pbv1.SignTransactionResponse, error) {
	reclaimStdio()
	d := reqDecoder()
	in := &SignTransactionRequest{
		Account:     d.accountFromV1(req.GetAccount()),
		ChainID:     d.chainID(req.GetChainId()),
		Transaction: req.GetTransaction(),
	}
	if d.err != nil {
		return nil, toStatus(d.err)
	}
	r, err := v.signer.SignTransaction(ctx, in)
	if err != nil {
		return nil, toStatus(err)
	}
	if r == nil {
		return nil, noResponse()
	}
	if r.Job != nil {
		return nil, jobOverV1()
	}
	return &pbv1.SignTransactionResponse{SignedTransaction: r.SignedTransaction, Signature: r.Signature}, nil
}

// SignTypedData implements pbv1.SignerServer.
func (v *v1Server) SignTypedData(ctx context.Context, req *pbv1.SignTypedDataRequest) (*pbv1.SignTypedDataResponse, error) {
	reclaimStdio()
	d := reqDecoder()
	in := d.signTypedReqFromV1(req)
	if d.err != nil {
		return nil, toStatus(d.err)
	}
	r, err := v.signer.SignTypedData(ctx, in)
	if err != nil {
		return nil, toStatus(err)
	}
	if r == nil {
		return nil, noResponse()
	}
	if r.Job != nil {
		return nil, jobOverV1()
	}
	return &pbv1.SignTypedDataResponse{Signature: r.Signature}, nil
}

// SignMessage implements pbv1.SignerServer.
func (v *v1Server) SignMessage(ctx context.Context, req *pbv1.SignMessageRequest) (*pbv1.SignMessageResponse, error) {
	reclaimStdio()
	d := reqDecoder()
	in := &SignMessageRequest{Account: d.accountFromV1(req.GetAccount()), Message: req.GetMessage()}
	if d.err != nil {
		return nil, toStatus(d.err)
	}
	r, err := v.signer.SignMessage(ctx, in)
	if err != nil {
		return nil, toStatus(err)
	}
	if r == nil {
		return nil, noResponse()
	}
	if r.Job != nil {
		return nil, jobOverV1()
	}
	return &pbv1.SignMessageResponse{Signature: r.Signature}, nil
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
