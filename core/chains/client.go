package chains

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/mm-wallet/mm/core"
	"github.com/mm-wallet/mm/sdk"
)

// Defaults of a Client.
const (
	DefaultTimeout = 10 * time.Second
	DefaultRetries = 2
)

// Client is a JSON-RPC client for one endpoint. Every read gets a per-call
// timeout and up to Retries further attempts when the transport fails (a
// JSON-RPC error answer is final and never retried). Once retries are spent
// the error is RPC_UNAVAILABLE with the endpoint in the hint. Sending a raw
// transaction is never retried here: core/submit decides that.
type Client struct {
	url      string
	redacted string
	rpc      *rpc.Client
	eth      *ethclient.Client
	// Timeout bounds each attempt.
	Timeout time.Duration
	// Retries is the number of extra attempts after a transport failure.
	Retries int
	// Backoff is the pause before the first retry; it doubles each time.
	Backoff time.Duration
}

// Dial returns a Client for rawURL (http, https, ws or wss). HTTP endpoints
// are contacted lazily; a WebSocket endpoint that does not answer yields
// RPC_UNAVAILABLE.
func Dial(ctx context.Context, rawURL string) (*Client, error) {
	if err := checkURL(rawURL); err != nil {
		return nil, err
	}
	red := Redact(rawURL)
	cctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	rc, err := rpc.DialContext(cctx, rawURL)
	if err != nil {
		return nil, unavailable(red, err)
	}
	return NewClient(rc, rawURL), nil
}

// NewClient wraps an existing rpc.Client (for example an in-process one);
// rawURL is used in messages only.
func NewClient(rc *rpc.Client, rawURL string) *Client {
	return &Client{url: rawURL, redacted: Redact(rawURL), rpc: rc, eth: ethclient.NewClient(rc), Timeout: DefaultTimeout, Retries: DefaultRetries, Backoff: 100 * time.Millisecond}
}

// URL returns the endpoint with credentials and API keys masked.
func (c *Client) URL() string { return c.redacted }

// RPC returns the underlying rpc.Client for calls this type lacks.
func (c *Client) RPC() *rpc.Client { return c.rpc }

// Close releases the connection.
func (c *Client) Close() { c.rpc.Close() }

// Call performs one JSON-RPC call with timeout and retries.
func (c *Client) Call(ctx context.Context, result any, method string, args ...any) error {
	return c.do(ctx, method, func(ctx context.Context) error {
		return c.rpc.CallContext(ctx, result, method, args...)
	})
}

// BatchCall sends several calls in one request, with timeout and retries on
// transport failure. Per-element errors are left in each element.
func (c *Client) BatchCall(ctx context.Context, b []rpc.BatchElem) error {
	return c.do(ctx, "batch", func(ctx context.Context) error {
		for i := range b {
			b[i].Error = nil
		}
		return c.rpc.BatchCallContext(ctx, b)
	})
}

// ChainID returns the chain id the endpoint serves.
func (c *Client) ChainID(ctx context.Context) (*big.Int, error) {
	var id *big.Int
	err := c.do(ctx, "eth_chainId", func(ctx context.Context) (err error) {
		id, err = c.eth.ChainID(ctx)
		return err
	})
	return id, err
}

// CheckChainID fails with CHAIN_ID_MISMATCH when the endpoint serves a
// chain other than want.
func (c *Client) CheckChainID(ctx context.Context, want *big.Int) error {
	got, err := c.ChainID(ctx)
	if err != nil {
		return err
	}
	if got.Cmp(want) != 0 {
		return core.Errorf(core.CodeChainIDMismatch, fmt.Sprintf("the endpoint %s serves chain %s; pass --chain-id %s or point rpc.%s at the right node", c.redacted, got, got, want), "chains: endpoint serves chain %s, not %s", got, want)
	}
	return nil
}

// PendingNonceAt returns the account's next nonce counting the node's
// pending pool.
func (c *Client) PendingNonceAt(ctx context.Context, a common.Address) (uint64, error) {
	var n uint64
	err := c.do(ctx, "eth_getTransactionCount", func(ctx context.Context) (err error) {
		n, err = c.eth.PendingNonceAt(ctx, a)
		return err
	})
	return n, err
}

