package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	pbv1 "github.com/mm-wallet/mm/sdk/internal/proto/mm/signer/v1"
	pbv2 "github.com/mm-wallet/mm/sdk/internal/proto/mm/signer/v2"
)

// tripwire is a signer that fails the test if anything reaches it: a
// rejected request must change nothing.
type tripwire struct{ t *testing.T }

func (w tripwire) hit() error {
	w.t.Helper()
	w.t.Error("a malformed request reached the signer")
	return errors.New("reached")
}
func (w tripwire) Info(context.Context, *InfoRequest) (*InfoResponse, error) { return nil, w.hit() }
func (w tripwire) Accounts(context.Context, *AccountsRequest) (*AccountsResponse, error) {
	return nil, w.hit()
}
func (w tripwire) SignTransaction(context.Context, *SignTransactionRequest) (*SignTransactionResponse, error) {
	return nil, w.hit()
}
func (w tripwire) SignTypedData(context.Context, *SignTypedDataRequest) (*SignTypedDataResponse, error) {
	return nil, w.hit()
}
func (w tripwire) SignMessage(context.Context, *SignMessageRequest) (*SignMessageResponse, error) {
	return nil, w.hit()
}
func (w tripwire) SignAuthorization(context.Context, *SignAuthorizationRequest) (*SignAuthorizationResponse, error) {
	return nil, w.hit()
}

var _ Authorizer = tripwire{}

type badCase struct {
	Name    string          `json:"name"`
	Side    string          `json:"side"`
	Type    string          `json:"type"`
	Message json.RawMessage `json:"message"`
	Code    Code            `json:"code"`
}

// Every message in testdata/bad/wire.json is rejected with its code by the
// side that decodes it, and a rejected request never reaches the signer.
func TestBadWireInput(t *testing.T) {
	raw, err := os.ReadFile("testdata/bad/wire.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Cases []badCase `json:"cases"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Cases) < 15 {
		t.Fatalf("only %d cases", len(file.Cases))
	}
	for _, tc := range file.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(tc.Type))
			if err != nil {
				t.Fatalf("type %s: %v", tc.Type, err)
			}
			msg := mt.New().Interface()
			if err := protojson.Unmarshal(tc.Message, msg); err != nil {
				t.Fatalf("message: %v", err)
			}
			var got Code
			switch tc.Side {
			case "plugin":
				got = decodeAsPlugin(t, msg)
			case "host":
				got = decodeAsHost(t, msg)
			default:
				t.Fatalf("side %q", tc.Side)
			}
			if got != tc.Code {
				t.Fatalf("got %q, want %q", got, tc.Code)
			}
		})
	}
}

func decodeAsPlugin(t *testing.T, msg proto.Message) Code {
	ctx := context.Background()
	v2 := &v2Server{signer: tripwire{t}}
	v1 := &v1Server{signer: tripwire{t}}
	var err error
	switch m := msg.(type) {
	case *pbv2.SignMessageRequest:
		_, err = v2.SignMessage(ctx, m)
	case *pbv2.SignTransactionRequest:
		_, err = v2.SignTransaction(ctx, m)
	case *pbv2.SignTypedDataRequest:
		_, err = v2.SignTypedData(ctx, m)
	case *pbv2.SignAuthorizationRequest:
		_, err = v2.SignAuthorization(ctx, m)
	case *pbv1.SignMessageRequest:
		_, err = v1.SignMessage(ctx, m)
	case *pbv1.SignTransactionRequest:
		_, err = v1.SignTransaction(ctx, m)
	case *pbv1.SignTypedDataRequest:
		_, err = v1.SignTypedData(ctx, m)
	default:
		t.Fatalf("no plugin-side decoder for %T", msg)
	}
	e := fromStatus(err)
	if e == nil {
		t.Fatalf("error %v carries no code", err)
	}
	return e.Code
}

