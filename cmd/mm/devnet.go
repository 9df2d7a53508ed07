package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mm-wallet/mm/cmd/mm/internal/render"
	"github.com/mm-wallet/mm/core/chains"
	"github.com/mm-wallet/mm/core/devnet/ready"
	"github.com/mm-wallet/mm/sdk"
)

func init() { register(newDevnetCmd) }

// devnetBinary is the dev chain's own executable. mm does not link
// go-ethereum's node (it would add milliseconds of package init to every mm
// call); `mm devnet` runs this binary instead.
const devnetBinary = "mm-devnet"

// Codes of mm devnet.
const (
	codeDevnetNotInstalled sdk.Code = "DEVNET_NOT_INSTALLED"
	codeDevnetFailed       sdk.Code = "DEVNET_FAILED"
)

// devnetOptions are the flags of mm devnet.
type devnetOptions struct {
	port      int
	dataDir   string
	fund      []string
	blockTime time.Duration
}

// AddFlags registers the flags.
func (o *devnetOptions) AddFlags(fs *pflag.FlagSet) {
	fs.IntVar(&o.port, "port", 8545, "HTTP and WebSocket JSON-RPC port on 127.0.0.1 (0 picks a free one)")
	fs.StringVar(&o.dataDir, "datadir", "", "keep the chain in this folder between runs (default: in memory)")
	fs.StringArrayVar(&o.fund, "fund", nil, "also fund this address with 10000 ETH and 1000000 USDC (repeatable; every wallet in wallets.json is funded anyway)")
	fs.DurationVar(&o.blockTime, "block-time", 0, "seal a block at this interval, whole seconds (default: as soon as transactions arrive)")
}

func newDevnetCmd(a *app) *cobra.Command {
	var o devnetOptions
	c := &cobra.Command{
		Use:   "devnet",
		Short: "Run the embedded Ethereum development chain (chain 1337) in the foreground",
		Long: `Run a local Ethereum development chain: go-ethereum's own node in dev mode,
chain id 1337 ("devnet"), JSON-RPC over HTTP and WebSocket on 127.0.0.1.
Blocks are sealed as soon as transactions arrive (or every --block-time).
Every wallet in wallets.json and every --fund address gets 10000 ETH and
1000000 of the fixture USDC. The fixture contracts (USDC with 6 decimals,
an ERC-721, a contract that reverts with a custom error, a spender that
pulls approved tokens) are deployed at fixed addresses, printed on start.

On the default port mm uses the chain for --chain-id 1337 without
configuration; on another port set MM_RPC_1337 or rpc.1337. Ctrl-C stops it.

The chain runs in its own executable, mm-devnet, found next to mm or on
PATH (make build puts both in ./bin).`,
		Example: `  mm devnet
  mm devnet --port 0 --fund 0x70997970C51812dc3A010C7d01b50e0d17dc79C8
  mm devnet --datadir ~/.mm-devnet --block-time 2s`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.port < 0 || o.port > 65535 {
				return usageError(codeInvalidInput, fmt.Sprintf("--port %d is not a TCP port", o.port), "give 1 to 65535, or 0 for a free port")
			}
			if o.blockTime < 0 || o.blockTime%time.Second != 0 {
				return usageError(codeInvalidInput, fmt.Sprintf("--block-time %s is not a whole number of seconds", o.blockTime), "e.g. --block-time 2s")
			}
			fund := map[common.Address]bool{}
			var order []common.Address
			add := func(addr common.Address) {
				if !fund[addr] {
					fund[addr] = true
					order = append(order, addr)
				}
			}
			for _, s := range o.fund {
				addr, err := chains.ParseAddress(strings.TrimSpace(s))
				if err != nil {
					return err
				}
				add(addr)
			}
			ws, err := a.peekWalletAddresses()
			if err != nil {
				return err
			}
			for _, addr := range ws {
				add(addr)
			}
			bin, err := findDevnet(a.getenv("PATH"))
			if err != nil {
				return err
			}
			args := []string{"--json", "--port", strconv.Itoa(o.port)}
			if o.dataDir != "" {
				args = append(args, "--datadir", o.dataDir)
			}
			if o.blockTime > 0 {
				args = append(args, "--block-time", o.blockTime.String())
			}
			for _, addr := range order {
				args = append(args, "--fund", addr.Hex())
			}
			a.logf("starting %s %s", bin, strings.Join(args, " "))
			return a.runDevnet(cmd, bin, args)
		},
	}
	o.AddFlags(c.Flags())
	return c
}