// NonceAt returns the account's nonce in the latest block.
func (c *Client) NonceAt(ctx context.Context, a common.Address) (uint64, error) {
	var n uint64
	err := c.do(ctx, "eth_getTransactionCount", func(ctx context.Context) (err error) {
		n, err = c.eth.NonceAt(ctx, a, nil)
		return err
	})
	return n, err
}

// BalanceAt returns the native balance in the latest block.
func (c *Client) BalanceAt(ctx context.Context, a common.Address) (*big.Int, error) {
	var b *big.Int
	err := c.do(ctx, "eth_getBalance", func(ctx context.Context) (err error) {
		b, err = c.eth.BalanceAt(ctx, a, nil)
		return err
	})
	return b, err
}

// TokenBalance returns an ERC-20 balanceOf in the latest block.
func (c *Client) TokenBalance(ctx context.Context, token, owner common.Address) (*big.Int, error) {
	data := append(common.FromHex("0x70a08231"), common.LeftPadBytes(owner.Bytes(), 32)...)
	out, err := c.CallContract(ctx, ethereum.CallMsg{To: &token, Data: data})
	if err != nil {
		return nil, err
	}
	if len(out) < 32 {
		return nil, core.Errorf(core.CodeRPCError, "is the token address right for this chain?", "chains: balanceOf on %s returned %d bytes", token.Hex(), len(out))
	}
	return new(big.Int).SetBytes(out[:32]), nil
}

// CallContract runs eth_call against the latest block.
func (c *Client) CallContract(ctx context.Context, msg ethereum.CallMsg) ([]byte, error) {
	var out []byte
	err := c.do(ctx, "eth_call", func(ctx context.Context) (err error) {
		out, err = c.eth.CallContract(ctx, msg, nil)
		return err
	})
	return out, err
}

// CodeAt returns the code at a in the latest block.
func (c *Client) CodeAt(ctx context.Context, a common.Address) ([]byte, error) {
	var out []byte
	err := c.do(ctx, "eth_getCode", func(ctx context.Context) (err error) {
		out, err = c.eth.CodeAt(ctx, a, nil)
		return err
	})
	return out, err
}

// EstimateGas runs eth_estimateGas. A revert comes back as the node's
// JSON-RPC error (with its data), not as RPC_UNAVAILABLE.
func (c *Client) EstimateGas(ctx context.Context, msg ethereum.CallMsg) (uint64, error) {
	var g uint64
	err := c.do(ctx, "eth_estimateGas", func(ctx context.Context) (err error) {
		g, err = c.eth.EstimateGas(ctx, msg)
		return err
	})
	return g, err
}

// HeaderLatest returns the latest block header.
func (c *Client) HeaderLatest(ctx context.Context) (*types.Header, error) {
	var h *types.Header
	err := c.do(ctx, "eth_getBlockByNumber", func(ctx context.Context) (err error) {
		h, err = c.eth.HeaderByNumber(ctx, nil)
		return err
	})
	return h, err
}

// BlockNumber returns the number of the chain's head block.
func (c *Client) BlockNumber(ctx context.Context) (uint64, error) {
	var n uint64
	err := c.do(ctx, "eth_blockNumber", func(ctx context.Context) (err error) {
		n, err = c.eth.BlockNumber(ctx)
		return err
	})
	return n, err
}

// FeeHistory runs eth_feeHistory over the last blocks with the given reward
// percentiles.
func (c *Client) FeeHistory(ctx context.Context, blocks uint64, percentiles []float64) (*ethereum.FeeHistory, error) {
	var fh *ethereum.FeeHistory
	err := c.do(ctx, "eth_feeHistory", func(ctx context.Context) (err error) {
		fh, err = c.eth.FeeHistory(ctx, blocks, nil, percentiles)
		return err
	})
	return fh, err
}

// SuggestGasPrice runs eth_gasPrice.
func (c *Client) SuggestGasPrice(ctx context.Context) (*big.Int, error) {
	var p *big.Int
	err := c.do(ctx, "eth_gasPrice", func(ctx context.Context) (err error) {
		p, err = c.eth.SuggestGasPrice(ctx)
		return err
	})
	return p, err
}

