package core_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/mm-wallet/mm/core/coretest"
	"github.com/mm-wallet/mm/core/submit"
)

type submitEntry = submit.Entry

func submitFilter() submit.Filter { return submit.Filter{} }

func ledger(t *testing.T, e *coretest.Env, a common.Address) *submit.Ledger {
	t.Helper()
	l, err := e.Nonces.Inspect(big.NewInt(1337), a)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func txpool(t *testing.T, e *coretest.Env) string {
	t.Helper()
	var st map[string]string
	if err := e.Client.Call(context.Background(), &st, "txpool_status"); err != nil {
		t.Fatal(err)
	}
	return st["pending"] + "/" + st["queued"]
}

func callAllowance(token, owner, spender common.Address) ethereum.CallMsg {
	data := append(common.FromHex("0xdd62ed3e"), common.LeftPadBytes(owner.Bytes(), 32)...)
	data = append(data, common.LeftPadBytes(spender.Bytes(), 32)...)
	return ethereum.CallMsg{To: &token, Data: data}
}

func mustBinary(tx *types.Transaction) []byte {
	b, err := tx.MarshalBinary()
	if err != nil {
		panic(err)
	}
	return b
}

// recordingProxy forwards JSON-RPC to a real node and records every method
// it saw. It can make broadcasts ambiguous: forward then drop the
// connection, or drop without forwarding.
type recordingProxy struct {
	*httptest.Server
	target string

	mu             sync.Mutex
	seen           []string
	rawSends       []string
	dropFirstSend  bool
	blackholeSends bool
	dropped        int
}

func newRecordingProxy(t *testing.T, target string) *recordingProxy {
	p := &recordingProxy{target: target}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.Close)
	return p
}

type rpcMsg struct {
	Method string            `json:"method"`
	Params []json.RawMessage `json:"params"`
}

func (p *recordingProxy) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var msgs []rpcMsg
	if bytes.HasPrefix(bytes.TrimSpace(body), []byte("[")) {
		_ = json.Unmarshal(body, &msgs)
	} else {
		var m rpcMsg
		_ = json.Unmarshal(body, &m)
		msgs = []rpcMsg{m}
	}
	isSend := false
	p.mu.Lock()
	for _, m := range msgs {
		p.seen = append(p.seen, m.Method)
		if m.Method == "eth_sendRawTransaction" {
			isSend = true
			if len(m.Params) > 0 {
				p.rawSends = append(p.rawSends, string(m.Params[0]))
			}
		}
	}
	drop := isSend && (p.blackholeSends || (p.dropFirstSend && p.dropped == 0))
	forward := !(isSend && p.blackholeSends)
	if drop {
		p.dropped++
	}
	p.mu.Unlock()
	var resp []byte
	if forward {
		res, err := http.Post(p.target, "application/json", bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		resp, _ = io.ReadAll(res.Body)
		res.Body.Close()
	}
	if drop {
		// Hang up without an answer: the client cannot know whether the
		// node got the transaction.
		hj, ok := w.(http.Hijacker)
		if ok {
			if c, _, err := hj.Hijack(); err == nil {
				_ = c.(*net.TCPConn).SetLinger(0)
				c.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(resp)
}

func (p *recordingProxy) saw(method string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range p.seen {
		if m == method {
			return true
		}
	}
	return false
}

func (p *recordingProxy) methods() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.seen...)
}

func (p *recordingProxy) sends() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.rawSends...)
}
