// Package devnet runs mm's embedded Ethereum development chain: go-ethereum's
// own node and eth service in dev mode (a simulated beacon that seals a
// block as soon as transactions arrive, or every BlockPeriod), JSON-RPC over
// HTTP and WebSocket on loopback (eth, net, web3, debug, txpool;
// eth_simulateV1 included), chain id 1337.
//
// Start prefunds the requested accounts with ether and fixture USDC and
// deploys the fixture contracts (an ERC-20 "USDC" with 6 decimals, an
// ERC-721, a contract that always reverts with a custom error, and a spender
// that pulls approved tokens) at fixed addresses (FixtureAddresses).
//
// Importing this package links go-ethereum's full node; keep it off the CLI's
// start-up path (see the package README in the report: run it from a
// separate binary or a re-exec).
package devnet

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth"
	"github.com/ethereum/go-ethereum/eth/catalyst"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/eth/filters"
	"github.com/ethereum/go-ethereum/eth/tracers"
	_ "github.com/ethereum/go-ethereum/eth/tracers/native" // callTracer, prestateTracer for debug_trace*
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rpc"
)

// ChainID is the dev chain's id.
const ChainID = 1337

// Defaults of Options.
var (
	// DefaultFundWei is what each funded account receives: 10 000 ETH.
	DefaultFundWei = new(big.Int).Mul(big.NewInt(10_000), big.NewInt(params.Ether))
	// DefaultFundUSDC is the fixture USDC each funded account receives:
	// 1 000 000 USDC (6 decimals).
	DefaultFundUSDC = big.NewInt(1_000_000_000_000)
)

// Options configure a dev chain.
type Options struct {
	// Host is the loopback address to listen on (default 127.0.0.1).
	Host string
	// Port serves HTTP and WebSocket JSON-RPC; 0 picks a free port.
	Port int
	// DataDir keeps the chain between runs; empty keeps it in memory.
	DataDir string
	// BlockPeriod seals a block at this interval (whole seconds); zero
	// seals whenever transactions arrive.
	BlockPeriod time.Duration
	// Fund lists accounts to fund with FundWei ether and FundUSDC fixture
	// USDC (topped up on restart with a datadir).
	Fund     []common.Address
	FundWei  *big.Int
	FundUSDC *big.Int
	// GasLimit is the block gas limit (default 60 000 000).
	GasLimit uint64
}

// Node is a running dev chain.
type Node struct {
	stack     *node.Node
	backend   *eth.Ethereum
	contracts Contracts
	httpURL   string
	wsURL     string
	client    *ethclient.Client
	sealer    *sealer

	fundMu    sync.Mutex
	fundWei   *big.Int
	fundUSDC  *big.Int
	closeOnce sync.Once
	closeErr  error
}

