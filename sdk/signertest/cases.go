package signertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"reflect"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/holiman/uint256"

	"github.com/mm-wallet/mm/sdk"
)

// Chain ids the legacy EIP-155 cases sign for: the common ones, the largest
// for which 2*id+36 still fits 32 bits, one above 2^32 and 2^64-1.
var legacyChainIDs = []*big.Int{
	big.NewInt(1),
	big.NewInt(137),
	big.NewInt(11155111),
	big.NewInt(2147483629),
	big.NewInt(3125659152),
	new(big.Int).SetUint64(^uint64(0)),
}

func (h *harness) testInfo(t *testing.T) {
	t.Parallel()
	info := h.info
	if info.Name == "" || info.Version == "" {
		t.Errorf("Info: name %q and version %q must both be set", info.Name, info.Version)
	}
	if info.ProtocolVersion != sdk.ProtocolVersion && info.ProtocolVersion != sdk.ProtocolVersion-1 {
		t.Errorf("Info: protocol version %d, want %d or %d", info.ProtocolVersion, sdk.ProtocolVersion, sdk.ProtocolVersion-1)
	}
	switch info.Kind {
	case sdk.KindSoftware, sdk.KindHardware, sdk.KindRemote:
	default:
		t.Errorf("Info: unknown kind %q", info.Kind)
	}
	switch info.Capabilities.TypedData {
	case sdk.TypedDataFull, sdk.TypedDataHashed, sdk.TypedDataNone:
	default:
		t.Errorf("Info: unknown typed-data mode %q", info.Capabilities.TypedData)
	}
	seen := map[sdk.TxType]bool{}
	for _, tt := range info.Capabilities.TxTypes {
		switch tt {
		case sdk.TxLegacy, sdk.TxEIP2930, sdk.TxEIP1559, sdk.TxEIP7702:
		default:
			t.Errorf("Info: unknown transaction type %q", tt)
		}
		if seen[tt] {
			t.Errorf("Info: transaction type %q listed twice", tt)
		}
		seen[tt] = true
	}
	if info.Capabilities.AsyncJobs {
		if _, ok := h.s.(sdk.JobPoller); !ok {
			t.Error("Info claims asyncJobs but the signer does not implement sdk.JobPoller")
		}
	}
	if info.Capabilities.SupportsTx(sdk.TxEIP7702) {
		if _, ok := h.s.(sdk.Authorizer); !ok {
			t.Error("Info claims eip7702 but the signer does not implement sdk.Authorizer")
		}
	}
	ctx, cancel := h.ctx(t)
	defer cancel()
	again, err := h.s.Info(ctx, &sdk.InfoRequest{})
	if err != nil || !reflect.DeepEqual(again, info) {
		t.Errorf("Info changed between two calls: %+v, then %+v (%v)", info, again, err)
	}
	other, err := h.fresh(t).Info(ctx, &sdk.InfoRequest{})
	if err != nil || !reflect.DeepEqual(other, info) {
		t.Errorf("Info differs between two instances: %+v and %+v (%v)", info, other, err)
	}
}

func (h *harness) testAccounts(t *testing.T) {
	t.Parallel()
	t.Run("stable across calls", func(t *testing.T) {
		if again := h.accounts(t, h.s); !sameAddresses(again, h.accts) {
			t.Fatalf("Accounts changed between calls: %v, then %v", h.accts, again)
		}
	})
	t.Run("stable across instances", func(t *testing.T) {
		if other := h.accounts(t, h.fresh(t)); !sameAddresses(other, h.accts) {
			t.Fatalf("Accounts differ between instances: %v and %v", h.accts, other)
		}
	})
	if h.opts.NoPaths {
		return
	}
	t.Run("request order", func(t *testing.T) {
		rev := make([]string, len(h.paths))
		for i, p := range h.paths {
			rev[len(rev)-1-i] = p
		}
		ctx, cancel := h.ctx(t)
		defer cancel()
		resp, err := h.s.Accounts(ctx, &sdk.AccountsRequest{Paths: rev, Indices: []uint32{0}})
		if err != nil {
			t.Fatalf("Accounts: %v", err)
		}
		if len(resp.Accounts) != len(rev)+1 {
			t.Fatalf("Accounts returned %d accounts for %d paths and one index", len(resp.Accounts), len(rev))
		}
		for i := range rev {
			if resp.Accounts[i].Address != h.accts[len(rev)-1-i].Address {
				t.Fatalf("account %d: %s for path %s, want %s", i, resp.Accounts[i].Address.Hex(), rev[i], h.accts[len(rev)-1-i].Address.Hex())
			}
		}
		if resp.Accounts[len(rev)].Address == (common.Address{}) {
			t.Fatal("the account for index 0 is the zero address")
		}
	})
}