// TransactionReceipt returns the receipt, or (nil, nil) while the
// transaction is not mined.
func (c *Client) TransactionReceipt(ctx context.Context, h common.Hash) (*types.Receipt, error) {
	var r *types.Receipt
	err := c.do(ctx, "eth_getTransactionReceipt", func(ctx context.Context) (err error) {
		r, err = c.eth.TransactionReceipt(ctx, h)
		return err
	})
	if errors.Is(err, ethereum.NotFound) {
		return nil, nil
	}
	return r, err
}

// TransactionByHash returns a transaction the node knows, or (nil, false,
// nil) when it knows none.
func (c *Client) TransactionByHash(ctx context.Context, h common.Hash) (tx *types.Transaction, pending bool, err error) {
	err = c.do(ctx, "eth_getTransactionByHash", func(ctx context.Context) (err error) {
		tx, pending, err = c.eth.TransactionByHash(ctx, h)
		return err
	})
	if errors.Is(err, ethereum.NotFound) {
		return nil, false, nil
	}
	return tx, pending, err
}

// SendRawTransaction submits raw once, with the per-call timeout and no
// retry, and returns the error as the transport or node gave it.
func (c *Client) SendRawTransaction(ctx context.Context, raw []byte) (common.Hash, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	var h common.Hash
	err := c.rpc.CallContext(ctx, &h, "eth_sendRawTransaction", hexutil.Encode(raw))
	return h, err
}

func (c *Client) timeout() time.Duration {
	if c.Timeout <= 0 {
		return DefaultTimeout
	}
	return c.Timeout
}

func (c *Client) do(ctx context.Context, method string, fn func(context.Context) error) error {
	backoff := c.Backoff
	var last error
	for attempt := 0; attempt <= c.Retries; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return sdk.Errorf(sdk.CodeCanceled, "chains: %s: %w", method, ctx.Err())
			case <-time.After(backoff):
			}
			backoff *= 2
		}
		actx, cancel := context.WithTimeout(ctx, c.timeout())
		err := fn(actx)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return sdk.Errorf(sdk.CodeCanceled, "chains: %s: %w", method, ctx.Err())
		}
		if !IsTransportError(err) {
			return fmt.Errorf("chains: %s: %w", method, err)
		}
		last = err
	}
	return unavailable(c.redacted, fmt.Errorf("%s: %w", method, last))
}

func unavailable(redacted string, err error) *sdk.Error {
	return &sdk.Error{
		Code:    core.CodeRPCUnavailable,
		Message: fmt.Sprintf("chains: RPC endpoint %s unreachable: %v", redacted, err),
		Hint:    fmt.Sprintf("check that the node at %s is running and reachable, or set another endpoint (mm config set rpc.<chainId> <url>, or MM_RPC_<chainId>)", redacted),
		Err:     err,
	}
}

// IsTransportError reports whether err is a failure to reach the endpoint
// or to get an answer from it (network error, timeout, HTTP 429/5xx), as
// opposed to a JSON-RPC error answer or a refused HTTP request.
func IsTransportError(err error) bool {
	if err == nil {
		return false
	}
	var re rpc.Error
	if errors.As(err, &re) {
		return false
	}
	var he rpc.HTTPError
	if errors.As(err, &he) {
		return he.StatusCode == 429 || he.StatusCode >= 500
	}
	if errors.Is(err, ethereum.NotFound) {
		return false
	}
	return true
}

// NotDelivered reports whether a transport error proves the request never
// reached the endpoint (connection refused, unknown host), so resending
// something else cannot clash with it.
func NotDelivered(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var he rpc.HTTPError
	if errors.As(err, &he) {
		return he.StatusCode == 429
	}
	return false
}

var tokenLike = regexp.MustCompile(`^[A-Za-z0-9_\-]{16,}$`)

// Redact masks what may be a credential in an endpoint URL: user
// information, the query, and path segments that look like API keys.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "<invalid url>"
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = "redacted"
	}
	segs := strings.Split(u.Path, "/")
	for i, s := range segs {
		if tokenLike.MatchString(s) {
			segs[i] = "***"
		}
	}
	u.Path = strings.Join(segs, "/")
	u.RawPath = ""
	u.Fragment = ""
	return strings.Replace(u.String(), "%2A%2A%2A", "***", -1)
}
