package main

import (
	"bytes"
	"fmt"
	"io"
	"math/big"
	"os"
	"strings"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/sdk/eip712"
)

func init() {
	registerWallet(newSignMessageCmd)
	registerWallet(newSignTypedDataCmd)
}

// maxMessage bounds a personal message (and a typed-data document).
const maxMessage = 1 << 20

// signOptions are the flags shared by the signing commands.
type signOptions struct {
	chainID string
	wallet  string
}

// AddFlags registers the flags.
func (o *signOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.chainID, "chain-id", "", "chain id (decimal or 0x-hex), e.g. 1 for Ethereum mainnet (required)")
	fs.StringVar(&o.wallet, "wallet", "", "sign with this wallet instead of the active one")
}

// chain parses --chain-id: a positive integer below 2^256.
func (o *signOptions) chain() (*big.Int, error) {
	if o.chainID == "" {
		return nil, missingFlag("chain-id", "pass --chain-id N, e.g. --chain-id 1")
	}
	return parseChainID(o.chainID)
}

func parseChainID(s string) (*big.Int, error) {
	n, ok := new(big.Int).SetString(s, 0)
	if strings.HasPrefix(s, "0") && !strings.HasPrefix(strings.ToLower(s), "0x") && s != "0" {
		ok = false
	}
	if !ok || n.Sign() <= 0 || n.BitLen() > 256 {
		return nil, sdk.NewError(codeInvalidChain, fmt.Sprintf("invalid chain id %q", clipText(s, 80)), "a positive integer such as 1, 137 or 0x89")
	}
	return n, nil
}

// signMessageOptions are the flags of mm wallet sign-message.
type signMessageOptions struct {
	signOptions
	message     string
	messageFile string
	hex         bool
}

// AddFlags registers the flags.
func (o *signMessageOptions) AddFlags(fs *pflag.FlagSet) {
	o.signOptions.AddFlags(fs)
	fs.StringVar(&o.message, "message", "", "the message (UTF-8 text; with --hex, 0x-hex bytes)")
	fs.StringVar(&o.messageFile, "message-file", "", "read the message from a file (- for stdin)")
	fs.BoolVar(&o.hex, "hex", false, "the message is 0x-prefixed hex bytes")
}

type signatureResult struct {
	Signature string `json:"signature"`
	Address   string `json:"address"`
	ChainID   string `json:"chainId"`
	Wallet    string `json:"wallet"`
	// Typed data only.
	PrimaryType     string `json:"primaryType,omitempty"`
	DomainSeparator string `json:"domainSeparator,omitempty"`
	MessageHash     string `json:"messageHash,omitempty"`
}

// Text implements render.Texter: the signature alone, for $(mm … -f text).
func (r signatureResult) Text() string { return r.Signature }

func newSignMessageCmd(a *app) *cobra.Command {
	var o signMessageOptions
	c := &cobra.Command{
		Use:   "sign-message",
		Short: "Sign an EIP-191 personal message",
		Example: `  mm wallet sign-message --message "hello" --chain-id 1
  mm wallet sign-message --hex --message 0xdeadbeef --chain-id 1
  mm wallet sign-message --message-file note.txt --chain-id 137`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			chainID, err := o.chain()
			if err != nil {
				return err
			}
			msg, err := o.read(a)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			s, w, err := a.signingWallet(o.wallet)
			if err != nil {
				return err
			}
			conn, err := a.signers.open(ctx, s)
			if err != nil {
				return err
			}
			acct := sdk.Account{Address: common.HexToAddress(w.Address), Path: w.Path}
			resp, err := conn.SignMessage(ctx, &sdk.SignMessageRequest{Account: acct, Message: msg})
			if err != nil {
				return err
			}
			if resp.Job != nil {
				return pendingJob(resp.Job)
			}
			if err := checkSignature(accounts.TextHash(msg), resp.Signature, acct.Address); err != nil {
				return err
			}
			return a.print(signatureResult{Signature: hexutil.Encode(resp.Signature), Address: w.Address, ChainID: chainID.String(), Wallet: w.Name})
		},
	}
	o.AddFlags(c.Flags())
	return c
}

func (o *signMessageOptions) read(a *app) ([]byte, error) {
	var raw []byte
	switch {
	case o.message != "" && o.messageFile != "":
		return nil, usageError(codeInvalidInput, "give --message or --message-file, not both", "")
	case o.messageFile != "":
		b, err := readInput(a, o.messageFile, maxMessage, "message")
		if err != nil {
			return nil, err
		}
		raw = b
	case o.message != "":
		raw = []byte(o.message)
	default:
		return nil, missingFlag("message", "pass --message TEXT or --message-file PATH")
	}
	if len(raw) > maxMessage {
		return nil, tooLong("message")
	}
	if !o.hex {
		return raw, nil
	}
	b, err := hexutil.Decode(strings.TrimSpace(string(raw)))
	if err != nil {
		return nil, sdk.NewError(codeInvalidInput, "the message is not 0x-prefixed hex: "+err.Error(), "drop --hex to sign text")
	}
	return b, nil
}

func tooLong(what string) *sdk.Error {
	return sdk.NewError(codeMessageTooLong, fmt.Sprintf("the %s is longer than %d bytes", what, maxMessage), "sign a hash of large data instead")
}

// readInput reads a file (or stdin for "-"), at most limit bytes.
func readInput(a *app, path string, limit int64, what string) ([]byte, error) {
	var r io.Reader
	if path == "-" {
		r = a.stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, sdk.NewError(codeInvalidInput, fmt.Sprintf("cannot read the %s file: %v", what, err), "")
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, sdk.NewError(codeInvalidInput, fmt.Sprintf("cannot read the %s: %v", what, err), "")
	}
	if int64(len(b)) > limit {
		return nil, tooLong(what)
	}
	return b, nil
}