func sameAddresses(a, b []sdk.Account) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Address != b[i].Address {
			return false
		}
	}
	return true
}

// txCase is one transaction to sign and the chain it is for.
type txCase struct {
	name    string
	chainID *big.Int
	tx      *types.Transaction
}

var (
	someTo   = common.HexToAddress("0x1d1c328764a41bda0492b66baa30c4a339ff85ef")
	calldata = bytes.Repeat([]byte("mm conformance calldata "), 4096/24+1)[:4096]
)

func legacyTx(data []byte, to *common.Address) *types.Transaction {
	return types.NewTx(&types.LegacyTx{Nonce: 7, GasPrice: big.NewInt(20_000_000_000), Gas: 1_000_000, To: to, Value: big.NewInt(1_000_000_000_000_000_000), Data: data})
}

func accessListTx(chainID *big.Int, data []byte, to *common.Address) *types.Transaction {
	return types.NewTx(&types.AccessListTx{
		ChainID: chainID, Nonce: 3, GasPrice: big.NewInt(30_000_000_000), Gas: 2_000_000, To: to, Value: big.NewInt(12345), Data: data,
		AccessList: types.AccessList{{Address: someTo, StorageKeys: []common.Hash{{1}, {2}}}},
	})
}

func dynamicFeeTx(chainID *big.Int, data []byte, to *common.Address) *types.Transaction {
	return types.NewTx(&types.DynamicFeeTx{
		ChainID: chainID, Nonce: 123456, GasTipCap: big.NewInt(1_500_000_000), GasFeeCap: big.NewInt(90_000_000_000), Gas: 3_000_000,
		To: to, Value: new(big.Int).SetUint64(0xab54a98ceb1f0ad2), Data: data,
		AccessList: types.AccessList{{Address: someTo, StorageKeys: []common.Hash{{3}}}},
	})
}

func setCodeTx(t *testing.T, chainID *big.Int) *types.Transaction {
	t.Helper()
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	auth, err := types.SignSetCode(k, types.SetCodeAuthorization{ChainID: *uint256.MustFromBig(chainID), Address: someTo, Nonce: 1})
	if err != nil {
		t.Fatal(err)
	}
	return types.NewTx(&types.SetCodeTx{
		ChainID: uint256.MustFromBig(chainID), Nonce: 9, GasTipCap: uint256.NewInt(1_000_000_000), GasFeeCap: uint256.NewInt(50_000_000_000),
		Gas: 100_000, To: someTo, Value: uint256.NewInt(1), Data: calldata[:100], AuthList: []types.SetCodeAuthorization{auth},
	})
}

func blobTx(chainID *big.Int) *types.Transaction {
	return types.NewTx(&types.BlobTx{
		ChainID: uint256.MustFromBig(chainID), Nonce: 1, GasTipCap: uint256.NewInt(1), GasFeeCap: uint256.NewInt(100), Gas: 21000,
		To: someTo, Value: uint256.NewInt(0), BlobFeeCap: uint256.NewInt(1), BlobHashes: []common.Hash{{0x01}},
	})
}