func decodeAsHost(t *testing.T, msg proto.Message) Code {
	d := respDecoder()
	switch m := msg.(type) {
	case *pbv2.AccountsResponse:
		d.accountsRespFromV2(m)
	case *pbv1.AccountsResponse:
		d.accountsRespFromV1(m)
	case *pbv2.PollJobResponse:
		d.pollRespFromV2(m)
	default:
		t.Fatalf("no host-side decoder for %T", msg)
	}
	if d.err == nil {
		return ""
	}
	return d.err.Code
}

func TestStatusRoundTrip(t *testing.T) {
	cases := []struct {
		in      error
		code    Code
		msg     string
		hint    string
		grpcErr codes.Code
	}{
		{NewError(CodeUserRejected, "rejected on the device", "press the right button"), CodeUserRejected, "rejected on the device", "press the right button", codes.Unknown},
		{fmt.Errorf("ledger: sign: %w", NewError(CodeDeviceLocked, "locked", "")), CodeDeviceLocked, "locked", "", codes.Unknown},
		{ErrUnsupported, CodeUnsupported, ErrUnsupported.Message, "", codes.Unimplemented},
		{&Error{Code: CodeInvalidRequest}, CodeInvalidRequest, "INVALID_REQUEST", "", codes.InvalidArgument},
		{errors.New("plain"), CodeInternal, "plain", "", codes.Internal},
		{context.Canceled, CodeCanceled, "canceled", "", codes.Canceled},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), CodeCanceled, "timed out", "", codes.Canceled},
	}
	for _, tc := range cases {
		st := toStatus(tc.in)
		if status.Code(st) != tc.grpcErr {
			t.Errorf("%v: grpc code %v, want %v", tc.in, status.Code(st), tc.grpcErr)
		}
		e := fromStatus(st)
		if e == nil || e.Code != tc.code || e.Message != tc.msg || e.Hint != tc.hint {
			t.Errorf("%v: came back as %+v", tc.in, e)
		}
	}
	if toStatus(nil) != nil {
		t.Error("nil error encoded")
	}
	// Statuses without our ErrorInfo carry no code.
	if fromStatus(status.Error(codes.Unavailable, "x")) != nil || fromStatus(errors.New("x")) != nil {
		t.Error("decoded a code from nothing")
	}
	other, _ := status.New(codes.Unknown, "x").WithDetails(&errdetails.ErrorInfo{Reason: "USER_REJECTED", Domain: "example.com"})
	if fromStatus(other.Err()) != nil {
		t.Error("decoded a code of another domain")
	}
	bad, _ := status.New(codes.Unknown, "x").WithDetails(&errdetails.ErrorInfo{Reason: "not a code", Domain: errorDomain})
	if e := fromStatus(bad.Err()); e == nil || e.Code != CodePluginProtocolError {
		t.Errorf("malformed code gave %+v", e)
	}
}

func TestCleanText(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                   "plain",
		"two\nlines\tand tab":     "two\nlines\tand tab",
		"esc\x1b[31mred":          "esc\uFFFD[31mred",
		"bell\a nul\x00":          "bell\uFFFD nul\uFFFD",
		"bad utf8 \xff":           "bad utf8 \uFFFD",
		"c1 \u009b control":       "c1 \uFFFD control",
		"ünïcödé is fine ✓":       "ünïcödé is fine ✓",
		strings.Repeat("a", 5000): strings.Repeat("a", maxTextLen),
	} {
		if got := cleanText(in); got != want {
			t.Errorf("cleanText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestChainIDWire(t *testing.T) {
	d := reqDecoder()
	if d.chainID("") != nil || d.err != nil {
		t.Fatal("empty chain id is absent")
	}
	v := d.chainID("18446744073709551615")
	if d.err != nil || v.String() != "18446744073709551615" {
		t.Fatalf("2^64-1: %v %v", v, d.err)
	}
	if _, err := chainIDString(nil); err != nil {
		t.Fatal(err)
	}
	if s, _ := chainIDString(v); s != "18446744073709551615" {
		t.Fatalf("encoded %q", s)
	}
	if _, err := chainIDString(v.Neg(v)); CodeOf(err) != CodeInvalidRequest {
		t.Fatalf("negative chain id: %v", err)
	}
}