// signTypedDataOptions are the flags of mm wallet sign-typed-data.
type signTypedDataOptions struct {
	signOptions
	payload     string
	payloadFile string
}

// AddFlags registers the flags.
func (o *signTypedDataOptions) AddFlags(fs *pflag.FlagSet) {
	o.signOptions.AddFlags(fs)
	fs.StringVar(&o.payload, "payload", "", "the EIP-712 v4 JSON document (types, primaryType, domain, message)")
	fs.StringVar(&o.payloadFile, "payload-file", "", "read the JSON document from a file (- for stdin)")
}

func newSignTypedDataCmd(a *app) *cobra.Command {
	var o signTypedDataOptions
	c := &cobra.Command{
		Use:   "sign-typed-data",
		Short: "Sign EIP-712 v4 typed data",
		Example: `  mm wallet sign-typed-data --chain-id 1 --payload '{"types":{…},"primaryType":"Mail","domain":{…},"message":{…}}'
  mm wallet sign-typed-data --chain-id 1 --payload-file permit.json`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			chainID, err := o.chain()
			if err != nil {
				return err
			}
			var data []byte
			switch {
			case o.payload != "" && o.payloadFile != "":
				return usageError(codeInvalidInput, "give --payload or --payload-file, not both", "")
			case o.payloadFile != "":
				if data, err = readInput(a, o.payloadFile, eip712.MaxSize, "typed data"); err != nil {
					return err
				}
			case o.payload != "":
				data = []byte(o.payload)
			default:
				return sdk.NewError(codeMissingTypedData, "no typed data given", "pass --payload '<json>' or --payload-file PATH")
			}
			doc, err := eip712.Parse(data)
			if err != nil {
				return err
			}
			if err := doc.CheckChainID(chainID); err != nil {
				return err
			}
			ctx := cmd.Context()
			s, w, err := a.signingWallet(o.wallet)
			if err != nil {
				return err
			}
			conn, err := a.signers.open(ctx, s)
			if err != nil {
				return err
			}
			acct := sdk.Account{Address: common.HexToAddress(w.Address), Path: w.Path}
			resp, err := conn.SignTypedData(ctx, &sdk.SignTypedDataRequest{Account: acct, TypedData: bytes.TrimSpace(data),
				DomainSeparator: doc.DomainSeparator, MessageHash: doc.MessageHash})
			if err != nil {
				return err
			}
			if resp.Job != nil {
				return pendingJob(resp.Job)
			}
			out := signatureResult{Address: w.Address, ChainID: chainID.String(), Wallet: w.Name,
				PrimaryType: doc.PrimaryType, DomainSeparator: doc.DomainSeparator.Hex()}
			if doc.MessageHash != nil {
				out.MessageHash = doc.MessageHash.Hex()
			}
			if err := checkSignature(doc.Digest(), resp.Signature, acct.Address); err != nil {
				return err
			}
			out.Signature = hexutil.Encode(resp.Signature)
			return a.print(out)
		},
	}
	o.AddFlags(c.Flags())
	return c
}

// signingWallet is the wallet a signing command uses: --wallet, else the
// active one.
func (a *app) signingWallet(ref string) (*session, walletEntry, error) {
	s, w, err := a.activeWallet()
	if ref == "" || err != nil {
		if ref != "" && sdk.CodeOf(err) == codeWalletNotFound {
			err = nil
		} else {
			return s, w, err
		}
	}
	_, d, err := a.loadWallets()
	if err != nil {
		return nil, walletEntry{}, err
	}
	i, ok := d.find(ref)
	if !ok {
		return nil, walletEntry{}, walletNotFound(ref)
	}
	w = d.Wallets[i]
	if s == nil {
		_, s, err = a.loadSession()
		if err != nil {
			return nil, walletEntry{}, err
		}
	}
	if w.Signer != s.Signer {
		return nil, walletEntry{}, sdk.NewError(codeWrongWalletMode, fmt.Sprintf("wallet %s belongs to the %s signer, but mm is set up for %s", w.Name, w.Signer, s.Signer),
			"run mm init --wallet "+w.Signer+" to switch")
	}
	return s, w, nil
}

// checkSignature verifies that a 65-byte r‖s‖v signature (v = 27/28) over
// hash recovers to want. A signer that returns anything else is not
// trusted: SIGNATURE_MISMATCH, and nothing is printed.
func checkSignature(hash, sig []byte, want common.Address) error {
	if len(sig) != 65 || (sig[64] != 27 && sig[64] != 28) {
		return sdk.NewError(codeSignatureMismatch, fmt.Sprintf("the signer returned a malformed signature (%d bytes)", len(sig)), "the signer plugin is faulty")
	}
	s := bytes.Clone(sig)
	s[64] -= 27
	pub, err := crypto.SigToPub(hash, s)
	if err != nil || crypto.PubkeyToAddress(*pub) != want {
		return sdk.NewError(codeSignatureMismatch, "the signature does not recover to "+want.Hex(), "the signer plugin is faulty or signed with another key")
	}
	return nil
}

// pendingJob is the outcome of an asynchronous signer that needs approval.
func pendingJob(j *sdk.Job) error {
	code := sdk.CodeJobPending
	if j.Status == sdk.JobAwaitingMFA {
		code = codeAwaitingMFA
	}
	return sdk.NewError(code, fmt.Sprintf("signing job %s is %s", j.ID, j.Status), "approve it, then poll with mm wallet requests watch "+j.ID)
}