// Start launches a dev chain and returns when it serves RPC, its fixtures
// are deployed and the Fund accounts are funded.
func Start(ctx context.Context, o Options) (*Node, error) {
	loadOnce.Do(load)
	if loadErr != nil {
		return nil, loadErr
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if ip := net.ParseIP(o.Host); o.Host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("devnet: host %q is not a loopback address; the dev chain only listens locally", o.Host)
	}
	if o.Port == 0 {
		p, err := freePort(o.Host)
		if err != nil {
			return nil, err
		}
		o.Port = p
	}
	if o.GasLimit == 0 {
		o.GasLimit = 60_000_000
	}
	if o.FundWei == nil {
		o.FundWei = DefaultFundWei
	}
	if o.FundUSDC == nil {
		o.FundUSDC = DefaultFundUSDC
	}
	modules := []string{"eth", "net", "web3", "debug", "txpool"}
	nodeConf := node.Config{
		Name:             "mm-devnet",
		DataDir:          o.DataDir,
		HTTPHost:         o.Host,
		HTTPPort:         o.Port,
		HTTPModules:      modules,
		HTTPVirtualHosts: []string{"localhost"},
		HTTPCors:         []string{"*"},
		WSHost:           o.Host,
		WSPort:           o.Port,
		WSModules:        modules,
		WSOrigins:        []string{"*"},
		HTTPTimeouts:     rpc.DefaultHTTPTimeouts,
		P2P:              p2p.Config{NoDiscovery: true, MaxPeers: 0, ListenAddr: ""},
	}
	stack, err := node.New(&nodeConf)
	if err != nil {
		return nil, fmt.Errorf("devnet: create node: %w", err)
	}
	faucet := FaucetAddress()
	alloc := core.SystemContractAllocs()
	maps.Copy(alloc, types.GenesisAlloc{
		faucet: {Balance: new(big.Int).Lsh(big.NewInt(1), 200)},
	})
	for i := byte(1); i <= 0x11; i++ {
		if _, ok := alloc[common.BytesToAddress([]byte{i})]; !ok {
			alloc[common.BytesToAddress([]byte{i})] = types.Account{Balance: big.NewInt(1)}
		}
	}
	cfg := *params.AllDevChainProtocolChanges
	ethConf := ethconfig.Defaults
	ethConf.NetworkId = ChainID
	ethConf.Genesis = &core.Genesis{
		Config:     &cfg,
		GasLimit:   o.GasLimit,
		BaseFee:    big.NewInt(params.InitialBaseFee),
		Difficulty: big.NewInt(0),
		Alloc:      alloc,
	}
	ethConf.SyncMode = ethconfig.FullSync
	ethConf.Miner.GasCeil = o.GasLimit
	ethConf.Miner.GasPrice = big.NewInt(1)
	ethConf.Miner.PendingFeeRecipient = faucet
	ethConf.TxPool.NoLocals = true
	// No log index: eth_getLogs still works (unindexed), and sealing a block
	// per transaction stays cheap.
	ethConf.LogNoHistory = true
	ethConf.TxPool.AccountSlots = 1024
	ethConf.TxPool.GlobalSlots = 16384
	ethConf.TxPool.AccountQueue = 1024
	ethConf.TxPool.GlobalQueue = 8192
	backend, err := eth.New(stack, &ethConf)
	if err != nil {
		stack.Close()
		return nil, fmt.Errorf("devnet: create eth service: %w", err)
	}
	fs := filters.NewFilterSystem(backend.APIBackend, filters.Config{})
	stack.RegisterAPIs([]rpc.API{{Namespace: "eth", Service: filters.NewFilterAPI(fs)}})
	stack.RegisterAPIs(tracers.APIs(backend.APIBackend))
	period := uint64(o.BlockPeriod / time.Second)
	if o.BlockPeriod > 0 && period == 0 {
		period = 1
	}
	beacon, err := catalyst.NewSimulatedBeacon(period, faucet, backend)
	if err != nil {
		stack.Close()
		return nil, fmt.Errorf("devnet: create simulated beacon: %w", err)
	}
	if err := stack.Start(); err != nil {
		stack.Close()
		return nil, fmt.Errorf("devnet: start node on %s:%d: %w", o.Host, o.Port, err)
	}
	hostPort := net.JoinHostPort(o.Host, strconv.Itoa(o.Port))
	n := &Node{
		stack:    stack,
		backend:  backend,
		httpURL:  "http://" + hostPort,
		wsURL:    "ws://" + hostPort,
		client:   ethclient.NewClient(stack.Attach()),
		fundWei:  o.FundWei,
		fundUSDC: o.FundUSDC,
	}
	n.sealer = startSealer(backend, beacon, time.Duration(period)*time.Second)
	if err := n.deploy(ctx); err != nil {
		n.Close()
		return nil, err
	}
	if err := n.Fund(ctx, o.Fund...); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// RPCURL is the HTTP JSON-RPC endpoint.
func (n *Node) RPCURL() string { return n.httpURL }

// WSURL is the WebSocket JSON-RPC endpoint.
func (n *Node) WSURL() string { return n.wsURL }

// ChainID returns 1337.
func (n *Node) ChainID() *big.Int { return big.NewInt(ChainID) }

// Contracts returns the fixture addresses.
func (n *Node) Contracts() Contracts { return n.contracts }

// Attach returns an in-process RPC client (no HTTP).
func (n *Node) Attach() *rpc.Client { return n.stack.Attach() }

// Close stops the chain (flushing it to DataDir when one is set). It is
// safe to call more than once.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		if n.client != nil {
			n.client.Close()
		}
		// Stop sealing before the chain shuts down: a block sealed while
		// the blockchain closes would crash the process.
		if n.sealer != nil {
			n.sealer.stop()
		}
		n.closeErr = n.stack.Close()
	})
	return n.closeErr
}

