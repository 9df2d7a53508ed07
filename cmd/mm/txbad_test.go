package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/mm-wallet/mm/core/chains"
)

// badChecksum returns a's EIP-55 form with the case of one letter flipped.
func badChecksum(a common.Address) string {
	s := []byte(a.Hex())
	for i := 2; i < len(s); i++ {
		switch {
		case s[i] >= 'a' && s[i] <= 'f':
			s[i] -= 'a' - 'A'
			return string(s)
		case s[i] >= 'A' && s[i] <= 'F':
			s[i] += 'a' - 'A'
			return string(s)
		}
	}
	panic("an address without letters")
}

// TestTransactionBadInput runs the rejected transaction inputs of
// testdata/bad/transactions.json through the real mm: each must exit with
// its status and code, with a message and a hint, and must leave the state
// folder (journal, nonce ledger), the account's nonce on the node and the
// node's pool for the account as they were: nothing signed, journaled,
// reserved or broadcast.
func TestTransactionBadInput(t *testing.T) {
	t.Parallel()
	home, from := byokHome(t, "bad-input")
	c := chainClient(t)
	env := chainEnv(t)
	bob := recipient("bad-input")
	// One real transfer first: nonce 0 is used and the ledger and journal
	// exist, so "unchanged" means something.
	mmOK(t, home, env, nil, "transfer", "--to", bob.Hex(), "--amount", "0.5", "--chain-id", "1337", "--wait")

	raw, err := os.ReadFile(filepath.Join("testdata", "bad", "transactions.json"))
	if err != nil {
		t.Fatal(err)
	}
	repl := strings.NewReplacer("$BADSUM", badChecksum(bob), "$BOB", bob.Hex(), "$FROM", from.Hex(),
		"$USDC", chains.DevnetUSDC.Hex(), "$REVERTER", chains.DevnetReverter.Hex())
	var table struct {
		Cases []struct {
			Name       string          `json:"name"`
			Payload    json.RawMessage `json:"payload"`
			PayloadRaw *string         `json:"payloadRaw"`
			Args       []string        `json:"args"`
			Code       string          `json:"code"`
			Exit       int             `json:"exit"`
		} `json:"cases"`
	}
	if err := json.Unmarshal([]byte(repl.Replace(string(raw))), &table); err != nil {
		t.Fatal(err)
	}
	if len(table.Cases) < 25 {
		t.Fatalf("only %d bad inputs", len(table.Cases))
	}
	before, err := treeDigest(home)
	if err != nil {
		t.Fatal(err)
	}
	pending, err := c.PendingNonceAt(context.Background(), from)
	if err != nil {
		t.Fatal(err)
	}
	pool := func() string {
		var content map[string]map[string]json.RawMessage
		if err := c.Call(context.Background(), &content, "txpool_contentFrom", from); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(len(content["pending"]), len(content["queued"]))
	}
	poolBefore := pool()
	if poolBefore != "0 0" {
		t.Fatalf("the account has transactions in the pool before the table: %s", poolBefore)
	}
	t.Run("cases", func(t *testing.T) {
		for _, tc := range table.Cases {
			t.Run(tc.Name, func(t *testing.T) {
				t.Parallel()
				args := tc.Args
				if args == nil {
					payload := string(tc.Payload)
					if tc.PayloadRaw != nil {
						payload = *tc.PayloadRaw
					}
					args = []string{"wallet", "send-transaction", "--chain-id", "1337", "--payload", payload}
				}
				r := runMM(t, home, env, nil, args...)
				var doc struct {
					Error struct {
						Code, Message, Hint string
					} `json:"error"`
				}
				_ = json.Unmarshal(r.stdout, &doc)
				if doc.Error.Code != tc.Code || r.code != tc.Exit {
					t.Fatalf("got %s exit %d, want %s exit %d\nstdout: %s\nstderr: %s", doc.Error.Code, r.code, tc.Code, tc.Exit, r.stdout, r.stderr)
				}
				if doc.Error.Message == "" || doc.Error.Hint == "" {
					t.Errorf("the error lacks a message or a hint: %+v", doc.Error)
				}
			})
		}
	})
	after, err := treeDigest(home)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Errorf("the state folder changed (journal or nonce ledger):\nbefore %v\nafter  %v", before, after)
	}
	if got, _ := c.PendingNonceAt(context.Background(), from); got != pending {
		t.Errorf("the account's pending nonce moved %d → %d: something was broadcast", pending, got)
	}
	if got := pool(); got != poolBefore {
		t.Errorf("the node's pool for the account changed: %s → %s", poolBefore, got)
	}
}
