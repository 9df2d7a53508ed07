package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"math/big"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/mm-wallet/mm/core/chains"
	"github.com/mm-wallet/mm/core/devnet"
	"github.com/mm-wallet/mm/core/devnet/ready"
)

// TestServeAndStop runs mm-devnet in process: the ready document (JSON)
// names a working chain with the fixtures deployed and the --fund accounts
// funded, and cancelling the context (SIGINT/SIGTERM in main) shuts it down
// with status 0.
func TestServeAndStop(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := common.HexToAddress("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
	pr, pw := io.Pipe()
	var stderr strings.Builder
	status := make(chan int, 1)
	go func() {
		status <- run(ctx, []string{"--port", "0", "--json", "--fund", a.Hex()}, pw, &stderr)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no ready document: %v (stderr %s)", err, stderr.String())
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	var r ready.Document
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		t.Fatalf("ready document %q: %v", line, err)
	}
	if r.ChainID != 1337 || r.Contracts.USDC != chains.DevnetUSDC.Hex() || len(r.Funded) != 1 || r.Funded[0] != a.Hex() {
		t.Fatalf("ready: %+v", r)
	}
	c, err := chains.Dial(context.Background(), r.RPCURL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.CheckChainID(context.Background(), big.NewInt(devnet.ChainID)); err != nil {
		t.Fatal(err)
	}
	if b, err := c.BalanceAt(context.Background(), a); err != nil || b.Cmp(devnet.DefaultFundWei) != 0 {
		t.Errorf("funded balance %v %v", b, err)
	}
	if code, err := c.CodeAt(context.Background(), chains.DevnetReverter); err != nil || len(code) == 0 {
		t.Errorf("no Reverter fixture: %v", err)
	}
	cancel()
	select {
	case s := <-status:
		if s != exitOK || !strings.Contains(stderr.String(), "mm-devnet: stopped") {
			t.Errorf("status %d, stderr %s", s, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("did not stop")
	}
	if _, err := c.ChainID(context.Background()); err == nil {
		t.Error("the node still answers after the stop")
	}
}

// TestBadFlags: each is a JSON error document and status 2, before any
// chain starts; a port in use is DEVNET_PORT_IN_USE, status 1.
func TestBadFlags(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	busy := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	for _, c := range []struct {
		args   []string
		code   string
		status int
	}{
		{[]string{"--fund", "0x1234"}, "INVALID_INPUT", exitUsage},
		{[]string{"--fund", "0x70997970c51812dc3A010C7d01b50e0d17dc79C8"}, "INVALID_INPUT", exitUsage}, // bad checksum
		{[]string{"--port", "70000"}, "INVALID_INPUT", exitUsage},
		{[]string{"--block-time", "1500ms"}, "INVALID_INPUT", exitUsage},
		{[]string{"--block-time", "-1s"}, "INVALID_INPUT", exitUsage},
		{[]string{"--frobnicate"}, "INVALID_INPUT", exitUsage},
		{[]string{"extra"}, "INVALID_INPUT", exitUsage},
		{[]string{"--port", busy}, "DEVNET_PORT_IN_USE", exitError},
	} {
		var out, errb strings.Builder
		s := run(context.Background(), append([]string{"--json"}, c.args...), &out, &errb)
		var d errorDoc
		if err := json.Unmarshal([]byte(out.String()), &d); err != nil || d.Error.Code != c.code || s != c.status || d.Error.Hint == "" {
			t.Errorf("%v: status %d, %s (%v)", c.args, s, out.String(), err)
		}
	}
}
