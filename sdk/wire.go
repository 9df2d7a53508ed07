package sdk

import (
	"fmt"
	"math/big"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ethereum/go-ethereum/common"

	pbv1 "github.com/mm-wallet/mm/sdk/internal/proto/mm/signer/v1"
	pbv2 "github.com/mm-wallet/mm/sdk/internal/proto/mm/signer/v2"
)

// This file converts between the public request/response types and the
// generated protocol messages of both protocol versions. Everything decoded
// here came from another process and is validated: the plugin side rejects a
// malformed request with INVALID_REQUEST, the host side a malformed response
// with PLUGIN_PROTOCOL_ERROR. Nothing here panics on any input.

// Limits on human-readable text that crosses the wire: a plugin's error
// message or prompt ends up on the user's terminal.
const (
	maxTextLen = 4096
	maxCodeLen = 64
)

// wireDecoder collects the first decoding error; code says which error code
// it carries (INVALID_REQUEST on the plugin side, PLUGIN_PROTOCOL_ERROR on
// the host side).
type wireDecoder struct {
	code Code
	err  *Error
}

// failed returns the first problem found, as an error that is nil when there
// was none (d.err itself is a typed pointer).
func (d *wireDecoder) failed() error {
	if d.err == nil {
		return nil
	}
	return d.err
}

func (d *wireDecoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = NewError(d.code, fmt.Sprintf(format, args...), "")
	}
}

func (d *wireDecoder) address(what string, b []byte) common.Address {
	switch len(b) {
	case 0:
		return common.Address{}
	case common.AddressLength:
		return common.BytesToAddress(b)
	default:
		d.fail("%s is %d bytes, want %d", what, len(b), common.AddressLength)
		return common.Address{}
	}
}

func (d *wireDecoder) hash(what string, b []byte) common.Hash {
	switch len(b) {
	case 0:
		return common.Hash{}
	case common.HashLength:
		return common.BytesToHash(b)
	default:
		d.fail("%s is %d bytes, want %d", what, len(b), common.HashLength)
		return common.Hash{}
	}
}

func (d *wireDecoder) optHash(what string, b []byte) *common.Hash {
	if len(b) == 0 {
		return nil
	}
	h := d.hash(what, b)
	return &h
}

// chainID parses a base-10 chain id; "" is absent (nil).
func (d *wireDecoder) chainID(s string) *big.Int {
	if s == "" {
		return nil
	}
	if len(s) > 80 || strings.TrimLeft(s, "0123456789") != "" {
		d.fail("chain id %q is not a base-10 unsigned integer", clip(s, 40))
		return nil
	}
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		d.fail("chain id %q is not a base-10 unsigned integer", clip(s, 40))
		return nil
	}
	return v
}

// text cleans human-readable text from the other side: valid UTF-8, no
// control characters but newline and tab (no terminal escape sequences), at
// most maxTextLen bytes.
func (d *wireDecoder) text(s string) string { return cleanText(s) }

// chainIDString encodes a chain id for the wire; a negative one cannot be.
func chainIDString(v *big.Int) (string, error) {
	if v == nil {
		return "", nil
	}
	if v.Sign() < 0 {
		return "", NewError(CodeInvalidRequest, "chain id is negative", "")
	}
	return v.String(), nil
}