func mustBinary(t *testing.T, tx *types.Transaction) []byte {
	t.Helper()
	b, err := tx.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// verifyTx checks a signed transaction against the unsigned one.
func verifyTx(chainID *big.Int, unsigned *types.Transaction, resp *sdk.SignTransactionResponse, want common.Address) error {
	if resp == nil {
		return fmt.Errorf("no response")
	}
	if len(resp.Signature) != 65 {
		return fmt.Errorf("signature is %d bytes, want 65", len(resp.Signature))
	}
	parity := resp.Signature[64]
	if parity > 1 {
		return fmt.Errorf("signature's last byte is %d, want the y-parity 0 or 1", parity)
	}
	signed := new(types.Transaction)
	if err := signed.UnmarshalBinary(resp.SignedTransaction); err != nil {
		return fmt.Errorf("signed transaction does not decode: %v", err)
	}
	if signed.Type() != unsigned.Type() {
		return fmt.Errorf("signed transaction has type %d, want %d", signed.Type(), unsigned.Type())
	}
	signer := types.LatestSignerForChainID(chainID)
	hash := signer.Hash(unsigned)
	if signer.Hash(signed) != hash {
		return fmt.Errorf("the signed transaction is not the transaction given")
	}
	from, err := types.Sender(signer, signed)
	if err != nil {
		return fmt.Errorf("sender: %v", err)
	}
	if from != want {
		return fmt.Errorf("sender is %s, want %s", from.Hex(), want.Hex())
	}
	v, r, s := signed.RawSignatureValues()
	wantV := big.NewInt(int64(parity))
	if unsigned.Type() == types.LegacyTxType {
		wantV.Add(wantV, new(big.Int).Add(new(big.Int).Lsh(chainID, 1), big.NewInt(35)))
	}
	if v.Cmp(wantV) != 0 {
		return fmt.Errorf("v = %s, want %s", v, wantV)
	}
	var rs [64]byte
	r.FillBytes(rs[:32])
	s.FillBytes(rs[32:])
	if !bytes.Equal(rs[:], resp.Signature[:64]) {
		return fmt.Errorf("Signature's r ‖ s differ from the signed transaction's")
	}
	return verifySig(hash[:], resp.Signature, 0, want)
}

// verifySig checks a 65-byte signature: low s, v base, recovery.
func verifySig(digest, sig []byte, vBase byte, want common.Address) error {
	if len(sig) != 65 {
		return fmt.Errorf("signature is %d bytes, want 65", len(sig))
	}
	if v := sig[64]; v != vBase && v != vBase+1 {
		return fmt.Errorf("v = %d, want %d or %d", v, vBase, vBase+1)
	}
	if s := new(big.Int).SetBytes(sig[32:64]); s.Sign() == 0 || s.Cmp(secp256k1HalfN) > 0 {
		return fmt.Errorf("s is not in the lower half of the curve order (EIP-2)")
	}
	norm := append([]byte(nil), sig...)
	norm[64] -= vBase
	pub, err := crypto.SigToPub(digest, norm)
	if err != nil {
		return fmt.Errorf("signature does not recover: %v", err)
	}
	if got := crypto.PubkeyToAddress(*pub); got != want {
		return fmt.Errorf("signature recovers to %s, want %s", got.Hex(), want.Hex())
	}
	return nil
}

func (h *harness) txCases(t *testing.T, tt sdk.TxType) []txCase {
	one := big.NewInt(1)
	switch tt {
	case sdk.TxLegacy:
		var cs []txCase
		for _, id := range legacyChainIDs {
			cs = append(cs, txCase{fmt.Sprintf("chain %s", id), id, legacyTx(nil, &someTo)})
		}
		return append(cs,
			txCase{"4 KiB calldata", one, legacyTx(calldata, &someTo)},
			txCase{"contract creation", one, legacyTx(calldata, nil)},
		)
	case sdk.TxEIP2930:
		return []txCase{
			{"chain 1, 4 KiB calldata", one, accessListTx(one, calldata, &someTo)},
			{"chain 11155111", big.NewInt(11155111), accessListTx(big.NewInt(11155111), nil, &someTo)},
			{"contract creation", one, accessListTx(one, calldata, nil)},
		}
	case sdk.TxEIP1559:
		return []txCase{
			{"chain 1, 4 KiB calldata", one, dynamicFeeTx(one, calldata, &someTo)},
			{"chain 137", big.NewInt(137), dynamicFeeTx(big.NewInt(137), nil, &someTo)},
			{"chain 3125659152", big.NewInt(3125659152), dynamicFeeTx(big.NewInt(3125659152), nil, &someTo)},
			{"contract creation", one, dynamicFeeTx(one, calldata, nil)},
		}
	case sdk.TxEIP7702:
		return []txCase{
			{"chain 1", one, setCodeTx(t, one)},
			{"chain 11155111", big.NewInt(11155111), setCodeTx(t, big.NewInt(11155111))},
		}
	}
	return nil
}

func (h *harness) testTransactions(t *testing.T) {
	t.Parallel()
	for _, tt := range []sdk.TxType{sdk.TxLegacy, sdk.TxEIP2930, sdk.TxEIP1559, sdk.TxEIP7702} {
		t.Run(string(tt), func(t *testing.T) {
			cases := h.txCases(t, tt)
			if !h.info.Capabilities.SupportsTx(tt) {
				c := cases[0]
				ctx, cancel := h.ctx(t)
				defer cancel()
				resp, err := h.s.SignTransaction(ctx, &sdk.SignTransactionRequest{Account: h.accts[0], ChainID: c.chainID, Transaction: mustBinary(t, c.tx)})
				wantCode(t, "unclaimed "+string(tt)+" transaction", err, resp, sdk.CodeUnsupported)
				return
			}
			for i, c := range cases {
				acct := h.accts[i%len(h.accts)]
				t.Run(c.name, func(t *testing.T) {
					resp := h.signTx(t, h.s, &sdk.SignTransactionRequest{Account: acct, ChainID: c.chainID, Transaction: mustBinary(t, c.tx)})
					if err := verifyTx(c.chainID, c.tx, resp, acct.Address); err != nil {
						t.Fatal(err)
					}
				})
			}
		})
	}
	t.Run("blob transactions are unsupported", func(t *testing.T) {
		ctx, cancel := h.ctx(t)
		defer cancel()
		resp, err := h.s.SignTransaction(ctx, &sdk.SignTransactionRequest{Account: h.accts[0], ChainID: big.NewInt(1), Transaction: mustBinary(t, blobTx(big.NewInt(1)))})
		wantCode(t, "blob transaction", err, resp, sdk.CodeUnsupported)
	})
}

func (h *harness) testAuthorization(t *testing.T) {
	t.Parallel()
	a, ok := h.s.(sdk.Authorizer)
	ctx, cancel := h.ctx(t)
	defer cancel()
	if !h.info.Capabilities.SupportsTx(sdk.TxEIP7702) {
		if ok {
			resp, err := a.SignAuthorization(ctx, &sdk.SignAuthorizationRequest{Account: h.accts[0], ChainID: big.NewInt(1), Delegate: someTo})
			wantCode(t, "unclaimed EIP-7702 authorization", err, resp, sdk.CodeUnsupported)
		}
		return
	}
	if !ok {
		t.Fatal("Info claims eip7702 but the signer does not implement sdk.Authorizer")
	}
	maxU256 := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
	for i, c := range []struct {
		chainID *big.Int
		nonce   uint64
	}{{big.NewInt(0), 0}, {big.NewInt(1), 5}, {big.NewInt(11155111), ^uint64(0)}, {maxU256, 1}} {
		acct := h.accts[i%len(h.accts)]
		resp, err := a.SignAuthorization(ctx, &sdk.SignAuthorizationRequest{Account: acct, ChainID: c.chainID, Delegate: someTo, Nonce: c.nonce})
		if l, ok := h.limit(CaseAuthorizationWideChainID); ok && !c.chainID.IsUint64() {
			wantLimit(t, fmt.Sprintf("SignAuthorization(chain %s)", c.chainID), l, err, resp)
			continue
		}
		if err != nil {
			t.Fatalf("SignAuthorization(chain %s): %v", c.chainID, err)
		}
		if resp == nil || len(resp.Signature) != 65 || resp.Signature[64] > 1 {
			t.Fatalf("SignAuthorization(chain %s): want 65 bytes ending in the y-parity, got %x", c.chainID, sigOf(resp))
		}
		auth := types.SetCodeAuthorization{ChainID: *uint256.MustFromBig(c.chainID), Address: someTo, Nonce: c.nonce, V: resp.Signature[64]}
		auth.R.SetBytes(resp.Signature[:32])
		auth.S.SetBytes(resp.Signature[32:64])
		who, err := auth.Authority()
		if err != nil {
			t.Fatalf("SignAuthorization(chain %s): authority: %v", c.chainID, err)
		}
		if who != acct.Address {
			t.Fatalf("SignAuthorization(chain %s): authority %s, want %s", c.chainID, who.Hex(), acct.Address.Hex())
		}
	}
	tooBig := new(big.Int).Lsh(big.NewInt(1), 256)
	resp, err := a.SignAuthorization(ctx, &sdk.SignAuthorizationRequest{Account: h.accts[0], ChainID: tooBig, Delegate: someTo})
	wantCode(t, "authorization for a chain id of 2^256", err, resp, sdk.CodeInvalidRequest)
}

func sigOf(r *sdk.SignAuthorizationResponse) []byte {
	if r == nil {
		return nil
	}
	return r.Signature
}

func (h *harness) testTypedData(t *testing.T) {
	t.Parallel()
	mode := h.info.Capabilities.TypedData
	if mode == sdk.TypedDataNone {
		ds, mh, err := TypedDataHashes([]byte(typedDocs[0].json))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := h.ctx(t)
		defer cancel()
		resp, err := h.s.SignTypedData(ctx, &sdk.SignTypedDataRequest{Account: h.accts[0], TypedData: []byte(typedDocs[0].json), DomainSeparator: ds, MessageHash: mh})
		wantCode(t, "typed data on a signer that claims none", err, resp, sdk.CodeUnsupported)
		return
	}
	for i, d := range typedDocs {
		acct := h.accts[i%len(h.accts)]
		t.Run(d.name, func(t *testing.T) {
			ds, mh, err := TypedDataHashes([]byte(d.json))
			if err != nil {
				t.Fatalf("the suite cannot hash its own document: %v", err)
			}
			req := &sdk.SignTypedDataRequest{Account: acct, TypedData: []byte(d.json), DomainSeparator: ds, MessageHash: mh}
			if l, ok := h.limit(d.limit); ok {
				ctx, cancel := h.ctx(t)
				defer cancel()
				resp, err := h.s.SignTypedData(ctx, req)
				wantLimit(t, "typed data: "+d.name, l, err, resp)
				return
			}
			sig := h.signTyped(t, h.s, req)
			if err := verifySig(TypedDataDigest(ds, mh), sig, 27, acct.Address); err != nil {
				t.Fatal(err)
			}
		})
	}
	if mode != sdk.TypedDataFull {
		return
	}
	// A full-mode signer reads the JSON: it must refuse hashes that do not
	// match it, and documents that are not typed data.
	t.Run("refusals", func(t *testing.T) {
		doc := []byte(typedDocs[0].json)
		ds, mh, _ := TypedDataHashes(doc)
		other := crypto.Keccak256Hash([]byte("another message"))
		domOnly := []byte(typedDocs[4].json)
		dds, _, _ := TypedDataHashes(domOnly)
		for _, c := range []struct {
			name string
			req  sdk.SignTypedDataRequest
		}{
			{"domain separator not matching the JSON", sdk.SignTypedDataRequest{TypedData: doc, DomainSeparator: other, MessageHash: mh}},
			{"message hash not matching the JSON", sdk.SignTypedDataRequest{TypedData: doc, DomainSeparator: ds, MessageHash: &other}},
			{"message hash missing", sdk.SignTypedDataRequest{TypedData: doc, DomainSeparator: ds}},
			{"message hash for an EIP712Domain primary type", sdk.SignTypedDataRequest{TypedData: domOnly, DomainSeparator: dds, MessageHash: &other}},
		} {
			c.req.Account = h.accts[0]
			ctx, cancel := h.ctx(t)
			resp, err := h.s.SignTypedData(ctx, &c.req)
			cancel()
			wantCode(t, c.name, err, resp, sdk.CodeInvalidTypedData)
		}
		for _, d := range badTypedDocs {
			ds, mh, _ := TypedDataHashes([]byte(d.json))
			if mh == nil {
				mh = &other
			}
			ctx, cancel := h.ctx(t)
			resp, err := h.s.SignTypedData(ctx, &sdk.SignTypedDataRequest{Account: h.accts[0], TypedData: []byte(d.json), DomainSeparator: ds, MessageHash: mh})
			cancel()
			wantCode(t, "typed data: "+d.name, err, resp, sdk.CodeInvalidTypedData)
		}
	})
}

func (h *harness) testMessages(t *testing.T) {
	t.Parallel()
	if !h.info.Capabilities.PersonalMessage {
		ctx, cancel := h.ctx(t)
		defer cancel()
		resp, err := h.s.SignMessage(ctx, &sdk.SignMessageRequest{Account: h.accts[0], Message: []byte("hello")})
		wantCode(t, "personal message on a signer that does not claim them", err, resp, sdk.CodeUnsupported)
		return
	}
	binary := make([]byte, 256)
	for i := range binary {
		binary[i] = byte(i)
	}
	large := make([]byte, 64<<10)
	if _, err := rand.Read(large); err != nil {
		t.Fatal(err)
	}
	for i, c := range []struct {
		name string
		msg  []byte
	}{
		{"empty", nil},
		{"text", []byte("This is an example of a signed message.")},
		{"binary, every byte value", binary},
		{"64 KiB", large},
		{"looks like a 32-byte hash", crypto.Keccak256([]byte("not a transaction"))},
	} {
		acct := h.accts[i%len(h.accts)]
		t.Run(c.name, func(t *testing.T) {
			sig := h.signMsg(t, h.s, &sdk.SignMessageRequest{Account: acct, Message: c.msg})
			if err := verifySig(accounts.TextHash(c.msg), sig, 27, acct.Address); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func (h *harness) firstTxType() (sdk.TxType, bool) {
	for _, tt := range []sdk.TxType{sdk.TxLegacy, sdk.TxEIP1559, sdk.TxEIP2930} {
		if h.info.Capabilities.SupportsTx(tt) {
			return tt, true
		}
	}
	return "", false
}

func (h *harness) testMalformed(t *testing.T) {
	t.Parallel()
	acct := h.accts[0]
	call := func(t *testing.T, name string, code sdk.Code, req *sdk.SignTransactionRequest) {
		t.Helper()
		ctx, cancel := h.ctx(t)
		defer cancel()
		resp, err := h.s.SignTransaction(ctx, req)
		wantCode(t, name, err, resp, code)
	}
	if tt, ok := h.firstTxType(); ok {
		t.Run("transactions", func(t *testing.T) {
			one := big.NewInt(1)
			var good *types.Transaction
			switch tt {
			case sdk.TxLegacy:
				good = legacyTx(calldata[:64], &someTo)
			case sdk.TxEIP1559:
				good = dynamicFeeTx(one, calldata[:64], &someTo)
			default:
				good = accessListTx(one, calldata[:64], &someTo)
			}
			raw := mustBinary(t, good)
			k, _ := crypto.GenerateKey()
			signedByOther, err := types.SignTx(good, types.LatestSignerForChainID(one), k)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				name string
				b    []byte
			}{
				{"nil transaction", nil},
				{"empty transaction", []byte{}},
				{"garbage", []byte{0xde, 0xad, 0xbe, 0xef}},
				{"a bare RLP string", []byte{0x83, 'a', 'b', 'c'}},
				{"truncated", raw[:len(raw)-3]},
				{"trailing bytes", append(append([]byte(nil), raw...), 0x00)},
				{"already signed", mustBinary(t, signedByOther)},
			} {
				call(t, c.name, sdk.CodeInvalidTransaction, &sdk.SignTransactionRequest{Account: acct, ChainID: one, Transaction: c.b})
			}
			if h.info.Capabilities.SupportsTx(sdk.TxLegacy) {
				// A legacy transaction whose r is 33 bytes long.
				r33 := new(big.Int).Lsh(big.NewInt(1), 260)
				bad, err := rlp.EncodeToBytes([]any{uint64(1), big.NewInt(1), uint64(21000), someTo, big.NewInt(0), []byte{}, big.NewInt(37), r33, big.NewInt(1)})
				if err != nil {
					t.Fatal(err)
				}
				call(t, "legacy transaction with a 33-byte r", sdk.CodeInvalidTransaction, &sdk.SignTransactionRequest{Account: acct, ChainID: one, Transaction: bad})
				call(t, "no chain id", sdk.CodeInvalidRequest, &sdk.SignTransactionRequest{Account: acct, Transaction: mustBinary(t, legacyTx(nil, &someTo))})
			}
			for _, typed := range []sdk.TxType{sdk.TxEIP2930, sdk.TxEIP1559} {
				if !h.info.Capabilities.SupportsTx(typed) {
					continue
				}
				tx := accessListTx(big.NewInt(5), nil, &someTo)
				if typed == sdk.TxEIP1559 {
					tx = dynamicFeeTx(big.NewInt(5), nil, &someTo)
				}
				call(t, string(typed)+" transaction for chain 5 sent as chain 1", sdk.CodeInvalidTransaction, &sdk.SignTransactionRequest{Account: acct, ChainID: one, Transaction: mustBinary(t, tx)})
				b := mustBinary(t, tx)
				call(t, string(typed)+" envelope with a garbage body", sdk.CodeInvalidTransaction, &sdk.SignTransactionRequest{Account: acct, ChainID: one, Transaction: append([]byte{b[0]}, 0xde, 0xad)})
			}
		})
	}
	t.Run("unknown account", func(t *testing.T) {
		stranger := common.HexToAddress("0x000000000000000000000000000000000000dEaD")
		h.eachSign(t, sdk.Account{Address: stranger}, sdk.CodeUnknownAccount)
		if !h.opts.NoPaths {
			// A path with somebody else's address.
			h.eachSign(t, sdk.Account{Address: stranger, Path: h.accts[0].Path}, sdk.CodeUnknownAccount)
		}
	})
	t.Run("bad derivation paths", func(t *testing.T) {
		for _, p := range []string{"", "m", "44'/60'/0'/0/0", "m/44'/60'/x", "m//0", "m/0''", "m/4294967296", "m/2147483648", "m/-1", "m/44'/60'/0'/0/0/"} {
			ctx, cancel := h.ctx(t)
			resp, err := h.s.Accounts(ctx, &sdk.AccountsRequest{Paths: []string{p}})
			cancel()
			wantCode(t, fmt.Sprintf("Accounts(%q)", p), err, resp, sdk.CodeInvalidDerivationPath)
		}
		h.eachSign(t, sdk.Account{Address: acct.Address, Path: "m/44'/60'/x"}, sdk.CodeInvalidDerivationPath)
	})
}

// eachSign sends every claimed kind of signing request for a and expects
// code.
func (h *harness) eachSign(t *testing.T, a sdk.Account, code sdk.Code) {
	t.Helper()
	ctx, cancel := h.ctx(t)
	defer cancel()
	if tt, ok := h.firstTxType(); ok {
		var tx *types.Transaction
		switch tt {
		case sdk.TxLegacy:
			tx = legacyTx(nil, &someTo)
		case sdk.TxEIP1559:
			tx = dynamicFeeTx(big.NewInt(1), nil, &someTo)
		default:
			tx = accessListTx(big.NewInt(1), nil, &someTo)
		}
		resp, err := h.s.SignTransaction(ctx, &sdk.SignTransactionRequest{Account: a, ChainID: big.NewInt(1), Transaction: mustBinary(t, tx)})
		wantCode(t, fmt.Sprintf("SignTransaction for %+v", a), err, resp, code)
	}
	if h.info.Capabilities.PersonalMessage {
		resp, err := h.s.SignMessage(ctx, &sdk.SignMessageRequest{Account: a, Message: []byte("hi")})
		wantCode(t, fmt.Sprintf("SignMessage for %+v", a), err, resp, code)
	}
	if h.info.Capabilities.TypedData != sdk.TypedDataNone {
		doc := []byte(typedDocs[0].json)
		ds, mh, _ := TypedDataHashes(doc)
		resp, err := h.s.SignTypedData(ctx, &sdk.SignTypedDataRequest{Account: a, TypedData: doc, DomainSeparator: ds, MessageHash: mh})
		wantCode(t, fmt.Sprintf("SignTypedData for %+v", a), err, resp, code)
	}
	if az, ok := h.s.(sdk.Authorizer); ok && h.info.Capabilities.SupportsTx(sdk.TxEIP7702) {
		resp, err := az.SignAuthorization(ctx, &sdk.SignAuthorizationRequest{Account: a, ChainID: big.NewInt(1), Delegate: someTo})
		wantCode(t, fmt.Sprintf("SignAuthorization for %+v", a), err, resp, code)
	}
}

func (h *harness) testCancellation(t *testing.T) {
	t.Parallel()
	t.Run("cancelled before the call", func(t *testing.T) {
		ctx, cancel := h.ctx(t)
		cancel()
		resp, err := h.s.Accounts(ctx, &sdk.AccountsRequest{Indices: []uint32{0}})
		wantCode(t, "Accounts", err, resp, sdk.CodeCanceled)
		h.eachSignCtx(t, ctx, sdk.CodeCanceled)
	})
	if !h.opts.PromptsOnUnlock {
		return
	}
	t.Run("cancelled while the signer waits for the prompter", func(t *testing.T) {
		asked := make(chan struct{}, 1)
		p := &blockingPrompter{asked: asked}
		ctx, cancel := context.WithCancel(sdk.WithPrompter(context.Background(), p))
		defer cancel()
		s := h.fresh(t)
		done := make(chan error, 1)
		go func() {
			// Whichever call unlocks the signer asks the prompter.
			_, err := s.Accounts(ctx, &sdk.AccountsRequest{Paths: h.paths, Indices: indicesIf(h.opts.NoPaths)})
			if err == nil {
				var resp any
				resp, err = h.anySign(ctx, s)
				if err == nil {
					err = fmt.Errorf("signed (%v) without asking the prompter", resp)
				}
			}
			done <- err
		}()
		select {
		case <-asked:
			cancel()
			err := <-done
			wantCode(t, "call cancelled while waiting for a secret", err, nil, sdk.CodeCanceled)
		case err := <-done:
			t.Fatalf("Options.PromptsOnUnlock is set but the signer did not ask the prompter: %v", err)
		}
	})
}

func indicesIf(noPaths bool) []uint32 {
	if noPaths {
		return []uint32{0}
	}
	return nil
}

// anySign makes one signing call of a claimed kind with the first account.
func (h *harness) anySign(ctx context.Context, s sdk.Signer) (any, error) {
	a := h.accts[0]
	if h.info.Capabilities.PersonalMessage {
		return s.SignMessage(ctx, &sdk.SignMessageRequest{Account: a, Message: []byte("hi")})
	}
	if tt, ok := h.firstTxType(); ok {
		tx := legacyTx(nil, &someTo)
		if tt == sdk.TxEIP1559 {
			tx = dynamicFeeTx(big.NewInt(1), nil, &someTo)
		} else if tt == sdk.TxEIP2930 {
			tx = accessListTx(big.NewInt(1), nil, &someTo)
		}
		b, _ := tx.MarshalBinary()
		return s.SignTransaction(ctx, &sdk.SignTransactionRequest{Account: a, ChainID: big.NewInt(1), Transaction: b})
	}
	doc := []byte(typedDocs[0].json)
	ds, mh, _ := TypedDataHashes(doc)
	return s.SignTypedData(ctx, &sdk.SignTypedDataRequest{Account: a, TypedData: doc, DomainSeparator: ds, MessageHash: mh})
}

func (h *harness) eachSignCtx(t *testing.T, ctx context.Context, code sdk.Code) {
	t.Helper()
	resp, err := h.anySign(ctx, h.s)
	wantCode(t, "signing with a cancelled context", err, resp, code)
}

// blockingPrompter answers nothing: RequestSecret signals asked and waits
// for the context to end.
type blockingPrompter struct {
	Secrets
	asked chan struct{}
}

func (p *blockingPrompter) RequestSecret(ctx context.Context, _ *sdk.SecretRequest) (*sdk.SecretResponse, error) {
	select {
	case p.asked <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

func (h *harness) testConcurrency(t *testing.T) {
	t.Parallel()
	run := func(t *testing.T, s sdk.Signer) {
		var wg sync.WaitGroup
		var errs errorCollector
		for i := 0; i < 32; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				if err := h.oneCall(s, i); err != nil {
					errs.add("call %d: %v", i, err)
				}
			}(i)
		}
		wg.Wait()
		errs.report(t)
	}
	t.Run("warm instance", func(t *testing.T) { run(t, h.s) })
	t.Run("fresh instance, 32 first calls at once", func(t *testing.T) { run(t, h.fresh(t)) })
}

// oneCall makes call number i of the concurrency test and verifies it.
func (h *harness) oneCall(s sdk.Signer, i int) error {
	ctx := context.Background()
	if h.opts.Prompter != nil {
		ctx = sdk.WithPrompter(ctx, h.opts.Prompter)
	}
	ctx, cancel := context.WithTimeout(ctx, h.opts.Timeout)
	defer cancel()
	acct := h.accts[i%len(h.accts)]
	switch i % 4 {
	case 0:
		req := &sdk.AccountsRequest{Paths: h.paths, Indices: indicesIf(h.opts.NoPaths)}
		resp, err := s.Accounts(ctx, req)
		if err != nil {
			return err
		}
		if !sameAddresses(resp.Accounts, h.accts) {
			return fmt.Errorf("Accounts: %v, want %v", resp.Accounts, h.accts)
		}
		return nil
	case 1:
		if h.info.Capabilities.PersonalMessage {
			msg := []byte(fmt.Sprintf("concurrent message %d", i))
			resp, err := s.SignMessage(ctx, &sdk.SignMessageRequest{Account: acct, Message: msg})
			if err != nil {
				return err
			}
			return verifySig(accounts.TextHash(msg), resp.Signature, 27, acct.Address)
		}
	case 2:
		if h.info.Capabilities.TypedData != sdk.TypedDataNone && !h.info.Capabilities.AsyncJobs {
			d := typedDocs[i%len(typedDocs)]
			doc := []byte(d.json)
			ds, mh, err := TypedDataHashes(doc)
			if err != nil {
				return err
			}
			resp, err := s.SignTypedData(ctx, &sdk.SignTypedDataRequest{Account: acct, TypedData: doc, DomainSeparator: ds, MessageHash: mh})
			if l, ok := h.limit(d.limit); ok {
				return refusal("typed data: "+d.name+" (declared limit)", err, resp, l.Code)
			}
			if err != nil {
				return err
			}
			return verifySig(TypedDataDigest(ds, mh), resp.Signature, 27, acct.Address)
		}
	}
	tt, ok := h.firstTxType()
	if !ok || h.info.Capabilities.AsyncJobs {
		_, err := s.Info(ctx, &sdk.InfoRequest{})
		return err
	}
	chainID := big.NewInt(int64(1 + i))
	tx := legacyTx([]byte{byte(i)}, &someTo)
	switch tt {
	case sdk.TxEIP1559:
		tx = dynamicFeeTx(chainID, []byte{byte(i)}, &someTo)
	case sdk.TxEIP2930:
		tx = accessListTx(chainID, []byte{byte(i)}, &someTo)
	}
	b, err := tx.MarshalBinary()
	if err != nil {
		return err
	}
	resp, err := s.SignTransaction(ctx, &sdk.SignTransactionRequest{Account: acct, ChainID: chainID, Transaction: b})
	if err != nil {
		return err
	}
	return verifyTx(chainID, tx, resp, acct.Address)
}
