package trezor_test

import (
	"encoding/hex"
	"encoding/json"
	"math/big"
	"os"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	emu "github.com/mm-wallet/mm/hwtest/trezor"
	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/signers/trezor"
)

type badCase struct {
	Name     string            `json:"name"`
	Op       string            `json:"op"`
	Model    string            `json:"model"`
	Settings map[string]string `json:"settings"`
	Paths    []string          `json:"paths"`
	Path     string            `json:"path"`
	Address  string            `json:"address"`
	ChainID  string            `json:"chain_id"`
	Tx       string            `json:"tx"`
	Message  string            `json:"message"`
	Typed    string            `json:"typed"`
	Hashes   string            `json:"hashes"`
	Code     sdk.Code          `json:"code"`
}

// TestBadRequests feeds every request in testdata/bad/requests.json to a
// signer on each model profile: each must give its code, with a message and
// a hint, and the device must not sign anything.
func TestBadRequests(t *testing.T) {
	raw, err := os.ReadFile("testdata/bad/requests.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []badCase `json:"cases"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) < 20 {
		t.Fatalf("only %d cases", len(f.Cases))
	}
	for _, m := range profiles {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			e, uri := startEmulator(t, emu.Options{Model: m})
			s := newSigner(t, uri)
			for _, c := range f.Cases {
				if c.Model != "" && c.Model != string(m) {
					continue
				}
				err := runBad(t, s, c)
				if got := sdk.CodeOf(err); got != c.Code {
					t.Errorf("%s: got %v (code %q), want %s", c.Name, err, got, c.Code)
					continue
				}
				if e := sdk.AsError(err); e.Message == "" || e.Hint == "" && c.Code != sdk.CodeInvalidDerivationPath {
					t.Errorf("%s: error without message or hint: %+v", c.Name, e)
				}
			}
			if n := e.Stats().Signatures; n != 0 {
				t.Fatalf("the device signed %d times", n)
			}
		})
	}
}

func runBad(t *testing.T, s *trezor.Signer, c badCase) error {
	ctx := ctxFor(t)
	acct := sdk.Account{Path: c.Path}
	if c.Address != "" {
		acct.Address = common.HexToAddress(c.Address)
	}
	switch c.Op {
	case "configure":
		_, err := trezor.New().Configure(ctx, &sdk.ConfigureRequest{Settings: c.Settings})
		return err
	case "accounts":
		resp, err := s.Accounts(ctx, &sdk.AccountsRequest{Paths: c.Paths})
		if resp != nil {
			t.Errorf("%s: a response came with the error", c.Name)
		}
		return err
	case "sign_tx":
		tx, err := hex.DecodeString(c.Tx)
		if err != nil {
			t.Fatal(err)
		}
		var chain *big.Int
		if c.ChainID != "" {
			chain, _ = new(big.Int).SetString(c.ChainID, 10)
		}
		resp, err := s.SignTransaction(ctx, &sdk.SignTransactionRequest{Account: acct, ChainID: chain, Transaction: tx})
		if resp != nil {
			t.Errorf("%s: a response came with the error", c.Name)
		}
		return err
	case "sign_message":
		resp, err := s.SignMessage(ctx, &sdk.SignMessageRequest{Account: acct, Message: []byte(c.Message)})
		if resp != nil {
			t.Errorf("%s: a response came with the error", c.Name)
		}
		return err
	case "sign_typed_data":
		req := &sdk.SignTypedDataRequest{Account: acct, TypedData: []byte(c.Typed)}
		if c.Hashes == "compute" {
			ds, mh, err := hostHashes([]byte(c.Typed))
			if err != nil {
				t.Fatalf("%s: %v", c.Name, err)
			}
			req.DomainSeparator, req.MessageHash = ds, mh
		} else {
			req.MessageHash = &common.Hash{}
		}
		resp, err := s.SignTypedData(ctx, req)
		if resp != nil {
			t.Errorf("%s: a response came with the error", c.Name)
		}
		return err
	}
	t.Fatalf("unknown op %q", c.Op)
	return nil
}

// TestSecretsStayOut checks that a PIN and a passphrase never show up in
// errors, even when they are refused.
func TestSecretsStayOut(t *testing.T) {
	t.Parallel()
	_, uri := startEmulator(t, emu.Options{Model: emu.ModelOne, PIN: "1234", PassphraseProtection: true})
	s := newSigner(t, uri)
	const badPIN = "12a4"
	long := strings.Repeat("secret-passphrase-", 4)
	p := &recorder{secrets: map[sdk.SecretKind]func(*sdk.SecretRequest) (string, error){
		sdk.SecretPIN: func(*sdk.SecretRequest) (string, error) { return badPIN, nil },
	}}
	_, err := s.Accounts(sdk.WithPrompter(ctxFor(t), p), &sdk.AccountsRequest{Indices: []uint32{0}})
	if sdk.CodeOf(err) != sdk.CodePinInvalid || strings.Contains(err.Error(), badPIN) || strings.Contains(sdk.AsError(err).Hint, badPIN) {
		t.Fatalf("malformed PIN: %v", err)
	}
	// The device stays usable: Cancel was sent, the next call asks again.
	e2 := &recorder{secrets: map[sdk.SecretKind]func(*sdk.SecretRequest) (string, error){
		sdk.SecretPIN:        func(*sdk.SecretRequest) (string, error) { return "", sdk.NewError(sdk.CodeUserRejected, "no", "") },
		sdk.SecretPassphrase: func(*sdk.SecretRequest) (string, error) { return long, nil },
	}}
	_, err = s.Accounts(sdk.WithPrompter(ctxFor(t), e2), &sdk.AccountsRequest{Indices: []uint32{0}})
	if sdk.CodeOf(err) != sdk.CodeUserRejected {
		t.Fatalf("cancelled PIN: %v", err)
	}
	// A passphrase put where its entry mode belongs is refused without
	// being repeated.
	_, err = s.Configure(ctxFor(t), &sdk.ConfigureRequest{Settings: map[string]string{trezor.SettingPassphrase: long}})
	if e := sdk.AsError(err); sdk.CodeOf(err) != sdk.CodeInvalidRequest || strings.Contains(e.Message, "secret-passphrase") || strings.Contains(e.Hint, "secret-passphrase") {
		t.Fatalf("passphrase as a setting: %v", err)
	}
}