func cleanText(s string) string {
	if len(s) > maxTextLen {
		s = s[:maxTextLen]
	}
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || (unicode.IsControl(r) && r != '\n' && r != '\t') {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			b.WriteRune('\uFFFD')
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// validCode reports whether c looks like an error code: SCREAMING_SNAKE,
// at most maxCodeLen bytes.
func validCode(c string) bool {
	if c == "" || len(c) > maxCodeLen {
		return false
	}
	for i := 0; i < len(c); i++ {
		ch := c[i]
		if !(ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '_') {
			return false
		}
	}
	return true
}

// ---- protocol 2 ----

func capsToV2(c Capabilities) *pbv2.Capabilities {
	out := &pbv2.Capabilities{
		TypedData:       string(c.TypedData),
		PersonalMessage: c.PersonalMessage,
		AsyncJobs:       c.AsyncJobs,
		EnforcesPolicy:  c.EnforcesPolicy,
	}
	for _, t := range c.TxTypes {
		out.TxTypes = append(out.TxTypes, string(t))
	}
	return out
}

func (d *wireDecoder) capsFromV2(c *pbv2.Capabilities) Capabilities {
	var out Capabilities
	if c == nil {
		return out
	}
	for _, t := range c.GetTxTypes() {
		out.TxTypes = append(out.TxTypes, TxType(d.text(t)))
	}
	out.TypedData = TypedDataMode(d.text(c.GetTypedData()))
	out.PersonalMessage = c.GetPersonalMessage()
	out.AsyncJobs = c.GetAsyncJobs()
	out.EnforcesPolicy = c.GetEnforcesPolicy()
	return out
}

func infoToV2(r *InfoResponse) *pbv2.InfoResponse {
	return &pbv2.InfoResponse{
		Name:            r.Name,
		Version:         r.Version,
		ProtocolVersion: 2,
		Kind:            string(r.Kind),
		Capabilities:    capsToV2(r.Capabilities),
		Model:           r.Model,
	}
}

func (d *wireDecoder) infoFromV2(r *pbv2.InfoResponse) *InfoResponse {
	return &InfoResponse{
		Name:            d.text(r.GetName()),
		Version:         d.text(r.GetVersion()),
		ProtocolVersion: 2,
		Kind:            Kind(d.text(r.GetKind())),
		Capabilities:    d.capsFromV2(r.GetCapabilities()),
		Model:           d.text(r.GetModel()),
	}
}

func accountToV2(a Account) *pbv2.Account {
	return &pbv2.Account{Address: a.Address.Bytes(), Path: a.Path}
}

func (d *wireDecoder) accountFromV2(a *pbv2.Account) Account {
	if a == nil {
		return Account{}
	}
	return Account{Address: d.address("account address", a.GetAddress()), Path: a.GetPath()}
}

func accountsReqToV2(r *AccountsRequest) *pbv2.AccountsRequest {
	return &pbv2.AccountsRequest{Paths: r.Paths, Indices: r.Indices, Verify: r.Verify}
}

func accountsReqFromV2(r *pbv2.AccountsRequest) *AccountsRequest {
	return &AccountsRequest{Paths: r.GetPaths(), Indices: r.GetIndices(), Verify: r.GetVerify()}
}

func accountsRespToV2(r *AccountsResponse) *pbv2.AccountsResponse {
	out := &pbv2.AccountsResponse{Accounts: make([]*pbv2.Account, 0, len(r.Accounts))}
	for _, a := range r.Accounts {
		out.Accounts = append(out.Accounts, accountToV2(a))
	}
	return out
}

func (d *wireDecoder) accountsRespFromV2(r *pbv2.AccountsResponse) *AccountsResponse {
	out := &AccountsResponse{Accounts: make([]Account, 0, len(r.GetAccounts()))}
	for _, a := range r.GetAccounts() {
		if a == nil || len(a.GetAddress()) != common.AddressLength {
			d.fail("account address is %d bytes, want %d", len(a.GetAddress()), common.AddressLength)
			return out
		}
		out.Accounts = append(out.Accounts, Account{Address: common.BytesToAddress(a.GetAddress()), Path: d.text(a.GetPath())})
	}
	return out
}

func displayToV2(x *Display) *pbv2.Display {
	if x == nil {
		return nil
	}
	out := &pbv2.Display{Intent: x.Intent, Warnings: x.Warnings}
	for _, f := range x.Fields {
		out.Fields = append(out.Fields, &pbv2.DisplayField{Label: f.Label, Value: f.Value})
	}
	return out
}

func displayFromV2(x *pbv2.Display) *Display {
	if x == nil {
		return nil
	}
	out := &Display{Intent: x.GetIntent(), Warnings: x.GetWarnings()}
	for _, f := range x.GetFields() {
		out.Fields = append(out.Fields, DisplayField{Label: f.GetLabel(), Value: f.GetValue()})
	}
	return out
}

func jobToV2(j *Job) *pbv2.Job {
	if j == nil {
		return nil
	}
	return &pbv2.Job{Id: j.ID, Status: string(j.Status)}
}

func (d *wireDecoder) jobFromV2(j *pbv2.Job) *Job {
	if j == nil {
		return nil
	}
	return &Job{ID: d.text(j.GetId()), Status: JobStatus(d.text(j.GetStatus()))}
}

func signTxReqToV2(r *SignTransactionRequest) (*pbv2.SignTransactionRequest, error) {
	cid, err := chainIDString(r.ChainID)
	if err != nil {
		return nil, err
	}
	return &pbv2.SignTransactionRequest{
		Account:     accountToV2(r.Account),
		ChainId:     cid,
		Transaction: r.Transaction,
		Display:     displayToV2(r.Display),
	}, nil
}

func (d *wireDecoder) signTxReqFromV2(r *pbv2.SignTransactionRequest) *SignTransactionRequest {
	return &SignTransactionRequest{
		Account:     d.accountFromV2(r.GetAccount()),
		ChainID:     d.chainID(r.GetChainId()),
		Transaction: r.GetTransaction(),
		Display:     displayFromV2(r.GetDisplay()),
	}
}

func signTxRespToV2(r *SignTransactionResponse) *pbv2.SignTransactionResponse {
	if r == nil {
		return nil
	}
	return &pbv2.SignTransactionResponse{SignedTransaction: r.SignedTransaction, Signature: r.Signature, Job: jobToV2(r.Job)}
}

func (d *wireDecoder) signTxRespFromV2(r *pbv2.SignTransactionResponse) *SignTransactionResponse {
	return &SignTransactionResponse{SignedTransaction: r.GetSignedTransaction(), Signature: r.GetSignature(), Job: d.jobFromV2(r.GetJob())}
}

func signTypedReqToV2(r *SignTypedDataRequest) *pbv2.SignTypedDataRequest {
	out := &pbv2.SignTypedDataRequest{
		Account:         accountToV2(r.Account),
		TypedData:       r.TypedData,
		DomainSeparator: r.DomainSeparator.Bytes(),
		Display:         displayToV2(r.Display),
	}
	if r.MessageHash != nil {
		out.MessageHash = r.MessageHash.Bytes()
	}
	return out
}

func (d *wireDecoder) signTypedReqFromV2(r *pbv2.SignTypedDataRequest) *SignTypedDataRequest {
	return &SignTypedDataRequest{
		Account:         d.accountFromV2(r.GetAccount()),
		TypedData:       r.GetTypedData(),
		DomainSeparator: d.hash("domain separator", r.GetDomainSeparator()),
		MessageHash:     d.optHash("message hash", r.GetMessageHash()),
		Display:         displayFromV2(r.GetDisplay()),
	}
}

func signTypedRespToV2(r *SignTypedDataResponse) *pbv2.SignTypedDataResponse {
	if r == nil {
		return nil
	}
	return &pbv2.SignTypedDataResponse{Signature: r.Signature, Job: jobToV2(r.Job)}
}

func (d *wireDecoder) signTypedRespFromV2(r *pbv2.SignTypedDataResponse) *SignTypedDataResponse {
	return &SignTypedDataResponse{Signature: r.GetSignature(), Job: d.jobFromV2(r.GetJob())}
}

func signMsgReqToV2(r *SignMessageRequest) *pbv2.SignMessageRequest {
	return &pbv2.SignMessageRequest{Account: accountToV2(r.Account), Message: r.Message, Display: displayToV2(r.Display)}
}

func (d *wireDecoder) signMsgReqFromV2(r *pbv2.SignMessageRequest) *SignMessageRequest {
	return &SignMessageRequest{Account: d.accountFromV2(r.GetAccount()), Message: r.GetMessage(), Display: displayFromV2(r.GetDisplay())}
}

func signMsgRespToV2(r *SignMessageResponse) *pbv2.SignMessageResponse {
	if r == nil {
		return nil
	}
	return &pbv2.SignMessageResponse{Signature: r.Signature, Job: jobToV2(r.Job)}
}

func (d *wireDecoder) signMsgRespFromV2(r *pbv2.SignMessageResponse) *SignMessageResponse {
	return &SignMessageResponse{Signature: r.GetSignature(), Job: d.jobFromV2(r.GetJob())}
}

func signAuthReqToV2(r *SignAuthorizationRequest) (*pbv2.SignAuthorizationRequest, error) {
	cid, err := chainIDString(r.ChainID)
	if err != nil {
		return nil, err
	}
	return &pbv2.SignAuthorizationRequest{Account: accountToV2(r.Account), ChainId: cid, Delegate: r.Delegate.Bytes(), Nonce: r.Nonce}, nil
}

func (d *wireDecoder) signAuthReqFromV2(r *pbv2.SignAuthorizationRequest) *SignAuthorizationRequest {
	return &SignAuthorizationRequest{
		Account:  d.accountFromV2(r.GetAccount()),
		ChainID:  d.chainID(r.GetChainId()),
		Delegate: d.address("delegate", r.GetDelegate()),
		Nonce:    r.GetNonce(),
	}
}

func errorToV2(e *Error) *pbv2.Error {
	if e == nil {
		return nil
	}
	return &pbv2.Error{Code: string(e.Code), Message: e.Message, Hint: e.Hint}
}

func (d *wireDecoder) errorFromV2(e *pbv2.Error) *Error {
	if e == nil {
		return nil
	}
	code := e.GetCode()
	if !validCode(code) {
		d.fail("job error code %q is not an error code", clip(code, maxCodeLen))
		return nil
	}
	return &Error{Code: Code(code), Message: d.text(e.GetMessage()), Hint: d.text(e.GetHint())}
}

func pollRespToV2(r *PollJobResponse) *pbv2.PollJobResponse {
	if r == nil {
		return nil
	}
	return &pbv2.PollJobResponse{
		Job:         jobToV2(&r.Job),
		Transaction: signTxRespToV2(r.Transaction),
		TypedData:   signTypedRespToV2(r.TypedData),
		Message:     signMsgRespToV2(r.Message),
		Error:       errorToV2(r.Error),
	}
}

func (d *wireDecoder) pollRespFromV2(r *pbv2.PollJobResponse) *PollJobResponse {
	out := &PollJobResponse{}
	if j := d.jobFromV2(r.GetJob()); j != nil {
		out.Job = *j
	}
	if r.GetTransaction() != nil {
		out.Transaction = d.signTxRespFromV2(r.GetTransaction())
	}
	if r.GetTypedData() != nil {
		out.TypedData = d.signTypedRespFromV2(r.GetTypedData())
	}
	if r.GetMessage() != nil {
		out.Message = d.signMsgRespFromV2(r.GetMessage())
	}
	out.Error = d.errorFromV2(r.GetError())
	return out
}

// ---- protocol 1 ----

// v1TxTypes are the transaction types protocol 1 can carry: it has no
// SignAuthorization, so EIP-7702 is dropped from what a v1 plugin claims.
func v1TxTypes(in []TxType) []TxType {
	out := make([]TxType, 0, len(in))
	for _, t := range in {
		if t != TxEIP7702 {
			out = append(out, t)
		}
	}
	return out
}

func infoToV1(r *InfoResponse) *pbv1.InfoResponse {
	out := &pbv1.InfoResponse{
		Name:    r.Name,
		Version: r.Version,
		Kind:    string(r.Kind),
		Capabilities: &pbv1.Capabilities{
			TypedData:       string(r.Capabilities.TypedData),
			PersonalMessage: r.Capabilities.PersonalMessage,
		},
		Model: r.Model,
	}
	for _, t := range v1TxTypes(r.Capabilities.TxTypes) {
		out.Capabilities.TxTypes = append(out.Capabilities.TxTypes, string(t))
	}
	return out
}

func (d *wireDecoder) infoFromV1(r *pbv1.InfoResponse) *InfoResponse {
	out := &InfoResponse{
		Name:            d.text(r.GetName()),
		Version:         d.text(r.GetVersion()),
		ProtocolVersion: 1,
		Kind:            Kind(d.text(r.GetKind())),
		Model:           d.text(r.GetModel()),
	}
	if c := r.GetCapabilities(); c != nil {
		var tt []TxType
		for _, t := range c.GetTxTypes() {
			tt = append(tt, TxType(d.text(t)))
		}
		out.Capabilities.TxTypes = v1TxTypes(tt)
		out.Capabilities.TypedData = TypedDataMode(d.text(c.GetTypedData()))
		out.Capabilities.PersonalMessage = c.GetPersonalMessage()
	}
	return out
}

func accountToV1(a Account) *pbv1.Account {
	return &pbv1.Account{Address: a.Address.Bytes(), Path: a.Path}
}

func (d *wireDecoder) accountFromV1(a *pbv1.Account) Account {
	if a == nil {
		return Account{}
	}
	return Account{Address: d.address("account address", a.GetAddress()), Path: a.GetPath()}
}

func (d *wireDecoder) accountsRespFromV1(r *pbv1.AccountsResponse) *AccountsResponse {
	out := &AccountsResponse{Accounts: make([]Account, 0, len(r.GetAccounts()))}
	for _, a := range r.GetAccounts() {
		if a == nil || len(a.GetAddress()) != common.AddressLength {
			d.fail("account address is %d bytes, want %d", len(a.GetAddress()), common.AddressLength)
			return out
		}
		out.Accounts = append(out.Accounts, Account{Address: common.BytesToAddress(a.GetAddress()), Path: d.text(a.GetPath())})
	}
	return out
}

func accountsRespToV1(r *AccountsResponse) *pbv1.AccountsResponse {
	out := &pbv1.AccountsResponse{Accounts: make([]*pbv1.Account, 0, len(r.Accounts))}
	for _, a := range r.Accounts {
		out.Accounts = append(out.Accounts, accountToV1(a))
	}
	return out
}

func signTypedReqToV1(r *SignTypedDataRequest) *pbv1.SignTypedDataRequest {
	out := &pbv1.SignTypedDataRequest{
		Account:         accountToV1(r.Account),
		TypedData:       r.TypedData,
		DomainSeparator: r.DomainSeparator.Bytes(),
	}
	if r.MessageHash != nil {
		out.MessageHash = r.MessageHash.Bytes()
	}
	return out
}

func (d *wireDecoder) signTypedReqFromV1(r *pbv1.SignTypedDataRequest) *SignTypedDataRequest {
	return &SignTypedDataRequest{
		Account:         d.accountFromV1(r.GetAccount()),
		TypedData:       r.GetTypedData(),
		DomainSeparator: d.hash("domain separator", r.GetDomainSeparator()),
		MessageHash:     d.optHash("message hash", r.GetMessageHash()),
	}
}
