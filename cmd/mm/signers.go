package main

import (
	"context"
	"sort"
	"strings"
	"sync"

	"github.com/mm-wallet/mm/cmd/mm/internal/prompt"
	"github.com/mm-wallet/mm/sdk"
)

// signerConn is a signer as the commands use it: a plugin client, launched
// or reattached, configured with the session's settings.
type signerConn interface {
	sdk.Signer
	sdk.Configurer
	sdk.Manager
}

// signerPool opens signers and keeps them for the life of the app: one
// command may use a signer twice (init derives after importing), and in the
// REPL a signer stays warm between commands.
type signerPool struct {
	a  *app
	mu sync.Mutex
	// open signers by key (signer name + settings)
	conns map[string]*pooled
}

type pooled struct {
	conn   signerConn
	close  func() error
	reused bool // reattached to an unlocked (detached) signer
}

func newSignerPool(a *app) *signerPool { return &signerPool{a: a, conns: map[string]*pooled{}} }

func poolKey(s *session) string {
	keys := make([]string, 0, len(s.Settings))
	for k := range s.Settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(s.Signer)
	for _, k := range keys {
		b.WriteString("\x00" + k + "=" + s.Settings[k])
	}
	return b.String()
}

// open returns the configured signer for the session: a warm one from the
// pool, the unlocked detached signer (mm wallet unlock), or a fresh launch.
func (p *signerPool) open(ctx context.Context, s *session) (signerConn, error) {
	key := poolKey(s)
	p.mu.Lock()
	if c, ok := p.conns[key]; ok {
		p.mu.Unlock()
		return c.conn, nil
	}
	p.mu.Unlock()
	c, err := p.a.connect(ctx, s)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if old, ok := p.conns[key]; ok { // lost a race with another goroutine
		_ = c.close()
		return old.conn, nil
	}
	p.conns[key] = c
	return c.conn, nil
}

// openFresh closes a pooled signer for the session and launches a new one
// (never a reattached one), for operations that change the key file.
func (p *signerPool) openFresh(ctx context.Context, s *session) (signerConn, error) {
	p.drop(s)
	c, err := p.a.launch(ctx, s)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.conns[poolKey(s)] = c
	p.mu.Unlock()
	return c.conn, nil
}

// keep puts an open signer in the pool for the session.
func (p *signerPool) keep(s *session, c *pooled) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns[poolKey(s)] = c
}

// drop closes the pooled signer for the session, if any.
func (p *signerPool) drop(s *session) {
	p.mu.Lock()
	c, ok := p.conns[poolKey(s)]
	delete(p.conns, poolKey(s))
	p.mu.Unlock()
	if ok {
		_ = c.close()
	}
}

func (p *signerPool) closeAll() {
	p.mu.Lock()
	conns := p.conns
	p.conns = map[string]*pooled{}
	p.mu.Unlock()
	for _, c := range conns {
		_ = c.close()
	}
}

// connect reattaches to the unlocked signer when one serves this session,
// else launches the signer.
func (a *app) connect(ctx context.Context, s *session) (*pooled, error) {
	if c, err := a.reattach(ctx, s); err == nil && c != nil {
		return c, nil
	} else if err != nil {
		a.logf("unlocked signer not usable (%v); launching a new one", err)
	}
	return a.launch(ctx, s)
}

// launch starts the session's signer plugin and configures it.
func (a *app) launch(ctx context.Context, s *session) (*pooled, error) {
	h, err := a.host()
	if err != nil {
		return nil, err
	}
	c, err := h.Open(ctx, s.Signer)
	if err != nil {
		return nil, err
	}
	a.logf("launched signer %s (pid %d, protocol %d)", s.Signer, c.Pid(), c.ProtocolVersion())
	if err := configure(ctx, c, a.signerSettings(s)); err != nil {
		_ = c.Close()
		return nil, err
	}
	return &pooled{conn: c, close: c.Close}, nil
}

// signerSettings are the Configure settings for the session's signer: the
// stored ones, plus the scrypt work factor from MM_SCRYPT_WORK_FACTOR for
// byok (tests and slow machines lower it; the default is age's).
func (a *app) signerSettings(s *session) map[string]string {
	out := map[string]string{}
	for k, v := range s.Settings {
		out[k] = v
	}
	if s.Signer == "byok" {
		// The key file is always the one in this state folder, also when
		// MM_HOME moved since init.
		if a.store != nil {
			out["keyFile"] = a.store.Path(keyFileName)
		}
		if v := a.getenv("MM_SCRYPT_WORK_FACTOR"); v != "" {
			out["scryptWorkFactor"] = v
		}
	}
	return out
}

func configure(ctx context.Context, c sdk.Configurer, settings map[string]string) error {
	if len(settings) == 0 {
		return nil
	}
	_, err := c.Configure(ctx, &sdk.ConfigureRequest{Settings: settings})
	if sdk.CodeOf(err) == sdk.CodeUnsupported {
		return nil // a signer without settings
	}
	return err
}

// prompter is the host's sdk.Prompter for this app. Commands may change its
// Env (which variable answers which secret) before calling a signer.
// Each command line starts with prompt.DefaultEnv (see newRoot).
func (a *app) prompter() *prompt.Terminal {
	if a.prompt == nil {
		a.prompt = &prompt.Terminal{In: a.inFile, Out: a.stderr, LookupEnv: a.lookupEnv, Env: prompt.DefaultEnv()}
	}
	a.prompt.ReadSecret, a.prompt.ReadLine = a.replReadSecret, a.replReadLine
	return a.prompt
}