// Fund sends each account the configured ether and fixture USDC, topping up
// only accounts below half of it, and waits until the chain has them.
func (n *Node) Fund(ctx context.Context, accounts ...common.Address) error {
	if len(accounts) == 0 {
		return nil
	}
	n.fundMu.Lock()
	defer n.fundMu.Unlock()
	usdc, _ := ABI("FixtureUSDC")
	var txs []*types.Transaction
	half := func(x *big.Int) *big.Int { return new(big.Int).Rsh(x, 1) }
	for _, a := range accounts {
		bal, err := n.client.BalanceAt(ctx, a, nil)
		if err != nil {
			return fmt.Errorf("devnet: fund: balance of %s: %w", a.Hex(), err)
		}
		if bal.Cmp(half(n.fundWei)) < 0 {
			txs = append(txs, n.faucetTx(a, n.fundWei, nil, 21_000))
		}
		data, _ := usdc.Pack("balanceOf", a)
		out, err := n.client.CallContract(ctx, callMsg(n.contracts.USDC, data), nil)
		if err != nil || len(out) < 32 {
			return fmt.Errorf("devnet: fund: USDC balance of %s: %v", a.Hex(), err)
		}
		if new(big.Int).SetBytes(out[:32]).Cmp(half(n.fundUSDC)) < 0 {
			mint, _ := usdc.Pack("mint", a, n.fundUSDC)
			txs = append(txs, n.faucetTx(n.contracts.USDC, new(big.Int), mint, 0))
		}
	}
	return n.sendAndWait(ctx, txs)
}

// faucetTx builds (unsigned, nonce filled at send) a faucet transaction.
func (n *Node) faucetTx(to common.Address, value *big.Int, data []byte, gas uint64) *types.Transaction {
	return types.NewTx(&types.DynamicFeeTx{ChainID: big.NewInt(ChainID), To: &to, Value: value, Data: data, Gas: gas})
}

func (n *Node) deploy(ctx context.Context) error {
	want := FixtureAddresses()
	faucet := FaucetAddress()
	nonce, err := n.client.NonceAt(ctx, faucet, nil)
	if err != nil {
		return fmt.Errorf("devnet: faucet nonce: %w", err)
	}
	if nonce == 0 {
		var txs []*types.Transaction
		for _, name := range fixtureNames {
			txs = append(txs, types.NewTx(&types.DynamicFeeTx{ChainID: big.NewInt(ChainID), Data: bins[name], Value: new(big.Int)}))
		}
		if err := n.sendAndWait(ctx, txs); err != nil {
			return fmt.Errorf("devnet: deploy fixtures: %w", err)
		}
	}
	for i, a := range []common.Address{want.USDC, want.NFT, want.Reverter, want.Spender} {
		code, err := n.client.CodeAt(ctx, a, nil)
		if err != nil {
			return fmt.Errorf("devnet: check fixture %s: %w", fixtureNames[i], err)
		}
		if len(code) == 0 {
			return fmt.Errorf("devnet: fixture %s missing at %s (a datadir from another chain?)", fixtureNames[i], a.Hex())
		}
	}
	n.contracts = want
	return nil
}

// sendAndWait signs txs with the faucet key at consecutive nonces, sends
// them and waits for every receipt.
func (n *Node) sendAndWait(ctx context.Context, txs []*types.Transaction) error {
	if len(txs) == 0 {
		return nil
	}
	key := faucetKey()
	faucet := FaucetAddress()
	nonce, err := n.client.PendingNonceAt(ctx, faucet)
	if err != nil {
		return err
	}
	head, err := n.client.HeaderByNumber(ctx, nil)
	if err != nil {
		return err
	}
	feeCap := new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), big.NewInt(params.GWei))
	signer := types.LatestSignerForChainID(big.NewInt(ChainID))
	var hashes []common.Hash
	for _, t := range txs {
		gas := t.Gas()
		if gas == 0 {
			// Gas schedules change with forks; ask the node, with a margin.
			// Estimates run against the latest state, which is why fixtures
			// are deployed before accounts are funded with fixture tokens.
			g, err := n.client.EstimateGas(ctx, ethereum.CallMsg{From: faucet, To: t.To(), Value: t.Value(), Data: t.Data()})
			if err != nil {
				return fmt.Errorf("estimate gas: %w", err)
			}
			gas = g + g/4
		}
		inner := &types.DynamicFeeTx{ChainID: big.NewInt(ChainID), Nonce: nonce, GasTipCap: big.NewInt(params.GWei), GasFeeCap: feeCap, Gas: gas, To: t.To(), Value: t.Value(), Data: t.Data()}
		nonce++
		signed, err := types.SignNewTx(key, signer, inner)
		if err != nil {
			return err
		}
		if err := n.client.SendTransaction(ctx, signed); err != nil {
			return fmt.Errorf("send: %w", err)
		}
		hashes = append(hashes, signed.Hash())
	}
	last := new(big.Int)
	for _, h := range hashes {
		r, err := waitReceipt(ctx, n.client, h)
		if err != nil {
			return err
		}
		if r.Status != types.ReceiptStatusSuccessful {
			return fmt.Errorf("faucet transaction %s failed (gas used %d of block %v, contract %s)", h.Hex(), r.GasUsed, r.BlockNumber, r.ContractAddress.Hex())
		}
		if r.BlockNumber != nil && r.BlockNumber.Cmp(last) > 0 {
			last = r.BlockNumber
		}
	}
	// A receipt can be served a moment before its block becomes the head;
	// wait for the head, so that reads of the latest state that follow see
	// what these transactions did.
	return waitHead(ctx, n.client, last)
}