// peekWalletAddresses reads every address in wallets.json, without creating
// the state folder.
func (a *app) peekWalletAddresses() ([]common.Address, error) {
	dir, err := a.homeDir()
	if err != nil {
		return nil, nil
	}
	p := filepath.Join(dir, walletsFile)
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, sdk.NewError(codeInvalidInput, fmt.Sprintf("cannot read %s: %v", p, err), "check the state folder's permissions")
	}
	var d walletsDoc
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, sdk.NewError("STATE_CORRUPT", fmt.Sprintf("%s is damaged: %v", p, err), "restore it from a backup or run mm reset")
	}
	var out []common.Address
	for _, w := range d.Wallets {
		if common.IsHexAddress(w.Address) {
			out = append(out, common.HexToAddress(w.Address))
		}
	}
	return out, nil
}

// findDevnet looks for mm-devnet next to the running mm, then on PATH.
func findDevnet(path string) (string, error) {
	if exe, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		p := filepath.Join(filepath.Dir(exe), devnetBinary)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, devnetBinary)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", sdk.NewError(codeDevnetNotInstalled, "the dev chain executable mm-devnet was found neither next to mm nor on PATH",
		"build it with `make build` (puts mm and mm-devnet in ./bin) or install it with `go install github.com/mm-wallet/mm/cmd/...`")
}

// runDevnet runs mm-devnet in the foreground: its ready document is printed
// in mm's format, its logs pass through to stderr, and Ctrl-C or SIGTERM
// stops it cleanly.
func (a *app) runDevnet(cmd *cobra.Command, bin string, args []string) error {
	ctx := cmd.Context()
	child := exec.Command(bin, args...)
	child.Stderr = a.stderr
	out, err := child.StdoutPipe()
	if err != nil {
		return sdk.Errorf(sdk.CodeInternal, "devnet: %v", err)
	}
	if err := child.Start(); err != nil {
		return sdk.NewError(codeDevnetFailed, fmt.Sprintf("cannot start %s: %v", bin, err), "rebuild it with `make build`")
	}
	exited := make(chan error, 1)
	lines := make(chan string, 1)
	r := bufio.NewReaderSize(out, 64<<10)
	go func() {
		line, _ := r.ReadString('\n')
		lines <- line
		// Anything later on its stdout passes through.
		_, _ = io.Copy(a.stdout, r)
		exited <- child.Wait()
	}()
	stopping := false
	stop := func() {
		if !stopping {
			stopping = true
			_ = child.Process.Signal(syscall.SIGTERM)
			go func() {
				time.Sleep(30 * time.Second)
				_ = child.Process.Kill()
			}()
		}
	}
	var line string
	select {
	case line = <-lines:
	case <-ctx.Done():
		stop()
		line = <-lines
	}
	if strings.TrimSpace(line) == "" {
		err := <-exited
		if stopping {
			return nil
		}
		return sdk.NewError(codeDevnetFailed, fmt.Sprintf("%s exited before the chain was ready (%v)", bin, err), "see its messages above; run with --verbose")
	}
	var doc struct {
		ready.Document
		Error *render.ErrorBody `json:"error"`
	}
	if err := json.Unmarshal([]byte(line), &doc); err != nil {
		stop()
		<-exited
		return sdk.NewError(codeDevnetFailed, fmt.Sprintf("%s printed something mm does not understand: %q", bin, clipText(line, 120)), "rebuild mm and mm-devnet from the same checkout (make build)")
	}
	if doc.Error != nil {
		<-exited
		e := sdk.NewError(doc.Error.Code, doc.Error.Message, doc.Error.Hint)
		if e.Code == codeInvalidInput {
			return &usageErr{e}
		}
		return e
	}
	if err := a.print(doc.Document); err != nil {
		stop()
		<-exited
		return err
	}
	select {
	case err := <-exited:
		if err != nil {
			return sdk.NewError(codeDevnetFailed, fmt.Sprintf("the dev chain stopped: %v", err), "see its messages above")
		}
		return nil
	case <-ctx.Done():
		stop()
		if err := <-exited; err != nil {
			return sdk.NewError(codeDevnetFailed, fmt.Sprintf("the dev chain did not stop cleanly: %v", err), "")
		}
		return nil
	}
}
