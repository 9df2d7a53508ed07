// Command mm-devnet runs mm's embedded Ethereum development chain (package
// core/devnet: go-ethereum's own node in dev mode, chain id 1337, JSON-RPC
// over HTTP and WebSocket on loopback, fixture contracts deployed, accounts
// funded). `mm devnet` runs it: the node lives in its own binary because
// linking go-ethereum's node into mm would slow every mm call down.
//
//	mm-devnet [--port 8545] [--datadir DIR] [--fund ADDR]… [--block-time D] [--json]
//
// Once the chain serves, mm-devnet prints one document on stdout — with
// --json a single line of JSON (the ready document below, or
// {"error":{"code","message","hint"}} when it cannot start) — and runs until
// SIGINT or SIGTERM, then shuts the node down cleanly and exits 0. Logs go
// to stderr.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/mm-wallet/mm/core/chains"
	"github.com/mm-wallet/mm/core/devnet"
	"github.com/mm-wallet/mm/core/devnet/ready"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// errorDoc is the failure document of --json mode (mm's error shape).
type errorDoc struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Hint    string `json:"hint,omitempty"`
	} `json:"error"`
}

// Exit statuses: 0 clean shutdown, 1 the chain could not start or failed,
// 2 bad flags.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// run parses args, starts the chain, prints the ready document and serves
// until ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mm-devnet", flag.ContinueOnError)
	fs.SetOutput(stderr)
	port := fs.Int("port", 8545, "HTTP and WebSocket JSON-RPC port on 127.0.0.1 (0 picks a free one)")
	dataDir := fs.String("datadir", "", "keep the chain in this folder between runs (default: in memory)")
	blockTime := fs.Duration("block-time", 0, "seal a block at this interval, in whole seconds (default: when transactions arrive)")
	jsonOut := fs.Bool("json", false, "print the ready document (or the error) as one line of JSON")
	var fund []common.Address
	fs.Func("fund", "fund this address with 10000 ETH and 1000000 USDC (repeatable)", func(s string) error {
		a, err := chains.ParseAddress(strings.TrimSpace(s))
		if err != nil {
			return errors.New("not an address (0x followed by 40 hex digits, EIP-55 checksum when mixed-case)")
		}
		fund = append(fund, a)
		return nil
	})
	fail := func(status int, code, msg, hint string) int {
		if *jsonOut {
			var d errorDoc
			d.Error.Code, d.Error.Message, d.Error.Hint = code, msg, hint
			b, _ := json.Marshal(d)
			fmt.Fprintln(stdout, string(b))
		} else {
			fmt.Fprintf(stderr, "mm-devnet: error: %s (%s)\n", msg, code)
			if hint != "" {
				fmt.Fprintf(stderr, "mm-devnet: hint: %s\n", hint)
			}
		}
		return status
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return fail(exitUsage, "INVALID_INPUT", err.Error(), "mm-devnet -h lists the flags")
	}
	if fs.NArg() > 0 {
		return fail(exitUsage, "INVALID_INPUT", fmt.Sprintf("unexpected argument %q", fs.Arg(0)), "mm-devnet -h lists the flags")
	}
	if *port < 0 || *port > 65535 {
		return fail(exitUsage, "INVALID_INPUT", fmt.Sprintf("--port %d is not a TCP port", *port), "give 1 to 65535, or 0 for a free port")
	}
	if *blockTime < 0 || (*blockTime > 0 && *blockTime%time.Second != 0) {
		return fail(exitUsage, "INVALID_INPUT", fmt.Sprintf("--block-time %s is not a whole number of seconds", *blockTime), "e.g. --block-time 2s, or leave it out to seal when transactions arrive")
	}

	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	n, err := devnet.Start(sctx, devnet.Options{Port: *port, DataDir: *dataDir, BlockPeriod: *blockTime, Fund: fund})
	cancel()
	if err != nil {
		msg := err.Error()
		switch {
		case strings.Contains(msg, "address already in use"):
			return fail(exitError, "DEVNET_PORT_IN_USE", msg, fmt.Sprintf("another program listens on port %d (a dev chain already running?); stop it or pass --port N", *port))
		case ctx.Err() != nil:
			return fail(130, "CANCELED", "interrupted while starting", "")
		default:
			return fail(exitError, "DEVNET_FAILED", msg, "run again with a fresh --datadir, or without one")
		}
	}
	r := ready.Document{ChainID: devnet.ChainID, Name: "devnet", RPCURL: n.RPCURL(), WSURL: n.WSURL(), Contracts: contractsOf(n.Contracts()),
		Faucet: devnet.FaucetAddress().Hex(), Funded: []string{}, DataDir: *dataDir, PID: os.Getpid(),
		FundETH: chains.FormatUnits(devnet.DefaultFundWei, 18), FundUSDC: chains.FormatUnits(devnet.DefaultFundUSDC, 6)}
	for _, a := range fund {
		r.Funded = append(r.Funded, a.Hex())
	}
	if *blockTime > 0 {
		r.BlockTime = blockTime.String()
	}
	if *jsonOut {
		b, _ := json.Marshal(r)
		fmt.Fprintln(stdout, string(b))
	} else {
		fmt.Fprintln(stdout, r.Text())
	}
	<-ctx.Done()
	fmt.Fprintln(stderr, "mm-devnet: stopping")
	if err := n.Close(); err != nil {
		fmt.Fprintf(stderr, "mm-devnet: shutdown: %v\n", err)
		return exitError
	}
	fmt.Fprintln(stderr, "mm-devnet: stopped")
	return exitOK
}

func contractsOf(c devnet.Contracts) ready.Contracts {
	return ready.Contracts{USDC: c.USDC.Hex(), NFT: c.NFT.Hex(), Reverter: c.Reverter.Hex(), Spender: c.Spender.Hex()}
}