// waitHead waits until the chain's head is at least block number.
func waitHead(ctx context.Context, c *ethclient.Client, number *big.Int) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		head, err := c.BlockNumber(ctx)
		if err == nil && new(big.Int).SetUint64(head).Cmp(number) >= 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for block %v to become the head: %w", number, errors.Join(ctx.Err(), err))
		case <-time.After(2 * time.Millisecond):
		}
	}
}

func waitReceipt(ctx context.Context, c *ethclient.Client, h common.Hash) (*types.Receipt, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		r, err := c.TransactionReceipt(ctx, h)
		if err == nil {
			return r, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for %s: %w", h.Hex(), errors.Join(ctx.Err(), err))
		case <-time.After(2 * time.Millisecond):
		}
	}
}

func faucetKey() *ecdsa.PrivateKey {
	// A public, fixed key: the dev chain's faucet holds value only there.
	k, err := crypto.ToECDSA(crypto.Keccak256([]byte("mm devnet faucet")))
	if err != nil {
		panic(err) // a constant input: cannot fail
	}
	return k
}

func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("devnet: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func callMsg(to common.Address, data []byte) ethereum.CallMsg {
	return ethereum.CallMsg{To: &to, Data: data}
}

// sealer seals a block whenever transactions arrive, or every period when
// one is set. go-ethereum's own loops (catalyst.RegisterSimulatedBeaconAPIs,
// SimulatedBeacon.Start) are not waited for on shutdown and may seal into a
// closed chain, crashing the process; this one stops and waits for the
// block in progress before the node closes.
type sealer struct {
	quit chan struct{}
	done chan struct{}
}

// maxCatchUp bounds the extra empty blocks sealed for executable
// transactions the miner leaves out (a fee cap below the base fee): each
// lowers the base fee by 1/8, after which such a transaction waits for the
// next arrival — a "stuck" transaction, as on a real chain.
const maxCatchUp = 8

func startSealer(backend *eth.Ethereum, beacon *catalyst.SimulatedBeacon, period time.Duration) *sealer {
	s := &sealer{quit: make(chan struct{}), done: make(chan struct{})}
	txs := make(chan core.NewTxsEvent, 256)
	if period > 0 {
		go func() {
			defer close(s.done)
			t := time.NewTicker(period)
			defer t.Stop()
			for {
				select {
				case <-s.quit:
					return
				case <-t.C:
					beacon.Commit()
				}
			}
		}()
		return s
	}
	sub := backend.TxPool().SubscribeTransactions(txs, true)
	go func() {
		defer close(s.done)
		defer sub.Unsubscribe()
		for {
			select {
			case <-s.quit:
				return
			case <-sub.Err():
				return
			case <-txs:
			}
			// Take every notification already queued: one block serves them.
			for drained := false; !drained; {
				select {
				case <-txs:
				default:
					drained = true
				}
			}
			beacon.Commit()
			_ = backend.TxPool().Sync()
			for i := 0; i < maxCatchUp; i++ {
				if executable, _ := backend.TxPool().Stats(); executable == 0 {
					break
				}
				select {
				case <-s.quit:
					return
				default:
				}
				beacon.Commit()
				_ = backend.TxPool().Sync()
			}
		}
	}()
	return s
}

func (s *sealer) stop() {
	close(s.quit)
	<-s.done
}
